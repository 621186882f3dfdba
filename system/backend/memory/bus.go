package memory

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom/headroom/system"
)

// Bus is the embedded topic-and-queues bus: SNS-like fan-out through filter policies to
// SQS-like queues with visibility timeouts, redrive to a dead-letter queue and a FIFO mode.
type Bus struct {
	epoch time.Time // deadlines are monotonic nanoseconds since epoch

	declareMu sync.Mutex
	topo      atomic.Pointer[topology] // immutable once declared
	closed    atomic.Bool

	dedupMu sync.Mutex
	dedup   map[string]int64 // dedup id → expiry
	dedupQ  ring[dedupEntry] // in publish order, so expiry order

	published, unrouted, deduplicated atomic.Int64
}

type topology struct {
	spec   system.Topology
	window int64
	queues []*queue
	byName map[string]*queue
	subs   []subscription
}

type subscription struct {
	q      *queue
	filter system.FilterPolicy
}

type dedupEntry struct {
	id     string
	expiry int64
}

var (
	_ system.Bus           = (*Bus)(nil)
	_ system.Releaser      = (*Bus)(nil)
	_ system.Inspector     = (*Bus)(nil)
	_ system.Pinger        = (*Bus)(nil)
	_ system.MetricsSource = (*Bus)(nil)
)

// NewBus returns a bus with no topology; Declare one before publishing.
func NewBus() *Bus {
	return &Bus{epoch: time.Now(), dedup: make(map[string]int64)}
}

func (b *Bus) mono() int64 { return int64(time.Since(b.epoch)) }

// Declare implements system.Declarer. Declaring the same topology again is a no-op; a
// different one is refused, since queues already hold messages routed by the first.
func (b *Bus) Declare(ctx context.Context, t system.Topology) error {
	if err := t.Validate(); err != nil {
		return err
	}
	b.declareMu.Lock()
	defer b.declareMu.Unlock()
	if b.closed.Load() {
		return fmt.Errorf("declare: %w", system.ErrClosed)
	}
	if cur := b.topo.Load(); cur != nil {
		if reflect.DeepEqual(cur.spec, t) {
			return nil
		}
		return fmt.Errorf("declare %s: a different topology (%s) is already declared on this bus: %w",
			t.Topic, cur.spec.Topic, system.ErrInvalid)
	}
	window := t.DedupWindow
	if window == 0 {
		window = system.DefaultDedupWindow
	}
	tp := &topology{spec: t, window: int64(window), byName: make(map[string]*queue, len(t.Queues))}
	for _, qs := range t.Queues {
		q := newQueue(b, qs, t.FIFO)
		tp.queues = append(tp.queues, q)
		tp.byName[qs.Name] = q
	}
	for _, q := range tp.queues {
		if q.spec.DeadLetter != "" {
			q.dlq = tp.byName[q.spec.DeadLetter]
		}
	}
	for _, s := range t.Subscriptions {
		tp.subs = append(tp.subs, subscription{q: tp.byName[s.Queue], filter: s.Filter})
	}
	b.topo.Store(tp)
	return nil
}

func (b *Bus) queue(name string) (*queue, error) {
	tp := b.topo.Load()
	if tp == nil {
		return nil, fmt.Errorf("queue %s: no topology declared: %w", name, system.ErrNotFound)
	}
	q := tp.byName[name]
	if q == nil {
		return nil, fmt.Errorf("queue %s: %w", name, system.ErrNotFound)
	}
	return q, nil
}

