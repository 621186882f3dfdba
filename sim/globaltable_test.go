package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func onDemandTable(name, region string, wru float64, replicas ...string) *scenarios.Component {
	return &scenarios.Component{Name: name, Kind: scenarios.KindTable, Region: region, Table: &scenarios.Table{
		Mode: "on_demand", ItemKB: 1, WriteLatency: constant(5 * time.Millisecond), ReadLatency: constant(time.Millisecond),
		OnDemandInitialWRU: wru, OnDemandInitialRRU: 1000, OnDemandPeakWindow: scenarios.Duration(30 * time.Minute),
		OnDemandMaxWRU: 40000, OnDemandMaxRRU: 40000,
		Replicas: replicas, ReplicationLag: constant(400 * time.Millisecond),
	}}
}

func writer(name, region, table string) *scenarios.Component {
	f := fn(name, time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: table, Op: "write"}} })
	f.Region = region
	return f
}

// A global table of three replicas, declared on one of them: 100 writes/s for 10 s in r1
// are 1,000 writes of 1 WRU there, and each of the other two replicas receives all 1,000 as
// replicated writes — billed there as 1,000 replicated write units, in its own region —
// with the replication lag (400 ms) as its figure. Every region pays for every write.
func TestReplicatedWritesArePaidInEveryRegion(t *testing.T) {
	regs := regions(3, 100)
	sc := deterministic(100, 10*time.Second+time.Millisecond/2, "w1", regs[0],
		writer("w1", "r1", "t1"),
		onDemandTable("t1", "r1", 4000, "t2", "t3"),
		onDemandTable("t2", "r2", 4000),
		onDemandTable("t3", "r3", 4000))
	sc.Regions = regs
	res, err := Run(sc)
	require.NoError(t, err)
	require.Equal(t, int64(1000), res.Workload.Offered)
	for _, name := range []string{"t2", "t3"} {
		c := res.ComponentByName(name)
		require.Equal(t, int64(1000), c.ReplicatedWrites, name)
		require.NotNil(t, c.ReplicationLag, name)
		require.InDelta(t, 400.0, c.ReplicationLag.P50, 0.5, name) // HDR: 3 significant digits
		u := usageByPrice(res, name)
		require.Equal(t, 1000.0, u["dynamodb.on_demand.replicated_write_units"], name)
		require.Equal(t, 0.0, u["dynamodb.on_demand.write_units"], name)
		require.Equal(t, int64(0), c.Completed, "replicated writes are not calls to %s", name)
	}
	c1 := res.ComponentByName("t1")
	require.Equal(t, int64(0), c1.ReplicatedWrites)
	require.Equal(t, 1000.0, usageByPrice(res, "t1")["dynamodb.on_demand.write_units"])
	// The bill: three regions pay for 1,000 writes each, at $0.625 per million.
	regionsBilled := map[string]float64{}
	for _, l := range res.Cost.Lines {
		if l.Service == "DynamoDB" {
			regionsBilled[l.Region] += l.Quantity
		}
	}
	require.Equal(t, map[string]float64{"r1": 1000, "r2": 1000, "r3": 1000}, regionsBilled)
	requireChecksPass(t, runModel(t, sc))
}

// Replicated writes spend the receiving replica's capacity: with r1 writing 100/s into a
// global table whose r2 replica serves 150 WRU/s, r2's own 100 writes/s find 50 units a
// second left and the rest are throttled — while r1, which receives nothing, throttles none.
// Multi-region multiplies the writes each replica absorbs, not its write headroom.
func TestReplicatedWritesSpendTheReplicasCapacity(t *testing.T) {
	regs := regions(2, 1000)
	comps := []*scenarios.Component{
		dns("weighted", scenarios.RouterRoute{To: "w1", Weight: 1}, scenarios.RouterRoute{To: "w2", Weight: 1}),
		writer("w1", "r1", "t1"), writer("w2", "r2", "t2"),
		onDemandTable("t1", "r1", 10000, "t2"),
		onDemandTable("t2", "r2", 150),
	}
	sc := deterministic(200, 10*time.Second, "dns", regs[0], comps...)
	sc.Regions = regs
	m := runModel(t, sc)
	t1, t2 := comp[*table](t, m, "t1"), comp[*table](t, m, "t2")
	require.Equal(t, int64(0), t1.st.throttled)
	// Arrival k comes at 5k ms (k = 1 … 2,000, the last at 10 s); smooth round robin sends
	// odd k to w1 and even k to w2. Both write 1 WRU at once; w1's write is replicated into
	// t2's second without a check, w2's is served while t2's second stays within 150.
	//   - second 0 (k = 1 … 199): w1 first; before w2's j-th write t2 holds 2j − 1 units, so
	//     j = 1 … 75 are served and j = 76 … 99 refused: 24.
	//   - seconds 1 … 9 (k = 200s … 200s + 199): w2 first; before its i-th write (i = 0 …
	//     99) t2 holds 2i units, so i = 0 … 74 are served and 25 refused: 225.
	//   - k = 2,000 at 10 s opens second 10 and is served.
	served, refused := t2.st.completed, t2.st.throttled
	require.Equal(t, int64(1000), t2.rep.writes)
	require.Equal(t, comp[*function](t, m, "w2").st.offered, served+refused)
	require.Equal(t, int64(24+225), refused)
	requireChecksPass(t, m)
}

// usageByPrice sums a component's usage per price key.
func usageByPrice(res *result.Result, comp string) map[string]float64 {
	out := map[string]float64{}
	for _, u := range res.ComponentByName(comp).Usage {
		out[u.Price] += u.Quantity
	}
	return out
}
