package sim

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/headroom/headroom/scenarios"
)

// BenchmarkUserTableChurn and BenchmarkMapChurn run the per-user groups' pattern — live
// users (a few thousand in a steady day, hundreds of thousands behind a backlog), each
// inserted, looked up and deleted in turn at the message rate — on the open-addressing
// table and on a Go map, for the ratio between them.
func BenchmarkUserTableChurn(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 18} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var t userTable
			live, rng := churnUsers(n)
			for i, u := range live {
				t.put(u, int32(i))
			}
			found := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i & (n - 1)
				t.del(live[j])
				live[j] = uint32(rng.IntN(8_000_000))
				t.put(live[j], int32(j))
				if _, ok := t.get(live[(j*7)&(n-1)]); ok {
					found++
				}
			}
			b.ReportMetric(float64(found)/float64(b.N), "found/op")
		})
	}
}

func BenchmarkMapChurn(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 18} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			t := map[uint32]int32{}
			live, rng := churnUsers(n)
			for i, u := range live {
				t[u] = int32(i)
			}
			found := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i & (n - 1)
				delete(t, live[j])
				live[j] = uint32(rng.IntN(8_000_000))
				t[live[j]] = int32(j)
				if _, ok := t[live[(j*7)&(n-1)]]; ok {
					found++
				}
			}
			b.ReportMetric(float64(found)/float64(b.N), "found/op")
		})
	}
}

func churnUsers(n int) ([]uint32, *rand.Rand) {
	rng := rand.New(rand.NewPCG(1, 1))
	live := make([]uint32, n)
	for i := range live {
		live[i] = uint32(rng.IntN(8_000_000))
	}
	return live, rng
}

// BenchmarkFIFOQueuePerUser is a FIFO queue grouped per user with its consumer, against the
// same queue standard: the cost of FIFO's bookkeeping per message (messages/s of simulated
// traffic through the queue, per wall second).
func BenchmarkFIFOQueuePerUser(b *testing.B) {
	for _, fifo := range []bool{false, true} {
		name := "standard"
		if fifo {
			name = "fifo-user"
		}
		b.Run(name, func(b *testing.B) {
			q := queueComp("q", "proc", func(q *scenarios.Queue) {
				q.FIFO, q.BatchSize = fifo, 10
				if fifo {
					q.GroupBy = "user"
				}
			})
			reg := withFIFOQuotas(testRegion())
			reg.SQSFifoTPS = 1e6 // the bookkeeping, not the limit
			sc := deterministic(0, time.Minute, "q", reg, q, fn("proc", 20*time.Millisecond))
			sc.Workload = scenarios.Workload{Arrival: "poisson", Users: 8_000_000, RequestsPerUserPerDay: 2000 * 86400 / 8e6,
				Profile: scenarios.Profile{Kind: "flat"}, Entry: "q"}
			b.ReportAllocs()
			var msgs int64
			for b.Loop() {
				m, err := build(sc, 1)
				if err != nil {
					b.Fatal(err)
				}
				m.k.Run(m.horizon)
				msgs += m.offered
			}
			b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
