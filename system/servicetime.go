package system

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// DistKind names a distribution family; the same names as the scenario format.
type DistKind string

// The distribution families.
const (
	DistConstant    DistKind = "constant"
	DistExponential DistKind = "exponential"
	DistUniform     DistKind = "uniform"
	DistLognormal   DistKind = "lognormal"
	DistEmpirical   DistKind = "empirical"
)

// Dist is a distribution of durations, field for field the scenario format's (so a
// scenario maps onto it one to one) but owned by system, which must not depend on how
// scenarios are parsed. The zero Dist means no time.
type Dist struct {
	Kind   DistKind
	Value  time.Duration // constant
	Mean   time.Duration // exponential; lognormal with Sigma
	Min    time.Duration // uniform
	Max    time.Duration // uniform
	Median time.Duration // lognormal with P99
	P99    time.Duration // lognormal with Median
	Sigma  float64       // lognormal with Mean
	// Percentiles of an empirical distribution, from Q=0 to Q=1; the inverse CDF is linear
	// between them.
	Percentiles []Percentile
}

// Percentile is one point of an empirical distribution: P(X <= V) = Q.
type Percentile struct {
	Q float64
	V time.Duration
}

// z99 is the 0.99 quantile of the standard normal: a lognormal given by its median and
// p99 has sigma = ln(p99/median) / z99.
const z99 = 2.3263478740408408

// ServiceTime draws processing durations from one of the scenario distribution shapes
// (constant, exponential, uniform, lognormal by median+p99 or mean+sigma, empirical
// percentile table), with the same parameterisation the simulator uses, so that a
// measured run and its prediction assume the same work. Its zero value draws zero.
type ServiceTime struct {
	kind DistKind
	a, b float64 // ns. constant: a; exponential: mean; uniform: min, width; lognormal: mu, sigma
	q, v []float64
}

// NewServiceTime compiles a scenario distribution; the zero Dist gives zero time.
func NewServiceTime(d Dist) (ServiceTime, error) {
	ns := func(x time.Duration) float64 { return float64(x) }
	switch d.Kind {
	case "":
		return ServiceTime{}, nil
	case DistConstant:
		if d.Value < 0 {
			return ServiceTime{}, fmt.Errorf("constant: value %v must be >= 0: %w", d.Value, ErrInvalid)
		}
		return ServiceTime{kind: d.Kind, a: ns(d.Value)}, nil
	case DistExponential:
		if d.Mean <= 0 {
			return ServiceTime{}, fmt.Errorf("exponential: mean %v must be > 0: %w", d.Mean, ErrInvalid)
		}
		return ServiceTime{kind: d.Kind, a: ns(d.Mean)}, nil
	case DistUniform:
		if d.Min < 0 || d.Max < d.Min {
			return ServiceTime{}, fmt.Errorf("uniform: need 0 <= min (%v) <= max (%v): %w", d.Min, d.Max, ErrInvalid)
		}
		return ServiceTime{kind: d.Kind, a: ns(d.Min), b: ns(d.Max) - ns(d.Min)}, nil
	case DistLognormal:
		switch {
		case d.Median > 0 && d.P99 > d.Median:
			return ServiceTime{kind: d.Kind, a: math.Log(ns(d.Median)), b: math.Log(ns(d.P99)/ns(d.Median)) / z99}, nil
		case d.Mean > 0 && d.Sigma > 0:
			return ServiceTime{kind: d.Kind, a: math.Log(ns(d.Mean)) - d.Sigma*d.Sigma/2, b: d.Sigma}, nil
		}
		return ServiceTime{}, fmt.Errorf("lognormal: need 0 < median < p99, or mean > 0 and sigma > 0: %w", ErrInvalid)
	case DistEmpirical:
		ps := slices.Clone(d.Percentiles)
		slices.SortStableFunc(ps, func(x, y Percentile) int { return cmpFloat(x.Q, y.Q) })
		if len(ps) < 2 || ps[0].Q != 0 || ps[len(ps)-1].Q != 1 {
			return ServiceTime{}, fmt.Errorf("empirical: need percentiles from p0 to p100: %w", ErrInvalid)
		}
		st := ServiceTime{kind: d.Kind}
		for i, p := range ps {
			if p.V < 0 || i > 0 && p.V < ps[i-1].V {
				return ServiceTime{}, fmt.Errorf("empirical: percentile values must be >= 0 and not decrease (p%g): %w",
					p.Q*100, ErrInvalid)
			}
			st.q = append(st.q, p.Q)
			st.v = append(st.v, ns(p.V))
		}
		return st, nil
	}
	return ServiceTime{}, fmt.Errorf("unknown distribution %q (want constant, exponential, uniform, lognormal or empirical): %w",
		d.Kind, ErrInvalid)
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// Sample draws one duration using r, or the runtime's per-thread generator when r is nil
// (lock-free, which is what concurrent processors want).
func (s *ServiceTime) Sample(r *rand.Rand) time.Duration {
	u, norm, exp := rand.Float64, rand.NormFloat64, rand.ExpFloat64
	if r != nil {
		u, norm, exp = r.Float64, r.NormFloat64, r.ExpFloat64
	}
	switch s.kind {
	case DistConstant:
		return time.Duration(s.a)
	case DistExponential:
		return time.Duration(exp() * s.a)
	case DistUniform:
		return time.Duration(s.a + u()*s.b)
	case DistLognormal:
		return time.Duration(math.Exp(s.a + s.b*norm()))
	case DistEmpirical:
		return time.Duration(s.empirical(u()))
	}
	return 0
}

func (s *ServiceTime) empirical(u float64) float64 {
	i, _ := slices.BinarySearch(s.q, u) // first q[i] >= u
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

// Mean returns the distribution's mean.
func (s *ServiceTime) Mean() time.Duration {
	switch s.kind {
	case DistConstant, DistExponential:
		return time.Duration(s.a)
	case DistUniform:
		return time.Duration(s.a + s.b/2)
	case DistLognormal:
		return time.Duration(math.Exp(s.a + s.b*s.b/2))
	case DistEmpirical:
		m := 0.0
		for i := 1; i < len(s.q); i++ {
			m += (s.q[i] - s.q[i-1]) * (s.v[i] + s.v[i-1]) / 2
		}
		return time.Duration(m)
	}
	return 0
}
