package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// Options configure one validation.
type Options struct {
	// Scenario is a bundled name or a file; Sets are the user's --set overrides.
	Scenario string
	Sets     []string
	// Scale multiplies every capacity limit and arrival rate; 0 derives it: 1 when the
	// workload's peak rate is at most MaxRPS, else MaxRPS / peak, so that the scenario fits
	// what this machine can generate and serve at once.
	Scale float64
	// MaxRPS is the highest arrival rate a derived scale allows (0: DefaultMaxRPS).
	MaxRPS float64
	// Duration is the real length of the run (0: the horizon when it is at most
	// MaxDefaultDuration, else DefaultCompressed).
	Duration time.Duration
	// Replications of the prediction (0: DefaultReplications).
	Replications int
	// Tolerance bounds every compared figure.
	Tolerance loadtest.Tolerance
	// Store, Bus and their DSNs select the system's backends ("" is memory).
	Store, StoreDSN, Bus, BusDSN string
	// ServerConfig maps the scenario onto the system (required): serve's mapping.
	ServerConfig ServerConfigFunc
	// Fit calibrates the model against the system first (see Fit).
	Fit bool
	// FitDuration is the light-load run's length (0: 10 s); FitFile where the override is
	// written ("" : NAME-fit.yaml in Dir).
	FitDuration time.Duration
	FitFile     string
	// K6 finds the k6 binary.
	K6 loadtest.K6Options
	// Poll is the /metrics polling interval (0: loadtest.DefaultPoll).
	Poll time.Duration
	// Dir holds the runs' scripts and results ("" : a temporary directory, removed).
	Dir string
	// Log receives progress lines; K6Output k6's own output; ServerLog the system's
	// warnings. nil discards.
	Log, K6Output, ServerLog io.Writer

	k6 string
}

// Defaults.
const (
	DefaultReplications = 10
	// MaxDefaultDuration is the longest horizon run as it is; longer ones are compressed
	// into DefaultCompressed.
	MaxDefaultDuration = 3 * time.Minute
	DefaultCompressed  = time.Minute
	DefaultFitDuration = 10 * time.Second
	// DefaultMaxRPS is what one 2-core machine carries comfortably: k6, the system and its
	// processors together, with room for the probe and the polls.
	DefaultMaxRPS = 400
)

// Report is what a validation found.
type Report struct {
	// Scenario is the scaled scenario the system and the generator ran, Scale its factor.
	Scenario *scenarios.Scenario
	Scale    float64
	Derived  loadtest.Derived
	// Comparison holds the measurement against the prediction of the scenario as written;
	// with Fit, Fitted holds it against the calibrated model's, and FitFile is the override.
	Comparison loadtest.Comparison
	Fitted     *loadtest.Comparison
	FitFile    string
	// Predicted are the replications (of the calibrated model with Fit); Measured the run.
	Predicted []*result.Result
	Measured  *result.Result
	K6        loadtest.K6Outcome
	// Notes say what scaling, compression and the dilated clock had to approximate.
	Notes []string
	// Timing of the phases.
	PredictTime, MeasureTime, FitTime time.Duration
}

// OK reports whether every figure is inside tolerance (of the calibrated model with Fit).
func (r *Report) OK() bool {
	if r.Fitted != nil {
		return r.Fitted.OK()
	}
	return r.Comparison.OK()
}

// Final is the comparison that decides: the calibrated one with Fit.
func (r *Report) Final() loadtest.Comparison {
	if r.Fitted != nil {
		return *r.Fitted
	}
	return r.Comparison
}

