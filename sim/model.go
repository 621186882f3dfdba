package sim

import (
	"fmt"
	"sort"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// maxAttrs is the number of request attributes (workload.mix entries) a request carries.
const maxAttrs = 4

// ReqID indexes a request in the model's slab. It travels in event arguments, so a request
// costs no allocation once the slab has grown to the number in flight.
type ReqID int32

// request is one client request from arrival to the end of all processing it caused.
type request struct {
	arrived Time
	attrs   [maxAttrs]uint8
	user    uint32
	// holds counts what still refers to the request: 1 for the synchronous path until it
	// responds, plus one per asynchronous message derived from it. At zero it is finished.
	holds    int32
	rejected bool // refused on the synchronous path
	failed   bool // accepted, then lost to an error or a dead-letter queue
	measured bool // arrived after the warm-up
	// gate is 1 + the index in Model.gates of the gateway waiting for the synchronous answer
	// (for its sojourn and integration timeout), 0 when none; gateAt is when it admitted r.
	gate uint8
	// gateAt is also the free list's link (the next free ReqID) while the slot is free:
	// sharing it keeps a request at 32 bytes, two per cache line.
	gateAt Time
}

// reqSlab holds the requests in fixed chunks: growing it never moves or copies what is
// there, so a backlog of millions of messages costs their own memory and no more (a
// doubling slice would hold the old and the new array at once, and leave the old as
// garbage for the collector).
type reqSlab struct {
	chunks [][]request
	n      int // slots handed out
}

const reqChunkBits = 14 // 16,384 requests, 512 KB a chunk

func (s *reqSlab) at(r ReqID) *request {
	return &s.chunks[r>>reqChunkBits][r&(1<<reqChunkBits-1)]
}

// add hands out a never-used slot.
func (s *reqSlab) add() ReqID {
	if s.n>>reqChunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]request, 1<<reqChunkBits))
	}
	s.n++
	return ReqID(s.n - 1)
}

// len returns the number of slots handed out (free or not).
func (s *reqSlab) len() int { return s.n }

// component is what every kind of model implements. The model hands requests on the
// synchronous path to accept; everything else (messages, batches) travels between kinds
// through their own methods, found at link time.
type component interface {
	Handler
	base() *node
	// accept receives request r at the current time on the synchronous path. The component
	// eventually calls node.forward (done, hand on), or Model.reject.
	accept(r ReqID)
	// report adds the kind-specific figures at the end of the run.
	report(c *result.Component)
}

// resetter is implemented by kinds that keep figures beyond compStats: resetStats starts
// their measured period at the end of the warm-up, as compStats.reset does for the rest.
type resetter interface {
	resetStats(now Time)
}

// linker is implemented by kinds that resolve references to other components (calls, routes,
// dead-letter queues) after every component has been built.
type linker interface {
	link() error
}

// builder constructs one kind of component from its scenario description.
type builder func(m *Model, n *node, c *scenarios.Component) (component, error)

// builders maps each kind to its constructor; each kind's file registers itself in init,
// so adding a kind touches no shared switch.
var builders = map[scenarios.Kind]builder{}

func register(k scenarios.Kind, b builder) { builders[k] = b }

// node is the state every component shares: identity, wiring, random stream, statistics.
type node struct {
	m      *Model
	spec   *scenarios.Component
	name   string
	kind   scenarios.Kind
	id     HandlerID
	next   component
	region *region
	rng    Rng
	st     compStats
}

func (n *node) base() *node { return n }

// forward hands r to the next component, or answers the client when there is none.
func (n *node) forward(r ReqID) {
	if n.next != nil {
		n.next.accept(r)
		return
	}
	n.m.respond(r)
}

// Model is one simulation run: the kernel, the components built from a scenario, the
// request slab and the global statistics.
type Model struct {
	k        *Kernel
	sc       *scenarios.Scenario
	comps    []component
	byName   map[string]component
	regions  []*region
	wl       *workload
	warmup   Time
	horizon  Time
	progress func(now, end Time)

	reqs reqSlab
	free ReqID // head of the free list, -1 when empty

	// Workload counts (measured requests only).
	offered, accepted, rejected, completed, failed int64
	api, e2e                                       *Latency

	gates []*gateway // gateways that answer through respond/reject (request.gate)
	// detachedOpen counts measured, accepted requests carried by a message (detach).
	detachedOpen int64
	breaks       []result.Break
	bound        map[string]bool
	series       *seriesSampler
	attrs        []scenarios.Attribute
	attrIdx      map[string]int
}

// Component returns the named component or nil (for kinds that link to others).
func (m *Model) component(name string) component { return m.byName[name] }

