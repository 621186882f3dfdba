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

// TestTextbookQueues runs pools that are textbook queues — M/M/c, M/M/c/c (Erlang's loss
// system) and M/M/c/K — and holds each against its formula twice: the run's own self-check
// (the textbook value inside the simulated value's 95% batch-means interval) and a fixed
// tolerance, 2% for a mean wait and 0.005 absolute for a blocking probability (the bounds
// `headroom run mmc --horizon 400h` is held to). Horizons are given in customers, enough
// for the interval to be about 1% wide, so that 2% is a safe margin for a correct kernel.
func TestTextbookQueues(t *testing.T) {
	cases := []struct {
		name      string
		c         int
		lambda    float64 // per second
		mu        float64 // per second per server
		queue     int     // scenarios.QueueUnbounded, QueueNone or waiting places
		customers float64
	}{
		{"M/M/1 rho 0.5", 1, 5, 10, scenarios.QueueUnbounded, 1.6e6},
		{"M/M/2 rho 0.5", 2, 10, 10, scenarios.QueueUnbounded, 2e6},
		{"M/M/5 rho 0.6", 5, 30, 10, scenarios.QueueUnbounded, 4e6},
		{"M/M/37/37", 37, 30, 1, scenarios.QueueNone, 3e5},
		{"M/M/100/100", 100, 90, 1, scenarios.QueueNone, 3e5},
		{"M/M/2/5", 2, 2.2, 1, 3, 4e5},
		{"M/M/4/10", 4, 30, 10, 6, 1.5e6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			horizon := time.Duration(tc.customers / tc.lambda * float64(time.Second))
			sc := mmcScenario(tc.c, tc.lambda, tc.queue, horizon)
			sc.Components[0].Pool.ServiceTime.Mean = scenarios.Duration(float64(time.Second) / tc.mu)
			sc.Warmup = scenarios.Duration(horizon / 50)
			res, err := Run(sc)
			require.NoError(t, err)
			for _, c := range res.Checks {
				require.True(t, c.Passed, "%s: %s", c.Name, c.Detail)
			}
			w := res.ComponentByName("workers")
			a := w.Analytic
			require.NotNil(t, a)
			require.Equal(t, tc.c, a.Servers)
			switch tc.queue {
			case scenarios.QueueUnbounded:
				require.Equal(t, "M/M/c", a.Model)
				wq, pw := MMc(tc.c, tc.lambda, tc.mu)
				require.InDelta(t, wq*1000, a.WaitMeanMS, 1e-5)
				require.InDelta(t, pw, a.PWait, 1e-5)
				require.InEpsilon(t, a.WaitMeanMS, w.Wait.Mean, 0.02, "mean wait within 2%% of Erlang C")
				require.InDelta(t, a.PWait, a.SimPWait, 0.005)
			case scenarios.QueueNone:
				require.Equal(t, "M/M/c/c", a.Model)
				require.InDelta(t, ErlangB(tc.c, tc.lambda/tc.mu), a.PBlock, 1e-6)
				require.InDelta(t, a.PBlock, a.SimPBlock, 0.005, "blocking within 0.005 of Erlang B")
				require.InDelta(t, a.PBlock, float64(w.Rejected)/float64(w.Offered), 0.005)
				require.Zero(t, w.Wait.Max, "a loss system never queues")
				require.NotEmpty(t, res.Breaks, "blocking is a limit that binds")
			default:
				require.Equal(t, "M/M/c/K", a.Model)
				require.Equal(t, tc.c+tc.queue, a.Capacity)
				pb, wq, _ := MMcK(tc.c, tc.c+tc.queue, tc.lambda, tc.mu)
				require.InDelta(t, pb, a.PBlock, 1e-6)
				require.InDelta(t, a.PBlock, a.SimPBlock, 0.005, "blocking within 0.005")
				require.InEpsilon(t, wq*1000, a.SimWaitMeanMS, 0.02, "mean wait within 2%%")
			}
		})
	}
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
