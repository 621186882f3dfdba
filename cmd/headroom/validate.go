package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/loadtest/validate"
	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/system"
)

// validateFlags are the flags of `headroom validate`.
type validateFlags struct {
	scale        float64
	maxRPS       float64
	duration     time.Duration
	replications int
	sets         []string
	store        string
	storeDSN     string
	bus          string
	busDSN       string
	tolerance    string
	fit          bool
	fitOut       string
	fitDuration  time.Duration
	k6           string
	format       string
	out          string
	keep         string
	verbose      bool
}

func newValidateCmd() *cobra.Command {
	f := &validateFlags{}
	cmd := &cobra.Command{
		Use:   "validate SCENARIO|FILE",
		Short: "Hold the simulator's prediction against a measured run of the real system",
		Long: `Validate the model: derive the version of the scenario that fits this machine, predict it
with the simulator, run the real system configured from the same scaled scenario, play
the scenario's workload against it with k6, and print predicted against measured, figure
by figure — throughput, accepted and throttled shares, API and end-to-end p50/p95/p99,
peak concurrency, maximum queue depth, dead-letters — with the error of each and whether
it is inside tolerance. The exit status is 1 when a figure is outside.

Scaling (--scale F) multiplies every capacity limit and arrival rate by F, so every ratio
of load to limit stays; service times are kept. Without --scale, F is 1 when the peak
arrival rate is within --max-rps (400/s: what a 2-core machine carries with k6 and the
system on it), else --max-rps / peak. --duration D plays the horizon in D of
real time: a flat workload just runs for D, a profile that varies over the day is
compressed into D — its shape and the rate of every hour kept, service times and queueing
real, so every utilisation is the full-scale one — and the simulator predicts it on a
clock slowed by the same factor. The default duration is the horizon up to 3 minutes,
else one minute.

The system runs in this process (with --store and --bus as 'headroom serve' takes them),
so a probe can time its processing steps from the inside. How the scenario's components
map onto the system, and where their behaviour differs, is printed before the table.

--fit first calibrates the model: a light-load run measures the API's latency, the bus's
delivery and the processing step's actual duration, writes them into a scenario override
that extends the scenario (--fit-out, default ./NAME-fit.yaml), and the comparison is made
for both models, showing how much the fit changed each error.

Default tolerances: throughput 5%, throttled and accepted shares 2 percentage points, p50
10%, p95 15%, p99 20% (an end-to-end latency within 1 ms passes, an API latency within
5 ms: a loopback call's tail is the machine's scheduler), peak concurrency 10% (or 1), queue depth 25% (or 10 messages), dead-letters 25%
(or 5). A figure within the 95% prediction interval of one run — the spread of the
replications — passes too: a bound tighter than the model's own run-to-run variation would
fail a correct model by chance. Change them with --tolerance, e.g.
--tolerance p99=25%,api_floor=5ms.

k6 is the binary built from cmd/k6: --k6 PATH, else $HEADROOM_K6, else a file named k6
beside headroom, else it is built from the source tree into the user cache directory.`,
		Example: `  headroom validate validate-below
  headroom validate validate-throttle --fit
  headroom validate baseline --duration 60s          # scaled to 400/s at the peak
  headroom validate validate-backlog --store postgres --store-dsn postgres://... --bus nats`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd, args[0], *f)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.scale, "scale", 0, "multiply every capacity limit and arrival rate by `F` (default: 1, or what brings the peak rate within --max-rps)")
	fl.Float64Var(&f.maxRPS, "max-rps", validate.DefaultMaxRPS, "the highest arrival rate the derived scale allows: what this machine carries")
	fl.DurationVar(&f.duration, "duration", 0, "real length of the run (default: the horizon up to 3m, else 1m)")
	fl.IntVarP(&f.replications, "replications", "r", validate.DefaultReplications, "replications of the prediction")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key by its dotted path, `key=value` (repeatable)")
	fl.StringVar(&f.store, "store", system.DefaultBackend, "the system's store backend `name`")
	fl.StringVar(&f.storeDSN, "store-dsn", "", "store backend `DSN`")
	fl.StringVar(&f.bus, "bus", system.DefaultBackend, "the system's bus backend `name`")
	fl.StringVar(&f.busDSN, "bus-dsn", "", "bus backend `DSN`")
	fl.StringVar(&f.tolerance, "tolerance", "", "tolerances, `name=value,...`: throughput, ratio, p50, p95, p99, concurrency, depth, dlq, latency_floor, ...")
	fl.BoolVar(&f.fit, "fit", false, "calibrate the model against the system first and compare both")
	fl.StringVar(&f.fitOut, "fit-out", "", "where --fit writes the scenario override (default ./NAME-fit.yaml)")
	fl.DurationVar(&f.fitDuration, "fit-duration", validate.DefaultFitDuration, "length of the light-load calibration run")
	fl.StringVar(&f.k6, "k6", "", "the k6 binary built from cmd/k6 (see above when not given)")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: table or md")
	fl.StringVarP(&f.out, "out", "o", "", "write the report to `FILE` instead of stdout")
	fl.StringVar(&f.keep, "keep", "", "keep the runs' scripts and results (measured.json, predicted.json) in `DIR`")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "show k6's own output and the system's warnings")
	return cmd
}

