package sim

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// Scenarios of architecture B built in Go, with the numbers the hand calculations use.

func vmTypes() []*scenarios.InstanceType {
	return []*scenarios.InstanceType{
		{Name: "vm1", VCPUs: 1, MemoryMB: 4096},
		{Name: "vm8", VCPUs: 8, MemoryMB: 8192},
		{Name: "db1", VCPUs: 1, MemoryMB: 8192},
		{Name: "db2", VCPUs: 2, MemoryMB: 8192},
		{Name: "cache", VCPUs: 2, MemoryMB: 1024},
	}
}

func tierComp(name, next string, mut ...func(*scenarios.VMTier)) *scenarios.Component {
	t := &scenarios.VMTier{
		InstanceType: "vm8", Instances: 1, Workers: 8, IO: "blocking", Balance: "round_robin",
		CPUTime: constant(time.Millisecond), QueueTimeout: scenarios.Duration(time.Minute),
	}
	for _, m := range mut {
		m(t)
	}
	return &scenarios.Component{Name: name, Kind: scenarios.KindVMTier, Next: next, VMTier: t}
}

func cacheComp(name, db string, mut ...func(*scenarios.Cache)) *scenarios.Component {
	k := &scenarios.Cache{
		Engine: "redis", InstanceType: "cache", Instances: 1, HitRatio: 0.9,
		HitLatency: constant(time.Millisecond), MissLatency: constant(time.Millisecond),
		SetLatency: constant(time.Millisecond), ItemKB: 1, WorkingSet: 1000,
		WarmStart: true, MaxOpsRPS: 100000, Database: db,
	}
	for _, m := range mut {
		m(k)
	}
	return &scenarios.Component{Name: name, Kind: scenarios.KindCache, Cache: k}
}

func dbComp(name string, mut ...func(*scenarios.Database)) *scenarios.Component {
	d := &scenarios.Database{
		Engine: "mysql", InstanceType: "db2", ReadTime: constant(time.Millisecond),
		WriteTime: constant(2 * time.Millisecond), PoolSize: 10,
		PoolTimeout: scenarios.Duration(30 * time.Second), MaxConnections: 1000,
	}
	for _, m := range mut {
		m(d)
	}
	return &scenarios.Component{Name: name, Kind: scenarios.KindDatabase, Database: d}
}

// vmScenario is deterministic arrivals at rate into entry, with the CRUD mix given (none:
// every request is a query).
func vmScenario(rate float64, horizon time.Duration, entry string, mix map[string]float64, comps ...*scenarios.Component) *scenarios.Scenario {
	sc := deterministic(rate, horizon, entry, testRegion(), comps...)
	sc.InstanceTypes = vmTypes()
	if mix != nil {
		a := scenarios.Attribute{Name: "op"}
		for _, op := range scenarios.CRUDOps {
			if p, ok := mix[op]; ok {
				a.Values = append(a.Values, scenarios.WeightedValue{Value: op, P: p})
			}
		}
		sc.Workload.Mix = []scenarios.Attribute{a}
	}
	return sc
}

// Cache-aside sends exactly the queries that miss to the database. With hit ratio 0 every
// query reads the database; with 1 (and the working set in memory) none does; with h the
// misses are a binomial (1 − h) share of the queries, and the database reads are exactly the
// misses.
func TestCacheAsideSendsTheMissesOfQueriesToTheDatabase(t *testing.T) {
	for _, tc := range []struct {
		h        float64
		wantMiss float64 // share of queries
	}{{0, 1}, {1, 0}, {0.8, 0.2}, {0.5, 0.5}} {
		sc := vmScenario(100, 100*time.Second, "svc", nil,
			tierComp("svc", "cache"),
			cacheComp("cache", "db", func(k *scenarios.Cache) { k.HitRatio = tc.h }),
			dbComp("db"))
		m := runDrained(t, sc)
		k := comp[*cache](t, m, "cache")
		d := comp[*database](t, m, "db")
		require.Equal(t, int64(10000), k.queries, "100/s for 100 s, every one a query")
		require.Equal(t, k.misses, d.reads, "h=%g: the database reads exactly the misses", tc.h)
		require.Equal(t, k.queries, k.hits+k.misses)
		require.Zero(t, d.writes)
		// Binomial: within 4 standard deviations of (1 − h) × 10,000 (exact at 0 and 1).
		sd := math.Sqrt(10000 * tc.wantMiss * (1 - tc.wantMiss))
		require.InDelta(t, tc.wantMiss*10000, float64(d.reads), 4*sd+1e-9, "h=%g", tc.h)
		require.Equal(t, int64(10000), m.completed)
		requireChecksPass(t, m)
	}
}

