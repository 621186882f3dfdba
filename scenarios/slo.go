package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SLO is one service-level objective: a figure of a run, a comparison and a bound, such as
// api.p99<=300ms, end_to_end.p99<=60s or throttle_ratio<=0.001. A scenario lists its own
// under slos; breakpoint searches for the largest load that meets them all.
type SLO struct {
	// Expr is the objective as written, without spaces: "api.p99<=300ms".
	Expr string
	// Metric is the figure: api.P, end_to_end.P (P one of mean, p50, p90, p95, p99, p999,
	// max), max_queue_age, throttle_ratio, error_ratio, completed_ratio.
	Metric string
	Op     string // <=, <, >= or >
	// Value is the bound: milliseconds for a latency or an age, a fraction for a ratio.
	Value float64
}

// The figures an SLO may bound.
var (
	sloStats      = []string{"mean", "p50", "p90", "p95", "p99", "p999", "max"}
	sloPaths      = []string{"api", "end_to_end"}
	sloRatiosDown = []string{"throttle_ratio", "error_ratio"} // bounded from above
	sloRatiosUp   = []string{"completed_ratio"}               // bounded from below
	sloDurations  = []string{"max_queue_age"}
)

// SLOMetrics lists every metric name, in the order help texts show them.
func SLOMetrics() []string {
	var out []string
	for _, p := range sloPaths {
		for _, s := range sloStats {
			out = append(out, p+"."+s)
		}
	}
	out = append(out, sloDurations...)
	out = append(out, sloRatiosDown...)
	return append(out, sloRatiosUp...)
}

// IsLatency reports whether the metric is a time (its Value in milliseconds).
func (s SLO) IsLatency() bool {
	return strings.Contains(s.Metric, ".") || contains(sloDurations, s.Metric)
}

// Holds reports whether a figure v meets the objective.
func (s SLO) Holds(v float64) bool {
	switch s.Op {
	case "<=":
		return v <= s.Value
	case "<":
		return v < s.Value
	case ">=":
		return v >= s.Value
	case ">":
		return v > s.Value
	}
	return false
}

func (s SLO) String() string { return s.Expr }

var sloRE = regexp.MustCompile(`^([A-Za-z0-9_.]+)\s*(<=|>=|<|>|==|=)\s*(\S+)$`)

// ParseSLO reads one objective: METRIC OP VALUE, where a latency or an age takes a duration
// with its unit (300ms, 1.5s, 2m) and a ratio a fraction or a percentage (0.001, 0.1%).
// Errors name the expression and say what is expected.
func ParseSLO(expr string) (SLO, error) {
	s := strings.TrimSpace(expr)
	fail := func(format string, args ...any) (SLO, error) {
		return SLO{}, fmt.Errorf("SLO %q: %s", expr, fmt.Sprintf(format, args...))
	}
	m := sloRE.FindStringSubmatch(s)
	if m == nil {
		return fail("expected METRIC OP VALUE, e.g. api.p99<=300ms, end_to_end.p99<=60s or throttle_ratio<=0.001")
	}
	metric, op, val := m[1], m[2], m[3]
	if op == "=" || op == "==" {
		return fail("an objective is a bound: use <=, <, >= or >")
	}
	all := SLOMetrics()
	if !contains(all, metric) {
		hint := ""
		if sug := sloSuggest(metric, all); sug != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", sug)
		}
		return fail("unknown metric %q%s; one of %s", metric, hint, strings.Join(all, ", "))
	}
	out := SLO{Metric: metric, Op: op}
	up := contains(sloRatiosUp, metric)
	if below := op == "<" || op == "<="; below == up {
		if up {
			return fail("%s is bounded from below: use >= or >", metric)
		}
		return fail("%s is bounded from above (more is worse): use <= or <", metric)
	}
	if out.IsLatency() {
		d, err := time.ParseDuration(val)
		if err != nil {
			if _, numErr := strconv.ParseFloat(val, 64); numErr == nil {
				return fail("%s is a time: give the unit, e.g. %sms or %ss", metric, val, val)
			}
			return fail("%s is a time: expected a duration such as 300ms, 1.5s or 2m, got %q", metric, val)
		}
		if d <= 0 {
			return fail("the bound must be > 0, got %s", val)
		}
		out.Value = float64(d) / float64(time.Millisecond)
	} else {
		pct := strings.HasSuffix(val, "%")
		x, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fail("%s is a ratio: expected a fraction such as 0.001 or a percentage such as 0.1%%, got %q", metric, val)
		}
		if pct {
			x /= 100
		}
		if x < 0 || x > 1 {
			return fail("%s is a ratio between 0 and 1 (0%% to 100%%), got %s", metric, val)
		}
		out.Value = x
	}
	out.Expr = metric + op + val
	return out, nil
}

// sloSuggest maps the spellings people write (api_p99, e2e.p99, throttle_rate) to metrics.
func sloSuggest(metric string, all []string) string {
	m := strings.NewReplacer("e2e", "end_to_end", "endtoend", "end_to_end", "_rate", "_ratio", "latency.", "").Replace(metric)
	for _, p := range sloPaths {
		if rest, ok := strings.CutPrefix(m, p+"_"); ok && !strings.Contains(rest, "_") {
			m = p + "." + rest
		}
	}
	if contains(all, m) {
		return m
	}
	return suggest(metric, all)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decodeSLOs reads "slos: [api.p99<=300ms, ...]".
func decodeSLOs(d *decoder, n *node, path string, v reflect.Value) {
	if n.kind != seqNode {
		d.fail(n, path, "expected a list of objectives, e.g. [\"api.p99<=300ms\", \"throttle_ratio<=0.001\"], got %s", describe(n))
		return
	}
	var out []SLO
	for i, item := range n.items {
		p := index(path, i)
		d.pos[p] = Pos{File: item.src.name, Line: item.line}
		s, ok := item.scalar()
		if !ok {
			d.fail(item, p, "expected an objective such as \"api.p99<=300ms\", got %s", describe(item))
			continue
		}
		slo, err := ParseSLO(s)
		if err != nil {
			d.fail(item, p, "%v", err)
			continue
		}
		for _, prev := range out {
			if prev.Expr == slo.Expr {
				d.fail(item, p, "%s is listed twice", slo.Expr)
			}
		}
		out = append(out, slo)
	}
	v.Set(reflect.ValueOf(out))
}
