package scenarios

import (
	"slices"
	"strings"
)

// The VM family describes architecture B, a web system on virtual machines: a load
// balancer, tiers of VMs running server processes, a cache in front of a database. Requests
// carry their CRUD operation in the workload.mix attribute OpAttribute ("op": query, insert,
// update, delete); a request without it is a query.

// OpAttribute is the workload.mix attribute that gives a request's CRUD operation.
const OpAttribute = "op"

// CRUDOps are the values OpAttribute may take: query reads, the others write.
var CRUDOps = []string{"query", "insert", "update", "delete"}

// LoadBalancer is an application load balancer in front of a VM tier: it picks the instance
// of its next for every request and adds its own latency.
type LoadBalancer struct {
	// Algorithm is "round_robin" or "least_outstanding" (ALB's two routing algorithms).
	Algorithm string
	Overhead  Dist
	// Timeout is the idle timeout: an answer later than this reaches the client as a 504.
	Timeout Duration
	// RequestsPerConnection is how many requests a client sends on one connection (HTTP
	// keep-alive), for the load balancer's capacity units.
	RequestsPerConnection float64
}

// VMTier is a tier of identical virtual machines, each running the same server process.
type VMTier struct {
	InstanceType string
	Instances    int
	// Host names the tier whose VMs this one runs on, sharing their vCPUs (a service
	// co-located with the web server); InstanceType and Instances then come from it.
	Host string
	// Workers per instance: event loops (io: async) or threads (io: blocking).
	Workers int
	// IO says whether a worker waits for its downstream call: "blocking" (a thread per
	// request, as in a Thrift TThreadPoolServer) or "async" (an event loop, as in Node).
	IO string
	// CPUTime is the CPU a request needs, run on one vCPU of its VM.
	CPUTime Dist
	// Balance picks the instance of a request that does not come through a load balancer:
	// "round_robin" or "least_outstanding".
	Balance string
	// QueueTimeout: a request that waits longer than this for a worker or a vCPU is
	// abandoned (its client has given up).
	QueueTimeout Duration
}

// Cache is a cache-aside cache (Redis): a query looks the key up; on a miss the caller reads
// the database and sets the key; a write goes to the database and then invalidates the key.
type Cache struct {
	Engine       string // redis
	InstanceType string
	Instances    int // shards: their memory and throughput add up
	// HitRatio is the share of queries that hit when the working set fits in memory; the
	// memory caps it (see FORMAT.md).
	HitRatio    float64
	HitLatency  Dist // a GET that hits
	MissLatency Dist // a GET that misses
	SetLatency  Dist // the SET after a miss, the DEL of an invalidation
	// MemoryMB per instance: 0 = the instance type's memory.
	MemoryMB float64
	// ReservedMemoryPercent is kept for the engine's own use (ElastiCache's
	// reserved-memory-percent).
	ReservedMemoryPercent float64
	// ItemKB is the memory one cached record takes, key and overhead included.
	ItemKB float64
	// WorkingSet is the number of distinct keys read: 0 = the workload's users (one record
	// per user).
	WorkingSet int64
	// WarmStart: the cache starts holding as much of the working set as fits (a cache in
	// service), rather than empty (a cache just flushed or deployed).
	WarmStart bool
	// MaxOpsRPS is the operations per second one instance serves (its single command thread);
	// above it the cache binds.
	MaxOpsRPS float64
	// Database is read on a miss and written by inserts, updates and deletes.
	Database string
}

// Database is a relational database (MySQL): a primary takes the writes, read replicas the
// reads. Each instance runs Cores queries at once; the clients reach it through connection
// pools of PoolSize connections per client instance and endpoint (writer, reader).
type Database struct {
	Engine       string // mysql or postgres
	InstanceType string
	Replicas     int
	// Cores is the queries an instance executes at once: 0 = its vCPUs.
	Cores     int
	ReadTime  Dist // a point read by key on the server, connection held
	WriteTime Dist // an insert, update or delete, commit included
	PoolSize  int
	// PoolTimeout: a query waiting longer than this for a connection fails (the pool's
	// connection timeout).
	PoolTimeout Duration
	// MaxConnections per instance: 0 = memory / BytesPerConnection (RDS MySQL's default
	// max_connections = {DBInstanceClassMemory/12582880}).
	MaxConnections     int
	BytesPerConnection float64
	// MultiAZ keeps a standby of every instance in another zone (pricing).
	MultiAZ   bool
	StorageGB float64
}

var (
	balanceAlgorithms = []string{"round_robin", "least_outstanding"}
	ioModes           = []string{"async", "blocking"}
)

func validateLoadBalancer(v *validator, c *Component) {
	lb := c.LoadBalancer
	v.oneOf(compKey(c, "algorithm"), lb.Algorithm, balanceAlgorithms...)
	v.positive(compKey(c, "timeout"), lb.Timeout.Seconds())
	if lb.RequestsPerConnection < 1 {
		v.fail(compKey(c, "requests_per_connection"), "must be >= 1, got %g", lb.RequestsPerConnection)
	}
	if c.Next == "" {
		v.missing(compKey(c, "next"), "a load balancer needs next: the vmtier it balances")
	}
}

