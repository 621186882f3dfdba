package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/headroom/headroom/scenarios"
)

// z99 is the 0.99 quantile of the standard normal: a lognormal given by its median and p99
// has sigma = ln(p99/median) / z99.
var z99 = distuv.UnitNormal.Quantile(0.99)

type distKind uint8

const (
	distNone distKind = iota
	distConstant
	distExponential
	distUniform
	distLognormal
	distEmpirical
)

// Sampler draws durations from one distribution. It is a small value with a switch rather
// than an interface so that drawing inlines into the event handlers and never allocates;
// the parameters are precomputed in nanoseconds.
type Sampler struct {
	kind distKind
	a, b float64 // constant: a; exponential: mean; uniform: min, width; lognormal: mu, sigma
	// Empirical inverse CDF: q[i] → v[i], linear in between.
	q, v []float64
}

// NewSampler compiles a scenario distribution. The zero Dist gives a sampler of zero time.
func NewSampler(d scenarios.Dist) (Sampler, error) {
	ns := func(x scenarios.Duration) float64 { return float64(x) }
	switch d.Kind {
	case "":
		return Sampler{}, nil
	case scenarios.DistConstant:
		return Sampler{kind: distConstant, a: ns(d.Value)}, nil
	case scenarios.DistExponential:
		if d.Mean <= 0 {
			return Sampler{}, fmt.Errorf("exponential needs mean > 0")
		}
		return Sampler{kind: distExponential, a: ns(d.Mean)}, nil
	case scenarios.DistUniform:
		if d.Max < d.Min {
			return Sampler{}, fmt.Errorf("uniform needs max >= min")
		}
		return Sampler{kind: distUniform, a: ns(d.Min), b: ns(d.Max) - ns(d.Min)}, nil
	case scenarios.DistLognormal:
		switch {
		case d.Median > 0 && d.P99 > d.Median:
			sigma := math.Log(ns(d.P99)/ns(d.Median)) / z99
			return Sampler{kind: distLognormal, a: math.Log(ns(d.Median)), b: sigma}, nil
		case d.Mean > 0 && d.Sigma > 0:
			return Sampler{kind: distLognormal, a: math.Log(ns(d.Mean)) - d.Sigma*d.Sigma/2, b: d.Sigma}, nil
		}
		return Sampler{}, fmt.Errorf("lognormal needs median < p99, or mean and sigma > 0")
	case scenarios.DistEmpirical:
		ps := append([]scenarios.Percentile(nil), d.Percentiles...)
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Q < ps[j].Q })
		if len(ps) < 2 || ps[0].Q != 0 || ps[len(ps)-1].Q != 1 {
			return Sampler{}, fmt.Errorf("empirical needs percentiles from p0 to p100")
		}
		s := Sampler{kind: distEmpirical}
		for i, p := range ps {
			if i > 0 && p.V < ps[i-1].V {
				return Sampler{}, fmt.Errorf("empirical percentiles must not decrease")
			}
			s.q = append(s.q, p.Q)
			s.v = append(s.v, ns(p.V))
		}
		return s, nil
	}
	return Sampler{}, fmt.Errorf("unknown distribution %q", d.Kind)
}

// Sample draws one duration.
func (s *Sampler) Sample(r *rand.Rand) Time {
	switch s.kind {
	case distConstant:
		return Time(s.a)
	case distExponential:
		return Time(r.ExpFloat64() * s.a)
	case distUniform:
		return Time(s.a + r.Float64()*s.b)
	case distLognormal:
		return Time(fastExp(s.a + s.b*r.NormFloat64()))
	case distEmpirical:
		return Time(s.empirical(r.Float64()))
	}
	return 0
}

func (s *Sampler) empirical(u float64) float64 {
	i := sort.SearchFloat64s(s.q, u) // first q[i] >= u
	if i == 0 {
		return s.v[0]
	}
	if i >= len(s.q) {
		return s.v[len(s.v)-1]
	}
	q0, q1 := s.q[i-1], s.q[i]
	if q1 == q0 {
		return s.v[i]
	}
	return s.v[i-1] + (u-q0)/(q1-q0)*(s.v[i]-s.v[i-1])
}

// Mean returns the distribution's mean in nanoseconds.
func (s *Sampler) Mean() float64 {
	switch s.kind {
	case distConstant:
		return s.a
	case distExponential:
		return s.a
	case distUniform:
		return s.a + s.b/2
	case distLognormal:
		return math.Exp(s.a + s.b*s.b/2)
	case distEmpirical:
		// Piecewise-linear inverse CDF: the mean is the area under it.
		m := 0.0
		for i := 1; i < len(s.q); i++ {
			m += (s.q[i] - s.q[i-1]) * (s.v[i] + s.v[i-1]) / 2
		}
		return m
	}
	return 0
}

// Exponential reports whether the distribution is exponential (for the textbook checks).
func (s *Sampler) Exponential() bool { return s.kind == distExponential }

// IsZero reports whether the sampler always gives zero time because no distribution was set.
func (s *Sampler) IsZero() bool { return s.kind == distNone }
