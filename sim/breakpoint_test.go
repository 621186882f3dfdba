package sim

import (
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func mustSLO(t *testing.T, expr string) scenarios.SLO {
	t.Helper()
	s, err := scenarios.ParseSLO(expr)
	require.NoError(t, err)
	return s
}

// The breakpoint of an M/M/10 queue (exponential service of 1 s) under the objective
// "mean response time at most 1.5 s", i.e. a mean wait in queue of at most 0.5 s, is the
// arrival rate λ* at which Erlang C's mean wait C(10, λ/μ) / (10μ − λ) reaches 0.5 s. The
// search, started from the scenario's 8/s, must bracket λ* within its 2% tolerance (the
// simulated mean wait is within about 1% of the formula at these horizons, which moves
// the crossing by a fraction of that: the wait is steep in λ there).
func TestBreakpointOfMMcMatchesErlangCInverse(t *testing.T) {
	const target = 0.5 // seconds of mean wait
	lo, hi := 0.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if w, _ := MMc(10, mid, 1); w <= target {
			lo = mid
		} else {
			hi = mid
		}
	}
	lambdaStar := lo // ≈ 8.82/s

	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 60*time.Hour)
	var probes atomic.Int64
	bp, err := Breakpoint(sc, []scenarios.SLO{mustSLO(t, "api.mean<=1.5s")}, WithProbeWorkers(2),
		WithProbeProgress(func(result.Probe) { probes.Add(1) }))
	require.NoError(t, err)
	require.Equal(t, "found", bp.Status)
	require.Equal(t, "rate_rps", bp.Variable)
	require.Equal(t, 8.0, bp.Nominal)
	t.Logf("λ* = %.4f/s; breakpoint in [%.4f, %.4f] after %d probes", lambdaStar, bp.MaxLoad, bp.FailLoad, len(bp.Probes))
	require.LessOrEqual(t, bp.FailLoad/bp.MaxLoad-1, 0.02, "bracket within the tolerance")
	require.InDelta(t, 1, bp.MaxLoad/lambdaStar, 0.025)
	require.LessOrEqual(t, bp.MaxLoad, lambdaStar*1.01)
	require.GreaterOrEqual(t, bp.FailLoad, lambdaStar*0.99)
	require.Equal(t, "api.mean<=1.5s", bp.Binding.SLO)
	require.False(t, bp.Binding.Passed)
	require.True(t, bp.SLOs[0].Passed)
	require.Equal(t, int64(len(bp.Probes)), probes.Load())
	require.Contains(t, bp.Method, "the scenario's own 60h horizon")
	// Probes ascend; every passing one lies below every failing one (monotone here).
	for i := 1; i < len(bp.Probes); i++ {
		require.Less(t, bp.Probes[i-1].Load, bp.Probes[i].Load)
		require.False(t, !bp.Probes[i-1].Passed && bp.Probes[i].Passed, "pass above a failure: %+v", bp.Probes)
	}
}

