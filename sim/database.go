package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindDatabase, newDatabase) }

// database is a relational database (MySQL) of a primary and read replicas. A query first
// needs a connection from its client's pool for the endpoint it goes to — writes to the
// primary, reads to the replicas (round robin), or everything to the primary when there are
// none — and then one of the instance's cores, which it holds for its read or write time; it
// keeps the connection until it is done. The clients are the VMs of the tiers that reach the
// database (directly, or through a cache): each has a pool of pool_size connections per
// endpoint, modelled as one pool of clients × pool_size per endpoint (the tiers spread their
// requests evenly over their VMs). The pools cannot open more connections than the
// instances' max_connections. A query that would wait longer than pool_timeout for a
// connection fails after that timeout.
//
// An overloaded instance shows up where it does in production: its cores are all busy, every
// connection to it is held by a query queued on them, and queries wait for connections —
// and, above a blocking tier, requests wait for the threads those queries hold.
//
// Queries reach the database in time order (their callers make them at event times) and are
// served first come, first served both for connections and for cores, so the start and end
// of each is known when it arrives (freeTimes): the database costs no event of its own when
// a cache calls it, and one (the answer) when a tier does. It keeps the figures of a delay
// station: its own queues are accounted in each query's latency.
type database struct {
	node
	delay
	readTime, writeTime Sampler
	ops                 opReader
	inst                []dbInstance // the primary, then the replicas
	pools               [2]dbPool    // writer, reader (the reader is the writer without replicas)
	reader              int
	poolTimeout         Time
	calls               callSlab[dbCall]
	callers             callers // who called: dbCall.from numbers them
	rr                  int

	reads, writes, timedOut int64
	clients                 int
	maxConnNote             string // set at link when the pools exceed max_connections
	boundConn, boundMaxConn bool
	boundCores              [2]bool // primary, replicas
}

var (
	_ component    = (*database)(nil)
	_ linker       = (*database)(nil)
	_ resetter     = (*database)(nil)
	_ callee       = (*database)(nil)
	_ metered      = (*database)(nil)
	_ bottleneck   = (*database)(nil)
	_ delayStation = (*database)(nil)
)

type dbInstance struct {
	cores freeTimes
	busy  Time // core-time in the measured period
}

type dbPool struct {
	size  int
	conns freeTimes
}

// dbCall is a query a tier made directly, answered by an event at its end.
// Four fields keep it in registers (see tierCall).
type dbCall struct {
	at    Time
	r     ReqID
	token int32
	dbAnswer
}

// dbAnswer is who made a query, numbered in the database's callers, and whether it got its
// answer.
type dbAnswer struct {
	from uint16
	ok   bool
}

const opDBAnswer int32 = 0

func newDatabase(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Database
	if spec == nil {
		return nil, fmt.Errorf("no database settings")
	}
	rd, err := NewSampler(spec.ReadTime)
	if err != nil {
		return nil, fmt.Errorf("read_time: %w", err)
	}
	wr, err := NewSampler(spec.WriteTime)
	if err != nil {
		return nil, fmt.Errorf("write_time: %w", err)
	}
	it := m.sc.InstanceType(spec.InstanceType)
	if it == nil {
		return nil, fmt.Errorf("instance_type: no instance type %q", spec.InstanceType)
	}
	if spec.PoolSize < 1 || spec.PoolTimeout <= 0 {
		return nil, fmt.Errorf("pool_size and pool_timeout must be > 0")
	}
	cores := spec.Cores
	if cores == 0 {
		cores = it.VCPUs
	}
	d := &database{node: *n, readTime: rd, writeTime: wr, poolTimeout: Dur(spec.PoolTimeout.D())}
	d.inst = make([]dbInstance, 1+spec.Replicas)
	for i := range d.inst {
		d.inst[i] = dbInstance{cores: newFreeTimes(cores)}
	}
	d.st.capacity = int64(cores * len(d.inst))
	if spec.Replicas > 0 {
		d.reader = 1
	}
	d.ops = newOpReader(m)
	return d, nil
}

