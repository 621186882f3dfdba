// Package bustest holds the behaviour tests every broker-backed bus (RabbitMQ, NATS) must
// pass beyond the shared conformance suite: routing by filter policy checked message by
// message against the policy's own Match, attribute round trips, visibility timeouts,
// dead-lettering, batching, release and queue statistics, FIFO order under concurrency
// and redelivery, and the errors of a closed bus. Each bus's tests call Run with a
// Harness that opens it on the test server.
package bustest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/conformance"
)

// Bus is what the tests use of a bus: the interface, release, queue statistics, ping and
// close.
type Bus interface {
	system.Bus
	system.Releaser
	system.Inspector
	Ping(ctx context.Context) error
	Close() error
}

// Harness opens the bus under test.
type Harness struct {
	// Open opens a bus on the test server whose topology is deleted when the test ends;
	// fifoShards > 0 sets the bus's FIFO concurrency (message groups in flight at once),
	// 0 its default. A server that does not answer must fail the test, saying how to
	// start it.
	Open func(t testing.TB, fifoShards int) Bus
	// ReservedAttribute is an attribute name the bus refuses (a header the broker keeps
	// for itself).
	ReservedAttribute string
}

// Run runs every behaviour test against the bus h opens, each as a subtest.
func Run(t *testing.T, h Harness) {
	t.Run("RoutingByFilterPolicy", func(t *testing.T) { routingByFilterPolicy(t, h) })
	t.Run("MessageRoundTrip", func(t *testing.T) { messageRoundTrip(t, h) })
	t.Run("VisibilityTimeoutRedelivers", func(t *testing.T) { visibilityTimeoutRedelivers(t, h) })
	t.Run("DeadLetterAfterMaxReceives", func(t *testing.T) { deadLetterAfterMaxReceives(t, h) })
	t.Run("BatchAndWindow", func(t *testing.T) { batchAndWindow(t, h) })
	t.Run("ReleaseAndStats", func(t *testing.T) { releaseAndStats(t, h) })
	t.Run("FIFOOrderPerGroupUnderConcurrency", func(t *testing.T) { fIFOOrderPerGroupUnderConcurrency(t, h) })
	t.Run("FIFORedeliveryKeepsOrderAndDedup", func(t *testing.T) { fIFORedeliveryKeepsOrderAndDedup(t, h) })
	t.Run("ClosedAndUnknown", func(t *testing.T) { closedAndUnknown(t, h) })
}

// UniqueTopic names a topic no other test (in this or a parallel run) uses.
func UniqueTopic(t testing.TB) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "hrt" + hex.EncodeToString(b[:])
}

// Ctx is a context that ends after d or with the test.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

// Msg is a message with body and attributes given as name, value pairs.
func Msg(body string, attrs ...string) system.Message {
	m := system.Message{Body: []byte(body)}
	for i := 0; i+1 < len(attrs); i += 2 {
		m.Attributes = append(m.Attributes, system.Attr{Name: attrs[i], Value: attrs[i+1]})
	}
	return m
}

// Drain receives and acks everything in queue until it stays empty for quiet.
func Drain(t *testing.T, b system.Bus, queue string, quiet time.Duration) []string {
	t.Helper()
	var bodies []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		ds, err := b.Receive(ctx, queue, system.ReceiveOptions{Max: 10}, nil)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			sort.Strings(bodies)
			return bodies
		}
		if err != nil {
			t.Fatalf("receive %s: %v", queue, err)
		}
		for _, d := range ds {
			bodies = append(bodies, string(d.Body))
			if err := b.Ack(context.Background(), queue, d.Receipt); err != nil {
				t.Fatalf("ack %s: %v", queue, err)
			}
		}
	}
}

