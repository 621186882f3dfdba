package sim

import (
	"fmt"
	"math"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindCache, newCache) }

// cache is cache-aside in front of a database, as the service tier of architecture B does
// it with Redis:
//
//   - a query GETs the key: a hit answers after the hit latency; a miss answers after the
//     miss latency, a database read and a SET of the key;
//   - an insert writes the database (the new record is cached by the first query that
//     misses it); an update or delete writes the database and then DELetes the key.
//
// A query hits with probability min(hit_ratio, cached / working set): hit_ratio is what the
// workload gets when its working set fits; cached counts the keys held, which cannot exceed
// what the memory holds (instances × memory × (1 − reserved) / item size). With requests
// spread uniformly over the working set (the workload draws users uniformly) a cache holding
// C of N keys hits C/N of the queries — so memory caps the hit ratio at C/N, and the result
// reports that cap. cached grows by one per miss (the SET) up to the capacity and shrinks by
// the expected share of cached keys per invalidation (cached/N per DEL). A warm start begins
// with the cache as full as memory and working set allow; a cold one, empty.
//
// Redis serves commands on one thread per shard, tens of microseconds each: the cache has
// no queue of its own here (it keeps a delay station's figures), and binds ("ops capacity")
// when a second's commands exceed instances × max_ops_rps — latencies beyond that point are
// optimistic.
//
// Events: one per call, at its answer, plus one for a miss (the GET's end, when the read
// goes to the database) and one for a write coming from a tier's CPU time (when it reaches
// the database); the database adds none.
type cache struct {
	node
	delay
	hitLat, missLat, setLat Sampler
	hitRatio                float64
	capacity, workingSet    float64 // keys
	cached                  float64
	db                      *database
	ops                     opReader
	calls                   callSlab[cacheCall]
	callers                 callers // who called: cacheCall.from numbers them
	maxOps                  float64 // per second, all instances

	sec               int64
	secOps, peakOps   float64
	hits, misses, inv int64
	queries, errors   int64
	byOp              [4]int64 // calls by operation
	boundOps          bool
}

var (
	_ component    = (*cache)(nil)
	_ linker       = (*cache)(nil)
	_ resetter     = (*cache)(nil)
	_ callee       = (*cache)(nil)
	_ lateCallee   = (*cache)(nil)
	_ metered      = (*cache)(nil)
	_ bottleneck   = (*cache)(nil)
	_ delayStation = (*cache)(nil)
)

// cacheCall is a call in progress at the cache. Four fields keep it in registers (see
// tierCall).
type cacheCall struct {
	at    Time // when the call started
	r     ReqID
	token int32
	callBy
}

// callBy is who made a call, numbered in the callee's callers, and the call's operation.
type callBy struct {
	from uint16
	op   crudOp
}

// Events of a cache call.
const (
	opCacheAnswer int32 = iota // answer ok (a GET hit, an insert written)
	opCacheMiss                // the GET missed: read the database
	opCacheWrite               // a write reaches the database
	opCacheSet                 // the SET after a miss ended: answer
	opCacheDel                 // the DEL after an update or delete ended: answer
	opCacheFail                // the database failed the query: answer with the error
)

func newCache(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Cache
	if spec == nil {
		return nil, fmt.Errorf("no cache settings")
	}
	k := &cache{node: *n, hitRatio: spec.HitRatio, sec: -1}
	var err error
	for _, s := range []struct {
		key string
		d   scenarios.Dist
		dst *Sampler
	}{{"hit_latency", spec.HitLatency, &k.hitLat}, {"miss_latency", spec.MissLatency, &k.missLat}, {"set_latency", spec.SetLatency, &k.setLat}} {
		if *s.dst, err = NewSampler(s.d); err != nil {
			return nil, fmt.Errorf("%s: %w", s.key, err)
		}
	}
	it := m.sc.InstanceType(spec.InstanceType)
	if it == nil {
		return nil, fmt.Errorf("instance_type: no instance type %q", spec.InstanceType)
	}
	if spec.Instances < 1 || spec.ItemKB <= 0 {
		return nil, fmt.Errorf("instances and item_kb must be > 0")
	}
	k.capacity, k.workingSet = cacheCapacity(spec, it), float64(spec.WorkingSet)
	if k.workingSet == 0 {
		k.workingSet = float64(m.sc.Workload.Users)
	}
	if k.workingSet <= 0 {
		return nil, fmt.Errorf("working_set: needs a number of keys, or a workload given as users")
	}
	if spec.WarmStart {
		k.cached = math.Min(k.capacity, k.workingSet)
	}
	k.maxOps = float64(spec.Instances) * spec.MaxOpsRPS
	k.ops = newOpReader(m)
	return k, nil
}

// cacheCapacity is the number of items the cache's memory holds.
func cacheCapacity(spec *scenarios.Cache, it *scenarios.InstanceType) float64 {
	mem := spec.MemoryMB
	if mem == 0 {
		mem = it.MemoryMB
	}
	usable := float64(spec.Instances) * mem * (1 - spec.ReservedMemoryPercent/100)
	return math.Floor(usable * 1024 / spec.ItemKB)
}

// hitCap is the hit ratio memory allows: capacity over the working set.
func (k *cache) hitCap() float64 { return math.Min(1, k.capacity/k.workingSet) }

