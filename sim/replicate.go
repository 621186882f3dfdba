package sim

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// RunReplications simulates n independent replications of the scenario and combines them.
// Replication i runs with seed ReplicationSeed(sc.Seed, i), so replication 0 is the single
// run of Run and each replication can be rerun alone. They run in parallel on a pool of
// GOMAXPROCS workers (WithWorkers overrides it), each replication on one goroutine as a
// single-threaded simulation; the results are combined in replication order, so the
// output does not depend on the number of workers or on scheduling.
//
// The combined result has the shape of replication 0's: the same components, checks and
// series, with every figure replaced as follows.
//
//   - Numbers are the mean over the replications: counts (rounded to an integer), rates,
//     latency statistics (each percentile is the mean of the replications' percentiles),
//     utilizations, peaks, time-series points. Maxima (fields named max…) are the maximum
//     over the replications. Texts and the scenario's own parameters are replication 0's.
//   - CI95 lists the key figures with their 95% confidence half-width across replications
//     (Student t, n−1 degrees of freedom), named by their path in the JSON result.
//   - The analytic comparisons use those intervals instead of each run's batch means (the
//     method of independent replications). Other checks pass when they passed in every
//     replication.
//   - Breaks list every (component, limit) that bound in some replication, at the mean time
//     and offered rate of the replications where it did.
//   - Timing is the wall time of the whole set and the sum of the events.
//
// With n = 1 it is Run.
func RunReplications(sc *scenarios.Scenario, n int, opts ...Option) (*result.Result, error) {
	if n < 1 {
		return nil, fmt.Errorf("replications: %d, must be at least 1", n)
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	if n == 1 {
		if f := o.repProgress; f != nil {
			opts = append(opts, WithProgress(func(now, end Time) {
				f(0, now, end)
				if o.progress != nil {
					o.progress(now, end)
				}
			}))
		}
		return Run(sc, opts...)
	}
	workers := o.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)

	prog := newRepProgress(o, n)
	results := make([]*result.Result, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				// The caller's options apply to every replication; progress is routed
				// through prog, which serialises it.
				ro := append(append(make([]Option, 0, len(opts)+1), opts...), prog.option(i))
				results[i], errs[i] = runSeed(sc, ReplicationSeed(sc.Seed, i), ro...)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("replication %d (seed %d): %w", i, ReplicationSeed(sc.Seed, i), err)
		}
	}
	res := combine(results)
	annotate(sc, res, &o)
	res.Timing = result.Timing{WallS: wall}
	for _, r := range results {
		res.Timing.Events += r.Timing.Events
	}
	if wall > 0 {
		res.Timing.EventsPerS = float64(res.Timing.Events) / wall
	}
	return res, nil
}

// WithWorkers sets the number of replications run at once (default GOMAXPROCS).
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// WithReplicationProgress calls f with the virtual time reached by replication rep, once per
// series interval of each. Calls are serialised (never concurrent), but come from the
// replications' goroutines: f must be quick.
func WithReplicationProgress(f func(rep int, now, end Time)) Option {
	return func(o *options) { o.repProgress = f }
}

// repProgress fans the replications' progress into the caller's callbacks, one at a time:
// WithProgress sees the mean progress of the set, WithReplicationProgress each replication.
type repProgress struct {
	mu   sync.Mutex
	o    options
	done []Time
}

func newRepProgress(o options, n int) *repProgress {
	return &repProgress{o: o, done: make([]Time, n)}
}

func (p *repProgress) option(i int) Option {
	if p.o.progress == nil && p.o.repProgress == nil {
		return func(o *options) { o.progress = nil }
	}
	return WithProgress(func(now, end Time) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.o.repProgress != nil {
			p.o.repProgress(i, now, end)
		}
		if p.o.progress != nil {
			p.done[i] = now
			var sum float64
			for _, t := range p.done {
				sum += float64(t)
			}
			p.o.progress(Time(sum/float64(len(p.done))), end)
		}
	})
}

