package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// fifoQueue is what makes a queue an SQS FIFO queue. SQS hands out the messages of one
// message group in the order it received them, and none of a group while an earlier
// message of it is in flight: a batch locks every group it took messages from until it is
// deleted, or — failed or throttled — until its messages become visible again after the
// visibility timeout, at the front of their groups, to be retried before anything behind
// them (a failing message blocks its group until it succeeds or is dead-lettered). So a
// consumer runs at most as many batches at once as there are groups with messages, which
// is AWS's "concurrency ≤ min(message groups, MaximumConcurrency)".
//
// The queue's visible ring holds one message per ready group — the group's oldest, when
// the group is not locked — and the rest of each group waits, parked, in a linked list in
// a slab (fnode). A receive takes a ready group's head and then the group's parked
// messages in order, up to the batch size, then the next ready group's (a batch may hold
// several groups, as Lambda's do): the standard queue's code runs unchanged on the ring.
// A ring of groups runs beside the visible ring, one entry per message, so that a receive
// knows its message's group without looking its key up again.
// Every step is O(1) per message. Groups are found by key: a dense table for a mix
// attribute (at most 256 values), a userTable holding only the users with messages in the queue
// for per-user groups, and nothing for per-request groups (every message its own group,
// never blocked: FIFO's limits without its ordering).
//
// Throughput: each API action is limited to tps calls a second (300, or the region's
// high-throughput figure): a receive that finds no call left waits for the next (the
// consumer's wake-up), and a message sent directly is refused (the sender gets an error).
// The limit is reported as binding once a second's worth of receives in a row took full
// batches and the consumer still waits: before that a wait only lets the next receive take
// more messages, and the flow is not held back.
// Deletes follow receives one for one, so they bind where receives do. Deliveries from an
// SNS FIFO topic are limited by the topic (fifotopic.go), not here.
type fifoQueue struct {
	q    *queue
	key  groupKey
	slot int // attribute slot for an attribute key

	groups   []fgroup
	free     []int32
	byAttr   [256]int32 // attribute value → group + 1 (0: none)
	byUser   userTable
	nodes    nodeSlab
	freeNode int32
	// taken records, per batch, the group of each of its messages.
	taken [][]int32

	// visibleGroups holds the group of each message of q.visible, in the same order (only
	// this file pushes to and pops from a FIFO queue's visible ring).
	visibleGroups ring[int32]

	tps        float64
	recv, send tokenBucket
	waitUntil  Time // no receive call left before this
	fullRun    int  // receives in a row that took a full batch
	batchN     int  // the batch size those receives asked for (the mapping's, or the pods')

	present, peakGroups, blocked, peakBlocked int64
	receiveWaits, sendThrottled               int64
	boundTPS, boundSend                       bool
	// order checks the group key's order (the groups keep it; this counts it).
	order orderCount
}

// groupKey is what a message group is per.
type groupKey uint8

const (
	keyAttr groupKey = iota
	keyUser
	keyRequest
)

// fgroup is one message group with messages in the queue.
type fgroup struct {
	head, tail int32 // parked messages (nodes), -1 when none
	present    int32 // messages of the group in the queue: visible, parked, in flight, returning
	locked     bool  // a batch holds some of its messages
	ready      bool  // its head is in the visible ring
	key        uint32
	maxDone    Time // the latest queue arrival of a message of the group processed
}

// fnode is a parked message.
type fnode struct {
	msg  qmsg
	next int32
}

// nodeSlab holds parked messages in fixed chunks, like the request slab: a group that
// backs up to millions of messages (one group per state, at full load) grows a chunk at a
// time and never copies what it holds.
type nodeSlab struct {
	chunks [][]fnode
	n      int32
}

const nodeChunkBits = 14

func (s *nodeSlab) at(n int32) *fnode { return &s.chunks[n>>nodeChunkBits][n&(1<<nodeChunkBits-1)] }

