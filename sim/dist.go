package sim

import (
	"fmt"
	"math"
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
	// Lognormal: the quantile function at the edges of lnCells equal cells of [0, 1]
	// (lnTable).
	tab []float64
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
			return newLognormal(math.Log(ns(d.Median)), sigma), nil
		case d.Mean > 0 && d.Sigma > 0:
			return newLognormal(math.Log(ns(d.Mean))-d.Sigma*d.Sigma/2, d.Sigma), nil
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
func (s *Sampler) Sample(r *Rng) Time {
	switch s.kind {
	case distConstant:
		return Time(s.a)
	case distExponential:
		return Time(r.ExpFloat64() * s.a)
	case distUniform:
		return Time(s.a + r.Float64()*s.b)
	case distLognormal:
		u := r.Uint64()
		i := u >> (64 - lnBits)
		if i-lnTail >= lnCells-2*lnTail { // unsigned: i < lnTail or i ≥ lnCells − lnTail
			return Time(s.lognormalTail(u))
		}
		f := float64(u<<lnBits>>11) * 0x1p-53 // the bits below the cell: where in it
		lo := s.tab[i]
		return Time(lo + f*(s.tab[i+1]-lo))
	case distEmpirical:
		return Time(s.empirical(r.Float64()))
	}
	return 0
}

// A lognormal is drawn by inverting its distribution function: a uniform 64-bit value u
// picks one of lnCells equal cells of [0, 1] with its top bits, and the value is the
// quantile function there, interpolated linearly between the cell's edges (a table per
// sampler, 16 KB) with the bits below. Two lognormal draws per request or more make this a
// hot path, and the table costs one uniform draw and a multiply-add where the textbook
// exp(μ + σ·z) costs a normal draw and an exponential (about 13% of a baseline run's CPU
// time, measured by replacing the draw with a uniform one).
//
// The linear interpolation of a convex quantile function overshoots it slightly inside a
// cell; the error is largest where the function curves most, in the tails. The lnTail cells
// at either end are therefore not interpolated: a u that falls in them gets the exact
// quantile, from math.Erfcinv (0.8% of draws). Elsewhere the value is off by at most
// 3.1·10⁻⁴ of itself for σ = 0.49 (the baseline's request function) and 7.3·10⁻⁴ for
// σ = 1 (TestLognormalTableError measures it), below the 10⁻³ that the percentiles of a
// run resolve (three significant digits).
const (
	lnBits  = 11
	lnCells = 1 << lnBits
	lnTail  = 8
)

func newLognormal(mu, sigma float64) Sampler {
	// Cells lnTail to lnCells − lnTail − 1 interpolate, so their edges are what is read.
	s := Sampler{kind: distLognormal, a: mu, b: sigma, tab: make([]float64, lnCells-lnTail+1)}
	for i := lnTail; i < len(s.tab); i++ {
		s.tab[i] = s.lognormalQuantile(float64(i) / lnCells)
	}
	return s
}

// lognormalQuantile is the exact quantile function at p in (0, 1).
func (s *Sampler) lognormalQuantile(p float64) float64 {
	// Φ⁻¹(p) = −√2·erfc⁻¹(2p), accurate in both tails.
	return math.Exp(s.a - s.b*math.Sqrt2*math.Erfcinv(2*p))
}

// lognormalTail is the exact quantile for a u in the first or last lnTail cells, at the
// middle of u's 2⁻⁵³-wide interval so that neither end is reached. In the upper tail it
// works with 1 − p, computed exactly from the integer, so that the far tail keeps its
// resolution.
func (s *Sampler) lognormalTail(u uint64) float64 {
	k := float64(u >> 11)
	if u>>(64-lnBits) < lnTail {
		return s.lognormalQuantile((k + 0.5) * 0x1p-53)
	}
	q := (0x1p53 - k - 0.5) * 0x1p-53 // 1 − p
	return math.Exp(s.a + s.b*math.Sqrt2*math.Erfcinv(2*q))
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
