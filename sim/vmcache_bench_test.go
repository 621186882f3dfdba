package sim

import (
	"testing"
	"time"

	"github.com/headroom/headroom/scenarios"
)

// benchScenario runs a bundled scenario for one simulated hour at half its daily mean rate,
// flat (926 requests/s, 3.3 million requests: below every scenario's break, DynamoDB's
// initial on-demand 4,000 writes/s included, so that what is measured is the cost of a
// request, not of throttled work piling up). Reported: allocations per op
// (per run: a few thousand at most, the slabs growing to their working size, then nothing
// per request), events and requests per second of wall time, events per request. Compare the
// kinds with BenchmarkBaselineHour, the same measure of the serverless pipeline, run beside.
func benchScenario(b *testing.B, name string) {
	sc, err := scenarios.Load(name)
	if err != nil {
		b.Fatal(err)
	}
	sc.Workload.Profile = scenarios.Profile{Kind: "flat"}
	sc.Workload.RequestsPerUserPerDay /= 2
	sc.Horizon = scenarios.Duration(benchHorizon)
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

// Run with go test ./sim/ -run '^$' -bench 'Hour$' -benchtime 1x.
func BenchmarkBaselineHour(b *testing.B)   { benchScenario(b, "baseline") }
func BenchmarkVMCacheHour(b *testing.B)    { benchScenario(b, "vm-cache") }
func BenchmarkKubernetesHour(b *testing.B) { benchScenario(b, "kubernetes") }

// benchHorizon is the simulated time of one op.
var benchHorizon = time.Hour
