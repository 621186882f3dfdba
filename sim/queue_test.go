package sim

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// With a consumer that is always throttled (its scaling bucket is empty and never refills:
// no environment can ever start), every receive is given back and counts. A message is
// received at arrival, at +30 s and at +60 s; when it comes back at +90 s it has been
// received max_receives = 3 times and moves to the dead-letter queue: exactly
// max_receives × visibility_timeout after its first receive. Nobody reads the DLQ, so the
// request ends failed.
//
// Arrivals every 7 s never meet a return (7 does not divide 30 or 60), so the mapping's
// 1 ms back-off never delays a first receive.
func TestAlwaysThrottledConsumerDeadLettersAfterMaxReceivesTimesVisibility(t *testing.T) {
	reg := testRegion()
	reg.LambdaScalingBurst, reg.LambdaScalingRefillRate = 0, 0
	q := queueComp("q", "proc", func(q *scenarios.Queue) {
		q.MaxReceives, q.DeadLetter = 3, "dlq"
		q.ThrottleBackoff = scenarios.Duration(time.Millisecond)
	})
	sc := deterministic(1.0/7, time.Hour, "q", reg, q, fn("proc", time.Second), queueComp("dlq", ""))
	m := runModel(t, sc)
	qc, dlq := comp[*queue](t, m, "q"), comp[*queue](t, m, "dlq")
	// Arrivals at 7 s, 14 s, … 3,598 s; those by 3,510 s are dead-lettered by the horizon.
	require.Equal(t, int64(3510/7), qc.deadLettered)
	require.Equal(t, qc.deadLettered, dlq.st.offered)
	require.Equal(t, qc.deadLettered, m.failed)
	require.Equal(t, qc.deadLettered, qc.st.completed, "a dead-lettered message leaves the queue")
	// Nothing stays in service (every receive is throttled and given back at once), and the
	// queue holds what has arrived and not yet been dead-lettered: the 13 arrivals of the
	// last 90 s, all waiting to come back. A dead letter counted out of service twice drove
	// busy to −501 and left each one in the depth for good (max depth 514).
	require.Equal(t, int64(0), qc.st.busy.Value())
	require.Equal(t, receivesPending(qc)+int64(qc.visible.len()), qc.st.inSys.Value())
	require.Equal(t, int64(13), qc.st.inSys.Value())
	require.LessOrEqual(t, qc.maxDepth, int64(13))
	s := qc.st.sojourn
	require.Equal(t, 90_000.0, s.MeanMS())
	require.Equal(t, 90*Second, s.max)
	require.Equal(t, 2*qc.deadLettered+2*0, qc.redelivered-redeliveredInFlight(qc))
	p := comp[*function](t, m, "proc")
	require.Equal(t, p.st.throttled, 3*qc.deadLettered+redeliveredInFlight(qc)+int64(qc.visible.len())+receivesPending(qc))
	require.Equal(t, int64(0), p.invocations)
	limits := []string{}
	for _, b := range m.breaks {
		limits = append(limits, b.Component+" "+b.Limit)
	}
	require.Equal(t, []string{"proc scaling rate", "q max receives"}, limits)
	requireChecksPass(t, m)
}

// redeliveredInFlight and receivesPending count, for messages not yet dead-lettered at the
// horizon, the redeliveries and throttled receives they have had so far.
func redeliveredInFlight(q *queue) int64 {
	var n int64
	for _, rt := range q.returns {
		for _, msg := range q.batches[rt.batch].msgs {
			n += int64(msg.recv) - 1
		}
	}
	return n
}

func receivesPending(q *queue) int64 {
	var n int64
	for _, rt := range q.returns {
		n += int64(len(q.batches[rt.batch].msgs))
	}
	return n
}

