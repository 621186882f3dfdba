package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/bustest"
)

// Two buses on one topology stand for two processes of a deployment.

func TestProcessesShareQueues(t *testing.T) {
	a, b := openBus(t), openBus(t)
	ctx := bustest.Ctx(t, 30*time.Second)
	topo := system.Topology{Topic: bustest.UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q", VisibilityTimeout: 5 * time.Second}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	for _, bus := range []*Bus{a, b} {
		if err := bus.Declare(ctx, topo); err != nil {
			t.Fatalf("every process declares the topology: %v", err)
		}
	}
	const n = 40
	for i := 0; i < n; i++ {
		if err := a.Publish(ctx, bustest.Msg(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for len(seen) < n {
		for _, bus := range []*Bus{a, b} {
			ds, err := bus.Receive(ctx, "q", system.ReceiveOptions{Max: 3}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				seen[string(d.Body)]++
				if err := bus.Ack(ctx, "q", d.Receipt); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for body, c := range seen {
		if c != 1 {
			t.Errorf("message %s delivered %d times though acked within its visibility timeout", body, c)
		}
	}
	// A receipt is only good on the bus that received it.
	if err := a.Publish(ctx, bustest.Msg("x")); err != nil {
		t.Fatal(err)
	}
	ds, err := a.Receive(ctx, "q", system.ReceiveOptions{}, nil)
	if err != nil || len(ds) != 1 {
		t.Fatal(ds, err)
	}
	if err := b.Ack(ctx, "q", ds[0].Receipt); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("ack on another process's bus: got %v, want ErrNotFound", err)
	}
	if err := a.Ack(ctx, "q", ds[0].Receipt); err != nil {
		t.Fatal(err)
	}
}

// TestReceiverDiesMidFlight: what a dead process held comes back after its visibility
// timeout (the consumer's ack wait), counted, and in order in FIFO mode.
func TestReceiverDiesMidFlight(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		t.Run(fmt.Sprintf("fifo=%v", fifo), func(t *testing.T) {
			a, b := openBus(t, FIFOShards(2)), openBus(t, FIFOShards(2))
			ctx := bustest.Ctx(t, 30*time.Second)
			const vis = 300 * time.Millisecond
			topo := system.Topology{Topic: bustest.UniqueTopic(t), FIFO: fifo,
				Queues: []system.QueueSpec{
					{Name: "q", VisibilityTimeout: vis, MaxReceives: 5, DeadLetter: "dlq"}, {Name: "dlq"}},
				Subscriptions: []system.Subscription{{Queue: "q"}}}
			for _, bus := range []*Bus{a, b} {
				if err := bus.Declare(ctx, topo); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 3; i++ {
				m := bustest.Msg(fmt.Sprint(i))
				m.GroupID = "g"
				if err := a.Publish(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			ds, err := a.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
			if err != nil || len(ds) != 1 || string(ds[0].Body) != "0" {
				t.Fatalf("first receive: %v %v", ds, err)
			}
			if err := a.Close(); err != nil { // the process dies holding "0"
				t.Fatal(err)
			}
			var order []string
			seen := map[string]bool{}
			for len(order) < 3 {
				got, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
				// After the call returns: it waits out "0"'s timeout, and an acknowledgement
				// counts as late only by what the test itself took after it.
				receivedAt := time.Now()
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range got {
					body := string(d.Body)
					if body == "0" && !seen[body] && d.ReceiveCount != 2 {
						t.Errorf("message held by the dead process: receive count %d, want 2", d.ReceiveCount)
					}
					seen[body] = true
					// An ack too late for its receipt (the test stalled) fails; the message
					// comes back and is counted then (first again in FIFO mode, as its
					// group's head).
					err := b.Ack(ctx, "q", d.Receipt)
					if errors.Is(err, system.ErrNotFound) && time.Since(receivedAt) >= vis*8/10 {
						continue
					}
					if err != nil {
						t.Fatalf("ack of %q within its visibility timeout: %v", body, err)
					}
					order = append(order, body)
				}
			}
			if fifo && fmt.Sprint(order) != "[0 1 2]" {
				t.Errorf("FIFO order across the failover: %v, want [0 1 2]", order)
			}
		})
	}
}

// TestDeadLetterWhenReceiverDies: the process that had the last allowed receive dies
// before dead-lettering; the message is not stranded: the next receive of it beyond
// MaxReceives, by any process, moves it.
func TestDeadLetterWhenReceiverDies(t *testing.T) {
	a, b := openBus(t), openBus(t)
	ctx := bustest.Ctx(t, 30*time.Second)
	const vis = 150 * time.Millisecond
	topo := system.Topology{Topic: bustest.UniqueTopic(t),
		Queues: []system.QueueSpec{
			{Name: "q", VisibilityTimeout: vis, MaxReceives: 2, DeadLetter: "dlq"}, {Name: "dlq"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	for _, bus := range []*Bus{a, b} {
		if err := bus.Declare(ctx, topo); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Publish(ctx, bustest.Msg("poison", "state", "rejected")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		ds, err := a.Receive(ctx, "q", system.ReceiveOptions{}, nil)
		if err != nil || len(ds) != 1 || ds[0].ReceiveCount != i {
			t.Fatalf("receive %d: %v %v", i, ds, err)
		}
	}
	if err := a.Close(); err != nil { // dies before the last receive's timeout ends
		t.Fatal(err)
	}
	// b's receives take the redelivery, whenever the server makes it, and move it; none of
	// them may deliver it. On a loaded machine that can take more than one short receive.
	var got []string
	for deadline := time.Now().Add(10 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		short, cancel := context.WithTimeout(ctx, 3*vis)
		ds, err := b.Receive(short, "q", system.ReceiveOptions{}, nil)
		cancel()
		if len(ds) != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the source queue delivered %v (%v) beyond MaxReceives", ds, err)
		}
		got = bustest.Drain(t, b, "dlq", 300*time.Millisecond)
	}
	if fmt.Sprint(got) != "[poison]" {
		t.Fatalf("dead-letter queue holds %v within 10s, want exactly [poison]", got)
	}
	if rest := bustest.Drain(t, b, "dlq", 3*vis); len(rest) != 0 {
		t.Fatalf("dead-letter queue holds %v more", rest)
	}
}

// TestDeadLetterIsIdempotent: repeating the move (as after a crash between storing the
// copy and removing the original) leaves one copy.
func TestDeadLetterIsIdempotent(t *testing.T) {
	b := openBus(t)
	ctx := bustest.Ctx(t, 30*time.Second)
	topo := system.Topology{Topic: bustest.UniqueTopic(t),
		Queues: []system.QueueSpec{
			{Name: "q", VisibilityTimeout: 5 * time.Second, MaxReceives: 1, DeadLetter: "dlq"}, {Name: "dlq"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, bustest.Msg("m")); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Receive(ctx, "q", system.ReceiveOptions{}, nil)
	if err != nil || len(ds) != 1 {
		t.Fatal(ds, err)
	}
	q, _ := b.queue("q")
	h, err := q.claim(ds[0].Receipt)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := q.deadLetter(ctx, h.a); err != nil {
			t.Fatalf("dead-letter, attempt %d: %v", i+1, err)
		}
	}
	if got := bustest.Drain(t, b, "dlq", 300*time.Millisecond); fmt.Sprint(got) != "[m]" {
		t.Fatalf("dead-letter queue holds %v after two moves, want exactly one copy", got)
	}
	if got := bustest.Drain(t, b, "q", 300*time.Millisecond); len(got) != 0 {
		t.Fatalf("the source still delivers %v", got)
	}
}

// TestLeftoverGoesToTheNextReceive: a message the server sends while its receiver gives up
// is neither lost nor counted twice; once this bus stops receiving, it is handed back.
func TestLeftoverGoesToTheNextReceive(t *testing.T) {
	a, b := openBus(t), openBus(t)
	ctx := bustest.Ctx(t, 30*time.Second)
	// Long enough that the leftover is still a's when its next receive comes, however the
	// test is scheduled; the end of the test waits for it once.
	const vis = 2 * time.Second
	topo := system.Topology{Topic: bustest.UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q", VisibilityTimeout: vis}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	for _, bus := range []*Bus{a, b} {
		if err := bus.Declare(ctx, topo); err != nil {
			t.Fatal(err)
		}
	}
	q, _ := a.queue("q")
	polling := func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.lanes[0].req != nil && !q.lanes[0].req.noWait
	}
	// a gives up (its context is cancelled, so its long poll is not bounded by a deadline
	// and stays out) once its long poll is out, however long issuing it took; the publish
	// lands in its inbox.
	gaveUp, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer cancel()
		for deadline := time.Now().Add(10 * time.Second); !polling() && time.Now().Before(deadline); {
			select {
			case <-stop: // the test ended first
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	if _, err := a.Receive(gaveUp, "q", system.ReceiveOptions{}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("receive on an empty queue: %v", err)
	}
	if !polling() {
		t.Fatal("no long poll outstanding after the receive gave up (none within 10s); the test needs one")
	}
	if err := a.Publish(ctx, bustest.Msg("left")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // the message reaches a's inbox
	ds, err := a.Receive(ctx, "q", system.ReceiveOptions{}, nil)
	if err != nil || len(ds) != 1 || string(ds[0].Body) != "left" || ds[0].ReceiveCount != 1 {
		t.Fatalf("next receive: %v %v; want the leftover, received once", ds, err)
	}
	if err := a.Release(ctx, "q", ds[0].Receipt, 0); err != nil {
		t.Fatal(err)
	}
	// a stops receiving with its poll out again: what lands there goes back to the queue
	// after a visibility timeout, and another process gets it.
	gaveUp, cancel = context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	got, _ := a.Receive(gaveUp, "q", system.ReceiveOptions{}, nil)
	for _, d := range got { // the release may have come back at once
		if err := a.Release(ctx, "q", d.Receipt, 0); err != nil {
			t.Fatal(err)
		}
	}
	ds, err = b.Receive(ctx, "q", system.ReceiveOptions{}, nil)
	if err != nil || len(ds) != 1 || string(ds[0].Body) != "left" {
		t.Fatalf("other process: %v %v; want the message a stopped holding", ds, err)
	}
	if err := b.Ack(ctx, "q", ds[0].Receipt); err != nil {
		t.Fatal(err)
	}
}

// TestNoPhantomReceives: messages trickling in while several receivers poll with batches
// are each received once when acked at once; a receive count above one would mean the bus
// let the broker count a delivery nobody saw (which brings messages to the dead-letter
// queue unprocessed).
func TestNoPhantomReceives(t *testing.T) {
	b := openBus(t)
	ctx := bustest.Ctx(t, 60*time.Second)
	topo := system.Topology{Topic: bustest.UniqueTopic(t),
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: 30 * time.Second, MaxReceives: 2, DeadLetter: "dlq"}, {Name: "dlq"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	const n, receivers = 600, 6
	var acked, phantom atomic.Int64
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for r := 0; r < receivers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for acked.Load() < n {
				ds, err := b.Receive(cctx, "q", system.ReceiveOptions{Max: 10}, nil)
				if err != nil {
					return
				}
				for _, d := range ds {
					if d.ReceiveCount != 1 {
						phantom.Add(1)
					}
					if err := b.Ack(ctx, "q", d.Receipt); err != nil {
						t.Error(err)
					}
					if acked.Add(1) == n {
						stop()
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		if err := b.Publish(ctx, bustest.Msg(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	wg.Wait()
	if acked.Load() != n || phantom.Load() != 0 {
		t.Fatalf("%d of %d acked; %d received with a count above one", acked.Load(), n, phantom.Load())
	}
	if got := bustest.Drain(t, b, "dlq", 200*time.Millisecond); len(got) != 0 {
		t.Fatalf("dead-lettered without a timeout: %v", got)
	}
}

// TestConnectionLoss: every connection to the server is cut under an open bus, and under a
// pipeline running on it (bustest.RunConnectionLoss); the bus dials again, and nothing it
// accepted is lost.
func TestConnectionLoss(t *testing.T) {
	bustest.RunConnectionLoss(t, testURL(), func(t testing.TB, url string) bustest.Bus { return openBusAt(t, url) })
}
