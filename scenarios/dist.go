package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// distParams lists, per distribution family, the parameters it takes, in the order they
// are suggested. Every parameter but sigma is a duration.
var distParams = []struct {
	kind   DistKind
	params []string
}{
	{DistConstant, []string{"value"}},
	{DistExponential, []string{"mean"}},
	{DistUniform, []string{"min", "max"}},
	{DistLognormal, []string{"median", "p99", "mean", "sigma"}},
	{DistEmpirical, []string{"percentiles"}},
}

func distKinds() []string {
	var out []string
	for _, p := range distParams {
		out = append(out, string(p.kind))
	}
	return out
}

// familyOf names a family that takes parameter p, or "".
func familyOf(p string) DistKind {
	for _, f := range distParams {
		if slices.Contains(f.params, p) {
			return f.kind
		}
	}
	return ""
}

func paramsOf(k DistKind) []string {
	for _, p := range distParams {
		if p.kind == k {
			return p.params
		}
	}
	return nil
}

// dist decodes a distribution under key (stem plus unit) in the mapping at path. A scalar
// is a constant ("overhead: 5ms", "overhead_ms: 5"); a mapping names its family with dist.
func (d *decoder) dist(e *entry, stem string, unit time.Duration, path string) (Dist, bool) {
	n, key := e.val, join(path, e.key)
	if n.kind == scalarNode {
		x, ok := d.duration(e, stem, unit, path)
		return Dist{Kind: DistConstant, Value: Duration(x)}, ok
	}
	if n.kind != mapNode {
		d.fail(n, key, "expected a distribution like {dist: exponential, mean_ms: 100} or a duration, got %s", describe(n))
		return Dist{}, false
	}
	if unit != 0 {
		d.fail(n, key, "a distribution goes under %s, with the unit on each parameter: %s: {dist: exponential, mean%s: 100}", stem, stem, strings.TrimPrefix(e.key, stem))
		return Dist{}, false
	}
	kindNode := n.get("dist")
	ks, ok := kindNode.scalar()
	if !ok {
		d.fail(n, key, "missing dist: one of %s", strings.Join(distKinds(), ", "))
		return Dist{}, false
	}
	out := Dist{Kind: DistKind(ks)}
	params := paramsOf(out.Kind)
	if params == nil {
		d.fail(kindNode, join(key, "dist"), "unknown distribution %q; one of %s", ks, strings.Join(distKinds(), ", "))
		return Dist{}, false
	}
	valid := append([]string{"dist"}, params...)
	chosen := map[string]choice{}
	good := true
	for _, pe := range n.entries {
		if pe.key == "dist" {
			continue
		}
		p, u, _ := splitUnit(pe.key)
		if !slices.Contains(params, p) || (p == "sigma" && u != 0) {
			good = false
			if other := familyOf(p); other != "" && p != "sigma" {
				d.failAt(pe.src, pe.line, join(key, pe.key), "%s is a parameter of %s, not of %s; %s takes %s", p, other, out.Kind, out.Kind, strings.Join(params, ", "))
				continue
			}
			d.unknownKey(pe, key, "a "+string(out.Kind)+" distribution", valid)
			continue
		}
		if pe.val.kind == nullNode {
			continue
		}
		d.pick(chosen, p, pe, u, key)
	}
	get := func(p string) (time.Duration, bool, bool) { // value, present, ok
		c, present := chosen[p]
		if !present {
			return 0, false, true
		}
		d.mark(join(key, c.e.key), c.e)
		x, ok := d.duration(c.e, p, c.unit, key)
		return x, true, ok
	}
	need := func(p string) time.Duration {
		x, present, ok := get(p)
		if !present {
			d.fail(n, key, "%s needs %s: e.g. %s_ms: 100", out.Kind, p, p)
			good = false
		}
		good = good && ok
		return x
	}
	switch out.Kind {
	case DistConstant:
		out.Value = Duration(need("value"))
	case DistExponential:
		out.Mean = Duration(need("mean"))
		if good && out.Mean <= 0 {
			d.fail(chosen["mean"].e.val, join(key, chosen["mean"].e.key), "must be > 0")
			good = false
		}
	case DistUniform:
		out.Min, out.Max = Duration(need("min")), Duration(need("max"))
		if good && out.Max < out.Min {
			d.fail(chosen["max"].e.val, join(key, chosen["max"].e.key), "max (%s) must be >= min (%s)", out.Max, out.Min)
			good = false
		}
	case DistLognormal:
		good = d.lognormal(n, key, chosen, get, &out) && good
	case DistEmpirical:
		c, present := chosen["percentiles"]
		if !present {
			d.fail(n, key, "empirical needs percentiles: e.g. percentiles_ms: {p0: 5, p50: 20, p99: 200, p100: 400}")
			return Dist{}, false
		}
		d.mark(join(key, c.e.key), c.e)
		ps, ok := d.percentiles(c.e, c.unit, key)
		out.Percentiles = ps
		good = good && ok
	}
	return out, good
}

