package bustest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// PublishReceiveAck drives b.N messages through one queue of bus: publishers waiting for
// each confirm, consumers receiving batches and acknowledging them; it reports msgs/s, the
// rate at which messages are published, received and acknowledged.
func PublishReceiveAck(b *testing.B, bus system.Bus, fifo bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topo := system.Topology{Topic: UniqueTopic(b), FIFO: fifo,
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: 30 * time.Second}},
		Subscriptions: []system.Subscription{{Queue: "q", Filter: system.Equals("state", "pending")}}}
	if err := bus.Declare(ctx, topo); err != nil {
		b.Fatal(err)
	}
	const publishers, consumers, batch = 8, 4, 10
	body := []byte(`{"id":"r-000001","state":"pending","version":1}`)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := 0; p < publishers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				m := system.Message{Body: body, Attributes: system.Attributes{{Name: "state", Value: "pending"}}}
				if fifo {
					m.GroupID = fmt.Sprintf("g%d", i%64)
					m.DedupID = fmt.Sprint(i)
				}
				if err := bus.Publish(ctx, m); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	consume(ctx, b, bus, consumers, batch)
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// ReceiveAck times the consuming side alone: b.N messages are published first (untimed),
// then consumers receive batches of 10 and acknowledge them.
func ReceiveAck(b *testing.B, bus system.Bus) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topo := system.Topology{Topic: UniqueTopic(b),
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: 30 * time.Second}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := bus.Declare(ctx, topo); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":"r-000001","state":"pending","version":1}`)
	var wg sync.WaitGroup
	var next atomic.Int64
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := bus.Publish(ctx, system.Message{Body: body}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	const consumers, batch = 4, 10
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	consume(ctx, b, bus, consumers, batch)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// consume runs consumers goroutines that receive batches of up to batch messages from
// queue "q" and acknowledge them, and returns once b.N have been acknowledged (or one
// fails).
func consume(ctx context.Context, b *testing.B, bus system.Bus, consumers, batch int) {
	var acked atomic.Int64
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []system.Delivery
			receipts := make([]string, 0, batch)
			for acked.Load() < int64(b.N) {
				var err error
				buf, err = bus.Receive(cctx, "q", system.ReceiveOptions{Max: batch}, buf[:0])
				if err != nil {
					if cctx.Err() == nil {
						b.Error(err)
					}
					return
				}
				receipts = receipts[:0]
				for _, d := range buf {
					receipts = append(receipts, d.Receipt)
				}
				if err := bus.Ack(ctx, "q", receipts...); err != nil {
					b.Error(err)
					return
				}
				if acked.Add(int64(len(buf))) >= int64(b.N) {
					stop()
				}
			}
		}()
	}
	wg.Wait()
}