func (k *cache) link() error {
	d, ok := k.m.component(k.spec.Cache.Database).(*database)
	if !ok {
		return fmt.Errorf("database: %q is not a database", k.spec.Cache.Database)
	}
	k.db = d
	return nil
}

func (k *cache) accept(r ReqID) { k.call(r, k.ops.of(k.m, r), nil, 0) }

func (k *cache) call(r ReqID, op crudOp, from caller, token int32) {
	k.callAt(r, op, from, token, k.m.k.now)
}

// callAt takes a call for r that starts at at (>= now).
func (k *cache) callAt(r ReqID, op crudOp, from caller, token int32, at Time) {
	now := k.m.k.now
	prefetchAnswer(k.m, r)
	k.byOp[op]++
	slot := k.calls.alloc(cacheCall{at: at, r: r, token: token, callBy: callBy{from: k.callers.number(from), op: op}})
	if op.write() {
		if at > now {
			k.m.k.Schedule(at, k.id, opCacheWrite, int64(slot))
		} else {
			k.write(slot, now)
		}
		return
	}
	k.queries++
	k.command(now)
	if k.rng.Float64() < math.Min(k.hitRatio, k.cached/k.workingSet) {
		k.hits++
		k.m.k.Schedule(at+k.hitLat.Sample(&k.rng), k.id, opCacheAnswer, int64(slot))
		return
	}
	k.misses++
	k.m.k.Schedule(at+k.missLat.Sample(&k.rng), k.id, opCacheMiss, int64(slot))
}

// write sends call slot's write to the database at now; an update or delete then DELetes
// the key.
func (k *cache) write(slot int32, now Time) {
	end, ok := k.db.query(now, true)
	switch {
	case !ok:
		k.m.k.Schedule(end, k.id, opCacheFail, int64(slot))
	case k.calls.at(slot).op == opInsert:
		k.m.k.Schedule(end, k.id, opCacheAnswer, int64(slot))
	default:
		k.command(now)
		k.m.k.Schedule(end+k.setLat.Sample(&k.rng), k.id, opCacheDel, int64(slot))
	}
}

// command counts one command at now against the throughput of the cache.
func (k *cache) command(now Time) {
	if s := int64(now / Second); s != k.sec {
		k.sec, k.secOps = s, 0
	}
	k.secOps++
	k.peakOps = max(k.peakOps, k.secOps)
	if k.secOps > k.maxOps {
		k.m.bindOnce(&k.boundOps, &k.node, "ops capacity", func() string {
			return fmt.Sprintf("more than %g commands in one second (%d × %g per instance): Redis queues them on its one command thread",
				k.maxOps, k.spec.Cache.Instances, k.spec.Cache.MaxOpsRPS)
		})
	}
}

func (k *cache) Handle(op int32, arg int64) {
	now := k.m.k.now
	slot := int32(arg)
	switch op {
	case opCacheMiss:
		end, ok := k.db.query(now, false)
		if !ok {
			k.m.k.Schedule(end, k.id, opCacheFail, int64(slot))
			return
		}
		k.command(now)
		k.m.k.Schedule(end+k.setLat.Sample(&k.rng), k.id, opCacheSet, int64(slot))
	case opCacheWrite:
		k.write(slot, now)
	case opCacheSet:
		k.cached = math.Min(k.cached+1, math.Min(k.capacity, k.workingSet))
		k.finish(slot, true)
	case opCacheDel:
		k.inv++
		k.cached -= k.cached / k.workingSet
		k.finish(slot, true)
	case opCacheFail:
		k.finish(slot, false)
	default:
		k.finish(slot, true)
	}
}

func (k *cache) finish(slot int32, ok bool) {
	now := k.m.k.now
	c := *k.calls.at(slot)
	k.calls.release(slot)
	k.served(&k.node, c.at, now-c.at)
	if !ok {
		k.errors++
	}
	k.m.reply(c.r, c.at, k.callers.of(c.from), c.token, ok)
}

func (k *cache) resetStats(now Time) {
	k.delay.resetStats(now)
	k.hits, k.misses, k.inv, k.queries, k.errors = 0, 0, 0, 0, 0
	k.byOp = [4]int64{}
	k.peakOps = k.secOps
}

func (k *cache) report(c *result.Component) {
	k.reportDelay(&k.node, c)
	c.Errors = k.errors
	f := &result.CacheFigures{
		Queries: k.queries, Hits: k.hits, Misses: k.misses, Invalidations: k.inv,
		HitRatioSet:   k.hitRatio,
		HitRatioCap:   round6(k.hitCap()),
		CapacityItems: int64(k.capacity),
		WorkingSet:    int64(k.workingSet),
		CachedItems:   int64(k.cached),
		PeakOpsPerS:   k.peakOps,
	}
	if k.queries > 0 {
		f.HitRatio = round6(float64(k.hits) / float64(k.queries))
	}
	c.Cache = f
}

// A cache is billed per node-hour.
func (k *cache) usage(span Time) []result.Usage {
	spec := k.spec.Cache
	return []result.Usage{instanceUsage("elasticache."+spec.InstanceType, spec.Instances, span)}
}

// bindIfSaturated: the cache binds on its own when its command rate passes its capacity
// (command); requests waiting above it are the database's doing, or the tier's.
func (k *cache) bindIfSaturated(cause string) bool { return false }
