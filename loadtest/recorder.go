package loadtest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// Recorder collects one load test — the client's view (every response, from k6's samples)
// and the system's (its /metrics, polled) — and turns it into a measured Result of the same
// shape as the simulator's, component by component (see Bindings).
//
// The measured period is the schedule: from Start for Horizon. Responses are the client's
// over the whole run; the system's counters are the difference between the first snapshot
// and the last one taken within the period, so that what the system completes after the
// last arrival's horizon is not counted, as the simulator does not count it either.
//
// A Recorder is not safe for concurrent use: the k6 output feeds it from one goroutine.
type Recorder struct {
	sc      *scenarios.Scenario
	b       Bindings
	start   time.Time
	horizon time.Duration

	api          *hdrhistogram.Histogram // accepted creates and updates, µs
	sent         int64
	ok, throttle int64
	errors       int64
	okByOp       map[string]int64
	perSecond    []int64
	dropped      int64
	iterations   int64

	first, last     Snapshot
	haveFirst       bool
	polls, failures int
	lastErr         string
	// maxWait is the most messages seen waiting per queue; maxInFlight per state.
	maxWait map[string]float64

	generatorCPU *CPUUsage
	notes        []string
	waited       []string
	wall         time.Duration
}

// NewRecorder returns a recorder for a run of s that starts at start and lasts horizon.
func NewRecorder(s *scenarios.Scenario, start time.Time, horizon time.Duration) *Recorder {
	return &Recorder{
		sc: s, b: Bind(s), start: start, horizon: horizon,
		api:     hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
		okByOp:  map[string]int64{},
		maxWait: map[string]float64{},
	}
}

// Response records one HTTP response of the workload: its operation, status (0 when the
// request failed without one), when it was sent and how long it took.
func (r *Recorder) Response(op string, status int, sent time.Time, d time.Duration) {
	r.sent++
	if i := int(sent.Sub(r.start) / time.Second); i >= 0 && i < 1<<20 {
		for len(r.perSecond) <= i {
			r.perSecond = append(r.perSecond, 0)
		}
		r.perSecond[i]++
	}
	switch {
	case status >= 200 && status < 300:
		r.ok++
		r.okByOp[op]++
		if op == OpCreate || op == OpUpdate || op == "" {
			us := max(1, d.Microseconds())
			_ = r.api.RecordValue(min(us, r.api.HighestTrackableValue()))
		}
	case status == 429:
		r.throttle++
	default:
		r.errors++
	}
}

// Dropped records iterations k6 did not start because no VU was free.
func (r *Recorder) Dropped(n int64) { r.dropped += n }

// Iterations records started iterations.
func (r *Recorder) Iterations(n int64) { r.iterations += n }

// ScrapeFailed records a /metrics poll that failed.
func (r *Recorder) ScrapeFailed(err error) {
	r.failures++
	r.lastErr = err.Error()
}

// horizonSlack is how late the poll at the horizon may start and still close the period:
// a timer's lateness, not a poll interval.
const horizonSlack = 20 * time.Millisecond

// Snapshot records one /metrics poll. The first is the baseline; those past the horizon
// are ignored except to close the run when none fell within it.
func (r *Recorder) Snapshot(s Snapshot) {
	r.polls++
	if !r.haveFirst {
		r.first, r.last, r.haveFirst = s, s, true
		return
	}
	if s.At.Sub(r.start) > r.horizon+horizonSlack && r.last.At.Sub(r.start) >= r.horizon/2 {
		return
	}
	r.last = s
	for name, q := range s.Queues {
		wait := q.Visible + q.InFlight - r.processing(s, name)
		r.maxWait[name] = max(r.maxWait[name], wait, 0)
	}
}

// processing estimates how many of a queue's in-flight messages are being processed: the
// states it carries have InFlight batches of up to the batch size each. With batches of one
// it is exact; with larger ones it counts a partly filled batch as full, so the waiting
// messages are, if anything, underestimated.
func (r *Recorder) processing(s Snapshot, queue string) float64 {
	st, ok := s.States[queue] // the system names each state's queue after the state
	if !ok {
		return 0
	}
	batch := 1
	for _, b := range r.b.States {
		if b.State == queue {
			batch = max(1, b.Queue.Queue.BatchSize)
		}
	}
	return math.Min(st.InFlight*float64(batch), s.Queues[queue].InFlight)
}

// GeneratorCPU records the load generator's CPU use over the run.
func (r *Recorder) GeneratorCPU(u CPUUsage) { r.generatorCPU = &u }

// Note adds a remark to the result's checks.
func (r *Recorder) Note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// Finish records the run's wall time.
func (r *Recorder) Finish(wall time.Duration) { r.wall = wall }

