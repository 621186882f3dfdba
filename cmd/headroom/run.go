package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim"
)

// runFlags are the flags of `headroom run`.
type runFlags struct {
	format       string
	out          string
	seed         uint64
	horizon      string
	replications int
	sets         []string
	prices       string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO|FILE",
		Short: "Simulate a scenario and report where it saturates",
		Long: `Simulate a scenario at full scale and print the result: the workload, API and end-to-end
latency, one row per component, what breaks first, and the self-checks (Little's law,
Erlang B/C for textbook queues).

SCENARIO is a bundled scenario name (see 'headroom scenarios') or a YAML file. Any key can
be overridden by its dotted path with --set, e.g.

  headroom run mmc --set components.workers.concurrency=37 --set workload.rate_rps=30 \
      --set components.workers.queue=none

--seed and --horizon are shorthands for --set seed=N and --set horizon=D.`,
		Example: `  headroom run baseline
  headroom run mmc --format json --horizon 400h
  headroom run ./my-scenario.yaml --replications 8 --format md --out report.md`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(reports.Formats, ", "))
	fl.StringVarP(&f.out, "out", "o", "", "write the report to `FILE` instead of stdout")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed (default: the scenario's)")
	fl.StringVar(&f.horizon, "horizon", "", "simulated `duration`, e.g. 1h or 400h (default: the scenario's)")
	fl.IntVarP(&f.replications, "replications", "r", 1, "independent replications run in parallel; > 1 reports means with 95% confidence intervals")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key by its dotted path, `key=value` (repeatable)")
	fl.StringVar(&f.prices, "prices", "", "price table `FILE` to use instead of the bundled one (same format as sim/cost/prices.yaml)")
	return cmd
}

func runScenario(cmd *cobra.Command, ref string, f runFlags) error {
	report, err := reports.ForFormat(f.format)
	if err != nil {
		return usageError{fmt.Errorf("--format: %w", err)}
	}
	if f.replications < 1 {
		return usageError{fmt.Errorf("--replications: must be at least 1, got %d", f.replications)}
	}
	sets := append([]string(nil), f.sets...)
	// The shorthands go through the loader like any override, so the scenario's own checks
	// (warm-up shorter than the horizon, ...) apply to them too. They come last: a flag
	// wins over a --set of the same key.
	if cmd.Flags().Changed("horizon") {
		if d, err := time.ParseDuration(f.horizon); err != nil || d <= 0 {
			return usageError{fmt.Errorf("--horizon: want a positive duration such as 30m, 24h or 400h, got %q", f.horizon)}
		}
		sets = append(sets, "horizon="+f.horizon)
	}
	if cmd.Flags().Changed("seed") {
		sets = append(sets, "seed="+strconv.FormatUint(f.seed, 10))
	}

	sc, err := scenarios.Load(ref, scenarios.WithSets(sets))
	if err != nil {
		return err
	}
	prices, err := loadPrices(f.prices)
	if err != nil {
		return err
	}

	opts := []sim.Option{sim.WithPrices(prices)}
	p := newProgress(cmd.ErrOrStderr(), sc.Name, f.replications)
	if p != nil {
		opts = append(opts, sim.WithReplicationProgress(p.updateReplication))
	}
	// One replication is exactly sim.Run; more run in parallel on all cores.
	res, err := sim.RunReplications(sc, f.replications, opts...)
	// Erase the progress line before anything else reaches the terminal.
	p.finish()
	if err != nil {
		var se *scenarios.Error
		if errors.As(err, &se) {
			return err
		}
		return fmt.Errorf("simulate %s: %w", sc.Name, err)
	}

	// Render in full before writing, so a failure never leaves half a report behind.
	var buf bytes.Buffer
	if err := report(&buf, res); err != nil {
		return fmt.Errorf("render %s: %w", f.format, err)
	}
	return writeOutput(cmd.OutOrStdout(), f.out, buf.Bytes())
}

// writeOutput writes the report to path, or to stdout when path is empty.
func writeOutput(stdout io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	file, err := os.Create(path)
	if err != nil {
		return badInput{fmt.Errorf("--out: %w", err)}
	}
	if _, err := file.Write(data); err != nil {
		file.Close()
		return fmt.Errorf("--out: %w", err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