// Publish implements system.Publisher.
func (b *Bus) Publish(ctx context.Context, m system.Message) error {
	if b.closed.Load() {
		return fmt.Errorf("publish: %w", system.ErrClosed)
	}
	tp := b.topo.Load()
	if tp == nil {
		return fmt.Errorf("publish: no topology declared: %w", system.ErrNotFound)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := b.mono()
	if tp.spec.FIFO {
		if m.GroupID == "" {
			return fmt.Errorf("publish to FIFO topic %s: group id is required: %w", tp.spec.Topic, system.ErrInvalid)
		}
		if m.DedupID != "" && b.seen(m.DedupID, now, tp.window) {
			b.deduplicated.Add(1)
			return nil
		}
	}
	b.published.Add(1)
	sent := time.Now()
	routed := false
	for i := range tp.subs {
		s := &tp.subs[i]
		if s.filter.Match(m.Attributes) {
			s.q.enqueue(m, sent, now)
			routed = true
		}
	}
	if !routed {
		b.unrouted.Add(1)
	}
	return nil
}

// seen records id and reports whether it was already recorded within the window.
func (b *Bus) seen(id string, now, window int64) bool {
	b.dedupMu.Lock()
	defer b.dedupMu.Unlock()
	for b.dedupQ.len() > 0 && b.dedupQ.front().expiry <= now {
		e := b.dedupQ.pop()
		if b.dedup[e.id] == e.expiry {
			delete(b.dedup, e.id)
		}
	}
	if exp, ok := b.dedup[id]; ok && exp > now {
		return true
	}
	b.dedup[id] = now + window
	b.dedupQ.push(dedupEntry{id: id, expiry: now + window})
	return false
}

// Receive implements system.Receiver.
func (b *Bus) Receive(ctx context.Context, name string, opt system.ReceiveOptions, dst []system.Delivery) ([]system.Delivery, error) {
	q, err := b.queue(name)
	if err != nil {
		return dst, err
	}
	return q.receive(ctx, opt, dst)
}

// Ack implements system.Acker.
func (b *Bus) Ack(ctx context.Context, name string, receipts ...string) error {
	q, err := b.queue(name)
	if err != nil {
		return err
	}
	return q.ack(receipts)
}

// Release implements system.Releaser.
func (b *Bus) Release(ctx context.Context, name, receipt string, delay time.Duration) error {
	q, err := b.queue(name)
	if err != nil {
		return err
	}
	return q.release(receipt, delay)
}

// QueueStats implements system.Inspector.
func (b *Bus) QueueStats(ctx context.Context, name string) (system.QueueStats, error) {
	q, err := b.queue(name)
	if err != nil {
		return system.QueueStats{}, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return system.QueueStats{Visible: int64(q.nMsgs - q.nHidden), InFlight: int64(q.nHidden)}, nil
}

// Ping implements system.Pinger.
func (b *Bus) Ping(ctx context.Context) error {
	if b.closed.Load() {
		return system.ErrClosed
	}
	return nil
}

// Close stops the bus: waiting receivers return ErrClosed, publishes are refused, and the
// messages still queued are dropped with the process.
func (b *Bus) Close() error {
	b.declareMu.Lock()
	defer b.declareMu.Unlock()
	if b.closed.Swap(true) {
		return nil
	}
	if tp := b.topo.Load(); tp != nil {
		for _, q := range tp.queues {
			q.close()
		}
	}
	return nil
}

// Counters is a snapshot of the bus's totals.
type Counters struct {
	Published, Unrouted, Deduplicated int64
	// Redelivered counts visibility timeouts and releases that made a message visible again;
	// DeadLettered counts moves to a dead-letter queue. Both summed over queues.
	Redelivered, DeadLettered int64
}

// Counters returns the bus's totals.
func (b *Bus) Counters() Counters {
	c := Counters{Published: b.published.Load(), Unrouted: b.unrouted.Load(), Deduplicated: b.deduplicated.Load()}
	if tp := b.topo.Load(); tp != nil {
		for _, q := range tp.queues {
			c.Redelivered += q.redelivered.Load()
			c.DeadLettered += q.deadLettered.Load()
		}
	}
	return c
}

// Collectors implements system.MetricsSource.
func (b *Bus) Collectors() []prometheus.Collector { return []prometheus.Collector{busCollector{b}} }

var (
	descBusPublished    = prometheus.NewDesc("headroom_bus_published_total", "Messages accepted by the topic (after deduplication).", nil, nil)
	descBusUnrouted     = prometheus.NewDesc("headroom_bus_unrouted_total", "Published messages that matched no subscription and were dropped.", nil, nil)
	descBusDeduplicated = prometheus.NewDesc("headroom_bus_deduplicated_total", "FIFO publishes dropped as duplicates within the deduplication window.", nil, nil)
	descBusRedelivered  = prometheus.NewDesc("headroom_bus_redelivered_total", "Messages made visible again after their visibility timeout or a release, by queue.", []string{"queue"}, nil)
	descBusDeadLettered = prometheus.NewDesc("headroom_bus_dead_lettered_total", "Messages moved to the dead-letter queue, by source queue.", []string{"queue"}, nil)
)

type busCollector struct{ b *Bus }

func (c busCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBusPublished
	ch <- descBusUnrouted
	ch <- descBusDeduplicated
	ch <- descBusRedelivered
	ch <- descBusDeadLettered
}

func (c busCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descBusPublished, prometheus.CounterValue, float64(c.b.published.Load()))
	ch <- prometheus.MustNewConstMetric(descBusUnrouted, prometheus.CounterValue, float64(c.b.unrouted.Load()))
	ch <- prometheus.MustNewConstMetric(descBusDeduplicated, prometheus.CounterValue, float64(c.b.deduplicated.Load()))
	if tp := c.b.topo.Load(); tp != nil {
		for _, q := range tp.queues {
			ch <- prometheus.MustNewConstMetric(descBusRedelivered, prometheus.CounterValue, float64(q.redelivered.Load()), q.spec.Name)
			ch <- prometheus.MustNewConstMetric(descBusDeadLettered, prometheus.CounterValue, float64(q.deadLettered.Load()), q.spec.Name)
		}
	}
}

// queue is one SQS-like queue. Messages live in slots (a slab indexed by int32, reused
// through a free list) so that a receipt is just "slot-generation": acknowledging needs no
// map, and a stale receipt (the slot was redelivered or reused since) is detected by the
// generation.
type queue struct {
	bus        *Bus
	spec       system.QueueSpec
	visibility int64
	fifo       bool
	dlq        *queue

	mu      sync.Mutex
	closed  bool
	slots   []slot
	free    []int32
	nMsgs   int // live messages
	nHidden int // in flight or released with a delay
	// Standard mode: visible messages in arrival order (redeliveries at the back).
	visible ring[int32]
	// FIFO mode: messages per group in order; groups whose head may be delivered now.
	groups map[string]*group
	ready  ring[*group]
	// inflight is in receive order, which is deadline order because the visibility timeout
	// is constant; entries made stale by an ack are dropped lazily.
	inflight ring[flight]
	delayed  flightHeap
	timer    *time.Timer
	armedAt  int64 // deadline the timer is set for; 0 when not armed
	waiters  ring[*waiter]

	redelivered, deadLettered atomic.Int64
}

type slotState uint8

const (
	slotFree slotState = iota
	slotVisible
	slotInFlight
	slotDelayed
)

type slot struct {
	gen      uint32
	state    slotState
	receives int
	msg      system.Message
	sent     time.Time
	grp      *group
}

type flight struct {
	idx      int32
	gen      uint32
	deadline int64
}

type group struct {
	id     string
	msgs   ring[int32]
	busy   bool // its head is in flight
	queued bool // it is in the ready ring
}

// waiter is a blocked receiver. Its state is guarded by the queue's mutex; a waiter that
// gave up stays in the ring marked cancelled and is dropped by whoever pops it.
type waiter struct {
	ch    chan struct{}
	state uint8
}

const (
	waiterIdle uint8 = iota
	waiterWaiting
	waiterSignaled
	waiterCancelled
)

var waiterPool = sync.Pool{New: func() any { return &waiter{ch: make(chan struct{}, 1)} }}

func newQueue(b *Bus, spec system.QueueSpec, fifo bool) *queue {
	vis := spec.VisibilityTimeout
	if vis == 0 {
		vis = system.DefaultVisibilityTimeout
	}
	q := &queue{bus: b, spec: spec, visibility: int64(vis), fifo: fifo}
	if fifo {
		q.groups = make(map[string]*group)
	}
	q.timer = time.AfterFunc(time.Hour, q.onTimer)
	q.timer.Stop()
	return q
}

// enqueue adds a message; now is the bus's monotonic time.
func (q *queue) enqueue(m system.Message, sent time.Time, now int64) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.add(m, sent, 0)
	q.signal(1)
	q.mu.Unlock()
}