func routingByFilterPolicy(t *testing.T, h Harness) {
	b := h.Open(t, 0)
	ctx := Ctx(t, 30*time.Second)
	topo := system.Topology{
		Topic: UniqueTopic(t),
		Queues: []system.QueueSpec{
			{Name: "pending"}, {Name: "decided"}, {Name: "tenanted"}, {Name: "untenanted"},
			{Name: "all"}, {Name: "approvedtenant"},
		},
		Subscriptions: []system.Subscription{
			{Queue: "pending", Filter: system.Equals("state", "pending")},
			{Queue: "decided", Filter: system.FilterPolicy{{Attribute: "state", AnyOf: []string{"approved", "rejected"}}}},
			{Queue: "tenanted", Filter: system.FilterPolicy{{Attribute: "tenant", Exists: yes()}}},
			{Queue: "untenanted", Filter: system.FilterPolicy{{Attribute: "tenant", Exists: no()}}},
			{Queue: "all"},
			{Queue: "approvedtenant", Filter: system.FilterPolicy{
				{Attribute: "state", AnyOf: []string{"approved", "cancelled"}},
				{Attribute: "tenant", Exists: yes()},
			}},
		},
	}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	msgs := []system.Message{
		Msg("p", "state", "pending"),
		Msg("a", "state", "approved"),
		Msg("r", "state", "rejected"),
		Msg("c", "state", "cancelled"),
		Msg("at", "state", "approved", "tenant", "x"),
		Msg("pt", "state", "pending", "tenant", ""),
		Msg("none"),
	}
	for _, m := range msgs {
		if err := b.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The expectation is the filter policy's own Match: the bus's routing must agree.
	for _, s := range topo.Subscriptions {
		var want []string
		for _, m := range msgs {
			if s.Filter.Match(m.Attributes) {
				want = append(want, string(m.Body))
			}
		}
		sort.Strings(want)
		got := Drain(t, b, s.Queue, 300*time.Millisecond)
		if !slices.Equal(got, want) {
			t.Errorf("queue %s: got %v, want %v", s.Queue, got, want)
		}
	}
}

func messageRoundTrip(t *testing.T, h Harness) {
	b := h.Open(t, 0)
	ctx := Ctx(t, 30*time.Second)
	topo := system.Topology{Topic: UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	// Declaring the same topology again is a no-op; a different one is refused.
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatalf("redeclare: %v", err)
	}
	other := topo
	other.Topic = UniqueTopic(t)
	if err := b.Declare(ctx, other); !errors.Is(err, system.ErrInvalid) {
		t.Fatalf("declare another topology: got %v, want ErrInvalid", err)
	}
	before := time.Now()
	in := Msg("body \x00 bytes", "zeta", "1", "state", "approved", "alpha", "ü")
	if err := b.Publish(ctx, in); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
	if err != nil || len(ds) != 1 {
		t.Fatalf("receive: %v %v", ds, err)
	}
	d := ds[0]
	if string(d.Body) != string(in.Body) || !slices.Equal(d.Attributes, in.Attributes) {
		t.Errorf("got body %q attrs %v, want %q %v", d.Body, d.Attributes, in.Body, in.Attributes)
	}
	if d.Queue != "q" || d.ReceiveCount != 1 || d.Receipt == "" {
		t.Errorf("delivery fields: queue %q count %d receipt %q", d.Queue, d.ReceiveCount, d.Receipt)
	}
	if d.SentAt.Before(before.Add(-time.Millisecond)) || d.SentAt.After(time.Now()) {
		t.Errorf("SentAt %v not within the publish", d.SentAt)
	}
	if err := b.Ack(ctx, "q", d.Receipt); err != nil {
		t.Fatal(err)
	}
	if err := b.Ack(ctx, "q", d.Receipt); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("second ack: got %v, want ErrNotFound", err)
	}
	if err := b.Publish(ctx, Msg("x", h.ReservedAttribute, "1")); !errors.Is(err, system.ErrInvalid) {
		t.Errorf("publish reserved attribute: got %v, want ErrInvalid", err)
	}
}

