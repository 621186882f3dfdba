package sim

import (
	"fmt"
	"math"
	"strings"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// EvaluateSLO computes on r the figure an SLO bounds, and whether it holds:
//
//   - api.P and end_to_end.P: the latency statistic of the path (milliseconds). The end-to-end
//     figures cover the requests that finished; when more of the accepted requests were still
//     unfinished at the end of the run than the percentile leaves out (over 1% for a p99),
//     the figure is at least the age of the oldest message still queued, and the objective
//     fails: the unfinished ones are the slowest.
//   - max_queue_age: the largest message age of any queue (messages still queued included).
//   - throttle_ratio: the largest share of one component's offered work refused by a
//     throttle (so a throttled consumer counts even when its messages are retried).
//   - error_ratio: requests rejected on the synchronous path or failed later, over offered.
//   - completed_ratio: requests that finished end to end, over offered.
func EvaluateSLO(s scenarios.SLO, r *result.Result) result.SLOResult {
	v, detail, forced := sloFigure(s, r)
	out := result.SLOResult{SLO: s.Expr, Value: round6(v), Detail: detail}
	out.Passed = !forced && s.Holds(v)
	return out
}

// EvaluateSLOs evaluates each objective on r, in order, and reports whether all hold.
func EvaluateSLOs(slos []scenarios.SLO, r *result.Result) ([]result.SLOResult, bool) {
	out := make([]result.SLOResult, len(slos))
	ok := true
	for i, s := range slos {
		out[i] = EvaluateSLO(s, r)
		ok = ok && out[i].Passed
	}
	return out, ok
}

// sloFigure returns the figure, a sentence of evidence, and true when the objective fails
// whatever the figure (no request to judge, or too many unfinished).
func sloFigure(s scenarios.SLO, r *result.Result) (float64, string, bool) {
	w := r.Workload
	ratio := func(n int64) float64 {
		if w.Offered == 0 {
			return 0
		}
		return float64(n) / float64(w.Offered)
	}
	path, stat, isPath := strings.Cut(s.Metric, ".")
	if isPath {
		st := r.Latency.API
		if path == "end_to_end" {
			st = r.Latency.EndToEnd
		}
		v := statOf(st, stat)
		if st.Count == 0 {
			return 0, fmt.Sprintf("no request finished the %s path", strings.ReplaceAll(path, "_", "-")), true
		}
		detail := fmt.Sprintf("%s = %s over %d requests", s.Metric, fmtMS(v), st.Count)
		if path == "end_to_end" {
			unfinished := w.Accepted - w.Completed - w.Failed
			if share := float64(unfinished) / float64(max(1, w.Accepted)); unfinished > 0 && share > 1-quantileOf(stat) {
				age := maxQueueAge(r)
				return math.Max(v, age), fmt.Sprintf("%d accepted requests (%.3g%%) were unfinished at the end of the run, more than %s leaves out; the oldest queued message was %s old",
					unfinished, 100*share, stat, fmtMS(age)), true
			}
		}
		return v, detail, false
	}
	switch s.Metric {
	case "max_queue_age":
		age := maxQueueAge(r)
		return age, fmt.Sprintf("oldest message %s", fmtMS(age)), false
	case "throttle_ratio":
		worst, name := 0.0, ""
		var th, off int64
		for _, c := range r.Components {
			if c.Offered > 0 && c.Throttled > 0 {
				if x := float64(c.Throttled) / float64(c.Offered); x > worst {
					worst, name, th, off = x, c.Name, c.Throttled, c.Offered
				}
			}
		}
		if name == "" {
			return 0, "no component throttled", false
		}
		return worst, fmt.Sprintf("%s throttled %d of %d (%.3g%%)", name, th, off, 100*worst), false
	case "error_ratio":
		return ratio(w.Rejected + w.Failed), fmt.Sprintf("%d rejected + %d failed of %d offered", w.Rejected, w.Failed, w.Offered), false
	case "completed_ratio":
		return ratio(w.Completed), fmt.Sprintf("%d completed of %d offered", w.Completed, w.Offered), false
	}
	return 0, "unknown metric " + s.Metric, true
}

func statOf(st result.Stats, stat string) float64 {
	switch stat {
	case "mean":
		return st.Mean
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
	}
	return st.Max
}

// quantileOf is the quantile a statistic stands for (the mean is judged like the median).
func quantileOf(stat string) float64 {
	switch stat {
	case "p90":
		return 0.90
	case "p95":
		return 0.95
	case "p99":
		return 0.99
	case "p999":
		return 0.999
	case "max":
		return 1
	}
	return 0.5
}

func maxQueueAge(r *result.Result) float64 {
	age := 0.0
	for _, c := range r.Components {
		age = math.Max(age, c.MaxAgeMS)
	}
	return age
}

// fmtMS formats milliseconds for evidence sentences: 312ms, 1.5s, 2m3s.
func fmtMS(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.3gms", v)
	case v < 1000:
		return fmt.Sprintf("%.3gms", v)
	case v < 60_000:
		return fmt.Sprintf("%.3gs", v/1000)
	}
	s := int64(math.Round(v / 1000))
	if s < 3600 {
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, (s%3600)/60)
}