// Memory caps the hit ratio: 1,024 MB less 25 % reserved holds 768 × 1,024 = 786,432 items of
// 1 KB; a working set of 1,572,864 keys read uniformly hits at most half the time, whatever
// hit_ratio says.
func TestCacheMemoryCapsTheHitRatio(t *testing.T) {
	sc := vmScenario(100, 100*time.Second, "svc", nil,
		tierComp("svc", "cache"),
		cacheComp("cache", "db", func(k *scenarios.Cache) {
			k.HitRatio, k.ReservedMemoryPercent, k.WorkingSet = 0.9, 25, 1572864
		}),
		dbComp("db"))
	m := runDrained(t, sc)
	k := comp[*cache](t, m, "cache")
	require.Equal(t, 786432.0, k.capacity)
	require.Equal(t, 0.5, k.hitCap())
	sd := math.Sqrt(10000 * 0.5 * 0.5)
	require.InDelta(t, 5000, float64(k.misses), 4*sd)
	require.Equal(t, k.misses, comp[*database](t, m, "db").reads)
}

// Writes go to the database, and updates and deletes then invalidate the key: with a mix of
// every operation, the database writes are exactly the inserts, updates and deletes, and the
// invalidations exactly the updates and deletes.
func TestCacheAsideWritesGoToTheDatabaseAndInvalidate(t *testing.T) {
	mix := map[string]float64{"query": 0.7, "insert": 0.1, "update": 0.15, "delete": 0.05}
	sc := vmScenario(100, 100*time.Second, "svc", mix,
		tierComp("svc", "cache"), cacheComp("cache", "db"), dbComp("db"))
	m := runDrained(t, sc)
	k := comp[*cache](t, m, "cache")
	d := comp[*database](t, m, "db")
	require.Equal(t, int64(10000), k.byOp[opQuery]+k.byOp[opInsert]+k.byOp[opUpdate]+k.byOp[opDelete], "every request made one call")
	require.Equal(t, k.byOp[opInsert]+k.byOp[opUpdate]+k.byOp[opDelete], d.writes)
	require.Equal(t, k.byOp[opUpdate]+k.byOp[opDelete], k.inv)
	require.Equal(t, k.byOp[opQuery], k.queries)
	// The mix drew each operation in about its share.
	for op, p := range []float64{0.7, 0.1, 0.15, 0.05} {
		require.InDelta(t, p*10000, float64(k.byOp[op]), 4*math.Sqrt(10000*p*(1-p))+1, "op %d", op)
	}
	require.Equal(t, k.misses, d.reads)
	requireChecksPass(t, m)
}

// A blocking worker is held through the call below it, an async one only for its CPU time.
// One worker, 1 ms of CPU, a database read of 9 ms: blocking, a request holds the worker
// 10 ms, so 50 requests/s keep it busy half the time; async, 1 ms, a twentieth.
func TestBlockingWorkersWaitForTheCallBelowAsyncOnesDoNot(t *testing.T) {
	for _, tc := range []struct {
		io   string
		util float64
	}{{"blocking", 0.5}, {"async", 0.05}} {
		sc := vmScenario(50, 100*time.Second, "t", nil,
			tierComp("t", "db", func(v *scenarios.VMTier) { v.IO, v.Workers = tc.io, 1 }),
			dbComp("db", func(d *scenarios.Database) { d.ReadTime = constant(9 * time.Millisecond) }))
		m := runDrained(t, sc)
		tier := comp[*vmtier](t, m, "t")
		require.InDelta(t, tc.util, tier.st.busy.Mean(100*Second), 1e-3, tc.io)
		require.Equal(t, int64(5000), m.completed)
		require.InDelta(t, 10.0, m.api.Stats().Mean, 1e-6, "%s: 1 ms CPU + 9 ms read, never waiting", tc.io)
	}
}

// Tiers on the same VMs share their vCPUs: a web tier of 2 ms and a service hosted on its
// one 1-vCPU VM with 3 ms, at 100 requests/s, keep the vCPU busy half the time, and both
// report it: exactly 9,999 × 5 ms in the 100 s, since the last arrival comes at the horizon
// and its CPU time falls after it.
func TestHostedTierSharesTheVCPUsOfItsHost(t *testing.T) {
	sc := vmScenario(100, 100*time.Second, "web", nil,
		tierComp("web", "svc", func(v *scenarios.VMTier) {
			v.InstanceType, v.IO, v.CPUTime = "vm1", "async", constant(2*time.Millisecond)
		}),
		tierComp("svc", "", func(v *scenarios.VMTier) {
			v.InstanceType, v.Instances, v.Host, v.CPUTime = "", 0, "web", constant(3*time.Millisecond)
		}))
	m := runDrained(t, sc)
	web, svc := comp[*vmtier](t, m, "web"), comp[*vmtier](t, m, "svc")
	require.InDelta(t, 0.49995, web.cpuUtilization(), 1e-12)
	require.InDelta(t, 0.49995, svc.cpuUtilization(), 1e-12)
	require.Len(t, web.hosts, 1)
	require.Same(t, web.hosts[0], svc.hosts[0])
	require.Nil(t, svc.usage(Hour), "a hosted tier adds no VMs to the bill")
}