// add hands out a never-used node.
func (s *nodeSlab) add() int32 {
	if int(s.n>>nodeChunkBits) == len(s.chunks) {
		s.chunks = append(s.chunks, make([]fnode, 1<<nodeChunkBits))
	}
	s.n++
	return s.n - 1
}

// newFIFOQueue makes q a FIFO queue grouped by groupBy.
func newFIFOQueue(q *queue, spec *scenarios.Queue) (*fifoQueue, error) {
	f := &fifoQueue{q: q, freeNode: -1}
	switch g := spec.GroupBy; g {
	case scenarios.KeyUser:
		f.key = keyUser
	case scenarios.KeyRequest, "":
		f.key = keyRequest
	default:
		slot, _, ok := q.m.attrSlot(g)
		if !ok {
			return nil, fmt.Errorf("group_by: %q is not a workload.mix attribute, request or user", g)
		}
		f.key, f.slot = keyAttr, slot
	}
	reg := q.region.spec
	f.tps = reg.SQSFifoTPS
	if spec.HighThroughput {
		f.tps = reg.SQSFifoHighThroughputTPS
	}
	if f.tps <= 0 {
		return nil, fmt.Errorf("region %s: sqs_fifo_tps must be > 0", reg.Name)
	}
	// One second's calls of burst: SQS documents the quota per second, no burst beyond it.
	f.recv = newTokenBucket(f.tps, f.tps)
	f.send = newTokenBucket(f.tps, f.tps)
	f.order.key = spec.GroupBy
	if f.order.key == "" {
		f.order.key = scenarios.KeyRequest
	}
	return f, nil
}

// group returns the index of r's group, creating it when it has no message in the queue;
// -1 for per-request groups, which need no bookkeeping.
func (f *fifoQueue) group(r ReqID) int32 {
	var k uint32
	switch f.key {
	case keyRequest:
		return -1
	case keyUser:
		k = f.q.m.reqs.at(r).user
		g, ok := f.byUser.ref(k)
		if !ok {
			*g = f.newGroup(k)
		}
		return *g
	default:
		k = uint32(f.q.m.reqs.at(r).attrs[f.slot])
		if g := f.byAttr[k]; g > 0 {
			return g - 1
		}
		g := f.newGroup(k)
		f.byAttr[k] = g + 1
		return g
	}
}

func (f *fifoQueue) newGroup(k uint32) int32 {
	var g int32
	if n := len(f.free); n > 0 {
		g = f.free[n-1]
		f.free = f.free[:n-1]
	} else {
		f.groups = append(f.groups, fgroup{})
		g = int32(len(f.groups) - 1)
	}
	f.groups[g] = fgroup{head: -1, tail: -1, key: k}
	return g
}

// more counts a message entering the queue in group g (-1: its own group).
func (f *fifoQueue) more(g int32) {
	if g >= 0 {
		f.groups[g].present++
		if f.groups[g].present > 1 {
			return
		}
	}
	f.present++
	f.peakGroups = max(f.peakGroups, f.present)
}

// less counts a message of group g leaving the queue (processed or dead-lettered).
func (f *fifoQueue) less(g int32) {
	if g >= 0 {
		f.groups[g].present--
		if f.groups[g].present > 0 {
			return
		}
	}
	f.present--
}

// release forgets a per-user group once it has no message left and nothing holds it (an
// attribute's group keeps its order mark, so it stays).
func (f *fifoQueue) release(g int32) {
	gr := &f.groups[g]
	if f.key != keyUser || gr.present > 0 || gr.locked {
		return
	}
	f.byUser.del(gr.key)
	f.free = append(f.free, g)
}

// arrive places a message that entered the queue: visible if its group is idle, parked
// behind the group's messages otherwise.
func (f *fifoQueue) arrive(msg qmsg) {
	g := f.group(msg.r)
	f.more(g)
	if g < 0 {
		f.show(g, msg)
		return
	}
	gr := &f.groups[g]
	if !gr.locked && !gr.ready {
		gr.ready = true
		f.show(g, msg)
		return
	}
	if gr.head < 0 {
		f.blocked++ // its first parked message: the group now has messages waiting
		f.peakBlocked = max(f.peakBlocked, f.blocked)
	}
	f.parkBack(g, msg)
}

