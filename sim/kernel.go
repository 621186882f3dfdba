package sim

import (
	"fmt"
	"time"
)

// Time is virtual time in integer nanoseconds since the start of a run.
type Time int64

// Common spans of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
	Hour             = 60 * Minute
)

// Dur converts a wall-clock duration to virtual time.
func Dur(d time.Duration) Time { return Time(d) }

// Seconds returns t in seconds.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// Millis returns t in milliseconds.
func (t Time) Millis() float64 { return float64(t) / float64(Millisecond) }

// Handler is a component's event entry point. The kernel calls Handle with the opcode and
// argument given to Schedule, at the scheduled virtual time; the meaning of both is private
// to the component (an opcode per kind of event, an argument that indexes the component's
// own state). Opcodes are small, in [0, 256), and a kernel takes up to 65,536 handlers: an
// event packs both beside its sequence number. Handle may schedule further events, never
// in the past.
type Handler interface {
	Handle(op int32, arg int64)
}

// HandlerFunc adapts a function to Handler (for housekeeping and tests; models are types).
type HandlerFunc func(op int32, arg int64)

// Handle calls f(op, arg).
func (f HandlerFunc) Handle(op int32, arg int64) { f(op, arg) }

var _ Handler = HandlerFunc(nil)

// HandlerID names a registered handler in scheduled events.
type HandlerID int32

// Kernel is the event loop: a clock and a future-event list, nothing else. It owns no model
// state, starts no goroutines and never reads the wall clock, so a run is a pure function of
// its inputs. Events with equal times run in the order they were scheduled.
type Kernel struct {
	now      Time
	seq      uint64
	queue    eventList
	handlers []Handler
	events   int64
	stop     bool
	// vacant is set while a handler runs: its event still sits at the root of the heap, so
	// the first event the handler schedules replaces it in one pass down the heap instead
	// of a removal and an insertion. Most handlers schedule at least one event (the next
	// arrival, the end of a service), so most events cost one heap pass, not two.
	vacant bool

	// timers hold the events of timers (sentinel when disarmed), owners their handlers;
	// next is the index of the earliest armed one (-1: none), recomputed before the next
	// event when dirty.
	timers      []event
	owners      []HandlerID
	next        int
	timersDirty bool
}

// TimerID names a timer (see NewTimer).
type TimerID int32

// NewKernel returns a kernel at time zero with room for sizeHint pending events.
func NewKernel(sizeHint int) *Kernel {
	return &Kernel{queue: newEventList(sizeHint), next: -1}
}

// Register adds a handler and returns the id to schedule its events with.
func (k *Kernel) Register(h Handler) HandlerID {
	if len(k.handlers) == maxHandlers {
		panic(fmt.Sprintf("sim: more than %d handlers in one kernel", maxHandlers))
	}
	k.handlers = append(k.handlers, h)
	return HandlerID(len(k.handlers) - 1)
}

// Now returns the current virtual time.
func (k *Kernel) Now() Time { return k.now }

// Events returns the number of events executed so far.
func (k *Kernel) Events() int64 { return k.events }

// Pending returns the number of scheduled events not yet executed, armed timers included.
func (k *Kernel) Pending() int {
	n := k.queue.len()
	if k.vacant {
		n--
	}
	for i := range k.timers {
		if k.timers[i].tag != sentinel.tag {
			n++
		}
	}
	return n
}

// NewTimer gives handler h a timer: a single pending event, kept outside the heap, that
// SetTimer moves. A process that always has exactly one event outstanding — an arrival
// stream, whose every arrival schedules the next — costs the heap nothing then: the kernel
// compares the earliest timer with the heap's top, and a handful of timers are scanned
// when one is set. Timer events run in the same (time, scheduling order) as the others.
func (k *Kernel) NewTimer(h HandlerID) TimerID {
	k.timers = append(k.timers, sentinel)
	k.owners = append(k.owners, h)
	return TimerID(len(k.timers) - 1)
}

