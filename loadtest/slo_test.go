package loadtest

import (
	"reflect"
	"testing"

	"github.com/headroom/headroom/result"
)

func TestParseSLO(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SLO
	}{
		{"api_p99<=250ms", SLO{Figure: "api_p99", Op: "<=", Value: 250}},
		{" e2e_p50 < 2s ", SLO{Figure: "e2e_p50", Op: "<", Value: 2000}},
		{"throttle_rate<1%", SLO{Figure: "throttle_rate", Op: "<", Value: 0.01}},
		{"error_rate<=0.001", SLO{Figure: "error_rate", Op: "<=", Value: 0.001}},
		{"completed_rps>=140", SLO{Figure: "completed_rps", Op: ">=", Value: 140}},
	} {
		got, err := ParseSLO(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		got.Source = ""
		if got != tc.want {
			t.Errorf("%q = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"api_p99", "api_p42<1s", "api_p99<=250", "throttle_rate<2", "latency<1s", "error_rate<=-1%"} {
		if _, err := ParseSLO(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestThresholdsAndChecks(t *testing.T) {
	var slos []SLO
	for _, s := range []string{"api_p50<5ms", "api_p999<=50ms", "throttle_rate<=2%", "error_rate<1%", "e2e_p99<2s"} {
		slo, err := ParseSLO(s)
		if err != nil {
			t.Fatal(err)
		}
		slos = append(slos, slo)
	}
	got := Thresholds(slos)
	want := map[string][]string{
		k6Latency:   {"med<5", "p(99.9)<=50"},
		k6Throttled: {"rate<=0.02"},
		k6Errors:    {"rate<0.01"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("thresholds %v, want %v (end-to-end SLOs are not k6 figures)", got, want)
	}
	r := &result.Result{
		Workload:   result.Workload{Offered: 1000, Rejected: 50},
		Latency:    result.Latencies{API: result.Stats{P50: 0.3}, EndToEnd: result.Stats{P99: 2500}},
		Components: []result.Component{{Name: "api", Kind: "gateway", Throttled: 40}},
	}
	for i, wantOK := range []bool{true, true, false, false, false} {
		ok, got := slos[i].Check(r)
		if ok != wantOK {
			t.Errorf("%s on the result (%g): %v, want %v", slos[i], got, ok, wantOK)
		}
	}
}

func TestScenarioSLOFromGatewayTimeout(t *testing.T) {
	slos := ScenarioSLOs(load(t, "baseline"))
	if len(slos) != 1 || slos[0].Figure != "api_p99" || slos[0].Value != 29000 {
		t.Fatalf("baseline's SLOs %+v, want api_p99 < 29s (the REST integration timeout)", slos)
	}
}
