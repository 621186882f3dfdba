package sim

import (
	"fmt"

	"github.com/headroom/headroom/scenarios"
)

// region holds the state shared by the components placed in one region: the quotas of the
// account there. Quotas are per region (a second region brings its own), which is what a
// multi-region scenario relies on.
//
//   - Lambda: one concurrency pool of lambdaLimit executions. A function with reserved
//     concurrency draws from its own reservation, which is carved out of the pool; every
//     other function shares what is left (lambdaLimit − reserved).
//   - API Gateway: one account token bucket shared by every gateway of the region.
//   - SNS: one publish-quota token bucket shared by every standard topic of the region, and
//     one shared by its FIFO topics (sns_fifo_publish_rps: AWS gives FIFO topics a quota
//     of their own, 3,000/s where the standard one is 300 or 1,500).
//
// The buckets are lazy (tokenBucket): nothing here costs an event.
type region struct {
	m    *Model
	spec *scenarios.Region

	lambdaLimit int64
	// reserved is the sum of the reserved concurrency of the region's functions.
	reserved int64
	// unreservedUsed counts executions in flight in the shared (unreserved) pool.
	unreservedUsed int64
	// functions counts the functions placed here, for the figures in bind details.
	functions int

	apigw    tokenBucket
	gateways int
	sns      tokenBucket
	snsFIFO  tokenBucket
	// topics and fifoTopics count the topics drawing on sns and on snsFIFO.
	topics, fifoTopics int
	_                  [24]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

func newRegion(m *Model, spec *scenarios.Region) *region {
	r := &region{m: m, spec: spec, lambdaLimit: int64(spec.LambdaConcurrency)}
	r.apigw = newTokenBucket(spec.APIGatewayRateRPS, float64(spec.APIGatewayBurst))
	r.sns = newTokenBucket(spec.SNSPublishRPS, snsBurst(spec, spec.SNSPublishRPS))
	r.snsFIFO = newTokenBucket(spec.SNSFifoPublishRPS, snsBurst(spec, spec.SNSFifoPublishRPS))
	return r
}

// snsBurst is the burst of an SNS throttle of rate messages per second: the region's burst
// time at that rate, and never less than one message.
func snsBurst(spec *scenarios.Region, rate float64) float64 {
	return max(1, rate*spec.SNSPublishBurst.Seconds())
}

// reserve carves n executions out of the shared pool for one function. The loader refuses a
// configuration that leaves less than the region's unreserved minimum; the simulator checks
// again because scenarios can also be built in Go.
func (r *region) reserve(n int64) error {
	if limit := r.lambdaLimit - int64(r.spec.LambdaUnreservedMin); r.reserved+n > limit {
		return fmt.Errorf("reserved_concurrency: %d more would reserve %d in region %s, at most %d may be (lambda_concurrency %d − lambda_unreserved_min %d)",
			n, r.reserved+n, r.spec.Name, limit, r.lambdaLimit, r.spec.LambdaUnreservedMin)
	}
	r.reserved += n
	return nil
}

// unreservedCap is the size of the shared pool.
func (r *region) unreservedCap() int64 { return r.lambdaLimit - r.reserved }
