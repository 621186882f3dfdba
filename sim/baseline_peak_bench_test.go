package sim

import (
	"testing"

	"github.com/headroom/headroom/scenarios"
)

// BenchmarkBaselinePeak runs the bundled baseline at full scale for the busiest hour
// of its day (the diurnal peak moved to 0:30 of a one-hour horizon): the account limit binds,
// the queues back up and the event list holds its largest population, so it is the part of
// the full run that costs the most per request, in about a tenth of its time. Profile it
// with
//
//	go test ./sim/ -run '^$' -bench BaselinePeak -benchtime 1x -cpuprofile /tmp/cpu.out
//
// Reported beside ns/op: events and requests per second of wall time and per CPU-second
// (the process's user + system time, which depends least on other work on the machine),
// events per request, and allocations per run.
func BenchmarkBaselinePeak(b *testing.B) {
	sc, err := scenarios.Load("baseline", scenarios.WithSets([]string{
		"horizon=1h", "workload.profile.peak_hour=0.5",
		// The full run's table has had the morning to scale up; this one starts at the peak.
		"components.requests.on_demand_initial_wru=40000",
	}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var events, requests int64
	cpu0 := cpuTime()
	for b.Loop() {
		m, err := build(sc, sc.Seed)
		if err != nil {
			b.Fatal(err)
		}
		m.k.Run(m.horizon)
		events += m.k.Events()
		requests += m.wl.arrivals
	}
	cpu := (cpuTime() - cpu0).Seconds()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(requests)/secs, "requests/s")
	if cpu > 0 {
		b.ReportMetric(float64(requests)/cpu, "requests/cpu-s")
	}
	b.ReportMetric(float64(events)/float64(requests), "events/request")
}