// One probe at a time from an estimate that passes, the search steps up by the tolerance
// first, then by the estimate's spread (the tolerance again when the spread is at most
// two tolerances), and only then squares the step: an estimate right
// to within the tolerance is confirmed by two probes. From a headroom estimate that fails
// it steps down by the squares at once (another limit binds first, nothing says how far
// below); from one where a limit bound, by the tolerance first as well. M/M/10 as above,
// started 10% below λ* (every probe up to 0.964 λ* passes) and 20% above it (1.2, 1.18,
// 1.12 and 1.09 λ* fail: the queue is unstable above λ = 10/s, 1.13 λ*, and the wait is
// steep before that).
func TestBreakpointFromAnEstimateStepsOutByTheToleranceFirst(t *testing.T) {
	lo, hi := 0.0, 10.0
	for range 100 {
		if w, _ := MMc(10, (lo+hi)/2, 1); w <= 0.5 {
			lo = (lo + hi) / 2
		} else {
			hi = (lo + hi) / 2
		}
	}
	lambdaStar := lo
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 60*time.Hour)
	slos := []scenarios.SLO{mustSLO(t, "api.mean<=1.5s")}
	for _, c := range []struct {
		start   float64
		spread  float64
		bound   bool // the estimate is where a limit bound, not a headroom
		passing bool
		ratios  []float64 // of each probe to the one before it
	}{
		{0.9, 0.05, false, true, []float64{1.02, 1.05, 1.1025}},
		{1.2, 0.05, false, false, []float64{1 / 1.1025}},
		{1.2, 0.05, true, false, []float64{1 / 1.02, 1 / 1.05}},
		// A spread as narrow as the tolerance still steps by the tolerance first.
		{0.9, 0.02, false, true, []float64{1.02, 1.02, 1.0404}},
		// A spread of at most two tolerances: the tolerance twice, then the squares of the
		// spread (multi-region's estimate is 3% wide).
		{0.9, 0.03, false, true, []float64{1.02, 1.02, 1.0609}},
		{1.2, 0.03, true, false, []float64{1 / 1.02, 1 / 1.02, 1 / 1.0609}},
	} {
		var order []result.Probe // bp.Probes is sorted by load; this is the search's order
		bp, err := Breakpoint(sc, slos, WithProbeWorkers(1), WithEstimate(c.start*lambdaStar, c.spread),
			func(o *bpOptions) { o.start.Bound = c.bound },
			WithProbeProgress(func(p result.Probe) { order = append(order, p) }))
		require.NoError(t, err)
		require.Equal(t, "found", bp.Status, "%+v", bp.Probes)
		require.LessOrEqual(t, bp.FailLoad/bp.MaxLoad-1, 0.02*(1+1e-9))
		require.Greater(t, len(order), len(c.ratios))
		require.InDelta(t, c.start*lambdaStar, order[0].Load, 1e-6)
		for i, r := range c.ratios {
			require.Equal(t, c.passing, order[i].Passed, "probe %d: %+v", i, order)
			require.InDelta(t, r, order[i+1].Load/order[i].Load, 1e-6, "probe %d: %+v", i+1, order)
		}
		require.InDelta(t, 1, bp.MaxLoad/lambdaStar, 0.025)
	}
}

// A tolerance step moves by whole users inwards, and by one user at least.
func TestToleranceStepInWholeUsers(t *testing.T) {
	for _, c := range []struct {
		from  float64
		users bool
		up    bool
		want  float64
	}{
		{6_543_830, true, true, 6_674_706},  // ⌊6,543,830 × 1.02⌋: baseline's failing probe
		{6_674_706, true, false, 6_543_830}, // ⌈6,674,706 / 1.02⌉
		{30, true, true, 31},                // 30.6 would round back to 30
		{30, true, false, 29},               // 29.4 would round back to 30
		{100, false, true, 102},             // a rate is not rounded
	} {
		require.Equal(t, c.want, toleranceStep(c.from, 0.02, c.users, c.up), "%+v", c)
	}
}

// A load the scenario cannot carry at any probed size is reported as below the range, one
// it carries at every size as above it; neither invents a breakpoint.
func TestBreakpointOutOfRange(t *testing.T) {
	sc := mmcScenario(10, 1, scenarios.QueueUnbounded, 10*time.Minute)
	// Service alone takes 1 s on average: a mean response under 0.5 s is never met.
	bp, err := Breakpoint(sc, []scenarios.SLO{mustSLO(t, "api.mean<=500ms")}, WithProbeWorkers(2))
	require.NoError(t, err)
	require.Equal(t, "below_range", bp.Status)
	require.Zero(t, bp.MaxLoad)
	require.NotNil(t, bp.Binding)

	bp, err = Breakpoint(sc, []scenarios.SLO{mustSLO(t, "error_ratio<=0.5")}, WithProbeWorkers(2))
	require.NoError(t, err)
	require.Equal(t, "above_range", bp.Status, "an unbounded queue rejects nothing: %+v", bp.Probes)
	require.Equal(t, 1024.0, bp.MaxLoad)
}

// A diurnal workload is probed in its busiest window: the probe's scenario has the peak in
// the middle of the measured window, on-demand tables warm, and the load in users.
func TestDiurnalProbePlan(t *testing.T) {
	sc, err := scenarios.Load("baseline")
	require.NoError(t, err)
	p := newProbePlan(sc, bpOptions{warmup: 20 * time.Minute, window: 30 * time.Minute})
	require.True(t, p.users)
	require.Equal(t, 8e6, p.nominal)
	c := p.scenario(4e6)
	require.Equal(t, int64(4_000_000), c.Workload.Users)
	require.Equal(t, 50*time.Minute, c.Horizon.D())
	require.Equal(t, 20*time.Minute, c.Warmup.D())
	require.InDelta(t, 35.0/60, c.Workload.Profile.PeakHour, 1e-12)
	require.Equal(t, warmCapacity, c.Component("requests").Table.OnDemandInitialWRU)
	require.Equal(t, 4000.0, sc.Component("requests").Table.OnDemandInitialWRU, "the scenario itself is untouched")
	require.Equal(t, int64(8_000_000), sc.Workload.Users)
	require.Contains(t, p.method, "busiest 30m of the day (the 13:00 peak ± 15m) after 20m of warm-up")
	require.Contains(t, p.method, "requests start warm")
	require.InDelta(t, 4e6*20/86400.0, p.meanRate(4e6), 1e-9)
	// The load at the middle of the probe's window is the day's peak.
	m, err := build(c, 1)
	require.NoError(t, err)
	require.InDelta(t, 4e6*20/86400.0*3, m.wl.rateAt(Dur(35*time.Minute)), 1e-6)
}

