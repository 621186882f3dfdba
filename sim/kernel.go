package sim

import "time"

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
// own state). Handle may schedule further events, never in the past.
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
	queue    eventQueue
	handlers []Handler
	events   int64
	stop     bool
	// vacant is set while a handler runs: its event still sits at the root of the heap, so
	// the first event the handler schedules replaces it in one pass down the heap instead
	// of a removal and an insertion. Most handlers schedule at least one event (the next
	// arrival, the end of a service), so most events cost one heap pass, not two.
	vacant bool
}

// NewKernel returns a kernel at time zero with room for sizeHint pending events.
func NewKernel(sizeHint int) *Kernel {
	return &Kernel{queue: newEventQueue(sizeHint)}
}

// Register adds a handler and returns the id to schedule its events with.
func (k *Kernel) Register(h Handler) HandlerID {
	k.handlers = append(k.handlers, h)
	return HandlerID(len(k.handlers) - 1)
}

// Now returns the current virtual time.
func (k *Kernel) Now() Time { return k.now }

// Events returns the number of events executed so far.
func (k *Kernel) Events() int64 { return k.events }

// Pending returns the number of scheduled events not yet executed.
func (k *Kernel) Pending() int {
	if k.vacant {
		return k.queue.len() - 1
	}
	return k.queue.len()
}

// Schedule runs h.Handle(op, arg) at time at (clamped to now: the past is not reachable).
func (k *Kernel) Schedule(at Time, h HandlerID, op int32, arg int64) {
	if at < k.now {
		at = k.now
	}
	k.seq++
	e := event{at: at, seq: k.seq, h: h, op: op, arg: arg}
	if k.vacant {
		k.vacant = false
		k.queue.replaceRoot(e)
		return
	}
	k.queue.push(e)
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
	for q.len() > 0 && !k.stop {
		top := q.top()
		if top.at > end {
			break
		}
		ev := *top
		k.now = ev.at
		k.events++
		k.vacant = true
		k.handlers[ev.h].Handle(ev.op, ev.arg)
		if k.vacant {
			k.vacant = false
			q.removeRoot()
		}
	}
	if !k.stop && k.now < end {
		k.now = end
	}
}
