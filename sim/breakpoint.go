package sim

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim/cost"
)

// Breakpoint search: the largest load (users, or rate_rps for a rate-based workload) at
// which the scenario still meets every SLO.
//
// The search assumes that meeting the SLOs is monotone in the load (it holds below some
// load and fails above it). It brackets the breakpoint by doubling or halving from the
// scenario's own load, then narrows the bracket geometrically until the failing load is
// within the tolerance (2%) of the passing one. With several workers each round probes
// several loads at once, spread evenly (in ratio) over the bracket. Every probe is a full
// simulation with the scenario's seed, so neighbouring probes share their random numbers.
//
// What a probe simulates depends on the workload's profile:
//
//   - diurnal: the busiest window of the day (default 10 minutes centred on the peak hour)
//     after a warm-up at the rising rate just before it (default 10 minutes), and the SLOs
//     are judged over that window. The peak is where a daily load breaks first; judging the
//     whole day instead would let the quiet hours dilute a peak that fails. Components with
//     a long memory start warm: an on-demand table has served this load the day before, so
//     its adaptive capacity (twice the previous peak) does not bind, as it would not in a
//     day-long run that climbs to the peak over hours — this is the one thing a probe
//     changes in the scenario.
//   - hourly: the busiest hour, after the hour before it as warm-up.
//   - flat (and rate-based): the scenario's own horizon and warm-up, unchanged.
//
// WithFullHorizon makes every probe the scenario's own run, whatever the profile.

// BreakpointOption configures Breakpoint.
type BreakpointOption func(*bpOptions)

type bpOptions struct {
	tolerance      float64
	warmup, window time.Duration
	fullHorizon    bool
	workers        int
	slots          chan struct{}
	prices         *cost.Table
	maxDoublings   int
	progress       func(probe result.Probe)
	// start is where the search starts (Load 0: at the scenario's own load, by factors of 2).
	start      Estimate
	nominalRun *result.Result
}

// WithTolerance sets the relative width at which the search stops (default 0.02: the
// failing load is within 2% of the passing one).
func WithTolerance(rel float64) BreakpointOption { return func(o *bpOptions) { o.tolerance = rel } }

// WithProbeWindow sets the warm-up and the measured window of a probe of a diurnal
// workload (default 10 and 10 minutes).
func WithProbeWindow(warmup, window time.Duration) BreakpointOption {
	return func(o *bpOptions) { o.warmup, o.window = warmup, window }
}

// WithFullHorizon makes every probe simulate the scenario's own horizon.
func WithFullHorizon() BreakpointOption { return func(o *bpOptions) { o.fullHorizon = true } }

// WithProbeWorkers sets how many loads a round probes at once (default GOMAXPROCS).
func WithProbeWorkers(n int) BreakpointOption { return func(o *bpOptions) { o.workers = n } }

// WithProbeSlots bounds the probes running at once by a semaphore shared with other
// searches (compare runs several).
func WithProbeSlots(slots chan struct{}) BreakpointOption {
	return func(o *bpOptions) { o.slots = slots }
}

// WithBreakpointPrices prices the cost at the breakpoint with t (default: the embedded table).
func WithBreakpointPrices(t *cost.Table) BreakpointOption { return func(o *bpOptions) { o.prices = t } }

// WithEstimate starts the search around an estimate of the breakpoint (EstimateFromRun)
// instead of the scenario's own load: the first probes are spread% either side of it.
func WithEstimate(load, spread float64) BreakpointOption {
	return func(o *bpOptions) { o.start = Estimate{Load: load, Spread: spread, Basis: "given (--start)"} }
}

// WithNominalRun gives the search a run of the scenario at its own load (compare has one):
// the search starts around the load it estimates (EstimateFromRun), unless WithEstimate
// says otherwise, and autoscaled deployments start each probe sized from its peak.
func WithNominalRun(r *result.Result) BreakpointOption {
	return func(o *bpOptions) { o.nominalRun = r }
}

// NeedsNominalRun reports whether probes of sc start better sized from a run at its own
// load: it has autoscaled deployments and a daily profile (probes of a flat profile run
// the scenario's own horizon).
func NeedsNominalRun(sc *scenarios.Scenario) bool {
	if sc.Workload.Users == 0 || sc.Workload.Profile.Kind == "flat" || sc.Workload.Profile.Kind == "" {
		return false
	}
	for _, c := range sc.Components {
		if c.Deployment != nil {
			return true
		}
	}
	return false
}