// With a backlog that never clears (2,000 messages/s, each taking 10 minutes), the mapping
// starts at 5 concurrent batches and adds 300 a minute: 5 + 300 × N after N minutes, until
// poller_max.
func TestEventSourceMappingRampsByItsRatePerMinute(t *testing.T) {
	for _, minutes := range []int{1, 2, 3} {
		q := queueComp("q", "proc", func(q *scenarios.Queue) { q.BatchSize = 1 })
		reg := testRegion()
		reg.LambdaConcurrency, reg.LambdaScalingBurst = 10000, 10000
		sc := deterministic(2000, time.Duration(minutes)*time.Minute, "q", reg, q, fn("proc", 10*time.Minute))
		m := runModel(t, sc)
		got := comp[*function](t, m, "proc").st.busy.Peak()
		want := int64(5 + 300*minutes)
		// The level grows continuously from the first moment the backlog formed (the sixth
		// arrival, at 3 ms), so it is a fraction of a batch short of the whole number.
		require.Equal(t, want-1, got, "after %d min", minutes)
		require.Empty(t, m.breaks)
	}
	// poller_max caps it, and binds.
	q := queueComp("q", "proc", func(q *scenarios.Queue) { q.BatchSize, q.PollerMax = 1, 400 })
	reg := testRegion()
	reg.LambdaConcurrency, reg.LambdaScalingBurst = 10000, 10000
	m := runModel(t, deterministic(2000, 3*time.Minute, "q", reg, q, fn("proc", 10*time.Minute)))
	require.Equal(t, int64(400), comp[*function](t, m, "proc").st.busy.Peak())
	require.Equal(t, "poller max", m.breaks[0].Limit)
}

// The pollers fall back towards poller_start while idle, at the ramp's pace. The level is
// lazy: it is brought up to date when the mapping is looked at (accrue).
func TestEventSourceMappingScalesBackWhenIdle(t *testing.T) {
	q := queueComp("q", "proc", func(q *scenarios.Queue) { q.BatchSize = 1 })
	reg := testRegion()
	reg.LambdaConcurrency, reg.LambdaScalingBurst = 10000, 10000
	// 200/s of 5 s each need 1,000 batches at once: the backlog grows for the 2 minutes of
	// arrivals while the level climbs 300 a minute to ≈ 605.
	sc := deterministic(200, 2*time.Minute, "q", reg, q, fn("proc", 5*time.Second))
	m := runModel(t, sc)
	e := comp[*queue](t, m, "q").esm
	e.accrue(m.k.now)
	require.InDelta(t, 605, e.level, 1)
	require.Greater(t, comp[*queue](t, m, "q").visible.len(), 10000)
	// Once the arrivals stop, the level climbs on until the backlog drains, then falls 300 a
	// minute, down to poller_start.
	m.k.Run(m.horizon + time2(time.Hour))
	require.Equal(t, 0, e.active)
	e.accrue(m.k.now)
	require.Equal(t, 5.0, e.level)
	require.Equal(t, m.completed, m.accepted)
}

// A failed batch (function errors) comes back after the visibility timeout counted from its
// receive, and the messages are received again; successful batches are deleted. With enough
// pollers that nothing waits, a message that failed k times stays 2 s + k × 30 s.
func TestFailedBatchesComeBackAfterTheVisibilityTimeout(t *testing.T) {
	q := queueComp("q", "proc", func(q *scenarios.Queue) { q.BatchSize, q.PollerStart = 1, 100 })
	proc := fn("proc", 2*time.Second, func(f *scenarios.Function) { f.ErrorRate = 0.5 })
	sc := deterministic(1, 30*time.Minute, "q", testRegion(), q, proc)
	m := runDrained(t, sc)
	qc := comp[*queue](t, m, "q")
	p := comp[*function](t, m, "proc")
	require.Equal(t, int64(1800), qc.st.completed, "every message processed in the end")
	require.Equal(t, p.errors, qc.redelivered)
	require.InDelta(t, 1800, float64(p.errors), 150, "one failure per success on average")
	require.Equal(t, 0.0, qc.st.wait.Stats().Max)
	total := qc.st.sojourn.MeanMS() * float64(qc.st.completed)
	require.InDelta(t, 1800*2000+30000*float64(p.errors), total, 1e-3)
	require.Equal(t, m.completed, m.accepted)
	requireChecksPass(t, m)
}

