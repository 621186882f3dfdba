package conformance

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// PipelineConnectionLoss runs a pipeline on s and b while every connection that one of
// them has to its server is cut (cut does it, returning how many it cut), twice, in the
// middle of the writes. With the bus's cut, the processors' long polls die under them and
// some publishes fail; with the store's, some writes and effects fail. A write that fails
// is retried, as a client would, and one whose lost attempt landed (the retry finds the
// id taken) counts as accepted. Every accepted request must be processed (the store holds
// its processed version; the outbox republishes what failed to publish), none applied
// twice, and the shutdown must find the outbox empty.
func PipelineConnectionLoss(t *testing.T, s system.Store, b system.Bus, cut func() int) {
	cs := newCountingStore(s)
	cfg := system.PipelineConfig{AccountConcurrency: 16, VisibilityTimeout: 5 * time.Second,
		RelayInterval: 50 * time.Millisecond, RelayGrace: 100 * time.Millisecond}
	p := startPipeline(t, cs, b, cfg)
	const n = 400
	var created atomic.Int64
	cuts := make(chan int, 2)
	stop := make(chan struct{}) // the test ended before the writes reached a cut
	t.Cleanup(func() { close(stop) })
	go func() {
		for _, at := range []int64{n / 4, n / 2} {
			for created.Load() < at {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
			cuts <- cut()
		}
	}()
	ctx := context.Background()
	reqs := make([]system.Request, 0, n)
	failed := 0
	for i := range n {
		r := system.Request{ID: unique(t, "cl") + "-" + strconv.Itoa(i), State: system.DefaultStates[i%len(system.DefaultStates)]}
		start := time.Now()
		for attempt := 1; ; attempt++ {
			_, err := p.Create(ctx, r)
			if err == nil || (attempt > 1 && errors.Is(err, system.ErrExists)) {
				break
			}
			failed++
			if time.Since(start) > 30*time.Second {
				t.Fatalf("Create %d still failing 30 s after the cut: %v", i, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		reqs = append(reqs, r)
		created.Add(1)
	}
	cut1, cut2 := <-cuts, <-cuts
	if cut1 == 0 || cut2 == 0 {
		t.Fatalf("cut %d and %d connections: there were none to cut", cut1, cut2)
	}
	// Processed is what the store says: an effect whose reply was lost with its connection
	// is applied, though the processor saw an error; the counting store infers it from the
	// redelivery's duplicate, but the store stays the judge.
	unprocessed := func() []string {
		var out []string
		for _, r := range reqs {
			got, err := s.Get(ctx, r.ID)
			if err != nil || got.ProcessedVersion < 1 {
				out = append(out, r.ID)
			}
		}
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if cs.total() >= n {
			break
		}
		left := unprocessed()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			st := p.Stats()
			t.Fatalf("60 s after the connections were cut, %d of %d accepted requests not processed (%v; %d publishes failed, %d republished; %+v)",
				len(left), n, left[:min(len(left), 5)], st.PublishFailures, st.Republished, st.States)
		}
		time.Sleep(50 * time.Millisecond)
	}
	shutdownPublished(t, p)
	if left := unprocessed(); len(left) > 0 {
		t.Fatalf("%d accepted requests not processed in the store: %v", len(left), left[:min(len(left), 5)])
	}
	for _, r := range reqs {
		if c := cs.appliedCount(r.ID + "@1"); c > 1 {
			t.Fatalf("request %s applied %d times, want once", r.ID, c)
		}
	}
	st := p.Stats()
	t.Logf("%d creates (%d failed attempts retried); %d and %d connections cut; %d publishes failed, %d republished by the relay; %d effects failed",
		n, failed, cut1, cut2, st.PublishFailures, st.Republished, effectErrors(st))
}

func effectErrors(st system.PipelineStats) int64 {
	var n int64
	for _, s := range st.States {
		n += s.EffectErrors
	}
	return n
}