// combine merges the replications' results as RunReplications describes.
func combine(rs []*result.Result) *result.Result {
	n := len(rs)
	out := *rs[0]
	out.Replications = n
	out.Workload = rs[0].Workload
	out.Latency = rs[0].Latency
	out.Components = append([]result.Component(nil), rs[0].Components...)
	for i := range out.Components {
		out.Components[i] = deepCopyComponent(out.Components[i])
	}
	if rs[0].Series != nil {
		s := *rs[0].Series
		s.OfferedRPS = append([]float64(nil), s.OfferedRPS...)
		out.Series = &s
	}
	meanInto(reflect.ValueOf(&out.Workload).Elem(), fieldsOf(rs, func(r *result.Result) any { return &r.Workload }), false)
	meanInto(reflect.ValueOf(&out.Latency).Elem(), fieldsOf(rs, func(r *result.Result) any { return &r.Latency }), false)
	if sameComponents(rs) {
		for i := range out.Components {
			meanInto(reflect.ValueOf(&out.Components[i]).Elem(), fieldsOf(rs, func(r *result.Result) any { return &r.Components[i] }), false)
		}
	}
	if out.Series != nil {
		meanInto(reflect.ValueOf(out.Series).Elem(), fieldsOf(rs, func(r *result.Result) any { return r.Series }), false)
	}

	out.CI95 = intervalsOf(rs)
	analytic := map[string]bool{}
	var checks []result.Check
	if sameComponents(rs) {
		for i := range out.Components {
			c := &out.Components[i]
			if c.Analytic == nil {
				continue
			}
			replicationIntervals(c.Analytic, rs, i)
			for _, ch := range analyticChecks(c.Name, c.Analytic, true) {
				ch.Detail += fmt.Sprintf(" (interval across %d replications)", n)
				checks = append(checks, ch)
				analytic[ch.Name] = true
			}
		}
	}
	out.Checks = mergeChecks(rs, analytic, checks)
	out.Breaks = mergeBreaks(rs)
	// Each replication scrubbed its own figures (its "finite" check is tallied above);
	// combining must not have made new ones.
	if c := finiteCheck(&out); !c.Passed {
		c.Name = "finite/combined"
		out.Checks = append(out.Checks, c)
	}
	return &out
}

// deepCopyComponent copies the parts of a component that combine writes through pointers
// (the analytic object, the series) so replication 0's result is left as it was.
func deepCopyComponent(c result.Component) result.Component {
	if c.Analytic != nil {
		a := *c.Analytic
		c.Analytic = &a
	}
	if c.Series != nil {
		s := result.Series{
			ThroughputRPS: append([]float64(nil), c.Series.ThroughputRPS...),
			Concurrency:   append([]float64(nil), c.Series.Concurrency...),
			QueueDepth:    append([]float64(nil), c.Series.QueueDepth...),
			Throttled:     append([]float64(nil), c.Series.Throttled...),
		}
		if c.Series.Throttled == nil {
			s.Throttled = nil
		}
		c.Series = &s
	}
	c.Usage = append([]result.Usage(nil), c.Usage...)
	if c.Cache != nil {
		k := *c.Cache
		c.Cache = &k
	}
	if c.Database != nil {
		d := *c.Database
		c.Database = &d
	}
	if c.Cluster != nil {
		k := *c.Cluster
		k.Limits = append([]result.ClusterLimit(nil), k.Limits...)
		c.Cluster = &k
	}
	c.Ordering = append([]result.Ordering(nil), c.Ordering...)
	c.Routes = append([]result.RouteShare(nil), c.Routes...)
	if c.FIFO != nil {
		f := *c.FIFO
		c.FIFO = &f
	}
	if c.ReplicationLag != nil {
		l := *c.ReplicationLag
		c.ReplicationLag = &l
	}
	return c
}

// sameComponents reports whether every replication lists the same components in the same
// order; they always do (the scenario fixes them), but combine must not mix up figures if
// that ever changed.
func sameComponents(rs []*result.Result) bool {
	for _, r := range rs[1:] {
		if len(r.Components) != len(rs[0].Components) {
			return false
		}
		for i := range r.Components {
			if r.Components[i].Name != rs[0].Components[i].Name {
				return false
			}
		}
	}
	return true
}

func fieldsOf(rs []*result.Result, f func(*result.Result) any) []reflect.Value {
	vs := make([]reflect.Value, len(rs))
	for i, r := range rs {
		vs[i] = reflect.ValueOf(f(r)).Elem()
	}
	return vs
}

