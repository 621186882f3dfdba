package scenarios

import "slices"

// routerTargets are the kinds a router may send requests to: whatever takes a synchronous
// request (the entry of a region's stack).
var routerTargets = []Kind{KindGateway, KindFunction, KindPool, KindQueue, KindLoadBalancer, KindDeployment}

// maxRouteWeight is Route 53's largest record weight.
const maxRouteWeight = 255

func validateRouter(v *validator, c *Component) {
	r := c.Router
	p := compKey(c, "routes")
	v.oneOf(compKey(c, "policy"), r.Policy, "weighted", "latency")
	if len(r.Routes) == 0 {
		v.missing(p, "a router needs routes: [{to: COMPONENT, weight: 1}, ...]")
		return
	}
	sum := 0.0
	regions := map[string]string{}
	for i, rt := range r.Routes {
		rp := index(p, i)
		switch {
		case rt.To == "":
			v.missing(rp, "missing to: the component this record sends requests to")
		default:
			if t := v.ref(rp+".to", rt.To, routerTargets, "a route's target"); t != nil && r.Policy == "latency" {
				// Latency records are per region: the region with the lowest latency for a
				// client answers, so two records in one region would be one.
				region := t.Region
				if region == "" {
					region = v.s.Regions[0].Name
				}
				if other, dup := regions[region]; dup {
					v.fail(rp+".to", "%s is in region %s, like %s: latency routing picks a region, so each route's target must be in a region of its own", rt.To, region, other)
				}
				regions[region] = rt.To
			}
		}
		weight, clients := v.given(rp+".weight"), v.given(rp+".clients")
		switch r.Policy {
		case "weighted":
			if clients {
				v.fail(rp+".clients", "applies to latency routing (policy: latency); a weighted route gives weight")
			}
			if !weight {
				v.missing(rp+".weight", "a weighted route needs weight (0–%d; its share is weight / the sum of weights)", maxRouteWeight)
			} else if rt.Weight < 0 || rt.Weight > maxRouteWeight {
				v.fail(rp+".weight", "must be between 0 and %d (Route 53's range), got %g", maxRouteWeight, rt.Weight)
			}
			sum += rt.Weight
		case "latency":
			if weight {
				v.fail(rp+".weight", "applies to weighted routing (policy: weighted); a latency route gives clients, the share of clients nearest its region")
			}
			if !clients {
				v.missing(rp+".clients", "a latency route needs clients: the share of the clients for which its region has the lowest latency")
			} else if rt.Clients < 0 {
				v.fail(rp+".clients", "must be >= 0, got %g", rt.Clients)
			}
			sum += rt.Clients
		}
	}
	if sum <= 0 && slices.Contains([]string{"weighted", "latency"}, r.Policy) {
		key := "weight"
		if r.Policy == "latency" {
			key = "clients"
		}
		v.fail(p, "at least one route needs %s > 0", key)
	}
}

// routers checks that a router is where arrivals come in: it stands for DNS, in front of
// everything, so it is the workload's entry and nobody's next (kinds.go refuses the latter).
func (v *validator) routers() {
	for _, c := range v.s.Components {
		if c.Router != nil && c.Name != v.s.Workload.Entry {
			v.fail(compKey(c, "kind"), "a router is DNS in front of the regions: make it the workload's entry (workload.entry: %s)", c.Name)
		}
	}
}
