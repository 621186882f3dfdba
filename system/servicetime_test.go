package system

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// TestServiceTimeShapes draws many samples and checks each distribution's mean and a
// quantile against its definition, so the real system spends the time the model assumes.
func TestServiceTimeShapes(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		d        Dist
		mean     time.Duration
		q        float64 // a quantile to check
		qv       time.Duration
		min, max time.Duration
	}{
		{"constant", Dist{Kind: DistConstant, Value: 5 * ms}, 5 * ms, 0.5, 5 * ms, 5 * ms, 5 * ms},
		{"exponential", Dist{Kind: DistExponential, Mean: 10 * ms}, 10 * ms, 0.5, time.Duration(10 * math.Ln2 * float64(ms)), 0, time.Hour},
		{"uniform", Dist{Kind: DistUniform, Min: 10 * ms, Max: 30 * ms}, 20 * ms, 0.25, 15 * ms, 10 * ms, 30 * ms},
		{"lognormal median p99", Dist{Kind: DistLognormal, Median: 50 * ms, P99: 400 * ms},
			time.Duration(50 * math.Exp(math.Pow(math.Log(8)/z99, 2)/2) * float64(ms)), 0.99, 400 * ms, 0, time.Hour},
		{"lognormal mean sigma", Dist{Kind: DistLognormal, Mean: 60 * ms, Sigma: 0.5}, 60 * ms, 0.5,
			time.Duration(60 * math.Exp(-0.125) * float64(ms)), 0, time.Hour},
		{"empirical", Dist{Kind: DistEmpirical, Percentiles: []Percentile{{1, 400 * ms}, {0, 0}, {0.5, 20 * ms}, {0.9, 60 * ms}}},
			time.Duration((0.5*10 + 0.4*40 + 0.1*230) * float64(ms)), 0.7, 40 * ms, 0, 400 * ms},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := NewServiceTime(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if m := st.Mean(); math.Abs(float64(m-tt.mean)) > 0.001*float64(tt.mean)+1 {
				t.Fatalf("Mean() = %v, want %v", m, tt.mean)
			}
			const n = 200000
			xs := make([]float64, n)
			sum := 0.0
			for i := range xs {
				x := st.Sample(r)
				if x < tt.min || x > tt.max {
					t.Fatalf("sample %v outside [%v, %v]", x, tt.min, tt.max)
				}
				xs[i] = float64(x)
				sum += xs[i]
			}
			sort.Float64s(xs)
			if got := sum / n; math.Abs(got-float64(tt.mean)) > 0.02*float64(tt.mean) {
				t.Errorf("sample mean %v, want %v ± 2%%", time.Duration(got), tt.mean)
			}
			if got := xs[int(tt.q*n)]; math.Abs(got-float64(tt.qv)) > 0.03*float64(tt.qv) {
				t.Errorf("sample p%g %v, want %v ± 3%%", tt.q*100, time.Duration(got), tt.qv)
			}
		})
	}
	var zero ServiceTime
	if zero.Sample(nil) != 0 || zero.Mean() != 0 {
		t.Errorf("the zero ServiceTime must draw 0")
	}
}

func TestServiceTimeRefusesBadShapes(t *testing.T) {
	bad := []Dist{
		{Kind: "gamma"},
		{Kind: DistConstant, Value: -1},
		{Kind: DistExponential},
		{Kind: DistUniform, Min: 3, Max: 2},
		{Kind: DistLognormal, Median: 5, P99: 5},
		{Kind: DistLognormal, Mean: 5},
		{Kind: DistEmpirical, Percentiles: []Percentile{{0.5, 1}, {1, 2}}},
		{Kind: DistEmpirical, Percentiles: []Percentile{{0, 3}, {1, 2}}},
	}
	for _, d := range bad {
		if _, err := NewServiceTime(d); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewServiceTime(%+v) = %v, want ErrInvalid", d, err)
		}
	}
}