// maxConnections is what one instance accepts.
func (d *database) maxConnections() int {
	spec := d.spec.Database
	if spec.MaxConnections > 0 {
		return spec.MaxConnections
	}
	it := d.m.sc.InstanceType(spec.InstanceType)
	return int(math.Floor(it.MemoryMB * 1024 * 1024 / spec.BytesPerConnection))
}

// link sizes the pools from the VMs of the tiers that reach the database.
func (d *database) link() error {
	for _, comp := range d.m.comps {
		t, ok := comp.(*vmtier)
		if !ok {
			continue
		}
		switch x := t.next.(type) {
		case *database:
			if x == d {
				d.clients += t.vms()
			}
		case *cache:
			if x.spec.Cache.Database == d.name {
				d.clients += t.vms()
			}
		}
	}
	d.clients = max(d.clients, 1)
	spec := d.spec.Database
	want := d.clients * spec.PoolSize
	perInst := d.maxConnections()
	writer := min(want, perInst)
	d.pools[0] = dbPool{size: writer, conns: newFreeTimes(writer)}
	if writer < want {
		d.maxConnNote = fmt.Sprintf("%d clients × %d connections want %d to the primary; it accepts %d", d.clients, spec.PoolSize, want, perInst)
	}
	if d.reader == 1 {
		replicas := len(d.inst) - 1
		reader := min(want, perInst*replicas)
		d.pools[1] = dbPool{size: reader, conns: newFreeTimes(reader)}
		if reader < want && d.maxConnNote == "" {
			d.maxConnNote = fmt.Sprintf("%d clients × %d connections want %d to the replicas; %d replicas accept %d", d.clients, spec.PoolSize, want, replicas, perInst*replicas)
		}
	}
	return nil
}

// accept is a query on the synchronous path.
func (d *database) accept(r ReqID) { d.call(r, d.ops.of(d.m, r), nil, 0) }

// call is a query a tier makes for r, its kind from r's operation op; the answer comes at
// its end (or at the pool timeout).
func (d *database) call(r ReqID, op crudOp, from caller, token int32) {
	prefetchAnswer(d.m, r)
	now := d.m.k.now
	end, ok := d.query(now, op.write())
	slot := d.calls.alloc(dbCall{at: now, r: r, token: token, dbAnswer: dbAnswer{from: d.callers.number(from), ok: ok}})
	d.m.k.Schedule(end, d.id, opDBAnswer, int64(slot))
}

func (d *database) Handle(op int32, arg int64) {
	slot := int32(arg)
	c := *d.calls.at(slot)
	d.calls.release(slot)
	d.m.reply(c.r, c.at, d.callers.of(c.from), c.token, c.ok)
}

// query runs a read or a write arriving at now: it returns when the caller has the answer,
// and false when the query failed for want of a connection (the answer is then the error at
// the pool's timeout).
func (d *database) query(now Time, write bool) (end Time, ok bool) {
	if d.maxConnNote != "" {
		d.m.bindOnce(&d.boundMaxConn, &d.node, "max connections", func() string {
			return d.maxConnNote + ": the pools are smaller than configured"
		})
	}
	pi := d.poolOf(write)
	p := &d.pools[pi]
	acquired := max(now, p.conns.next())
	if acquired-now > d.poolTimeout {
		d.refusedQuery(now, pi)
		return now + d.poolTimeout, false
	}
	i := 0
	if !write && d.reader == 1 {
		i = 1 + d.rr
		d.rr++
		if d.rr == len(d.inst)-1 {
			d.rr = 0
		}
	}
	in := &d.inst[i]
	t := d.readTime
	if write {
		t = d.writeTime
		d.writes++
	} else {
		d.reads++
	}
	s := t.Sample(&d.rng)
	start := in.cores.take(acquired, s)
	end = start + s
	p.conns.hold(end)
	in.busy += d.m.busyIn(start, end)
	d.st.wait.Record(start - now)
	d.served(&d.node, now, end-now)
	return end, true
}