func validateVMTier(v *validator, c *Component) {
	t := c.VMTier
	if t.Host != "" {
		for _, k := range []string{"instance_type", "instances"} {
			if p, ok := v.pos[compKey(c, k)]; ok && p.File != defaultsFile {
				v.fail(compKey(c, k), "a tier with a host runs on the host's VMs: give no instance_type or instances")
			}
		}
		t.InstanceType, t.Instances = "", 0 // the kind's defaults do not apply to a hosted tier
		if t.Host == c.Name {
			v.fail(compKey(c, "host"), "a tier cannot be its own host")
		} else if h := v.ref(compKey(c, "host"), t.Host, []Kind{KindVMTier}, "a host"); h != nil && h.VMTier.Host != "" {
			v.fail(compKey(c, "host"), "%s runs on the VMs of %s itself; name %s", t.Host, h.VMTier.Host, h.VMTier.Host)
		}
	} else {
		v.instanceType(compKey(c, "instance_type"), t.InstanceType, "m5.large", false)
		if t.Instances < 1 {
			v.fail(compKey(c, "instances"), "must be >= 1, got %d", t.Instances)
		}
	}
	if t.Workers < 1 {
		v.fail(compKey(c, "workers"), "must be >= 1 (processes or threads per instance), got %d", t.Workers)
	}
	v.oneOf(compKey(c, "io"), t.IO, ioModes...)
	v.required(compKey(c, "cpu_time"), t.CPUTime, "cpu_time (the CPU a request needs on one vCPU)")
	v.oneOf(compKey(c, "balance"), t.Balance, balanceAlgorithms...)
	v.positive(compKey(c, "queue_timeout"), t.QueueTimeout.Seconds())
}

func validateCache(v *validator, c *Component) {
	k := c.Cache
	v.oneOf(compKey(c, "engine"), k.Engine, "redis")
	v.instanceType(compKey(c, "instance_type"), k.InstanceType, "cache.m5.large", false)
	if k.Instances < 1 {
		v.fail(compKey(c, "instances"), "must be >= 1, got %d", k.Instances)
	}
	if k.HitRatio < 0 || k.HitRatio > 1 {
		v.fail(compKey(c, "hit_ratio"), "a ratio is between 0 and 1, got %g", k.HitRatio)
	}
	v.required(compKey(c, "hit_latency"), k.HitLatency, "hit_latency")
	v.required(compKey(c, "miss_latency"), k.MissLatency, "miss_latency")
	v.required(compKey(c, "set_latency"), k.SetLatency, "set_latency")
	v.nonNegative(compKey(c, "memory_mb"), k.MemoryMB)
	if k.ReservedMemoryPercent < 0 || k.ReservedMemoryPercent >= 100 {
		v.fail(compKey(c, "reserved_memory_percent"), "must be between 0 and 100 (exclusive), got %g", k.ReservedMemoryPercent)
	}
	v.positive(compKey(c, "item_kb"), k.ItemKB)
	v.nonNegative(compKey(c, "working_set"), float64(k.WorkingSet))
	if k.WorkingSet == 0 && v.s.Workload.Users == 0 {
		v.missing(compKey(c, "working_set"), "needs working_set (distinct keys read), or a workload given as users (one record per user)")
	}
	v.positive(compKey(c, "max_ops_rps"), k.MaxOpsRPS)
	if k.Database == "" {
		v.missing(compKey(c, "database"), "missing database: the database a miss reads and a write goes to")
	} else {
		v.ref(compKey(c, "database"), k.Database, []Kind{KindDatabase}, "a cache's database")
	}
}

func validateDatabase(v *validator, c *Component) {
	d := c.Database
	v.oneOf(compKey(c, "engine"), d.Engine, "mysql", "postgres")
	v.instanceType(compKey(c, "instance_type"), d.InstanceType, "db.m5.large", false)
	v.nonNegative(compKey(c, "replicas"), float64(d.Replicas))
	v.nonNegative(compKey(c, "cores"), float64(d.Cores))
	v.required(compKey(c, "read_time"), d.ReadTime, "read_time")
	v.required(compKey(c, "write_time"), d.WriteTime, "write_time")
	if d.PoolSize < 1 {
		v.fail(compKey(c, "pool_size"), "must be >= 1 (connections per client instance and endpoint), got %d", d.PoolSize)
	}
	v.positive(compKey(c, "pool_timeout"), d.PoolTimeout.Seconds())
	v.nonNegative(compKey(c, "max_connections"), float64(d.MaxConnections))
	if d.MaxConnections == 0 {
		v.positive(compKey(c, "bytes_per_connection"), d.BytesPerConnection)
	}
	v.nonNegative(compKey(c, "storage_gb"), d.StorageGB)
}

// crudMix checks the op attribute of the workload mix when a component of the VM family
// reads it: its values must be the CRUD operations.
func (v *validator) crudMix() {
	var user string
	for _, c := range v.s.Components {
		if c.VMTier != nil || c.Cache != nil || c.Database != nil {
			user = c.Name
			break
		}
	}
	if user == "" {
		return
	}
	for _, a := range v.s.Workload.Mix {
		if a.Name != OpAttribute {
			continue
		}
		for _, wv := range a.Values {
			if !slices.Contains(CRUDOps, wv.Value) {
				v.fail("workload.mix."+OpAttribute+"."+wv.Value, "unknown operation %q; the op attribute (read by %s) takes %s",
					wv.Value, user, strings.Join(CRUDOps, ", "))
			}
		}
	}
}
