package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// RunPipelineSuite runs the whole pipeline over a store and a bus from the factories.
func RunPipelineSuite(t *testing.T, newStore StoreFactory, newBus BusFactory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s system.Store, b system.Bus)
	}{
		{"ConcurrencyCapsNeverExceeded", testCaps},
		{"EveryAcceptedRequestProcessedOrDeadLettered", testEndToEnd},
		{"PublishFailuresGoThroughTheOutbox", testOutboxRelay},
		{"FIFOVersionOrder", testFIFOPipeline},
		{"ShutdownDrains", testShutdownDrains},
		{"ShutdownDeadline", testShutdownDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t), newBus(t))
		})
	}
}

// probe measures, inside the work step, how many steps run at once per state and in
// total, with atomic high-water marks; and records which queue saw which message.
type probe struct {
	states      []string
	inflight    []atomic.Int64
	high        []atomic.Int64
	total, peak atomic.Int64
	misrouted   atomic.Int64
	mu          sync.Mutex
	seen        map[string][]int64 // id@state → versions in invocation order
	stateOf     sync.Map           // id → state it was written with, per version: id@v → state
}

func newProbe(states []string) *probe {
	return &probe{states: states, inflight: make([]atomic.Int64, len(states)), high: make([]atomic.Int64, len(states)),
		seen: map[string][]int64{}}
}

func (p *probe) idx(state string) int {
	for i, s := range p.states {
		if s == state {
			return i
		}
	}
	return -1
}

func raiseTo(hw *atomic.Int64, v int64) {
	for {
		cur := hw.Load()
		if v <= cur || hw.CompareAndSwap(cur, v) {
			return
		}
	}
}

// wrap returns a WorkFunc that measures around step.
func (p *probe) wrap(t *testing.T, step system.WorkFunc) system.WorkFunc {
	return func(ctx context.Context, state string, d *system.Delivery) error {
		i := p.idx(state)
		if i < 0 {
			t.Errorf("work step called for unknown state %q", state)
			return errors.New("unknown state")
		}
		raiseTo(&p.high[i], p.inflight[i].Add(1))
		raiseTo(&p.peak, p.total.Add(1))
		defer p.inflight[i].Add(-1)
		defer p.total.Add(-1)
		var ref struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		if err := json.Unmarshal(d.Body, &ref); err != nil {
			t.Errorf("message body %q: %v", d.Body, err)
		} else {
			if want, ok := p.stateOf.Load(fmt.Sprintf("%s@%d", ref.ID, ref.Version)); ok && want != state {
				p.misrouted.Add(1)
				t.Errorf("request %s v%d written with state %v was delivered to the %s processors", ref.ID, ref.Version, want, state)
			}
			if v, _ := d.Attributes.Get(system.StateAttribute); v != state {
				t.Errorf("message on the %s queue carries state attribute %q", state, v)
			}
			p.mu.Lock()
			k := ref.ID + "@" + state
			p.seen[k] = append(p.seen[k], ref.Version)
			p.mu.Unlock()
		}
		return step(ctx, state, d)
	}
}

func (p *probe) wrote(r system.Request) {
	p.stateOf.Store(fmt.Sprintf("%s@%d", r.ID, r.Version), r.State)
}

// countingStore counts the effects a store reports applied, per request: the independent
// check that each was applied at most once. It also keeps the versions of each request
// in the order their effects were applied.
//
// An effect whose reply was lost — the call failed (a connection broken mid-query, a
// deadline), though the store had applied it — is reported a duplicate when the message
// comes again, and Applied is never seen for it. So the first Duplicate of a version whose
// call failed before, and that was never seen applied, counts as its application, at that
// point in the order: the store applies a version at most once, so it was that failed call.
type countingStore struct {
	system.Store
	mu      sync.Mutex
	applied map[string]int
	order   map[string][]int64 // id → versions applied, in order
	lost    map[string]bool    // id@version → a call failed, its outcome unknown
}

func newCountingStore(s system.Store) *countingStore {
	return &countingStore{Store: s, applied: map[string]int{}, order: map[string][]int64{}, lost: map[string]bool{}}
}

