package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindRouter, newRouter) }

// router is DNS routing in front of the regions (Route 53): each request goes on at once,
// with no latency and no event, to one of the routes' targets — typically the entry of one
// region's stack, which then has its own quotas.
//
//   - weighted: a request goes to route i with probability wᵢ / Σw, drawn independently
//     per request, as Route 53 answers each query. Independent thinning of a Poisson stream
//     leaves each route a Poisson stream of rate λ·wᵢ/Σw. With deterministic arrivals the
//     split is deterministic too — smooth weighted round robin, which interleaves the
//     routes so that every prefix of the stream is split as closely as whole requests
//     allow — so a deterministic scenario stays deterministic in every region.
//   - latency: each client is answered with the region that has the lowest latency for it.
//     The model has no client geography beyond the shares: clients gives the share of the
//     clients nearest each route's region, and every user is assigned to one region for
//     good (by a hash of the user, so a user's requests all go to the same region). Without
//     users (a rate_rps workload) every request is a new client, drawn as for weighted.
//     The network latency to the region is not added: the shares say who goes where, the
//     regions' components say how long it takes.
//
// Health checks and failover are not modelled: every region is always healthy. Nor is the
// bill: Route 53 charges per DNS query, and clients cache answers for the record's TTL, so
// queries are not requests (a hosted zone and its queries cost a few dollars a month).
type router struct {
	node
	delay
	routes  []routerRoute
	cum     []float64 // cumulative shares, the last +Inf
	smooth  bool      // deterministic arrivals: smooth weighted round robin
	current []float64 // smooth weighted round robin's running weights
	byUser  bool      // latency routing of a users-based workload
	salt    uint64
	_       [32]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

var (
	_ component = (*router)(nil)
	_ linker    = (*router)(nil)
	_ resetter  = (*router)(nil)
)

type routerRoute struct {
	to       component
	share    float64
	requests int64
}

func newRouter(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Router
	if spec == nil {
		return nil, fmt.Errorf("no router settings")
	}
	if len(spec.Routes) == 0 {
		return nil, fmt.Errorf("routes: a router needs at least one route")
	}
	r := &router{node: *n}
	var sum float64
	for i, rt := range spec.Routes {
		w := rt.Weight
		if spec.Policy == "latency" {
			w = rt.Clients
		}
		if w < 0 {
			return nil, fmt.Errorf("routes[%d]: a share must be >= 0, got %g", i, w)
		}
		sum += w
		r.routes = append(r.routes, routerRoute{share: w})
	}
	if sum <= 0 {
		return nil, fmt.Errorf("routes: at least one route needs a share > 0")
	}
	acc := 0.0
	for i := range r.routes {
		r.routes[i].share /= sum
		acc += r.routes[i].share
		r.cum = append(r.cum, acc)
	}
	r.cum[len(r.cum)-1] = 2 // rounding never leaves a draw unassigned
	switch spec.Policy {
	case "", "weighted":
		r.smooth = m.sc.Workload.Arrival == "deterministic"
		r.current = make([]float64, len(r.routes))
	case "latency":
		r.byUser = m.sc.Workload.Users > 0
		r.salt = r.rng.Uint64()
	default:
		return nil, fmt.Errorf("policy: %q is not weighted or latency", spec.Policy)
	}
	return r, nil
}

func (r *router) link() error {
	if err := notNext(&r.node, "a router is the workload's entry"); err != nil {
		return err
	}
	for i, rt := range r.spec.Router.Routes {
		t := r.m.component(rt.To)
		if t == nil {
			return fmt.Errorf("routes[%d].to: no component %q", i, rt.To)
		}
		if _, ok := t.(*router); ok || t.base().kind == scenarios.KindTable || t.base().kind == scenarios.KindTopic {
			return fmt.Errorf("routes[%d].to: %s is a %s, which takes no requests from a router", i, rt.To, t.base().kind)
		}
		r.routes[i].to = t
	}
	return nil
}

// accept routes request q.
func (r *router) accept(q ReqID) {
	now := r.m.k.now
	r.served(&r.node, now, 0)
	i := r.pick(q)
	r.routes[i].requests++
	r.routes[i].to.accept(q)
}

// pick chooses the route of request q.
func (r *router) pick(q ReqID) int {
	var u float64
	switch {
	case r.smooth:
		// Smooth weighted round robin: every route gains its share, the leader is picked
		// and pays 1 (the sum of the shares).
		best := 0
		for i := range r.routes {
			r.current[i] += r.routes[i].share
			if r.current[i] > r.current[best] {
				best = i
			}
		}
		r.current[best]--
		return best
	case r.byUser:
		u = float64(splitmix64(uint64(r.m.reqs.at(q).user)^r.salt)>>11) / (1 << 53)
	default:
		u = r.rng.Float64()
	}
	i := 0
	for u >= r.cum[i] {
		i++
	}
	return i
}

// splitmix64 is a bijective mixer of 64-bit values (Steele, Lea and Flood's SplitMix64
// finaliser): nearby user numbers land far apart.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Handle is never called: a router schedules no events.
func (r *router) Handle(op int32, arg int64) {}

func (r *router) resetStats(now Time) {
	r.delay.resetStats(now)
	for i := range r.routes {
		r.routes[i].requests = 0
	}
}

func (r *router) report(c *result.Component) {
	r.reportDelay(&r.node, c)
	for _, rt := range r.routes {
		c.Routes = append(c.Routes, result.RouteShare{To: rt.to.base().name, Share: round6(rt.share), Requests: rt.requests})
	}
}