// SetTimer arms timer t to run its handler's Handle(op, arg) at time at (clamped to now),
// replacing the event it had pending, if any.
func (k *Kernel) SetTimer(t TimerID, at Time, op int32, arg int64) {
	if at < k.now {
		at = k.now
	}
	k.checkTag(op)
	k.seq++
	k.timers[t] = mkEvent(at, k.seq, k.owners[t], op, arg)
	k.timersDirty = true
}

// StopTimer disarms timer t.
func (k *Kernel) StopTimer(t TimerID) {
	k.timers[t] = sentinel
	k.timersDirty = true
}

// earliestTimer finds the armed timer to run first.
func (k *Kernel) earliestTimer() {
	k.timersDirty = false
	k.next = -1
	for i := range k.timers {
		if k.timers[i].tag != sentinel.tag && (k.next < 0 || k.timers[i].before(&k.timers[k.next])) {
			k.next = i
		}
	}
}

// checkTag refuses what the packed event tag (see event) cannot hold: a programming error,
// or a run of more than 2⁴⁰ events (a day of simulation at ten million events a second is
// under 2⁴⁰ by a factor of a thousand).
func (k *Kernel) checkTag(op int32) {
	// One test on the hot path, small enough to inline into Schedule and SetTimer; the
	// message is built out of line.
	if uint32(op) >= maxOps || k.seq >= maxSeq-1 { // maxSeq itself is the sentinel's
		k.badTag(op)
	}
}

//go:noinline
func (k *Kernel) badTag(op int32) {
	if uint32(op) >= maxOps {
		panic(fmt.Sprintf("sim: opcode %d is outside [0, %d)", op, maxOps))
	}
	panic("sim: more than 2^40 events scheduled in one run")
}

// Schedule runs h.Handle(op, arg) at time at (clamped to now: the past is not reachable).
func (k *Kernel) Schedule(at Time, h HandlerID, op int32, arg int64) {
	if at < k.now {
		at = k.now
	}
	k.checkTag(op)
	k.seq++
	e := mkEvent(at, k.seq, h, op, arg)
	// eventList's methods, spelled out: the list's own would add a call to every event.
	q := &k.queue
	if q.wheel {
		if k.vacant {
			k.vacant = false
			q.wq.replaceRoot(e)
			return
		}
		q.wq.push(e)
		return
	}
	if k.vacant {
		k.vacant = false
		q.heap.replaceRoot(e)
		return
	}
	q.heap.push(e)
	if q.heap.n > wheelAbove {
		q.toWheel()
	}
}

// After runs h.Handle(op, arg) after delay d.
func (k *Kernel) After(d Time, h HandlerID, op int32, arg int64) {
	k.Schedule(k.now+d, h, op, arg)
}

// Stop makes Run return after the current event.
func (k *Kernel) Stop() { k.stop = true }

// Run executes events in time order until the next one would be later than end, the list
// is empty, or Stop is called; the clock is then left at end (or at the stop time).
func (k *Kernel) Run(end Time) {
	k.stop = false
	q := &k.queue
	for !k.stop {
		if k.timersDirty {
			k.earliestTimer()
		}
		top := q.top() // a sentinel when the heap is empty
		if k.next >= 0 && k.timers[k.next].before(top) {
			tm := &k.timers[k.next]
			if tm.at > end {
				break
			}
			ev := *tm
			*tm = sentinel
			k.timersDirty = true
			k.now = ev.at
			k.events++
			k.handlers[ev.handler()].Handle(ev.op(), ev.arg)
			continue
		}
		if q.len() == 0 || top.at > end {
			break
		}
		ev := *top
		k.now = ev.at
		k.events++
		k.vacant = true
		k.handlers[ev.handler()].Handle(ev.op(), ev.arg)
		if k.vacant {
			k.vacant = false
			if q.wheel {
				q.wq.removeRoot()
				if q.wq.n < heapBelow {
					q.toHeap()
				}
			} else {
				q.heap.removeRoot()
			}
		}
	}
	if !k.stop && k.now < end {
		k.now = end
	}
}