func (c *countingStore) MarkProcessed(ctx context.Context, id string, version int64) (system.Outcome, error) {
	o, err := c.Store.MarkProcessed(ctx, id, version)
	key := fmt.Sprintf("%s@%d", id, version)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil:
		c.lost[key] = true
	case o == system.Applied || o == system.Duplicate && c.lost[key] && c.applied[key] == 0:
		delete(c.lost, key)
		c.applied[key]++
		c.order[id] = append(c.order[id], version)
	}
	return o, err
}

func (c *countingStore) appliedCount(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied[key]
}

func (c *countingStore) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.applied)
}

// messageRef reads the request id and version a pipeline message carries.
func messageRef(body []byte) (id string, version int64, err error) {
	var ref struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	if err := json.Unmarshal(body, &ref); err != nil {
		return "", 0, fmt.Errorf("message body %q: %w", body, err)
	}
	return ref.ID, ref.Version, nil
}

// writePath marks the context of the test's own writes, which the pipeline hands on to
// the publish that follows each write: a publish with any other context is the outbox
// relay's (or a shutdown's sweep).
type writePath struct{}

// tapBus sits in front of a real bus: it counts every publish per request id, split by who
// published (the write path or the relay), and can inject publish failures, as in a broker
// outage. An injected failure publishes nothing.
type tapBus struct {
	system.Bus
	// fail decides whether the nth publish (from 1) fails; nil never fails.
	fail            func(n int64) bool
	calls, failures atomic.Int64
	mu              sync.Mutex
	writeFailed     map[string]int // id → write-path publishes that failed
	relayed         map[string]int // id → successful publishes off the write path
	published       map[string]int // id@version → successful publishes, by anyone
}

// tap puts a tapBus in front of b. The result keeps b's Inspector, which a draining
// shutdown needs to see the queues empty.
func tap(b system.Bus, fail func(n int64) bool) (system.Bus, *tapBus) {
	tb := &tapBus{Bus: b, fail: fail,
		writeFailed: map[string]int{}, relayed: map[string]int{}, published: map[string]int{}}
	if insp, ok := b.(system.Inspector); ok {
		return struct {
			*tapBus
			system.Inspector
		}{tb, insp}, tb
	}
	return tb, tb
}

var errInjected = errors.New("injected publish failure")

func (f *tapBus) Publish(ctx context.Context, m system.Message) error {
	id, version, perr := messageRef(m.Body)
	onWritePath := ctx.Value(writePath{}) != nil
	if f.fail != nil && f.fail(f.calls.Add(1)) {
		f.failures.Add(1)
		if onWritePath && perr == nil {
			f.mu.Lock()
			f.writeFailed[id]++
			f.mu.Unlock()
		}
		return errInjected
	}
	err := f.Bus.Publish(ctx, m)
	if err == nil && perr == nil {
		f.mu.Lock()
		f.published[fmt.Sprintf("%s@%d", id, version)]++
		if !onWritePath {
			f.relayed[id]++
		}
		f.mu.Unlock()
	}
	return err
}

func (f *tapBus) publishedCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.published[key]
}

func startPipeline(t *testing.T, s system.Store, b system.Bus, cfg system.PipelineConfig, opts ...system.PipelineOption) *system.Pipeline {
	t.Helper()
	cfg.Topic = unique(t, "p")
	p, err := system.NewPipeline(s, b, cfg, opts...)
	if err != nil {
		t.Fatalf("NewPipeline: %v", err)
	}
	if err := p.Start(ctxFor(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = p.Shutdown(ctx) // a no-op error when the test already shut it down
	})
	return p
}

// shutdownPublished shuts p down and fails t unless its outbox is empty then.
func shutdownPublished(t *testing.T, p *system.Pipeline) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := p.Shutdown(ctx)
	if err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if rep.Unpublished != 0 {
		t.Fatalf("after the shutdown the outbox still holds %d writes: %v", rep.Unpublished, rep)
	}
}