// Run validates one scenario: derive, predict, measure, compare (and calibrate first with
// Fit). It returns an error only when it could not do so; figures outside tolerance are
// in the report (Report.OK).
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.ServerConfig == nil {
		return nil, errors.New("validate: Options.ServerConfig is required")
	}
	if o.Replications == 0 {
		o.Replications = DefaultReplications
	}
	if o.Tolerance == (loadtest.Tolerance{}) {
		o.Tolerance = loadtest.DefaultTolerance()
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	s0, err := scenarios.Load(o.Scenario, scenarios.WithSets(o.Sets))
	if err != nil {
		return nil, err
	}
	d := o.Duration
	if d == 0 {
		d = s0.Horizon.D()
		if d > MaxDefaultDuration {
			d = DefaultCompressed
		}
	}
	if o.Scale == 0 {
		if o.Scale, err = fitScale(s0, o.MaxRPS); err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
	}
	der, err := loadtest.Derive(s0, o.Scale, d)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	sets := append(append([]string(nil), o.Sets...), der.Sets...)
	s, err := scenarios.Load(o.Scenario, scenarios.WithSets(sets))
	if err != nil {
		return nil, fmt.Errorf("validate: the scaled scenario: %w", err)
	}
	rep := &Report{Scenario: s, Scale: scaleOf(o.Scale), Derived: der, Notes: append([]string(nil), der.Notes...)}

	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "headroom-validate-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	if o.k6, err = loadtest.FindK6(ctx, o.K6); err != nil {
		return nil, err
	}
	cfg := loadtest.Config{Scenario: o.Scenario, Sets: sets, Play: der.Play, Poll: o.Poll}
	slos := loadtest.ScenarioSLOs(s)
	how := ""
	if der.Play.Compress > 1 {
		how = fmt.Sprintf(", the day compressed %g×", der.Play.Compress)
	}
	logf("validate %s: %s of real time%s, scale %g, %d replications", s.Name, der.Duration, how, scaleOf(o.Scale), o.Replications)

	// The model as written, and — with Fit — calibrated against the system.
	load := func(ref string) func() (*scenarios.Scenario, error) {
		return func() (*scenarios.Scenario, error) { return scenarios.Load(ref, scenarios.WithSets(sets)) }
	}
	k := der.Play.Compress
	if k == 0 {
		k = 1
	}
	start := time.Now()
	plain, err := predict(load(o.Scenario), o.Replications, k)
	if err != nil {
		return nil, fmt.Errorf("validate: predict: %w", err)
	}
	rep.PredictTime = time.Since(start)
	for _, n := range plain.notes {
		if !slices.Contains(rep.Notes, n) {
			rep.Notes = append(rep.Notes, n)
		}
	}
	rep.Predicted = plain.reps
	logf("predicted in %s", rep.PredictTime.Round(time.Millisecond))

	var fitted *prediction
	if o.Fit {
		start = time.Now()
		fitFile := o.FitFile
		if fitFile == "" {
			fitFile = filepath.Join(dir, s.Name+"-fit.yaml")
		}
		logf("calibrating: light load on %s", backendsOf(o))
		if err := fit(ctx, &o, s, cfg, fitFile, filepath.Join(dir, "fit")); err != nil {
			return nil, fmt.Errorf("validate --fit: %w", err)
		}
		rep.FitFile = fitFile
		p, err := predict(load(fitFile), o.Replications, k)
		if err != nil {
			return nil, fmt.Errorf("validate: predict the calibrated model: %w", err)
		}
		fitted = &p
		rep.Predicted = p.reps
		rep.FitTime = time.Since(start)
		logf("calibrated in %s: %s", rep.FitTime.Round(time.Millisecond), fitFile)
	}

	start = time.Now()
	logf("measuring: k6 against the system on %s for %s", backendsOf(o), der.Duration)
	out, joined, err := measure(ctx, &o, s, cfg, slos, filepath.Join(dir, "measure"))
	if err != nil {
		return nil, fmt.Errorf("validate: measure: %w", err)
	}
	rep.MeasureTime = time.Since(start)
	rep.K6, rep.Measured = out, out.Result
	// A processor's invocation in the simulator is its work and its calls (the table write);
	// in the system the step and the effect, which the join has per message.
	b := loadtest.Bind(s)
	for _, fn := range b.Functions() {
		states := b.StatesOf(fn)
		var ds []time.Duration
		for _, j := range joined {
			if slices.Contains(states, j.State) {
				ds = append(ds, time.Duration(j.EndNs-j.StartNs))
			}
		}
		if c := rep.Measured.ComponentByName(fn.Name); c != nil && len(ds) > 0 {
			c.Sojourn = loadtest.DurationStats(ds)
		}
	}
	// The simulator's end to end runs from the client's arrival; the system's own histograms
	// from the store's acceptance. The join gives the former, request by request.
	if st, n := clientEndToEnd(joined, der.Duration); n > 0 {
		m := rep.Measured
		m.Latency.EndToEnd = st
		detail := fmt.Sprintf("the client's send → the end of the processing step, %d writes joined by id and version between k6's journal and the probe (the simulator's definition: from the arrival)", n)
		found := false
		for i := range m.Checks {
			if m.Checks[i].Name == "end-to-end source" {
				m.Checks[i].Detail, found = detail, true
			}
		}
		if !found {
			m.Checks = append(m.Checks, result.Check{Name: "end-to-end source", Passed: true, Detail: detail})
		}
	}

	rep.Comparison = loadtest.Compare(s, plain.reps, out.Result, o.Tolerance)
	if fitted != nil {
		c := loadtest.Compare(s, fitted.reps, out.Result, o.Tolerance)
		rep.Fitted = &c
	}
	return rep, nil
}

// fitScale is the factor that brings the workload's peak rate within maxRPS.
func fitScale(s *scenarios.Scenario, maxRPS float64) (float64, error) {
	if maxRPS <= 0 {
		maxRPS = DefaultMaxRPS
	}
	sc, err := loadtest.NewSchedule(s, loadtest.Play{})
	if err != nil {
		return 0, err
	}
	if peak := sc.PeakRPS(); peak > maxRPS {
		// Three significant digits: a factor a person can read back and type again.
		return roundSig(maxRPS/peak, 3), nil
	}
	return 1, nil
}

func roundSig(x float64, n int) float64 {
	p := math.Pow(10, float64(n-1)-math.Floor(math.Log10(x)))
	return math.Floor(x*p) / p
}

func scaleOf(f float64) float64 {
	if f == 0 {
		return 1
	}
	return f
}

func backendsOf(o Options) string {
	st, bus := o.Store, o.Bus
	if st == "" {
		st = "memory"
	}
	if bus == "" {
		bus = "memory"
	}
	return "store " + st + ", bus " + bus
}
