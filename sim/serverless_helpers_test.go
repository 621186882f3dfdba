package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// Scenarios of the serverless kinds built in Go, with every number the test depends on
// written out, so the hand calculations in the tests can be checked against them.

func testRegion() *scenarios.Region {
	return &scenarios.Region{
		Name: "r", LambdaConcurrency: 1000, LambdaUnreservedMin: 100,
		LambdaScalingBurst: 1000, LambdaScalingRefillRate: 100,
		APIGatewayRateRPS: 10000, APIGatewayBurst: 5000,
		SNSPublishRPS: 30000, SNSPublishBurst: scenarios.Duration(time.Second),
	}
}

func constant(d time.Duration) scenarios.Dist {
	return scenarios.Dist{Kind: scenarios.DistConstant, Value: scenarios.Duration(d)}
}

// deterministic returns a scenario with arrivals exactly every 1/rate seconds into entry.
func deterministic(rate float64, horizon time.Duration, entry string, reg *scenarios.Region, comps ...*scenarios.Component) *scenarios.Scenario {
	return &scenarios.Scenario{
		Name: "test", Horizon: scenarios.Duration(horizon), Seed: 1,
		Workload:   scenarios.Workload{Arrival: "deterministic", RateRPS: rate, Entry: entry},
		Regions:    []*scenarios.Region{reg},
		Components: comps,
	}
}

func fn(name string, duration time.Duration, mut ...func(*scenarios.Function)) *scenarios.Component {
	f := &scenarios.Function{
		Runtime: "go", MemoryMB: 128, Architecture: "x86",
		Duration: constant(duration), IdleLifetime: scenarios.Duration(10 * time.Minute),
		Timeout: scenarios.Duration(900 * time.Second),
	}
	for _, m := range mut {
		m(f)
	}
	return &scenarios.Component{Name: name, Kind: scenarios.KindFunction, Function: f}
}

func queueComp(name, next string, mut ...func(*scenarios.Queue)) *scenarios.Component {
	q := &scenarios.Queue{
		VisibilityTimeout: scenarios.Duration(30 * time.Second), BatchSize: 10,
		PollerStart: 5, PollerRampPerM: 300, PollerMax: 1250,
		ThrottleBackoff: scenarios.Duration(time.Second),
	}
	for _, m := range mut {
		m(q)
	}
	return &scenarios.Component{Name: name, Kind: scenarios.KindQueue, Next: next, Queue: q}
}

// runModel builds and runs sc to its horizon and returns the model for inspection.
func runModel(t *testing.T, sc *scenarios.Scenario) *Model {
	t.Helper()
	m, err := build(sc, sc.Seed)
	require.NoError(t, err)
	m.k.Run(m.horizon)
	return m
}

func comp[T component](t *testing.T, m *Model, name string) T {
	t.Helper()
	c, ok := m.component(name).(T)
	require.True(t, ok, "component %s", name)
	return c
}

// runDrained runs sc to its horizon, then on until everything in flight has finished (no
// arrival comes after the horizon), so that counts can be compared exactly.
func runDrained(t *testing.T, sc *scenarios.Scenario) *Model {
	t.Helper()
	m := runModel(t, sc)
	m.k.Run(m.horizon + Hour)
	return m
}

// requireChecksPass asserts every self-check of the run's result.
func requireChecksPass(t *testing.T, m *Model) {
	t.Helper()
	res := m.result()
	require.NotEmpty(t, res.Checks)
	for _, c := range res.Checks {
		require.True(t, c.Passed, "%s: %s", c.Name, c.Detail)
	}
}