// A database with one connection and one core serving 100 ms reads, 20 reads/s: read n
// arrives at 50n ms and starts when read n−1 ends, at 100n − 50 ms, so it waits 50(n − 1) ms
// for the connection. With a pool timeout of 1 s the first to wait longer is n = 22, at
// 1.1 s: the pool binds there.
func TestDatabasePoolTimeoutFailsQueriesAndBinds(t *testing.T) {
	sc := vmScenario(20, 100*time.Second, "db", nil,
		dbComp("db", func(d *scenarios.Database) {
			d.InstanceType, d.PoolSize, d.ReadTime = "db1", 1, constant(100*time.Millisecond)
			d.PoolTimeout = scenarios.Duration(time.Second)
		}))
	m := runDrained(t, sc)
	require.NotEmpty(t, m.breaks)
	require.Equal(t, "connections", m.breaks[0].Limit)
	require.Equal(t, "db", m.breaks[0].Component)
	require.Equal(t, 1.1, m.breaks[0].AtS)
	d := comp[*database](t, m, "db")
	require.Equal(t, m.rejected, d.timedOut)
	require.Equal(t, m.offered, m.completed+m.rejected)
	requireChecksPass(t, m)
}

// Writes go to the primary, reads to the replicas: 1 ms reads and 2 ms writes, half and
// half, at 100/s for 100 s, keep the primary's 2 cores busy 100 × 0.5 × 2 ms / 2 = 5 % of the
// time and the two replicas' 4 cores 100 × 0.5 × 1 ms / 4 = 1.25 %.
func TestDatabasePrimaryTakesTheWritesReplicasTheReads(t *testing.T) {
	mix := map[string]float64{"query": 0.5, "update": 0.5}
	sc := vmScenario(100, 100*time.Second, "t", mix,
		tierComp("t", "db"),
		dbComp("db", func(d *scenarios.Database) { d.Replicas = 2 }))
	m := runDrained(t, sc)
	d := comp[*database](t, m, "db")
	res := m.result()
	f := res.ComponentByName("db").Database
	require.Equal(t, int64(3), f.Instances)
	wantPrimary := float64(d.writes) * 0.002 / 100 / 2
	wantReplicas := float64(d.reads) * 0.001 / 100 / 4
	// Within one query's share: the last arrival comes at the horizon, its work after it.
	require.InDelta(t, wantPrimary, f.PrimaryUtilization, 0.002/200+1e-9)
	require.InDelta(t, wantReplicas, f.ReplicaUtilization, 0.001/400+1e-9)
	require.InDelta(t, 0.05, f.PrimaryUtilization, 0.005)
	require.Equal(t, int64(10), f.WriterConnections, "one client VM × 10 per endpoint")
	require.Equal(t, int64(10), f.ReaderConnections)
}

// The bundled vm-cache scenario held at its diurnal peak (5,556 requests/s): the MySQL
// primary's 2 cores (about 1,310 writes/s against 1,667) bind first — before the web VMs'
// vCPUs, and named at the database although the requests time out above it, where the
// service's threads wait for its connections.
func TestVMCacheAtItsPeakBindsAtTheMySQLPrimary(t *testing.T) {
	sc, err := scenarios.Load("vm-cache")
	require.NoError(t, err)
	sc.Workload.Profile = scenarios.Profile{Kind: "flat"}
	sc.Workload.RequestsPerUserPerDay = 60 // 8,000,000 × 60 / 86,400 = 5,556/s, the peak
	sc.Horizon = scenarios.Duration(5 * time.Minute)
	m := runModel(t, sc)
	require.NotEmpty(t, m.breaks)
	b := m.sortedBreaks()[0]
	require.Equal(t, "mysql", b.Component, "%+v", m.sortedBreaks())
	require.Equal(t, "primary cores", b.Limit)
	k := comp[*cache](t, m, "cache")
	require.InDelta(t, 0.570153, k.hitCap(), 1e-6, "4,561,221 items of 8,000,000 fit")
}

