package sim

import (
	"math/bits"
	"slices"
)

// wheelQueue is a timing wheel (a calendar queue of fixed width) over the radix heap: the
// event list for large populations. Time is cut into slots of 2^wheelShift nanoseconds
// (131 µs); the wheel holds the events of the wheelSlots slots after the current one (537
// ms), each slot a list of events in a node slab, and a bitmap finds the next slot that
// holds any. The current slot's events sit sorted in cur and are taken from its head; an
// event scheduled into the current slot is inserted there in order. Events beyond the
// wheel's reach wait in the radix heap (far) and move onto the wheel as it turns towards
// them.
//
// Why: in the baseline at its peak 1,000 to 2,000 events are pending, almost all between
// 16 and 270 ms ahead, 15 a millisecond run. The radix heap filed each of them at the
// digit where its time first differs from the latest, and moved it down a digit at a time
// as the clock approached: 2.19 moves an event over a baseline day, about 175
// instructions an event in all, a seventh of the simulator's. On the wheel an event is
// written once into its slot and once into cur, and a slot holds 1.8 events at the peak,
// sorted by insertion. Measured: the simulator's instructions in the baseline's peak
// (cachegrind) 5,354 M against the radix heap's 5,594 M; the six bundled scenarios' 2 h
// peaks compared side by side (headroom compare --horizon 2h), 71.9 and 72.1 s of CPU
// against 74.0 and 73.9 s, alternating, results identical. Wider slots (262 µs) took fewer
// instructions and more time. The slot width suits up to a few tens of events a slot;
// where events are far denser (BenchmarkEventListHold: 1,024 pending within a
// millisecond), a crowded slot runs from a heap and the wheel costs up to 1.6× the radix
// heap's time, never its O(k) an event of a sorted slot.
//
// Order is (time, scheduling order), exactly as in the heap: a slot's events are sorted by
// both when the slot becomes current (or held in a heap ordered by both), and an event
// scheduled into the current slot is inserted after every event that runs before it.
type wheelQueue struct {
	cur  []event // the current slot's events, sorted; cur[head] is the earliest
	head int
	// dense holds the current slot's events instead of cur when the slot holds more than
	// denseSlot (inDense): sorting a crowded slot and inserting into it by moving the
	// later events along would cost O(k) an event, the heap costs O(log k).
	dense   eventQueue
	inDense bool
	n       int  // events in all: cur's from head on, dense's, the slots', far's
	c       Time // the current slot's number: at >> wheelShift for every event in cur
	// heads[s] is 1 + the first node of slot s's list (0: empty); occupied has bit s set
	// when slot s holds events, summary bit w when occupied[w] has any.
	heads    [wheelSlots]int32
	occupied [wheelSlots / 64]uint64
	summary  uint64
	onWheel  int // events in the slots
	nodes    []wheelNode
	free     int32 // 1 + the first free node (0: none)
	// far holds the events of slots wheelSlots or more after the current one; farMin is the
	// earliest of their times (maxTime when none), so that a turn asks the radix heap only
	// when one of them comes within reach.
	far     radixQueue
	farMin  Time
	scratch []event // for rebuild
}

type wheelNode struct {
	e    event
	next int32 // 1 + the next node of the list (0: none)
}

const (
	denseSlot  = 32
	wheelShift = 17
	wheelSlots = 4096 // at most 64 × 64, what summary can index
	wheelMask  = wheelSlots - 1
)

func newWheelQueue() wheelQueue { return wheelQueue{far: newRadixQueue(), farMin: maxTime} }

// len returns the number of events.
func (q *wheelQueue) len() int { return q.n }

// start sets the current slot to at's, for an empty queue about to be filled with events
// at or after at.
func (q *wheelQueue) start(at Time) { q.c = at >> wheelShift }

// top returns the earliest event, or the sentinel when the queue is empty. It may turn the
// wheel to the next slot that holds events.
func (q *wheelQueue) top() *event {
	if q.head < len(q.cur) {
		return &q.cur[q.head]
	}
	if q.inDense {
		if q.dense.n > 0 {
			return q.dense.top()
		}
		q.inDense = false
	}
	if q.n == 0 {
		return &emptyTop
	}
	q.turn()
	if q.inDense {
		return q.dense.top()
	}
	return &q.cur[q.head]
}

// turn makes the next slot with events current; cur is empty and the queue is not.
func (q *wheelQueue) turn() {
	q.cur, q.head = q.cur[:0], 0
	if q.onWheel == 0 {
		// Nothing within reach: jump to the far events' first slot.
		q.c = q.farMin >> wheelShift
		q.pullFar() // the first far event, at least, is in the current slot now
		return
	}
	s := q.nextSlot()
	q.c += Time((s - int(q.c&wheelMask)) & wheelMask)
	w := s >> 6
	if q.occupied[w] &^= 1 << (s & 63); q.occupied[w] == 0 {
		q.summary &^= 1 << w
	}
	i := q.heads[s]
	q.heads[s] = 0
	for i != 0 {
		nd := &q.nodes[i-1]
		q.cur = append(q.cur, nd.e)
		next := nd.next
		nd.next = q.free
		q.free = i
		i = next
		q.onWheel--
	}
	switch {
	case len(q.cur) > denseSlot:
		for _, e := range q.cur {
			q.dense.push(e)
		}
		q.cur, q.inDense = q.cur[:0], true
	case len(q.cur) > 1:
		sortEvents(q.cur)
	}
	if q.farMin>>wheelShift-q.c < wheelSlots {
		q.pullFar()
	}
}