func visibilityTimeoutRedelivers(t *testing.T, h Harness) {
	b := h.Open(t, 0)
	ctx := Ctx(t, 30*time.Second)
	const vis = 200 * time.Millisecond
	topo := system.Topology{Topic: UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q", VisibilityTimeout: vis}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, Msg("m")); err != nil {
		t.Fatal(err)
	}
	// The timeout starts inside the first Receive: every bound below is measured from before
	// that call, so a stall of the test (a loaded machine) can only make a correct bus look
	// late, never early.
	start := time.Now()
	first, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
	if err != nil || len(first) != 1 {
		t.Fatalf("receive: %v %v", first, err)
	}
	// Hidden while the timeout runs...
	short, cancel := context.WithTimeout(ctx, vis/2)
	second, err := b.Receive(short, "q", system.ReceiveOptions{Max: 1}, nil)
	cancel()
	secondAt := time.Now()
	switch {
	case len(second) != 0:
		if el := time.Since(start); el < vis {
			t.Fatalf("a message in flight was delivered again %v after it was received, within its visibility timeout %v", el, vis)
		}
		// The test stalled past the timeout between the two receives: this is the redelivery.
	case !errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("receive during the visibility timeout: %v, want the deadline", err)
	default:
		// ...and back once it ends, counted.
		second, err = b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
		secondAt = time.Now()
		if err != nil || len(second) != 1 {
			t.Fatalf("receive after the timeout: %v %v", second, err)
		}
	}
	if el := time.Since(start); el < vis {
		t.Errorf("redelivered after %v, before the visibility timeout %v", el, vis)
	}
	if second[0].ReceiveCount != 2 || string(second[0].Body) != "m" {
		t.Errorf("redelivery: count %d body %q, want 2 %q", second[0].ReceiveCount, second[0].Body, "m")
	}
	if err := b.Ack(ctx, "q", first[0].Receipt); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("ack of the expired receipt: got %v, want ErrNotFound", err)
	}
	conformance.AckWithin(t, b, "q", second[0], secondAt, vis)
	if got := Drain(t, b, "q", vis*2); len(got) != 0 {
		t.Errorf("acknowledged message came back: %v", got)
	}
}

func deadLetterAfterMaxReceives(t *testing.T, h Harness) {
	for _, fifo := range []bool{false, true} {
		t.Run(fmt.Sprintf("fifo=%v", fifo), func(t *testing.T) {
			b := h.Open(t, 2)
			ctx := Ctx(t, 30*time.Second)
			const vis = 100 * time.Millisecond
			topo := system.Topology{Topic: UniqueTopic(t), FIFO: fifo,
				Queues: []system.QueueSpec{
					{Name: "q", VisibilityTimeout: vis, MaxReceives: 3, DeadLetter: "dlq"},
					{Name: "dlq"},
				},
				Subscriptions: []system.Subscription{{Queue: "q"}}}
			if err := b.Declare(ctx, topo); err != nil {
				t.Fatal(err)
			}
			m := Msg("poison", "state", "approved")
			m.GroupID = "g"
			if err := b.Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 3; i++ {
				ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
				if err != nil || len(ds) != 1 {
					t.Fatalf("receive %d: %v %v", i, ds, err)
				}
				if ds[0].ReceiveCount != i {
					t.Errorf("receive %d: ReceiveCount %d", i, ds[0].ReceiveCount)
				}
			}
			ds, err := b.Receive(ctx, "dlq", system.ReceiveOptions{Max: 1}, nil)
			if err != nil || len(ds) != 1 {
				t.Fatalf("receive from the dead-letter queue: %v %v", ds, err)
			}
			d := ds[0]
			if string(d.Body) != "poison" || d.ReceiveCount != 1 || d.Queue != "dlq" {
				t.Errorf("dead letter: body %q count %d queue %q", d.Body, d.ReceiveCount, d.Queue)
			}
			if v, _ := d.Attributes.Get("state"); v != "approved" || (fifo && d.GroupID != "g") {
				t.Errorf("dead letter lost its attributes or group: %v %q", d.Attributes, d.GroupID)
			}
			if err := b.Ack(ctx, "dlq", d.Receipt); err != nil {
				t.Fatal(err)
			}
			if got := Drain(t, b, "q", 3*vis); len(got) != 0 {
				t.Errorf("source queue still delivers %v", got)
			}
		})
	}
}