// Now returns the current virtual time.
func (m *Model) Now() Time { return m.k.now }

// newRequest takes a request from the slab with one hold for the synchronous path.
func (m *Model) newRequest() ReqID {
	var id ReqID
	if m.free >= 0 {
		id = m.free
		m.free = ReqID(m.reqs.at(id).gateAt)
	} else {
		id = m.reqs.add()
	}
	now := m.k.now
	*m.reqs.at(id) = request{arrived: now, holds: 1, measured: now >= m.warmup}
	return id
}

func (m *Model) req(r ReqID) *request { return m.reqs.at(r) }

// hold records one more asynchronous message derived from r.
func (m *Model) hold(r ReqID) { m.reqs.at(r).holds++ }

// release drops one hold on r; the last one finishes the request.
func (m *Model) release(r ReqID) {
	q := m.reqs.at(r)
	q.holds--
	if q.holds > 0 {
		return
	}
	if q.measured && !q.rejected {
		if q.failed {
			m.failed++
		} else {
			m.completed++
			m.e2e.Record(m.k.now - q.arrived)
		}
	}
	q.gateAt = Time(m.free)
	m.free = r
}

// respond ends the synchronous path of r successfully: the client has its answer.
func (m *Model) respond(r ReqID) {
	q := m.reqs.at(r)
	if q.gate != 0 && m.answered(q) {
		m.reject(r) // the gateway answered 504 at its integration timeout
		return
	}
	if q.measured {
		m.accepted++
		m.api.Record(m.k.now - q.arrived)
	}
	m.release(r)
}

// reject ends the synchronous path of r with an error to the client (throttle, timeout,
// function error).
func (m *Model) reject(r ReqID) {
	q := m.reqs.at(r)
	if q.gate != 0 {
		m.answered(q)
	}
	q.rejected = true
	if q.measured {
		m.rejected++
	}
	m.release(r)
}

// answered tells the gateway waiting for q's synchronous answer that it has come, and
// reports whether it came too late (the client was given a 504 at the timeout).
func (m *Model) answered(q *request) (timedOut bool) {
	g := m.gates[q.gate-1]
	q.gate = 0
	return g.answered(q.gateAt)
}

// fail marks r as lost after acceptance (dead-lettered, failed asynchronously) and drops
// the hold of the message that failed.
func (m *Model) fail(r ReqID) {
	m.reqs.at(r).failed = true
	m.release(r)
}

// A request's end, carried by its last message instead of its slot (see detach): its
// arrival time in the low 62 bits (signed: a run may start before zero), and two flags
// above it — eight bytes, so that a message is 24 (a backlog of 11 million messages takes
// 260 MB, not 350).
type detached uint64

const (
	detMeasured detached = 1 << 62 // counts in the figures: measured and not rejected
	detFailed   detached = 1 << 63
	detArrived           = detMeasured - 1
)

// arrived returns the arrival time, sign-extended from its 62 bits.
func (d detached) arrived() Time { return Time(int64(d<<2) >> 2) }

// detach frees the slot of r, whose only holder left is one message, and returns what that
// message needs to end the request itself (finish). A message waiting behind a backlog of
// millions then holds no slot, and its end touches no cold memory. Only a message whose
// remaining path never looks the request up again may carry it (see queue.detach).
func (m *Model) detach(r ReqID) detached {
	q := m.reqs.at(r)
	d := detached(q.arrived) & detArrived
	if d.arrived() != q.arrived { // 2⁶¹ ns is 73 years
		panic(fmt.Sprintf("sim: arrival time %d does not fit a carried request", q.arrived))
	}
	if q.measured && !q.rejected {
		d |= detMeasured
		m.detachedOpen++
	}
	if q.failed {
		d |= detFailed
	}
	q.holds = 0
	q.gateAt = Time(m.free)
	m.free = r
	return d
}

// finish ends a request carried by a message, as release does for one in its slot; failed
// marks it lost, as fail does.
func (m *Model) finish(d detached, failed bool) {
	if d&detMeasured == 0 {
		return
	}
	m.detachedOpen--
	if failed || d&detFailed != 0 {
		m.failed++
		return
	}
	m.completed++
	m.e2e.Record(m.k.now - d.arrived())
}

// bind records that a limit bound in a component; the first binding of each (component,
// limit) is kept, with the time and the offered load at that time.
func (m *Model) bind(c *node, limit, detail string) {
	key := c.name + "\x00" + limit
	if m.bound[key] {
		return
	}
	m.bound[key] = true
	m.breaks = append(m.breaks, result.Break{
		Component:  c.name,
		Limit:      limit,
		AtS:        round6(m.k.now.Seconds()),
		OfferedRPS: round6(m.wl.rateAt(m.k.now)),
		Detail:     detail,
	})
}

