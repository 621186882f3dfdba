package loadtest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// Tolerance bounds how far a measured figure may be from its prediction. Relative bounds
// apply to throughput, latencies, concurrency, queue depth and dead-letters; ratios (the
// accepted and throttled shares) take an absolute bound in percentage points. A difference
// within a figure's floor always passes: a latency floor for figures at the resolution of
// the machine's clock and scheduler (a 0.3 ms API latency is not held to 10%), a count
// floor for maxima of a few units that one poll of /metrics more or less changes. And a
// difference within the prediction interval of one run always passes (Row.Spread).
type Tolerance struct {
	Throughput    float64 // relative, completed and offered rates
	RatioPP       float64 // absolute, as a fraction (0.02 = 2 percentage points)
	P50, P95, P99 float64 // relative
	// LatencyFloor applies to end-to-end and processing times, APIFloor to the API's.
	LatencyFloor, APIFloor time.Duration
	Concurrency            float64 // relative
	ConcurrencyFloor       float64 // executions
	Depth                  float64 // relative
	DepthFloor             float64 // messages
	DeadLetter             float64 // relative
	DeadLetterFloor        float64 // messages
}

// DefaultTolerance is the bar: throughput within 5%, throttle ratio within 2
// percentage points, p50 within 10%, p99 within 20% (p95 between them, 15%); concurrency
// within 10% or 1, queue depth within 25% or 10 messages, dead-letters within 25% or 5; an
// end-to-end latency within 1 ms of its prediction passes, an API latency within 5 ms: a
// loopback call takes a few hundred microseconds, and its tail is the scheduler of a machine
// the system shares with its load generator — stalls of milliseconds that no model of the
// architecture holds, and that calibration under light load does not see.
func DefaultTolerance() Tolerance {
	return Tolerance{
		Throughput: 0.05, RatioPP: 0.02, P50: 0.10, P95: 0.15, P99: 0.20,
		LatencyFloor: time.Millisecond, APIFloor: 5 * time.Millisecond,
		Concurrency: 0.10, ConcurrencyFloor: 1,
		Depth: 0.25, DepthFloor: 10,
		DeadLetter: 0.25, DeadLetterFloor: 5,
	}
}

// ParseTolerance applies "name=value,..." to t: throughput, ratio (in pp: 2pp or 0.02),
// p50, p95, p99, concurrency, depth, dlq (relative: 5% or 0.05), latency_floor (a
// duration), api_floor (a duration), concurrency_floor, depth_floor, dlq_floor (counts).
func ParseTolerance(t Tolerance, spec string) (Tolerance, error) {
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return t, fmt.Errorf("tolerance %q: want name=value, e.g. p99=20%%", part)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		frac := func() (float64, error) {
			unit := 1.0
			s := v
			switch {
			case strings.HasSuffix(s, "%"):
				s, unit = strings.TrimSuffix(s, "%"), 0.01
			case strings.HasSuffix(s, "pp"):
				s, unit = strings.TrimSuffix(s, "pp"), 0.01
			}
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || x < 0 || math.IsInf(x, 0) {
				return 0, fmt.Errorf("tolerance %s: want a fraction or a percentage such as 5%%, got %q", k, v)
			}
			return x * unit, nil
		}
		count := func() (float64, error) {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < 0 || math.IsInf(x, 0) {
				return 0, fmt.Errorf("tolerance %s: want a count >= 0, got %q", k, v)
			}
			return x, nil
		}
		var err error
		switch k {
		case "throughput":
			t.Throughput, err = frac()
		case "ratio", "throttle":
			t.RatioPP, err = frac()
		case "p50":
			t.P50, err = frac()
		case "p95":
			t.P95, err = frac()
		case "p99":
			t.P99, err = frac()
		case "concurrency":
			t.Concurrency, err = frac()
		case "depth":
			t.Depth, err = frac()
		case "dlq":
			t.DeadLetter, err = frac()
		case "concurrency_floor":
			t.ConcurrencyFloor, err = count()
		case "depth_floor":
			t.DepthFloor, err = count()
		case "dlq_floor":
			t.DeadLetterFloor, err = count()
		case "latency_floor", "api_floor":
			d, e := time.ParseDuration(v)
			if e != nil || d < 0 {
				err = fmt.Errorf("tolerance %s: want a duration such as 1ms, got %q", k, v)
			}
			if k == "api_floor" {
				t.APIFloor = d
			} else {
				t.LatencyFloor = d
			}
		default:
			err = fmt.Errorf("tolerance: unknown figure %q; one of throughput, ratio, p50, p95, p99, concurrency, depth, dlq, latency_floor, api_floor, concurrency_floor, depth_floor, dlq_floor", k)
		}
		if err != nil {
			return t, err
		}
	}
	return t, nil
}

