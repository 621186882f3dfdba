package bustest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/netfault"
	"github.com/headroom/headroom/system/backend/memory"
	"github.com/headroom/headroom/system/conformance"
)

// RunConnectionLoss runs ConnectionLoss and PipelineConnectionLoss as subtests, each on a
// bus open opens through a proxy of its own to serverURL.
func RunConnectionLoss(t *testing.T, serverURL string, open func(t testing.TB, url string) Bus) {
	t.Run("Bus", func(t *testing.T) { ConnectionLoss(t, serverURL, open) })
	t.Run("Pipeline", func(t *testing.T) { PipelineConnectionLoss(t, serverURL, open) })
}

// proxied starts a proxy to serverURL's host and returns it with serverURL through it.
func proxied(t *testing.T, serverURL string) (*netfault.Proxy, string) {
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("server URL %q: %v", serverURL, err)
	}
	p := netfault.NewProxy(t, u.Host)
	u.Host = p.Addr()
	return p, u.String()
}

// PipelineConnectionLoss runs conformance.PipelineConnectionLoss on the embedded store
// and a bus opened (by open, as for ConnectionLoss) through a proxy to serverURL.
func PipelineConnectionLoss(t *testing.T, serverURL string, open func(t testing.TB, url string) Bus) {
	p, via := proxied(t, serverURL)
	conformance.PipelineConnectionLoss(t, memory.NewStore(), open(t, via), p.Cut)
}

// ConnectionLoss checks that a bus outlives its connection: open opens a bus on the
// server at a URL, here serverURL with its host:port replaced by a netfault.Proxy's.
//
//  1. A message is received, then every connection is cut. Acknowledging the receipt of
//     the dead connection may fail, and then the message must come back. (It may also
//     succeed: an ack is handed to the connection, not confirmed, so a message whose ack
//     died with its connection comes back too, which at-least-once delivery allows.)
//  2. 200 messages are published one after another, each retried until the bus accepts
//     it, and every connection is cut again after the 50th. Every one of them must be
//     delivered: publishing works again within seconds, and nothing accepted is lost.
//  3. The connection is cut under a Receive blocked on the empty queue, as a processor's
//     long poll would be: it must not wait out its context (see blockedReceive).
func ConnectionLoss(t *testing.T, serverURL string, open func(t testing.TB, url string) Bus) {
	p, via := proxied(t, serverURL)
	b := open(t, via)
	ctx := Ctx(t, 120*time.Second)
	topo := system.Topology{Topic: UniqueTopic(t), Queues: []system.QueueSpec{{Name: "q", VisibilityTimeout: 2 * time.Second}},
		Subscriptions: []system.Subscription{{Queue: "q"}}}
	if err := b.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, Msg("before")); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
	if err != nil || len(ds) != 1 || string(ds[0].Body) != "before" {
		t.Fatalf("receive before the cut: %v, %v", ds, err)
	}
	if n := p.Cut(); n == 0 {
		t.Fatal("the bus had no connection through the proxy to cut")
	}
	ackErr := b.Ack(ctx, "q", ds[0].Receipt)

	const n, cutAt = 200, 50
	want := map[string]bool{}
	if ackErr != nil {
		want["before"] = true
	}
	failures := 0
	for i := range n {
		if i == cutAt && p.Cut() == 0 {
			t.Fatal("the bus had no connection through the proxy to cut the second time")
		}
		body := fmt.Sprint("m", i)
		start := time.Now()
		for {
			err := b.Publish(ctx, Msg(body))
			if err == nil {
				break
			}
			failures++
			if failures <= 5 || failures%100 == 0 {
				t.Logf("publish of %s, %v after its first attempt: %v", body, time.Since(start), err)
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("publish of %s still failing 30 s after the cut (%d failed attempts): %v", body, failures, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		want[body] = true
	}
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("ping after the bus reconnected: %v", err)
	}

	seen := map[string]int{}
	missing := func() int {
		m := 0
		for w := range want {
			if seen[w] == 0 {
				m++
			}
		}
		return m
	}
	var receiveErrs int
	var lastErr error
	for deadline := time.Now().Add(60 * time.Second); missing() > 0 && time.Now().Before(deadline); {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ds, err := b.Receive(rctx, "q", system.ReceiveOptions{Max: 10}, nil)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			receiveErrs, lastErr = receiveErrs+1, err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for _, d := range ds {
			seen[string(d.Body)]++
			if err := b.Ack(ctx, "q", d.Receipt); err != nil {
				t.Fatalf("ack after the bus reconnected: %v", err)
			}
		}
	}
	if m := missing(); m > 0 {
		t.Fatalf("%d of %d accepted messages never delivered after the cuts (last receive error: %v)", m, len(want), lastErr)
	}
	t.Logf("ack across the cut: %v; %d publishes and %d receives failed while the bus reconnected; %d distinct messages delivered, %d redeliveries",
		ackErr, failures, receiveErrs, len(seen), sum(seen)-len(seen))
	blockedReceive(t, p, b)
}

// blockedReceive: a Receive waiting on an empty queue when the connection dies (a
// processor's long poll) must not wait out its context: it returns an error soon, or the
// message published after the cut.
func blockedReceive(t *testing.T, p *netfault.Proxy, b Bus) {
	type got struct {
		ds  []system.Delivery
		err error
		at  time.Time
	}
	done := make(chan got, 1)
	rctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() {
		ds, err := b.Receive(rctx, "q", system.ReceiveOptions{Max: 1}, nil)
		done <- got{ds, err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond) // let it block
	if p.Cut() == 0 {
		t.Fatal("the bus had no connection through the proxy to cut under a blocked receive")
	}
	ctx := Ctx(t, 60*time.Second)
	start := time.Now()
	for {
		err := b.Publish(ctx, Msg("late"))
		if err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("publish still failing 30 s after the cut: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	published := time.Now()
	var r got
	select {
	case r = <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("a receive blocked when the connection died has not returned 15 s after a message was published on the new connection")
	}
	if r.err == nil && len(r.ds) == 1 && string(r.ds[0].Body) == "late" {
		t.Logf("the blocked receive got the message published after the cut, %v after it", r.at.Sub(published).Round(time.Millisecond))
		if err := b.Ack(ctx, "q", r.ds[0].Receipt); err != nil {
			t.Fatalf("ack: %v", err)
		}
		return
	}
	if r.err == nil {
		t.Fatalf("the blocked receive returned %d messages and no error, want the one published after the cut", len(r.ds))
	}
	t.Logf("the blocked receive failed %v after the cut: %v", r.at.Sub(start).Round(time.Millisecond), r.err)
	ds, err := b.Receive(ctx, "q", system.ReceiveOptions{Max: 1}, nil)
	if err != nil || len(ds) != 1 || string(ds[0].Body) != "late" {
		t.Fatalf("receive after the failed one: %v, %v; want the message published after the cut", ds, err)
	}
	if err := b.Ack(ctx, "q", ds[0].Receipt); err != nil {
		t.Fatalf("ack: %v", err)
	}
}

func sum(m map[string]int) int {
	s := 0
	for _, v := range m {
		s += v
	}
	return s
}
