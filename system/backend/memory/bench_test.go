package memory_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
)

func benchBus(b *testing.B, fifo bool) *memory.Bus {
	bus := memory.NewBus()
	b.Cleanup(func() { _ = bus.Close() })
	tp := system.Topology{Topic: "bench", FIFO: fifo,
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: time.Minute}},
		Subscriptions: []system.Subscription{{Queue: "q", Filter: system.Equals(system.StateAttribute, "pending")}}}
	if err := bus.Declare(context.Background(), tp); err != nil {
		b.Fatal(err)
	}
	return bus
}

var benchAttrs = system.Attributes{{Name: system.StateAttribute, Value: "pending"}}

// BenchmarkChannelHandoff is the reference for the bus benchmarks: the cheapest
// in-process hand-off of a message, a buffered channel send and receive.
func BenchmarkChannelHandoff(b *testing.B) {
	b.ReportAllocs()
	ch := make(chan system.Message, 1)
	body := []byte(`{"id":"x","version":1,"accepted_ns":1}`)
	for b.Loop() {
		ch <- system.Message{Body: body, Attributes: benchAttrs}
		<-ch
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBusPublishReceiveAck is one message through the whole path: publish (filter
// routing), receive (visibility deadline, receipt), acknowledge.
func BenchmarkBusPublishReceiveAck(b *testing.B) {
	bus := benchBus(b, false)
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
}

// BenchmarkBusBatch10 publishes ten, receives them in one batch and acknowledges them in
// one call; the figures are per message.
func BenchmarkBusBatch10(b *testing.B) {
	bus := benchBus(b, false)
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
		ds, err := bus.Receive(ctx, "q", system.ReceiveOptions{Max: 10}, buf[:0])
		if err != nil || len(ds) != 10 {
			b.Fatal(len(ds), err)
		}
		receipts = receipts[:0]
		for _, d := range ds {
			receipts = append(receipts, d.Receipt)
		}
		if err := bus.Ack(ctx, "q", receipts...); err != nil {
			b.Fatal(err)
		}
		n += 10
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBusFIFO is the single-message path in FIFO mode with a group per message and
// a deduplication id (the pipeline's FIFO publish).
func BenchmarkBusFIFO(b *testing.B) {
	bus := benchBus(b, true)
	ctx := context.Background()
	body := []byte(`{"id":"x","version":1,"accepted_ns":1}`)
	buf := make([]system.Delivery, 0, 1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := strconv.Itoa(i)
		i++
		if err := bus.Publish(ctx, system.Message{Body: body, Attributes: benchAttrs, GroupID: id, DedupID: id}); err != nil {
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
}

// BenchmarkBusParallel runs producers and consumers on every P: each iteration publishes
// one message and receives and acknowledges one (not necessarily the same).
func BenchmarkBusParallel(b *testing.B) {
	bus := benchBus(b, false)
	body := []byte(`{"id":"x","version":1,"accepted_ns":1}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		buf := make([]system.Delivery, 0, 1)
		for pb.Next() {
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
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkStoreCreateGet is a create and a read of a fresh id, from every P.
func BenchmarkStoreCreateGet(b *testing.B) {
	s := memory.NewStore()
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			id := "r" + strconv.FormatInt(seq.Add(1), 36)
			if _, err := s.Create(ctx, system.Request{ID: id, State: "pending"}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Get(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStoreCreateDelete is a request's whole life in the store, created and later
// deleted, with 10,000 alive at any time: what a long run keeps, per request that came
// and went, is the heap still in use after it (retained-B/op), which should be near zero.
func BenchmarkStoreCreateDelete(b *testing.B) {
	const alive = 10000
	s := memory.NewStore()
	ctx := context.Background()
	id := func(i int) string { return "r" + strconv.Itoa(i) }
	for i := range alive {
		if _, err := s.Create(ctx, system.Request{ID: id(i), State: "pending"}); err != nil {
			b.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Create(ctx, system.Request{ID: id(alive + i), State: "pending"}); err != nil {
			b.Fatal(err)
		}
		if err := s.Delete(ctx, id(i), -1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if s.Len() != alive {
		b.Fatalf("%d requests stored, want %d", s.Len(), alive)
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "retained-B/op")
}

// BenchmarkPipelineAcceptedAndProcessed drives b.N creates through a running pipeline with
// no work step and waits until all are processed: the core's ceiling, before HTTP.
func BenchmarkPipelineAcceptedAndProcessed(b *testing.B) {
	s, bus := memory.NewStore(), memory.NewBus()
	defer bus.Close()
	p, err := system.NewPipeline(s, bus, system.PipelineConfig{AccountConcurrency: 64})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	applied := func() (n int64) {
		for _, st := range p.Stats().States {
			n += st.Applied
		}
		return n
	}
	states := system.DefaultStates
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := seq.Add(1)
			if _, err := p.Create(ctx, system.Request{State: states[i%4]}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for applied() < int64(b.N) {
		time.Sleep(100 * time.Microsecond) // the benchmark's own wait, outside the system
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "processed/s")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}