// add stores a message as visible. Callers hold q.mu.
func (q *queue) add(m system.Message, sent time.Time, receives int) {
	var idx int32
	if n := len(q.free); n > 0 {
		idx = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		q.slots = append(q.slots, slot{})
		idx = int32(len(q.slots) - 1)
	}
	s := &q.slots[idx]
	s.state, s.receives, s.msg, s.sent = slotVisible, receives, m, sent
	q.nMsgs++
	if !q.fifo {
		q.visible.push(idx)
		return
	}
	g := q.groups[m.GroupID]
	if g == nil {
		g = &group{id: m.GroupID}
		q.groups[m.GroupID] = g
	}
	s.grp = g
	g.msgs.push(idx)
	if !g.busy && !g.queued {
		g.queued = true
		q.ready.push(g)
	}
}

// signal wakes up to n waiting receivers. Callers hold q.mu.
func (q *queue) signal(n int) {
	for n > 0 && q.waiters.len() > 0 {
		w := q.waiters.pop()
		if w.state == waiterCancelled {
			w.state = waiterIdle
			waiterPool.Put(w)
			continue
		}
		w.state = waiterSignaled
		w.ch <- struct{}{}
		n--
	}
}

func (q *queue) available() bool {
	if q.fifo {
		return q.ready.len() > 0
	}
	return q.visible.len() > 0
}

