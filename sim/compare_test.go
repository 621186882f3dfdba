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
	r := &result.Result{Workload: result.Workload{PeakRPS: 5000}, Breaks: []result.Break{{Component: "fn", Limit: "account concurrency", OfferedRPS: 4000}}}
	e, ok := EstimateFromRun(sc, nil, 10*time.Minute, r)
	require.True(t, ok)
	require.True(t, e.Bound)
	require.Equal(t, 6_400_000.0, e.Load)
	require.Equal(t, 0.03, e.Spread)
	require.Equal(t, "the run's first limit, fn's account concurrency, bound at 4000/s offered, of a 5000/s peak", e.Basis)
	// Nothing bound: the headroom of the closest limit, here the function's 1,000 against a
	// peak of 800 (1.25) before the gateway's 10,000/s against 5,000/s (2).
	r = &result.Result{Workload: result.Workload{PeakRPS: 5000}, Components: []result.Component{{Capacity: 1000, PeakConcurrency: 800}}}
	e, ok = EstimateFromRun(sc, nil, 10*time.Minute, r)
	require.True(t, ok)
	require.False(t, e.Bound)
	require.Equal(t, 10_000_000.0, e.Load)
	require.Equal(t, 0.05, e.Spread)
	r.Components[0].PeakConcurrency = 200 // now the gateway is closest
	e, _ = EstimateFromRun(sc, nil, 10*time.Minute, r)
	require.Equal(t, 16_000_000.0, e.Load)
	require.Equal(t, "nothing bound; API Gateway's account throttle of 10000/s in region r over the run's 5000/s peak", e.Basis)
	_, ok = EstimateFromRun(sc, nil, 10*time.Minute, &result.Result{})
	require.False(t, ok, "no limit in sight: no estimate")
}

// The throttle-ratio estimate, by hand: one-minute intervals, probes judged over 3 minutes,
// an offered rate climbing 100, 200, …, 800/s, so the busiest window (minutes 5–7) offers
// 2,100/s summed. The function completes 100/s (18,000 a window) and has 0, 0, 0, 100, 50,
// 40, 1,000, 0 throttled a minute: over minutes 2–4, 150 of 18,150 (0.83%); over 3–5, 190
// of 18,190 (1.04%), the first window above the SLO's 1% of those up to the busiest (4–6
// and 5–7 are too), offering 400 + 500 + 600 = 1,500/s. The estimate is 15/21 of the
// load; the first break (at 750/s) and the headroom are not used while the series answer.
func TestEstimateFromRunThrottleWindow(t *testing.T) {
	sc := &scenarios.Scenario{Workload: scenarios.Workload{Users: 2_100_000}}
	var slos []scenarios.SLO
	for _, e := range []string{"api.p99<=300ms", "throttle_ratio<=0.01"} {
		s, err := scenarios.ParseSLO(e)
		require.NoError(t, err)
		slos = append(slos, s)
	}
	fn := result.Component{Name: "fn", Capacity: 10, PeakConcurrency: 10, Series: &result.Series{
		ThroughputRPS: []float64{100, 100, 100, 100, 100, 100, 100, 100},
		Throttled:     []float64{0, 0, 0, 100, 50, 40, 1000, 0},
	}}
	r := &result.Result{
		Workload:   result.Workload{PeakRPS: 800},
		Series:     &result.SeriesIndex{IntervalS: 60, OfferedRPS: []float64{100, 200, 300, 400, 500, 600, 700, 800}},
		Components: []result.Component{{Name: "quiet", Series: &result.Series{ThroughputRPS: make([]float64, 8), Throttled: make([]float64, 8)}}, fn},
		Breaks:     []result.Break{{OfferedRPS: 750}},
	}
	e, ok := EstimateFromRun(sc, slos, 3*time.Minute, r)
	require.True(t, ok)
	require.True(t, e.Bound)
	require.Equal(t, 0.02, e.Spread)
	require.InDelta(t, 1_500_000.0, e.Load, 1e-6)
	require.Equal(t, "fn's throttled share passed 1% from the 3m window ending 0:06 on (500/s offered; 700/s in the busiest)", e.Basis)
	// A 1.1% bound is first exceeded over minutes 4–6 (1,090 of 19,090, 5.7%): 18/21.
	slos[1].Value = 0.011
	e, _ = EstimateFromRun(sc, slos, 3*time.Minute, r)
	require.InDelta(t, 1_800_000.0, e.Load, 1e-6)
	// No throttle-ratio SLO, or probes that run the whole horizon: the first break decides.
	e, _ = EstimateFromRun(sc, slos[:1], 3*time.Minute, r)
	require.Equal(t, 0.03, e.Spread)
	require.InDelta(t, 2_100_000.0*750/800, e.Load, 1e-6)
	e, _ = EstimateFromRun(sc, slos, 0, r)
	require.Equal(t, 0.03, e.Spread)
	require.InDelta(t, 2_100_000.0*750/800, e.Load, 1e-6)
	// A throttled burst in the first minutes (over 1.1% in the window of minutes 0–2, not
	// over it in the next one) is not the run of windows over the bound that holds the
	// busiest: the estimate stays.
	fn.Series.Throttled[0] = 5000
	e, _ = EstimateFromRun(sc, slos, 3*time.Minute, r)
	require.InDelta(t, 1_800_000.0, e.Load, 1e-6)
	// Nor is a run that ends before the busiest window: with none in it, the first break
	// decides.
	fn.Series.Throttled[6], fn.Series.Throttled[7] = 0, 0
	e, _ = EstimateFromRun(sc, slos, 3*time.Minute, r)
	require.Equal(t, 0.03, e.Spread)
	require.InDelta(t, 2_100_000.0*750/800, e.Load, 1e-6)
}

