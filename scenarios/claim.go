package scenarios

import (
	"fmt"
	"strconv"
	"strings"
)

// Claim is a statement about the scenario with a checkable form, such as the design
// documents' "a second region doubles capacity":
//
//	claims:
//	  - {says: a second region doubles capacity, kind: capacity_ratio, vs: baseline, at_least: 1.8}
//	  - {says: FIFO keeps arrival order, kind: order_preserved, key: state}
//	  - {says: Kubernetes reaches 50,000 pods, kind: pods_reachable, at_least: 50000}
//	  - {kind: p99_under, path: api, under: 300ms}
//	  - {kind: cost_under, monthly_usd: 20000}
//	  - {kind: meets_slo, slo: "end_to_end.p99<=60s"}
//
// Every run reports each claim as holds, fails or unknown (when the run cannot decide it:
// capacity_ratio needs the breakpoints of both scenarios, which compare --breakpoint
// finds), with the evidence.
type Claim struct {
	// Says is the statement in words; it defaults to the checkable form.
	Says string
	Kind string
	// Vs is the scenario a capacity_ratio compares with (by name, in the same comparison).
	Vs string
	// AtLeast is the least capacity ratio (capacity_ratio) or number of pods (pods_reachable).
	AtLeast float64
	// Key is the attribute per which order is kept (order_preserved): a mix attribute, or
	// "request" or "user".
	Key string
	// Path and Under: the p99 of the path (api or end_to_end) is under this (p99_under).
	Path  string
	Under Duration
	// MonthlyUSD bounds the monthly cost (cost_under).
	MonthlyUSD float64
	// SLO is an objective the run must meet (meets_slo).
	SLO string
}

// Objective is the parsed SLO of a meets_slo claim (validated when the scenario loaded).
func (c Claim) Objective() SLO {
	o, _ := ParseSLO(c.SLO)
	return o
}

// The claim kinds.
const (
	ClaimCapacityRatio  = "capacity_ratio"
	ClaimOrderPreserved = "order_preserved"
	ClaimPodsReachable  = "pods_reachable"
	ClaimP99Under       = "p99_under"
	ClaimCostUnder      = "cost_under"
	ClaimMeetsSLO       = "meets_slo"
)

// claimKeys lists, per kind, the keys it takes besides says and kind.
var claimKeys = []struct {
	kind string
	keys []string
}{
	{ClaimCapacityRatio, []string{"vs", "at_least"}},
	{ClaimOrderPreserved, []string{"key"}},
	{ClaimPodsReachable, []string{"at_least"}},
	{ClaimP99Under, []string{"path", "under"}},
	{ClaimCostUnder, []string{"monthly_usd"}},
	{ClaimMeetsSLO, []string{"slo"}},
}

// ClaimKinds lists the claim kinds.
func ClaimKinds() []string {
	var out []string
	for _, k := range claimKeys {
		out = append(out, k.kind)
	}
	return out
}

// Check is the claim's checkable form: "capacity_ratio vs baseline >= 1.8".
func (c Claim) Check() string {
	switch c.Kind {
	case ClaimCapacityRatio:
		return fmt.Sprintf("max load at SLO vs %s >= %s×", c.Vs, strconv.FormatFloat(c.AtLeast, 'g', -1, 64))
	case ClaimOrderPreserved:
		return fmt.Sprintf("no message processed out of arrival order per %s", c.Key)
	case ClaimPodsReachable:
		return fmt.Sprintf("pods reachable >= %s", strconv.FormatFloat(c.AtLeast, 'f', -1, 64))
	case ClaimP99Under:
		return fmt.Sprintf("%s.p99 < %s", c.Path, c.Under)
	case ClaimCostUnder:
		return fmt.Sprintf("monthly cost < $%s", strconv.FormatFloat(c.MonthlyUSD, 'f', -1, 64))
	case ClaimMeetsSLO:
		return c.Objective().Expr
	}
	return c.Kind
}

// Statement is what the claim says, or its checkable form when it says nothing.
func (c Claim) Statement() string {
	if c.Says != "" {
		return c.Says
	}
	return c.Check()
}

// claims checks each claim: a known kind, the keys it needs and none it does not take.
func (v *validator) claims() {
	for i := range v.s.Claims {
		c := &v.s.Claims[i]
		p := index("claims", i)
		var keys []string
		for _, k := range claimKeys {
			if k.kind == c.Kind {
				keys = k.keys
			}
		}
		if c.Kind == "" {
			v.missing(p+".kind", "missing kind: one of %s", strings.Join(ClaimKinds(), ", "))
			continue
		}
		if keys == nil {
			v.fail(p+".kind", "unknown claim kind %q; one of %s", c.Kind, strings.Join(ClaimKinds(), ", "))
			continue
		}
		given := map[string]bool{
			"vs": c.Vs != "", "at_least": v.given(p + ".at_least"), "key": c.Key != "",
			"path": c.Path != "", "under": v.given(p + ".under"), "monthly_usd": v.given(p + ".monthly_usd"),
			"slo": c.SLO != "",
		}
		for _, k := range []string{"vs", "at_least", "key", "path", "under", "monthly_usd", "slo"} {
			switch {
			case given[k] && !contains(keys, k):
				v.fail(p+"."+k, "a %s claim takes no %s (it takes %s)", c.Kind, k, strings.Join(keys, ", "))
			case !given[k] && contains(keys, k):
				v.missing(p+"."+k, "a %s claim needs %s", c.Kind, k)
			}
		}
		switch c.Kind {
		case ClaimCapacityRatio, ClaimPodsReachable:
			if given["at_least"] && c.AtLeast <= 0 {
				v.fail(p+".at_least", "must be > 0, got %g", c.AtLeast)
			}
			if c.Vs != "" && c.Vs == v.s.Name {
				v.fail(p+".vs", "a scenario's capacity ratio to itself is 1")
			}
		case ClaimP99Under:
			if c.Path != "" && !contains(sloPaths, c.Path) {
				v.fail(p+".path", "unknown path %q; api or end_to_end", c.Path)
			}
			if given["under"] && c.Under <= 0 {
				v.fail(p+".under", "must be > 0, got %s", c.Under)
			}
		case ClaimCostUnder:
			if given["monthly_usd"] && c.MonthlyUSD <= 0 {
				v.fail(p+".monthly_usd", "must be > 0, got %g", c.MonthlyUSD)
			}
		case ClaimMeetsSLO:
			if c.SLO != "" {
				if _, err := ParseSLO(c.SLO); err != nil {
					v.fail(p+".slo", "%v", err)
				}
			}
		}
	}
}