// EstimateFromRun estimates the breakpoint from a run of the scenario at its own load, and
// how far either side of it the first probes go. judged is the length of the window the
// probes judge the SLOs over (0 when they run the scenario's own horizon). In order:
//
//   - when an SLO bounds throttle_ratio (≤ θ), the probes judge a window, and the run's
//     series show a component whose throttled share over a window of that length was
//     above θ in the busiest window and in every one before it back to some offered rate:
//     the load scaled by that rate over the busiest window's (2%). This is the probes' own
//     test, applied along the run's climb, so it holds for limits that bind on random
//     peaks long before they bind on the mean;
//   - likewise, when an SLO bounds an API latency (api.P ≤ X), for the windows in which
//     the mean waits for a worker or a server of the VM tiers and server pools (queue over
//     throughput, by Little's law) add up to more than X. A mean wait is below any
//     percentile of the response, but a queue that outgrows its servers passes any bound
//     within a minute or two, so this marks where those queues stop being stable; when
//     both apply, the lower. Caches and databases are delay stations (no queue in the
//     series), deployments' pods pull from message queues: neither counts;
//   - when a limit bound during a run whose offered rate climbs (a daily profile): the load
//     scaled by the offered rate when it bound over the run's peak offered rate (3%);
//   - when nothing bound: the load scaled by the headroom of the limit closest to binding —
//     the concurrency limits and the API Gateway account throttle of each region with a
//     gateway (its rate over the peak offered rate) — (5%, or 3% for a pool). A Lambda
//     concurrency pool (a region's unreserved executions, or one function's reservation)
//     under a throttle_ratio SLO ≤ θ, with probes judged over a window, is taken as an
//     Erlang loss system: its headroom is the load it carries with at most θ of
//     invocations refused, Erlang B's a(c, θ) for c executions (insensitive to the
//     durations' distribution, though it assumes Poisson arrivals, which batches pulled
//     from a queue are not), over its functions' concurrency in the run's busiest window
//     (the mean of the series' end-of-interval samples). Other limits, and pools without
//     that SLO, take their capacity over their peak concurrency.
//
// Bound reports that the estimate is where a limit bound in the run (any of the first
// three), so the breakpoint is close to it on either side. It returns ok false when the run
// gives none of them.
func EstimateFromRun(sc *scenarios.Scenario, slos []scenarios.SLO, judged time.Duration, r *result.Result) (Estimate, bool) {
	nominal := float64(sc.Workload.Users)
	if nominal == 0 {
		nominal = sc.Workload.RateRPS
	}
	if judged > 0 {
		var best *windowEstimate
		if x, found := throttleWindowRatio(r, throttleBound(slos), judged); found {
			best = &x
		}
		if x, found := waitWindowRatio(r, apiBound(slos), judged); found && (best == nil || x.ratio < best.ratio) {
			best = &x
		}
		if best != nil {
			return Estimate{Load: nominal * best.ratio, Spread: 0.02, Bound: true, Basis: best.basis}, true
		}
	}
	if len(r.Breaks) > 0 {
		b := r.Breaks[0]
		if r.Workload.PeakRPS <= 0 || b.OfferedRPS <= 0 {
			return Estimate{}, false
		}
		return Estimate{Load: nominal * math.Min(1, b.OfferedRPS/r.Workload.PeakRPS), Spread: 0.03, Bound: true,
			Basis: fmt.Sprintf("the run's first limit, %s's %s, bound at %s offered, of a %s peak",
				b.Component, b.Limit, rateText(b.OfferedRPS), rateText(r.Workload.PeakRPS))}, true
	}
	// The limit closest to binding: its headroom, the spread of its kind, and why.
	e := Estimate{Load: math.Inf(1)}
	pooled := map[string]bool{}
	if judged > 0 {
		var h float64
		var basis string
		if h, basis, pooled = poolHeadroom(sc, r, throttleBound(slos), judged); !math.IsInf(h, 1) {
			e = Estimate{Load: h, Spread: 0.03, Basis: basis}
		}
	}
	for _, c := range r.Components {
		if c.Capacity > 0 && c.PeakConcurrency > 0 && !pooled[c.Name] {
			if h := float64(c.Capacity) / float64(c.PeakConcurrency); h < e.Load {
				e = Estimate{Load: h, Spread: 0.05,
					Basis: fmt.Sprintf("nothing bound; %s's capacity of %d over its peak concurrency of %d", c.Name, c.Capacity, c.PeakConcurrency)}
			}
		}
	}
	if r.Workload.PeakRPS > 0 {
		for _, reg := range sc.Regions {
			for _, c := range sc.Components {
				if c.Gateway != nil && c.Region == reg.Name && reg.APIGatewayRateRPS > 0 {
					if h := reg.APIGatewayRateRPS / r.Workload.PeakRPS; h < e.Load {
						e = Estimate{Load: h, Spread: 0.05,
							Basis: fmt.Sprintf("nothing bound; API Gateway's account throttle of %s in region %s over the run's %s peak",
								rateText(reg.APIGatewayRateRPS), reg.Name, rateText(r.Workload.PeakRPS))}
					}
				}
			}
		}
	}
	if math.IsInf(e.Load, 1) || e.Load <= 0 {
		return Estimate{}, false
	}
	e.Load *= nominal
	return e, true
}