// show makes msg, of group g, visible.
func (f *fifoQueue) show(g int32, msg qmsg) {
	f.q.visible.push(msg)
	f.visibleGroups.push(g)
}

func (f *fifoQueue) node(msg qmsg) int32 {
	if n := f.freeNode; n >= 0 {
		f.freeNode = f.nodes.at(n).next
		*f.nodes.at(n) = fnode{msg: msg, next: -1}
		return n
	}
	n := f.nodes.add()
	*f.nodes.at(n) = fnode{msg: msg, next: -1}
	return n
}

func (f *fifoQueue) parkBack(g int32, msg qmsg) {
	n := f.node(msg)
	gr := &f.groups[g]
	if gr.tail >= 0 {
		f.nodes.at(gr.tail).next = n
	} else {
		gr.head = n
	}
	gr.tail = n
}

func (f *fifoQueue) parkFront(g int32, msg qmsg) {
	gr := &f.groups[g]
	if gr.head < 0 {
		f.blocked++
		f.peakBlocked = max(f.peakBlocked, f.blocked)
	}
	n := f.node(msg)
	f.nodes.at(n).next = gr.head
	gr.head = n
	if gr.tail < 0 {
		gr.tail = n
	}
}

// unpark takes group g's oldest parked message.
func (f *fifoQueue) unpark(g int32) qmsg {
	gr := &f.groups[g]
	n := gr.head
	msg := f.nodes.at(n).msg
	gr.head = f.nodes.at(n).next
	if gr.head < 0 {
		gr.tail = -1
		f.blocked--
	}
	f.nodes.at(n).next = f.freeNode
	f.freeNode = n
	return msg
}

// takeBatch receives up to n messages: ready groups' heads, each followed by its group's
// parked messages in order, every group taken locked until the batch is settled.
func (f *fifoQueue) takeBatch(now Time, n int) int32 {
	q := f.q
	b := q.newBatch(now)
	for int32(len(f.taken)) <= b {
		f.taken = append(f.taken, nil)
	}
	groups := f.taken[b][:0]
	for len(q.batches[b].msgs) < n && q.visible.len() > 0 {
		msg, g := q.visible.pop(), f.visibleGroups.pop()
		q.receive(now, b, msg)
		groups = append(groups, g)
		if g < 0 {
			continue
		}
		gr := &f.groups[g]
		gr.ready, gr.locked = false, true
		for len(q.batches[b].msgs) < n && f.groups[g].head >= 0 {
			q.receive(now, b, f.unpark(g))
			groups = append(groups, g)
		}
	}
	f.taken[b] = groups
	f.batchN = n
	if len(q.batches[b].msgs) == n {
		f.fullRun++
	} else {
		f.fullRun = 0
	}
	q.receives += q.receiveRequests(len(q.batches[b].msgs))
	return b
}

// receiveCall takes a ReceiveMessage call from the quota at now; when none is left it
// returns the time the next one comes, and counts the wait (once per wait, however often
// the consumer looks meanwhile).
func (f *fifoQueue) receiveCall(now Time) (ok bool, next Time) {
	if now < f.waitUntil {
		return false, f.waitUntil
	}
	if f.recv.take(now, 1) {
		return true, 0
	}
	f.receiveWaits++
	// The limit caps throughput once a second's calls in a row took full batches: before
	// that, waiting for a call only makes the next batch bigger, and the flow is not held
	// back.
	if q := f.q; !f.boundTPS && float64(f.fullRun) >= f.tps {
		q.m.bindOnce(&f.boundTPS, &q.node, "FIFO throughput", func() string {
			return fmt.Sprintf("a second of full batches of %d at %g ReceiveMessage calls per second per API action (%s), and more waiting",
				f.batchN, f.tps, f.mode())
		})
	}
	missing := 1 - f.recv.tokens(now)
	f.waitUntil = now + max(1, Time(missing/f.tps*float64(Second))+1)
	return false, f.waitUntil
}

