package snssqs

import (
	"context"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
)

// Each benchmark runs the memory bus beside the SNS+SQS one as the reference measured in
// the same run: the ratio is what the round trips to SNS and SQS (here fauxqs on loopback)
// cost. Queues stay small: every iteration takes out what it put in.

var benchAttrs = system.Attributes{{Name: system.StateAttribute, Value: "pending"}}

func benchTopology(topic string, fifo bool) system.Topology {
	return system.Topology{Topic: topic, FIFO: fifo,
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: time.Minute}},
		Subscriptions: []system.Subscription{{Queue: "q", Filter: system.Equals(system.StateAttribute, "pending")}}}
}

func benchBuses(b *testing.B, fifo bool, run func(b *testing.B, bus system.Bus)) {
	b.Run("memory", func(b *testing.B) {
		bus := memory.NewBus()
		b.Cleanup(func() { bus.Close() })
		if err := bus.Declare(context.Background(), benchTopology("bench", fifo)); err != nil {
			b.Fatal(err)
		}
		run(b, bus)
	})
	b.Run("sns+sqs", func(b *testing.B) {
		bus := newBus(b)
		if err := bus.Declare(context.Background(), benchTopology(uniqueTopic(b), fifo)); err != nil {
			b.Fatal(err)
		}
		run(b, bus)
	})
}

// BenchmarkPublishReceiveAck is one message through the whole path: SNS Publish (filter
// routing), SQS ReceiveMessage, DeleteMessageBatch.
func BenchmarkPublishReceiveAck(b *testing.B) {
	benchBuses(b, false, func(b *testing.B, bus system.Bus) {
		ctx := context.Background()
		body := []byte(`{"id":"x","version":1,"accepted_ns":1}`)
		buf := make([]system.Delivery, 0, 1)
		b.ReportAllocs()
		for b.Loop() {
			if err := bus.Publish(ctx, system.Message{Body: body, Attributes: benchAttrs}); err != nil {
				b.Fatal(err)
			}
			ds, err := bus.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, buf[:0])
			if err != nil || len(ds) != 1 {
				b.Fatal(ds, err)
			}
			if err := bus.Ack(ctx, "q", ds[0].Receipt); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkBatch10 publishes ten, receives them in batches of up to ten and acknowledges
// each batch in one call; the figures are per message.
func BenchmarkBatch10(b *testing.B) {
	benchBuses(b, false, func(b *testing.B, bus system.Bus) {
		ctx := context.Background()
		body := []byte(`{"id":"x","version":1,"accepted_ns":1}`)
		buf := make([]system.Delivery, 0, 10)
		receipts := make([]string, 0, 10)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			for range 10 {
				if err := bus.Publish(ctx, system.Message{Body: body, Attributes: benchAttrs}); err != nil {
					b.Fatal(err)
				}
			}
			for got := 0; got < 10; {
				ds, err := bus.Receive(ctx, "q", system.ReceiveOptions{Max: 10}, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				receipts = receipts[:0]
				for _, d := range ds {
					receipts = append(receipts, d.Receipt)
				}
				if err := bus.Ack(ctx, "q", receipts...); err != nil {
					b.Fatal(err)
				}
				got += len(ds)
			}
			n += 10
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkPublishParallel publishes from several goroutines, as the API's handlers do;
// a consumer drains the queue meanwhile so it stays small.
func BenchmarkPublishParallel(b *testing.B) {
	benchBuses(b, false, func(b *testing.B, bus system.Bus) {
		ctx, cancel := context.WithCancel(context.Background())
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			buf := make([]system.Delivery, 0, 10)
			receipts := make([]string, 0, 10)
			for ctx.Err() == nil {
				ds, _ := bus.Receive(ctx, "q", system.ReceiveOptions{Max: 10}, buf[:0])
				receipts = receipts[:0]
				for _, d := range ds {
					receipts = append(receipts, d.Receipt)
				}
				if len(receipts) > 0 {
					_ = bus.Ack(context.Background(), "q", receipts...)
				}
			}
		}()
		body := []byte(`{"id":"x","version":1,"accepted_ns":1}`)
		b.ReportAllocs()
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := bus.Publish(context.Background(), system.Message{Body: body, Attributes: benchAttrs}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publishes/s")
		cancel()
		<-drained
	})
}
