package sim

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim/cost"
)

// CompareOption configures Compare.
type CompareOption func(*cmpOptions)

type cmpOptions struct {
	seed       uint64
	seedSet    bool
	workers    int
	prices     *cost.Table
	breakpoint bool
	slos       []scenarios.SLO
	bpOpts     []BreakpointOption
	progress   func(scenario, what string)
}

// WithCompareSeed runs every scenario with this seed (default: the first scenario's).
func WithCompareSeed(seed uint64) CompareOption {
	return func(o *cmpOptions) { o.seed, o.seedSet = seed, true }
}

// WithCompareWorkers sets how many simulations run at once (default GOMAXPROCS).
func WithCompareWorkers(n int) CompareOption { return func(o *cmpOptions) { o.workers = n } }

// WithComparePrices prices every scenario with t (default: the embedded table).
func WithComparePrices(t *cost.Table) CompareOption { return func(o *cmpOptions) { o.prices = t } }

// WithCompareBreakpoint also searches each scenario's breakpoint: the largest load that
// meets slos and the scenario's own SLOs. opts tune the searches.
func WithCompareBreakpoint(slos []scenarios.SLO, opts ...BreakpointOption) CompareOption {
	return func(o *cmpOptions) { o.breakpoint, o.slos, o.bpOpts = true, slos, opts }
}

// WithCompareProgress calls f when a scenario's run or search starts and ends (from the
// goroutines running them).
func WithCompareProgress(f func(scenario, what string)) CompareOption {
	return func(o *cmpOptions) { o.progress = f }
}