// With a batching window the mapping waits for a full batch or the window.
func TestBatchingWindowWaitsForAFullBatchOrTheWindow(t *testing.T) {
	q := queueComp("q", "proc", func(q *scenarios.Queue) {
		q.BatchSize, q.BatchingWindow = 10, scenarios.Duration(5*time.Second)
	})
	// 1 message/s: a batch never fills. The first message of a gathering (at 1 s) opens a 5 s
	// window; at 6 s the batch takes the five messages of 1–5 s (the wake-up, scheduled
	// earlier, runs before the arrival at 6 s, which opens the next window).
	sc := deterministic(1, 10*time.Minute, "q", testRegion(), q, fn("proc", time.Millisecond))
	m := runDrained(t, sc)
	qc, p := comp[*queue](t, m, "q"), comp[*function](t, m, "proc")
	require.Equal(t, int64(600), qc.st.completed)
	require.Equal(t, int64(120), p.invocations, "batches of 5")
	require.Equal(t, 5000.0, qc.st.wait.Stats().Max)
	require.InDelta(t, 3000, qc.st.wait.MeanMS(), 1e-6, "waits of 5, 4, 3, 2 and 1 s")

	// 20 messages/s fill a batch of 10 in 0.5 s, well within the window.
	m = runDrained(t, deterministic(20, 10*time.Minute, "q", testRegion(), q, fn("proc", time.Millisecond)))
	require.Equal(t, int64(1200), comp[*function](t, m, "proc").invocations)
}

// A poller whose batch is done needs poll_delay before its next invoke while messages wait.
// Ten pollers (start = max = 10) on a backlog, 100 ms a batch of one, 20 ms to come back:
// each poller runs a batch every 120 ms, so 83.3 messages/s, and the function holds
// 10 × 100/120 = 8.33 executions on average — the rest of the time its concurrency is free.
func TestPollDelayFreesTheConcurrencyBetweenBatches(t *testing.T) {
	q := queueComp("q", "p", func(q *scenarios.Queue) {
		q.BatchSize, q.PollerStart, q.PollerMax, q.PollerRampPerM = 1, 10, 10, 0
		q.PollDelay = scenarios.Duration(20 * time.Millisecond)
	})
	m := runModel(t, deterministic(200, time.Minute, "q", testRegion(), q, fn("p", 100*time.Millisecond)))
	p := comp[*function](t, m, "p")
	require.InDelta(t, 83.33*60, float64(p.invocations), 12)
	require.InDelta(t, 8.333, p.st.busy.Mean(m.k.now), 0.05)
	require.Equal(t, int64(10), p.st.busy.Peak())
}

// Sharing the account's pool with a busy synchronous function: with no poll delay the
// mapping refills each slot the instant it frees and is throttled only when an idle poller
// wakes to a new message, the synchronous callers take the throttles; with the delay the
// synchronous path takes the freed slots in the gap and the mapping's invokes are throttled
// many times more.
func TestPollDelayLetsASynchronousPathTakeTheConsumersConcurrency(t *testing.T) {
	throttles := func(delay time.Duration) (sync, consumer int64) {
		reg := testRegion()
		reg.LambdaConcurrency, reg.LambdaUnreservedMin = 10, 0
		// 500/s of 10 ms on average (8 ms exponential + the 2 ms publish): 5 executions on
		// average, fluctuating, beside the consumer's 5 pollers in a pool of 10.
		s := fn("s", 0, func(f *scenarios.Function) {
			f.Duration = scenarios.Dist{Kind: scenarios.DistExponential, Mean: scenarios.Duration(8 * time.Millisecond)}
			f.Calls = []scenarios.Call{{To: "t", Op: "publish"}}
		})
		tp := &scenarios.Component{Name: "t", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
			PublishLatency: constant(2 * time.Millisecond), DeliveryLatency: constant(10 * time.Millisecond),
			Routes: []scenarios.Route{{To: "q"}},
		}}
		q := queueComp("q", "p", func(q *scenarios.Queue) {
			q.BatchSize, q.PollerStart, q.PollerMax = 1, 5, 5
			q.PollDelay = scenarios.Duration(delay)
		})
		m := runModel(t, deterministic(500, time.Minute, "s", reg, s, tp, q, fn("p", 100*time.Millisecond)))
		requireChecksPass(t, m)
		return comp[*function](t, m, "s").st.throttled, comp[*function](t, m, "p").st.throttled
	}
	s0, p0 := throttles(0)
	s20, p20 := throttles(20 * time.Millisecond)
	t.Logf("throttled without delay: sync %d, consumer %d; with 20 ms: sync %d, consumer %d", s0, p0, s20, p20)
	require.Greater(t, s0, int64(0))
	require.Greater(t, p20, 10*p0)
	require.Less(t, s20, s0)
}

