package sim

import (
	"fmt"
	"strings"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim/cost"
)

// WithPrices prices the run's usage with t instead of the embedded price table.
func WithPrices(t *cost.Table) Option { return func(o *options) { o.prices = t } }

// annotate adds what is computed from a finished result rather than during the run: the
// cost of its usage (and a check that every item had a price) and the verdicts of the
// scenario's claims. RunReplications annotates the combined result again, from the mean
// usage.
func annotate(sc *scenarios.Scenario, res *result.Result, o *options) {
	prices := o.prices
	if prices == nil {
		prices = cost.Default()
	}
	res.Cost = prices.Price(res)
	res.Checks = removeCheck(res.Checks, "cost")
	ch := result.Check{Name: "cost", Passed: len(res.Cost.Unpriced) == 0}
	if ch.Passed {
		ch.Detail = fmt.Sprintf("every usage item has a price in %s (as of %s)", prices.Source, prices.AsOf)
	} else {
		ch.Detail = fmt.Sprintf("no price in %s for %s: the totals leave them out", prices.Source, strings.Join(res.Cost.Unpriced, "; "))
	}
	res.Checks = append(res.Checks, ch)
	res.Claims = EvaluateClaims(sc, res, nil)
}

// removeCheck drops the checks named name (a combined result carries replication 0's).
func removeCheck(checks []result.Check, name string) []result.Check {
	out := checks[:0:0]
	for _, c := range checks {
		if c.Name != name && !strings.HasPrefix(c.Name, name+" ") {
			out = append(out, c)
		}
	}
	return out
}
