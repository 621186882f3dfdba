package sim

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

func ms(v float64) scenarios.Duration { return scenarios.Duration(v * float64(time.Millisecond)) }

func TestSamplersMatchTheirMoments(t *testing.T) {
	cases := []struct {
		name     string
		d        scenarios.Dist
		mean     float64 // ms
		p50, p99 float64 // ms, 0 = not checked
		relTol   float64
	}{
		{"constant", scenarios.Dist{Kind: scenarios.DistConstant, Value: ms(5)}, 5, 5, 5, 1e-9},
		{"exponential", scenarios.Dist{Kind: scenarios.DistExponential, Mean: ms(100)}, 100, 100 * math.Ln2, 100 * math.Log(100), 0.01},
		{"uniform", scenarios.Dist{Kind: scenarios.DistUniform, Min: ms(10), Max: ms(30)}, 20, 20, 29.8, 0.01},
		{"lognormal median/p99", scenarios.Dist{Kind: scenarios.DistLognormal, Median: ms(50), P99: ms(400)}, 0, 50, 400, 0.02},
		{"lognormal mean/sigma", scenarios.Dist{Kind: scenarios.DistLognormal, Mean: ms(60), Sigma: 0.5}, 60, 60 * math.Exp(-0.125), 0, 0.01},
		{"empirical", scenarios.Dist{Kind: scenarios.DistEmpirical, Percentiles: []scenarios.Percentile{{Q: 0, V: ms(10)}, {Q: 0.5, V: ms(20)}, {Q: 1, V: ms(40)}}}, 22.5, 20, 39.6, 0.01},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewSampler(c.d)
			require.NoError(t, err)
			r := Stream(7, c.name)
			const n = 400000
			xs := make([]float64, n)
			sum := 0.0
			for i := range xs {
				xs[i] = s.Sample(r).Millis()
				sum += xs[i]
			}
			if c.mean > 0 {
				require.InEpsilon(t, c.mean, sum/n, c.relTol, "sample mean")
				require.InEpsilon(t, c.mean, s.Mean()/1e6, 1e-9, "analytic mean")
			}
			sort.Float64s(xs)
			if c.p50 > 0 {
				require.InEpsilon(t, c.p50, xs[n/2], c.relTol, "p50")
			}
			if c.p99 > 0 {
				require.InEpsilon(t, c.p99, xs[n*99/100], c.relTol*2, "p99")
			}
		})
	}
}

func TestSamplerRejectsBadParameters(t *testing.T) {
	for _, d := range []scenarios.Dist{
		{Kind: scenarios.DistExponential},
		{Kind: scenarios.DistLognormal, Median: ms(50), P99: ms(40)},
		{Kind: scenarios.DistEmpirical, Percentiles: []scenarios.Percentile{{Q: 0.1, V: ms(1)}, {Q: 1, V: ms(2)}}},
		{Kind: "weibull"},
	} {
		_, err := NewSampler(d)
		require.Error(t, err, "%+v", d)
	}
}

// BenchmarkSampleLognormal draws from the baseline's request-function duration.
func BenchmarkSampleLognormal(b *testing.B) {
	s, err := NewSampler(scenarios.Dist{Kind: scenarios.DistLognormal, Median: scenarios.Duration(35 * time.Millisecond), P99: scenarios.Duration(110 * time.Millisecond)})
	if err != nil {
		b.Fatal(err)
	}
	r := Stream(1, "bench")
	var sum Time
	for b.Loop() {
		sum += s.Sample(r)
	}
	if sum == 0 {
		b.Fatal("no draws")
	}
}

// TestLognormalTableError measures how far the interpolated quantile function of the
// lognormal sampler is from the exact one, inside every interpolated cell, and checks that
// draws falling in the exact tail cells are exact.
func TestLognormalTableError(t *testing.T) {
	for _, sigma := range []float64{0.1, 0.49, 1} {
		s := newLognormal(math.Log(35e6), sigma)
		worst := 0.0
		for i := lnTail; i < lnCells-lnTail; i++ {
			for _, f := range []float64{0.125, 0.25, 0.5, 0.75, 0.875} {
				p := (float64(i) + f) / lnCells
				exact := s.lognormalQuantile(p)
				got := s.tab[i] + f*(s.tab[i+1]-s.tab[i])
				worst = math.Max(worst, math.Abs(got-exact)/exact)
			}
		}
		t.Logf("sigma %.2f: largest relative error of the table %.2e", sigma, worst)
		require.Less(t, worst, 1e-3, "sigma %g", sigma)
		// A draw in the top cell is the exact quantile of its u.
		u := uint64(lnCells-1)<<(64-lnBits) | 12345<<11
		p := 1 - (0x1p53-float64(u>>11)-0.5)*0x1p-53
		require.InEpsilon(t, s.lognormalQuantile(p), s.lognormalTail(u), 1e-9)
	}
}