// Row is one figure, predicted and measured.
type Row struct {
	Figure string
	// Unit is "rps", "ratio", "ms" or "count".
	Unit string
	// Predicted is the mean over the replications, HalfWidth its 95% confidence half-width
	// (0 with one replication). Spread is the half-width of the 95% prediction interval of
	// one run: how far a single run of a correct model may land from the mean by chance.
	Predicted, HalfWidth, Spread float64
	Measured                     float64
	// Error is the measured figure's difference from the prediction: relative, or in
	// percentage points for ratios.
	Error float64
	// Bound is the tolerance it was held to, as text; Inside whether it held.
	Bound  string
	Inside bool
}

// Comparison is a measured run held against a prediction, figure by figure.
type Comparison struct {
	Scenario     string
	Replications int
	Rows         []Row
	// Notes are where the model and the system differ for this scenario (Bindings.Notes).
	Notes []Note
}

// Failed lists the rows outside their tolerance.
func (c Comparison) Failed() []Row {
	var out []Row
	for _, r := range c.Rows {
		if !r.Inside {
			out = append(out, r)
		}
	}
	return out
}

// OK reports whether every figure is inside its tolerance.
func (c Comparison) OK() bool { return len(c.Failed()) == 0 }

// figure extracts one figure from a result.
type figure struct {
	name, unit string
	get        func(r *result.Result) float64
	// check decides whether the measured value m is inside the tolerance of prediction p,
	// and returns the error and the bound as text.
	check func(p, m float64) (errv float64, bound string, inside bool)
}

// allowSpread widens a check by the prediction interval of one run: a tolerance tighter
// than the model's own run-to-run spread would fail a correct model by chance.
func allowSpread(check func(p, m float64) (float64, string, bool), spread float64, unit string) func(p, m float64) (float64, string, bool) {
	return func(p, m float64) (float64, string, bool) {
		e, bound, inside := check(p, m)
		if spread > 0 {
			bound += " or ±" + formatValue(unit, spread) + " (run spread)"
			inside = inside || math.Abs(m-p) <= spread
		}
		return e, bound, inside
	}
}

