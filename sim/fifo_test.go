package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

func fifoQueueComp(name, next, groupBy string, batch int) *scenarios.Component {
	return queueComp(name, next, func(q *scenarios.Queue) {
		q.FIFO, q.GroupBy, q.BatchSize = true, groupBy, batch
		q.OrderKeys = []string{"state"}
	})
}

func oneState(name string) scenarios.Attribute {
	return scenarios.Attribute{Name: "state", Values: []scenarios.WeightedValue{{Value: name, P: 1}}}
}

// fourStates is a mix of four equally likely states.
var fourStates = scenarios.Attribute{Name: "state", Values: []scenarios.WeightedValue{
	{Value: "pending", P: 0.25}, {Value: "approved", P: 0.25}, {Value: "rejected", P: 0.25}, {Value: "cancelled", P: 0.25},
}}

func withFIFOQuotas(r *scenarios.Region) *scenarios.Region {
	r.SQSFifoTPS, r.SQSFifoHighThroughputTPS = 300, 70000
	r.SNSFifoPublishRPS = r.SNSPublishRPS
	return r
}

// One message group per state: however much waits, a FIFO queue hands out a group's
// messages one batch at a time, so a state is processed strictly one message after another.
// 50 messages/s of one state, sent directly, into a queue whose consumer takes exactly
// 100 ms a message (batches of 1): the first arrives at 20 ms and each invocation starts as
// the previous ends, so by 10 s exactly ⌊(10 s − 20 ms) / 100 ms⌋ = 99 are processed,
// throughput 1 / 100 ms = 10/s, and the consumer's concurrency never exceeds 1 although
// 50/s arrive and the mapping could run 5 batches at once.
func TestFIFOOneGroupPerStateProcessesOneMessageAtATime(t *testing.T) {
	sc := deterministic(50, 10*time.Second, "q", withFIFOQuotas(testRegion()),
		fifoQueueComp("q", "proc", "state", 1), fn("proc", 100*time.Millisecond))
	sc.Workload.Mix = []scenarios.Attribute{oneState("pending")}
	m := runModel(t, sc)
	f := comp[*function](t, m, "proc")
	require.Equal(t, int64(99), f.invocations)
	require.Equal(t, int64(1), f.st.busy.Peak())
	q := comp[*queue](t, m, "q")
	require.Equal(t, int64(1), q.fifo.peakGroups)
	require.Equal(t, int64(99), q.fifo.order.checked)
	require.Equal(t, int64(0), q.fifo.order.violations)
	requireChecksPass(t, m)

	// Four states, four groups, one queue: at most four at once, 4 × 10/s.
	sc.Workload.Mix = []scenarios.Attribute{fourStates}
	sc.Workload.RateRPS = 200
	sc.Horizon = scenarios.Duration(60 * time.Second)
	m = runModel(t, sc)
	f = comp[*function](t, m, "proc")
	require.Equal(t, int64(4), f.st.busy.Peak())
	require.InDelta(t, 4*600, float64(f.invocations), 4, "each state's group busy from its first message on")
	require.Equal(t, int64(0), comp[*queue](t, m, "q").fifo.order.violations)

	// Batches of 10 change nothing: one batch per group in flight, its messages in turn.
	sc.Components[0] = fifoQueueComp("q", "proc", "state", 10)
	m = runModel(t, sc)
	f = comp[*function](t, m, "proc")
	require.Equal(t, int64(4), f.st.busy.Peak())
	require.InDelta(t, 4*600, float64(comp[*queue](t, m, "q").st.completed), 40, "the last batches are still running at the horizon")
}

