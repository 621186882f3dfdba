package loadtest

import (
	"strings"
	"testing"
	"time"
)

// TestRecorderMeasuredResult feeds a recorder what k6 and /metrics would and checks the
// measured result: the client's counts and latencies, the system's counters over the
// period only, the components named as the simulator names them.
func TestRecorderMeasuredResult(t *testing.T) {
	s := load(t, "validate-throttle", "horizon=10s")
	start := time.Unix(1000, 0)
	r := NewRecorder(s, start, 10*time.Second)
	snap := func(at time.Duration, accepted, applied, high, visible, inflight float64) Snapshot {
		e2e := Histogram{Bounds: []float64{0.01, 0.1, 1}, Counts: []float64{0, applied / 2, applied}, Count: applied, Sum: applied * 0.05}
		return Snapshot{
			At: start.Add(at), Accepted: accepted, AccountHigh: high,
			States: map[string]StateMetrics{
				"pending":  {Limit: 8, High: high, InFlight: 2, Received: applied, Applied: applied, Processed: applied},
				"approved": {Limit: 4, High: 3},
			},
			Queues:          map[string]QueueMetrics{"pending": {Visible: visible, InFlight: inflight}},
			EndToEnd:        map[string]Histogram{"pending": e2e},
			HasDeadLettered: true,
		}
	}
	r.Snapshot(snap(0, 100, 90, 0, 0, 0)) // what an earlier run left
	r.Snapshot(snap(5*time.Second, 400, 350, 8, 30, 6))
	r.Snapshot(snap(10*time.Second, 700, 680, 8, 0, 2))
	r.Snapshot(snap(11*time.Second, 705, 700, 8, 0, 0)) // after the horizon: not counted
	for i := range 900 {
		status := 201
		if i%3 == 2 {
			status = 429
		}
		sent := start.Add(time.Duration(i) * 10 * time.Millisecond)
		r.Response(OpCreate, status, sent, time.Duration(200+i)*time.Microsecond)
	}
	r.Dropped(3)
	r.Iterations(897)
	r.Finish(10 * time.Second)
	res := r.Result()

	w := res.Workload
	if w.Offered != 900 || w.Accepted != 600 || w.Rejected != 300 || w.Completed != 590 || w.OfferedRPS != 90 || w.PeakRPS != 100 {
		t.Errorf("workload %+v", w)
	}
	if res.Mode != "measured" || res.HorizonS != 10 || res.Latency.API.Count != 600 {
		t.Errorf("mode %q horizon %g api count %d", res.Mode, res.HorizonS, res.Latency.API.Count)
	}
	if e := res.Latency.EndToEnd; e.Count != 590 || e.Mean != 50 {
		t.Errorf("end to end %+v, want 590 observations of mean 50 ms (the period's only)", e)
	}
	api := res.ComponentByName("api")
	if api == nil || api.Throttled != 300 || api.Completed != 600 {
		t.Fatalf("gateway %+v", api)
	}
	p := res.ComponentByName("p_pending")
	if p == nil || p.PeakConcurrency != 8 || p.Capacity != 8 || p.Completed != 590 {
		t.Errorf("processor %+v", p)
	}
	// 30 visible and 6 received of which 2 in processing: 34 waiting at the peak poll.
	if q := res.ComponentByName("q_pending"); q == nil || q.MaxDepth != 34 {
		t.Errorf("queue %+v, want a max depth of 34", q)
	}
	if res.ComponentByName("requests") != nil {
		t.Error("the table has no measured counterpart and should be left out")
	}
	var co string
	for _, c := range res.Checks {
		if c.Name == "coordinated omission" {
			co = c.Detail
			if c.Passed {
				t.Error("3 dropped iterations, yet the coordinated-omission check passed")
			}
		}
	}
	if !strings.Contains(co, "3 dropped_iterations of 900") {
		t.Errorf("coordinated omission check: %q", co)
	}
}