// The monthly cost of vm-cache's instances, by hand from the bundled price table: 3 ×
// m5.large at $0.096 an hour, 730 hours a month, is $210.24; one cache.m5.large at $0.156,
// $113.88; 3 × db.m5.large (MySQL, single-AZ) at $0.171, $374.49; the ALB's hours at
// $0.0225, $16.425. Its capacity units follow the requests: 2 × 1,024 bytes each (1 GB an
// hour makes an LCU, more than 10 requests a connection's share of 25 new connections a
// second), at $0.008 an LCU-hour.
func TestVMCacheMonthlyCostByHand(t *testing.T) {
	sc, err := scenarios.Load("vm-cache")
	require.NoError(t, err)
	sc.Horizon = scenarios.Duration(time.Hour)
	res, err := Run(sc)
	require.NoError(t, err)
	require.NotNil(t, res.Cost)
	monthly := map[string]float64{}
	for _, l := range res.Cost.Lines {
		monthly[l.Price] += l.MonthlyUSD
	}
	require.InDelta(t, 210.24, monthly["ec2.m5.large"], 0.005)
	require.InDelta(t, 113.88, monthly["elasticache.cache.m5.large"], 0.005)
	require.InDelta(t, 374.49, monthly["rds.mysql.db.m5.large"], 0.005)
	require.InDelta(t, 16.425, monthly["elb.alb.hours"], 0.005)
	lcu := float64(res.ComponentByName("lb").Accepted) * 2 * 1024 / 1e9 * 0.008 * 730
	require.InDelta(t, lcu, monthly["elb.alb.lcu_hours"], 0.005)
	require.Empty(t, res.Cost.Unpriced)
}

// An async tier's requests that wait for the call below hold no worker and are not queued:
// the series' queue depth is the requests waiting for a worker. 50 requests/s, 1 ms of CPU
// on one worker and a 30 ms read below: each request spends 31 ms in the tier, 1 ms of it
// on the worker, and never waits for it, so every minute's sample finds a request in the
// tier (the one that arrived 20 ms before, in its read) and none queued.
func TestAsyncTierQueuesOnlyRequestsWaitingForAWorker(t *testing.T) {
	sc := vmScenario(50, 5*time.Minute, "t", nil,
		tierComp("t", "db", func(v *scenarios.VMTier) { v.IO, v.Workers = "async", 1 }),
		dbComp("db", func(d *scenarios.Database) { d.ReadTime = constant(30 * time.Millisecond) }))
	res, err := Run(sc)
	require.NoError(t, err)
	tier := res.ComponentByName("t")
	require.NotNil(t, tier.Series)
	require.Equal(t, []float64{0, 0, 0, 0, 0}, tier.Series.QueueDepth)
	require.InDelta(t, 50*0.031, tier.MeanInSystem, 1e-3, "in the tier: 31 ms of each 20 ms")
	require.InDelta(t, 50*0.001, tier.MeanConcurrency, 1e-3, "on the worker: 1 ms of each 20 ms")
}

// A request a tier abandons after its queue_timeout has waited, and its wait counts among
// the waits. One worker, 3 s of CPU time, an arrival every second, a 5 s queue timeout: a
// freed worker finds the line behind it, abandons what has waited more than 5 s and starts
// the next. The first three start after 0, 2 and 4 s; at 9 s the call of 3 s is abandoned
// (6 s) and the one of 4 s starts (5 s); from then on each release, every 3 s from 12 s to
// 99 s (30 of them), abandons two calls that waited 7 and 6 s and starts one that waited 5
// s. So 95 waits, 61 of them abandoned, mean (0+2+4+6+5 + 30×18)/95 = 557/95 s, longest 7 s.
// Before abandoned waits counted, the tier reported 34 waits of at most 5 s.
func TestTierWaitsCountTheAbandonedRequests(t *testing.T) {
	sc := vmScenario(1, 100*time.Second, "t", nil, tierComp("t", "", func(v *scenarios.VMTier) {
		v.Workers, v.CPUTime, v.QueueTimeout = 1, constant(3*time.Second), scenarios.Duration(5*time.Second)
	}))
	res, err := Run(sc)
	require.NoError(t, err)
	tier := res.ComponentByName("t")
	require.Equal(t, int64(61), tier.TimedOut)
	require.Equal(t, int64(95), tier.Wait.Count)
	require.InDelta(t, 557.0/95*1000, tier.Wait.Mean, 1e-6, "ms")
	require.InDelta(t, 7000, tier.Wait.Max, 1e-6, "ms")
}
