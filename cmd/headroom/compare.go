package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim"
)

type compareFlags struct {
	scenarioFlags
	bpFlags
	format     string
	out        string
	breakpoint bool
}

// bpFlags tune a breakpoint search (breakpoint, compare --breakpoint).
type bpFlags struct {
	slos        []string
	tolerance   float64
	window      time.Duration
	warmup      time.Duration
	fullHorizon bool
}

func (f *bpFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.slos, "slo", nil, "an objective every load must meet, `EXPR` such as api.p99<=300ms, end_to_end.p99<=60s, throttle_ratio<=0.001 (repeatable; added to the scenario's slos)")
	fl.Float64Var(&f.tolerance, "tolerance", 0.02, "stop when the failing load is within this fraction of the passing one")
	fl.DurationVar(&f.window, "window", 10*time.Minute, "diurnal workloads: the busiest `duration` of the day each probe judges the SLOs over")
	fl.DurationVar(&f.warmup, "probe-warmup", 10*time.Minute, "diurnal workloads: the `duration` simulated before the window (not judged)")
	fl.BoolVar(&f.fullHorizon, "full-horizon", false, "make every probe the scenario's own horizon (slow; the whole day is judged)")
}

func (f *bpFlags) options() ([]sim.BreakpointOption, error) {
	if f.tolerance <= 0 || f.tolerance >= 1 {
		return nil, usageError{fmt.Errorf("--tolerance: want a fraction between 0 and 1, got %g", f.tolerance)}
	}
	if f.window <= 0 || f.warmup < 0 {
		return nil, usageError{fmt.Errorf("--window must be > 0 and --probe-warmup >= 0")}
	}
	opts := []sim.BreakpointOption{sim.WithTolerance(f.tolerance), sim.WithProbeWindow(f.warmup, f.window)}
	if f.fullHorizon {
		opts = append(opts, sim.WithFullHorizon())
	}
	return opts, nil
}

func newCompareCmd() *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare SCENARIO|FILE...",
		Short: "Run scenarios side by side: load, latency, limits, cost, what breaks first",
		Long: `Run several scenarios with common random numbers (one seed for all, and a random stream
per component name) and print them side by side: offered and completed load, API and
end-to-end p50/p99, throttle and error ratios, the oldest queued message, cold starts, the
component closest to its concurrency limit, the monthly cost and the cost per million
requests, what breaks first — and each scenario's claims with their verdicts.

With --breakpoint each scenario's breakpoint is searched too (see 'headroom breakpoint'):
the largest number of users (or rate) at which it meets every SLO (--slo and its own
slos), the SLO that binds above it, and the monthly cost at that load. Claims that compare
capacities (capacity_ratio) are judged on those.

Runs and probes share the machine's cores.`,
		Example: `  headroom compare baseline per-state multi-region
  headroom compare baseline per-state --breakpoint --slo 'api.p99<=1s' --slo 'throttle_ratio<=0.001'
  headroom compare ./a.yaml ./b.yaml --format json --out cmp.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("compare needs at least one scenario")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runCompare(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(reports.Formats, ", "))
	fl.StringVarP(&f.out, "out", "o", "", "write the report to `FILE` instead of stdout")
	fl.BoolVar(&f.breakpoint, "breakpoint", false, "also search each scenario's largest load at SLO")
	f.scenarioFlags.register(cmd)
	f.bpFlags.register(cmd)
	return cmd
}

func runCompare(cmd *cobra.Command, refs []string, f compareFlags) error {
	report, err := reports.ComparisonForFormat(f.format)
	if err != nil {
		return usageError{fmt.Errorf("--format: %w", err)}
	}
	slos, err := parseSLOs(f.slos)
	if err != nil {
		return err
	}
	if len(slos) > 0 && !f.breakpoint {
		return usageError{fmt.Errorf("--slo applies to the breakpoint search: add --breakpoint")}
	}
	bpOpts, err := f.bpFlags.options()
	if err != nil {
		return err
	}
	prices, err := loadPrices(f.prices)
	if err != nil {
		return err
	}
	var scs []*scenarios.Scenario
	for _, ref := range refs {
		sc, err := f.load(cmd, ref)
		if err != nil {
			return err
		}
		for _, prev := range scs {
			if prev.Name == sc.Name {
				return badInput{fmt.Errorf("scenario %s is given twice (%s and %s)", sc.Name, prev.Source, sc.Source)}
			}
		}
		scs = append(scs, sc)
	}
	status := newStatusLine(cmd.ErrOrStderr())
	var mu sync.Mutex
	opts := []sim.CompareOption{sim.WithComparePrices(prices), sim.WithCompareProgress(func(name, what string) {
		mu.Lock()
		defer mu.Unlock()
		status.printf("%s: %s", name, what)
	})}
	if cmd.Flags().Changed("seed") {
		opts = append(opts, sim.WithCompareSeed(f.seed))
	}
	if f.breakpoint {
		opts = append(opts, sim.WithCompareBreakpoint(slos, bpOpts...))
	}
	cmp, err := sim.Compare(scs, opts...)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	var buf bytes.Buffer
	if err := report(&buf, cmp); err != nil {
		return fmt.Errorf("render %s: %w", f.format, err)
	}
	return writeOutput(cmd.OutOrStdout(), f.out, buf.Bytes())
}