// Grouping per request gives FIFO's limits without its ordering: nothing blocks, the
// mapping runs as many batches as it likes, and the order per state is lost; grouping per
// user keeps each user's order and still spreads over as many groups as users have
// messages.
func TestFIFOGroupKeyTradesOrderForConcurrency(t *testing.T) {
	run := func(groupBy string) (*function, *queue) {
		proc := fn("proc", 0, func(f *scenarios.Function) {
			f.Duration = scenarios.Dist{Kind: scenarios.DistExponential, Mean: scenarios.Duration(100 * time.Millisecond)}
		})
		sc := deterministic(200, 60*time.Second, "q", withFIFOQuotas(testRegion()),
			fifoQueueComp("q", "proc", groupBy, 1), proc)
		sc.Workload.Arrival = "poisson"
		sc.Workload.Mix = []scenarios.Attribute{states}
		if groupBy == "user" {
			sc.Workload.RateRPS = 0
			sc.Workload.Users, sc.Workload.RequestsPerUserPerDay = 50, 200*86400/50
			sc.Workload.Profile = scenarios.Profile{Kind: "flat"}
		}
		m := runModel(t, sc)
		requireChecksPass(t, m)
		return comp[*function](t, m, "proc"), comp[*queue](t, m, "q")
	}
	f, q := run("request")
	require.Greater(t, f.st.busy.Peak(), int64(4))
	require.Greater(t, q.order[0].count.violations, int64(0), "per state: concurrent batches overtake each other")
	require.InDelta(t, 200*60, float64(q.st.completed), 200*60*0.02)

	f, q = run("user")
	require.Greater(t, f.st.busy.Peak(), int64(4))
	require.LessOrEqual(t, f.st.busy.Peak(), int64(50), "never more than the users with messages")
	require.Equal(t, "user", q.fifo.order.key)
	require.Equal(t, int64(0), q.fifo.order.violations, "each user's messages in order")
	require.Greater(t, q.order[0].count.violations, int64(0), "but not each state's")
}

// The FIFO API limit: 300 calls a second per action. A consumer taking batches of one
// message receives at most 300 messages a second; with batches of 10, 3,000 a second; in
// high-throughput mode (70,000 calls/s) 5,000/s do not bind. The bucket holds one second of
// calls, so over a run from the first message at t₀ to T the calls are 300 (the first
// second's) + 300 × (T − t₀), give or take the one in progress.
func TestFIFOThroughputLimitBindsAt300CallsPerSecond(t *testing.T) {
	for _, c := range []struct {
		batch int
		high  bool
		want  float64 // messages per second once the limit binds
	}{{1, false, 300}, {10, false, 3000}, {1, true, 5000}} {
		q := fifoQueueComp("q", "proc", "request", c.batch)
		q.Queue.HighThroughput, q.Queue.OrderKeys = c.high, nil
		q.Queue.PollerStart, q.Queue.PollerMax = 1000, 1000
		// Messages arrive through the topic (its own FIFO limits set out of the way), 5,000/s.
		pub := fn("pub", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "events"}} })
		topic := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
			PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(time.Millisecond),
			Routes: []scenarios.Route{{To: "q"}}, FIFO: true, GroupBy: "request", GroupRPS: 1e6, FifoTopicRPS: 1e6,
		}}
		reg := withFIFOQuotas(testRegion())
		sc := deterministic(5000, 10*time.Second, "pub", reg, pub, topic, q, fn("proc", time.Millisecond))
		m := runModel(t, sc)
		qq := comp[*queue](t, m, "q")
		t0 := 0.2e-3 + 2e-3 // the first arrival, its publish and its delivery
		if c.high {
			require.InDelta(t, c.want*(10-t0), float64(qq.st.completed), 10, "high throughput: 70,000 calls/s do not bind at 5,000/s")
			require.Equal(t, int64(0), qq.fifo.receiveWaits)
			continue
		}
		calls := 300 + 300*(10-t0)
		require.InDelta(t, calls, float64(qq.receives), 2, "batch %d", c.batch)
		// While the first second's calls last, each takes the one message that has just
		// arrived (one every 0.2 ms): k messages use k calls and the bucket refills 0.06 k,
		// so that lasts k = 300 / 0.94 ≈ 319 calls; every call after it finds more than 10
		// waiting and takes 10.
		first := 300 / (1 - 300.0/5000)
		want := first + float64(c.batch)*(calls-first)
		require.InDelta(t, want, float64(qq.st.completed)+float64(qq.st.busy.Value()), 2*float64(c.batch), "batch %d", c.batch)
		require.Greater(t, qq.fifo.receiveWaits, int64(0))
		limits := map[string]bool{}
		for _, b := range m.breaks {
			limits[b.Component+" "+b.Limit] = true
		}
		require.True(t, limits["q FIFO throughput"], "%v", m.breaks)
	}
}

