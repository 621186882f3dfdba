package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

var states = scenarios.Attribute{Name: "state", Values: []scenarios.WeightedValue{
	{Value: "pending", P: 0.5}, {Value: "approved", P: 0.3}, {Value: "rejected", P: 0.15}, {Value: "cancelled", P: 0.05},
}}

// publishing returns a scenario where a function publishes every request to topic "events"
// with the given routes; the routes' queues are sinks (no consumer), so their messages — and
// the requests they hold — stay for the test to count.
func publishing(routes []scenarios.Route, queues ...string) *scenarios.Scenario {
	pub := fn("pub", time.Millisecond, func(f *scenarios.Function) {
		f.Calls = []scenarios.Call{{To: "events", Op: "publish"}}
	})
	topic := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
		PublishLatency:  constant(10 * time.Millisecond),
		DeliveryLatency: scenarios.Dist{Kind: scenarios.DistExponential, Mean: scenarios.Duration(30 * time.Millisecond)},
		Routes:          routes,
	}}
	comps := []*scenarios.Component{pub, topic}
	for _, q := range queues {
		comps = append(comps, queueComp(q, ""))
	}
	sc := &scenarios.Scenario{
		Name: "topic", Horizon: scenarios.Duration(10 * time.Minute), Seed: 3,
		Workload:   scenarios.Workload{Arrival: "poisson", RateRPS: 200, Entry: "pub", Mix: []scenarios.Attribute{states}},
		Regions:    []*scenarios.Region{testRegion()},
		Components: comps,
	}
	return sc
}

// statesHeld counts, per state, the requests still held by a message (every request here
// was delivered to exactly one sink queue, which holds it).
func statesHeld(m *Model) []int64 {
	n := make([]int64, len(states.Values))
	for i := range m.reqs.len() {
		if q := m.reqs.at(ReqID(i)); q.holds > 0 {
			n[q.attrs[0]] += int64(q.holds)
		}
	}
	return n
}

// One subscription per state, filtered on the state: each queue receives exactly the
// messages of its state and no other.
func TestTopicRoutesEachStateToItsQueueOnly(t *testing.T) {
	var routes []scenarios.Route
	var queues []string
	for _, v := range states.Values {
		routes = append(routes, scenarios.Route{To: "q_" + v.Value,
			Filter: []scenarios.FilterCond{{Attribute: "state", AnyOf: []string{v.Value}}}})
		queues = append(queues, "q_"+v.Value)
	}
	m := runDrained(t, publishing(routes, queues...))
	tp := comp[*topic](t, m, "events")
	held := statesHeld(m)
	var total int64
	for i, v := range states.Values {
		q := comp[*queue](t, m, "q_"+v.Value)
		require.Equal(t, held[i], q.st.offered, "queue of %s", v.Value)
		require.Equal(t, held[i], q.sinkCount)
		total += held[i]
	}
	require.Equal(t, tp.published, total, "every message delivered, to one queue each")
	require.Equal(t, tp.delivered, total)
	require.Equal(t, int64(0), tp.unrouted)
	require.InDelta(t, 0.5, float64(held[0])/float64(total), 0.01)
	requireChecksPass(t, m)
}

// AnyOf over several values and Exists; a message that no filter matches is unrouted and
// holds nothing.
func TestTopicFilterPoliciesAnyOfExistsAndUnrouted(t *testing.T) {
	yes, no := true, false
	routes := []scenarios.Route{
		{To: "done", Filter: []scenarios.FilterCond{{Attribute: "state", AnyOf: []string{"approved", "rejected"}}}},
		{To: "all", Filter: []scenarios.FilterCond{{Attribute: "state", Exists: &yes}}},
		{To: "none", Filter: []scenarios.FilterCond{{Attribute: "state", Exists: &no}}},
		{To: "none", Filter: []scenarios.FilterCond{{Attribute: "region", AnyOf: []string{"eu"}}}},
	}
	sc := publishing(routes, "done", "all", "none")
	_, err := build(sc, 1)
	require.ErrorContains(t, err, `no request carries attribute "region"`)

	routes[3] = scenarios.Route{To: "none", Filter: []scenarios.FilterCond{{Attribute: "region", Exists: &no}, {Attribute: "state", AnyOf: []string{"cancelled"}}}}
	sc = publishing(routes, "done", "all", "none")
	m := runDrained(t, sc)
	done, all, none := comp[*queue](t, m, "done"), comp[*queue](t, m, "all"), comp[*queue](t, m, "none")
	tp := comp[*topic](t, m, "events")
	require.Equal(t, tp.published, all.st.offered)
	// approved and rejected requests hold two messages (done, all), cancelled two (all,
	// none), pending one (all).
	var per [4]int64
	for i := range m.reqs.len() {
		if q := m.reqs.at(ReqID(i)); q.holds > 0 {
			per[q.attrs[0]]++
			want := int32(1)
			if q.attrs[0] != 0 {
				want = 2
			}
			require.Equal(t, want, q.holds, "state %s", states.Values[q.attrs[0]].Value)
		}
	}
	require.Equal(t, per[1]+per[2], done.st.offered)
	require.Equal(t, per[3], none.st.offered)
	require.Equal(t, int64(0), tp.unrouted)

	// A filter nothing matches leaves the message unrouted: it holds its request no longer.
	sc = publishing([]scenarios.Route{{To: "none", Filter: []scenarios.FilterCond{{Attribute: "state", Exists: &no}}}}, "none")
	m = runModel(t, sc)
	tp = comp[*topic](t, m, "events")
	require.Equal(t, tp.published, tp.unrouted)
	require.Equal(t, m.completed, m.accepted)
	requireChecksPass(t, m)
}
