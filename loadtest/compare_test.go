package loadtest

import (
	"strings"
	"testing"
	"time"

	"github.com/headroom/headroom/result"
)

// fakeResult is a result of validate-below's shape with the compared figures set.
func fakeResult(completedRPS, e2eP50 float64, peak int64, depth int64) *result.Result {
	return &result.Result{
		Workload: result.Workload{Offered: 4500, Accepted: 4500, OfferedRPS: 150, CompletedRPS: completedRPS},
		Latency: result.Latencies{
			API:      result.Stats{P50: 0.3, P95: 1, P99: 2},
			EndToEnd: result.Stats{P50: e2eP50, P95: 100, P99: 160},
		},
		Components: []result.Component{
			{Name: "api", Kind: "gateway"},
			{Name: "q_pending", Kind: "queue", MaxDepth: depth},
			{Name: "q_approved", Kind: "queue", MaxDepth: depth},
			{Name: "p_pending", Kind: "function", PeakConcurrency: peak, Sojourn: result.Stats{Mean: 47.8}},
			{Name: "p_approved", Kind: "function", PeakConcurrency: 5, Sojourn: result.Stats{Mean: 47.8}},
			{Name: "dlq", Kind: "queue"},
		},
	}
}

func TestCompareInsideAndOutside(t *testing.T) {
	s := load(t, "validate-below")
	pred := []*result.Result{fakeResult(149.8, 40, 11, 2), fakeResult(149.8, 40, 11, 2)}
	ok := Compare(s, pred, fakeResult(148, 42, 12, 0), DefaultTolerance())
	if !ok.OK() {
		t.Fatalf("a measurement within tolerance failed: %+v", ok.Failed())
	}
	bad := Compare(s, pred, fakeResult(120, 60, 14, 40), DefaultTolerance())
	var names []string
	for _, r := range bad.Failed() {
		names = append(names, r.Figure)
	}
	want := "throughput (completed),end-to-end p50,peak concurrency p_pending,max queue depth q_pending,max queue depth q_approved"
	if strings.Join(names, ",") != want {
		t.Errorf("failed figures %v, want %s", names, want)
	}
	var b strings.Builder
	if err := bad.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "FAIL: 5 of ") || !strings.Contains(b.String(), "end-to-end p50 (+50.0%)") {
		t.Errorf("table does not name the failures:\n%s", b.String())
	}
}

// TestCompareAllowsRunSpread: a figure whose replications spread widely is not held to a
// tolerance tighter than that spread.
func TestCompareAllowsRunSpread(t *testing.T) {
	s := load(t, "validate-below")
	var pred []*result.Result
	for _, p50 := range []float64{100, 140, 120, 90, 150, 110} {
		pred = append(pred, fakeResult(149.8, p50, 11, 2))
	}
	c := Compare(s, pred, fakeResult(149.8, 160, 11, 2), DefaultTolerance())
	for _, r := range c.Rows {
		if r.Figure == "end-to-end p50" {
			if !r.Inside || r.Spread < 40 || !strings.Contains(r.Bound, "run spread") {
				t.Errorf("p50 160 ms against replications 90–150 ms: %+v", r)
			}
		}
	}
}

func TestParseTolerance(t *testing.T) {
	tol, err := ParseTolerance(DefaultTolerance(), "p99=25%, ratio=1pp, api_floor=10ms, depth_floor=3, throughput=0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tol.P99 != 0.25 || tol.RatioPP != 0.01 || tol.APIFloor != 10*time.Millisecond || tol.DepthFloor != 3 || tol.Throughput != 0.1 || tol.P50 != 0.10 {
		t.Errorf("tolerance %+v", tol)
	}
	for _, bad := range []string{"p99", "p99=x", "p42=1%", "latency_floor=fast", "depth_floor=-1"} {
		if _, err := ParseTolerance(DefaultTolerance(), bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