func TestHourlyProbePlanRotatesTheBusiestHourAfterItsPredecessor(t *testing.T) {
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 24*time.Hour)
	sc.Workload = scenarios.Workload{Arrival: "poisson", Users: 1000, RequestsPerUserPerDay: 100, Entry: "workers",
		Profile: scenarios.Profile{Kind: "hourly", Hourly: make([]float64, 24)}}
	for i := range sc.Workload.Profile.Hourly {
		sc.Workload.Profile.Hourly[i] = float64(i % 7) // busiest: hour 6 (the first 6)
	}
	p := newProbePlan(sc, bpOptions{warmup: 20 * time.Minute, window: 30 * time.Minute})
	c := p.scenario(1000)
	h := c.Workload.Profile.Hourly
	require.Equal(t, 5.0, h[0])
	require.Equal(t, 6.0, h[1])
	require.Equal(t, 2*time.Hour, c.Horizon.D())
	require.Equal(t, time.Hour, c.Warmup.D())
	require.Contains(t, p.method, "busiest hour (6:00–7:00)")
	require.Equal(t, 0.0, sc.Workload.Profile.Hourly[0], "the scenario itself is untouched")
}

func TestEvaluateSLOs(t *testing.T) {
	r := &result.Result{
		Workload: result.Workload{Offered: 1000, Accepted: 900, Rejected: 100, Completed: 880, Failed: 10},
		Latency: result.Latencies{
			API:      result.Stats{Count: 900, Mean: 50, P99: 250},
			EndToEnd: result.Stats{Count: 880, P90: 800, P99: 900},
		},
		Components: []result.Component{
			{Name: "a", Offered: 1000, Throttled: 100},
			{Name: "b", Offered: 100, Throttled: 20, MaxAgeMS: 7000},
		},
	}
	for _, c := range []struct {
		expr  string
		value float64
		pass  bool
	}{
		{"api.p99<=300ms", 250, true},
		{"api.mean<40ms", 50, false},
		{"throttle_ratio<=0.15", 0.2, false}, // the worst component, b: 20 of 100
		{"error_ratio<=0.11", 0.11, true},    // (100 rejected + 10 failed) / 1000
		{"completed_ratio>=0.9", 0.88, false},
		{"max_queue_age<=10s", 7000, true},
		{"end_to_end.p99<=1s", 900, false}, // 10 unfinished of 900 accepted (1.1%) > 1%: fails
		{"end_to_end.p90<=1s", 800, true},  // 1.1% unfinished is within the 10% a p90 leaves out
	} {
		got := EvaluateSLO(mustSLO(t, c.expr), r)
		require.Equal(t, c.pass, got.Passed, "%s: %+v", c.expr, got)
		if c.expr == "end_to_end.p99<=1s" {
			require.Equal(t, 7000.0, got.Value, "at least the oldest queued message's age")
			require.Contains(t, got.Detail, "10 accepted requests (1.11%) were unfinished")
			continue
		}
		require.InDelta(t, c.value, got.Value, 1e-9, c.expr)
	}
	require.Contains(t, EvaluateSLO(mustSLO(t, "throttle_ratio<=0.1"), r).Detail, "b throttled 20 of 100")
	empty := EvaluateSLO(mustSLO(t, "api.p99<=1s"), &result.Result{})
	require.False(t, empty.Passed)
	require.Contains(t, empty.Detail, "no request finished")
}

func TestSpanAndClock(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Minute: "30m", 90 * time.Minute: "1h30m", time.Hour: "1h", 45 * time.Second: "45s", 60 * time.Hour: "60h"} {
		require.Equal(t, want, span(d))
	}
	require.Equal(t, "13:00", clock(13))
	require.Equal(t, "0:35", clock(35.0/60))
}