func (f *fifoQueue) mode() string {
	if f.q.spec.Queue.HighThroughput {
		return "high-throughput mode"
	}
	return "with batches of 10, " + fmt.Sprint(10*f.tps) + " messages/s"
}

// refuseSend reports whether a message sent directly for r is refused by the send quota,
// and then refuses it.
func (f *fifoQueue) refuseSend(r ReqID) bool {
	q := f.q
	now := q.m.k.now
	if f.send.take(now, 1) {
		return false
	}
	f.sendThrottled++
	q.st.offer()
	q.st.refuse(now)
	q.st.throttled++
	q.m.bindOnce(&f.boundSend, &q.node, "FIFO throughput", func() string {
		return fmt.Sprintf("SendMessage refused beyond %g calls per second per API action: the sender gets an error", f.tps)
	})
	q.m.reject(r)
	return true
}

// settle releases the groups of batch b, which succeeded (its messages are deleted):
// each group's next message, if any, becomes visible. A group's messages are consecutive
// in a batch (takeBatch takes a group's parked messages right after its head), so each
// group is unlocked after its last message, in one pass.
func (f *fifoQueue) settle(b int32) {
	groups := f.taken[b]
	for i, msg := range f.q.batches[b].msgs {
		g := groups[i]
		f.less(g)
		if g < 0 {
			f.order.checked++ // a group of its own: nothing to be out of order with
			continue
		}
		f.order.done(msg.sent, &f.groups[g].maxDone)
		if i+1 == len(groups) || groups[i+1] != g {
			f.unlock(g)
		}
	}
}

// unlock frees group g: its oldest parked message becomes visible, or the group is
// forgotten when it has none.
func (f *fifoQueue) unlock(g int32) {
	gr := &f.groups[g]
	gr.locked = false
	if gr.head >= 0 {
		gr.ready = true
		f.show(g, f.unpark(g))
		return
	}
	f.release(g)
}

// giveBackBatch returns batch b's messages to the front of their groups (in their order),
// or dead-letters those received max_receives times, and unlocks the groups.
func (f *fifoQueue) giveBackBatch(now Time, b int32) {
	q := f.q
	msgs := q.batches[b].msgs
	groups := f.taken[b]
	for i, msg := range msgs {
		if q.maxReceives > 0 && msg.recv >= q.maxReceives {
			f.less(groups[i])
			q.deadLetter(now, msg)
		}
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		msg, g := msgs[i], groups[i]
		if q.maxReceives > 0 && msg.recv >= q.maxReceives {
			continue
		}
		q.redelivered++
		if g < 0 {
			f.show(g, msg)
			continue
		}
		f.parkFront(g, msg)
	}
	for i, g := range groups {
		if g >= 0 && (i == 0 || groups[i-1] != g) {
			f.unlock(g)
		}
	}
}

// oldest reports the queue arrival of every parked message to older.
func (f *fifoQueue) oldest(older func(Time)) {
	for i := range f.groups {
		if n := f.groups[i].head; n >= 0 {
			older(f.nodes.at(n).msg.sent) // a group's parked messages are in arrival order
		}
	}
}

func (f *fifoQueue) resetStats() {
	f.peakGroups, f.peakBlocked = f.present, f.blocked
	f.receiveWaits, f.sendThrottled = 0, 0
	f.order.reset()
}

func (f *fifoQueue) report(c *result.Component) {
	c.FIFO = &result.FIFOFigures{
		GroupBy:    f.order.key,
		PeakGroups: f.peakGroups, PeakBlockedGroups: f.peakBlocked,
		TPS: f.tps, ReceiveWaits: f.receiveWaits, SendThrottled: f.sendThrottled,
	}
	if f.q.esm != nil || f.q.pull != nil { // a sink processes nothing: no order to count
		c.Ordering = append(c.Ordering, f.order.result())
	}
}
