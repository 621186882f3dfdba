package sim

import (
	"math"
	"math/bits"
)

// event is a value: scheduling one never allocates once the queue has grown to the run's
// working size. 24 bytes: the time, a tag that packs the sequence number (high 40 bits) with
// the handler (16) and the opcode (8), and the argument. Packing keeps the heap small —
// four children in 96 bytes — which is what large heaps are limited by.
type event struct {
	at  Time
	tag uint64 // seq<<24 | h<<8 | op: ordering by tag is ordering by seq
	arg int64
}

const (
	tagSeqShift = 24
	maxHandlers = 1 << 16
	maxOps      = 1 << 8
	maxSeq      = 1<<(64-tagSeqShift) - 1
)

func (e *event) handler() HandlerID { return HandlerID(e.tag >> 8 & (maxHandlers - 1)) }
func (e *event) op() int32          { return int32(e.tag & (maxOps - 1)) }

func mkEvent(at Time, seq uint64, h HandlerID, op int32, arg int64) event {
	return event{at: at, tag: seq<<tagSeqShift | uint64(h)<<8 | uint64(op), arg: arg}
}

// before orders events by (at, seq) as one 128-bit unsigned number (see lessBit).
func (a *event) before(b *event) bool { return lessBit(a, b) != 0 }

// lessBit is 1 when a runs before b and 0 otherwise: the borrow out of the two-word
// subtraction (at, tag) − (at, tag); the tag's high bits are the sequence number, and
// sequence numbers are unique, so its low bits never decide. Times are never negative (Schedule clamps to now ≥ 0),
// so the unsigned view orders them correctly. As a number rather than a bool it lets the
// heap pick the smallest of four children by arithmetic, with no branch: with random event
// times a branchy comparison mispredicts about half the time, and that was the largest
// single cost of the event loop.
func lessBit(a, b *event) uint64 {
	_, borrow := bits.Sub64(a.tag, b.tag, 0)
	_, borrow = bits.Sub64(uint64(a.at), uint64(b.at), borrow)
	return borrow
}

// sentinel pads the heap: it sorts after every real event (whose seq is never MaxUint64),
// so a node's missing children can be compared like present ones.
var sentinel = event{at: math.MaxInt64, tag: math.MaxUint64}

// eventQueue is an implicit 4-ary min-heap of events. A 4-ary heap halves the depth of a
// binary one and keeps the four children of a node in one or two cache lines, which is what
// dominates at the sizes a simulation keeps pending (tens to tens of thousands).
//
// The array always extends arity−1 sentinels past the last event, so every node that has a
// child has four slots to compare and sifting down never takes the short-family path.
type eventQueue struct {
	items []event // n events, then arity−1 sentinels
	n     int
}

const arity = 4

func newEventQueue(sizeHint int) eventQueue {
	q := eventQueue{items: make([]event, arity-1, sizeHint+arity-1)}
	for i := range q.items {
		q.items[i] = sentinel
	}
	return q
}

// len returns the number of events.
func (q *eventQueue) len() int { return q.n }

// top returns the earliest event; the queue must not be empty.
func (q *eventQueue) top() *event { return &q.items[0] }

func (q *eventQueue) push(e event) {
	if q.items == nil {
		*q = newEventQueue(0)
	}
	// The slot at n is a sentinel; the new last padding slot is appended.
	q.items = append(q.items, sentinel)
	i := q.n
	q.n++
	items := q.items
	for i > 0 {
		p := (i - 1) / arity
		if lessBit(&e, &items[p]) == 0 {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = e
}

// pop removes and returns the earliest event; the queue must not be empty.
func (q *eventQueue) pop() event {
	top := q.items[0]
	q.removeRoot()
	return top
}

// removeRoot drops the root: the last event fills the hole from the top, and its slot
// becomes padding.
func (q *eventQueue) removeRoot() {
	q.n--
	n := q.n
	last := q.items[n]
	q.items[n] = sentinel
	q.items = q.items[:n+arity-1]
	if n > 0 {
		q.down(last)
	}
}

// replaceRoot puts e in place of the root in one pass down the heap: the kernel uses it when
// a handler schedules an event while the event it is handling still sits at the root, which
// saves the pop's and the push's separate passes (heapreplace in Python's heapq).
func (q *eventQueue) replaceRoot(e event) { q.down(e) }

// down fills the hole at the root with e. It is Wegener's bottom-up variant: the hole first
// sinks to a leaf along the smallest children, without comparing them with e, then e rises
// from there. The event put at the root is the heap's last one or a new one, both usually
// later than most pending events, so it rises little; and the descent's only branch is the
// loop bound, which the branch predictor learns, where the textbook loop's "is e smaller
// than this child" mispredicts at every level.
func (q *eventQueue) down(e event) {
	items := q.items
	n := q.n
	i := 0
	for {
		c := i*arity + 1
		if c >= n {
			break
		}
		// A branch-free tournament over the four child slots (padding included): two
		// independent comparisons, then one between their winners. A sentinel never wins
		// against the real child at c.
		ch := items[c : c+arity : c+arity]
		m01 := int(lessBit(&ch[1], &ch[0]))
		m23 := 2 + int(lessBit(&ch[3], &ch[2]))
		w := -int(lessBit(&ch[m23&3], &ch[m01&3])) // all ones when the right pair wins
		m := (m01 ^ ((m01 ^ m23) & w)) & 3
		items[i] = ch[m]
		i = c + m
	}
	for i > 0 {
		p := (i - 1) / arity
		if lessBit(&e, &items[p]) == 0 {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = e
}