// Result assembles the measured result.
func (r *Recorder) Result() *result.Result {
	span := r.horizon.Seconds()
	d := r.delta()
	res := &result.Result{
		Schema: result.Schema, Mode: result.ModeMeasured,
		Scenario: r.sc.Name, Description: r.sc.Description, Seed: r.sc.Seed,
		HorizonS: span, Replications: 1,
	}
	completed := int64(math.Round(d.processed))
	for op, n := range r.okByOp {
		if op != OpCreate && op != OpUpdate {
			completed += n // reads, deletes and lists end with their answer
		}
	}
	var peak int64
	for _, n := range r.perSecond {
		peak = max(peak, n)
	}
	res.Workload = result.Workload{
		Offered: r.sent, Accepted: r.ok, Rejected: r.throttle + r.errors,
		Completed: completed, Failed: int64(math.Round(d.deadLettered)),
		OfferedRPS:   round6(float64(r.sent) / span),
		CompletedRPS: round6(float64(completed) / span),
		PeakRPS:      float64(peak),
	}
	res.Latency.API = hdrStats(r.api)
	e2e, source := r.endToEnd(d)
	res.Latency.EndToEnd = e2e
	r.waited = r.waited[:0]
	res.Components = r.components(d, span)
	res.Checks = r.checks(source)
	res.Timing = result.Timing{WallS: round6(r.wall.Seconds())}
	return res
}

// delta is what the system did within the measured period.
type delta struct {
	accepted, processed, deadLettered float64
	states                            map[string]StateMetrics // differences of counters, last gauges
	e2e                               Histogram
	probeE2E                          Histogram
	hasProbe, hasSystem               bool
}

func (r *Recorder) delta() delta {
	a, b := r.first, r.last
	d := delta{states: map[string]StateMetrics{}, hasProbe: b.HasProbe}
	if !r.haveFirst {
		return d
	}
	d.accepted = b.Accepted - a.Accepted
	d.deadLettered = math.Max(0, b.DeadLettered-a.DeadLettered)
	for name, s := range b.States {
		p := a.States[name]
		x := StateMetrics{
			Limit: s.Limit, InFlight: s.InFlight, High: s.High,
			Received: s.Received - p.Received, Applied: s.Applied - p.Applied, Failed: s.Failed - p.Failed,
			Redelivered: s.Redelivered - p.Redelivered, Throttles: s.Throttles - p.Throttles,
			Processed: s.Processed - p.Processed,
		}
		d.states[name] = x
		d.processed += x.Processed
	}
	for _, st := range r.stateNames(b) {
		if h, ok := b.EndToEnd[st]; ok {
			d.hasSystem = true
			d.e2e = d.e2e.Add(h.Sub(a.EndToEnd[st]))
		}
		if p, ok := b.Probe[st]; ok {
			d.probeE2E = d.probeE2E.Add(p.EndToEnd.Sub(a.Probe[st].EndToEnd))
		}
	}
	return d
}

