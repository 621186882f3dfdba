package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// One processor per state, each with reserved concurrency, fed by its state's queue; the
// request function reserves nothing. The account limit is 100 (10 must stay unreserved):
// reserving 40 and 20 for the processors leaves the request function 100 − 60 = 40.
//
//   - The request function gets 1,000 requests/s of exactly 40 ms: 40 in flight, no
//     throttle — and at 41 ms, 41 would be needed: throttled, although the processors'
//     reservations are not all in use at first (a reservation is not lent).
//   - Each processor runs 100 ms a message and gets about 500/s, needing 50: the one
//     reserved 40 runs exactly 40 at most, the one reserved 20 exactly 20, and with the
//     mappings' max_concurrency set to their reservations neither is ever throttled — the
//     messages wait in their queues instead.
func TestPerStateReservationsCapEachFunctionAndLeaveTheRestToTheRequestFunction(t *testing.T) {
	build := func(request time.Duration) *scenarios.Scenario {
		reg := testRegion()
		reg.LambdaConcurrency, reg.LambdaUnreservedMin = 100, 10
		req := fn("request", request, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "events", Op: "publish"}} })
		events := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
			PublishLatency: scenarios.Dist{}, DeliveryLatency: constant(time.Millisecond),
			Routes: []scenarios.Route{
				{To: "q_a", Filter: []scenarios.FilterCond{{Attribute: "state", AnyOf: []string{"a"}}}},
				{To: "q_b", Filter: []scenarios.FilterCond{{Attribute: "state", AnyOf: []string{"b"}}}},
			},
		}}
		q := func(name, next string, max int) *scenarios.Component {
			return queueComp(name, next, func(q *scenarios.Queue) { q.BatchSize, q.MaxConcurrency = 1, max })
		}
		proc := func(name string, reserved int) *scenarios.Component {
			return fn(name, 100*time.Millisecond, func(f *scenarios.Function) { f.ReservedConcurrency = reserved })
		}
		sc := deterministic(1000, 60*time.Second, "request", reg, req, events,
			q("q_a", "p_a", 40), q("q_b", "p_b", 20), proc("p_a", 40), proc("p_b", 20))
		sc.Workload.Mix = []scenarios.Attribute{{Name: "state", Values: []scenarios.WeightedValue{{Value: "a", P: 0.5}, {Value: "b", P: 0.5}}}}
		return sc
	}
	m := runModel(t, build(40*time.Millisecond))
	req := comp[*function](t, m, "request")
	require.Equal(t, int64(40), req.st.capacity, "100 − (40 + 20)")
	require.Equal(t, int64(40), req.st.busy.Peak())
	require.Equal(t, int64(0), req.st.throttled)
	for _, c := range []struct {
		name     string
		reserved int64
	}{{"p_a", 40}, {"p_b", 20}} {
		p := comp[*function](t, m, c.name)
		require.Equal(t, c.reserved, p.st.capacity, c.name)
		require.Equal(t, c.reserved, p.st.busy.Peak(), c.name)
		require.Equal(t, int64(0), p.st.throttled, c.name)
	}
	require.Equal(t, int64(40+40+20), req.st.busy.Peak()+comp[*function](t, m, "p_a").st.busy.Peak()+comp[*function](t, m, "p_b").st.busy.Peak(),
		"the whole account limit in use, never more")
	requireChecksPass(t, m)

	m = runModel(t, build(41*time.Millisecond))
	req = comp[*function](t, m, "request")
	require.Greater(t, req.st.throttled, int64(0))
	require.Equal(t, int64(40), req.st.busy.Peak())
	require.Equal(t, "account concurrency", m.breaks[0].Limit)
	require.Equal(t, "request", m.breaks[0].Component)
}

// The bundled per-state scenario: the four processors reserve 400 + 240 + 120 + 40 = 800
// of the account's 1,000, so the request function — reserving nothing — has 200.
func TestBundledPerStateLeavesTheRequestFunction200(t *testing.T) {
	sc, err := scenarios.Load("per-state")
	require.NoError(t, err)
	m, err := build(sc, sc.Seed)
	require.NoError(t, err)
	require.Equal(t, int64(200), comp[*function](t, m, "request").st.capacity)
	for name, reserved := range map[string]int64{"processor_pending": 400, "processor_approved": 240, "processor_rejected": 120, "processor_cancelled": 40} {
		require.Equal(t, reserved, comp[*function](t, m, name).st.capacity, name)
	}
	require.Nil(t, m.component("processor"), "the shared processor is gone")
}

// The bundled multi-region scenario: a router in front of two copies of the stack, each
// region with its own 1,000 Lambdas and API Gateway throttle, one global table; and the
// bundled fifo scenario: the topic and the four state queues FIFO, grouped per user.
func TestBundledAlternativesWireTheirModels(t *testing.T) {
	sc, err := scenarios.Load("multi-region")
	require.NoError(t, err)
	m, err := build(sc, sc.Seed)
	require.NoError(t, err)
	require.Equal(t, "dns", sc.Workload.Entry)
	r := comp[*router](t, m, "dns")
	require.Equal(t, []float64{0.5, 0.5}, []float64{r.routes[0].share, r.routes[1].share})
	east, west := comp[*function](t, m, "request"), comp[*function](t, m, "request_west")
	require.NotSame(t, east.region, west.region)
	require.Equal(t, int64(1000), east.st.capacity)
	require.Equal(t, int64(1000), west.st.capacity)
	require.Equal(t, "us-west-2", west.region.spec.Name)
	require.Equal(t, comp[*table](t, m, "requests_west"), comp[*table](t, m, "requests").rep.peers[0])
	require.Equal(t, comp[*table](t, m, "requests"), comp[*table](t, m, "requests_west").rep.peers[0])

	sc, err = scenarios.Load("fifo")
	require.NoError(t, err)
	m, err = build(sc, sc.Seed)
	require.NoError(t, err)
	require.NotNil(t, comp[*topic](t, m, "events").fifo)
	for _, q := range []string{"q_pending", "q_approved", "q_rejected", "q_cancelled", "dlq"} {
		qq := comp[*queue](t, m, q)
		require.NotNil(t, qq.fifo, q)
		require.Equal(t, keyUser, qq.fifo.key, q)
	}
	require.Len(t, comp[*queue](t, m, "q_pending").order, 1, "per state, besides the group key")
}
