package sim

import (
	"math/bits"
	"slices"
)

// radixQueue is a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan 1990) of events: a
// monotone priority queue, valid because the kernel never schedules into the past. Bucket
// k > 0 holds the events whose time first differs from last — the time of the latest
// minimum taken — at bit k−1 (k = bitlen(at ^ last)); bucket 0 holds the events at exactly
// last, in scheduling order, and is consumed from its head. When bucket 0 runs dry, the
// lowest non-empty bucket is scanned for its earliest time, which becomes last, and its
// events are redistributed to lower buckets. An event moves to a strictly lower bucket each
// time it moves, so scheduling and taking one cost O(1) amortised, against the heap's
// O(log n) pass.
//
// Order among equal times is scheduling order, exactly as in the heap: every new event
// carries the largest sequence number yet, and redistribution keeps the relative order of
// the events it moves, so within each bucket the events of one time are in sequence order.
type radixQueue struct {
	last    Time
	n       int
	head    int    // next event of bucket 0
	nonzero uint64 // bit k set when bucket k (k ≥ 1) holds events
	b       [64][]event
	// mins[k] is the earliest time in bucket k ≥ 1 (maxTime when it is empty), kept as
	// events arrive so that a refill need not scan its bucket for it first.
	mins    [64]Time
	scratch []event // for rebuild
}

// maxTime is later than any event: the minimum of an empty bucket.
const maxTime = Time(1<<63 - 1)

func newRadixQueue() radixQueue {
	var q radixQueue
	for k := range q.mins {
		q.mins[k] = maxTime
	}
	return q
}

// len returns the number of events.
func (q *radixQueue) len() int { return q.n }

// top returns the earliest event, or the sentinel when the queue is empty. It may advance
// last to the earliest pending time.
func (q *radixQueue) top() *event {
	if q.head < len(q.b[0]) {
		return &q.b[0][q.head]
	}
	if q.n == 0 {
		return &emptyTop
	}
	q.refill()
	return &q.b[0][q.head]
}

// emptyTop is what top returns for an empty queue; nobody writes it.
var emptyTop = sentinel

// refill moves the earliest events into the empty bucket 0.
func (q *radixQueue) refill() {
	i := bits.TrailingZeros64(q.nonzero)
	src := q.b[i]
	m := q.mins[i]
	q.mins[i] = maxTime
	if len(src) == 1 { // the common case once times are spread out: no redistribution
		q.last = m
		q.b[0], q.head = append(q.b[0][:0], src[0]), 0
		q.b[i] = src[:0]
		q.nonzero &^= 1 << i
		return
	}
	q.last = m
	q.b[0], q.head = q.b[0][:0], 0
	for j := range src {
		at := src[j].at
		k := bits.Len64(uint64(at ^ m))
		q.b[k] = append(q.b[k], src[j])
		q.mins[k] = min(q.mins[k], at)
		q.nonzero |= 1 << k
	}
	q.b[i] = src[:0]
	q.nonzero &^= 1<<i | 1
}

func (q *radixQueue) push(e event) {
	if e.at < q.last {
		q.rebuild(e.at)
	}
	k := bits.Len64(uint64(e.at ^ q.last))
	q.b[k] = append(q.b[k], e)
	q.mins[k] = min(q.mins[k], e.at)
	q.nonzero |= 1 << k
	q.nonzero &^= 1
	q.n++
}

// removeRoot drops the earliest event; top must have been called since the last change.
func (q *radixQueue) removeRoot() {
	q.head++
	q.n--
	if q.head == len(q.b[0]) {
		q.b[0], q.head = q.b[0][:0], 0
	}
}

// replaceRoot drops the earliest event and schedules e.
func (q *radixQueue) replaceRoot(e event) {
	q.removeRoot()
	q.push(e)
}

// pop removes and returns the earliest event; the queue must not be empty.
func (q *radixQueue) pop() event {
	e := *q.top()
	q.removeRoot()
	return e
}

// rebuild re-buckets every event relative to an earlier last. top advances last to the
// earliest pending time even when the kernel then stops short of it (Run's end), so an
// event scheduled after Run returns may fall before last; this happens once per Run, not per
// event.
func (q *radixQueue) rebuild(last Time) {
	s := append(q.scratch[:0], q.b[0][q.head:]...)
	q.b[0], q.head = q.b[0][:0], 0
	for k := 1; k < len(q.b); k++ {
		s = append(s, q.b[k]...)
		q.b[k] = q.b[k][:0]
	}
	q.nonzero = 0
	for k := range q.mins {
		q.mins[k] = maxTime
	}
	slices.SortFunc(s, func(a, b event) int { return int(lessBit(&b, &a)) - int(lessBit(&a, &b)) })
	q.last = last
	for _, e := range s {
		k := bits.Len64(uint64(e.at ^ last))
		q.b[k] = append(q.b[k], e)
		q.mins[k] = min(q.mins[k], e.at)
		q.nonzero |= 1 << k
	}
	q.nonzero &^= 1
	q.scratch = s[:0]
}
