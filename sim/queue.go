package sim

import (
	"fmt"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindQueue, newQueue) }

// queue is an SQS standard queue, unbounded. A message is visible, in flight (received in a
// batch, invisible until it is deleted or its visibility timeout runs out), or returning (its
// batch failed or was throttled: it becomes visible again when the visibility timeout, counted
// from the receive, runs out). Every receive counts; a message coming back after max_receives
// receives moves to the dead-letter queue instead — so an always-throttled consumer dead-letters
// a message exactly max_receives × visibility_timeout after its first receive.
//
// The consumer is the event source mapping (esm) to next, a function, or next itself when it
// pulls (a deployment: see puller). A queue with no next is a sink: it keeps no messages,
// only their count; a dead-letter queue nobody consumes ends its requests as failed.
//
// Events: none per message beyond its delivery; one per batch (the invocation's end, owned by
// the function); one per distinct return time; the mapping's wake-ups (see esm).
type queue struct {
	node
	vt          Time
	maxReceives int32
	dlq         *queue
	isDLQ       bool       // some queue dead-letters here
	esm         *esm       // nil: no function consumes the queue
	pull        puller     // a consumer that pulls (a deployment's pods), instead of an esm
	fifo        *fifoQueue // nil: a standard queue (fifo.go)
	order       queueOrder // order_keys checked (ordering.go)
	// carry: a message that is the last holder of its request carries the request's end
	// itself (Model.detach) — set when nothing on the message's way looks the request up.
	carry bool

	visible   deque[qmsg]
	batches   []qbatch
	freeBatch []int32
	returns   returnHeap
	returnAt  Time // the earliest pending return event, -1 when none

	// A sink keeps only the count and the arrival of its oldest message.
	sinkFirst Time
	sinkCount int64

	maxDepth, deadLettered, redelivered int64
	maxAge                              Time
	boundDLQ                            bool

	// Billable requests (usage.go): messages sent through the API (the rest came from SNS
	// or a redrive), receive and delete requests, empty receives of idle pollers, and the
	// last arrival, for the idle gaps.
	apiSends, fromDLQ, receives, deletes, emptyReceives int64
	lastArrival                                         Time
}

var (
	_ component = (*queue)(nil)
	_ linker    = (*queue)(nil)
	_ resetter  = (*queue)(nil)
)

// qmsg is one message: the request it holds (or carried, when r is carried), its receive
// count, when it entered the queue.
type qmsg struct {
	r    ReqID
	recv int32
	sent Time
	d    detached // the request's end, when r == carried
}

// carried is the r of a message that carries its request's end (queue.carry).
const carried ReqID = -1

// qbatch is a batch in flight; its message slice is reused.
type qbatch struct {
	msgs   []qmsg
	recvAt Time
}

const (
	opQueueReturn int32 = iota
	opQueueWake
)

func newQueue(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Queue
	if spec == nil {
		return nil, fmt.Errorf("no queue settings")
	}
	q := &queue{node: *n, vt: Dur(spec.VisibilityTimeout.D()), maxReceives: int32(spec.MaxReceives), returnAt: -1, sinkFirst: -1}
	return q, nil
}

