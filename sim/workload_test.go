package sim

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// Diurnal arrivals are thinned against a per-minute envelope. Whatever the envelope, the
// arrivals of each hour of the day must be Poisson with mean ∫λ over that hour: checked over
// 5 days against a numerical integral of λ, each hour within 5 standard deviations, and the
// envelope must bound λ.
func TestDiurnalArrivalsFollowTheProfile(t *testing.T) {
	const days = 5
	sc := &scenarios.Scenario{
		Name: "diurnal", Horizon: scenarios.Duration(days * 24 * time.Hour), Seed: 7,
		Workload: scenarios.Workload{Arrival: "poisson", Users: 86400, RequestsPerUserPerDay: 20, Entry: "p",
			Profile: scenarios.Profile{Kind: "diurnal", PeakToMean: 3, PeakHour: 13.5}},
		Regions: []*scenarios.Region{{Name: "default"}},
		Components: []*scenarios.Component{{Name: "p", Kind: scenarios.KindPool,
			Pool: &scenarios.Pool{Concurrency: 1 << 20, QueueCapacity: scenarios.QueueUnbounded, ServiceTime: constant(0)}}},
	}
	m := runModel(t, sc)
	w := m.wl
	for i, e := range w.env {
		for s := 0; s <= 60; s++ {
			x := w.rateAt(Time(i)*Minute + Time(s)*Second)
			require.LessOrEqual(t, x, e.hi)
			require.GreaterOrEqual(t, x, e.lo)
		}
	}
	res := m.result()
	iv := res.Series.IntervalS
	perHour := int(3600 / iv)
	got := make([]float64, 24)
	for i, r := range res.Series.OfferedRPS {
		got[(i/perHour)%24] += r * iv
	}
	for h := range 24 {
		want := 0.0
		const steps = 3600
		for s := range steps {
			want += w.rateAt(Time(h)*Hour+Time(s)*Second+Second/2) * days
		}
		require.InDelta(t, want, got[h], 5*math.Sqrt(want), "hour %d", h)
	}
	require.InDelta(t, 20*86400*days, float64(w.arrivals), 5*math.Sqrt(20*86400*days))
}
