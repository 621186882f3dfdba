package sim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// regions returns n copies of a region named r1, r2, ... with limit concurrent Lambdas each
// and nothing reserved.
func regions(n, limit int) []*scenarios.Region {
	var out []*scenarios.Region
	for i := range n {
		r := testRegion()
		r.Name = fmt.Sprintf("r%d", i+1)
		r.LambdaConcurrency, r.LambdaUnreservedMin = limit, 0
		out = append(out, r)
	}
	return out
}

// stack returns one function per region, f1 in r1, f2 in r2, ..., each running exactly d.
func stack(regs []*scenarios.Region, d time.Duration) []*scenarios.Component {
	var out []*scenarios.Component
	for i, r := range regs {
		f := fn(fmt.Sprintf("f%d", i+1), d)
		f.Region = r.Name
		out = append(out, f)
	}
	return out
}

func dns(policy string, routes ...scenarios.RouterRoute) *scenarios.Component {
	return &scenarios.Component{Name: "dns", Kind: scenarios.KindRouter, Router: &scenarios.Router{Policy: policy, Routes: routes}}
}

// throttled sums the throttles of every function.
func throttled(m *Model) int64 {
	var n int64
	for _, c := range m.comps {
		if f, ok := c.(*function); ok {
			n += f.st.throttled
		}
	}
	return n
}

// A region of 100 concurrent Lambdas running 100 ms invocations carries exactly 1,000
// requests/s without a throttle (deterministic arrivals every 1 ms: the completion at t runs
// before the arrival at t, so 100 are in flight at most) and throttles at 1,010/s (101 in
// flight). Two equal regions behind a 1:1 weighted router — the stack copied, each region
// with its own pool — carry exactly 2,000/s without a throttle and throttle at 2,020/s: the
// throttle-free load doubles, since nothing is shared between them.
func TestTwoEqualRegionsCarryTwiceTheThrottleFreeLoadOfOne(t *testing.T) {
	const d = 100 * time.Millisecond
	one := func(rate float64) *Model {
		regs := regions(1, 100)
		return runModel(t, deterministic(rate, 20*time.Second, "f1", regs[0], stack(regs, d)...))
	}
	two := func(rate float64) *Model {
		regs := regions(2, 100)
		comps := append([]*scenarios.Component{dns("weighted",
			scenarios.RouterRoute{To: "f1", Weight: 1}, scenarios.RouterRoute{To: "f2", Weight: 1})}, stack(regs, d)...)
		sc := deterministic(rate, 20*time.Second, "dns", regs[0], comps...)
		sc.Regions = regs
		return runModel(t, sc)
	}
	m := one(1000)
	require.Equal(t, int64(0), throttled(m))
	require.Equal(t, int64(100), comp[*function](t, m, "f1").st.busy.Peak())
	require.Equal(t, int64(20_000), m.offered)
	require.Greater(t, throttled(one(1010)), int64(0))

	m = two(2000)
	require.Equal(t, int64(0), throttled(m))
	require.Equal(t, int64(40_000), m.offered)
	for _, name := range []string{"f1", "f2"} {
		f := comp[*function](t, m, name)
		require.Equal(t, int64(100), f.st.busy.Peak(), name)
		require.Equal(t, int64(20_000), f.st.offered, "%s: every other request", name)
		require.Equal(t, "r"+name[1:], f.region.spec.Name)
	}
	m = two(2020)
	require.Greater(t, comp[*function](t, m, "f1").st.throttled, int64(0))
	require.Greater(t, comp[*function](t, m, "f2").st.throttled, int64(0))
	requireChecksPass(t, m)
}

// Weighted routing of Poisson arrivals draws each request's route independently: the
// shares converge on weight / sum (here 3:1) within the binomial's spread, and each region's
// pool is its own — region r2 at a quarter of the load never binds while r1 does.
func TestWeightedRoutingSplitsByWeight(t *testing.T) {
	regs := regions(2, 100)
	comps := append([]*scenarios.Component{dns("weighted",
		scenarios.RouterRoute{To: "f1", Weight: 3}, scenarios.RouterRoute{To: "f2", Weight: 1})}, stack(regs, 100*time.Millisecond)...)
	sc := deterministic(1200, 100*time.Second, "dns", regs[0], comps...)
	sc.Workload.Arrival = "poisson"
	sc.Regions = regs
	m := runModel(t, sc)
	r := comp[*router](t, m, "dns")
	n := float64(m.offered)
	sd := math.Sqrt(n * 0.75 * 0.25)
	require.InDelta(t, 0.75*n, float64(r.routes[0].requests), 4*sd)
	require.Equal(t, m.offered, r.routes[0].requests+r.routes[1].requests)
	require.Greater(t, comp[*function](t, m, "f1").st.throttled, int64(0), "900/s × 0.1 s = 90 in 100, Poisson: some throttles")
	require.Equal(t, int64(0), comp[*function](t, m, "f2").st.throttled, "300/s × 0.1 s = 30 in 100")
	requireChecksPass(t, m)
}

// Latency routing sends each client to its nearest region for good: every user's requests
// land in one region, and the users split by the clients' shares.
func TestLatencyRoutingKeepsEachUserInOneRegion(t *testing.T) {
	regs := regions(2, 1000)
	comps := append([]*scenarios.Component{dns("latency",
		scenarios.RouterRoute{To: "f1", Clients: 0.6}, scenarios.RouterRoute{To: "f2", Clients: 0.4})}, stack(regs, time.Millisecond)...)
	sc := &scenarios.Scenario{
		Name: "latency", Horizon: scenarios.Duration(time.Hour), Seed: 5,
		Workload: scenarios.Workload{Arrival: "poisson", Users: 2000, RequestsPerUserPerDay: 2000,
			Profile: scenarios.Profile{Kind: "flat"}, Entry: "dns"},
		Regions: regs, Components: comps,
	}
	m, err := build(sc, sc.Seed)
	require.NoError(t, err)
	r := comp[*router](t, m, "dns")
	region := map[uint32]int{}
	for u := range uint32(2000) {
		i := m.reqs.add()
		m.reqs.at(i).user = u
		region[u] = r.pick(ReqID(i))
		require.Equal(t, region[u], r.pick(ReqID(i)), "user %d always to the same region", u)
	}
	first := 0
	for _, i := range region {
		if i == 0 {
			first++
		}
	}
	require.InDelta(t, 0.6*2000, float64(first), 4*math.Sqrt(2000*0.6*0.4))
	m.reqs = reqSlab{}
	m.k.Run(m.horizon)
	require.Equal(t, m.offered, r.routes[0].requests+r.routes[1].requests)
	requireChecksPass(t, m)
}

// A router is DNS: it must be the entry, and its routes go to components that take
// requests.
func TestRouterRefusesTablesAndTopics(t *testing.T) {
	regs := regions(1, 100)
	tbl := &scenarios.Component{Name: "t", Kind: scenarios.KindTable, Table: &scenarios.Table{Mode: "on_demand", ItemKB: 1,
		OnDemandInitialWRU: 1, OnDemandInitialRRU: 1, OnDemandPeakWindow: scenarios.Duration(time.Minute),
		OnDemandMaxWRU: 40000, OnDemandMaxRRU: 40000}}
	sc := deterministic(10, time.Second, "dns", regs[0], dns("weighted", scenarios.RouterRoute{To: "t", Weight: 1}), tbl)
	_, err := build(sc, 1)
	require.ErrorContains(t, err, "t is a table, which takes no requests from a router")
}