func (q *queue) link() error {
	spec := q.spec.Queue
	if spec.DeadLetter != "" {
		d, ok := q.m.component(spec.DeadLetter).(*queue)
		if !ok {
			return fmt.Errorf("dead_letter: %q is not a queue", spec.DeadLetter)
		}
		if spec.MaxReceives < 1 {
			return fmt.Errorf("dead_letter: needs max_receives >= 1")
		}
		q.dlq = d
		d.isDLQ = true
	} else if spec.MaxReceives > 0 {
		return fmt.Errorf("max_receives: needs dead_letter")
	}
	if spec.FIFO {
		f, err := newFIFOQueue(q, spec)
		if err != nil {
			return err
		}
		q.fifo = f
	}
	o, err := newQueueOrder(q, spec)
	if err != nil {
		return err
	}
	q.order = o
	if q.next == nil {
		return nil
	}
	if p, ok := q.next.(puller); ok {
		q.pull = p
		d, isDeployment := p.(*deployment)
		q.carry = isDeployment && q.carries(d.dspec.Calls)
		return nil
	}
	fn, ok := q.next.(*function)
	if !ok {
		return fmt.Errorf("next: %s is a %s; a queue's consumer is a function", q.next.base().name, q.next.base().kind)
	}
	if fn.next != nil {
		return fmt.Errorf("next: %s consumes the queue in batches and cannot hand requests on with next; let it publish to a topic through calls", fn.name)
	}
	e, err := newESM(q, fn, spec)
	if err != nil {
		return err
	}
	q.esm = e
	q.carry = q.carries(fn.spec.Function.Calls)
	return nil
}

// carries reports whether a message of q may carry its request's end, its consumer making
// calls: nothing on its way looks the request up — no FIFO group or order key, no publish
// among the calls (a publish routes on the request's attributes), and a dead-letter queue,
// if any, that only counts.
func (q *queue) carries(calls []scenarios.Call) bool {
	for _, c := range calls {
		if _, ok := q.m.component(c.To).(*topic); ok {
			return false
		}
	}
	return q.fifo == nil && q.order == nil &&
		(q.dlq == nil || q.dlq.next == nil && !q.dlq.spec.Queue.FIFO && len(q.dlq.spec.Queue.OrderKeys) == 0)
}

// accept takes a request on the synchronous path (e.g. API Gateway's SQS integration): the
// message is sent and the caller answered at once.
func (q *queue) accept(r ReqID) {
	if q.fifo != nil && q.fifo.refuseSend(r) {
		return
	}
	q.apiSends++
	q.m.hold(r)
	q.enqueue(r)
	q.m.respond(r)
}

// enqueue sends a message for request r; the message holds r.
func (q *queue) enqueue(r ReqID) {
	now := q.m.k.now
	q.st.offer()
	q.st.admit(now)
	if q.esm == nil && q.pull == nil {
		if q.sinkCount == 0 {
			q.sinkFirst = now
		}
		q.sinkCount++
		q.maxDepth = max(q.maxDepth, q.sinkCount)
		if q.isDLQ {
			q.m.fail(r) // dead-lettered and nobody will read it: the request has failed
		}
		return
	}
	q.idleGap(now)
	if q.visible.len() == 0 && q.esm != nil {
		q.esm.gatherFrom = now
	}
	if q.order != nil {
		q.order.arrive(q.m, r)
	}
	switch {
	case q.fifo != nil:
		q.fifo.arrive(qmsg{r: r, sent: now})
	case q.carry && q.m.reqs.at(r).holds == 1:
		// The last holder: the message takes the request's end along, and its slot is free
		// for the hours a backlog may keep the message.
		q.visible.push(qmsg{r: carried, sent: now, d: q.m.detach(r)})
	default:
		q.visible.push(qmsg{r: r, sent: now})
	}
	if d := q.st.inSys.v - q.st.busy.v; d > q.maxDepth {
		q.maxDepth = d
	}
	q.fill()
}

// fill lets the consumer take visible messages: the event source mapping, or the puller.
func (q *queue) fill() {
	if q.esm != nil {
		q.esm.fill()
		return
	}
	q.pull.pull(q)
}

// takeBatch receives up to n visible messages into a new batch.
func (q *queue) takeBatch(now Time, n int) int32 {
	if q.fifo != nil {
		return q.fifo.takeBatch(now, n)
	}
	b := q.newBatch(now)
	for range min(n, q.visible.len()) {
		q.receive(now, b, q.visible.pop())
	}
	q.receives += q.receiveRequests(len(q.batches[b].msgs))
	return b
}