// meanInto sets dst (of the same type as every src) to the mean of srcs, field by field:
// floats and signed integers are averaged (integers rounded), or maximised when the field's
// name starts with Max or it is tagged combine:"max"; strings, booleans and unsigned
// integers keep dst's value; structs, pointers and slices are combined element by element
// when every replication has the same shape, and otherwise keep dst's.
func meanInto(dst reflect.Value, srcs []reflect.Value, isMax bool) {
	switch dst.Kind() {
	case reflect.Float64:
		if isMax {
			m := math.Inf(-1)
			for _, s := range srcs {
				m = math.Max(m, s.Float())
			}
			dst.SetFloat(m)
			return
		}
		var sum float64
		for _, s := range srcs {
			sum += s.Float()
		}
		dst.SetFloat(round6(sum / float64(len(srcs))))
	case reflect.Int, reflect.Int32, reflect.Int64:
		if isMax {
			m := int64(math.MinInt64)
			for _, s := range srcs {
				m = max(m, s.Int())
			}
			dst.SetInt(m)
			return
		}
		var sum float64
		for _, s := range srcs {
			sum += float64(s.Int())
		}
		dst.SetInt(int64(math.Round(sum / float64(len(srcs)))))
	case reflect.Struct:
		t := dst.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			fs := make([]reflect.Value, len(srcs))
			for j, s := range srcs {
				fs[j] = s.Field(i)
			}
			f := t.Field(i)
			meanInto(dst.Field(i), fs, strings.HasPrefix(f.Name, "Max") || f.Tag.Get("combine") == "max")
		}
	case reflect.Pointer:
		if dst.IsNil() {
			return
		}
		es := make([]reflect.Value, len(srcs))
		for j, s := range srcs {
			if s.IsNil() {
				return
			}
			es[j] = s.Elem()
		}
		meanInto(dst.Elem(), es, isMax)
	case reflect.Slice:
		for _, s := range srcs {
			if s.Len() != dst.Len() {
				return
			}
		}
		for k := 0; k < dst.Len(); k++ {
			es := make([]reflect.Value, len(srcs))
			for j, s := range srcs {
				es[j] = s.Index(k)
			}
			meanInto(dst.Index(k), es, isMax)
		}
	}
}

// interval returns the mean of xs and its 95% half-width (Student t, n−1 degrees of
// freedom); n ≥ 2.
func interval(xs []float64) (mean, half float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mean += x
	}
	mean /= n
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, StudentT95(len(xs)-1) * math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}

// intervalsOf lists the key figures with their confidence intervals across replications,
// in a fixed order: workload, latencies, then each component in the scenario's order.
func intervalsOf(rs []*result.Result) []result.Interval {
	var out []result.Interval
	add := func(figure string, f func(r *result.Result) float64) {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		m, h := interval(xs)
		out = append(out, result.Interval{Figure: figure, Mean: round6(m), HalfWidth: round6(h)})
	}
	// The counts of the workload are its rates times the measured period, so their intervals
	// are the rates' intervals in other units.
	add("workload.offered", func(r *result.Result) float64 { return float64(r.Workload.Offered) })
	add("workload.accepted", func(r *result.Result) float64 { return float64(r.Workload.Accepted) })
	add("workload.rejected", func(r *result.Result) float64 { return float64(r.Workload.Rejected) })
	add("workload.completed", func(r *result.Result) float64 { return float64(r.Workload.Completed) })
	add("workload.offered_rps", func(r *result.Result) float64 { return r.Workload.OfferedRPS })
	add("workload.completed_rps", func(r *result.Result) float64 { return r.Workload.CompletedRPS })
	stats := func(prefix string, f func(r *result.Result) *result.Stats, which ...string) {
		for _, w := range which {
			add(prefix+w, func(r *result.Result) float64 {
				s := f(r)
				switch w {
				case "mean":
					return s.Mean
				case "p50":
					return s.P50
				case "p95":
					return s.P95
				}
				return s.P99
			})
		}
	}
	stats("latency_ms.api.", func(r *result.Result) *result.Stats { return &r.Latency.API }, "mean", "p50", "p95", "p99")
	stats("latency_ms.end_to_end.", func(r *result.Result) *result.Stats { return &r.Latency.EndToEnd }, "mean", "p50", "p95", "p99")
	if !sameComponents(rs) {
		return out
	}
	for i, c0 := range rs[0].Components {
		p := "components." + c0.Name + "."
		comp := func(r *result.Result) *result.Component { return &r.Components[i] }
		stats(p+"wait_ms.", func(r *result.Result) *result.Stats { return &comp(r).Wait }, "mean", "p99")
		stats(p+"sojourn_ms.", func(r *result.Result) *result.Stats { return &comp(r).Sojourn }, "mean", "p99")
		add(p+"throughput_rps", func(r *result.Result) float64 { return comp(r).ThroughputRPS })
		add(p+"utilization", func(r *result.Result) float64 { return comp(r).Utilization })
		add(p+"peak_concurrency", func(r *result.Result) float64 { return float64(comp(r).PeakConcurrency) })
		throttled := false
		for _, r := range rs {
			throttled = throttled || comp(r).Throttled > 0
		}
		if throttled {
			add(p+"throttled", func(r *result.Result) float64 { return float64(comp(r).Throttled) })
		}
		if a := c0.Analytic; a != nil {
			add(p+"analytic.sim_wait_mean_ms", func(r *result.Result) float64 { return comp(r).Analytic.SimWaitMeanMS })
			add(p+"analytic.sim_p_wait", func(r *result.Result) float64 { return comp(r).Analytic.SimPWait })
			if a.Model != "M/M/c" {
				add(p+"analytic.sim_p_block", func(r *result.Result) float64 { return comp(r).Analytic.SimPBlock })
			}
		}
	}
	return out
}

