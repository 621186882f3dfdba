package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// ClaimContext is what claims need beyond the run itself: the breakpoints found for the
// scenarios of a comparison, by scenario name.
type ClaimContext struct {
	Breakpoints map[string]*result.Breakpoint
	// Compared names the scenarios of the comparison, for the evidence of a missing one.
	Compared []string
}

// EvaluateClaims gives the verdict of each of the scenario's claims on r: holds, fails, or
// unknown with what is missing (a claim is never decided without its evidence). ctx may
// be nil (a single run).
func EvaluateClaims(sc *scenarios.Scenario, r *result.Result, ctx *ClaimContext) []result.ClaimResult {
	var out []result.ClaimResult
	for _, c := range sc.Claims {
		v, ev := evaluateClaim(sc.Name, c, r, ctx)
		out = append(out, result.ClaimResult{Claim: c.Statement(), Check: c.Check(), Verdict: v, Evidence: ev})
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return result.VerdictHolds
	}
	return result.VerdictFails
}

func evaluateClaim(name string, c scenarios.Claim, r *result.Result, ctx *ClaimContext) (string, string) {
	switch c.Kind {
	case scenarios.ClaimCapacityRatio:
		return capacityRatio(name, c, ctx)
	case scenarios.ClaimOrderPreserved:
		return orderPreserved(c, r)
	case scenarios.ClaimPodsReachable:
		var best *result.Component
		for i := range r.Components {
			if x := &r.Components[i]; x.PodsReachable > 0 && (best == nil || x.PodsReachable > best.PodsReachable) {
				best = x
			}
		}
		if best == nil {
			return result.VerdictUnknown, "no component reports the pods it can reach: the model has no Kubernetes cluster"
		}
		ev := fmt.Sprintf("%s can run at most %d pods", best.Name, best.PodsReachable)
		if best.PodsLimit != "" {
			ev += "; the binding limit: " + best.PodsLimit
		}
		return verdict(float64(best.PodsReachable) >= c.AtLeast), ev
	case scenarios.ClaimP99Under:
		s := scenarios.SLO{Metric: c.Path + ".p99", Op: "<", Value: float64(c.Under) / 1e6}
		s.Expr = s.Metric + "<" + c.Under.String()
		res := EvaluateSLO(s, r)
		if strings.HasPrefix(res.Detail, "no request") {
			return result.VerdictUnknown, res.Detail
		}
		return verdict(res.Passed), res.Detail
	case scenarios.ClaimCostUnder:
		if r.Cost == nil {
			return result.VerdictUnknown, "the run has no cost"
		}
		ev := fmt.Sprintf("monthly cost $%s (prices as of %s)", money(r.Cost.MonthlyUSD), r.Cost.PricesAsOf)
		if len(r.Cost.Unpriced) > 0 {
			return result.VerdictUnknown, ev + ", but with no price for " + strings.Join(r.Cost.Unpriced, "; ")
		}
		return verdict(r.Cost.MonthlyUSD < c.MonthlyUSD), ev
	case scenarios.ClaimMeetsSLO:
		res := EvaluateSLO(c.Objective(), r)
		if strings.HasPrefix(res.Detail, "no request") {
			return result.VerdictUnknown, res.Detail
		}
		return verdict(res.Passed), res.Detail
	}
	return result.VerdictUnknown, "unknown claim kind " + c.Kind
}