// Estimate is where a breakpoint search starts, and why.
type Estimate struct {
	Load float64
	// Spread is how far either side of Load the search's first steps go (a fraction).
	Spread float64
	// Bound: the estimate is where something bound in the run, not a limit's headroom.
	Bound bool
	// Basis is the evidence, in words.
	Basis string
}

// windowEstimate is a window estimate's ratio to the load, and its evidence.
type windowEstimate struct {
	ratio float64
	basis string
}

// rateText formats a rate per second for an estimate's basis: 4543/s.
func rateText(x float64) string { return loadText(math.Round(x)) + "/s" }

// throttleBound is the tightest throttle_ratio bound among slos (+Inf when none bounds it).
func throttleBound(slos []scenarios.SLO) float64 {
	theta := math.Inf(1)
	for _, s := range slos {
		if s.Metric == "throttle_ratio" && (s.Op == "<=" || s.Op == "<") {
			theta = math.Min(theta, s.Value)
		}
	}
	return theta
}

// apiBound is the tightest bound, in seconds, that slos put on an API latency from above
// (+Inf when none does).
func apiBound(slos []scenarios.SLO) float64 {
	x := math.Inf(1)
	for _, s := range slos {
		if strings.HasPrefix(s.Metric, "api.") && (s.Op == "<=" || s.Op == "<") {
			x = math.Min(x, s.Value/1000)
		}
	}
	return x
}

// waitKinds are the kinds whose series' queue is requests on the synchronous path waiting
// for a worker or a server.
var waitKinds = []string{string(scenarios.KindVMTier), string(scenarios.KindPool)}

// waitWindowRatio finds, in r's series, the windows of length judged in which the mean
// waits of the components of waitKinds (each one's mean queue over its mean throughput)
// add up to more than bound seconds, and returns the offered rate of the first window of
// the unbroken run of them that holds the busiest window, over the busiest window's.
// found is false when the busiest window is not among them.
func waitWindowRatio(r *result.Result, bound float64, judged time.Duration) (windowEstimate, bool) {
	end, w, offered, ok := busiestWindow(r, judged)
	if !ok || math.IsInf(bound, 1) {
		return windowEstimate{}, false
	}
	off, busiest := r.Series.OfferedRPS, offered[end]
	wait := make([]float64, len(off))
	for _, c := range r.Components {
		s := c.Series
		if !slices.Contains(waitKinds, c.Kind) || s == nil || len(s.QueueDepth) != len(off) || len(s.ThroughputRPS) != len(off) {
			continue
		}
		// Whole numbers (queued requests, completions per interval) sum exactly.
		queued, done := windowSums(s.QueueDepth, w), windowSums(counts(s.ThroughputRPS, r.Series.IntervalS), w)
		for i := w - 1; i < len(off); i++ {
			switch {
			case queued[i] > 0 && done[i] > 0:
				// The window's mean queue over its mean rate.
				wait[i] += queued[i] * r.Series.IntervalS / done[i]
			case queued[i] > 0:
				wait[i] = math.Inf(1) // a queue that nothing leaves
			}
		}
	}
	first, found := runStart(end, w, func(i int) bool { return wait[i] > bound })
	if x := offered[first]; found && x > 0 {
		return windowEstimate{ratio: x / busiest, basis: fmt.Sprintf(
			"the VM tiers' and server pools' mean waits passed %s from the %s window ending %s on (%s offered; %s in the busiest)",
			span(time.Duration(bound*float64(time.Second))), span(judged), windowEnd(r, first), rateText(x/float64(w)), rateText(busiest/float64(w)))}, true
	}
	return windowEstimate{}, false
}

// windowEnd is the time of day the window ending at interval i ends.
func windowEnd(r *result.Result, i int) string {
	return clock(float64(i+1) * r.Series.IntervalS / 3600)
}

// runStart returns the first window of the unbroken run of windows over a bound (over(i)
// for the window ending at i) that holds the window ending at end; found is false when
// that window is not over it. A run that ends before the busiest window — a transient
// at the start of a run, say — is not where the probes, which judge the busiest window,
// would fail.
func runStart(end, w int, over func(i int) bool) (first int, found bool) {
	if !over(end) {
		return 0, false
	}
	first = end
	for first > w-1 && over(first-1) {
		first--
	}
	return first, true
}

