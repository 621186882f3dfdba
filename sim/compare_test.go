package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// Two pools compared with common random numbers: the same seed, and the same component
// name, so the arrival stream is the same one; twice the servers carry more than twice the
// load at the same mean response time (pooling), which the claim on the larger one states.
func TestCompareSideBySideWithBreakpointsAndClaims(t *testing.T) {
	small := mmcScenario(10, 8, scenarios.QueueUnbounded, 20*time.Hour)
	small.Name = "ten"
	large := mmcScenario(20, 8, scenarios.QueueUnbounded, 20*time.Hour)
	large.Name, large.Seed = "twenty", 99 // compare overrides it with the first scenario's
	large.Claims = []scenarios.Claim{
		{Says: "twice the servers, twice the capacity", Kind: scenarios.ClaimCapacityRatio, Vs: "ten", AtLeast: 2},
		{Kind: scenarios.ClaimCapacityRatio, Vs: "elsewhere", AtLeast: 1},
	}
	slos := []scenarios.SLO{mustSLO(t, "api.mean<=1.5s")}
	cmp, err := Compare([]*scenarios.Scenario{small, large}, WithCompareBreakpoint(slos))
	require.NoError(t, err)
	require.Equal(t, result.CompareSchema, cmp.Schema)
	require.Len(t, cmp.Rows, 2)
	require.Equal(t, "ten", cmp.Rows[0].Scenario)
	require.Equal(t, "twenty", cmp.Rows[1].Scenario)
	for _, r := range cmp.Results {
		require.Equal(t, uint64(1), r.Seed)
	}
	// Common random numbers: the same arrivals into both.
	require.Equal(t, cmp.Results[0].Workload.Offered, cmp.Results[1].Workload.Offered)
	row := cmp.Rows[0]
	require.Equal(t, int64(10), row.ConcurrencyLimit)
	require.Equal(t, "workers", row.ConcurrencyComponent)
	require.Equal(t, "rate_rps", row.LoadVariable)
	require.InDelta(t, 8.79, row.MaxLoad, 0.3)
	require.Equal(t, "api.mean<=1.5s", row.BindingSLO)
	// Erlang C: 20 servers keep the mean wait at 0.5 s up to about 18.6/s.
	require.Greater(t, cmp.Rows[1].MaxLoad, 2*cmp.Rows[0].MaxLoad)
	claims := cmp.Results[1].Claims
	require.Len(t, claims, 2)
	require.Equal(t, "holds", claims[0].Verdict, claims[0].Evidence)
	require.Equal(t, "unknown", claims[1].Verdict)
	require.Equal(t, "elsewhere is not in this comparison (ten, twenty): add it", claims[1].Evidence)
	require.Equal(t, claims, cmp.Rows[1].Claims)
	require.Len(t, cmp.Breakpoints, 2)

	// Deterministic apart from timing.
	again, err := Compare([]*scenarios.Scenario{small, large}, WithCompareBreakpoint(slos), WithCompareWorkers(1))
	require.NoError(t, err)
	require.Equal(t, encodeComparison(t, cmp), encodeComparison(t, again))
}

func encodeComparison(t *testing.T, c *result.Comparison) string {
	t.Helper()
	cp := *c
	cp.Timing = result.Timing{}
	var rs []*result.Result
	for _, r := range c.Results {
		x := *r
		x.Timing = result.Timing{}
		rs = append(rs, &x)
	}
	cp.Results = rs
	var bs []*result.Breakpoint
	for _, b := range c.Breakpoints {
		x := *b
		x.Timing = result.Timing{}
		bs = append(bs, &x)
	}
	cp.Breakpoints = bs
	b, err := json.Marshal(&cp)
	require.NoError(t, err)
	return string(b)
}

func TestCompareRefusesWhatItCannotDo(t *testing.T) {
	a := mmcScenario(10, 8, scenarios.QueueUnbounded, time.Hour)
	_, err := Compare([]*scenarios.Scenario{a, a})
	require.ErrorContains(t, err, "scenario mmc is given twice")
	_, err = Compare([]*scenarios.Scenario{a}, WithCompareBreakpoint(nil))
	require.ErrorContains(t, err, "mmc has no SLOs: give --slo or slos: in the scenario")
	_, err = Compare(nil)
	require.ErrorContains(t, err, "no scenarios")
}

func TestEstimateFromRun(t *testing.T) {
	sc := &scenarios.Scenario{Workload: scenarios.Workload{Users: 8_000_000},
		Regions:    []*scenarios.Region{{Name: "r", APIGatewayRateRPS: 10_000}},
		Components: []*scenarios.Component{{Name: "api", Kind: scenarios.KindGateway, Region: "r", Gateway: &scenarios.Gateway{}}}}
	// A limit bound at 4,000/s of a 5,000/s peak: 4/5 of the load.
	r := &result.Result{Workload: result.Workload{PeakRPS: 5000}, Breaks: []result.Break{{OfferedRPS: 4000}}}
	est, spread, ok := EstimateFromRun(sc, r)
	require.True(t, ok)
	require.Equal(t, 6_400_000.0, est)
	require.Equal(t, 0.03, spread)
	// Nothing bound: the headroom of the closest limit, here the function's 1,000 against a
	// peak of 800 (1.25) before the gateway's 10,000/s against 5,000/s (2).
	r = &result.Result{Workload: result.Workload{PeakRPS: 5000}, Components: []result.Component{{Capacity: 1000, PeakConcurrency: 800}}}
	est, spread, ok = EstimateFromRun(sc, r)
	require.True(t, ok)
	require.Equal(t, 10_000_000.0, est)
	require.Equal(t, 0.05, spread)
	r.Components[0].PeakConcurrency = 200 // now the gateway is closest
	est, _, _ = EstimateFromRun(sc, r)
	require.Equal(t, 16_000_000.0, est)
	_, _, ok = EstimateFromRun(sc, &result.Result{})
	require.False(t, ok, "no limit in sight: no estimate")
}