// A message that is the last holder of its request carries the request's end (the slot is
// freed while the message waits): the request still ends completed, or failed when the
// message is dead-lettered, and conservation holds throughout.
func TestMessagesCarryTheirRequestsEnd(t *testing.T) {
	run := func(throttled bool) *Model {
		reg, other := testRegion(), testRegion()
		other.Name = "other"
		if throttled {
			other.LambdaScalingBurst, other.LambdaScalingRefillRate = 0, 0 // no environment ever
		}
		pub := fn("pub", time.Millisecond, func(f *scenarios.Function) {
			f.Calls = []scenarios.Call{{To: "t", Op: "publish"}}
		})
		tp := &scenarios.Component{Name: "t", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
			PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(5 * time.Millisecond),
			Routes: []scenarios.Route{{To: "q"}},
		}}
		q := queueComp("q", "proc", func(q *scenarios.Queue) {
			q.MaxReceives, q.DeadLetter = 2, "dlq"
			q.ThrottleBackoff = scenarios.Duration(time.Millisecond)
		})
		proc := fn("proc", time.Second)
		proc.Region = "other"
		sc := deterministic(1.0/7, time.Hour, "pub", reg, pub, tp, q, proc, queueComp("dlq", ""))
		sc.Regions = append(sc.Regions, other)
		return runModel(t, sc)
	}
	m := run(false)
	qc := comp[*queue](t, m, "q")
	require.True(t, qc.carry)
	require.Equal(t, int64(3600/7), m.completed)
	require.Zero(t, m.detachedOpen)
	requireChecksPass(t, m)

	m = run(true)
	qc = comp[*queue](t, m, "q")
	require.Greater(t, qc.deadLettered, int64(400))
	require.Equal(t, qc.deadLettered, m.failed)
	require.Equal(t, int64(qc.visible.len())+receivesPending(qc), m.detachedOpen, "the rest still carried at the horizon")
	inSlab := 0
	for i := range m.reqs.len() {
		if m.reqs.at(ReqID(i)).holds > 0 {
			inSlab++
		}
	}
	require.Zero(t, inSlab, "no request keeps a slot while its message waits")
	requireChecksPass(t, m)
}

// TestCarriedRequestPacksIntoTheMessage: a carried request's end keeps its arrival time
// (negative ones too: a run may start before zero) and both flags in eight bytes, so that
// a message takes 24 bytes of a backlog's memory.
func TestCarriedRequestPacksIntoTheMessage(t *testing.T) {
	require.Equal(t, uintptr(24), unsafe.Sizeof(qmsg{}))
	for _, at := range []Time{0, 1, -2020114, 24 * Hour, 1<<61 - 1, -1 << 61} {
		for _, flags := range []detached{0, detMeasured, detFailed, detMeasured | detFailed} {
			d := detached(at)&detArrived | flags
			require.Equal(t, at, d.arrived(), "arrival %d, flags %x", at, flags>>62)
			require.Equal(t, flags, d&^detArrived)
		}
	}
}