// busiestWindow returns the index of the last interval of r's busiest window of length
// judged, the window's length in intervals, and the offered rates summed over each window
// (windowSums).
func busiestWindow(r *result.Result, judged time.Duration) (end, w int, offered []float64, ok bool) {
	if r.Series == nil || r.Series.IntervalS <= 0 {
		return 0, 0, nil, false
	}
	off := r.Series.OfferedRPS
	w = int(math.Round(judged.Seconds() / r.Series.IntervalS))
	if w < 1 || len(off) < w {
		return 0, 0, nil, false
	}
	offered, end = windowSums(off, w), w-1
	for i := w; i < len(off); i++ {
		if offered[i] > offered[end] {
			end = i
		}
	}
	return end, w, offered, offered[end] > 0
}

// counts turns rates per second into whole counts per interval of secs seconds.
func counts(rates []float64, secs float64) []float64 {
	out := make([]float64, len(rates))
	for i, x := range rates {
		out[i] = math.Round(x * secs)
	}
	return out
}

// windowSums returns the sum of x[i-w+1 .. i] at each i ≥ w-1: the window of w intervals
// ending at i.
func windowSums(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	acc := 0.0
	for i, v := range x {
		acc += v
		if i >= w {
			acc -= x[i-w]
		}
		out[i] = acc
	}
	return out
}

// poolHeadroom is the smallest Erlang-B headroom of sc's Lambda concurrency pools (see
// EstimateFromRun), and the functions it covered.
func poolHeadroom(sc *scenarios.Scenario, r *result.Result, theta float64, judged time.Duration) (headroom float64, basis string, covered map[string]bool) {
	headroom, covered = math.Inf(1), map[string]bool{}
	end, w, _, ok := busiestWindow(r, judged)
	if !ok || math.IsInf(theta, 1) || theta <= 0 || theta >= 1 {
		return headroom, "", covered
	}
	type pool struct {
		capacity int64
		busy     float64 // mean concurrency over the busiest window
		names    []string
		partial  bool // a function without its series: the pool's busy is unknown
	}
	pools := map[string]*pool{}
	var keys []string
	for _, c := range sc.Components {
		rc := r.ComponentByName(c.Name)
		if c.Function == nil || rc == nil || rc.Capacity <= 0 {
			continue
		}
		key := rc.Region // the region the model placed it in
		if c.Function.ReservedConcurrency > 0 {
			key += "/" + c.Name
		}
		p := pools[key]
		if p == nil {
			p = &pool{capacity: rc.Capacity}
			pools[key] = p
			keys = append(keys, key)
		}
		p.names = append(p.names, c.Name)
		if rc.Series == nil || len(rc.Series.Concurrency) <= end {
			p.partial = true
			continue
		}
		for _, x := range rc.Series.Concurrency[end-w+1 : end+1] {
			p.busy += x / float64(w)
		}
	}
	for _, k := range keys {
		p := pools[k]
		if p.partial || p.busy <= 0 {
			continue
		}
		a := erlangBLoad(int(p.capacity), theta)
		if a/p.busy < headroom {
			headroom = a / p.busy
			basis = fmt.Sprintf("nothing bound; the %d executions of %s carry %.1f Erlangs with %g%% refused (Erlang B), against %.1f busy in the busiest %s",
				p.capacity, strings.Join(p.names, " and "), a, 100*theta, p.busy, span(judged))
		}
		for _, n := range p.names {
			covered[n] = true
		}
	}
	return headroom, basis, covered
}