func (d *database) poolOf(write bool) int {
	if write {
		return 0
	}
	return d.reader
}

// refusedQuery counts a query that waited too long for a connection of pool pi.
func (d *database) refusedQuery(now Time, pi int) {
	d.st.offered++
	d.st.rejected++
	d.timedOut++
	d.m.bindOnce(&d.boundConn, &d.node, "connections", func() string {
		return fmt.Sprintf("a query would have waited more than %v for one of the %d connections to the %s (%d clients × %d) and failed; %s",
			time.Duration(d.poolTimeout), d.pools[pi].size, d.role(pi), d.clients, d.spec.Database.PoolSize, d.state(pi, now))
	})
}

func (d *database) role(pool int) string {
	if pool == 1 {
		return "replicas"
	}
	return "primary"
}

// instancesOf returns the instances behind pool pi.
func (d *database) instancesOf(pi int) []dbInstance {
	if pi == 1 {
		return d.inst[1:]
	}
	return d.inst[:1]
}

// state describes the endpoint of pool pi at now.
func (d *database) state(pi int, now Time) string {
	busy, cores, backlog := 0, 0, Time(0)
	for _, in := range d.instancesOf(pi) {
		for _, f := range in.cores {
			cores++
			if f > now {
				busy++
				backlog += f - now
			}
		}
	}
	conns := 0
	for _, f := range d.pools[pi].conns {
		if f > now {
			conns++
		}
	}
	return fmt.Sprintf("the %s: %d of %d cores busy with %v of work booked on them, %d of %d connections in use",
		d.role(pi), busy, cores, time.Duration(backlog).Round(time.Millisecond), conns, d.pools[pi].size)
}

// bindIfSaturated: the primary (or the replicas) are saturated when every connection to
// them is taken and every core busy: a new query would wait for both.
func (d *database) bindIfSaturated(cause string) bool {
	now := d.m.k.now
	for pi := 0; pi <= d.reader; pi++ {
		if d.pools[pi].conns.next() <= now {
			continue
		}
		saturated := true
		for _, in := range d.instancesOf(pi) {
			if in.cores.next() <= now {
				saturated = false
			}
		}
		if !saturated {
			continue
		}
		d.m.bindOnce(&d.boundCores[pi], &d.node, d.role(pi)+" cores", func() string {
			return cause + "; " + d.state(pi, now)
		})
		return true
	}
	return false
}

func (d *database) resetStats(now Time) {
	d.delay.resetStats(now)
	d.reads, d.writes, d.timedOut = 0, 0, 0
}

func (d *database) report(c *result.Component) {
	d.reportDelay(&d.node, c)
	c.TimedOut = d.timedOut
	span := float64(d.m.horizon - d.m.warmup)
	cores := len(d.inst[0].cores)
	all := Time(0)
	for _, in := range d.inst {
		all += in.busy
	}
	c.Capacity = int64(cores * len(d.inst))
	c.Utilization = round6(float64(all) / span / float64(c.Capacity))
	f := &result.DatabaseFigures{
		Reads: d.reads, Writes: d.writes, Instances: int64(len(d.inst)),
		CoresPerInstance:   int64(cores),
		Clients:            int64(d.clients),
		WriterConnections:  int64(d.pools[0].size),
		MaxConnections:     int64(d.maxConnections()),
		PrimaryUtilization: round6(float64(d.inst[0].busy) / span / float64(cores)),
	}
	if d.reader == 1 {
		f.ReaderConnections = int64(d.pools[1].size)
		f.ReplicaUtilization = round6(float64(all-d.inst[0].busy) / span / float64(cores*(len(d.inst)-1)))
	}
	c.Database = f
}

// A database is billed per instance-hour, the primary and each replica alike (Multi-AZ
// instances at their own price); storage is not priced.
func (d *database) usage(span Time) []result.Usage {
	spec := d.spec.Database
	price := "rds." + spec.Engine + "." + spec.InstanceType
	if spec.MultiAZ {
		price += ".multi_az"
	}
	return []result.Usage{instanceUsage(price, len(d.inst), span)}
}