// Nothing bound, probes judged over 2 minutes: the busiest window is minutes 1–2 (200 + 300
// offered). Functions f1 and f2 share region r's unreserved 10 executions and hold 1 + 1 of
// them there on average; g holds 1 of its reserved 5. Erlang B with at most 1% refused
// carries 4.4612 Erlangs on 10 executions and 1.3608 on 5 (the textbook table's 4.461 and
// 1.361), so the pools' headrooms are 2.2306 and 1.3608: g's binds first. A server pool
// with 100 places at a peak of 90 (1.11) binds before either; without a throttle-ratio
// SLO every limit is capacity over peak concurrency (g: 5/4).
func TestEstimateFromRunErlangPools(t *testing.T) {
	require.InDelta(t, 4.4612, erlangBLoad(10, 0.01), 1e-4)
	require.InDelta(t, 1.3608, erlangBLoad(5, 0.01), 1e-4)
	require.InDelta(t, 0.01, ErlangB(10, erlangBLoad(10, 0.01)), 1e-7)

	fn := func(name string, reserved int) *scenarios.Component {
		return &scenarios.Component{Name: name, Kind: scenarios.KindFunction, Region: "r",
			Function: &scenarios.Function{ReservedConcurrency: reserved}}
	}
	sc := &scenarios.Scenario{Workload: scenarios.Workload{Users: 1_000_000},
		Components: []*scenarios.Component{fn("f1", 0), fn("f2", 0), fn("g", 5), {Name: "pool", Kind: scenarios.KindVMTier}}}
	conc := func(name string, capacity, peak int64, x ...float64) result.Component {
		return result.Component{Name: name, Capacity: capacity, PeakConcurrency: peak, Series: &result.Series{Concurrency: x}}
	}
	r := &result.Result{
		Workload: result.Workload{PeakRPS: 300},
		Series:   &result.SeriesIndex{IntervalS: 60, OfferedRPS: []float64{100, 200, 300, 150}},
		Components: []result.Component{conc("f1", 10, 2, 0, 1, 1, 0), conc("f2", 10, 3, 0, 1, 1, 3),
			conc("g", 5, 4, 0, 1, 1, 4)},
	}
	throttle, err := scenarios.ParseSLO("throttle_ratio<=0.01")
	require.NoError(t, err)
	e, ok := EstimateFromRun(sc, []scenarios.SLO{throttle}, 2*time.Minute, r)
	require.True(t, ok)
	require.False(t, e.Bound)
	require.Equal(t, 0.03, e.Spread)
	require.InDelta(t, 1_000_000*erlangBLoad(5, 0.01), e.Load, 1e-6)
	require.InDelta(t, 1_360_800, e.Load, 100)
	require.Equal(t, "nothing bound; the 5 executions of g carry 1.4 Erlangs with 1% refused (Erlang B), against 1.0 busy in the busiest 2m", e.Basis)

	r.Components = append(r.Components, result.Component{Name: "pool", Capacity: 100, PeakConcurrency: 90})
	e, _ = EstimateFromRun(sc, []scenarios.SLO{throttle}, 2*time.Minute, r)
	require.InDelta(t, 1_000_000*100.0/90, e.Load, 1e-6)
	require.Equal(t, 0.05, e.Spread)

	r.Components = r.Components[:3]
	e, _ = EstimateFromRun(sc, nil, 2*time.Minute, r)
	require.InDelta(t, 1_000_000*5.0/4, e.Load, 1e-6)
}

