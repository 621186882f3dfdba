package sim

import (
	"fmt"
	"math"

	"github.com/headroom/headroom/scenarios"
)

// esm is the event source mapping through which a function polls a queue (Lambda's SQS
// pollers). It runs up to 'limit' batches at once; a batch is up to batch_size visible
// messages, started as soon as a slot is free — or, with a batching window, once the batch
// is full or the window since the gathering began has passed.
//
// The limit follows AWS's description of the pollers: it starts at poller_start, grows by
// up to poller_ramp_per_m per minute while messages remain with every slot busy, up to
// poller_max (and max_concurrency when set), and falls back toward poller_start at the same
// pace while slots sit idle with nothing to read. The ramp is kept lazily: the level moves
// at each examination (a message arrives, a batch ends, a wake-up) by the rate × the time
// since the previous one, in the direction the previous examination left it — there is no
// ramp event, and no polling while idle.
//
// A throttled invoke gives the batch back (its messages return after the visibility
// timeout, their receive counts already spent, so throttling can dead-letter them, as in
// AWS) and backs the mapping off: for throttle_backoff it runs no more batches than it has
// in flight (a slot freed by the function's own completion is refilled at once — that
// environment is free and warm — which cannot be throttled), and its level drops to what it
// holds. One wake-up event at the end of the back-off resumes it; the ramp then starts again
// from there, which probes the free concurrency at the ramp's pace, as pollers do.
type esm struct {
	q         *queue
	fn        *function
	batchSize int
	window    Time
	start     float64
	cap       float64
	rate      float64 // level per nanosecond
	capName   string  // "max concurrency" or "poller max"

	level float64
	trend int8 // +1 growing, -1 shrinking, 0 still; set by the previous examination
	last  Time
	// active counts batches in flight.
	active int
	// holdCap bounds the batches in flight until backoffUntil.
	holdCap      int
	backoff      Time
	backoffUntil Time
	// gatherFrom is when the current gathering of a batch began (batching window).
	gatherFrom Time
	wakeAt     Time // the earliest pending wake-up, -1 when none
	boundCap   bool
	// pollDelay and repoll: pollers between a finished batch and their next receive.
	pollDelay Time
	repoll    ring[Time]
	_         [56]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

func newESM(q *queue, fn *function, spec *scenarios.Queue) (*esm, error) {
	if spec.BatchSize < 1 {
		return nil, fmt.Errorf("batch_size: must be >= 1")
	}
	if spec.PollerStart < 1 || spec.PollerMax < spec.PollerStart {
		return nil, fmt.Errorf("poller_start must be >= 1 and poller_max >= poller_start")
	}
	if spec.PollDelay < 0 {
		return nil, fmt.Errorf("poll_delay: must be >= 0")
	}
	if spec.ThrottleBackoff <= 0 {
		return nil, fmt.Errorf("throttle_backoff: must be > 0 (a mapping that retried a throttled invoke at once would never let time pass)")
	}
	e := &esm{
		q: q, fn: fn, batchSize: spec.BatchSize, window: Dur(spec.BatchingWindow.D()),
		start: float64(spec.PollerStart), cap: float64(spec.PollerMax), capName: "poller max",
		rate:    float64(spec.PollerRampPerM) / float64(Minute),
		backoff: Dur(spec.ThrottleBackoff.D()), wakeAt: -1, pollDelay: Dur(spec.PollDelay.D()),
	}
	if spec.MaxConcurrency > 0 && float64(spec.MaxConcurrency) < e.cap {
		e.cap, e.capName = float64(spec.MaxConcurrency), "max concurrency"
	}
	e.start = math.Min(e.start, e.cap)
	e.level = e.start
	return e, nil
}

// limit is the number of batches the mapping may have in flight at now.
func (e *esm) limit(now Time) int {
	l := int(e.level)
	if now < e.backoffUntil && e.holdCap < l {
		l = e.holdCap
	}
	return l
}

// accrue moves the level by the ramp over the time since the last examination.
func (e *esm) accrue(now Time) {
	if dt := now - e.last; dt > 0 {
		switch e.trend {
		case 1:
			e.level = math.Min(e.cap, e.level+e.rate*float64(dt))
		case -1:
			e.level = math.Max(e.start, e.level-e.rate*float64(dt))
		}
	}
	e.last = now
}

// fill starts batches while messages are visible and the limit allows.
func (e *esm) fill() {
	q := e.q
	now := q.m.k.now
	e.accrue(now)
	for q.visible.len() > 0 && e.active < e.limit(now) {
		if e.window > 0 && q.visible.len() < e.batchSize && now < e.gatherFrom+e.window {
			e.wake(e.gatherFrom + e.window)
			break
		}
		if q.fifo != nil {
			if ok, next := q.fifo.receiveCall(now); !ok {
				e.wake(next)
				break
			}
		}
		b := q.takeBatch(now, e.batchSize)
		if !e.fn.invokeBatch(q, b) {
			q.giveBack(b, now+q.vt)
			e.throttled(now)
			break
		}
		e.active++
		e.gatherFrom = now
	}
	switch {
	case now < e.backoffUntil:
		e.trend = 0
		if q.visible.len() > 0 {
			e.wake(e.backoffUntil)
		}
	case q.visible.len() > 0 && e.active >= e.limit(now):
		e.trend = 1
		if e.level >= e.cap {
			q.m.bindOnce(&e.boundCap, &q.node, e.capName, func() string {
				return fmt.Sprintf("messages wait with all %d batches of the mapping to %s in flight", int(e.cap), e.fn.name)
			})
		}
	case q.visible.len() == 0 && e.active < int(e.level):
		e.trend = -1
	default:
		e.trend = 0
	}
}

// throttled backs the mapping off after a throttled invoke.
func (e *esm) throttled(now Time) {
	e.level = math.Max(e.start, float64(e.active))
	e.holdCap = e.active
	e.backoffUntil = now + e.backoff
	e.trend = 0
}

// wake makes sure the mapping is examined again at 'at'.
func (e *esm) wake(at Time) {
	if e.wakeAt >= 0 && e.wakeAt <= at {
		return
	}
	e.wakeAt = at
	e.q.m.k.Schedule(at, e.q.id, opQueueWake, 0)
}

// batchEnded frees the poller of a batch that is over: at once when nothing waits, else
// after its poll delay.
func (e *esm) batchEnded(now Time) {
	if e.pollDelay > 0 && e.q.visible.len() > 0 {
		e.repoll.push(now + e.pollDelay)
		e.wake(now + e.pollDelay)
		return
	}
	e.active--
}

// woken handles a wake-up event: pollers back from their receive, the end of a back-off or
// of a batching window.
func (e *esm) woken(now Time) {
	if now == e.wakeAt {
		e.wakeAt = -1
	}
	for e.repoll.len() > 0 && *e.repoll.peek() <= now {
		e.repoll.pop()
		e.active--
	}
	if e.repoll.len() > 0 {
		e.wake(*e.repoll.peek())
	}
	e.fill()
}