func batchAndWindow(t *testing.T, h Harness) {
	b := h.Open(t, 0)
	ctx := Ctx(t, 30*time.Second)
	topo := system.Topology{Topic: UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := b.Publish(ctx, Msg(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 3}, nil)
	if err != nil || len(ds) != 3 {
		t.Fatalf("Max 3 of 5: got %d, %v", len(ds), err)
	}
	ds, err = b.Receive(ctx, "q", system.ReceiveOptions{Max: 10}, ds)
	if err != nil || len(ds) != 5 {
		t.Fatalf("Max 10 of the other 2, appended: got %d, %v", len(ds), err)
	}
	var bodies []string
	for _, d := range ds {
		bodies = append(bodies, string(d.Body))
		if err := b.Ack(ctx, "q", d.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(bodies)
	if !slices.Equal(bodies, []string{"0", "1", "2", "3", "4"}) {
		t.Errorf("bodies %v", bodies)
	}
	// A window keeps collecting after the first message.
	go func() {
		for i := 0; i < 3; i++ {
			time.Sleep(30 * time.Millisecond)
			_ = b.Publish(context.Background(), Msg("w"))
		}
	}()
	ds, err = b.Receive(ctx, "q", system.ReceiveOptions{Max: 3, Window: 2 * time.Second}, nil)
	if err != nil || len(ds) != 3 {
		t.Fatalf("window: got %d, %v", len(ds), err)
	}
}

func releaseAndStats(t *testing.T, h Harness) {
	b := h.Open(t, 0)
	ctx := Ctx(t, 30*time.Second)
	topo := system.Topology{Topic: UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q", VisibilityTimeout: time.Minute}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := b.Publish(ctx, Msg(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	st, err := b.QueueStats(ctx, "q")
	if err != nil || st != (system.QueueStats{Visible: 3}) {
		t.Fatalf("stats after publish: %+v %v", st, err)
	}
	ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 2}, nil)
	if err != nil || len(ds) != 2 {
		t.Fatalf("receive: %d %v", len(ds), err)
	}
	st, err = b.QueueStats(ctx, "q")
	if err != nil || st != (system.QueueStats{Visible: 1, InFlight: 2}) {
		t.Fatalf("stats with 2 in flight: %+v %v", st, err)
	}
	// Release at once: visible again (long before the one-minute timeout), counted.
	if err := b.Release(ctx, "q", ds[0].Receipt, 0); err != nil {
		t.Fatal(err)
	}
	// Release with a delay: hidden until then.
	start := time.Now()
	if err := b.Release(ctx, "q", ds[1].Receipt, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx, "q", ds[1].Receipt, 0); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("second release of a receipt: got %v, want ErrNotFound", err)
	}
	seen := map[string]int{}
	for len(seen) < 3 {
		got, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range got {
			seen[string(d.Body)] = d.ReceiveCount
			if string(d.Body) == string(ds[1].Body) && time.Since(start) < 300*time.Millisecond {
				t.Errorf("message released with a delay came back after %v", time.Since(start))
			}
			if err := b.Ack(ctx, "q", d.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if seen[string(ds[0].Body)] != 2 || seen[string(ds[1].Body)] != 2 {
		t.Errorf("released messages' receive counts: %v", seen)
	}
}

func fIFOOrderPerGroupUnderConcurrency(t *testing.T, h Harness) {
	b := h.Open(t, 4)
	ctx := Ctx(t, 60*time.Second)
	topo := system.Topology{Topic: UniqueTopic(t), FIFO: true,
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: 2 * time.Second}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	const groups, perGroup = 6, 15
	for i := 0; i < perGroup; i++ {
		for g := 0; g < groups; g++ {
			m := Msg(fmt.Sprintf("%d", i))
			m.GroupID = fmt.Sprintf("g%d", g)
			if err := b.Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	var (
		mu       sync.Mutex
		inFlight = map[string]bool{}
		next     = map[string]int{}
		total    int
		wg       sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				done := total == groups*perGroup
				mu.Unlock()
				if done {
					return
				}
				rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				ds, err := b.Receive(rctx, "q", system.ReceiveOptions{Max: 3}, nil)
				cancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Error(err)
					return
				}
				for _, d := range ds {
					mu.Lock()
					if inFlight[d.GroupID] {
						t.Errorf("group %s: two messages in flight", d.GroupID)
					}
					inFlight[d.GroupID] = true
					if want := fmt.Sprint(next[d.GroupID]); string(d.Body) != want {
						t.Errorf("group %s: got %s, want %s", d.GroupID, d.Body, want)
					}
					next[d.GroupID]++
					mu.Unlock()
				}
				time.Sleep(time.Millisecond) // "processing"
				for _, d := range ds {
					mu.Lock()
					inFlight[d.GroupID] = false
					total++
					mu.Unlock()
					if err := b.Ack(ctx, "q", d.Receipt); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	for g := 0; g < groups; g++ {
		if n := next[fmt.Sprintf("g%d", g)]; n != perGroup {
			t.Errorf("group g%d: %d delivered, want %d", g, n, perGroup)
		}
	}
}

func fIFORedeliveryKeepsOrderAndDedup(t *testing.T, h Harness) {
	b := h.Open(t, 2)
	ctx := Ctx(t, 30*time.Second)
	const vis = 150 * time.Millisecond
	topo := system.Topology{Topic: UniqueTopic(t), FIFO: true,
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: vis}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, system.Message{Body: []byte("x")}); !errors.Is(err, system.ErrInvalid) {
		t.Errorf("FIFO publish without a group: got %v, want ErrInvalid", err)
	}
	for i, id := range []string{"a", "b", "a", "c"} {
		m := system.Message{Body: []byte(fmt.Sprint(i, id)), GroupID: "g", DedupID: id}
		if err := b.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The first message is not acked: nothing else of the group may come meanwhile, and
	// it comes back first.
	ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 10}, nil)
	if err != nil || len(ds) != 1 || string(ds[0].Body) != "0a" {
		t.Fatalf("first receive: %v %v", ds, err)
	}
	var got []string
	for len(got) < 3 {
		ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 10}, nil)
		// After the call returns, not before: the receive waits out 0a's timeout, and an
		// acknowledgement counts as late only by what the test itself took after it.
		receivedAt := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 {
			t.Fatalf("got %d messages of one group at once", len(ds))
		}
		got = append(got, string(ds[0].Body))
		conformance.AckWithin(t, b, "q", ds[0], receivedAt, vis)
	}
	if want := []string{"0a", "1b", "3c"}; !slices.Equal(got, want) {
		t.Errorf("order after redelivery and dedup: got %v, want %v", got, want)
	}
	if rest := Drain(t, b, "q", 3*vis); len(rest) != 0 {
		t.Errorf("duplicate delivered: %v", rest)
	}
}

func closedAndUnknown(t *testing.T, h Harness) {
	b := h.Open(t, 0)
	ctx := Ctx(t, 30*time.Second)
	if err := b.Publish(ctx, Msg("x")); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("publish before declare: got %v, want ErrNotFound", err)
	}
	topo := system.Topology{Topic: UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Receive(ctx, "nope", system.ReceiveOptions{}, nil); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("receive from an undeclared queue: got %v, want ErrNotFound", err)
	}
	if err := b.Ack(ctx, "q", "garbage"); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("ack of a garbage receipt: got %v, want ErrNotFound", err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := b.Receive(context.Background(), "q", system.ReceiveOptions{}, nil)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, system.ErrClosed) {
			t.Errorf("waiting receiver after close: got %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting receiver did not return after close")
	}
	if err := b.Publish(ctx, Msg("x")); !errors.Is(err, system.ErrClosed) {
		t.Errorf("publish after close: got %v, want ErrClosed", err)
	}
}
