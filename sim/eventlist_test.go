package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// futureEvents is what the kernel asks of an event list; the tests below drive each kind
// against a plain heap.
type futureEvents interface {
	top() *event
	push(event)
	removeRoot()
	replaceRoot(event)
	len() int
}

// sameTop requires q's earliest event to be h's, and returns it.
func sameTop(t *testing.T, q futureEvents, h *eventQueue, where string, args ...any) event {
	t.Helper()
	got, want := *q.top(), *h.top()
	if got != want {
		t.Fatalf("%s: top %+v, heap has %+v", fmt.Sprintf(where, args...), got, want)
	}
	return got
}

// drainAgainst takes every event out of q and h, requiring the same order.
func drainAgainst(t *testing.T, q futureEvents, h *eventQueue) {
	t.Helper()
	for h.len() > 0 {
		sameTop(t, q, h, "drain")
		q.removeRoot()
		h.removeRoot()
	}
}

// TestEventListMatchesHeap drives the event list and a plain heap with the same operations —
// a population that grows past wheelAbove, shrinks below heapBelow and grows again, many
// equal times among them, the root replaced as the kernel does while a handler runs — and
// requires the same events in the same order from both.
func TestEventListMatchesHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	l := newEventList(0)
	var h eventQueue
	var seq uint64
	now := Time(0)
	mk := func() event {
		seq++
		d := Time(r.IntN(1 << 12))
		if r.IntN(4) == 0 {
			d = 0 // ties with the current time
		}
		return mkEvent(now+d, seq, HandlerID(seq%7), int32(seq%5), int64(seq))
	}
	switches := 0
	wasWheel := false
	for round := 0; round < 6; round++ {
		grow := round%2 == 0
		n := 2000
		if grow {
			n = 400
		}
		for i := 0; i < n; i++ {
			if grow || l.len() == 0 || r.IntN(10) == 0 {
				e := mk()
				l.push(e)
				h.push(e)
				continue
			}
			now = sameTop(t, &l, &h, "round %d op %d", round, i).at
			if r.IntN(4) == 0 { // the handler schedules a follow-up in the root's place
				e := mk()
				l.replaceRoot(e)
				h.replaceRoot(e)
			} else {
				l.removeRoot()
				h.removeRoot()
			}
			if l.wheel != wasWheel {
				switches++
				wasWheel = l.wheel
			}
		}
		if l.len() != h.len() {
			t.Fatalf("round %d: %d events, heap has %d", round, l.len(), h.len())
		}
	}
	for h.len() > 0 {
		sameTop(t, &l, &h, "drain")
		l.removeRoot()
		h.removeRoot()
		if l.wheel != wasWheel {
			switches++
			wasWheel = l.wheel
		}
	}
	if switches < 3 {
		t.Fatalf("the list changed representation %d times; the test needs at least 3", switches)
	}
}

// BenchmarkEventListHold is BenchmarkEventQueueHold on the kernel's event list: the heap
// for 16 events, the timing wheel for the larger populations.
func BenchmarkEventListHold(b *testing.B) {
	for _, n := range []int{16, 1024, 65536} {
		b.Run(itoa(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			l := newEventList(0)
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				l.push(mkEvent(Time(r.IntN(1<<20)), seq, 0, 0, 0))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := *l.top()
				l.removeRoot()
				seq++
				l.push(mkEvent(e.at+Time(r.IntN(1<<20)), seq, 0, 0, 0))
			}
		})
	}
}

// TestRadixQueueMatchesHeap drives the radix heap alone against a plain heap with delays
// spread over every level of its digits — from nothing (ties with the current time) to
// days, log-uniform between — the root replaced as the kernel does, and now and then an
// event scheduled before last (the kernel's state between two calls of Run), which makes
// the radix heap rebuild.
func TestRadixQueueMatchesHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	q := newRadixQueue()
	var h eventQueue
	var seq uint64
	now := Time(0)
	mk := func(at Time) event {
		seq++
		return mkEvent(at, seq, HandlerID(seq%7), int32(seq%5), int64(seq))
	}
	delay := func() Time {
		switch r.IntN(8) {
		case 0:
			return 0
		case 1:
			return Time(r.IntN(16))
		}
		return Time(r.Int64N(1 << r.IntN(48)))
	}
	rebuilds := 0
	for i := 0; i < 200000; i++ {
		switch {
		case q.len() == 0 || r.IntN(3) == 0:
			e := mk(now + delay())
			q.push(e)
			h.push(e)
		case r.IntN(500) == 0 && h.top().at > now+1:
			// top has moved last to the earliest pending time; schedule before it.
			q.top()
			e := mk(now + Time(r.Int64N(int64(h.top().at-now))))
			if e.at < q.last {
				rebuilds++
			}
			q.push(e)
			h.push(e)
		default:
			now = sameTop(t, &q, &h, "op %d", i).at
			if r.IntN(2) == 0 {
				e := mk(now + delay())
				q.replaceRoot(e)
				h.replaceRoot(e)
			} else {
				q.removeRoot()
				h.removeRoot()
			}
		}
		if q.len() != h.len() {
			t.Fatalf("op %d: %d events, heap has %d", i, q.len(), h.len())
		}
	}
	drainAgainst(t, &q, &h)
	if rebuilds < 10 {
		t.Fatalf("%d rebuilds; the test needs at least 10", rebuilds)
	}
}

