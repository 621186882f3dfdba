package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// mmcScenario builds the bundled mmc scenario in Go, so the kernel's tests do not depend on
// the loader.
func mmcScenario(c int, lambda float64, queue int, horizon time.Duration) *scenarios.Scenario {
	return &scenarios.Scenario{
		Name:     "mmc",
		Horizon:  scenarios.Duration(horizon),
		Seed:     1,
		Workload: scenarios.Workload{Arrival: "poisson", RateRPS: lambda, Entry: "workers"},
		Regions:  []*scenarios.Region{{Name: "default"}},
		Components: []*scenarios.Component{{
			Name: "workers", Kind: scenarios.KindPool,
			Pool: &scenarios.Pool{Concurrency: c, QueueCapacity: queue,
				ServiceTime: scenarios.Dist{Kind: scenarios.DistExponential, Mean: scenarios.Duration(time.Second)}},
		}},
	}
}

func TestMMcMatchesErlangC(t *testing.T) {
	res, err := Run(mmcScenario(10, 8, scenarios.QueueUnbounded, 100*time.Hour))
	require.NoError(t, err)
	w := res.ComponentByName("workers")
	require.NotNil(t, w.Analytic)
	require.InDelta(t, 204.590, w.Analytic.WaitMeanMS, 0.01)
	require.InEpsilon(t, 204.590, w.Wait.Mean, 0.03)
	require.InDelta(t, 0.4092, w.Analytic.SimPWait, 0.01)
	for _, c := range res.Checks {
		require.True(t, c.Passed, "%s: %s", c.Name, c.Detail)
	}
}

func TestLossSystemMatchesErlangB(t *testing.T) {
	res, err := Run(mmcScenario(37, 30, scenarios.QueueNone, 100*time.Hour))
	require.NoError(t, err)
	w := res.ComponentByName("workers")
	require.Equal(t, "M/M/c/c", w.Analytic.Model)
	require.InDelta(t, ErlangB(37, 30), w.Analytic.SimPBlock, 0.005)
	require.Equal(t, int64(0), int64(w.Wait.Max))
	require.NotEmpty(t, res.Breaks)
}

func TestBoundedQueueMatchesMMcK(t *testing.T) {
	res, err := Run(mmcScenario(2, 2.2, 3, 100*time.Hour))
	require.NoError(t, err)
	w := res.ComponentByName("workers")
	require.Equal(t, "M/M/c/K", w.Analytic.Model)
	require.Equal(t, 5, w.Analytic.Capacity)
	require.InDelta(t, w.Analytic.PBlock, w.Analytic.SimPBlock, 0.005)
	require.InEpsilon(t, w.Analytic.WaitMeanMS, w.Analytic.SimWaitMeanMS, 0.03)
}

func TestSameSeedSameBytes(t *testing.T) {
	enc := func() []byte {
		res, err := Run(mmcScenario(10, 8, scenarios.QueueUnbounded, 2*time.Hour))
		require.NoError(t, err)
		res.Timing = result.Timing{}
		b, err := json.Marshal(res)
		require.NoError(t, err)
		return b
	}
	require.Equal(t, string(enc()), string(enc()))
}