// waitFor polls cond until it holds or timeout; polling is the test's, not the system's.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// createMany writes n requests with random states from several clients and returns them;
// ctx is the writes' context, which the pipeline hands on to their publishes.
func createMany(ctx context.Context, t *testing.T, p *system.Pipeline, pr *probe, n, clients int) []system.Request {
	t.Helper()
	states := p.Config().States
	out := make([]system.Request, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r := system.Request{State: states[rand.IntN(len(states))], Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
				r.ID = fmt.Sprintf("%s-%d", p.Config().Topic, i)
				if pr != nil {
					pr.wrote(system.Request{ID: r.ID, State: r.State, Version: 1})
				}
				got, err := p.Create(ctx, r)
				if err != nil {
					t.Errorf("Create %d: %v", i, err)
					return
				}
				out[i] = got
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

func testCaps(t *testing.T, s system.Store, b system.Bus) {
	cfg := system.PipelineConfig{
		AccountConcurrency: 12, UnreservedMin: 2,
		Processors: []system.ProcessorConfig{
			{State: "approved", ReservedConcurrency: 3},
			{State: "rejected", ReservedConcurrency: 2},
		},
		BatchSize: 2, Pollers: 6, VisibilityTimeout: 5 * time.Second,
		Work: system.Work{ServiceTime: system.Dist{Kind: system.DistUniform, Min: time.Millisecond, Max: 3 * time.Millisecond}},
	}
	// The refused configuration first: reservations leaving less than the minimum.
	bad := cfg
	bad.Processors = []system.ProcessorConfig{{State: "approved", ReservedConcurrency: 11}}
	if _, err := system.NewPipeline(s, b, bad); !errors.Is(err, system.ErrInvalid) {
		t.Fatalf("reserving 11 of 12 with a minimum of 2 unreserved: %v, want ErrInvalid", err)
	}
	pr := newProbe(system.DefaultStates)
	step, err := system.NewWorkStep(cfg.Work)
	if err != nil {
		t.Fatal(err)
	}
	p := startPipeline(t, s, b, cfg, system.WithWorkFunc(pr.wrap(t, step)))
	const n = 1200
	createMany(context.Background(), t, p, pr, n, 8)
	waitFor(t, 60*time.Second, "not every request processed", func() bool {
		var applied int64
		for _, st := range p.Stats().States {
			applied += st.Applied
		}
		return applied == n
	})
	// Caps, as measured inside the work step.
	caps := map[string]int64{"approved": 3, "rejected": 2}
	for i, st := range pr.states {
		if c, ok := caps[st]; ok && pr.high[i].Load() > c {
			t.Errorf("state %s: %d steps at once, reserved cap %d", st, pr.high[i].Load(), c)
		}
	}
	// pending and cancelled share what is left; each alone stays within it (their sum's
	// bound is the unreserved pool's high-water mark, checked below).
	shared := int64(12 - 3 - 2)
	for _, st := range []string{"pending", "cancelled"} {
		if hw := pr.high[pr.idx(st)].Load(); hw > shared {
			t.Errorf("unreserved state %s: %d steps at once, shared cap %d", st, hw, shared)
		}
	}
	if pr.peak.Load() > 12 {
		t.Errorf("%d steps at once across states, account limit 12", pr.peak.Load())
	}
	// And as the pipeline counts them (its slot pools).
	stats := p.Stats()
	if stats.HighWater > 12 {
		t.Errorf("pipeline account high-water %d > 12", stats.HighWater)
	}
	for _, ps := range stats.Pools {
		if ps.HighWater > int64(ps.Limit) {
			t.Errorf("pool %s high-water %d > limit %d", ps.Name, ps.HighWater, ps.Limit)
		}
		if ps.Name == "unreserved" && ps.Limit != int(shared) {
			t.Errorf("unreserved pool limit %d, want %d", ps.Limit, shared)
		}
	}
	if pr.peak.Load() < 2 {
		t.Errorf("never more than %d step at once: the load did not exercise the caps", pr.peak.Load())
	}
	var throttles int64
	for _, st := range stats.States {
		throttles += st.Throttles
	}
	t.Logf("peak %d of 12; per state %v; throttles %d", pr.peak.Load(), highs(pr), throttles)
}

func highs(pr *probe) map[string]int64 {
	m := map[string]int64{}
	for i, s := range pr.states {
		m[s] = pr.high[i].Load()
	}
	return m
}

// drainDeadLetters receives and acknowledges the dead-letter queue, recording request ids.
func drainDeadLetters(t *testing.T, b system.Bus, into map[string]int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	for {
		ds, err := b.Receive(ctx, system.DeadLetterQueue, system.ReceiveOptions{Max: 10}, nil)
		for _, d := range ds {
			var ref struct {
				ID      string `json:"id"`
				Version int64  `json:"version"`
			}
			if err := json.Unmarshal(d.Body, &ref); err != nil {
				t.Fatalf("dead letter %q: %v", d.Body, err)
			}
			into[fmt.Sprintf("%s@%d", ref.ID, ref.Version)]++
			if err := b.Ack(context.Background(), system.DeadLetterQueue, d.Receipt); err != nil {
				t.Fatalf("ack dead letter: %v", err)
			}
		}
		if err != nil || len(ds) == 0 {
			return
		}
	}
}

// testEndToEnd: a bounded load with random step failures. Every accepted request ends
// processed exactly once in effect, or in the dead-letter queue; the test counts both and
// finds nothing missing; caps hold; every message reached its state's processors.
func testEndToEnd(t *testing.T, s system.Store, b system.Bus) {
	cs := newCountingStore(s)
	b, tb := tap(b, nil)
	// The visibility timeout is generous against the processing time, even under load
	// with a slow database, so redeliveries and dead letters come from the step failures;
	// a batch that does outwait it is still accounted for (see "both" below).
	cfg := system.PipelineConfig{
		AccountConcurrency: 24, UnreservedMin: 4,
		Processors: []system.ProcessorConfig{
			{State: "approved", ReservedConcurrency: 6},
			{State: "rejected", ReservedConcurrency: 4},
		},
		VisibilityTimeout: time.Second, MaxReceives: 3, BatchSize: 5,
		Work: system.Work{FailureRate: 0.2,
			ServiceTime: system.Dist{Kind: system.DistExponential, Mean: 300 * time.Microsecond}},
	}
	pr := newProbe(system.DefaultStates)
	step, err := system.NewWorkStep(cfg.Work)
	if err != nil {
		t.Fatal(err)
	}
	p := startPipeline(t, cs, b, cfg, system.WithWorkFunc(pr.wrap(t, step)))
	const n = 3000
	start := time.Now()
	reqs := createMany(context.Background(), t, p, pr, n, 8)
	accepted := time.Since(start)
	dead := map[string]int{}
	done := func() int {
		k := 0
		for _, r := range reqs {
			key := r.ID + "@1"
			if cs.appliedCount(key) > 0 || dead[key] > 0 {
				k++
			}
		}
		return k
	}
	waitFor(t, 90*time.Second, "requests neither processed nor dead-lettered", func() bool {
		drainDeadLetters(t, b, dead)
		return done() == n
	})
	elapsed := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := p.Shutdown(ctx)
	if err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	drainDeadLetters(t, b, dead)

	// processed and deadLettered count each outcome, both the requests that have the two.
	var processed, deadLettered, both int
	for _, r := range reqs {
		key := r.ID + "@1"
		a, d := cs.appliedCount(key), dead[key]
		if a > 1 {
			t.Errorf("request %s: effect applied %d times", r.ID, a)
		}
		if pub := tb.publishedCount(key); d > max(pub, 1) {
			// A write is published more than once only when the relay raced a slow publish.
			t.Errorf("request %s: dead-lettered %d times, published %d", r.ID, d, pub)
		}
		got, err := s.Get(context.Background(), r.ID)
		if err != nil {
			t.Fatalf("accepted request %s is not in the store: %v", r.ID, err)
		}
		if a == 1 && d == 1 {
			// Processed, but a copy delivered again after a visibility timeout (the batch
			// waited for a slot that long, or its acknowledgement came late) failed its
			// remaining receives: at-least-once delivery, with the effect still applied once.
			both++
		}
		switch {
		case a == 1:
			processed++
			if got.ProcessedVersion != 1 {
				t.Errorf("request %s: effect applied but processed version %d", r.ID, got.ProcessedVersion)
			}
			if d == 1 {
				deadLettered++
			}
		case d == 1:
			deadLettered++
			if got.ProcessedVersion != 0 {
				t.Errorf("request %s: dead-lettered and never applied, yet processed version %d", r.ID, got.ProcessedVersion)
			}
		default:
			t.Errorf("request %s: accepted, but neither processed nor dead-lettered", r.ID)
		}
	}
	if processed+deadLettered-both != n {
		t.Fatalf("%d processed + %d dead-lettered - %d both = %d, want all %d accepted", processed, deadLettered, both,
			processed+deadLettered-both, n)
	}
	if deadLettered == 0 || processed == 0 {
		t.Errorf("with failure rate 0.2 and 3 receives, want both outcomes; got %d processed, %d dead-lettered", processed, deadLettered)
	}
	stats := p.Stats()
	var applied, failed, redelivered, duplicates, throttles, ackErrors int64
	for _, st := range stats.States {
		applied += st.Applied
		failed += st.Failed
		redelivered += st.Redelivered
		duplicates += st.Duplicates
		throttles += st.Throttles
		ackErrors += st.AckErrors
		if st.HighWater > int64(st.Limit) {
			t.Errorf("state %s: pipeline high-water %d > limit %d", st.State, st.HighWater, st.Limit)
		}
	}
	if int(applied) != processed {
		t.Errorf("pipeline counted %d applied, the store %d", applied, processed)
	}
	if pr.peak.Load() > 24 || pr.high[pr.idx("approved")].Load() > 6 || pr.high[pr.idx("rejected")].Load() > 4 {
		t.Errorf("caps exceeded: peak %d of 24, per state %v", pr.peak.Load(), highs(pr))
	}
	if pr.misrouted.Load() != 0 {
		t.Errorf("%d messages reached the wrong state's processors", pr.misrouted.Load())
	}
	if stats.Accepted != n {
		t.Errorf("pipeline accepted %d, want %d", stats.Accepted, n)
	}
	if !rep.Drained {
		t.Errorf("shutdown after everything finished did not drain: %v", rep)
	}
	t.Logf("%d accepted in %v; done in %v: %d processed, %d dead-lettered (%d both); %d step failures, %d redeliveries, "+
		"%d duplicates, %d throttled batches, %d failed acks; peak %d",
		n, accepted.Round(time.Millisecond), elapsed.Round(time.Millisecond), processed, deadLettered, both, failed, redelivered,
		duplicates, throttles, ackErrors, pr.peak.Load())
}

// testOutboxRelay: publishes fail (an outage, then every seventh), yet every accepted
// write is processed exactly once in effect, and every write whose own publish failed was
// published by the relay. The relay may legitimately publish a write before its slow
// write path does, so the test proves this per request rather than by comparing counts
// that depend on timing.
func testOutboxRelay(t *testing.T, s system.Store, b system.Bus) {
	cs := newCountingStore(s)
	const outage = 40
	fb, tb := tap(b, func(n int64) bool { return n <= outage || n%7 == 0 })
	cfg := system.PipelineConfig{AccountConcurrency: 16, VisibilityTimeout: 5 * time.Second,
		RelayInterval: 20 * time.Millisecond, RelayGrace: 30 * time.Millisecond}
	p := startPipeline(t, cs, fb, cfg)
	const n = 300
	ctx := context.WithValue(context.Background(), writePath{}, true)
	reqs := createMany(ctx, t, p, nil, n, 4) // every Create succeeds, publish or not
	waitFor(t, 60*time.Second, "writes whose publish failed were not all processed", func() bool { return cs.total() == n })
	// The shutdown stops the relay, so its counters are final when read below.
	shutdownPublished(t, p)
	if rs, err := s.Unpublished(context.Background(), time.Now().Add(time.Hour), 10); err != nil || len(rs) != 0 {
		t.Fatalf("outbox still holds %d writes (%v)", len(rs), err)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, r := range reqs {
		if c := cs.appliedCount(r.ID + "@1"); c != 1 {
			t.Fatalf("request %s applied %d times, want once", r.ID, c)
		}
		if tb.writeFailed[r.ID] > 0 && tb.relayed[r.ID] == 0 {
			t.Fatalf("request %s: its publish failed and the relay never published it", r.ID)
		}
		if got, err := s.Get(context.Background(), r.ID); err != nil || got.ProcessedVersion != 1 {
			t.Fatalf("request %s in the store: %+v, %v; want processed version 1", r.ID, got, err)
		}
	}
	failedWrites := len(tb.writeFailed)
	if tb.failures.Load() < outage || failedWrites == 0 {
		t.Fatalf("%d publishes injected to fail (%d on the write path); want the %d of the outage and some writes among them",
			tb.failures.Load(), failedWrites, outage)
	}
	// Counts that hold whatever the timing: each failed write publish was counted, and
	// each of those writes was marked published by the relay (nothing else marks it).
	st := p.Stats()
	if st.PublishFailures < int64(failedWrites) {
		t.Fatalf("pipeline counted %d publish failures, but %d writes' publishes failed", st.PublishFailures, failedWrites)
	}
	if st.Republished < int64(failedWrites) {
		t.Fatalf("relay republished %d, fewer than the %d writes whose own publish failed", st.Republished, failedWrites)
	}
	t.Logf("%d creates; %d publishes injected to fail, %d of them on the write path (%d writes); relay: %d republished, "+
		"%d errors", n, tb.failures.Load(), st.PublishFailures, failedWrites, st.Republished, st.RelayErrors)
}

// testFIFOPipeline: each request is written five times in a row, each version to one of
// two state queues. Delivery is at-least-once, so after a visibility timeout a stale copy
// of a message may still be processed after a later one (its effect is then refused as
// superseded); what FIFO guarantees, and what is checked, is that on each queue every
// version reaches the processors, the first processing of each version comes in version
// order, the effects applied come in version order, and the last version is the one
// applied in the end.
func testFIFOPipeline(t *testing.T, s system.Store, b system.Bus) {
	cs := newCountingStore(s)
	// A generous visibility timeout (processing takes milliseconds, more under load with
	// a slow database): redeliveries come from the step failures, not from stalls.
	cfg := system.PipelineConfig{FIFO: true, AccountConcurrency: 16, VisibilityTimeout: time.Second,
		MaxReceives: 20, BatchSize: 4, Work: system.Work{FailureRate: 0.1}}
	pr := newProbe(system.DefaultStates)
	step, err := system.NewWorkStep(cfg.Work)
	if err != nil {
		t.Fatal(err)
	}
	p := startPipeline(t, cs, b, cfg, system.WithWorkFunc(pr.wrap(t, step)))
	const n, writes = 60, 5
	states := p.Config().States
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			r := system.Request{ID: fmt.Sprintf("%s-%d", p.Config().Topic, i), State: states[i%2]}
			pr.wrote(system.Request{ID: r.ID, State: r.State, Version: 1})
			r, err := p.Create(ctx, r)
			if err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			ids[i] = r.ID
			for w := 1; w < writes; w++ {
				r.State = states[rand.IntN(2)] // two queues, so order holds per queue
				r.Payload = json.RawMessage(fmt.Sprint(w))
				pr.wrote(system.Request{ID: r.ID, State: r.State, Version: r.Version + 1})
				if r, err = p.Update(ctx, r); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Done when every request has its last version applied and every version has reached
	// its queue's processors (a superseded one may still be queued after the last applied).
	waitFor(t, 60*time.Second, "last versions not all applied, or versions never processed", func() bool {
		for _, id := range ids {
			if r, err := s.Get(context.Background(), id); err != nil || r.ProcessedVersion != writes {
				return false
			}
		}
		pr.mu.Lock()
		defer pr.mu.Unlock()
		for _, id := range ids {
			for v := int64(1); v <= writes; v++ {
				st, _ := pr.stateOf.Load(fmt.Sprintf("%s@%d", id, v))
				if !slices.Contains(pr.seen[id+"@"+st.(string)], v) {
					return false
				}
			}
		}
		return true
	})
	pr.mu.Lock()
	defer pr.mu.Unlock()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	repeated := 0
	for _, id := range ids {
		// Per queue: the versions written to it, the first processing of each, the effects.
		written := map[string][]int64{}
		for v := int64(1); v <= writes; v++ {
			st, _ := pr.stateOf.Load(fmt.Sprintf("%s@%d", id, v))
			written[st.(string)] = append(written[st.(string)], v)
		}
		appliedOn := map[string][]int64{}
		for _, v := range cs.order[id] {
			st, _ := pr.stateOf.Load(fmt.Sprintf("%s@%d", id, v))
			appliedOn[st.(string)] = append(appliedOn[st.(string)], v)
		}
		for _, st := range states {
			k := id + "@" + st
			seen := pr.seen[k]
			var first []int64
			for i, v := range seen {
				if slices.Contains(seen[:i], v) {
					repeated++
					continue
				}
				first = append(first, v)
			}
			if !slices.Equal(first, written[st]) {
				t.Fatalf("%s: versions %v written to the queue, first processed in order %v (all processings %v); "+
					"a FIFO queue delivers each, in order", k, written[st], first, seen)
			}
			if a := appliedOn[st]; !slices.IsSorted(a) || len(slices.Compact(slices.Clone(a))) != len(a) {
				t.Fatalf("%s: effects applied in order %v; want increasing versions, each once", k, a)
			}
		}
		if o := cs.order[id]; len(o) == 0 || o[len(o)-1] != writes {
			t.Fatalf("%s: effects applied %v; want the last version %d applied last", id, o, writes)
		}
	}
	t.Logf("%d requests × %d versions; %d repeated processings (failed steps redelivered, stale copies)", n, writes, repeated)
}

func testShutdownDrains(t *testing.T, s system.Store, b system.Bus) {
	cfg := system.PipelineConfig{AccountConcurrency: 16, VisibilityTimeout: 5 * time.Second,
		Work: system.Work{ServiceTime: system.Dist{Kind: system.DistUniform, Max: 2 * time.Millisecond}}}
	p := startPipeline(t, s, b, cfg)
	const n = 400
	reqs := createMany(context.Background(), t, p, nil, n, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := p.Shutdown(ctx)
	if err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, hasInspector := b.(system.Inspector); hasInspector && !rep.Drained {
		t.Fatalf("Shutdown with time to spare did not drain: %v", rep)
	}
	if rep.Unpublished != 0 || rep.Interrupted != 0 {
		t.Fatalf("Shutdown left %d unpublished, %d interrupted: %v", rep.Unpublished, rep.Interrupted, rep)
	}
	for _, r := range reqs {
		got, err := s.Get(context.Background(), r.ID)
		if err != nil || got.ProcessedVersion != 1 {
			t.Fatalf("after a draining shutdown, %s: %+v, %v; want processed", r.ID, got, err)
		}
	}
	if _, err := p.Create(context.Background(), system.Request{State: "pending"}); !errors.Is(err, system.ErrClosed) {
		t.Fatalf("Create after Shutdown: %v, want ErrClosed", err)
	}
	t.Logf("shutdown: %v", rep)
}

// testShutdownDeadline: steps far longer than the shutdown's deadline are cut off there.
// The steps take 20 s so that the bound on the shutdown's own time (10 s: it reports the
// queues and the outbox after the deadline, which takes a loaded database a while) still
// tells cutting them off from waiting for them.
func testShutdownDeadline(t *testing.T, s system.Store, b system.Bus) {
	const step = 20 * time.Second
	cfg := system.PipelineConfig{AccountConcurrency: 8, VisibilityTimeout: 2 * step,
		Work: system.Work{ServiceTime: system.Dist{Kind: system.DistConstant, Value: step}}}
	p := startPipeline(t, s, b, cfg)
	createMany(context.Background(), t, p, nil, 40, 2)
	waitFor(t, 10*time.Second, "no invocation started", func() bool { return p.Stats().InFlight > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := p.Shutdown(ctx)
	if err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if el := time.Since(start); el > step/2 {
		t.Fatalf("Shutdown with a 200ms deadline took %v: it waited for the %v steps", el, step)
	}
	if rep.Drained || rep.Interrupted == 0 {
		t.Fatalf("Shutdown cut short with %v steps in flight: %v; want not drained and interrupted > 0", step, rep)
	}
	left := int64(0)
	for _, q := range rep.Queues {
		left += q.Visible + q.InFlight
	}
	if _, ok := b.(system.Inspector); ok && left < 40-int64(8) {
		// Nothing was processed: every message is still queued or in flight.
		t.Fatalf("report counts %d messages left, want all 40 (nothing could finish): %v", left, rep)
	}
	t.Logf("shutdown: %v", rep)
}