// Compare holds meas against the replications of the prediction pred (each a result of
// the simulator for the same scaled scenario s, one per seed) under tolerance t. The
// figures are: completed and offered throughput, the accepted and throttled shares of the
// offered requests, API and end-to-end p50, p95 and p99, and per bound processor and queue
// the peak concurrency and maximum depth, and the dead-letter count.
func Compare(s *scenarios.Scenario, pred []*result.Result, meas *result.Result, t Tolerance) Comparison {
	b := Bind(s)
	c := Comparison{Scenario: s.Name, Replications: len(pred), Notes: b.Notes(s)}
	rel := func(tol, floor float64, floorText string) func(p, m float64) (float64, string, bool) {
		return func(p, m float64) (float64, string, bool) {
			e := relErr(p, m)
			bound := fmt.Sprintf("≤ %s", pct(tol))
			if floor > 0 {
				bound += " or " + floorText
			}
			return e, bound, math.Abs(m-p) <= tol*math.Abs(p)+1e-9 || math.Abs(m-p) <= floor
		}
	}
	pp := func(p, m float64) (float64, string, bool) {
		return m - p, fmt.Sprintf("≤ %.3g pp", 100*t.RatioPP), math.Abs(m-p) <= t.RatioPP+1e-12
	}
	floorMS := float64(t.LatencyFloor) / float64(time.Millisecond)
	lat := func(tol float64) func(p, m float64) (float64, string, bool) {
		return rel(tol, floorMS, "± "+t.LatencyFloor.String())
	}
	apiFloorMS := float64(t.APIFloor) / float64(time.Millisecond)
	apiLat := func(tol float64) func(p, m float64) (float64, string, bool) {
		return rel(tol, apiFloorMS, "± "+t.APIFloor.String())
	}
	var figs []figure
	figs = append(figs,
		figure{"throughput (completed)", "rps", func(r *result.Result) float64 { return r.Workload.CompletedRPS }, rel(t.Throughput, 0, "")},
		figure{"offered", "rps", func(r *result.Result) float64 { return r.Workload.OfferedRPS }, rel(t.Throughput, 0, "")},
		figure{"accepted share", "ratio", func(r *result.Result) float64 { return share(r.Workload.Accepted, r.Workload.Offered) }, pp},
		figure{"throttled share", "ratio", func(r *result.Result) float64 { return share(throttledOf(r), r.Workload.Offered) }, pp},
		figure{"api p50", "ms", func(r *result.Result) float64 { return r.Latency.API.P50 }, apiLat(t.P50)},
		figure{"api p95", "ms", func(r *result.Result) float64 { return r.Latency.API.P95 }, apiLat(t.P95)},
		figure{"api p99", "ms", func(r *result.Result) float64 { return r.Latency.API.P99 }, apiLat(t.P99)},
		figure{"end-to-end p50", "ms", func(r *result.Result) float64 { return r.Latency.EndToEnd.P50 }, lat(t.P50)},
		figure{"end-to-end p95", "ms", func(r *result.Result) float64 { return r.Latency.EndToEnd.P95 }, lat(t.P95)},
		figure{"end-to-end p99", "ms", func(r *result.Result) float64 { return r.Latency.EndToEnd.P99 }, lat(t.P99)},
	)
	for _, fn := range b.Functions() {
		name := fn.Name
		figs = append(figs, figure{"peak concurrency " + name, "count", func(r *result.Result) float64 {
			if x := r.ComponentByName(name); x != nil {
				return float64(x.PeakConcurrency)
			}
			return 0
		}, rel(t.Concurrency, t.ConcurrencyFloor, fmt.Sprintf("± %g", t.ConcurrencyFloor))})
	}
	for _, fn := range b.Functions() {
		name := fn.Name
		// An input rather than a prediction: the time an invocation holds its execution in the
		// model (work and calls) against the system's step and effect (validate's probe). When
		// it is off, every queueing figure after it is off for that reason.
		figs = append(figs, figure{"processing mean " + name, "ms", func(r *result.Result) float64 {
			if x := r.ComponentByName(name); x != nil {
				return x.Sojourn.Mean
			}
			return 0
		}, lat(t.P50)})
	}
	for _, q := range b.Queues() {
		name := q.Name
		figs = append(figs, figure{"max queue depth " + name, "count", func(r *result.Result) float64 {
			if x := r.ComponentByName(name); x != nil {
				return float64(x.MaxDepth)
			}
			return 0
		}, rel(t.Depth, t.DepthFloor, fmt.Sprintf("± %g", t.DepthFloor))})
	}
	if len(b.DeadLetters) > 0 {
		figs = append(figs, figure{"dead-lettered", "count", func(r *result.Result) float64 {
			var n int64
			for _, d := range b.DeadLetters {
				if x := r.ComponentByName(d.Name); x != nil {
					n += x.Accepted
				}
			}
			return float64(n)
		}, rel(t.DeadLetter, t.DeadLetterFloor, fmt.Sprintf("± %g", t.DeadLetterFloor))})
	}
	for _, f := range figs {
		xs := make([]float64, len(pred))
		for i, r := range pred {
			xs[i] = f.get(r)
		}
		mean, hw, spread := meanCI(xs)
		m := f.get(meas)
		e, bound, inside := allowSpread(f.check, spread, f.unit)(mean, m)
		c.Rows = append(c.Rows, Row{Figure: f.name, Unit: f.unit, Predicted: mean, HalfWidth: hw, Spread: spread,
			Measured: m, Error: e, Bound: bound, Inside: inside})
	}
	return c
}

func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// relErr is (m − p)/|p|; 0 when both are 0, ±Inf when only the prediction is.
func relErr(p, m float64) float64 {
	if p == 0 {
		if m == 0 {
			return 0
		}
		return math.Copysign(math.Inf(1), m)
	}
	return (m - p) / math.Abs(p)
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'g', 3, 64) + "%" }

// meanCI is the mean of xs, its 95% confidence half-width and the half-width of the 95%
// prediction interval of one more draw (Student t, n − 1 degrees of freedom); both 0 for
// one value.
func meanCI(xs []float64) (mean, hw, spread float64) {
	n := float64(len(xs))
	if n == 0 {
		return math.NaN(), 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if n < 2 {
		return mean, 0, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	sd := math.Sqrt(ss / (n - 1))
	return mean, t * sd / math.Sqrt(n), t * sd * math.Sqrt(1+1/n)
}

// throttledOf counts the requests the gateways refused for rate (429).
func throttledOf(r *result.Result) int64 {
	var n int64
	for _, c := range r.Components {
		if c.Kind == string(scenarios.KindGateway) {
			n += c.Throttled
		}
	}
	return n
}