// lognormal takes a median and a p99, or a mean and a sigma.
func (d *decoder) lognormal(n *node, key string, chosen map[string]choice, get func(string) (time.Duration, bool, bool), out *Dist) bool {
	median, hasMedian, ok1 := get("median")
	p99, hasP99, ok2 := get("p99")
	mean, hasMean, ok3 := get("mean")
	sc, hasSigma := chosen["sigma"]
	ok4 := true
	if hasSigma {
		d.mark(join(key, "sigma"), sc.e)
		out.Sigma, ok4 = d.number(sc.e.val, join(key, "sigma"))
	}
	if !(ok1 && ok2 && ok3 && ok4) {
		return false
	}
	at := func(p string) (*node, string) { c := chosen[p]; return c.e.val, join(key, c.e.key) }
	switch {
	case (hasMedian || hasP99) && (hasMean || hasSigma):
		d.fail(n, key, "lognormal takes median and p99, or mean and sigma, not a mix of both")
		return false
	case hasMedian && hasP99:
		out.Median, out.P99 = Duration(median), Duration(p99)
		if median <= 0 {
			nn, k := at("median")
			d.fail(nn, k, "must be > 0")
			return false
		}
		if p99 <= median {
			nn, k := at("p99")
			d.fail(nn, k, "p99 (%s) must be greater than the median (%s)", p99, median)
			return false
		}
	case hasMean && hasSigma:
		out.Mean = Duration(mean)
		if mean <= 0 {
			nn, k := at("mean")
			d.fail(nn, k, "must be > 0")
			return false
		}
		if out.Sigma <= 0 || out.Sigma > 10 {
			nn, k := at("sigma")
			d.fail(nn, k, "sigma must be > 0 and at most 10, got %g", out.Sigma)
			return false
		}
	case hasMedian || hasP99:
		d.fail(n, key, "lognormal needs both median and p99 (e.g. median_ms: 50, p99_ms: 400)")
		return false
	default:
		d.fail(n, key, "lognormal needs both mean and sigma (e.g. mean_ms: 60, sigma: 0.5), or median and p99")
		return false
	}
	return true
}

// percentiles reads an empirical table {p0: 5, p50: 20, p99.9: 300, p100: 400}: keys p0…p100,
// values not decreasing, p0 and p100 present (the inverse CDF needs both ends).
func (d *decoder) percentiles(e *entry, unit time.Duration, path string) ([]Percentile, bool) {
	n, key := e.val, join(path, e.key)
	if n.kind != mapNode {
		d.fail(n, key, "expected a mapping of percentiles to durations, e.g. {p0: 5, p50: 20, p100: 400}, got %s", describe(n))
		return nil, false
	}
	type point struct {
		Percentile
		e *entry
	}
	var pts []point
	ok := true
	for _, pe := range n.entries {
		pk := join(key, pe.key)
		q, okq := quantile(pe.key)
		if !okq {
			d.failAt(pe.src, pe.line, pk, "percentile keys are p0 to p100, like p50 or p99.9")
			ok = false
			continue
		}
		if pe.val.kind == nullNode {
			continue
		}
		d.mark(pk, pe)
		if unit == 0 && pe.val.kind == scalarNode && (pe.val.y.ShortTag() == "!!int" || pe.val.y.ShortTag() == "!!float") && pe.val.y.Value != "0" {
			d.failAt(pe.src, pe.line, pk, "needs a unit: %s: %sms, or give the unit once as percentiles_ms: {...}", pe.key, pe.val.y.Value)
			ok = false
			continue
		}
		x, good := d.duration(pe, pe.key, unit, key)
		if !good {
			ok = false
			continue
		}
		pts = append(pts, point{Percentile{Q: q, V: Duration(x)}, pe})
	}
	if !ok {
		return nil, false
	}
	slices.SortStableFunc(pts, func(a, b point) int {
		switch {
		case a.Q < b.Q:
			return -1
		case a.Q > b.Q:
			return 1
		}
		return 0
	})
	out := make([]Percentile, len(pts))
	for i, p := range pts {
		out[i] = p.Percentile
		if i == 0 {
			continue
		}
		prev := pts[i-1]
		if p.Q == prev.Q {
			d.failAt(p.e.src, p.e.line, join(key, p.e.key), "percentile given twice (also as %s)", prev.e.key)
			return nil, false
		}
		if p.V < prev.V {
			d.failAt(p.e.src, p.e.line, join(key, p.e.key), "percentiles must not decrease: %s is %s, below %s = %s", p.e.key, p.V, prev.e.key, prev.V)
			return nil, false
		}
	}
	if len(out) < 2 || out[0].Q != 0 || out[len(out)-1].Q != 1 {
		d.fail(n, key, "an empirical distribution needs p0 and p100 (its minimum and maximum), got %s", fmt.Sprint(keysOfPoints(n)))
		return nil, false
	}
	return out, true
}

func keysOfPoints(n *node) []string {
	var ks []string
	for _, e := range n.entries {
		ks = append(ks, e.key)
	}
	return ks
}

var percentileKey = regexp.MustCompile(`^p([0-9]+)(?:\.([0-9]+))?$`)

// quantile turns a percentile key into its quantile exactly: p99.9 → 0.999 (not
// 99.9/100, which is 0.9990000000000001).
func quantile(key string) (float64, bool) {
	m := percentileKey.FindStringSubmatch(key)
	if m == nil || len(m[1]) > 3 {
		return 0, false
	}
	whole := fmt.Sprintf("%03s", m[1])
	q, err := strconv.ParseFloat(whole[:len(whole)-2]+"."+whole[len(whole)-2:]+m[2], 64)
	if err != nil || q > 1 {
		return 0, false
	}
	return q, true
}