// TestWheelQueueMatchesHeap drives the timing wheel alone against a plain heap: delays
// from nothing (ties with the current time, and with each other inside one slot) through
// every slot of the wheel to far beyond its reach (days, held by the radix heap and moved
// onto the wheel as it turns), bursts of equal times and of distinct times within a slot
// (which crowd slots past denseSlot, run from a heap), the root replaced as the kernel
// does, the wheel emptied every 5,000 operations (it then jumps to the far events), and
// now and then an event scheduled before the current slot (the kernel's state between two
// calls of Run), which rebuilds the wheel.
func TestWheelQueueMatchesHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	q := newWheelQueue()
	var h eventQueue
	var seq uint64
	now := Time(0)
	mk := func(at Time) event {
		seq++
		return mkEvent(at, seq, HandlerID(seq%7), int32(seq%5), int64(seq))
	}
	const slot = Time(1) << wheelShift
	delay := func() Time {
		switch r.IntN(10) {
		case 0:
			return 0
		case 1:
			return Time(r.Int64N(int64(slot))) // within the current slot or the next
		case 2:
			return Time(r.Int64N(wheelSlots)) * slot // exactly on slot boundaries
		case 3:
			return wheelSlots*slot + Time(r.Int64N(int64(wheelSlots*slot))) // just beyond reach
		}
		return Time(r.Int64N(1 << r.IntN(48)))
	}
	rebuilds, jumps, farMoves, dense := 0, 0, 0, 0
	for i := 0; i < 300000; i++ {
		switch {
		case q.len() == 0 || r.IntN(3) == 0:
			e := mk(now + delay())
			if r.IntN(50) == 0 { // a burst at one time, or within one slot
				spread := Time(0)
				if r.IntN(2) == 0 {
					spread = slot
				}
				for range 1 + r.IntN(80) {
					at := e.at
					if spread > 0 {
						at += Time(r.Int64N(int64(spread)))
					}
					e := mk(at)
					q.push(e)
					h.push(e)
				}
			}
			if e.at>>wheelShift-q.c >= wheelSlots {
				farMoves++
			}
			q.push(e)
			h.push(e)
		case r.IntN(400) == 0 && h.top().at > now+slot:
			// top has turned the wheel to the earliest pending slot; schedule before it.
			q.top()
			e := mk(now + Time(r.Int64N(int64(h.top().at-now))))
			if e.at>>wheelShift < q.c {
				rebuilds++
			}
			q.push(e)
			h.push(e)
		default:
			if q.head == len(q.cur) && q.dense.n == 0 && q.onWheel == 0 && q.far.n > 0 {
				jumps++
			}
			wasDense := q.inDense
			now = sameTop(t, &q, &h, "op %d", i).at
			if q.inDense && !wasDense {
				dense++
			}
			if r.IntN(2) == 0 {
				e := mk(now + delay())
				q.replaceRoot(e)
				h.replaceRoot(e)
			} else {
				q.removeRoot()
				h.removeRoot()
			}
		}
		if q.len() != h.len() {
			t.Fatalf("op %d: %d events, heap has %d", i, q.len(), h.len())
		}
		if i%5000 == 0 {
			// Run everything within the wheel's reach, so that the next top jumps to the
			// far events (when there are any).
			for q.len() > 0 && (q.head < len(q.cur) || q.dense.n > 0 || q.onWheel > 0) {
				now = sameTop(t, &q, &h, "op %d, emptying the wheel", i).at
				q.removeRoot()
				h.removeRoot()
			}
		}
	}
	drainAgainst(t, &q, &h)
	if rebuilds < 10 || jumps < 10 || farMoves < 1000 || dense < 10 {
		t.Fatalf("%d rebuilds, %d jumps to the far events, %d far events, %d crowded slots; the test needs at least 10, 10, 1,000 and 10", rebuilds, jumps, farMoves, dense)
	}
}
