package sim

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func checkNamed(t *testing.T, res *result.Result, name string) result.Check {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, res.Checks)
	return result.Check{}
}

// An overloaded queue never reaches a steady state: its backlog grows all run long, so L is
// far from λW. The exact finite-period form still balances to rounding.
func TestLittleHoldsExactlyWhileABacklogGrows(t *testing.T) {
	sc := mmcScenario(1, 1.5, scenarios.QueueUnbounded, 2*time.Hour) // ρ = 1.5
	sc.Warmup = scenarios.Duration(10 * time.Minute)
	res, err := Run(sc)
	require.NoError(t, err)
	w := res.ComponentByName("workers")
	lw := w.ThroughputRPS * w.Sojourn.Mean / 1000
	require.Greater(t, w.MeanInSystem, 1.5*lw, "the classical L = λW is far off here")
	c := checkNamed(t, res, "little/workers")
	require.True(t, c.Passed, c.Detail)
	require.Equal(t, "M/M/c", w.Analytic.Model)
	require.True(t, checkNamed(t, res, "erlang-c/workers").Passed, "ρ ≥ 1 has nothing to compare")
}

// A component whose departures do not match its admissions fails the check.
func TestLittleCatchesBookkeepingErrors(t *testing.T) {
	m := &Model{warmup: 0, horizon: 100 * Second}
	var st compStats
	st.init(m)
	// Two requests admitted at 0 and 10 s; both leave at 30 s.
	st.admit(0)
	st.admit(10 * Second)
	st.done(30*Second, 30*Second)
	st.done(30*Second, 20*Second)
	require.True(t, littleCheck("ok", &st, 100*Second).Passed)
	// The same, but the second departure reports a sojourn it did not have.
	var bad compStats
	bad.init(m)
	bad.admit(0)
	bad.admit(10 * Second)
	bad.done(30*Second, 30*Second)
	bad.sojourn.Record(25 * Second) // what a component with a wrong admission time would record
	bad.completed++
	bad.busy.Add(30*Second, 0)
	bad.inSys.Add(30*Second, -1)
	bad.arrivals.sub(10 * Second)
	c := littleCheck("bad", &bad, 100*Second)
	require.False(t, c.Passed, c.Detail)
}

// A run too short for a confidence interval says so, and its JSON still encodes: no NaN or
// infinity anywhere, even for a component that completed nothing.
func TestSum128IsExact(t *testing.T) {
	var s sum128
	// A backlog of ten million requests admitted around hour 12 of a day: their age sum
	// overflows an int64 and loses nanoseconds in a float64.
	const n = 10_000_000
	for i := int64(0); i < n; i++ {
		s.add(12*Hour + Time(i))
	}
	// Σ(24h − (12h + i)) = n·12h − n(n−1)/2, exactly.
	want := float64(n)*float64(12*Hour) - float64(n)*float64(n-1)/2
	require.Equal(t, want, s.ageAt(n, 24*Hour))
	for i := int64(0); i < n; i++ {
		s.sub(12*Hour + Time(i))
	}
	require.Equal(t, sum128{}, s)
	s.add(5)
	require.Equal(t, -5.0, s.ageAt(0, 100), "negative ages keep their sign")
}

func TestShortRunsEncodeAndSayTheyCannotCheck(t *testing.T) {
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, 500*time.Millisecond)
	res, err := Run(sc)
	require.NoError(t, err)
	_, err = json.Marshal(res)
	require.NoError(t, err)
	require.True(t, checkNamed(t, res, "finite").Passed)
	c := checkNamed(t, res, "erlang-c/workers")
	require.False(t, c.Passed)
	require.Contains(t, c.Detail, "too few observations")
	require.Zero(t, res.ComponentByName("workers").Analytic.WaitMeanHalfWidthMS)
}

func TestFiniteCheckNamesAndZeroesBadFigures(t *testing.T) {
	res := &result.Result{
		Workload:   result.Workload{OfferedRPS: math.NaN()},
		Components: []result.Component{{Name: "db", Utilization: math.Inf(1), Series: &result.Series{QueueDepth: []float64{1, math.NaN()}}}},
	}
	c := finiteCheck(res)
	require.False(t, c.Passed)
	for _, path := range []string{"workload.offered_rps", "components.db.utilization", "components.db.series.queue_depth[1]"} {
		require.True(t, strings.Contains(c.Detail, path), "%s not in %q", path, c.Detail)
	}
	_, err := json.Marshal(res)
	require.NoError(t, err)
	require.True(t, finiteCheck(res).Passed, "scrubbed")
}
