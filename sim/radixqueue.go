package sim

import (
	"math/bits"
	"slices"
)

// radixQueue is a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan 1990) of events with
// digits of radixDigit bits rather than single bits: a monotone priority queue, valid
// because the kernel never schedules into the past. It holds the timing wheel's events
// beyond the wheel's reach (wheelqueue.go).
//
// Times are compared with last, the time of the latest minimum taken. An event at exactly
// last sits in bucket 0, in scheduling order, consumed from its head. Any other event sits
// at level L, the digit where its time first differs from last (counting digits from the
// low end), in the bucket of its own digit there: all events of a level share last's
// higher digits, so the level's lowest non-empty bucket holds its earliest events, and the
// lowest non-empty level holds the earliest of all. When bucket 0 runs dry, that bucket's
// earliest time becomes last and its events are redistributed against it; they all agree
// with the new last down to digit L, so each lands at a lower level, and every other bucket
// stays where it is (each event there still first differs from the new last at the same
// digit). An event moves at most once per level, and in practice once or twice before it
// runs: with single-bit digits (the textbook radix heap) events moved 5.6 times on average
// in the baseline, and redistributing them was a tenth of the run.
//
// Order among equal times is scheduling order, exactly as in the heap: every new event
// carries the largest sequence number yet, events of equal time always share a bucket, a
// redistribution keeps the relative order of the events it moves, and the buckets it moves
// them into are empty (they are all below the one it empties).
type radixQueue struct {
	last Time
	n    int
	head int // next event of bucket 0
	// levels has bit L set when level L holds events; digits[L] has bit d set when bucket d
	// of level L does.
	levels uint32
	digits [radixLevels]uint64
	b      [1 + radixLevels*radixBase][]event
	// mins[i] is the earliest time in bucket i ≥ 1 (maxTime when it is empty), kept as
	// events arrive so that a refill need not scan its bucket for it first.
	mins    [1 + radixLevels*radixBase]Time
	scratch []event // for rebuild
}

const (
	radixDigit  = 4
	radixBase   = 1 << radixDigit
	radixLevels = (63 + radixDigit - 1) / radixDigit // times are non-negative: 63 bits
)

// maxTime is later than any event: the minimum of an empty bucket.
const maxTime = Time(1<<63 - 1)

func newRadixQueue() radixQueue {
	var q radixQueue
	for k := range q.mins {
		q.mins[k] = maxTime
	}
	return q
}

// radixBucket returns the bucket of time at against last (at > last), and its level and
// digit.
func radixBucket(at, last Time) (i int, level, digit uint) {
	level = uint(bits.Len64(uint64(at^last))-1) / radixDigit
	digit = uint(at>>(level*radixDigit)) & (radixBase - 1)
	return 1 + int(level*radixBase+digit), level, digit
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

// minAt returns the earliest pending time, maxTime when the queue is empty, without moving
// any event or last (as top may): the wheel asks it whether a far event is within reach.
func (q *radixQueue) minAt() Time {
	if q.head < len(q.b[0]) {
		return q.b[0][q.head].at
	}
	if q.n == 0 {
		return maxTime
	}
	level := uint(bits.TrailingZeros32(q.levels))
	return q.mins[1+int(level*radixBase)+bits.TrailingZeros64(q.digits[level])]
}

// emptyTop is what top returns for an empty queue; nobody writes it.
var emptyTop = sentinel

// refill moves the earliest events into the empty bucket 0.
func (q *radixQueue) refill() {
	level := uint(bits.TrailingZeros32(q.levels))
	digit := uint(bits.TrailingZeros64(q.digits[level]))
	i := 1 + int(level*radixBase+digit)
	if q.digits[level] &^= 1 << digit; q.digits[level] == 0 {
		q.levels &^= 1 << level
	}
	src := q.b[i]
	m := q.mins[i]
	q.mins[i] = maxTime
	q.last = m
	q.b[i] = src[:0]
	if len(src) == 1 { // the common case once times are spread out: no redistribution
		q.b[0], q.head = append(q.b[0][:0], src[0]), 0
		return
	}
	q.b[0], q.head = q.b[0][:0], 0
	for j := range src {
		at := src[j].at
		if at == m {
			q.b[0] = append(q.b[0], src[j])
			continue
		}
		k, l, d := radixBucket(at, m)
		q.b[k] = append(q.b[k], src[j])
		q.mins[k] = min(q.mins[k], at)
		q.digits[l] |= 1 << d
		q.levels |= 1 << l
	}
}

func (q *radixQueue) push(e event) {
	q.n++
	if e.at == q.last {
		q.b[0] = append(q.b[0], e)
		return
	}
	if e.at < q.last {
		q.rebuild(e.at)
		q.b[0] = append(q.b[0], e)
		return
	}
	k, l, d := radixBucket(e.at, q.last)
	q.b[k] = append(q.b[k], e)
	q.mins[k] = min(q.mins[k], e.at)
	q.digits[l] |= 1 << d
	q.levels |= 1 << l
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

// rebuild re-buckets every event relative to an earlier last. As the wheel's far set the
// queue is only popped for events within the wheel's reach, which precede every later far
// event, except when the wheel rebuilds and takes all of them: the next far event may then
// fall before last, once per rebuild of the wheel, not per event.
func (q *radixQueue) rebuild(last Time) {
	s := append(q.scratch[:0], q.b[0][q.head:]...)
	q.b[0], q.head = q.b[0][:0], 0
	for k := 1; k < len(q.b); k++ {
		s = append(s, q.b[k]...)
		q.b[k] = q.b[k][:0]
	}
	q.levels = 0
	clear(q.digits[:])
	for k := range q.mins {
		q.mins[k] = maxTime
	}
	slices.SortFunc(s, func(a, b event) int { return int(lessBit(&b, &a)) - int(lessBit(&a, &b)) })
	q.last = last
	for _, e := range s {
		if e.at == last {
			q.b[0] = append(q.b[0], e)
			continue
		}
		k, l, d := radixBucket(e.at, last)
		q.b[k] = append(q.b[k], e)
		q.mins[k] = min(q.mins[k], e.at)
		q.digits[l] |= 1 << d
		q.levels |= 1 << l
	}
	q.scratch = s[:0]
}