// errValidationFailed marks a validation whose figures disagree: exit status 1.
var errValidationFailed = errors.New("validation failed")

func runValidate(cmd *cobra.Command, ref string, f validateFlags) error {
	if f.format != "table" && f.format != "md" && f.format != "markdown" {
		return usageError{fmt.Errorf("--format: %q is not table or md", f.format)}
	}
	if f.replications < 1 {
		return usageError{fmt.Errorf("--replications: must be at least 1, got %d", f.replications)}
	}
	if f.scale < 0 || math.IsNaN(f.scale) || math.IsInf(f.scale, 0) || cmd.Flags().Changed("scale") && f.scale == 0 {
		return usageError{fmt.Errorf("--scale: must be a number > 0, got %g", f.scale)}
	}
	if f.maxRPS <= 0 || math.IsNaN(f.maxRPS) || math.IsInf(f.maxRPS, 0) {
		return usageError{fmt.Errorf("--max-rps: must be a number > 0, got %g", f.maxRPS)}
	}
	if f.duration < 0 {
		return usageError{fmt.Errorf("--duration: must be > 0, got %v", f.duration)}
	}
	tol, err := loadtest.ParseTolerance(loadtest.DefaultTolerance(), f.tolerance)
	if err != nil {
		return usageError{fmt.Errorf("--tolerance: %w", err)}
	}
	stderr := cmd.ErrOrStderr()
	o := validate.Options{
		Scenario: ref, Sets: f.sets, Scale: f.scale, MaxRPS: f.maxRPS, Duration: f.duration, Replications: f.replications,
		Tolerance: tol, Store: f.store, StoreDSN: f.storeDSN, Bus: f.bus, BusDSN: f.busDSN,
		ServerConfig: serveFromScenario, Fit: f.fit, FitFile: f.fitOut, FitDuration: f.fitDuration,
		K6: loadtest.K6Options{Path: f.k6, Log: stderr}, Dir: f.keep, Log: stderr,
	}
	if f.verbose {
		o.K6Output, o.ServerLog = stderr, stderr
	}
	if f.fit && o.FitFile == "" {
		s, err := scenarios.Load(ref, scenarios.WithSets(f.sets))
		if err != nil {
			return err
		}
		o.FitFile = s.Name + "-fit.yaml"
	}
	rep, err := validate.Run(cmd.Context(), o)
	if err != nil {
		var se *scenarios.Error
		if errors.As(err, &se) || errors.Is(err, system.ErrInvalid) {
			return badInput{err}
		}
		return err
	}
	if f.keep != "" {
		if err := keepResults(f.keep, rep); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	writeValidation(&buf, rep, f.format != "table")
	if err := writeOutput(cmd.OutOrStdout(), f.out, buf.Bytes()); err != nil {
		return err
	}
	if !rep.OK() {
		var names []string
		for _, r := range rep.Final().Failed() {
			names = append(names, r.Figure)
		}
		return fmt.Errorf("%w: %s outside tolerance", errValidationFailed, strings.Join(names, ", "))
	}
	return nil
}

// writeValidation prints the report: the run, the model ↔ system notes, the comparison
// (and with --fit the calibrated one and how the errors moved), the generator's checks.
func writeValidation(w io.Writer, rep *validate.Report, md bool) {
	s := rep.Scenario
	fmt.Fprintf(w, "Headroom: %s · validation\n", s.Name)
	fmt.Fprintf(w, "  run        %s of real time", rep.Derived.Duration)
	if c := rep.Derived.Play.Compress; c > 1 {
		fmt.Fprintf(w, " (the profile compressed %g×)", c)
	}
	fmt.Fprintln(w)
	if rep.Scale != 1 {
		fmt.Fprintf(w, "  scale      %g: every limit and rate (%d overrides)\n", rep.Scale, len(rep.Derived.Sets))
	}
	fmt.Fprintf(w, "  timing     predict %s, measure %s", rep.PredictTime.Round(time.Millisecond), rep.MeasureTime.Round(time.Millisecond))
	if rep.FitTime > 0 {
		fmt.Fprintf(w, ", fit %s", rep.FitTime.Round(time.Millisecond))
	}
	fmt.Fprintln(w)
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintln(w)
	rep.Comparison.WriteNotes(w)
	fmt.Fprintln(w)
	// A run the generator or the machine could not carry measures them, not the system:
	// say so before the figures.
	if m := rep.Measured; m != nil {
		for _, c := range m.Checks {
			if (c.Name == "coordinated omission" || c.Name == "generator cpu") && !c.Passed {
				fmt.Fprintf(w, "WARNING: this measurement is suspect: %s\n\n", c.Detail)
			}
		}
	}
	table := func(c interface {
		WriteTable(io.Writer) error
		WriteMarkdown(io.Writer) error
	}) {
		if md {
			c.WriteMarkdown(w)
		} else {
			c.WriteTable(w)
		}
	}
	if rep.Fitted != nil {
		fmt.Fprintln(w, "The model as written:")
	}
	table(rep.Comparison)
	if rep.Fitted != nil {
		fmt.Fprintf(w, "\nThe model calibrated against the system (%s):\n", rep.FitFile)
		table(*rep.Fitted)
		fmt.Fprintln(w, "\nWhat the fit changed (|error| as written → calibrated):")
		for i, r := range rep.Comparison.Rows {
			a := rep.Fitted.Rows[i]
			fmt.Fprintf(w, "  %-32s %10s → %-10s %s\n", r.Figure, absError(r), absError(a), movement(r, a))
		}
	}
	if m := rep.Measured; m != nil {
		fmt.Fprintln(w, "\nThe measured run:")
		for _, c := range m.Checks {
			mark := "ok  "
			if !c.Passed {
				mark = "WARN"
			}
			fmt.Fprintf(w, "  %s %s: %s\n", mark, c.Name, c.Detail)
		}
		fmt.Fprintf(w, "  k6 process: %s\n", rep.K6.CPU)
	}
}

func absError(r loadtest.Row) string {
	if r.Unit == "ratio" {
		return fmt.Sprintf("%.2f pp", 100*math.Abs(r.Error))
	}
	if math.IsInf(r.Error, 0) {
		return "∞"
	}
	return fmt.Sprintf("%.1f%%", 100*math.Abs(r.Error))
}

func movement(before, after loadtest.Row) string {
	switch {
	case before.Inside && !after.Inside:
		return "(now outside)"
	case !before.Inside && after.Inside:
		return "(now inside)"
	}
	return ""
}

// keepResults writes the measured result and the first replication of the prediction
// beside the runs' scripts.
func keepResults(dir string, rep *validate.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		r    *result.Result
	}{{"measured.json", rep.Measured}}
	if len(rep.Predicted) > 0 {
		files = append(files, struct {
			name string
			r    *result.Result
		}{"predicted.json", rep.Predicted[0]})
	}
	for _, f := range files {
		if f.r == nil {
			continue
		}
		var b bytes.Buffer
		if err := reports.JSON(&b, f.r); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
