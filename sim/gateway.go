package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindGateway, newGateway) }

// gateway is an API Gateway stage. A request must find a token in the stage's own bucket
// (when the stage sets a limit) and in the region's account bucket, which every gateway of
// the region shares; otherwise it is refused with a 429 and counted as throttled.
//
// An admitted request goes on to next at once, and the gateway's overhead is charged by
// moving the request's arrival back by it: the client's latencies (API and end to end)
// include the overhead, and the gateway needs no event per request. What the components
// downstream see is the arrival stream itself instead of the arrival stream delayed by
// independent overheads — for Poisson arrivals the same process in distribution (a Poisson
// stream whose points are displaced independently is Poisson with the same rate, smoothed
// over the overhead's few milliseconds), so nothing downstream changes in law.
//
// The gateway then waits for the synchronous answer (request.gate): its sojourn runs from
// admission to answer (the integration's time; the overhead is on the client's latency), and
// an answer later than the integration timeout becomes a 504 — compared when the answer
// comes, so the timeout costs no timer event either.
type gateway struct {
	node
	stage    tokenBucket
	hasStage bool
	overhead Sampler
	timeout  Time
	gate     uint8 // this gateway's request.gate value

	timedOut                               int64
	boundStage, boundAccount, boundTimeout bool
	_                                      [32]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

var (
	_ component = (*gateway)(nil)
	_ resetter  = (*gateway)(nil)
)

func newGateway(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Gateway
	if spec == nil {
		return nil, fmt.Errorf("no gateway settings")
	}
	if n.region.spec.APIGatewayRateRPS <= 0 || n.region.spec.APIGatewayBurst < 1 {
		return nil, fmt.Errorf("region %s: api_gateway_rate_rps and api_gateway_burst must be > 0", n.region.spec.Name)
	}
	overhead, err := NewSampler(spec.Overhead)
	if err != nil {
		return nil, fmt.Errorf("overhead: %w", err)
	}
	if len(m.gates) >= math.MaxUint8 {
		return nil, fmt.Errorf("at most %d gateways are supported", math.MaxUint8)
	}
	g := &gateway{node: *n, overhead: overhead, timeout: Dur(spec.Timeout.D())}
	if spec.RateRPS > 0 {
		burst := float64(spec.Burst)
		if burst <= 0 {
			burst = float64(n.region.spec.APIGatewayBurst)
		}
		g.stage, g.hasStage = newTokenBucket(spec.RateRPS, burst), true
	}
	m.gates = append(m.gates, g)
	g.gate = uint8(len(m.gates))
	n.region.gateways++
	return g, nil
}

func (g *gateway) accept(r ReqID) {
	m := g.m
	now := m.k.now
	g.st.offer()
	acct := &g.region.apigw
	if g.hasStage && !g.stage.has(now, 1) {
		g.throttle(r, now)
		m.bindOnce(&g.boundStage, &g.node, "rate limit", func() string {
			return fmt.Sprintf("stage throttle %g rps, burst %d: 429", g.spec.Gateway.RateRPS, g.stage.cap/tokenScale)
		})
		return
	}
	if !acct.has(now, 1) {
		g.throttle(r, now)
		m.bindOnce(&g.boundAccount, &g.node, "rate limit", func() string {
			return fmt.Sprintf("account throttle of region %s, %g rps, burst %d, shared by %d gateway(s): 429",
				g.region.spec.Name, g.region.spec.APIGatewayRateRPS, g.region.spec.APIGatewayBurst, g.region.gateways)
		})
		return
	}
	if g.hasStage {
		g.stage.spend(1)
	}
	acct.spend(1)
	g.st.admit(now)
	g.st.busy.Add(now, 1) // nothing waits at a gateway: admitted is in service
	q := m.req(r)
	q.arrived -= g.overhead.Sample(&g.rng)
	if q.gate == 0 {
		q.gate, q.gateAt = g.gate, now
	} else {
		// An outer gateway already waits for the answer: this one only adds its overhead
		// (and its own figures end here).
		g.st.done(now, 0)
	}
	g.forward(r)
}

func (g *gateway) throttle(r ReqID, now Time) {
	g.st.refuse(now)
	g.st.throttled++
	g.m.reject(r)
}

// Handle is never called: a gateway schedules no events.
func (g *gateway) Handle(op int32, arg int64) {}

// answered is called (through Model.respond or Model.reject) when the synchronous answer to
// a request this gateway admitted at 'at' comes back; it reports a 504.
func (g *gateway) answered(at Time) bool {
	now := g.m.k.now
	g.st.done(now, now-at)
	if g.timeout > 0 && now-at > g.timeout {
		g.timedOut++
		g.m.bindOnce(&g.boundTimeout, &g.node, "integration timeout", func() string {
			return fmt.Sprintf("the synchronous path answered after the %v integration timeout: 504", time.Duration(g.timeout))
		})
		return true
	}
	return false
}

func (g *gateway) resetStats(now Time) { g.timedOut = 0 }

func (g *gateway) report(c *result.Component) {
	c.TimedOut = g.timedOut
	c.Capacity = 0
	c.Utilization = 0
}
