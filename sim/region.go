package sim

import "github.com/headroom/headroom/scenarios"

// region holds the state shared by the components placed in one region: the quotas of
// the account there (Lambda concurrency pool, API Gateway and SNS throttles).
type region struct {
	m    *Model
	spec *scenarios.Region
}

func newRegion(m *Model, spec *scenarios.Region) *region {
	return &region{m: m, spec: spec}
}
