package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim"
)

// loadtestFlags are the flags of `headroom loadtest`.
type loadtestFlags struct {
	target      string
	token       string
	metrics     string
	scale       float64
	duration    time.Duration
	sets        []string
	slos        []string
	arrivals    string
	k6          string
	format      string
	out         string
	keep        string
	quiet       bool
	emit        string
	emitDir     string
	parallelism int
	image       string
	name        string
	namespace   string
}

func newLoadtestCmd() *cobra.Command {
	f := &loadtestFlags{}
	cmd := &cobra.Command{
		Use:   "loadtest SCENARIO|FILE --target URL",
		Short: "Play a scenario's workload against a running system with k6 and report what was measured",
		Long: `Play a scenario's workload against a running system ('headroom serve', or anything that
speaks its HTTP API) with k6, and print the measured result in the same form as
'headroom run' prints a prediction.

The workload is the scenario's: its state mix, payload size and CRUD mix (workload.mix.op),
arriving on the scenario's profile as an open workload (k6's ramping-arrival-rate;
Poisson arrivals as Poisson counts, deterministic ones evenly spaced). --scale F multiplies
every rate and limit; --duration D plays the horizon in D (a flat workload runs for D, a
profile is compressed into D).

The scenario's SLOs (its slos, every --slo, and the API's p99 below the gateway's
integration timeout) become k6 thresholds, so the exit status gates CI as k6's does:
api.* on the latency of accepted requests, throttle_ratio on the share of 429s,
error_ratio on the share of failed requests, e.g. --slo 'api.p99<=250ms' --slo
'throttle_ratio<=1%'. All of them, end_to_end.* and completed_ratio included, are then
judged on the measured result as 'headroom run' judges a prediction. A run whose
generator was the bottleneck — dropped iterations, or the CPU saturated — is reported as
such.

--emit k8s writes a k6-operator TestRun (parallelism --parallelism, runners from --image,
the image built by cmd/k6/Dockerfile) and the ConfigMap with the script into --emit-dir,
and runs nothing.

k6 is the binary built from cmd/k6: --k6 PATH, else $HEADROOM_K6, else a file named k6
beside headroom, else it is built from the source tree into the user cache directory.`,
		Example: `  headroom serve --scenario validate-below --token s3cret &
  headroom loadtest validate-below --target http://127.0.0.1:8080 --token s3cret
  headroom loadtest baseline --scale 0.0001 --duration 2m --target http://127.0.0.1:8080 --slo 'api.p99<=50ms'
  headroom loadtest baseline --target https://api.example.com --emit k8s --parallelism 8 --image registry/headroom-k6:1`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLoadtest(cmd, args[0], *f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "base `URL` of the system's HTTP API (required)")
	fl.StringVar(&f.token, "token", "", "admin bearer `token` (default $"+tokenEnv+")")
	fl.StringVar(&f.metrics, "metrics", "", "`URL` of the system's Prometheus metrics (default TARGET/metrics)")
	fl.Float64Var(&f.scale, "scale", 1, "multiply every capacity limit and arrival rate by `F`")
	fl.DurationVar(&f.duration, "duration", 0, "real length of the run (default: the horizon)")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key by its dotted path, `key=value` (repeatable)")
	fl.StringArrayVar(&f.slos, "slo", nil, "an objective, `EXPR` such as api.p99<=250ms or throttle_ratio<=1% (repeatable; added to the scenario's slos)")
	fl.StringVar(&f.arrivals, "arrivals", "", "poisson or uniform (default: the scenario's workload.arrival)")
	fl.StringVar(&f.k6, "k6", "", "the k6 binary built from cmd/k6")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(reports.Formats, ", "))
	fl.StringVarP(&f.out, "out", "o", "", "write the report to `FILE` instead of stdout")
	fl.StringVar(&f.keep, "keep", "", "keep the script and the result in `DIR`")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not show k6's own summary")
	fl.StringVar(&f.emit, "emit", "", "write manifests instead of running: k8s (a k6-operator TestRun)")
	fl.StringVar(&f.emitDir, "emit-dir", ".", "where --emit writes configmap.yaml and testrun.yaml")
	fl.IntVar(&f.parallelism, "parallelism", 1, "runner pods of the TestRun")
	fl.StringVar(&f.image, "image", "headroom/k6:latest", "runner `image` built from cmd/k6/Dockerfile")
	fl.StringVar(&f.name, "name", "", "name of the TestRun (default headroom-SCENARIO)")
	fl.StringVar(&f.namespace, "namespace", "", "namespace of the manifests")
	return cmd
}

