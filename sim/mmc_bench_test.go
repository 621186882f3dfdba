package sim

import (
	"testing"
	"time"

	"github.com/headroom/headroom/scenarios"
)

// BenchmarkMMc10 runs the M/M/10 model (λ = 8, μ = 1) with every statistic on; one op is
// one customer (arrival, service, departure). Reported: customers/s and allocations per op
// (0 in steady state: requests, events and queue slots all reuse their storage), and
// customers per CPU-second, which stays meaningful when other work shares the machine.
func BenchmarkMMc10(b *testing.B) {
	sc := mmcScenario(10, 8, scenarios.QueueUnbounded, time.Duration(float64(b.N)/8*float64(time.Second))+time.Second)
	m, err := build(sc, 1)
	if err != nil {
		b.Fatal(err)
	}
	// Warm the model to its working size before measuring.
	m.k.Run(Time(float64(m.horizon) * 0.01))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := m.wl.arrivals, cpuTime()
	m.k.Run(m.horizon)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	customers := float64(m.wl.arrivals - start)
	b.ReportMetric(customers/b.Elapsed().Seconds(), "customers/s")
	if cpu > 0 {
		b.ReportMetric(customers/cpu.Seconds(), "customers/cpu-s")
	}
	b.ReportMetric(float64(m.k.Events())/customers, "events/customer")
}