// replicationIntervals replaces the batch-means half-widths of a with the intervals across
// replications of component i, the simulated figures with their means.
func replicationIntervals(a *result.Analytic, rs []*result.Result, i int) {
	xs := func(f func(a *result.Analytic) float64) []float64 {
		v := make([]float64, len(rs))
		for j, r := range rs {
			v[j] = f(r.Components[i].Analytic)
		}
		return v
	}
	m, h := interval(xs(func(a *result.Analytic) float64 { return a.SimWaitMeanMS }))
	a.SimWaitMeanMS, a.WaitMeanHalfWidthMS = round6(m), round6(h)
	if a.Model != "M/M/c" {
		m, h = interval(xs(func(a *result.Analytic) float64 { return a.SimPBlock }))
		a.SimPBlock, a.PBlockHalfWidth = round6(m), round6(h)
	}
}

// mergeChecks gives the combined checks: analytic ones (already computed over the
// replications) where replication 0 had them, every other one passed when it passed in
// every replication. Names are taken in order of first appearance.
func mergeChecks(rs []*result.Result, analytic map[string]bool, analyticChecks []result.Check) []result.Check {
	type tally struct {
		passed, seen int
		first        result.Check // replication 0's, or the first failure
		failedIn     int
	}
	var order []string
	byName := map[string]*tally{}
	for i, r := range rs {
		for _, c := range r.Checks {
			if analytic[c.Name] {
				continue
			}
			t := byName[c.Name]
			if t == nil {
				t = &tally{first: c, failedIn: -1}
				byName[c.Name] = t
				order = append(order, c.Name)
			}
			t.seen++
			if c.Passed {
				t.passed++
			} else if t.failedIn < 0 {
				t.first, t.failedIn = c, i
			}
		}
	}
	var out []result.Check
	emitted := map[string]bool{}
	for _, c := range rs[0].Checks {
		if analytic[c.Name] && !emitted[c.Name] {
			// Analytic checks go where replication 0 had them, all of one name together.
			for _, a := range analyticChecks {
				if a.Name == c.Name {
					out = append(out, a)
				}
			}
			emitted[c.Name] = true
		}
		if t := byName[c.Name]; t != nil && !emitted[c.Name] {
			out = append(out, tallyCheck(c.Name, t.passed, len(rs), t.failedIn, t.first))
			emitted[c.Name] = true
		}
	}
	for _, name := range order {
		if !emitted[name] {
			t := byName[name]
			out = append(out, tallyCheck(name, t.passed, len(rs), t.failedIn, t.first))
		}
	}
	return out
}

func tallyCheck(name string, passed, n, failedIn int, c result.Check) result.Check {
	if passed == n {
		return result.Check{Name: name, Passed: true,
			Detail: fmt.Sprintf("passed in all %d replications; replication 0: %s", n, c.Detail)}
	}
	return result.Check{Name: name, Passed: false,
		Detail: fmt.Sprintf("passed in %d of %d replications; replication %d: %s", passed, n, failedIn, c.Detail)}
}

// mergeBreaks lists each (component, limit) that bound in any replication, at the mean
// time and offered rate of the replications where it bound, in time order.
func mergeBreaks(rs []*result.Result) []result.Break {
	type acc struct {
		b        result.Break
		at, rate float64
		k        int
	}
	var order []string
	byKey := map[string]*acc{}
	for _, r := range rs {
		for _, b := range r.Breaks {
			key := b.Component + "\x00" + b.Limit
			a := byKey[key]
			if a == nil {
				a = &acc{b: b}
				byKey[key] = a
				order = append(order, key)
			}
			a.at += b.AtS
			a.rate += b.OfferedRPS
			a.k++
		}
	}
	out := make([]result.Break, 0, len(order))
	for _, key := range order {
		a := byKey[key]
		b := a.b
		b.AtS = round6(a.at / float64(a.k))
		b.OfferedRPS = round6(a.rate / float64(a.k))
		b.Detail = fmt.Sprintf("%s (bound in %d of %d replications)", b.Detail, a.k, len(rs))
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AtS < out[j].AtS })
	return out
}