func runLoadtest(cmd *cobra.Command, ref string, f loadtestFlags) error {
	report, err := reports.ForFormat(f.format)
	if err != nil {
		return usageError{fmt.Errorf("--format: %w", err)}
	}
	if f.target == "" {
		return usageError{errors.New("--target: give the system's base URL, e.g. http://127.0.0.1:8080")}
	}
	if u, err := url.Parse(f.target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Errorf("--target: %q is not an http(s) URL", f.target)}
	}
	if f.scale <= 0 || math.IsNaN(f.scale) || math.IsInf(f.scale, 0) {
		return usageError{fmt.Errorf("--scale: must be a number > 0, got %g", f.scale)}
	}
	if f.duration < 0 {
		return usageError{fmt.Errorf("--duration: must be > 0, got %v", f.duration)}
	}
	switch f.arrivals {
	case "", string(loadtest.ArrivalsPoisson), string(loadtest.ArrivalsUniform):
	default:
		return usageError{fmt.Errorf("--arrivals: %q is not poisson or uniform", f.arrivals)}
	}
	slos, err := parseSLOs(f.slos)
	if err != nil {
		return err
	}
	s0, err := scenarios.Load(ref, scenarios.WithSets(f.sets))
	if err != nil {
		return err
	}
	der, err := loadtest.Derive(s0, f.scale, f.duration)
	if err != nil {
		return usageError{err}
	}
	sets := append(append([]string(nil), f.sets...), der.Sets...)
	s, err := scenarios.Load(ref, scenarios.WithSets(sets))
	if err != nil {
		return err
	}
	slos = append(loadtest.ScenarioSLOs(s), slos...)
	token := f.token
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	cfg := loadtest.Config{
		Scenario: ref, Sets: sets, Play: der.Play, Arrivals: loadtest.Arrivals(f.arrivals),
		Target: strings.TrimRight(f.target, "/"), Token: token, MetricsURL: f.metrics,
	}
	script := loadtest.Script{Scenario: s.Name, Thresholds: loadtest.Thresholds(slos)}
	stderr := cmd.ErrOrStderr()
	for _, n := range der.Notes {
		fmt.Fprintf(stderr, "note: scaling: %s\n", n)
	}

	switch f.emit {
	case "":
	case "k8s":
		return emitK8s(cmd, f, s, cfg, script)
	default:
		return usageError{fmt.Errorf("--emit: %q is not k8s", f.emit)}
	}

	bin, err := loadtest.FindK6(cmd.Context(), loadtest.K6Options{Path: f.k6, Log: stderr})
	if err != nil {
		return err
	}
	dir := f.keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "headroom-loadtest-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sched, err := loadtest.NewSchedule(s, der.Play)
	if err != nil {
		return badInput{err}
	}
	fmt.Fprintf(stderr, "loadtest %s: %s against %s, %.0f requests expected (peak %.4g/s)\n",
		s.Name, sched.Duration(), cfg.Target, sched.Expected(), sched.PeakRPS())
	run := loadtest.K6Run{Binary: bin, Script: script, Config: cfg, Dir: dir}
	if !f.quiet {
		run.Stdout, run.Stderr = stderr, stderr
	}
	out, err := run.Run(cmd.Context())
	if err != nil {
		return err
	}
	res := out.Result
	var buf bytes.Buffer
	if err := report(&buf, res); err != nil {
		return fmt.Errorf("render %s: %w", f.format, err)
	}
	if err := writeOutput(cmd.OutOrStdout(), f.out, buf.Bytes()); err != nil {
		return err
	}
	// The generator as the bottleneck: the run measured k6, not the system.
	for _, c := range res.Checks {
		if (c.Name == "coordinated omission" || c.Name == "generator cpu") && !c.Passed {
			fmt.Fprintf(stderr, "WARNING: the load generator may be the bottleneck: %s\n", c.Detail)
		}
	}
	if out.CPU.Saturated() {
		fmt.Fprintf(stderr, "WARNING: the load generator may be the bottleneck: k6 process: %s\n", out.CPU)
	}
	var failed []string
	for _, slo := range slos {
		if r := sim.EvaluateSLO(slo, res); !r.Passed {
			failed = append(failed, fmt.Sprintf("%s (%s)", slo, r.Detail))
		}
	}
	if out.ExitCode == loadtest.K6ExitThresholds || len(failed) > 0 {
		return fmt.Errorf("SLOs not met: %s", strings.Join(failed, "; "))
	}
	return nil
}

func emitK8s(cmd *cobra.Command, f loadtestFlags, s *scenarios.Scenario, cfg loadtest.Config, script loadtest.Script) error {
	src, err := script.Render()
	if err != nil {
		return err
	}
	name := f.name
	if name == "" {
		name = "headroom-" + strings.ToLower(strings.ReplaceAll(s.Name, "_", "-"))
	}
	o := loadtest.K8sOptions{Name: name, Namespace: f.namespace, Image: f.image, Parallelism: f.parallelism, Script: src, Config: cfg}
	if !strings.HasPrefix(s.Source, "bundled:") {
		data, err := os.ReadFile(s.Source)
		if err != nil {
			return badInput{err}
		}
		if bytes.Contains(data, []byte("\nextends:")) || bytes.HasPrefix(data, []byte("extends:")) {
			if ext := s.Extends; ext != "" && !strings.HasPrefix(ext, "bundled:") && !isBundledName(ext) {
				return badInput{fmt.Errorf("--emit k8s: %s extends the file %s; the ConfigMap holds one scenario file: extend a bundled scenario or merge the files", s.Source, ext)}
			}
		}
		o.ScenarioYAML = data
	}
	cm, tr, err := loadtest.EmitK8s(o)
	if err != nil {
		return usageError{fmt.Errorf("--emit k8s: %w", err)}
	}
	if err := os.MkdirAll(f.emitDir, 0o755); err != nil {
		return err
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{"configmap.yaml", cm}, {"testrun.yaml", tr}} {
		p := filepath.Join(f.emitDir, file.name)
		if err := os.WriteFile(p, file.data, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), p)
	}
	return nil
}

func isBundledName(ref string) bool {
	for _, b := range scenarios.Bundled() {
		if b.Name == ref {
			return true
		}
	}
	return false
}
