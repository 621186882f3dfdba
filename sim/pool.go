package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindPool, newPool) }

// pool is c identical servers in front of one FIFO queue that is unbounded, bounded, or
// absent (a loss system). Each server slot remembers its request and when the request
// arrived, so the completion event carries only the slot number.
type pool struct {
	node
	servers  int
	capacity int // waiting places; scenarios.QueueUnbounded for no limit
	svc      Sampler
	slots    []poolSlot
	freeSlot []int32
	waiting  ring[poolWaiter]
}

type poolSlot struct {
	r  ReqID
	at Time // arrival at the pool
}

type poolWaiter struct {
	r  ReqID
	at Time
}

const opPoolDone int32 = 0

func newPool(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Pool
	if spec == nil || spec.Concurrency < 1 {
		return nil, fmt.Errorf("concurrency: must be >= 1")
	}
	svc, err := NewSampler(spec.ServiceTime)
	if err != nil {
		return nil, fmt.Errorf("service_time: %w", err)
	}
	p := &pool{node: *n, servers: spec.Concurrency, capacity: spec.QueueCapacity, svc: svc}
	p.slots = make([]poolSlot, spec.Concurrency)
	p.freeSlot = make([]int32, spec.Concurrency)
	for i := range p.freeSlot {
		p.freeSlot[i] = int32(spec.Concurrency - 1 - i)
	}
	p.st.capacity = int64(spec.Concurrency)
	return p, nil
}

func (p *pool) accept(r ReqID) {
	now := p.m.k.now
	p.st.offer()
	switch {
	case len(p.freeSlot) > 0:
		p.st.admit(now)
		p.begin(r, now, now)
	case p.capacity == scenarios.QueueUnbounded || p.waiting.len() < p.capacity:
		p.st.admit(now)
		p.waiting.push(poolWaiter{r: r, at: now})
	default:
		p.st.refuse(now)
		p.m.bind(&p.node, "capacity", fmt.Sprintf("%d servers busy and %d waiting places full", p.servers, max(p.capacity, 0)))
		p.m.reject(r)
	}
}

// begin starts serving r, which arrived at the pool at 'at', in a free slot.
func (p *pool) begin(r ReqID, at, now Time) {
	s := p.freeSlot[len(p.freeSlot)-1]
	p.freeSlot = p.freeSlot[:len(p.freeSlot)-1]
	p.serve(s, r, at, now)
}

// serve starts serving r in slot s.
func (p *pool) serve(s int32, r ReqID, at, now Time) {
	p.slots[s] = poolSlot{r: r, at: at}
	p.st.start(now, now-at)
	p.m.k.After(p.svc.Sample(&p.rng), p.id, opPoolDone, int64(s))
}

// Handle ends the service in slot arg; the first waiter, if any, takes the slot over.
func (p *pool) Handle(op int32, arg int64) {
	now := p.m.k.now
	s := p.slots[arg]
	p.st.done(now, now-s.at)
	if p.waiting.len() > 0 {
		w := p.waiting.pop()
		p.serve(int32(arg), w.r, w.at, now)
	} else {
		p.freeSlot = append(p.freeSlot, int32(arg))
	}
	p.forward(s.r)
}

func (p *pool) report(c *result.Component) {}