// erlangBLoad is the largest offered load (in Erlangs) that c servers carry with Erlang B
// blocking at most b (0 < b < 1), to a millionth of an Erlang.
func erlangBLoad(c int, b float64) float64 {
	// The carried load a(1 − B) is at most c, so B ≥ 1 − c/a, which is > b above hi.
	lo, hi := 0.0, float64(c)/(1-b)+1
	for hi-lo > 1e-6*math.Max(1, lo) {
		if mid := (lo + hi) / 2; ErlangB(c, mid) <= b {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// throttleWindowRatio finds, in r's series, the windows of length judged in which a
// component's throttled work exceeded theta of its offered work (throttled + completed),
// and returns the offered rate of the first window of the unbroken run of them that holds
// the busiest window, over the busiest window's: the lowest such ratio over the
// components. found is false when no component is over theta in the busiest window (or r
// has no series as long as a window).
func throttleWindowRatio(r *result.Result, theta float64, judged time.Duration) (windowEstimate, bool) {
	end, w, offered, ok := busiestWindow(r, judged)
	if !ok || math.IsInf(theta, 1) {
		return windowEstimate{}, false
	}
	off, busiest := r.Series.OfferedRPS, offered[end]
	best := windowEstimate{ratio: math.Inf(1)}
	for _, c := range r.Components {
		s := c.Series
		if s == nil || len(s.Throttled) != len(off) || len(s.ThroughputRPS) != len(off) {
			continue
		}
		// Whole numbers (throttled and completed per interval) sum exactly.
		thr := windowSums(s.Throttled, w)
		done := windowSums(counts(s.ThroughputRPS, r.Series.IntervalS), w)
		if first, over := runStart(end, w, func(i int) bool { return thr[i] > 0 && thr[i] > theta*(thr[i]+done[i]) }); over && offered[first] > 0 && offered[first]/busiest < best.ratio {
			best = windowEstimate{ratio: offered[first] / busiest, basis: fmt.Sprintf(
				"%s's throttled share passed %g%% from the %s window ending %s on (%s offered; %s in the busiest)",
				c.Name, 100*theta, span(judged), windowEnd(r, first), rateText(offered[first]/float64(w)), rateText(busiest/float64(w)))}
		}
	}
	return best, !math.IsInf(best.ratio, 1)
}

// WithProbeProgress calls f after each probe (from the probes' goroutines, serialised).
func WithProbeProgress(f func(result.Probe)) BreakpointOption {
	return func(o *bpOptions) { o.progress = f }
}

// Breakpoint searches for the largest load at which sc meets every SLO in slos.
func Breakpoint(sc *scenarios.Scenario, slos []scenarios.SLO, opts ...BreakpointOption) (*result.Breakpoint, error) {
	o := bpOptions{tolerance: 0.02, warmup: 10 * time.Minute, window: 10 * time.Minute, maxDoublings: 10}
	for _, f := range opts {
		f(&o)
	}
	if len(slos) == 0 {
		return nil, fmt.Errorf("breakpoint %s: no SLOs: give --slo or slos: in the scenario", sc.Name)
	}
	if o.tolerance <= 0 || o.tolerance >= 1 {
		return nil, fmt.Errorf("breakpoint: tolerance %g must be between 0 and 1", o.tolerance)
	}
	if o.window <= 0 || o.warmup < 0 {
		return nil, fmt.Errorf("breakpoint: the probe window must be > 0 and the warm-up >= 0")
	}
	if o.workers <= 0 {
		o.workers = runtime.GOMAXPROCS(0)
	}
	if o.prices == nil {
		o.prices = cost.Default()
	}
	plan := newProbePlan(sc, o)
	if o.nominalRun != nil && o.start.Load == 0 {
		if e, ok := EstimateFromRun(sc, slos, plan.judged, o.nominalRun); ok {
			o.start = e
		}
	}
	s := &search{sc: sc, slos: slos, o: o, plan: plan, done: map[float64]*probeOut{}}
	start := time.Now()
	if err := s.run(); err != nil {
		return nil, fmt.Errorf("breakpoint %s: %w", sc.Name, err)
	}
	bp := s.outcome()
	bp.Start = &result.SearchStart{Load: plan.nominal, Basis: "no estimate: the scenario's own load, then factors of 2"}
	if o.start.Load > 0 {
		bp.Start = &result.SearchStart{Load: round6(s.norm(o.start.Load)), Spread: o.start.Spread, Basis: o.start.Basis}
	}
	bp.Timing.WallS = time.Since(start).Seconds()
	if bp.Timing.WallS > 0 {
		bp.Timing.EventsPerS = float64(bp.Timing.Events) / bp.Timing.WallS
	}
	return bp, nil
}

// probePlan turns a load into the scenario a probe simulates.
type probePlan struct {
	sc       *scenarios.Scenario
	users    bool
	nominal  float64
	method   string
	scenario func(load float64) *scenarios.Scenario
	// judged is the window the SLOs are judged over: 0 when a probe runs the scenario's
	// own horizon.
	judged time.Duration
}

func newProbePlan(sc *scenarios.Scenario, o bpOptions) *probePlan {
	p := &probePlan{sc: sc, users: sc.Workload.Users > 0}
	if p.users {
		p.nominal = float64(sc.Workload.Users)
	} else {
		p.nominal = sc.Workload.RateRPS
	}
	setLoad := func(c *scenarios.Scenario, load float64) {
		if p.users {
			c.Workload.Users = max(1, int64(math.Round(load)))
		} else {
			c.Workload.RateRPS = load
		}
	}
	prof := sc.Workload.Profile
	kind := prof.Kind
	if !p.users || o.fullHorizon {
		kind = "flat"
	}
	switch kind {
	case "diurnal":
		w, m := o.warmup, o.window
		peak := math.Mod((w + m/2).Hours(), 24)
		p.judged = m
		p.method = fmt.Sprintf("each probe simulates the busiest %s of the day (the %s peak ± %s) after %s of warm-up at the rising rate; SLOs are judged over that window",
			span(m), clock(prof.PeakHour), span(m/2), span(w))
		p.method += p.warmNote(o.nominalRun)
		p.scenario = func(load float64) *scenarios.Scenario {
			c := *sc
			setLoad(&c, load)
			c.Horizon, c.Warmup = scenarios.Duration(w+m), scenarios.Duration(w)
			c.Workload.Profile.PeakHour = peak
			c.Components = p.warm(load, o.nominalRun)
			return &c
		}
	case "hourly":
		busiest := 0
		for h, x := range prof.Hourly {
			if x > prof.Hourly[busiest] {
				busiest = h
			}
		}
		// Rotate the day so that the busiest hour is the second one: the first is warm-up.
		rot := make([]float64, 24)
		for i := range rot {
			rot[i] = prof.Hourly[(i+busiest+23)%24]
		}
		p.judged = time.Hour
		p.method = fmt.Sprintf("each probe simulates the busiest hour (%s–%s) after the hour before it as warm-up; SLOs are judged over that hour",
			clock(float64(busiest)), clock(float64(busiest+1)))
		p.method += p.warmNote(o.nominalRun)
		p.scenario = func(load float64) *scenarios.Scenario {
			c := *sc
			setLoad(&c, load)
			c.Horizon, c.Warmup = scenarios.Duration(2*time.Hour), scenarios.Duration(time.Hour)
			c.Workload.Profile.Hourly = rot
			c.Components = p.warm(load, o.nominalRun)
			return &c
		}
	default:
		p.method = fmt.Sprintf("each probe runs the scenario's own %s horizon", span(sc.Horizon.D()))
		if sc.Warmup > 0 {
			p.method += fmt.Sprintf(" (the first %s warm-up)", span(sc.Warmup.D()))
		}
		p.scenario = func(load float64) *scenarios.Scenario {
			c := *sc
			setLoad(&c, load)
			return &c
		}
	}
	return p
}

// warmCapacity is what a warm on-demand table starts with: more than any probe offers, so
// that only the table's on-demand maximum (on_demand_max_wru, _rru) bounds it.
const warmCapacity = 1e15

// warm returns the components as a probe at load starts them: the scenario's own, except
// those whose state adapts over hours, which start as a day that climbed to this peak would
// have left them:
//
//   - on-demand tables serve the load at once (they served it the day before: twice the
//     previous peak), up to their on-demand maximum, which no history raises;
//   - autoscaled deployments start with the replicas the scenario's own day reached at its
//     peak (nominal, a run at the scenario's load), scaled to the probe's load, within the
//     pods the cluster can reach and its max_replicas: the HPA and the node provisioner
//     follow a diurnal ramp closely, but started from min_replicas at the peak they take
//     many minutes to catch up and leave a backlog the window would judge instead.
//
// The scenario's own components are not modified (probes run concurrently and share them).
func (p *probePlan) warm(load float64, nominal *result.Result) []*scenarios.Component {
	out := slices.Clone(p.sc.Components)
	for i, c := range out {
		switch {
		case c.Table != nil && c.Table.Mode != "provisioned":
			cc, tt := *c, *c.Table
			tt.OnDemandInitialWRU, tt.OnDemandInitialRRU = warmCapacity, warmCapacity
			cc.Table = &tt
			out[i] = &cc
		case c.Deployment != nil && nominal != nil:
			if n := warmReplicas(c, load/p.nominal, nominal); n > c.Deployment.MinReplicas {
				cc, dd := *c, *c.Deployment
				dd.MinReplicas = n
				cc.Deployment = &dd
				out[i] = &cc
			}
		}
	}
	return out
}

// warmReplicas is the replicas a deployment starts a probe with: its peak at the
// scenario's load × the load ratio, rounded up, within max_replicas and the pods reachable.
func warmReplicas(c *scenarios.Component, ratio float64, nominal *result.Result) int {
	rc := nominal.ComponentByName(c.Name)
	if rc == nil || rc.Cluster == nil || rc.Cluster.PeakReplicas <= 0 {
		return 0
	}
	n := int64(math.Ceil(float64(rc.Cluster.PeakReplicas) * ratio))
	if rc.PodsReachable > 0 {
		n = min(n, rc.PodsReachable)
	}
	return int(min(n, int64(c.Deployment.MaxReplicas)))
}

// warmNote says which components a probe starts warm, and how.
func (p *probePlan) warmNote(nominal *result.Result) string {
	var tables, deps, cold []string
	for _, c := range p.sc.Components {
		switch {
		case c.Table != nil && c.Table.Mode != "provisioned":
			tables = append(tables, c.Name)
		case c.Deployment != nil && nominal != nil && warmReplicas(c, 1, nominal) > 0:
			deps = append(deps, fmt.Sprintf("%s (%d at the scenario's load)", c.Name, warmReplicas(c, 1, nominal)))
		case c.Deployment != nil:
			cold = append(cold, c.Name)
		}
	}
	var parts []string
	if len(tables) > 0 {
		parts = append(parts, fmt.Sprintf("on-demand tables %s start warm (they served this load the day before)", strings.Join(tables, ", ")))
	}
	if len(deps) > 0 {
		parts = append(parts, fmt.Sprintf("autoscaled deployments start with the replicas the scenario's own day reached at its peak, scaled to the probe's load: %s", strings.Join(deps, ", ")))
	}
	if len(cold) > 0 {
		parts = append(parts, fmt.Sprintf("deployments %s start from min_replicas (no run at the scenario's load to size them: the cold start at the peak makes the probes pessimistic)", strings.Join(cold, ", ")))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// meanRate is the daily mean arrival rate at a load.
func (p *probePlan) meanRate(load float64) float64 {
	if p.users {
		return math.Max(1, math.Round(load)) * p.sc.Workload.RequestsPerUserPerDay / 86400
	}
	return load
}

type probeOut struct {
	load float64
	res  *result.Result
	slos []result.SLOResult
	pass bool
}

type search struct {
	sc   *scenarios.Scenario
	slos []scenarios.SLO
	o    bpOptions
	plan *probePlan

	mu     sync.Mutex
	done   map[float64]*probeOut
	order  []float64
	events int64
}

// norm rounds a load to what a probe can simulate: whole users.
func (s *search) norm(x float64) float64 {
	if s.plan.users {
		return math.Max(1, math.Round(x))
	}
	return x
}

// probe simulates the loads not yet probed, at most o.workers at once (and within the
// shared slots).
func (s *search) probe(loads []float64) error {
	var todo []float64
	for _, l := range loads {
		l = s.norm(l)
		if _, ok := s.done[l]; !ok && !slices.Contains(todo, l) {
			todo = append(todo, l)
		}
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	local := make(chan struct{}, s.o.workers)
	for i, l := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local <- struct{}{}
			defer func() { <-local }()
			if s.o.slots != nil {
				s.o.slots <- struct{}{}
				defer func() { <-s.o.slots }()
			}
			res, err := Run(s.plan.scenario(l), WithPrices(s.o.prices))
			if err != nil {
				errs[i] = fmt.Errorf("probe at %s %s: %w", loadText(l), s.variable(), err)
				return
			}
			slos, pass := EvaluateSLOs(s.slos, res)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.done[l] = &probeOut{load: l, res: res, slos: slos, pass: pass}
			s.order = append(s.order, l)
			s.events += res.Timing.Events
			if s.o.progress != nil {
				s.o.progress(s.probeRecord(s.done[l]))
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *search) variable() string {
	if s.plan.users {
		return "users"
	}
	return "rate_rps"
}

// bracket returns the largest passing load below the smallest failing one, and that
// failing one (nil when there is none).
func (s *search) bracket() (lo, hi *probeOut) {
	for _, p := range s.done {
		if !p.pass && (hi == nil || p.load < hi.load) {
			hi = p
		}
	}
	for _, p := range s.done {
		if p.pass && (hi == nil || p.load < hi.load) && (lo == nil || p.load > lo.load) {
			lo = p
		}
	}
	return lo, hi
}

// toleranceStep is the load one tolerance above from (below it when !up). Whole users
// round inwards, so that the bracket is within the tolerance, but by one user at least:
// below 50 users a 2% step is less than one, and rounding alone would probe from again.
func toleranceStep(from, tol float64, users, up bool) float64 {
	if up {
		x := from * (1 + tol)
		if users {
			x = max(math.Floor(x), from+1)
		}
		return x
	}
	x := from / (1 + tol)
	if users {
		x = min(math.Ceil(x), from-1)
	}
	return x
}

func (s *search) run() error {
	w := s.o.workers
	// Start from the estimate (a few percent apart), or from the nominal load (a factor of
	// 2 apart); while the bracket is open on one side, each step out squares the factor,
	// up to 2. One probe at a time from an estimate, the first step out is the tolerance
	// itself, the second the estimate's spread (the tolerance again when the spread is at
	// most two tolerances), and only then the squares: an estimate is often right to within
	// the tolerance, and then two probes close the bracket instead of four or five. That holds on both sides of an estimate where a limit bound in the
	// nominal run, but only above one scaled to a limit's headroom: that limit binds just
	// above it, but when the estimate fails, another limit binds first, and nothing says how
	// far below — the search then steps down by the squares at once.
	x0, step := s.plan.nominal, 2.0
	tolFirst := false
	if s.o.start.Load > 0 {
		x0, step = s.o.start.Load, 1+s.o.start.Spread
		tolFirst = w == 1 && 1+s.o.tolerance <= step
	}
	limitHi, limitLo := x0*math.Pow(2, float64(s.o.maxDoublings)), x0/math.Pow(2, float64(s.o.maxDoublings))
	spreadNext := false
	byTolerance := func(from float64, up bool) float64 {
		return toleranceStep(from, s.o.tolerance, s.plan.users, up)
	}
	widen := func(from float64, up bool) float64 {
		f := step
		switch {
		case tolFirst && (up || s.o.start.Bound):
			tolFirst, spreadNext = false, true
			return byTolerance(from, up)
		case spreadNext:
			spreadNext = false
			// A spread of at most two tolerances is covered by a second tolerance step,
			// which closes the bracket if it fails; the spread from the first step's load
			// would overshoot the estimate's range by the tolerance and need a bisection.
			if tol := 1 + s.o.tolerance; step <= tol*tol {
				return byTolerance(from, up)
			}
		default:
			step = math.Min(2, step*step)
			f = step
		}
		if up {
			return math.Min(limitHi, from*f)
		}
		return math.Max(limitLo, from/f)
	}
	var first []float64
	for i := range w {
		first = append(first, x0*math.Pow(step, float64(i-(w-1)/2)))
	}
	if w == 2 && step < 2 {
		first = []float64{x0 / step, x0 * step}
	}
	if err := s.probe(first); err != nil {
		return err
	}
	for {
		lo, hi := s.bracket()
		var next []float64
		switch {
		case hi == nil:
			top := 0.0
			for l := range s.done {
				top = math.Max(top, l)
			}
			if top >= limitHi {
				return nil
			}
			for range w {
				top = widen(top, true)
				next = append(next, top)
			}
		case lo == nil:
			bottom := hi.load
			if bottom <= limitLo || (s.plan.users && bottom <= 1) {
				return nil
			}
			for range w {
				bottom = widen(bottom, false)
				next = append(next, bottom)
			}
		default:
			if hi.load/lo.load-1 <= s.o.tolerance*(1+1e-9) || (s.plan.users && hi.load-lo.load <= 1) {
				return nil
			}
			r := hi.load / lo.load
			for i := 1; i <= w; i++ {
				next = append(next, lo.load*math.Pow(r, float64(i)/float64(w+1)))
			}
		}
		before := len(s.done)
		if err := s.probe(next); err != nil {
			return err
		}
		if len(s.done) == before {
			return nil // nothing new to probe (whole users): the bracket is as narrow as it gets
		}
	}
}

func (s *search) probeRecord(p *probeOut) result.Probe {
	pr := result.Probe{Load: round6(p.load), Passed: p.pass, Events: p.res.Timing.Events}
	for _, x := range p.slos {
		if !x.Passed {
			pr.Failed = append(pr.Failed, fmt.Sprintf("%s (%s)", x.SLO, x.Detail))
		}
	}
	return pr
}

func (s *search) outcome() *result.Breakpoint {
	lo, hi := s.bracket()
	bp := &result.Breakpoint{
		Schema: result.BreakpointSchema, Scenario: s.sc.Name, Variable: s.variable(),
		Nominal: s.plan.nominal, Tolerance: s.o.tolerance, Method: s.plan.method,
	}
	switch {
	case lo == nil:
		bp.Status = "below_range"
	case hi == nil:
		bp.Status = "above_range"
	default:
		bp.Status = "found"
	}
	if lo != nil {
		bp.MaxLoad = lo.load
		bp.Ratio = round6(lo.load / s.plan.nominal)
		bp.SLOs = lo.slos
		if len(lo.res.Breaks) > 0 {
			b := lo.res.Breaks[0]
			bp.FirstBreak = &b
		}
		if rate := lo.res.Workload.OfferedRPS; rate > 0 {
			c := s.o.prices.PriceAt(lo.res, s.plan.meanRate(lo.load)/rate)
			bp.MonthlyUSD = c.MonthlyUSD
			bp.CostNote = fmt.Sprintf("the passing probe's usage per request over a day of %s requests at this load (instances as they are), priced with %s as of %s",
				loadText(s.plan.meanRate(lo.load)*86400), s.o.prices.Source, s.o.prices.AsOf)
		}
	}
	if hi != nil {
		bp.FailLoad = hi.load
		if lo == nil {
			bp.SLOs = hi.slos
		}
		for _, x := range hi.slos {
			if !x.Passed {
				b := x
				bp.Binding = &b
				break
			}
		}
		if len(hi.res.Breaks) > 0 {
			b := hi.res.Breaks[0]
			bp.FirstBreakAtFail = &b
		}
	}
	loads := slices.Clone(s.order)
	sort.Float64s(loads)
	for _, l := range loads {
		bp.Probes = append(bp.Probes, s.probeRecord(s.done[l]))
	}
	bp.Timing.Events = s.events
	return bp
}

// span formats a duration the way scenarios write them: 30m, 1h30m, 20m, 45s.
func span(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// clock formats an hour of the day: 13:00, 9:30.
func clock(h float64) string {
	h = math.Mod(h, 24)
	m := int(math.Round(h * 60))
	return fmt.Sprintf("%d:%02d", m/60%24, m%60)
}