// stateNames lists the states of a snapshot in the scenario's order, then any others
// sorted, so that sums never depend on map order.
func (r *Recorder) stateNames(s Snapshot) []string {
	var out []string
	for _, b := range r.b.States {
		if _, ok := s.States[b.State]; ok {
			out = append(out, b.State)
		}
	}
	var rest []string
	for name := range s.States {
		if !slices.Contains(out, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func (r *Recorder) endToEnd(d delta) (result.Stats, string) {
	h, source := d.e2e, "the system's "+metricEndToEnd+" (buckets about 2× apart: percentiles are interpolated within a bucket)"
	if d.hasProbe && d.probeE2E.Count > 0 {
		h, source = d.probeE2E, "the probe's "+MetricProbeEndToEnd+" (buckets 5% apart; from the write's acceptance to the end of its processing step)"
	}
	if h.Count <= 0 {
		return result.Stats{}, "no end-to-end histogram in /metrics"
	}
	return histogramStats(h), source
}

// histogramStats summarises a histogram in milliseconds: the mean exact (from the sum),
// percentiles interpolated within their buckets, the maximum the upper bound of the
// highest bucket that holds an observation.
func histogramStats(h Histogram) result.Stats {
	if h.Count <= 0 || len(h.Bounds) == 0 {
		return result.Stats{}
	}
	ms := func(s float64) float64 { return round6(s * 1000) }
	st := result.Stats{
		Count: int64(math.Round(h.Count)), Mean: ms(h.Mean()),
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P95: ms(h.Quantile(0.95)),
		P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)),
	}
	for i := len(h.Counts) - 1; i >= 0; i-- {
		below := 0.0
		if i > 0 {
			below = h.Counts[i-1]
		}
		if h.Counts[i]-below > 0 {
			st.Max = ms(h.Bounds[i])
			break
		}
	}
	if h.Count > h.Counts[len(h.Counts)-1] {
		st.Max = math.Max(st.Max, ms(h.Bounds[len(h.Bounds)-1]))
	}
	return st
}

// probeOf merges one probe histogram over states, between the first and last snapshots.
func (r *Recorder) probeOf(states []string, which func(ProbeMetrics) Histogram) Histogram {
	var h Histogram
	for _, st := range states {
		b, ok := r.last.Probe[st]
		if !ok {
			continue
		}
		h = h.Add(which(b).Sub(which(r.first.Probe[st])))
	}
	return h
}

func (r *Recorder) components(d delta, span float64) []result.Component {
	var out []result.Component
	rate := func(n int64) float64 { return round6(float64(n) / span) }
	for _, c := range r.sc.Components {
		comp := result.Component{Name: c.Name, Kind: string(c.Kind), Region: c.Region}
		if len(r.sc.Regions) <= 1 {
			comp.Region = ""
		}
		switch {
		case c == r.b.Gateway:
			comp.Offered, comp.Accepted, comp.Rejected = r.sent, r.ok, r.throttle+r.errors
			comp.Completed, comp.Throttled = r.ok, r.throttle
			comp.Sojourn = hdrStats(r.api)
			comp.ThroughputRPS = rate(r.ok)
		case c == r.b.Sync:
			comp.Offered, comp.Accepted = r.ok, r.ok
			comp.Completed = int64(math.Round(d.accepted))
			comp.ThroughputRPS = rate(comp.Completed)
		case c.Kind == scenarios.KindTopic && r.b.Sync != nil && slices.ContainsFunc(r.b.Sync.Function.Calls, func(k scenarios.Call) bool { return k.To == c.Name }):
			comp.Published = int64(math.Round(d.accepted))
			comp.Offered, comp.Accepted, comp.Completed = comp.Published, comp.Published, comp.Published
			comp.ThroughputRPS = rate(comp.Published)
		case slices.Contains(r.b.Queues(), c):
			var recv, redel, done float64
			for _, st := range r.b.StatesOf(c) {
				s := d.states[st]
				recv += s.Received
				redel += s.Redelivered
				done += s.Processed
				comp.MaxDepth = max(comp.MaxDepth, int64(math.Round(r.maxWait[st])))
			}
			comp.Offered = int64(math.Round(recv - redel))
			comp.Accepted = comp.Offered
			// With the probe: the wait from acceptance to the step's start, and the whole
			// stay to the step's end (the simulator's queue wait and sojourn).
			states := r.b.StatesOf(c)
			comp.Wait = histogramStats(r.probeOf(states, func(p ProbeMetrics) Histogram { return p.Pickup }))
			comp.Sojourn = histogramStats(r.probeOf(states, func(p ProbeMetrics) Histogram { return p.EndToEnd }))
			comp.Completed = int64(math.Round(done))
			comp.Redelivered = int64(math.Round(redel))
			comp.ThroughputRPS = rate(comp.Completed)
		case slices.Contains(r.b.Functions(), c):
			states := r.b.StatesOf(c)
			var recv, done, failed, throttles, high, limit float64
			for _, st := range states {
				s := d.states[st]
				recv += s.Received
				done += s.Processed
				failed += s.Failed
				throttles += s.Throttles
				high += s.High
				limit = s.Limit
			}
			if c.Function.ReservedConcurrency == 0 && len(states) > 1 && r.last.AccountHigh > 0 {
				// States sharing one pool: the pool's high-water mark, not the sum of theirs.
				high = math.Min(high, r.last.AccountHigh)
			}
			comp.Offered, comp.Accepted = int64(math.Round(recv)), int64(math.Round(recv))
			comp.Completed = int64(math.Round(done))
			comp.Errors = int64(math.Round(failed))
			// The system's "throttles" are batches that waited for a slot; the simulator's
			// throttled are invocations refused. Not the same figure: noted, not filed.
			if throttles > 0 {
				r.waited = append(r.waited, fmt.Sprintf("%s: %.0f batches waited for a free execution", c.Name, throttles))
			}
			comp.PeakConcurrency = int64(math.Round(high))
			comp.Capacity = int64(math.Round(limit))
			// With the probe: the processing step's duration, the simulator's invocation.
			comp.Sojourn = histogramStats(r.probeOf(states, func(p ProbeMetrics) Histogram { return p.Service }))
			comp.ThroughputRPS = rate(comp.Completed)
		case slices.Contains(r.b.DeadLetters, c):
			n := int64(math.Round(d.deadLettered))
			comp.Offered, comp.Accepted, comp.DeadLettered = n, n, n
			comp.MaxDepth = int64(math.Round(r.last.DeadLettered))
		default:
			continue // the system has no figures of its own for it
		}
		out = append(out, comp)
	}
	return out
}

func (r *Recorder) checks(e2eSource string) []result.Check {
	var out []result.Check
	out = append(out, result.Check{
		Name:   "coordinated omission",
		Passed: r.dropped == 0,
		Detail: fmt.Sprintf("k6's ramping-arrival-rate starts each iteration at its scheduled time whether or not earlier requests have finished (an open workload), so http_req_duration is measured from the scheduled send and includes no wait in the generator; an iteration for which no VU was free is not sent late but dropped: %d dropped_iterations of %d", r.dropped, r.dropped+r.iterations),
	})
	if u := r.generatorCPU; u != nil {
		out = append(out, result.Check{
			Name:   "generator cpu",
			Passed: !u.Saturated(),
			Detail: u.String(),
		})
	}
	detail := fmt.Sprintf("%d polls of /metrics, %d failed", r.polls, r.failures)
	if r.lastErr != "" {
		detail += " (last: " + r.lastErr + ")"
	}
	if r.haveFirst {
		detail += fmt.Sprintf("; counters from %s to %s after the start", r.first.At.Sub(r.start).Round(time.Millisecond), r.last.At.Sub(r.start).Round(time.Millisecond))
	}
	out = append(out, result.Check{Name: "system metrics", Passed: r.haveFirst && r.polls > 1, Detail: detail})
	out = append(out, result.Check{Name: "end-to-end source", Passed: true, Detail: e2eSource})
	if len(r.waited) > 0 {
		out = append(out, result.Check{Name: "processor waits", Passed: true,
			Detail: "the concurrency caps bound: " + strings.Join(r.waited, "; ") + " (the system's processor_throttles_total; the simulator's mappings hold such batches in the queue)"})
	}
	for _, n := range r.notes {
		out = append(out, result.Check{Name: "note", Passed: true, Detail: n})
	}
	return out
}

// FitQuantiles are the points at which a measured distribution is written into a scenario
// as an empirical one (validate --fit): dense where latency distributions bend.
var FitQuantiles = []float64{0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1}

// Percentile is one point of a measured distribution.
type Percentile struct {
	Q  float64 `json:"q"`
	MS float64 `json:"ms"`
}

// APIPercentiles returns the API latency of accepted writes at FitQuantiles, from its
// HDR histogram (nil when there were none).
func (r *Recorder) APIPercentiles() []Percentile {
	if r.api.TotalCount() == 0 {
		return nil
	}
	out := make([]Percentile, len(FitQuantiles))
	for i, q := range FitQuantiles {
		v := r.api.ValueAtQuantile(100 * q)
		switch q {
		case 0:
			v = r.api.Min()
		case 1:
			v = r.api.Max()
		}
		out[i] = Percentile{Q: q, MS: float64(v) / 1000}
	}
	return out
}

func hdrStats(h *hdrhistogram.Histogram) result.Stats {
	if h.TotalCount() == 0 {
		return result.Stats{}
	}
	q := func(p float64) float64 { return float64(h.ValueAtQuantile(p)) / 1000 }
	return result.Stats{
		Count: h.TotalCount(), Mean: round6(h.Mean() / 1000),
		P50: q(50), P90: q(90), P95: q(95), P99: q(99), P999: q(99.9),
		Max: float64(h.Max()) / 1000,
	}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// CPUUsage is a process's CPU use over a run, against the machine's.
type CPUUsage struct {
	// ProcessS is the process's CPU seconds over WallS; Cores the machine's CPUs.
	ProcessS, WallS float64
	Cores           int
	// MachineBusy is the machine's busy fraction over the run (all processes), or NaN when
	// it cannot be read.
	MachineBusy float64
}

// Saturated reports whether the generator could not keep its schedule for lack of CPU: it
// used 90% of the machine, or the machine as a whole was 95% busy.
func (u CPUUsage) Saturated() bool {
	return u.generatorBound() || u.MachineBusy >= 0.95
}

func (u CPUUsage) generatorBound() bool {
	return u.WallS > 0 && u.Cores > 0 && u.ProcessS/u.WallS >= 0.9*float64(u.Cores)
}

func (u CPUUsage) String() string {
	var b strings.Builder
	if u.WallS > 0 {
		fmt.Fprintf(&b, "the generator used %.2f of %d cores over %.1f s", u.ProcessS/u.WallS, u.Cores, u.WallS)
	}
	if !math.IsNaN(u.MachineBusy) {
		fmt.Fprintf(&b, "; the machine was %.0f%% busy", 100*u.MachineBusy)
	}
	switch {
	case u.generatorBound():
		b.WriteString(": the generator is the bottleneck — its schedule slips and the load is less than the scenario's")
	case u.MachineBusy >= 0.95:
		b.WriteString(": the machine was saturated — the generator, the system and whatever else runs there waited for a CPU, and the latencies include that wait")
	}
	return b.String()
}
