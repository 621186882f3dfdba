package sim

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func intervalOf(t *testing.T, res *result.Result, figure string) result.Interval {
	t.Helper()
	for _, iv := range res.CI95 {
		if iv.Figure == figure {
			return iv
		}
	}
	t.Fatalf("no interval for %s", figure)
	return result.Interval{}
}

func encodeWithoutTiming(t *testing.T, res *result.Result) string {
	t.Helper()
	r := *res
	r.Timing = result.Timing{}
	b, err := json.Marshal(&r)
	require.NoError(t, err)
	return string(b)
}

func TestReplicationsDoNotDependOnWorkers(t *testing.T) {
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 2*time.Hour)
	one, err := RunReplications(sc, 5, WithWorkers(1))
	require.NoError(t, err)
	three, err := RunReplications(sc, 5, WithWorkers(3))
	require.NoError(t, err)
	require.Equal(t, encodeWithoutTiming(t, one), encodeWithoutTiming(t, three))
	require.Equal(t, 5, one.Replications)
	require.Equal(t, sc.Seed, one.Seed)
}

// The body is the mean of the replications, each of which is an ordinary run with its own
// seed; replication 0 is Run itself.
func TestReplicationsAverageIndependentRuns(t *testing.T) {
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 2*time.Hour)
	const n = 4
	res, err := RunReplications(sc, n)
	require.NoError(t, err)
	var waits, p99s []float64
	var completed, maxWait float64
	for i := 0; i < n; i++ {
		r, err := runSeed(sc, ReplicationSeed(sc.Seed, i))
		require.NoError(t, err)
		if i == 0 {
			single, err := Run(sc)
			require.NoError(t, err)
			require.Equal(t, encodeWithoutTiming(t, single), encodeWithoutTiming(t, r))
		}
		w := r.ComponentByName("workers")
		waits = append(waits, w.Wait.Mean)
		p99s = append(p99s, w.Sojourn.P99)
		completed += float64(r.Workload.Completed)
		maxWait = math.Max(maxWait, w.Wait.Max)
	}
	w := res.ComponentByName("workers")
	mean, half := interval(waits)
	require.InDelta(t, mean, w.Wait.Mean, 1e-6)
	require.Equal(t, maxWait, w.Wait.Max, "maxima are the maximum over replications")
	require.Equal(t, int64(math.Round(completed/n)), res.Workload.Completed)
	iv := intervalOf(t, res, "components.workers.wait_ms.mean")
	require.InDelta(t, mean, iv.Mean, 1e-6)
	require.InDelta(t, half, iv.HalfWidth, 1e-6)
	m99, _ := interval(p99s)
	require.InDelta(t, m99, intervalOf(t, res, "components.workers.sojourn_ms.p99").Mean, 1e-6)
	for _, c := range res.Checks {
		require.True(t, c.Passed, "%s: %s", c.Name, c.Detail)
	}
	require.Len(t, res.ComponentByName("workers").Series.ThroughputRPS, len(res.Series.OfferedRPS))
}

func TestReplicationIntervalsShrinkWithN(t *testing.T) {
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 10*time.Minute)
	few, err := RunReplications(sc, 5)
	require.NoError(t, err)
	many, err := RunReplications(sc, 80)
	require.NoError(t, err)
	for _, f := range []string{"components.workers.wait_ms.mean", "latency_ms.api.p99", "workload.completed"} {
		h5, h80 := intervalOf(t, few, f).HalfWidth, intervalOf(t, many, f).HalfWidth
		// t·σ/√n: t(4) = 2.78 and t(79) = 1.99, so about a fifth. Five replications estimate σ
		// loosely (it can be off by half), hence the margin.
		require.Less(t, h80, 0.5*h5, "%s: ±%v with 5 replications, ±%v with 80", f, h5, h80)
	}
}

// The method of independent replications: ten M/M/10 runs, and Erlang C's mean wait
// (204.59 ms) inside their 95% interval, which the erlang-c check then reports.
func TestTenReplicationsCoverErlangC(t *testing.T) {
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 10*time.Hour)
	sc.Warmup = scenarios.Duration(10 * time.Minute)
	res, err := RunReplications(sc, 10)
	require.NoError(t, err)
	a := res.ComponentByName("workers").Analytic
	require.InDelta(t, 204.590, a.WaitMeanMS, 0.001)
	iv := intervalOf(t, res, "components.workers.analytic.sim_wait_mean_ms")
	require.InDelta(t, a.WaitMeanMS, iv.Mean, iv.HalfWidth)
	require.Equal(t, iv.HalfWidth, a.WaitMeanHalfWidthMS)
	c := checkNamed(t, res, "erlang-c/workers")
	require.True(t, c.Passed, c.Detail)
	require.Contains(t, c.Detail, "across 10 replications")
}

func TestReplicationsOfOneAreRun(t *testing.T) {
	sc := mmcScenario(2, 1, scenarios.QueueUnbounded, time.Hour)
	var calls int
	res, err := RunReplications(sc, 1, WithReplicationProgress(func(rep int, now, end Time) {
		require.Equal(t, 0, rep)
		calls++
	}))
	require.NoError(t, err)
	single, err := Run(sc)
	require.NoError(t, err)
	require.Equal(t, encodeWithoutTiming(t, single), encodeWithoutTiming(t, res))
	require.Equal(t, 60, calls, "one call per minute of the series")
	_, err = RunReplications(sc, 0)
	require.Error(t, err)
}

func TestReplicationProgressIsSerialisedAndMonotone(t *testing.T) {
	sc := mmcScenario(2, 1, scenarios.QueueUnbounded, time.Hour)
	last := map[int]Time{}
	var mean []Time
	_, err := RunReplications(sc, 4, WithWorkers(2),
		WithReplicationProgress(func(rep int, now, end Time) {
			require.GreaterOrEqual(t, now, last[rep]) // the map is safe: calls are serialised
			last[rep] = now
		}),
		WithProgress(func(now, end Time) { mean = append(mean, now) }))
	require.NoError(t, err)
	require.Len(t, last, 4)
	require.Len(t, mean, 4*60)
	require.Equal(t, Hour, mean[len(mean)-1])
	for i := 1; i < len(mean); i++ {
		require.GreaterOrEqual(t, mean[i], mean[i-1])
	}
}

func TestReplicationsMergeBreaksAndLossFigures(t *testing.T) {
	sc := mmcScenario(5, 5, scenarios.QueueNone, time.Hour)
	res, err := RunReplications(sc, 3)
	require.NoError(t, err)
	require.Len(t, res.Breaks, 1)
	require.Contains(t, res.Breaks[0].Detail, "bound in 3 of 3 replications")
	iv := intervalOf(t, res, "components.workers.analytic.sim_p_block")
	require.InDelta(t, ErlangB(5, 5), iv.Mean, 0.02)
	require.True(t, checkNamed(t, res, "erlang-b/workers").Passed)
	_, err = json.Marshal(res)
	require.NoError(t, err)
}