// bindOnce is bind for hot paths: *flag (one per limit, owned by the caller) makes every
// call after the first one test, and detail is formatted only on the first.
func (m *Model) bindOnce(flag *bool, c *node, limit string, detail func() string) {
	if *flag {
		return
	}
	*flag = true
	m.bind(c, limit, detail())
}

// attr returns the value index of attribute slot i of request r.
func (m *Model) attr(r ReqID, i int) uint8 { return m.reqs.at(r).attrs[i] }

// attrSlot returns the slot of the named attribute and the index of each of its values.
func (m *Model) attrSlot(name string) (int, map[string]uint8, bool) {
	i, ok := m.attrIdx[name]
	if !ok {
		return 0, nil, false
	}
	vals := map[string]uint8{}
	for j, v := range m.attrs[i].Values {
		vals[v.Value] = uint8(j)
	}
	return i, vals, true
}

// build constructs and links every component of the scenario.
func build(sc *scenarios.Scenario, seed uint64) (*Model, error) {
	m := &Model{
		k:       NewKernel(1024),
		sc:      sc,
		byName:  map[string]component{},
		warmup:  Dur(sc.Warmup.D()),
		horizon: Dur(sc.Horizon.D()),
		free:    -1,
		bound:   map[string]bool{},
		attrIdx: map[string]int{},
	}
	if m.horizon <= 0 {
		return nil, fmt.Errorf("scenario %s: horizon must be > 0", sc.Name)
	}
	if m.warmup >= m.horizon {
		return nil, fmt.Errorf("scenario %s: warmup %v must be shorter than the horizon %v", sc.Name, sc.Warmup, sc.Horizon)
	}
	m.api = NewLatency(m.horizon)
	m.e2e = NewLatency(m.horizon)
	if len(sc.Workload.Mix) > maxAttrs {
		return nil, fmt.Errorf("scenario %s: workload.mix has %d attributes, at most %d are supported", sc.Name, len(sc.Workload.Mix), maxAttrs)
	}
	m.attrs = sc.Workload.Mix
	for i, a := range sc.Workload.Mix {
		if len(a.Values) > 256 {
			return nil, fmt.Errorf("scenario %s: workload.mix.%s has more than 256 values", sc.Name, a.Name)
		}
		m.attrIdx[a.Name] = i
	}
	for _, rs := range sc.Regions {
		m.regions = append(m.regions, newRegion(m, rs))
	}
	if len(m.regions) == 0 {
		return nil, fmt.Errorf("scenario %s: no region", sc.Name)
	}
	for _, c := range sc.Components {
		b, ok := builders[c.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: components.%s.kind: the simulator has no model for kind %q", c.Pos, c.Name, c.Kind)
		}
		n := &node{m: m, spec: c, name: c.Name, kind: c.Kind, rng: *Stream(seed, "component/"+c.Name)}
		n.region = m.regionFor(c.Region)
		n.st.init(m)
		comp, err := b(m, n, c)
		if err != nil {
			return nil, fmt.Errorf("%s: components.%s: %w", c.Pos, c.Name, err)
		}
		comp.base().id = m.k.Register(comp) // the kind holds its own copy of the node
		m.comps = append(m.comps, comp)
		m.byName[c.Name] = comp
	}
	for _, comp := range m.comps {
		n := comp.base()
		if n.spec.Next != "" {
			n.next = m.byName[n.spec.Next]
			if n.next == nil {
				return nil, fmt.Errorf("%s: components.%s.next: no component %q", n.spec.Pos, n.name, n.spec.Next)
			}
		}
	}
	for _, comp := range m.comps {
		if l, ok := comp.(linker); ok {
			if err := l.link(); err != nil {
				n := comp.base()
				return nil, fmt.Errorf("%s: components.%s: %w", n.spec.Pos, n.name, err)
			}
		}
	}
	wl, err := newWorkload(m, seed)
	if err != nil {
		return nil, err
	}
	m.wl = wl
	m.series = newSeriesSampler(m)
	return m, nil
}

func (m *Model) regionFor(name string) *region {
	for _, r := range m.regions {
		if r.spec.Name == name {
			return r
		}
	}
	return m.regions[0]
}

// sortedBreaks returns the breaks in time order (stable on insertion order).
func (m *Model) sortedBreaks() []result.Break {
	b := append([]result.Break(nil), m.breaks...)
	sort.SliceStable(b, func(i, j int) bool { return b[i].AtS < b[j].AtS })
	return b
}