// A failing message blocks its group: it is retried (after each visibility timeout) until
// it has been received max_receives times and moves to the dead-letter queue, and only then
// does the message behind it go. With every invocation failing, 1 s visibility timeouts and
// 3 receives, one group dead-letters a message every 3 s (received at 0, 1, 2 s after it
// reached the head, dead-lettered at 3 s); a standard queue dead-letters them all in
// parallel.
func TestFIFOFailingMessageBlocksItsGroup(t *testing.T) {
	mk := func(fifo bool) *scenarios.Scenario {
		q := queueComp("q", "proc", func(q *scenarios.Queue) {
			q.FIFO, q.GroupBy, q.BatchSize = fifo, "state", 1
			q.VisibilityTimeout = scenarios.Duration(time.Second)
			q.MaxReceives, q.DeadLetter = 3, "dlq"
			if !fifo {
				q.GroupBy = ""
			}
		})
		dlq := queueComp("dlq", "", func(q *scenarios.Queue) { q.FIFO = fifo })
		failing := fn("proc", 10*time.Millisecond, func(f *scenarios.Function) {
			f.ErrorRate = 1
			f.Timeout = scenarios.Duration(time.Second)
		})
		sc := deterministic(10, 30*time.Second, "q", withFIFOQuotas(testRegion()), q, dlq, failing)
		sc.Workload.Mix = []scenarios.Attribute{oneState("pending")}
		return sc
	}
	m := runModel(t, mk(true))
	q := comp[*queue](t, m, "q")
	// Message k (k = 1, 2, …) reaches the head at 0.1 s + 3 (k − 1) s and is dead-lettered
	// 3 s later: by 30 s, k = 1 … 9 (at 3.1 s, 6.1 s, …, 27.1 s).
	require.Equal(t, int64(9), q.deadLettered)
	require.Equal(t, int64(1), comp[*function](t, m, "proc").st.busy.Peak())
	require.Equal(t, int64(1), q.fifo.peakBlocked)

	m = runModel(t, mk(false))
	// Standard: every message arriving by 27 s (its third receive's timeout ends by 30 s)
	// is dead-lettered, ≈ 270.
	require.Greater(t, comp[*queue](t, m, "q").deadLettered, int64(250))
}

// An SNS FIFO topic takes 300 messages/s per group and 3,000/s per topic: one group
// publishing 500/s gets the first second's 300 and 300/s after it; many groups at 5,000/s
// get the topic's 3,000 and 3,000/s.
func TestFIFOTopicLimitsPerGroupAndPerTopic(t *testing.T) {
	for _, c := range []struct {
		groupBy string
		rate    float64
		perS    float64
	}{{"state", 500, 300}, {"request", 5000, 3000}} {
		pub := fn("pub", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "events"}} })
		events := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
			PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(time.Millisecond),
			FIFO: true, GroupBy: c.groupBy, GroupRPS: 300, FifoTopicRPS: 3000,
		}}
		sc := deterministic(c.rate, 10*time.Second, "pub", withFIFOQuotas(testRegion()), pub, events)
		sc.Workload.Mix = []scenarios.Attribute{oneState("pending")}
		m := runModel(t, sc)
		tp := comp[*topic](t, m, "events")
		// Tokens: the full bucket (one second's) + the rate × the time after the first publish.
		require.InDelta(t, c.perS+c.perS*(10-1/c.rate), float64(tp.published), 1, c.groupBy)
		if c.groupBy == "state" {
			require.Greater(t, tp.fifo.groupThr, int64(0))
			require.Equal(t, int64(0), tp.fifo.topicThr)
		} else {
			require.Equal(t, int64(0), tp.fifo.groupThr)
			require.Greater(t, tp.fifo.topicThr, int64(0))
		}
	}
}