// The serverless baseline scaled down to a 20-execution account: the search runs the
// diurnal peak-window probes on the real component kinds (in parallel, sharing the
// scenario's component settings) and finds where the Lambda limit starts to throttle more
// than 0.1%. By Little's law the peak's mean concurrency, 3 × users × 20 / 86,400 requests
// a second holding about 0.21 s of execution each, reaches 20 at about 137,000 users; with
// so few executions the random peaks of concurrency (and batches holding an environment
// for all their messages) hit the limit well before the mean does, so the breakpoint lies
// below that and not far below half of it.
func TestBreakpointOfAScaledDownBaseline(t *testing.T) {
	sc, err := scenarios.Load("baseline", scenarios.WithSets([]string{
		"workload.users=100000",
		"regions={default: {lambda_concurrency: 20, lambda_unreserved_min: 0}}",
	}))
	require.NoError(t, err)
	bp, err := Breakpoint(sc, sc.SLOs, WithProbeWorkers(2))
	require.NoError(t, err)
	require.Equal(t, "found", bp.Status, "%+v", bp.Probes)
	require.Equal(t, "users", bp.Variable)
	t.Logf("max %v users, fails at %v (%s: %s)", bp.MaxLoad, bp.FailLoad, bp.Binding.SLO, bp.Binding.Detail)
	require.Less(t, bp.MaxLoad, 137_000.0)
	require.Greater(t, bp.MaxLoad, 137_000.0/3)
	require.LessOrEqual(t, bp.FailLoad/bp.MaxLoad-1, 0.02)
	require.Equal(t, "throttle_ratio<=0.001", bp.Binding.SLO)
	require.NotNil(t, bp.FirstBreakAtFail)
	require.Equal(t, "account concurrency", bp.FirstBreakAtFail.Limit)
	require.Greater(t, bp.MonthlyUSD, 0.0)
	require.Contains(t, bp.Method, "requests start warm")
	require.Equal(t, int64(100_000), sc.Workload.Users, "the scenario is left as it was")

	// Started one probe at a time from an estimate that is right, two probes settle it:
	// the estimate passes, and one tolerance above it (rounded down to whole users, so
	// that the bracket is within the tolerance) fails.
	var order []result.Probe
	again, err := Breakpoint(sc, sc.SLOs, WithProbeWorkers(1), WithEstimate(bp.MaxLoad, 0.05),
		WithProbeProgress(func(p result.Probe) { order = append(order, p) }))
	require.NoError(t, err)
	require.Len(t, order, 2, "%+v", order)
	require.True(t, order[0].Passed)
	require.False(t, order[1].Passed)
	require.Equal(t, math.Floor(bp.MaxLoad*1.02), order[1].Load)
	require.Equal(t, bp.MaxLoad, again.MaxLoad)
	require.Equal(t, "found", again.Status)
}

// An autoscaled deployment starts a probe with the replicas the scenario's own day reached
// at its peak, scaled to the probe's load, within the pods its cluster can reach.
func TestDeploymentProbesStartSizedFromTheScenariosOwnDay(t *testing.T) {
	sc, err := scenarios.Load("kubernetes")
	require.NoError(t, err)
	require.True(t, NeedsNominalRun(sc))
	nominal := &result.Result{Components: []result.Component{{
		Name: "processor", PodsReachable: 6912, Cluster: &result.ClusterFigures{PeakReplicas: 1150},
	}}}
	p := newProbePlan(sc, bpOptions{warmup: 10 * time.Minute, window: 10 * time.Minute, nominalRun: nominal})
	require.Equal(t, 575, p.scenario(4e6).Component("processor").Deployment.MinReplicas)   // ⌈1,150 × 0.5⌉
	require.Equal(t, 6912, p.scenario(80e6).Component("processor").Deployment.MinReplicas) // the vCPU quota's pods
	require.Equal(t, 30, sc.Component("processor").Deployment.MinReplicas, "the scenario itself is untouched")
	require.Contains(t, p.method, "autoscaled deployments start with the replicas the scenario's own day reached at its peak, scaled to the probe's load: processor (1150 at the scenario's load)")

	cold := newProbePlan(sc, bpOptions{warmup: 10 * time.Minute, window: 10 * time.Minute})
	require.Equal(t, 30, cold.scenario(4e6).Component("processor").Deployment.MinReplicas)
	require.Contains(t, cold.method, "deployments processor start from min_replicas")

	base, err := scenarios.Load("baseline")
	require.NoError(t, err)
	require.False(t, NeedsNominalRun(base))
}