// The API-latency estimate, by hand: one-minute intervals, probes judged over 2 minutes, an
// offered rate of 100, 200, …, 500/s, so the busiest window (minutes 3–4) offers 900/s
// summed. The web tier's mean waits, window by window (queue summed over throughput
// summed): 10/300, 60/450, 450/500, 1,200/500 s = 0.033, 0.133, 0.9, 2.4 s. Under api.p99
// ≤ 300 ms the run of windows over it that holds the busiest starts at minutes 2–3
// (700/s): 7/9 of the load; under 100 ms at minutes 1–2 (500/s): 5/9. The function's
// queue (kind function: it throttles rather than queues) and the database's (a delay
// station: its series' queue is no wait for a server) do not count; had the database's
// 100/300 and 110/500 s counted, the first would start at minutes 0–1.
func TestEstimateFromRunWaitWindow(t *testing.T) {
	sc := &scenarios.Scenario{Workload: scenarios.Workload{Users: 900_000}}
	slo := func(e string) []scenarios.SLO {
		s, err := scenarios.ParseSLO(e)
		require.NoError(t, err)
		return []scenarios.SLO{s}
	}
	queue := func(name string, kind scenarios.Kind, q, x []float64) result.Component {
		return result.Component{Name: name, Kind: string(kind), Series: &result.Series{QueueDepth: q, ThroughputRPS: x}}
	}
	r := &result.Result{
		Workload: result.Workload{PeakRPS: 500},
		Series:   &result.SeriesIndex{IntervalS: 60, OfferedRPS: []float64{100, 200, 300, 400, 500}},
		Components: []result.Component{
			queue("fn", scenarios.KindFunction, []float64{1000, 1000, 1000, 1000, 1000}, []float64{1, 1, 1, 1, 1}),
			queue("web", scenarios.KindVMTier, []float64{0, 10, 50, 400, 800}, []float64{100, 200, 250, 250, 250}),
			queue("db", scenarios.KindDatabase, []float64{0, 100, 10, 10, 10}, []float64{100, 200, 300, 300, 300}),
		},
		Breaks: []result.Break{{OfferedRPS: 450}},
	}
	e, ok := EstimateFromRun(sc, slo("api.p99<=300ms"), 2*time.Minute, r)
	require.True(t, ok)
	require.True(t, e.Bound)
	require.Equal(t, 0.02, e.Spread)
	require.InDelta(t, 700_000.0, e.Load, 1e-6)
	require.Equal(t, "the VM tiers' and server pools' mean waits passed 300ms from the 2m window ending 0:04 on (350/s offered; 450/s in the busiest)", e.Basis)
	e, _ = EstimateFromRun(sc, slo("api.mean<100ms"), 2*time.Minute, r)
	require.InDelta(t, 500_000.0, e.Load, 1e-6)
	// An end-to-end bound is not judged by these queues: the first break decides.
	e, _ = EstimateFromRun(sc, slo("end_to_end.p99<=300ms"), 2*time.Minute, r)
	require.Equal(t, 0.03, e.Spread)
	require.InDelta(t, 900_000.0*450/500, e.Load, 1e-6)
	// A server pool whose queue nothing leaves from minute 2 on waits without bound: the
	// run of windows over 300 ms now starts at minutes 1–2.
	r.Components = append(r.Components, queue("pool", scenarios.KindPool, []float64{0, 0, 5, 5, 5}, []float64{0, 0, 0, 0, 0}))
	e, _ = EstimateFromRun(sc, slo("api.p99<=300ms"), 2*time.Minute, r)
	require.InDelta(t, 500_000.0, e.Load, 1e-6)
}