// A FIFO topic delivers each group's messages in the order they were published, whatever
// the delivery latencies drawn: the queue's groups hold their messages in publish order.
func TestFIFOTopicDeliversAGroupInPublishOrder(t *testing.T) {
	pub := fn("pub", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "events"}} })
	topic := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
		PublishLatency:  constant(time.Millisecond),
		DeliveryLatency: scenarios.Dist{Kind: scenarios.DistExponential, Mean: scenarios.Duration(200 * time.Millisecond)},
		Routes:          []scenarios.Route{{To: "q"}}, FIFO: true, GroupBy: "state", GroupRPS: 300, FifoTopicRPS: 3000,
	}}
	// A consumer that never finishes within the run: everything after the first batch
	// stays parked, in the order the queue received it.
	sc := deterministic(100, 20*time.Second, "pub", withFIFOQuotas(testRegion()), pub, topic,
		fifoQueueComp("q", "proc", "state", 1), fn("proc", time.Hour))
	sc.Workload.Mix = []scenarios.Attribute{states}
	m := runModel(t, sc)
	q := comp[*queue](t, m, "q")
	parked := 0
	for g := range q.fifo.groups {
		last := Time(-1)
		for n := q.fifo.groups[g].head; n >= 0; n = q.fifo.nodes.at(n).next {
			arrived := m.reqs.at(q.fifo.nodes.at(n).msg.r).arrived
			require.Greater(t, arrived, last, "group %d: published in arrival order (the publisher takes 1 ms each)", g)
			last = arrived
			parked++
		}
	}
	require.Greater(t, parked, 1900)
	require.Equal(t, "state", q.fifo.order.key)
}

// A standard queue counts order too when asked (order_keys): concurrent batches of
// varying length overtake each other, so messages of one state — and of one user — are
// processed out of the order the queue received them; per request there is one message,
// never out of order. The per-user marks are dropped once a user has no message left.
func TestStandardQueueCountsOutOfOrderMessages(t *testing.T) {
	q := queueComp("q", "proc", func(q *scenarios.Queue) { q.BatchSize, q.OrderKeys = 1, []string{"state", "user", "request"} })
	proc := fn("proc", 0, func(f *scenarios.Function) {
		f.Duration = scenarios.Dist{Kind: scenarios.DistExponential, Mean: scenarios.Duration(100 * time.Millisecond)}
	})
	sc := deterministic(0, 60*time.Second, "q", testRegion(), q, proc)
	sc.Workload = scenarios.Workload{Arrival: "poisson", Users: 20, RequestsPerUserPerDay: 200 * 86400 / 20,
		Profile: scenarios.Profile{Kind: "flat"}, Entry: "q", Mix: []scenarios.Attribute{states}}
	m := runDrained(t, sc)
	qq := comp[*queue](t, m, "q")
	require.Len(t, qq.order, 3)
	for _, o := range qq.order {
		require.Equal(t, qq.st.completed, o.count.checked, o.count.key)
	}
	require.Greater(t, qq.order[0].count.violations, int64(0), "per state")
	require.Greater(t, qq.order[1].count.violations, int64(0), "per user")
	require.Equal(t, int64(0), qq.order[2].count.violations, "per request")
	require.Equal(t, 0, qq.order[1].byUser.len(), "drained: no user has a message left")
}

