package sim

import (
	"fmt"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindLoadBalancer, newLoadBalancer) }

// loadBalancer is an application load balancer in front of a VM tier. It picks the
// instance of its next for each request (round robin, or the one with the fewest
// outstanding requests), adds its latency, and passes the answer back; an answer later than
// the idle timeout reaches the client as a 504 — and the first one binds the deepest
// saturated component below, whose queue made the answer late (or the load balancer's own
// timeout, when nothing below is saturated). An ALB scales itself, so it has no capacity
// limit of its own; it is billed per hour and per load-balancer capacity unit.
//
// Like the gateway, it charges its latency by moving the request's arrival back, so it costs
// no event: the client's latencies include it and nothing downstream changes in law. It
// keeps no record of its calls: the tier takes each the moment the load balancer takes the
// request, so the tier's answer says when the load balancer took it, and the token is the
// request.
type loadBalancer struct {
	node
	alg      balanceAlg
	overhead Sampler
	timeout  Time
	tier     *vmtier
	ops      opReader

	timedOut int64
	boundTO  bool
	_        [32]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

var (
	_ component = (*loadBalancer)(nil)
	_ linker    = (*loadBalancer)(nil)
	_ resetter  = (*loadBalancer)(nil)
	_ caller    = (*loadBalancer)(nil)
	_ metered   = (*loadBalancer)(nil)
)

func newLoadBalancer(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.LoadBalancer
	if spec == nil {
		return nil, fmt.Errorf("no loadbalancer settings")
	}
	alg, err := parseBalance(spec.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("algorithm: %w", err)
	}
	oh, err := NewSampler(spec.Overhead)
	if err != nil {
		return nil, fmt.Errorf("overhead: %w", err)
	}
	if spec.RequestsPerConnection < 1 {
		return nil, fmt.Errorf("requests_per_connection: must be >= 1")
	}
	return &loadBalancer{node: *n, alg: alg, overhead: oh, timeout: Dur(spec.Timeout.D()), ops: newOpReader(m)}, nil
}

func (lb *loadBalancer) link() error {
	t, ok := lb.next.(*vmtier)
	if !ok {
		return fmt.Errorf("next: a load balancer balances a vmtier")
	}
	lb.tier = t
	return nil
}

func (lb *loadBalancer) accept(r ReqID) {
	m := lb.m
	now := m.k.now
	lb.st.offer()
	lb.st.admit(now)
	lb.st.start(now, 0) // nothing waits at the load balancer
	m.req(r).arrived -= lb.overhead.Sample(&lb.rng)
	lb.tier.enter(r, lb.ops.of(m, r), lb, int32(r), lb.tier.pick(lb.alg))
}

// answered is the tier's answer for request token, taken at at: passed to the client, or a
// 504 when it came too late.
func (lb *loadBalancer) answered(token int32, at Time, ok bool) {
	now := lb.m.k.now
	r := ReqID(token)
	lb.st.done(now, now-at)
	if ok && now-at > lb.timeout {
		ok = false
		lb.timedOut++
		if !lb.boundTO {
			lb.boundTO = true
			cause := fmt.Sprintf("answers took longer than the load balancer's %v idle timeout (504)", time.Duration(lb.timeout))
			if !lb.m.bindBelow(lb.next, true, cause) {
				lb.m.bind(&lb.node, "idle timeout", cause)
			}
		}
	}
	if ok {
		lb.m.respond(r)
	} else {
		lb.m.reject(r)
	}
}

// Handle is never called: a load balancer schedules no events.
func (lb *loadBalancer) Handle(op int32, arg int64) {}

func (lb *loadBalancer) resetStats(now Time) { lb.timedOut = 0 }

// An ALB is billed per hour, and per load-balancer capacity unit (LCU) hour: an hour's LCUs
// are the largest of its dimensions, of which two grow with requests — new connections
// (25 per second make one LCU) and bytes processed (1 GB per hour makes one LCU, for EC2
// targets). Both are proportional to the requests, so the LCU-hours of a period are its
// requests × the larger per-request share: 1 / (requests_per_connection × 25 × 3600) or the
// request and response bytes (payload_bytes each way) / 1 GB. Active connections and rule
// evaluations (within the 10 free rules) stay far below one LCU at these loads.
func (lb *loadBalancer) usage(span Time) []result.Usage {
	spec := lb.spec.LoadBalancer
	perConn := 1 / (spec.RequestsPerConnection * 25 * 3600)
	perByte := 2 * float64(lb.m.payloadBytes()) / 1e9
	dim := "new connections"
	if perByte > perConn {
		dim = "bytes processed"
	}
	return []result.Usage{
		{Price: "elb.alb.hours", Item: "1 Application Load Balancer", Quantity: span.Seconds() / 3600, Fixed: true},
		{Price: "elb.alb.lcu_hours", Item: "capacity units (" + dim + ")", Quantity: float64(lb.st.accepted) * max(perConn, perByte)},
	}
}

func (lb *loadBalancer) report(c *result.Component) {
	c.TimedOut = lb.timedOut
	c.Capacity, c.Utilization = 0, 0
}
