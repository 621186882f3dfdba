package loadtest

import (
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/headroom/headroom/scenarios"
)

// distQuantile is the q-quantile of a scenario distribution, as the simulator draws it
// (sim/dist.go): a lognormal by median and p99 has sigma = ln(p99/median)/z99, by mean and
// sigma mu = ln(mean) − sigma²/2; an empirical table is linear between its points.
func distQuantile(d scenarios.Dist, q float64) time.Duration {
	ns := func(x scenarios.Duration) float64 { return float64(x) }
	var v float64
	switch d.Kind {
	case scenarios.DistConstant:
		v = ns(d.Value)
	case scenarios.DistExponential:
		v = -ns(d.Mean) * math.Log(1-q)
	case scenarios.DistUniform:
		v = ns(d.Min) + q*(ns(d.Max)-ns(d.Min))
	case scenarios.DistLognormal:
		z := distuv.UnitNormal.Quantile(q)
		if d.Median > 0 {
			sigma := math.Log(ns(d.P99)/ns(d.Median)) / distuv.UnitNormal.Quantile(0.99)
			v = ns(d.Median) * math.Exp(sigma*z)
		} else {
			mu := math.Log(ns(d.Mean)) - d.Sigma*d.Sigma/2
			v = math.Exp(mu + d.Sigma*z)
		}
	case scenarios.DistEmpirical:
		ps := d.Percentiles
		if len(ps) == 0 {
			return 0
		}
		for i := 1; i < len(ps); i++ {
			if q <= ps[i].Q {
				a, b := ps[i-1], ps[i]
				f := (q - a.Q) / (b.Q - a.Q)
				v = ns(a.V) + f*(ns(b.V)-ns(a.V))
				return time.Duration(v)
			}
		}
		v = ns(ps[len(ps)-1].V)
	}
	return time.Duration(v)
}

// DistMean is the mean of a scenario distribution: the integral of its quantile function,
// by the midpoint rule on 4,000 points (the lognormal's tail beyond the last point is not
// lost: the last midpoint is at q = 0.999875).
func DistMean(d scenarios.Dist) time.Duration {
	const n = 4000
	var sum float64
	for i := range n {
		sum += float64(distQuantile(d, (float64(i)+0.5)/n))
	}
	return time.Duration(sum / n)
}