func (q *queue) receive(ctx context.Context, opt system.ReceiveOptions, dst []system.Delivery) ([]system.Delivery, error) {
	want := max(opt.Max, 1)
	start := len(dst)
	var (
		w      *waiter
		window *time.Timer
		err    error
	)
	q.mu.Lock()
	for {
		if q.closed {
			err = fmt.Errorf("receive %s: %w", q.spec.Name, system.ErrClosed)
			break
		}
		dst = q.take(dst, want-(len(dst)-start))
		got := len(dst) - start
		if got >= want || (got > 0 && opt.Window <= 0) {
			break
		}
		if err = ctx.Err(); err != nil {
			if got > 0 {
				err = nil
			}
			break
		}
		if got > 0 && window == nil {
			window = time.NewTimer(opt.Window)
		}
		if w == nil {
			w = waiterPool.Get().(*waiter)
		}
		// Drop cancelled waiters at the front so the ring does not keep them.
		for q.waiters.len() > 0 && q.waiters.front().state == waiterCancelled {
			c := q.waiters.pop()
			c.state = waiterIdle
			waiterPool.Put(c)
		}
		w.state = waiterWaiting
		q.waiters.push(w)
		q.mu.Unlock()
		var windowC <-chan time.Time
		if window != nil {
			windowC = window.C
		}
		expired := false
		select {
		case <-w.ch:
		case <-ctx.Done():
		case <-windowC:
			expired = true
		}
		q.mu.Lock()
		if w.state == waiterWaiting {
			// Not signaled: leave it in the ring for the next signal to discard.
			w.state = waiterCancelled
			w = nil
		} else {
			w.state = waiterIdle
		}
		if expired {
			dst = q.take(dst, want-(len(dst)-start))
			break
		}
	}
	// A signal this receiver consumed may be owed to another one.
	if q.available() {
		q.signal(1)
	}
	q.mu.Unlock()
	if w != nil {
		select { // a signal sent after we stopped waiting
		case <-w.ch:
		default:
		}
		waiterPool.Put(w)
	}
	if window != nil {
		window.Stop()
	}
	return dst, err
}

