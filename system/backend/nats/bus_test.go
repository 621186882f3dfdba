package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// testURL is the server the tests use: HEADROOM_TEST_NATS_URL, else DefaultURL.
func testURL() string {
	if u := os.Getenv("HEADROOM_TEST_NATS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// uniqueTopic names a topic no other test (in this or a parallel run) uses.
func uniqueTopic(t testing.TB) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "hrt" + hex.EncodeToString(b[:])
}

// openBus opens a bus on the test server; its topology is deleted when the test ends. A
// server that does not answer fails the test, naming it and how to start it.
func openBus(t testing.TB, opts ...Option) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, testURL(), opts...)
	if err != nil {
		t.Fatalf("NATS with JetStream is required for this test and did not answer: %v\n"+
			"(set HEADROOM_TEST_NATS_URL, or run bash .ci/services, which starts every service)", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = b.Close()
		if err := b.DeleteTopology(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return b
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

func msg(body string, attrs ...string) system.Message {
	m := system.Message{Body: []byte(body)}
	for i := 0; i+1 < len(attrs); i += 2 {
		m.Attributes = append(m.Attributes, system.Attr{Name: attrs[i], Value: attrs[i+1]})
	}
	return m
}

// drain receives and acks everything in queue until it stays empty for quiet.
func drain(t *testing.T, b system.Bus, queue string, quiet time.Duration) []string {
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

func TestRoutingByFilterPolicy(t *testing.T) {
	b := openBus(t)
	ctx := ctxT(t, 30*time.Second)
	topo := system.Topology{
		Topic: uniqueTopic(t),
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
		msg("p", "state", "pending"),
		msg("a", "state", "approved"),
		msg("r", "state", "rejected"),
		msg("c", "state", "cancelled"),
		msg("at", "state", "approved", "tenant", "x"),
		msg("pt", "state", "pending", "tenant", ""),
		msg("none"),
	}
	for _, m := range msgs {
		if err := b.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The expectation is the filter policy's own Match: the publisher's routing must agree.
	for _, s := range topo.Subscriptions {
		var want []string
		for _, m := range msgs {
			if s.Filter.Match(m.Attributes) {
				want = append(want, string(m.Body))
			}
		}
		sort.Strings(want)
		got := drain(t, b, s.Queue, 300*time.Millisecond)
		if !slices.Equal(got, want) {
			t.Errorf("queue %s: got %v, want %v", s.Queue, got, want)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	b := openBus(t)
	ctx := ctxT(t, 30*time.Second)
	topo := system.Topology{Topic: uniqueTopic(t), Queues: []system.QueueSpec{{Name: "q"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	// Declaring the same topology again is a no-op; a different one is refused.
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatalf("redeclare: %v", err)
	}
	other := topo
	other.Topic = uniqueTopic(t)
	if err := b.Declare(ctx, other); !errors.Is(err, system.ErrInvalid) {
		t.Fatalf("declare another topology: got %v, want ErrInvalid", err)
	}
	before := time.Now()
	in := msg("body \x00 bytes", "zeta", "1", "state", "approved", "alpha", "ü")
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
	if err := b.Publish(ctx, msg("x", "Nats-Reserved", "1")); !errors.Is(err, system.ErrInvalid) {
		t.Errorf("publish reserved attribute: got %v, want ErrInvalid", err)
	}
}

func TestVisibilityTimeoutRedelivers(t *testing.T) {
	b := openBus(t)
	ctx := ctxT(t, 30*time.Second)
	const vis = 200 * time.Millisecond
	topo := system.Topology{Topic: uniqueTopic(t), Queues: []system.QueueSpec{{Name: "q", VisibilityTimeout: vis}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, msg("m")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	first, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
	if err != nil || len(first) != 1 {
		t.Fatalf("receive: %v %v", first, err)
	}
	// Hidden while the timeout runs...
	short, cancel := context.WithTimeout(ctx, vis/2)
	ds, err := b.Receive(short, "q", system.ReceiveOptions{Max: 1}, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || len(ds) != 0 {
		t.Fatalf("receive during the visibility timeout: got %d deliveries, %v", len(ds), err)
	}
	// ...and back once it ends, counted.
	second, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
	if err != nil || len(second) != 1 {
		t.Fatalf("receive after the timeout: %v %v", second, err)
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
	if err := b.Ack(ctx, "q", second[0].Receipt); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, b, "q", vis*2); len(got) != 0 {
		t.Errorf("acknowledged message came back: %v", got)
	}
}

func TestDeadLetterAfterMaxReceives(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		t.Run(fmt.Sprintf("fifo=%v", fifo), func(t *testing.T) {
			b := openBus(t, FIFOShards(2))
			ctx := ctxT(t, 30*time.Second)
			const vis = 100 * time.Millisecond
			topo := system.Topology{Topic: uniqueTopic(t), FIFO: fifo,
				Queues: []system.QueueSpec{
					{Name: "q", VisibilityTimeout: vis, MaxReceives: 3, DeadLetter: "dlq"},
					{Name: "dlq"},
				},
				Subscriptions: []system.Subscription{{Queue: "q"}}}
			if err := b.Declare(ctx, topo); err != nil {
				t.Fatal(err)
			}
			m := msg("poison", "state", "approved")
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
			if got := drain(t, b, "q", 3*vis); len(got) != 0 {
				t.Errorf("source queue still delivers %v", got)
			}
		})
	}
}

func TestBatchAndWindow(t *testing.T) {
	b := openBus(t)
	ctx := ctxT(t, 30*time.Second)
	topo := system.Topology{Topic: uniqueTopic(t), Queues: []system.QueueSpec{{Name: "q"}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := b.Publish(ctx, msg(fmt.Sprint(i))); err != nil {
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
			_ = b.Publish(context.Background(), msg("w"))
		}
	}()
	ds, err = b.Receive(ctx, "q", system.ReceiveOptions{Max: 3, Window: 2 * time.Second}, nil)
	if err != nil || len(ds) != 3 {
		t.Fatalf("window: got %d, %v", len(ds), err)
	}
}

func TestReleaseAndStats(t *testing.T) {
	b := openBus(t)
	ctx := ctxT(t, 30*time.Second)
	topo := system.Topology{Topic: uniqueTopic(t), Queues: []system.QueueSpec{{Name: "q", VisibilityTimeout: time.Minute}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := b.Publish(ctx, msg(fmt.Sprint(i))); err != nil {
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

func TestFIFOOrderPerGroupUnderConcurrency(t *testing.T) {
	b := openBus(t, FIFOShards(4))
	ctx := ctxT(t, 60*time.Second)
	topo := system.Topology{Topic: uniqueTopic(t), FIFO: true,
		Queues:        []system.QueueSpec{{Name: "q", VisibilityTimeout: 2 * time.Second}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	const groups, perGroup = 6, 15
	for i := 0; i < perGroup; i++ {
		for g := 0; g < groups; g++ {
			m := msg(fmt.Sprintf("%d", i))
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

func TestFIFORedeliveryKeepsOrderAndDedup(t *testing.T) {
	b := openBus(t, FIFOShards(2))
	ctx := ctxT(t, 30*time.Second)
	const vis = 150 * time.Millisecond
	topo := system.Topology{Topic: uniqueTopic(t), FIFO: true,
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
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 {
			t.Fatalf("got %d messages of one group at once", len(ds))
		}
		got = append(got, string(ds[0].Body))
		if err := b.Ack(ctx, "q", ds[0].Receipt); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"0a", "1b", "3c"}; !slices.Equal(got, want) {
		t.Errorf("order after redelivery and dedup: got %v, want %v", got, want)
	}
	if rest := drain(t, b, "q", 3*vis); len(rest) != 0 {
		t.Errorf("duplicate delivered: %v", rest)
	}
}

func TestClosedAndUnknown(t *testing.T) {
	b := openBus(t)
	ctx := ctxT(t, 30*time.Second)
	if err := b.Publish(ctx, msg("x")); !errors.Is(err, system.ErrNotFound) {
		t.Errorf("publish before declare: got %v, want ErrNotFound", err)
	}
	topo := system.Topology{Topic: uniqueTopic(t), Queues: []system.QueueSpec{{Name: "q"}},
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
	if err := b.Publish(ctx, msg("x")); !errors.Is(err, system.ErrClosed) {
		t.Errorf("publish after close: got %v, want ErrClosed", err)
	}
}

func TestOpenFailsClearlyWithoutServer(t *testing.T) {
	ctx := ctxT(t, 10*time.Second)
	_, err := Open(ctx, "nats://u:secret@127.0.0.1:1")
	if err == nil {
		t.Fatal("Open against a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "secret") ||
		!strings.Contains(err.Error(), "nats-server") {
		t.Errorf("error should name the broker, hide the password and say how to start it: %v", err)
	}
}

func TestRegisteredByName(t *testing.T) {
	if !slices.Contains(system.BusNames(), Name) {
		t.Fatalf("%q not registered: %v", Name, system.BusNames())
	}
	ctx := ctxT(t, 10*time.Second)
	bus, err := system.OpenBus(ctx, Name, testURL())
	if err != nil {
		t.Fatalf("NATS with JetStream is required for this test: %v", err)
	}
	defer bus.(*Bus).Close()
}