// Per-user groups on a FIFO topic: 50 users publishing 40/s each against a 30/s group
// limit are throttled per user, each user's messages reach the queue in publish order
// whatever the delivery latencies, and the topic forgets a user once its bucket is full
// again and its deliveries are done (it holds the recently active users, not all of them).
func TestFIFOTopicPerUserGroups(t *testing.T) {
	pub := fn("pub", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "events"}} })
	events := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
		PublishLatency:  constant(time.Millisecond),
		DeliveryLatency: scenarios.Dist{Kind: scenarios.DistExponential, Mean: scenarios.Duration(200 * time.Millisecond)},
		Routes:          []scenarios.Route{{To: "q"}}, FIFO: true, GroupBy: "user", GroupRPS: 30, FifoTopicRPS: 3000,
	}}
	sc := deterministic(0, 20*time.Second, "pub", withFIFOQuotas(testRegion()), pub, events,
		fifoQueueComp("q", "proc", "user", 1), fn("proc", time.Hour))
	sc.Workload = scenarios.Workload{Arrival: "poisson", Users: 50, RequestsPerUserPerDay: 2000 * 86400 / 50,
		Profile: scenarios.Profile{Kind: "flat"}, Entry: "pub", Mix: []scenarios.Attribute{states}}
	m := runModel(t, sc)
	tp := comp[*topic](t, m, "events")
	require.Greater(t, tp.fifo.groupThr, int64(0), "40/s per user against 30/s per group")
	require.Equal(t, int64(0), tp.fifo.topicThr)
	// Each user: a full bucket (30) and 30/s after it, at most.
	require.LessOrEqual(t, float64(tp.published), 50*(30+30*20.0))
	require.Greater(t, float64(tp.published), 0.9*50*(30+30*20.0))
	q := comp[*queue](t, m, "q")
	parked := 0
	for g := range q.fifo.groups {
		last := Time(-1)
		for n := q.fifo.groups[g].head; n >= 0; n = q.fifo.nodes.at(n).next {
			arrived := m.reqs.at(q.fifo.nodes.at(n).msg.r).arrived
			require.Greater(t, arrived, last, "a user's messages in publish order")
			last = arrived
			parked++
		}
	}
	require.Greater(t, parked, 10000)

	// A thousand users publishing once a second each: at the end only those active in the
	// last second or so are remembered.
	sc.Workload.Users, sc.Workload.RequestsPerUserPerDay = 1000, 86400
	m = runModel(t, sc)
	tp = comp[*topic](t, m, "events")
	require.Equal(t, int64(0), tp.fifo.groupThr)
	require.Less(t, tp.fifo.byUser.len(), 1000)
}

// SendMessage calls refused by a FIFO queue's per-action limit are neither sent nor
// delivered: 500 messages/s sent directly against 300 calls/s bill only the accepted sends,
// and nothing as SNS deliveries.
func TestFIFOQueueRefusedSendsAreNotBilledAsDeliveries(t *testing.T) {
	q := fifoQueueComp("q", "proc", "request", 10)
	q.Queue.OrderKeys = nil
	sc := deterministic(500, 10*time.Second, "q", withFIFOQuotas(testRegion()), q, fn("proc", time.Millisecond))
	m := runModel(t, sc)
	qq := comp[*queue](t, m, "q")
	require.Greater(t, qq.fifo.sendThrottled, int64(1000))
	require.Equal(t, qq.st.offered, qq.apiSends+qq.fifo.sendThrottled)
	got := map[string]float64{}
	for _, u := range qq.usage(10 * Second) {
		got[u.Price+" "+u.Item] += u.Quantity
	}
	require.Equal(t, float64(qq.apiSends), got["sqs.fifo.requests SendMessage"], "%v", got)
	for k := range got {
		require.NotContains(t, k, "sns_deliveries")
	}
}

