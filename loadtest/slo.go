package loadtest

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// SLO is one service-level objective: a figure of the run, a comparison and a bound, such
// as api_p99<=250ms or throttle_rate<=1%. Those the client sees become k6 thresholds (so
// k6's exit code gates CI); all of them are checked on the measured result.
type SLO struct {
	Figure string
	Op     string // <, <=, >, >=
	Value  float64
	// Source says where the SLO comes from (a flag, or the scenario).
	Source string
}

// The figures an SLO may bound: latencies in milliseconds, rates as fractions.
var sloFigures = []string{
	"api_p50", "api_p90", "api_p95", "api_p99", "api_p999", "api_max", "api_mean",
	"e2e_p50", "e2e_p90", "e2e_p95", "e2e_p99", "e2e_p999", "e2e_max", "e2e_mean",
	"error_rate", "throttle_rate", "completed_rps",
}

var sloRE = regexp.MustCompile(`^\s*([a-z0-9_]+)\s*(<=|>=|<|>)\s*(\S+)\s*$`)

// ParseSLO reads "figure op value": a latency takes a duration (250ms, 2s), a rate a
// fraction or a percentage (0.01, 1%), completed_rps a number.
func ParseSLO(s string) (SLO, error) {
	m := sloRE.FindStringSubmatch(s)
	if m == nil {
		return SLO{}, fmt.Errorf("SLO %q: want FIGURE OP VALUE, e.g. api_p99<=250ms or throttle_rate<1%%", s)
	}
	slo := SLO{Figure: m[1], Op: m[2], Source: "--slo " + strings.TrimSpace(s)}
	known := false
	for _, f := range sloFigures {
		known = known || f == slo.Figure
	}
	if !known {
		return SLO{}, fmt.Errorf("SLO %q: unknown figure %q; one of %s", s, slo.Figure, strings.Join(sloFigures, ", "))
	}
	v := m[3]
	switch {
	case strings.HasPrefix(slo.Figure, "api_"), strings.HasPrefix(slo.Figure, "e2e_"):
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return SLO{}, fmt.Errorf("SLO %q: %s is a latency: give a duration such as 250ms", s, slo.Figure)
		}
		slo.Value = float64(d) / float64(time.Millisecond)
	case strings.HasSuffix(slo.Figure, "_rate"):
		pct := strings.HasSuffix(v, "%")
		x, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if pct {
			x /= 100
		}
		if err != nil || x < 0 || x > 1 {
			return SLO{}, fmt.Errorf("SLO %q: %s is a fraction: give 0.01 or 1%%", s, slo.Figure)
		}
		slo.Value = x
	default:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || math.IsInf(x, 0) {
			return SLO{}, fmt.Errorf("SLO %q: %s needs a number >= 0", s, slo.Figure)
		}
		slo.Value = x
	}
	return slo, nil
}

func (s SLO) String() string {
	switch {
	case strings.HasPrefix(s.Figure, "api_"), strings.HasPrefix(s.Figure, "e2e_"):
		return fmt.Sprintf("%s %s %s", s.Figure, s.Op, time.Duration(s.Value*float64(time.Millisecond)))
	case strings.HasSuffix(s.Figure, "_rate"):
		return fmt.Sprintf("%s %s %g%%", s.Figure, s.Op, 100*s.Value)
	}
	return fmt.Sprintf("%s %s %g", s.Figure, s.Op, s.Value)
}

// ScenarioSLOs are the objectives a scenario implies: a client of its gateway must have
// its answer before the integration timeout (API Gateway answers 504 after it), so the
// API's p99 must stay below it.
func ScenarioSLOs(s *scenarios.Scenario) []SLO {
	var out []SLO
	if e := s.Component(s.Workload.Entry); e != nil && e.Kind == scenarios.KindGateway && e.Gateway.Timeout > 0 {
		out = append(out, SLO{Figure: "api_p99", Op: "<", Value: float64(e.Gateway.Timeout) / float64(time.Millisecond),
			Source: fmt.Sprintf("components.%s.timeout (%v)", e.Name, e.Gateway.Timeout)})
	}
	return out
}

// The k6 metrics the generated script feeds: k6's own latency of expected (2xx) responses,
// and two rates of its own.
const (
	k6Latency   = "http_req_duration{expected_response:true}"
	k6Throttled = "headroom_throttled"
	k6Errors    = "headroom_errors"
)

// Thresholds turns the client-side SLOs into k6 thresholds, {metric: [expression, ...]};
// end-to-end and throughput SLOs are not k6 figures and are checked on the result only.
func Thresholds(slos []SLO) map[string][]string {
	out := map[string][]string{}
	for _, s := range slos {
		var metric, agg string
		switch s.Figure {
		case "api_p50":
			metric, agg = k6Latency, "med"
		case "api_p90", "api_p95", "api_p99", "api_p999":
			q := strings.TrimPrefix(s.Figure, "api_p")
			if q == "999" {
				q = "99.9"
			}
			metric, agg = k6Latency, "p("+q+")"
		case "api_max":
			metric, agg = k6Latency, "max"
		case "api_mean":
			metric, agg = k6Latency, "avg"
		case "throttle_rate":
			metric, agg = k6Throttled, "rate"
		case "error_rate":
			metric, agg = k6Errors, "rate"
		default:
			continue
		}
		out[metric] = append(out[metric], fmt.Sprintf("%s%s%s", agg, s.Op, strconv.FormatFloat(s.Value, 'g', -1, 64)))
	}
	return out
}

// Check evaluates the SLO on a result.
func (s SLO) Check(r *result.Result) (ok bool, got float64) {
	got = s.figure(r)
	switch s.Op {
	case "<":
		ok = got < s.Value
	case "<=":
		ok = got <= s.Value
	case ">":
		ok = got > s.Value
	case ">=":
		ok = got >= s.Value
	}
	return ok, got
}

func (s SLO) figure(r *result.Result) float64 {
	lat := func(st result.Stats, f string) float64 {
		switch f {
		case "p50":
			return st.P50
		case "p90":
			return st.P90
		case "p95":
			return st.P95
		case "p99":
			return st.P99
		case "p999":
			return st.P999
		case "max":
			return st.Max
		}
		return st.Mean
	}
	w := r.Workload
	ratio := func(n int64) float64 {
		if w.Offered == 0 {
			return 0
		}
		return float64(n) / float64(w.Offered)
	}
	switch {
	case strings.HasPrefix(s.Figure, "api_"):
		return lat(r.Latency.API, strings.TrimPrefix(s.Figure, "api_"))
	case strings.HasPrefix(s.Figure, "e2e_"):
		return lat(r.Latency.EndToEnd, strings.TrimPrefix(s.Figure, "e2e_"))
	case s.Figure == "throttle_rate":
		return ratio(throttledOf(r))
	case s.Figure == "error_rate":
		return ratio(w.Rejected - throttledOf(r))
	case s.Figure == "completed_rps":
		return w.CompletedRPS
	}
	return math.NaN()
}

// throttledOf counts the requests refused for rate (the entry gateway's throttled).
func throttledOf(r *result.Result) int64 {
	var n int64
	for _, c := range r.Components {
		if c.Kind == string(scenarios.KindGateway) {
			n += c.Throttled
		}
	}
	return n
}