// take moves up to n visible messages in flight and appends their deliveries. Callers hold
// q.mu.
func (q *queue) take(dst []system.Delivery, n int) []system.Delivery {
	if n <= 0 || !q.available() {
		return dst
	}
	deadline := q.bus.mono() + q.visibility
	for ; n > 0; n-- {
		var idx int32
		if q.fifo {
			if q.ready.len() == 0 {
				break
			}
			g := q.ready.pop()
			g.queued, g.busy = false, true
			idx = g.msgs.front()
		} else {
			if q.visible.len() == 0 {
				break
			}
			idx = q.visible.pop()
		}
		s := &q.slots[idx]
		s.state = slotInFlight
		s.receives++
		s.gen++
		q.nHidden++
		q.inflight.push(flight{idx: idx, gen: s.gen, deadline: deadline})
		dst = append(dst, system.Delivery{
			Message:      s.msg,
			Queue:        q.spec.Name,
			Receipt:      receipt(idx, s.gen),
			ReceiveCount: s.receives,
			SentAt:       s.sent,
		})
	}
	q.arm(deadline)
	return dst
}

// arm makes the timer fire by deadline. Callers hold q.mu.
func (q *queue) arm(deadline int64) {
	if q.armedAt != 0 && q.armedAt <= deadline {
		return
	}
	q.armedAt = deadline
	q.timer.Reset(time.Duration(max(deadline-q.bus.mono(), 0)))
}

func receipt(idx int32, gen uint32) string {
	var buf [24]byte
	b := strconv.AppendUint(buf[:0], uint64(idx), 36)
	b = append(b, '-')
	b = strconv.AppendUint(b, uint64(gen), 36)
	return string(b)
}

func parseReceipt(r string) (idx int32, gen uint32, ok bool) {
	a, b, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.ParseUint(a, 36, 31)
	g, err2 := strconv.ParseUint(b, 36, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return int32(i), uint32(g), true
}

var errStaleReceipt = errors.New("receipt is stale or unknown")

// inFlight returns the slot a receipt names if that delivery is still in flight. Callers
// hold q.mu.
func (q *queue) inFlight(r string) (int32, *slot, error) {
	idx, gen, ok := parseReceipt(r)
	if !ok || int(idx) >= len(q.slots) {
		return 0, nil, fmt.Errorf("queue %s: receipt %q: %w: %w", q.spec.Name, r, errStaleReceipt, system.ErrNotFound)
	}
	s := &q.slots[idx]
	if s.gen != gen || s.state != slotInFlight {
		return 0, nil, fmt.Errorf("queue %s: receipt %q: %w: %w", q.spec.Name, r, errStaleReceipt, system.ErrNotFound)
	}
	return idx, s, nil
}

func (q *queue) ack(receipts []string) error {
	var first error
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("ack %s: %w", q.spec.Name, system.ErrClosed)
	}
	woke := 0
	for _, r := range receipts {
		idx, s, err := q.inFlight(r)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if q.fifo && q.finishGroupHead(s.grp) {
			woke++
		}
		q.nHidden--
		q.freeSlot(idx)
	}
	// Acks come roughly in receive order: drop acknowledged entries at the front now so the
	// in-flight ring stays as small as the work actually in flight.
	for q.inflight.len() > 0 && q.stale(q.inflight.front()) {
		q.inflight.pop()
	}
	if q.inflight.len() == 0 && q.delayed.Len() == 0 && q.armedAt != 0 {
		q.timer.Stop()
		q.armedAt = 0
	}
	q.signal(woke)
	return first
}

// finishGroupHead removes the head of g (acknowledged or dead-lettered) and reports whether
// the group has a next message ready. Callers hold q.mu.
func (q *queue) finishGroupHead(g *group) bool {
	g.msgs.pop()
	g.busy = false
	if g.msgs.len() == 0 {
		delete(q.groups, g.id)
		return false
	}
	g.queued = true
	q.ready.push(g)
	return true
}

func (q *queue) freeSlot(idx int32) {
	s := &q.slots[idx]
	s.gen++
	s.state = slotFree
	s.msg = system.Message{}
	s.grp = nil
	q.free = append(q.free, idx)
	q.nMsgs--
}