// newBatch takes a free batch for a receive at now.
func (q *queue) newBatch(now Time) int32 {
	var b int32
	if k := len(q.freeBatch); k > 0 {
		b = q.freeBatch[k-1]
		q.freeBatch = q.freeBatch[:k-1]
	} else {
		q.batches = append(q.batches, qbatch{})
		b = int32(len(q.batches) - 1)
	}
	bt := &q.batches[b]
	bt.msgs, bt.recvAt = bt.msgs[:0], now
	return b
}

// receive moves msg into batch b, received at now.
func (q *queue) receive(now Time, b int32, msg qmsg) {
	msg.recv++
	if msg.recv == 1 {
		q.st.start(now, now-msg.sent)
	} else {
		q.st.busy.Add(now, 1)
	}
	q.maxAge = max(q.maxAge, now-msg.sent)
	q.batches[b].msgs = append(q.batches[b].msgs, msg)
}

// batchDone settles a batch whose invocation ended: deleted when it succeeded, back to the
// queue at the end of its visibility timeout when it failed.
func (q *queue) batchDone(b int32, ok bool) {
	now := q.m.k.now
	bt := &q.batches[b]
	if ok && q.fifo != nil {
		q.fifo.settle(b) // before the mapping looks for visible messages
	}
	if ok && q.order != nil {
		q.order.batchDone(q.m, bt.msgs)
	}
	if q.esm != nil {
		q.esm.batchEnded(now)
	}
	if ok {
		q.deletes += int64(len(bt.msgs)+9) / 10 // DeleteMessageBatch takes up to 10
		for i := range bt.msgs {
			msg := &bt.msgs[i]
			q.st.done(now, now-msg.sent)
			if msg.r == carried {
				q.m.finish(msg.d, false)
			} else {
				q.m.release(msg.r)
			}
		}
		q.freeBatch = append(q.freeBatch, b)
	} else {
		q.giveBack(b, max(now, bt.recvAt+q.vt))
	}
	q.fill()
}

// giveBack takes a received batch back; its messages become visible at 'at', but never at
// the instant they were received: with a visibility timeout of 0 s (which SQS allows) a
// consumer that fails in no time would otherwise take them again at that same instant,
// forever. A millisecond is less than any ReceiveMessage takes.
func (q *queue) giveBack(b int32, at Time) {
	now := q.m.k.now
	if recv := q.batches[b].recvAt; at <= recv {
		at = recv + Millisecond
	}
	q.st.busy.Add(now, -int64(len(q.batches[b].msgs)))
	q.returns.push(returning{at: at, batch: b})
	if q.returnAt < 0 || at < q.returnAt {
		q.returnAt = at
		q.m.k.Schedule(at, q.id, opQueueReturn, 0)
	}
}

func (q *queue) Handle(op int32, arg int64) {
	now := q.m.k.now
	switch op {
	case opQueueReturn:
		if now == q.returnAt {
			q.returnAt = -1
		}
		q.returnDue(now)
		if q.returns.len() > 0 {
			if at := q.returns.peek().at; q.returnAt < 0 || at < q.returnAt {
				q.returnAt = at
				q.m.k.Schedule(at, q.id, opQueueReturn, 0)
			}
		}
		q.fill()
	case opQueueWake:
		q.esm.woken(now)
	}
}

// returnDue makes the messages of every batch due by now visible again, or dead-letters
// those received max_receives times.
func (q *queue) returnDue(now Time) {
	for q.returns.len() > 0 && q.returns.peek().at <= now {
		b := q.returns.pop().batch
		if q.visible.len() == 0 && q.esm != nil {
			q.esm.gatherFrom = now
		}
		if q.fifo != nil {
			q.fifo.giveBackBatch(now, b)
			q.freeBatch = append(q.freeBatch, b)
			continue
		}
		for _, msg := range q.batches[b].msgs {
			if q.maxReceives > 0 && msg.recv >= q.maxReceives {
				q.deadLetter(now, msg)
				continue
			}
			q.redelivered++
			q.visible.push(msg)
		}
		q.freeBatch = append(q.freeBatch, b)
	}
	if d := q.st.inSys.v - q.st.busy.v; d > q.maxDepth {
		q.maxDepth = d
	}
}

