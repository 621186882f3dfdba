package loadtest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/headroom/headroom/scenarios"
)

// A load test's objectives are the scenario's SLOs (slos: in the file, --slo on the command
// line; scenarios.SLO) plus the one every gateway implies: an answer later than the
// integration timeout is a 504, so the API's p99 must stay below it. Those the client sees
// become k6 thresholds, so k6's exit status gates CI; all of them are then judged on the
// measured result by the same rules as on a prediction (sim.EvaluateSLO).

// ScenarioSLOs returns the objectives of s: its own, then the gateway timeout's.
func ScenarioSLOs(s *scenarios.Scenario) []scenarios.SLO {
	out := append([]scenarios.SLO(nil), s.SLOs...)
	if e := s.Component(s.Workload.Entry); e != nil && e.Kind == scenarios.KindGateway && e.Gateway.Timeout > 0 {
		ms := float64(e.Gateway.Timeout) / 1e6
		out = append(out, scenarios.SLO{Expr: "api.p99<" + e.Gateway.Timeout.String(), Metric: "api.p99", Op: "<", Value: ms})
	}
	return out
}

// The k6 metrics the generated script feeds: k6's own latency of expected (2xx) responses
// and its failed-request rate (every non-2xx, 429 included: the simulator's rejected), and
// the script's rate of 429s.
const (
	k6Latency   = "http_req_duration{expected_response:true}"
	k6Failed    = "http_req_failed"
	k6Throttled = "headroom_throttled"
)

// Thresholds turns the objectives the client can see into k6 thresholds, {metric:
// [expression, ...]}: api.* on k6's latency of accepted requests, throttle_ratio on the
// share of 429s, error_ratio on k6's failed requests (the part that fails later, in a
// dead-letter queue, is judged on the result only). end_to_end.*, max_queue_age and
// completed_ratio are not k6 figures.
func Thresholds(slos []scenarios.SLO) map[string][]string {
	out := map[string][]string{}
	for _, s := range slos {
		var metric, agg string
		path, stat, isPath := strings.Cut(s.Metric, ".")
		switch {
		case isPath && path == "api":
			metric = k6Latency
			switch stat {
			case "mean":
				agg = "avg"
			case "p50":
				agg = "med"
			case "p999":
				agg = "p(99.9)"
			case "max":
				agg = "max"
			default:
				agg = "p(" + strings.TrimPrefix(stat, "p") + ")"
			}
		case s.Metric == "throttle_ratio":
			metric, agg = k6Throttled, "rate"
		case s.Metric == "error_ratio":
			metric, agg = k6Failed, "rate"
		default:
			continue
		}
		out[metric] = append(out[metric], fmt.Sprintf("%s%s%s", agg, s.Op, strconv.FormatFloat(s.Value, 'g', -1, 64)))
	}
	return out
}
