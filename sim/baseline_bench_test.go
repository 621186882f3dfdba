package sim

import (
	"testing"

	"github.com/headroom/headroom/scenarios"
)

// BenchmarkBaseline runs the bundled baseline at full scale (8,000,000 users, 24 h, about
// 160 million requests) once per op. It is a benchmark so that `go test` does not pay for it;
// run it with
//
//	go test ./sim/ -run '^$' -bench Baseline -benchtime 1x
//
// Reported: wall time per run (ns/op), requests and events per second of wall time, and
// allocations per run (a few thousand at most: the slabs grow to their working size, then
// nothing per request, message or batch allocates).
func BenchmarkBaseline(b *testing.B) {
	sc, err := scenarios.Load("baseline")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var events, requests int64
	for b.Loop() {
		m, err := build(sc, sc.Seed)
		if err != nil {
			b.Fatal(err)
		}
		m.k.Run(m.horizon)
		events += m.k.Events()
		requests += m.wl.arrivals
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(requests)/secs, "requests/s")
	b.ReportMetric(float64(events)/float64(requests), "events/request")
}
