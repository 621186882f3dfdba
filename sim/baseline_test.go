package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// The bundled baseline at 1/80 of its users (100,000: 2 million requests a day) is far from
// any limit: nothing binds, nothing is refused, every request completes end to end, and
// every self-check holds (Little's law per component, conservation).
func TestBaselineBelowItsLimitsCompletesEverything(t *testing.T) {
	sc, err := scenarios.Load("baseline", scenarios.WithSets([]string{"workload.users=100000"}))
	require.NoError(t, err)
	m := runModel(t, sc)
	require.Empty(t, m.breaks)
	require.Zero(t, m.rejected)
	require.Zero(t, m.failed)
	require.InDelta(t, m.offered, m.completed, 20, "all but the few in flight at midnight")
	requireChecksPass(t, m)
	res := m.result()
	// The topic delivers each request's message to the one queue of its state.
	var queued int64
	for _, q := range []string{"q_pending", "q_approved", "q_rejected", "q_cancelled"} {
		queued += res.ComponentByName(q).Offered
	}
	require.Equal(t, res.ComponentByName("events").Delivered, queued)
	require.InDelta(t, 0.5, float64(res.ComponentByName("q_pending").Offered)/float64(queued), 0.002)
}

// The baseline's point: at the peak the account's Lambda concurrency binds. Scaled down by
// 40 — users and the account limit alike, the rest as bundled — the first limit to bind is
// the account concurrency, for the request function (its clients get errors) and the
// processor (its batches go back to the queues), and the throttling is a peak-hours
// affair: nearly all of it falls between 10:00 and 16:00 around the 13:00 peak. (A pool of
// 25 fluctuates relatively more than one of 1,000, so it first binds earlier in the morning
// than the full-scale run, where it first binds at about 10:50.) The self-checks still hold.
func TestBaselineAccountConcurrencyBindsAtThePeak(t *testing.T) {
	sc, err := scenarios.Load("baseline", scenarios.WithSets([]string{
		"workload.users=200000",
		"regions.default.lambda_concurrency=25",
		"regions.default.lambda_unreserved_min=3",
	}))
	require.NoError(t, err)
	m := runModel(t, sc)
	require.NotEmpty(t, m.breaks)
	first := m.sortedBreaks()[0]
	require.Equal(t, "account concurrency", first.Limit)
	require.Contains(t, []string{"request", "processor"}, first.Component)
	res := m.result()
	for _, name := range []string{"request", "processor"} {
		c := res.ComponentByName(name)
		require.Greater(t, c.Throttled, int64(0), name)
		require.LessOrEqual(t, c.PeakConcurrency, int64(25), name)
		var peak, all float64
		for i, x := range c.Series.Throttled {
			all += x
			if at := float64(i+1) * res.Series.IntervalS; at > 10*3600 && at <= 16*3600 {
				peak += x
			}
		}
		require.Greater(t, peak/all, 0.9, "%s: share of the throttles between 10:00 and 16:00", name)
	}
	requireChecksPass(t, m)
}
