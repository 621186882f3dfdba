package sim

import "unsafe"

// Calls within architecture B (load balancer → VM tiers → cache → database) are nested: a
// tier waits for the answer of the tier, cache or database it calls, and may hold a worker
// while it waits, so the answer must come back to it. A component of the family takes a call
// through callee and answers through caller, naming the call by a token the caller chose (an
// index into its own slab of calls in progress, or the request): no allocation, no closure.
// A call with no caller came on the synchronous path (accept) and answers the client itself.

// caller is a component waiting for the answer to a call it made.
type caller interface {
	// answered settles the caller's call token, which the callee took at at: ok is false
	// when the call failed (abandoned in a queue, or failed further down).
	answered(token int32, at Time, ok bool)
}

// callers numbers the components that call one callee (a handful: those whose next it is),
// so that a call record holds a small number instead of an interface: nothing for the
// collector to trace or guard with a write barrier, and a record small enough to stay in
// registers (see tierCall). Number 0 is no caller: the client, on the synchronous path.
type callers []caller

// number returns from's number, adding it when new.
func (cs *callers) number(from caller) uint16 {
	if from == nil {
		return 0
	}
	for i, x := range *cs {
		if x == from {
			return uint16(i + 1)
		}
	}
	*cs = append(*cs, from)
	return uint16(len(*cs))
}

// of returns the caller numbered n, nil for 0.
func (cs callers) of(n uint16) caller {
	if n == 0 {
		return nil
	}
	return cs[n-1]
}

// callee takes calls for request r and answers from.answered(token, at, ok) when done; from is
// nil when r came on the synchronous path, and the callee then answers the client. op is r's
// operation: read once where r enters the family, while its record is in the CPU's cache,
// and carried with the calls — by the time a call reaches the cache or the database, after
// a wait in a tier's line, the request's record has long left the cache.
type callee interface {
	call(r ReqID, op crudOp, from caller, token int32)
}

// bottleneck is implemented by the kinds of the family that can tell whether they are
// saturated now: every server busy and work queued for them. Requests pile up above the
// resource that binds — a blocking tier's workers are held waiting on it — and time out where
// they queue, at the top; so a tier whose requests time out asks the components below it,
// deepest first, and the break names the resource that binds rather than where the backlog
// surfaces.
type bottleneck interface {
	// bindIfSaturated records the component's binding limit (once), with cause saying how it
	// showed, and reports whether it is saturated now.
	bindIfSaturated(cause string) bool
}

// bindBelow walks the calls from x down — through blocking tiers, and async ones too when
// throughAsync — and binds the deepest component saturated now, with cause; it reports
// whether it found one.
func (m *Model) bindBelow(x component, throughAsync bool, cause string) bool {
	var chain []bottleneck
	for x != nil {
		b, ok := x.(bottleneck)
		if !ok {
			break
		}
		chain = append(chain, b)
		switch y := x.(type) {
		case *vmtier:
			if !y.blocking && !throughAsync {
				x = nil
			} else {
				x = y.next
			}
		case *cache:
			x = y.db
		default:
			x = nil
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].bindIfSaturated(cause) {
			return true
		}
	}
	return false
}

// lateCallee is a callee that can take a call starting at a later time, at, than now: a
// blocking tier hands its call over as soon as it has booked its CPU time, which saves the
// event at the end of that time.
type lateCallee interface {
	callAt(r ReqID, op crudOp, from caller, token int32, at Time)
}

// prefetchAnswer asks for r's record when a call for it reaches the cache or the database,
// the end of its chain: the answer, which reads the record, is then no further away than
// the database's times, while the record, written when r arrived, perhaps a minute of
// waiting in the tiers' lines ago, at an address the requests' free list leaves random, has
// long left the CPU's cache. Fetched now, it is there when the answer comes.
func prefetchAnswer(m *Model, r ReqID) { prefetch(unsafe.Pointer(m.req(r))) }

// reply settles a call for r taken at at: to the caller, or to the client when there is none.
func (m *Model) reply(r ReqID, at Time, from caller, token int32, ok bool) {
	switch {
	case from != nil:
		from.answered(token, at, ok)
	case ok:
		m.respond(r)
	default:
		m.reject(r)
	}
}

// leave ends the stay in a component of something admitted at 'at' (done or abandoned),
// for the figures compStats keeps: what is in the component, the admission times and the
// sojourn, so that Little's law holds whatever the outcome. Unlike compStats.done it leaves
// the busy gauge alone: the family's kinds release what they hold (a worker, a core) when
// they release it, which is not always when the request leaves.
func leave(st *compStats, now, at Time) {
	st.arrivals.sub(at)
	st.inSys.Add(now, -1)
	st.sojourn.Record(now - at)
}