// SLOsFor returns the objectives a scenario is held to: extra (from the command line)
// first, then the scenario's own, each once.
func SLOsFor(sc *scenarios.Scenario, extra []scenarios.SLO) []scenarios.SLO {
	out := append([]scenarios.SLO(nil), extra...)
	for _, s := range sc.SLOs {
		dup := false
		for _, x := range out {
			dup = dup || x.Expr == s.Expr
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// Compare runs the scenarios with common random numbers — one seed for all, and every
// component draws from a stream named after it, so two scenarios that share a component
// give it the same random numbers — and sets them side by side. Runs (and, with a
// breakpoint search, the probes) share GOMAXPROCS workers; the output does not depend on
// their order.
func Compare(scs []*scenarios.Scenario, opts ...CompareOption) (*result.Comparison, error) {
	if len(scs) == 0 {
		return nil, errors.New("compare: no scenarios")
	}
	o := cmpOptions{}
	for _, f := range opts {
		f(&o)
	}
	if !o.seedSet {
		o.seed = scs[0].Seed
	}
	if o.workers <= 0 {
		o.workers = runtime.GOMAXPROCS(0)
	}
	if o.prices == nil {
		o.prices = cost.Default()
	}
	names := map[string]bool{}
	runs := make([]*scenarios.Scenario, len(scs))
	for i, sc := range scs {
		if names[sc.Name] {
			return nil, fmt.Errorf("compare: scenario %s is given twice", sc.Name)
		}
		names[sc.Name] = true
		c := *sc
		c.Seed = o.seed
		runs[i] = &c
		if o.breakpoint && len(SLOsFor(sc, o.slos)) == 0 {
			return nil, fmt.Errorf("compare --breakpoint: %s has no SLOs: give --slo or slos: in the scenario", sc.Name)
		}
	}
	progress := func(name, what string) {
		if o.progress != nil {
			o.progress(name, what)
		}
	}
	slots := make(chan struct{}, o.workers)
	results := make([]*result.Result, len(runs))
	bps := make([]*result.Breakpoint, len(runs))
	errs := make([]error, len(runs))
	// Probes per round of each search: fixed by the numbers of workers and scenarios (never
	// by which slots happen to be free), so that the probes, and so the breakpoints, do not
	// depend on scheduling.
	perSearch := max(1, o.workers/len(runs))
	start := time.Now()
	var wg sync.WaitGroup
	for i, sc := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			progress(sc.Name, "run")
			res, err := Run(sc, WithPrices(o.prices))
			<-slots
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", sc.Name, err)
				return
			}
			results[i] = res
			progress(sc.Name, "run done")
			if !o.breakpoint {
				return
			}
			bo := append([]BreakpointOption{WithProbeSlots(slots), WithProbeWorkers(perSearch), WithBreakpointPrices(o.prices),
				WithNominalRun(res)}, o.bpOpts...)
			progress(sc.Name, "breakpoint")
			bp, err := Breakpoint(sc, SLOsFor(sc, o.slos), bo...)
			if err != nil {
				errs[i] = err
				return
			}
			bps[i] = bp
			progress(sc.Name, "breakpoint done")
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cmp := &result.Comparison{Schema: result.CompareSchema, Results: results}
	if o.breakpoint {
		cmp.Breakpoints = bps
		ctx := &ClaimContext{Breakpoints: map[string]*result.Breakpoint{}}
		for i, sc := range runs {
			ctx.Breakpoints[sc.Name] = bps[i]
			ctx.Compared = append(ctx.Compared, sc.Name)
		}
		for i, sc := range runs {
			results[i].Claims = EvaluateClaims(sc, results[i], ctx)
		}
	}
	for i, res := range results {
		cmp.Rows = append(cmp.Rows, CompareRow(res, bps[i]))
		cmp.Timing.Events += res.Timing.Events
		if bps[i] != nil {
			cmp.Timing.Events += bps[i].Timing.Events
		}
	}
	cmp.Timing.WallS = time.Since(start).Seconds()
	if cmp.Timing.WallS > 0 {
		cmp.Timing.EventsPerS = float64(cmp.Timing.Events) / cmp.Timing.WallS
	}
	return cmp, nil
}

// CompareRow is the comparison line of one result, with its breakpoint when there is one.
func CompareRow(r *result.Result, bp *result.Breakpoint) result.ComparisonRow {
	w := r.Workload
	row := result.ComparisonRow{
		Scenario: r.Scenario, Offered: w.Offered, Completed: w.Completed,
		OfferedRPS: w.OfferedRPS, CompletedRPS: w.CompletedRPS, PeakRPS: w.PeakRPS,
		APIP50MS: r.Latency.API.P50, APIP99MS: r.Latency.API.P99,
		E2EP50MS: r.Latency.EndToEnd.P50, E2EP99MS: r.Latency.EndToEnd.P99,
		Claims: r.Claims,
	}
	if w.Offered > 0 {
		row.ErrorRatio = round6(float64(w.Rejected+w.Failed) / float64(w.Offered))
	}
	worst := -1.0
	for _, c := range r.Components {
		if c.Offered > 0 && c.Throttled > 0 {
			if x := float64(c.Throttled) / float64(c.Offered); x > row.ThrottleRatio {
				row.ThrottleRatio, row.ThrottledComponent = round6(x), c.Name
			}
		}
		row.MaxQueueAgeMS = math.Max(row.MaxQueueAgeMS, c.MaxAgeMS)
		row.ColdStarts += c.ColdStarts
		if c.Capacity > 0 {
			if x := float64(c.PeakConcurrency) / float64(c.Capacity); x > worst {
				worst = x
				row.PeakConcurrency, row.ConcurrencyLimit, row.ConcurrencyComponent = c.PeakConcurrency, c.Capacity, c.Name
			}
		}
	}
	if r.Cost != nil {
		row.MonthlyUSD, row.PerMillionUSD = r.Cost.MonthlyUSD, r.Cost.PerMillionUSD
	}
	if len(r.Breaks) > 0 {
		b := r.Breaks[0]
		row.FirstBreak = &b
	}
	if bp != nil {
		row.LoadVariable = bp.Variable
		row.MaxLoad = bp.MaxLoad
		row.MonthlyUSDAtMax = bp.MonthlyUSD
		switch bp.Status {
		case "above_range":
			row.BreakpointNote = "met every SLO at the largest load probed"
		case "below_range":
			row.BreakpointNote = fmt.Sprintf("fails its SLOs at every load probed, down to %s", loadText(bp.FailLoad))
		}
		if bp.Binding != nil {
			row.BindingSLO = bp.Binding.SLO
		}
	}
	return row
}