// capacityRatio compares the largest loads at SLO of the scenario and of c.Vs. The search
// brackets each between a load that meets the SLOs and one that does not, so the ratio is
// known within those bounds; the verdict takes the ratio of the loads that met them.
func capacityRatio(name string, c scenarios.Claim, ctx *ClaimContext) (string, string) {
	if ctx == nil || ctx.Breakpoints == nil {
		return result.VerdictUnknown, fmt.Sprintf("needs the largest load at SLO of %s and of %s: run headroom compare %s %s --breakpoint", name, c.Vs, c.Vs, name)
	}
	mine, theirs := ctx.Breakpoints[name], ctx.Breakpoints[c.Vs]
	switch {
	case theirs == nil:
		return result.VerdictUnknown, fmt.Sprintf("%s is not in this comparison (%s): add it", c.Vs, strings.Join(ctx.Compared, ", "))
	case mine == nil:
		return result.VerdictUnknown, fmt.Sprintf("no breakpoint was found for %s", name)
	case mine.Variable != theirs.Variable:
		return result.VerdictUnknown, fmt.Sprintf("%s searched %s and %s %s: not comparable", name, mine.Variable, c.Vs, theirs.Variable)
	case len(mine.SLOs) > 0 && len(theirs.SLOs) > 0 && !sameSLOs(mine, theirs):
		return result.VerdictUnknown, fmt.Sprintf("%s was searched against %s and %s against %s: the loads meet different objectives",
			name, sloList(mine), c.Vs, sloList(theirs))
	case theirs.Status == "below_range" || theirs.MaxLoad <= 0:
		return result.VerdictUnknown, fmt.Sprintf("%s meets its SLOs at no load probed", c.Vs)
	case mine.Status == "below_range" || mine.MaxLoad <= 0:
		return result.VerdictFails, fmt.Sprintf("%s meets its SLOs at no load probed; %s carries %s %s", name, c.Vs, loadText(theirs.MaxLoad), theirs.Variable)
	}
	ratio := mine.MaxLoad / theirs.MaxLoad
	ev := fmt.Sprintf("max %s at SLO: %s %s vs %s %s, ratio %s (needs >= %s)", mine.Variable, name, loadText(mine.MaxLoad), c.Vs, loadText(theirs.MaxLoad),
		strconv.FormatFloat(round3(ratio), 'f', -1, 64), strconv.FormatFloat(c.AtLeast, 'f', -1, 64))
	if theirs.Status == "above_range" { // theirs is a lower bound: the ratio is at most this
		return result.VerdictUnknown, ev + "; but " + c.Vs + " still met its SLOs at the largest load probed"
	}
	if mine.Status == "above_range" { // mine is a lower bound: the ratio is at least this
		if ratio >= c.AtLeast {
			return result.VerdictHolds, ev + "; " + name + " still met its SLOs at the largest load probed"
		}
		return result.VerdictUnknown, ev + "; but " + name + " still met its SLOs at the largest load probed"
	}
	if mine.FailLoad > 0 && theirs.FailLoad > 0 {
		ev += fmt.Sprintf(" (between %s and %s given the search tolerance)",
			strconv.FormatFloat(round3(mine.MaxLoad/theirs.FailLoad), 'f', -1, 64), strconv.FormatFloat(round3(mine.FailLoad/theirs.MaxLoad), 'f', -1, 64))
	}
	return verdict(ratio >= c.AtLeast), ev
}

// sameSLOs reports whether two searches judged the same objectives (in any order).
func sameSLOs(a, b *result.Breakpoint) bool {
	x, y := sloNames(a), sloNames(b)
	return slices.Equal(x, y)
}

func sloNames(b *result.Breakpoint) []string {
	var s []string
	for _, o := range b.SLOs {
		s = append(s, o.SLO)
	}
	slices.Sort(s)
	return s
}

func sloList(b *result.Breakpoint) string { return strings.Join(sloNames(b), ", ") }

func orderPreserved(c scenarios.Claim, r *result.Result) (string, string) {
	var checked, violations int64
	var parts, other []string
	for _, x := range r.Components {
		for _, o := range x.Ordering {
			if o.Key != c.Key {
				other = append(other, fmt.Sprintf("%s counts order per %s", x.Name, o.Key))
				continue
			}
			checked += o.Checked
			violations += o.Violations
			parts = append(parts, fmt.Sprintf("%s %d of %d", x.Name, o.Violations, o.Checked))
		}
	}
	if len(parts) == 0 {
		ev := "cannot be checked: the model reports no ordering per " + c.Key
		if len(other) > 0 {
			ev += " (" + strings.Join(other, "; ") + ")"
		}
		return result.VerdictUnknown, ev
	}
	if checked == 0 {
		return result.VerdictUnknown, fmt.Sprintf("cannot be checked: no message was processed in the measured period (%s)", strings.Join(parts, ", "))
	}
	return verdict(violations == 0), fmt.Sprintf("%d of %d messages processed out of arrival order per %s (%s)", violations, checked, c.Key, strings.Join(parts, ", "))
}

// loadText shows a load: whole users, or a rate with three significant digits.
func loadText(x float64) string {
	if x >= 1000 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

func money(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

func round3(x float64) float64 {
	if x == 0 {
		return 0
	}
	return float64(int64(x*1000+0.5)) / 1000
}