func (q *queue) stale(f flight) bool {
	s := &q.slots[f.idx]
	return s.gen != f.gen || s.state != slotInFlight
}

func (q *queue) release(r string, delay time.Duration) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("release %s: %w", q.spec.Name, system.ErrClosed)
	}
	idx, s, err := q.inFlight(r)
	if err != nil {
		q.mu.Unlock()
		return err
	}
	s.gen++ // the receipt is spent
	var dead []deadLetter
	if delay <= 0 {
		dead = q.reappear(idx, dead)
	} else {
		s.state = slotDelayed
		deadline := q.bus.mono() + int64(delay)
		heap.Push(&q.delayed, flight{idx: idx, gen: s.gen, deadline: deadline})
		q.arm(deadline)
	}
	q.mu.Unlock()
	q.forward(dead)
	return nil
}

type deadLetter struct {
	msg  system.Message
	sent time.Time
}

// reappear makes a hidden message visible again, or collects it for the dead-letter queue
// when it has been received MaxReceives times. Callers hold q.mu.
func (q *queue) reappear(idx int32, dead []deadLetter) []deadLetter {
	s := &q.slots[idx]
	q.nHidden--
	if q.spec.MaxReceives > 0 && s.receives >= q.spec.MaxReceives && q.dlq != nil {
		dead = append(dead, deadLetter{msg: s.msg, sent: s.sent})
		if q.fifo && q.finishGroupHead(s.grp) {
			q.signal(1)
		}
		q.freeSlot(idx)
		q.deadLettered.Add(1)
		return dead
	}
	q.redelivered.Add(1)
	s.state = slotVisible
	if q.fifo {
		g := s.grp
		g.busy = false
		if !g.queued {
			g.queued = true
			q.ready.push(g)
		}
	} else {
		q.visible.push(idx)
	}
	q.signal(1)
	return dead
}

// forward moves dead letters into the dead-letter queue, outside q.mu so that no two queue
// locks are ever held together.
func (q *queue) forward(dead []deadLetter) {
	if len(dead) == 0 {
		return
	}
	q.dlq.mu.Lock()
	defer q.dlq.mu.Unlock()
	if q.dlq.closed {
		return
	}
	for _, d := range dead {
		q.dlq.add(d.msg, d.sent, 0)
	}
	q.dlq.signal(len(dead))
}

func (q *queue) onTimer() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.armedAt = 0
	now := q.bus.mono()
	var dead []deadLetter
	for q.inflight.len() > 0 && q.inflight.front().deadline <= now {
		f := q.inflight.pop()
		if q.stale(f) {
			continue
		}
		q.slots[f.idx].gen++ // the receipt expires with the visibility timeout
		dead = q.reappear(f.idx, dead)
	}
	for q.delayed.Len() > 0 && q.delayed[0].deadline <= now {
		f := heap.Pop(&q.delayed).(flight)
		if s := &q.slots[f.idx]; s.gen == f.gen && s.state == slotDelayed {
			dead = q.reappear(f.idx, dead)
		}
	}
	for q.inflight.len() > 0 && q.stale(q.inflight.front()) {
		q.inflight.pop()
	}
	next := int64(0)
	if q.inflight.len() > 0 {
		next = q.inflight.front().deadline
	}
	if q.delayed.Len() > 0 && (next == 0 || q.delayed[0].deadline < next) {
		next = q.delayed[0].deadline
	}
	if next != 0 {
		q.arm(next)
	}
	q.mu.Unlock()
	q.forward(dead)
}

func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.timer.Stop()
	q.signal(q.waiters.len())
}

// flightHeap orders released messages by the time they become visible again.
type flightHeap []flight

func (h flightHeap) Len() int           { return len(h) }
func (h flightHeap) Less(i, j int) bool { return h[i].deadline < h[j].deadline }
func (h flightHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *flightHeap) Push(x any)        { *h = append(*h, x.(flight)) }
func (h *flightHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	*h = old[:len(old)-1]
	return f
}
