package loadtest

import (
	"reflect"
	"testing"

	"github.com/headroom/headroom/scenarios"
)

func TestThresholds(t *testing.T) {
	var slos []scenarios.SLO
	for _, s := range []string{"api.p50<5ms", "api.p999<=50ms", "api.mean<2ms", "throttle_ratio<=2%", "error_ratio<0.01", "end_to_end.p99<2s", "completed_ratio>=0.99"} {
		slo, err := scenarios.ParseSLO(s)
		if err != nil {
			t.Fatal(err)
		}
		slos = append(slos, slo)
	}
	got := Thresholds(slos)
	want := map[string][]string{
		k6Latency:   {"med<5", "p(99.9)<=50", "avg<2"},
		k6Throttled: {"rate<=0.02"},
		k6Failed:    {"rate<0.01"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("thresholds %v, want %v (end-to-end and completion are not k6 figures)", got, want)
	}
}

func TestScenarioSLOs(t *testing.T) {
	s := load(t, "validate-below", "slos=[end_to_end.p99<=1s]")
	slos := ScenarioSLOs(s)
	if len(slos) != 2 || slos[0].Metric != "end_to_end.p99" || slos[1].Metric != "api.p99" || slos[1].Value != 30000 || slos[1].Op != "<" {
		t.Fatalf("SLOs %+v, want the scenario's, then api p99 < 30s (an HTTP API's integration timeout)", slos)
	}
	if th := Thresholds(slos); !reflect.DeepEqual(th, map[string][]string{k6Latency: {"p(99)<30000"}}) {
		t.Errorf("thresholds %v", th)
	}
}
