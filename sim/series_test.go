package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

func TestSeriesStaysBoundedAtAnyHorizon(t *testing.T) {
	for _, h := range []Time{30 * Second, Minute, 1440 * Minute, 1441 * Minute, 24 * Hour, 400 * Hour, 10 * 365 * 24 * Hour} {
		iv := seriesInterval(h)
		require.LessOrEqual(t, int64(h/iv), int64(maxSeriesPoints), "horizon %v", h)
		// The shortest whole number of minutes that does it.
		if iv > Minute {
			require.Greater(t, int64(h/(iv-Minute)), int64(maxSeriesPoints), "horizon %v", h)
		}
	}
	res, err := Run(mmcScenario(10, 8, scenarios.QueueUnbounded, 30*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2*60.0, res.Series.IntervalS)
	require.Len(t, res.Series.OfferedRPS, 900)
	s := res.ComponentByName("workers").Series
	require.Len(t, s.ThroughputRPS, 900)
	require.Len(t, s.QueueDepth, 900)
	require.Equal(t, cap(s.QueueDepth), len(s.QueueDepth), "sized once, never regrown")
}