// slab is a free-listed array of call records: an index stays valid until freed, and a slab
// that has grown to the number in flight allocates no more.
type slab[T any] struct {
	items []T
	free  []int32
}

func (s *slab[T]) alloc(v T) int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		s.items[i] = v
		return i
	}
	s.items = append(s.items, v)
	return int32(len(s.items) - 1)
}

func (s *slab[T]) release(i int32) { s.free = append(s.free, i) }

func (s *slab[T]) at(i int32) *T { return &s.items[i] }

// callSlab is an array of call records whose slots are handed out in order, cycling
// through it: a call gets the next free slot after the last one handed out. Calls of the
// family mostly end in the order they began (they wait in FIFO lines, and an overloaded
// tier abandons them in that order), so records are written and read again in address
// order — a stream the hardware prefetches — rather than scattered over the whole backlog
// as a free list's last-freed-first reuse leaves them after a while, where each access is a
// cache miss. The slab grows whenever half its slots are in use, so the next free slot is
// rarely far; an index stays valid until freed.
type callSlab[T any] struct {
	items []T
	used  []bool
	next  int // where the search for a free slot starts
	live  int
}

func (s *callSlab[T]) alloc(v T) int32 {
	if 2*s.live >= len(s.items) {
		n := max(len(s.items), 64)
		s.next = len(s.items)
		s.items = append(s.items, make([]T, n)...)
		s.used = append(s.used, make([]bool, n)...)
	}
	i := s.next
	for s.used[i] {
		if i++; i == len(s.used) {
			i = 0
		}
	}
	s.next = i + 1
	if s.next == len(s.used) {
		s.next = 0
	}
	s.used[i] = true
	s.live++
	s.items[i] = v
	return int32(i)
}

func (s *callSlab[T]) release(i int32) {
	s.used[i] = false
	s.live--
}

func (s *callSlab[T]) at(i int32) *T { return &s.items[i] }

// crudOp is a request's CRUD operation.
type crudOp uint8

const (
	opQuery crudOp = iota
	opInsert
	opUpdate
	opDelete
)

func (o crudOp) write() bool { return o != opQuery }

// opReader reads a request's operation from the workload mix attribute "op".
type opReader struct {
	slot int
	ops  []crudOp // by value index
}

// newOpReader finds the op attribute; without one every request is a query.
func newOpReader(m *Model) opReader {
	slot, vals, ok := m.attrSlot("op")
	if !ok {
		return opReader{slot: -1}
	}
	r := opReader{slot: slot, ops: make([]crudOp, len(vals))}
	for name, i := range vals {
		switch name {
		case "insert":
			r.ops[i] = opInsert
		case "update":
			r.ops[i] = opUpdate
		case "delete":
			r.ops[i] = opDelete
		}
	}
	return r
}

func (o opReader) of(m *Model, r ReqID) crudOp {
	if o.slot < 0 {
		return opQuery
	}
	return o.ops[m.attr(r, o.slot)]
}

// freeTimes is a min-heap of the times identical servers (vCPUs, database cores,
// connections) are next free. Work that arrives in time order and is served first come,
// first served needs no event to release a server: it starts at max(arrival, earliest free)
// and frees that server when it ends (the Kiefer–Wolfowitz recursion of a FCFS c-server
// queue), which is exactly what events would do.
type freeTimes []Time

// newFreeTimes returns n servers free from time zero, in whole cache lines of their own.
func newFreeTimes(n int) freeTimes { return make(freeTimes, n, (n+7)&^7) }

// next returns when the earliest server is free.
func (h freeTimes) next() Time { return h[0] }

// take books the earliest server from max(now, its free time) for d and returns the start.
func (h freeTimes) take(now, d Time) (start Time) {
	start = max(now, h[0])
	h[0] = start + d
	h.down()
	return start
}

// hold books the earliest server until end (which must be >= its free time).
func (h freeTimes) hold(end Time) {
	h[0] = end
	h.down()
}

func (h freeTimes) down() {
	n := len(h)
	x := h[0]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1] < h[c] {
			c++
		}
		if x <= h[c] {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}

// busyIn is the part of [start, end) inside the measured period [warmup, horizon].
func (m *Model) busyIn(start, end Time) Time {
	return max(0, min(end, m.horizon)-max(start, m.warmup))
}
