package conformance

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// PipelineConnectionLoss runs a pipeline on s and b while every connection b has to its
// broker is cut (cut does it, returning how many it cut), twice, in the middle of the
// writes: the processors' long polls die under them, some publishes fail. Every accepted
// request must still be processed exactly once (applied once; the outbox republishes what
// failed to publish), and the shutdown must find the outbox empty.
func PipelineConnectionLoss(t *testing.T, s system.Store, b system.Bus, cut func() int) {
	cs := newCountingStore(s)
	cfg := system.PipelineConfig{AccountConcurrency: 16, VisibilityTimeout: 5 * time.Second,
		RelayInterval: 50 * time.Millisecond, RelayGrace: 100 * time.Millisecond}
	p := startPipeline(t, cs, b, cfg)
	const n = 400
	var created atomic.Int64
	cuts := make(chan int, 2)
	go func() {
		for _, at := range []int64{n / 4, n / 2} {
			for created.Load() < at {
				time.Sleep(time.Millisecond)
			}
			cuts <- cut()
		}
	}()
	ctx := context.Background()
	reqs := make([]system.Request, 0, n)
	for i := range n {
		r := system.Request{ID: unique(t, "cl") + "-" + strconv.Itoa(i), State: system.DefaultStates[i%len(system.DefaultStates)]}
		got, err := p.Create(ctx, r)
		if err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
		reqs = append(reqs, got)
		created.Add(1)
	}
	cut1, cut2 := <-cuts, <-cuts
	if cut1 == 0 || cut2 == 0 {
		t.Fatalf("cut %d and %d connections: the bus had none to cut", cut1, cut2)
	}
	deadline := time.Now().Add(60 * time.Second)
	for cs.total() < n {
		if time.Now().After(deadline) {
			st := p.Stats()
			t.Fatalf("60 s after the connections were cut, %d of %d accepted requests processed (%d publishes failed, %d republished; %+v)",
				cs.total(), n, st.PublishFailures, st.Republished, st.States)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := p.Shutdown(sctx)
	if err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if rep.Unpublished != 0 {
		t.Fatalf("after the shutdown the outbox still holds %d writes: %v", rep.Unpublished, rep)
	}
	for _, r := range reqs {
		if c := cs.appliedCount(r.ID + "@1"); c != 1 {
			t.Fatalf("request %s applied %d times, want once", r.ID, c)
		}
	}
	st := p.Stats()
	t.Logf("%d creates; %d and %d connections cut; %d publishes failed, %d republished by the relay",
		n, cut1, cut2, st.PublishFailures, st.Republished)
}