func (q *queue) deadLetter(now Time, msg qmsg) {
	if q.order != nil {
		q.order.drop(q.m, msg.r)
	}
	// The message left the receive's busy count when its batch was given back (giveBack):
	// it leaves the queue without being counted out of service a second time.
	q.st.completed++
	leave(&q.st, now, msg.sent)
	q.deadLettered++
	q.m.bindOnce(&q.boundDLQ, &q.node, "max receives", func() string {
		return fmt.Sprintf("a message was received %d times without being processed (visibility timeout %v) and moved to %s",
			q.maxReceives, time.Duration(q.vt), q.dlq.name)
	})
	q.dlq.fromDLQ++
	if msg.r == carried {
		q.dlq.sinkCarried(msg.d) // carry is only set when the DLQ is a sink
		return
	}
	q.dlq.enqueue(msg.r)
}

// sinkCarried takes a dead-lettered message that carries its request into a sink.
func (q *queue) sinkCarried(d detached) {
	now := q.m.k.now
	q.st.offer()
	q.st.admit(now)
	if q.sinkCount == 0 {
		q.sinkFirst = now
	}
	q.sinkCount++
	q.maxDepth = max(q.maxDepth, q.sinkCount)
	q.m.finish(d, q.isDLQ)
}

func (q *queue) resetStats(now Time) {
	q.maxDepth = q.st.inSys.v - q.st.busy.v
	q.deadLettered, q.redelivered, q.maxAge = 0, 0, 0
	if q.fifo != nil {
		q.fifo.resetStats()
	}
	q.order.reset()
	q.apiSends, q.fromDLQ, q.receives, q.deletes, q.emptyReceives = 0, 0, 0, 0, 0
	q.lastArrival = now
}

func (q *queue) report(c *result.Component) {
	now := q.m.k.now
	oldest := Time(-1)
	older := func(t Time) {
		if oldest < 0 || t < oldest {
			oldest = t
		}
	}
	if q.sinkCount > 0 {
		older(q.sinkFirst)
	}
	for i := range q.visible.len() {
		older(q.visible.at(i).sent)
	}
	if q.fifo != nil {
		q.fifo.oldest(older)
		q.fifo.report(c)
	}
	q.order.report(c)
	for _, rt := range q.returns {
		for _, msg := range q.batches[rt.batch].msgs {
			older(msg.sent)
		}
	}
	age := q.maxAge
	if oldest >= 0 {
		age = max(age, now-oldest)
	}
	c.MaxDepth = q.maxDepth
	c.MaxAgeMS = round6(age.Millis())
	c.DeadLettered = q.deadLettered
	c.Redelivered = q.redelivered
}

// returning is a batch coming back to the queue at 'at'.
type returning struct {
	at    Time
	batch int32
}

// returnHeap is a binary min-heap of returning batches by time. Returns are not in time
// order (a throttled batch returns a visibility timeout after now, a failed one a visibility
// timeout after its receive), hence a heap rather than a ring.
type returnHeap []returning

func (h *returnHeap) len() int { return len(*h) }

func (h *returnHeap) peek() *returning { return &(*h)[0] }

func (h *returnHeap) push(x returning) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].at <= x.at {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = x
}

func (h *returnHeap) pop() returning {
	s := *h
	top := s[0]
	n := len(s) - 1
	last := s[n]
	s = s[:n]
	*h = s
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].at < s[c].at {
			c++
		}
		if last.at <= s[c].at {
			break
		}
		s[i] = s[c]
		i = c
	}
	if n > 0 {
		s[i] = last
	}
	return top
}
