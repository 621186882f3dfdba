package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/sim"
)

type breakpointFlags struct {
	scenarioFlags
	bpFlags
	format string
	out    string
	start  float64
}

func newBreakpointCmd() *cobra.Command {
	var f breakpointFlags
	cmd := &cobra.Command{
		Use:   "breakpoint SCENARIO|FILE",
		Short: "Find the largest load that still meets the SLOs, and what binds above it",
		Long: `Search over the number of users (or rate_rps, for a rate-based workload) for the largest
load at which the scenario meets every SLO: the --slo flags and the scenario's own slos.

An SLO is METRIC OP VALUE: api.P or end_to_end.P (P one of mean, p50, p90, p95, p99, p999,
max) and max_queue_age take a duration (300ms, 60s); throttle_ratio, error_ratio (bounded
from above) and completed_ratio (from below) a fraction or a percentage (0.001, 0.1%).

The search brackets the breakpoint by doubling or halving from the scenario's own load,
then narrows it until the failing load is within --tolerance of the passing one; each
probe is a full simulation with the scenario's seed, and the probes of a round run in
parallel. A diurnal workload is probed in its busiest --window of the day after
--probe-warmup (its peak is where it breaks first), with on-demand tables warm; an hourly
one in its busiest hour; a flat one over its own horizon (--full-horizon makes every probe
the scenario's own run). A scenario with autoscaled deployments is first run over its own
horizon, and each probe starts its deployments at the replicas that day reached at its
peak, scaled to the probe's load. The report gives the load found, the SLO that fails just above
it, the first limit that broke there, every probe, and the monthly cost at that load.`,
		Example: `  headroom breakpoint baseline --slo 'api.p99<=1s' --slo 'end_to_end.p99<=60s' --slo 'throttle_ratio<=0.001'
  headroom breakpoint mmc --slo 'api.mean<=1.5s' --format json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runBreakpoint(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(reports.Formats, ", "))
	fl.StringVarP(&f.out, "out", "o", "", "write the report to `FILE` instead of stdout")
	fl.Float64Var(&f.start, "start", 0, "start the search around this `load` (users or rps) instead of the scenario's")
	f.scenarioFlags.register(cmd)
	f.bpFlags.register(cmd)
	return cmd
}

func runBreakpoint(cmd *cobra.Command, ref string, f breakpointFlags) error {
	report, err := reports.BreakpointForFormat(f.format)
	if err != nil {
		return usageError{fmt.Errorf("--format: %w", err)}
	}
	slos, err := parseSLOs(f.slos)
	if err != nil {
		return err
	}
	opts, err := f.bpFlags.options()
	if err != nil {
		return err
	}
	if f.start < 0 {
		return usageError{fmt.Errorf("--start: want a load > 0, got %g", f.start)}
	}
	prices, err := loadPrices(f.prices)
	if err != nil {
		return err
	}
	sc, err := f.load(cmd, ref)
	if err != nil {
		return err
	}
	all := sim.SLOsFor(sc, slos)
	if len(all) == 0 {
		return usageError{fmt.Errorf("no SLOs: give --slo EXPR (e.g. --slo 'api.p99<=300ms') or slos: in the scenario")}
	}
	status := newStatusLine(cmd.ErrOrStderr())
	var mu sync.Mutex
	opts = append(opts, sim.WithBreakpointPrices(prices), sim.WithProbeProgress(func(p result.Probe) {
		mu.Lock()
		defer mu.Unlock()
		verdict := "meets the SLOs"
		if !p.Passed {
			verdict = "fails: " + strings.Join(p.Failed, "; ")
		}
		status.printf("probe at %.6g: %s", p.Load, verdict)
	}))
	if f.start > 0 {
		opts = append(opts, sim.WithEstimate(f.start, 0.05))
	}
	if sim.NeedsNominalRun(sc) && !f.fullHorizon {
		// Autoscaled deployments start each probe at the size the scenario's own day gave
		// them at its peak: that takes one run of the day first.
		status.printf("running %s's own %s to size its autoscaled deployments", sc.Name, sc.Horizon)
		nominal, err := sim.Run(sc, sim.WithPrices(prices))
		if err != nil {
			return fmt.Errorf("simulate %s: %w", sc.Name, err)
		}
		opts = append(opts, sim.WithNominalRun(nominal))
	}
	bp, err := sim.Breakpoint(sc, all, opts...)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report(&buf, bp); err != nil {
		return fmt.Errorf("render %s: %w", f.format, err)
	}
	return writeOutput(cmd.OutOrStdout(), f.out, buf.Bytes())
}