// FIFO topics' publishes draw on a regional quota of their own (sns_fifo_publish_rps),
// apart from the standard topics' sns_publish_rps; both buckets hold one second
// (sns_publish_burst) of their rate and start full. In a region with 300/s standard and
// 3,000/s FIFO (SNS's figures outside us-east-1, us-west-2 and eu-west-1), one function
// publishes each request to a FIFO topic (one group per request), then to a standard one,
// at 1,000/s for 10 s: arrivals every 1 ms from 1 ms, ≈ 10,000 of them.
//   - FIFO: 3,000 tokens, refilled at 3,000/s against 1,000/s taken, never run out; nor do
//     fifo_topic_rps (the same) and the groups (one publish each): all ≈ 10,000 published,
//     none throttled.
//   - Standard: the full bucket's 300, then 300/s for the 10 − 0.001 s after the first
//     publish: 300 + 2,999.7 = 3,299.7 published; the rest throttled by the regional quota.
//
// At 5,000/s (the first at 0.2 ms) with fifo_topic_rps raised to 10⁶, the FIFO quota
// binds: 3,000 + 3,000 × (10 − 0.0002) = 32,999.4 published, and the break names it. A
// FIFO topic with its own publish_rps (500/s) at 1,000/s uses that instead:
// 500 + 500 × 9.999 = 5,499.5.
func TestFIFOTopicHasARegionalPublishQuotaOfItsOwn(t *testing.T) {
	region := func() *scenarios.Region {
		reg := withFIFOQuotas(testRegion())
		reg.SNSPublishRPS, reg.SNSFifoPublishRPS = 300, 3000
		return reg
	}
	fifoTopic := func(name string, topicRPS, ownRPS float64) *scenarios.Component {
		return &scenarios.Component{Name: name, Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
			PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(time.Millisecond),
			FIFO: true, GroupBy: "request", GroupRPS: 300, FifoTopicRPS: topicRPS, PublishRPS: ownRPS,
		}}
	}
	publishes := func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "fifo"}, {To: "std"}} }

	std := &scenarios.Component{Name: "std", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
		PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(time.Millisecond),
	}}
	m := runModel(t, deterministic(1000, 10*time.Second, "pub", region(), fn("pub", time.Millisecond, publishes),
		fifoTopic("fifo", 3000, 0), std))
	ft, st := comp[*topic](t, m, "fifo"), comp[*topic](t, m, "std")
	require.InDelta(t, 10000, float64(ft.published), 1)
	require.Equal(t, int64(0), ft.st.throttled, "the FIFO quota does not bind at 1,000/s")
	require.Equal(t, ft.published, st.st.offered, "every request reaches the standard topic")
	require.InDelta(t, 300+300*(10-0.001), float64(st.published), 1)
	require.Equal(t, st.st.offered-st.published, st.st.throttled)

	fast := fifoTopic("fifo", 1e6, 0)
	m = runModel(t, deterministic(5000, 10*time.Second, "pub", region(),
		fn("pub", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "fifo"}} }), fast))
	ft = comp[*topic](t, m, "fifo")
	require.InDelta(t, 3000+3000*(10-0.0002), float64(ft.published), 1)
	require.Equal(t, ft.st.offered-ft.published, ft.st.throttled)
	require.Zero(t, ft.fifo.topicThr+ft.fifo.groupThr, "only the regional FIFO quota binds")
	b := findBreak(m, "fifo", "publish quota")
	require.NotNil(t, b)
	require.Equal(t, "the SNS FIFO publish quota of region r, 3000/s shared by 1 FIFO topic(s) (sns_fifo_publish_rps)", b.Detail)

	m = runModel(t, deterministic(1000, 10*time.Second, "pub", region(),
		fn("pub", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "fifo"}} }), fifoTopic("fifo", 3000, 500)))
	ft = comp[*topic](t, m, "fifo")
	require.InDelta(t, 500+500*(10-0.001), float64(ft.published), 1)
	b = findBreak(m, "fifo", "publish quota")
	require.NotNil(t, b)
	require.Equal(t, "the topic's publish limit of 500/s", b.Detail)
}
