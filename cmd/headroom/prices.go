package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim/cost"
)

// loadPrices returns the price table of --prices FILE, or the embedded one. A bad table is
// a *scenarios.Error naming file, line and key (exit 2).
func loadPrices(path string) (*cost.Table, error) {
	if path == "" {
		return cost.Default(), nil
	}
	return cost.Load(path)
}

// scenarioFlags are the flags that shape how scenarios are loaded, shared by compare and
// breakpoint.
type scenarioFlags struct {
	seed    uint64
	horizon string
	sets    []string
	prices  string
}

func (f *scenarioFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Uint64Var(&f.seed, "seed", 0, "random seed (default: the first scenario's)")
	fl.StringVar(&f.horizon, "horizon", "", "simulated `duration`, e.g. 1h (default: the scenario's)")
	fl.StringArrayVar(&f.sets, "set", nil, "override a key of every scenario by its dotted path, `key=value` (repeatable)")
	fl.StringVar(&f.prices, "prices", "", "price table `FILE` to use instead of the bundled one (same format as sim/cost/prices.yaml)")
}

// load reads a scenario with the --set, --horizon and --seed overrides.
func (f *scenarioFlags) load(cmd *cobra.Command, ref string) (*scenarios.Scenario, error) {
	sets := append([]string(nil), f.sets...)
	if cmd.Flags().Changed("horizon") {
		if d, err := time.ParseDuration(f.horizon); err != nil || d <= 0 {
			return nil, usageError{fmt.Errorf("--horizon: want a positive duration such as 30m, 24h or 400h, got %q", f.horizon)}
		}
		sets = append(sets, "horizon="+f.horizon)
	}
	if cmd.Flags().Changed("seed") {
		sets = append(sets, "seed="+strconv.FormatUint(f.seed, 10))
	}
	return scenarios.Load(ref, scenarios.WithSets(sets))
}

// parseSLOs reads the --slo flags.
func parseSLOs(exprs []string) ([]scenarios.SLO, error) {
	var out []scenarios.SLO
	for _, e := range exprs {
		s, err := scenarios.ParseSLO(e)
		if err != nil {
			return nil, usageError{fmt.Errorf("--slo: %w", err)}
		}
		out = append(out, s)
	}
	return out, nil
}

// statusLine prints progress lines to w when it is a terminal (never into a log or a test).
type statusLine struct {
	w     io.Writer
	start time.Time
}

func newStatusLine(w io.Writer) *statusLine {
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	return &statusLine{w: w, start: time.Now()}
}

func (s *statusLine) printf(format string, args ...any) {
	if s == nil {
		return
	}
	fmt.Fprintf(s.w, "[%5.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
}