// nextSlot returns the first slot after the current one, cyclically, that holds events;
// the wheel must hold some.
func (q *wheelQueue) nextSlot() int {
	st := int((q.c + 1) & wheelMask)
	w := st >> 6
	if m := q.occupied[w] & (^uint64(0) << (st & 63)); m != 0 {
		return w<<6 | bits.TrailingZeros64(m)
	}
	m := q.summary & (^uint64(0) << (w + 1)) // the words after w (none when w is the last)
	if m == 0 {
		// Wrap around: the words up to w, whose bits from st on are clear.
		m = q.summary & (^uint64(0) >> (63 - w))
	}
	w = bits.TrailingZeros64(m)
	return w<<6 | bits.TrailingZeros64(q.occupied[w])
}

// pullFar moves the far events that the current slot's wheel reaches onto it. It looks at
// the earliest with minAt, not top: top would move the radix heap's last up to an event
// still out of reach, and every far event scheduled before that one would then make the
// radix heap rebuild.
func (q *wheelQueue) pullFar() {
	for q.far.n > 0 && q.far.minAt()>>wheelShift-q.c < wheelSlots {
		q.place(q.far.pop())
	}
	q.farMin = q.far.minAt()
}

// sortEvents sorts a slot's events by (time, scheduling order). A slot's list comes out
// newest first, so it is reversed first: events scheduled in time order (the common case)
// are then already sorted.
func sortEvents(s []event) {
	slices.Reverse(s)
	if len(s) > 24 {
		slices.SortFunc(s, func(a, b event) int { return int(lessBit(&b, &a)) - int(lessBit(&a, &b)) })
		return
	}
	for i := 1; i < len(s); i++ {
		e := s[i]
		j := i
		for j > 0 && lessBit(&e, &s[j-1]) != 0 {
			s[j] = s[j-1]
			j--
		}
		s[j] = e
	}
}

func (q *wheelQueue) push(e event) {
	q.n++
	q.place(e)
}

// place files e: in cur, on the wheel or far.
func (q *wheelQueue) place(e event) {
	d := e.at>>wheelShift - q.c
	switch {
	case d == 0:
		if q.inDense {
			q.dense.push(e)
			return
		}
		q.insertCur(e)
	case d > 0 && d < wheelSlots:
		i := q.free
		if i == 0 {
			q.nodes = append(q.nodes, wheelNode{})
			i = int32(len(q.nodes))
		} else {
			q.free = q.nodes[i-1].next
		}
		s := int(e.at>>wheelShift) & wheelMask
		q.nodes[i-1] = wheelNode{e: e, next: q.heads[s]}
		q.heads[s] = i
		q.occupied[s>>6] |= 1 << (s & 63)
		q.summary |= 1 << (s >> 6)
		q.onWheel++
	case d > 0:
		q.far.push(e)
		q.farMin = min(q.farMin, e.at)
	default:
		q.rebuild(e)
	}
}

// insertCur puts e into the current slot after every event that runs before it. A slot
// that the insertions crowd past denseSlot moves to the heap.
func (q *wheelQueue) insertCur(e event) {
	if len(q.cur)-q.head >= denseSlot {
		for _, x := range q.cur[q.head:] {
			q.dense.push(x)
		}
		q.cur, q.head, q.inDense = q.cur[:0], 0, true
		q.dense.push(e)
		return
	}
	j := len(q.cur)
	q.cur = append(q.cur, e)
	for j > q.head && lessBit(&e, &q.cur[j-1]) != 0 {
		q.cur[j] = q.cur[j-1]
		j--
	}
	q.cur[j] = e
}

// removeRoot drops the earliest event; top must have been called since the last change.
func (q *wheelQueue) removeRoot() {
	q.n--
	if q.inDense {
		q.dense.removeRoot()
		return
	}
	q.head++
	if q.head == len(q.cur) {
		q.cur, q.head = q.cur[:0], 0
	}
}

// replaceRoot drops the earliest event and schedules e.
func (q *wheelQueue) replaceRoot(e event) {
	q.removeRoot()
	q.push(e)
}

// pop removes and returns the earliest event; the queue must not be empty.
func (q *wheelQueue) pop() event {
	e := *q.top()
	q.removeRoot()
	return e
}

// rebuild refiles every event around e, which falls before the current slot, and files e.
// top turns the wheel to the next slot with events even when the kernel then runs a timer
// first or stops short of it (Run's end), so an event that the timer's handler, or a
// caller between two calls of Run, schedules may fall before it. In the bundled runs that
// is rare (no rebuild shows in a comparison's profile): their timers schedule events
// milliseconds ahead, and a slot is 131 µs.
func (q *wheelQueue) rebuild(e event) {
	all := append(q.scratch[:0], q.cur[q.head:]...)
	for s := range q.heads {
		for i := q.heads[s]; i != 0; i = q.nodes[i-1].next {
			all = append(all, q.nodes[i-1].e)
		}
	}
	for q.far.n > 0 {
		all = append(all, q.far.pop())
	}
	for q.dense.n > 0 {
		all = append(all, q.dense.pop())
	}
	n := q.n
	far, cur, dense := q.far, q.cur[:0], q.dense
	*q = wheelQueue{cur: cur, dense: dense, far: far, farMin: maxTime, nodes: q.nodes[:0], n: n, c: e.at >> wheelShift}
	for _, x := range all {
		q.place(x)
	}
	q.place(e)
	q.scratch = all[:0]
}
