package sim

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// littleTol is the relative tolerance of Little's law. The law is checked in its exact
// finite-period form, so the only slack needed is floating-point rounding in sums of
// nanosecond timestamps (about 1e−9 relative over a 400-hour run); anything larger is a
// bookkeeping error in a component.
const littleTol = 1e-6

// littleCheck checks Little's law for one component over the measured period [s, e] of
// length T. The textbook form L = λW holds only in the limit; over a finite period the
// requests present at its start and end break it, by an amount that a long run makes small
// but an overloaded one (a growing backlog) does not. The exact form is
//
//	∫ₛᵉ N(t) dt = Σ sojourns completed in (s, e] + age at e of those still in − age at s of those in at s
//
// The left side is the time integral of the number in the component (the L gauge); the
// right side comes from the sojourns recorded at departure (the W histogram's exact sum)
// and the admission times of those inside. The two sides are kept by different code paths
// (the gauge moves at admission and departure; the sojourn is the departure time minus the
// admission time), so a component that loses, double-counts or mistimes a request fails it.
// Reported per second: L, λW, and the end effects that separate them.
func littleCheck(name string, st *compStats, end Time) result.Check {
	start := st.startAt
	span := float64(end - start)
	area := st.inSys.Area(end)
	sojourns := st.sojourn.sum
	ageEnd := st.arrivals.ageAt(st.inSys.Value(), end)
	ageStart := st.startArrivals.ageAt(st.startN, start)
	l, lw, ends := area/span, sojourns/span, (ageEnd-ageStart)/span
	diff := math.Abs(l - (lw + ends))
	c := result.Check{
		Name:   "little/" + name,
		Passed: diff <= littleTol*math.Max(l, lw+math.Abs(ends))+1e-12,
		Detail: fmt.Sprintf("L = %.6g, λW = %.6g, end effects %+.3g (in at start and end of the measured period): |L − λW − ends| = %.2g",
			l, lw, ends, diff),
	}
	if !c.Passed {
		c.Detail += "; the component's admissions, departures and sojourns disagree (every admit needs a done whose sojourn is the time since that admit)"
	}
	return c
}

// delayStation is what kinds that settle a call when it is made (tables, topics: see
// delay.go) have in common. They keep no gauge, since no event marks the end of a call;
// their L is computed from the latencies themselves, so Little's law holds for them by
// construction up to the calls cut by the horizon, and the check falls back to comparing
// the reported L with λW under a loose tolerance that only catches a gross mismatch.
type delayStation interface {
	reportDelay(n *node, c *result.Component)
}

// Tolerances of the classical L ≈ λW comparison for delay stations: the calls cut by the
// end of the run are the only difference.
const (
	littleClassicRel = 0.02
	littleClassicAbs = 0.01
)

func littleClassicCheck(c *result.Component) result.Check {
	l := c.MeanInSystem
	lw := c.ThroughputRPS * c.Sojourn.Mean / 1000
	diff := math.Abs(l - lw)
	return result.Check{
		Name:   "little/" + c.Name,
		Passed: diff <= littleClassicRel*math.Max(l, lw)+littleClassicAbs,
		Detail: fmt.Sprintf("L = %.4g, λW = %.4g × %.4g s = %.4g (|Δ| %.3g; calls are settled when made, so only those cut by the horizon differ)",
			l, c.ThroughputRPS, c.Sojourn.Mean/1000, lw, diff),
	}
}

// analytic returns the textbook figures for a pool that is a textbook queue: it receives the
// whole workload directly as a stationary Poisson stream and serves exponentially. Otherwise
// it returns nil and no comparison is made. intervals is false when too few observations
// were made for batch-means confidence intervals (their half-widths are then 0).
func (m *Model) analytic(p *pool) (a *result.Analytic, intervals bool) {
	wl := m.wl
	if wl.entry != component(p) || wl.profile != profileFlat || wl.deterministic || !p.svc.Exponential() {
		return nil, false
	}
	for _, c := range m.comps {
		if c.base().next == component(p) {
			return nil, false // fed by another component too: not the workload's Poisson stream alone
		}
	}
	lambda := wl.mean
	mu := 1e9 / p.svc.Mean()
	a = &result.Analytic{
		LambdaRPS: lambda, MuRPS: round6(mu), Servers: p.servers,
		Rho: round6(lambda / (float64(p.servers) * mu)),
	}
	st := &p.st
	simWait, waitHalf := st.waitBM.Interval()
	a.SimWaitMeanMS = round6(simWait / 1e6)
	intervals = !math.IsInf(waitHalf, 0)
	if intervals {
		a.WaitMeanHalfWidthMS = round6(waitHalf / 1e6)
	}
	if started := st.wait.Count(); started > 0 {
		a.SimPWait = round6(float64(st.waited) / float64(started))
	}
	switch p.capacity {
	case scenarios.QueueUnbounded:
		a.Model = "M/M/c"
		if lambda < float64(p.servers)*mu {
			w, pw := MMc(p.servers, lambda, mu)
			a.WaitMeanMS, a.PWait = round6(w*1000), round6(pw)
		}
	default:
		k := p.servers + p.capacity
		a.Capacity = k
		a.Model = "M/M/c/K"
		if p.capacity == scenarios.QueueNone {
			a.Model = "M/M/c/c"
		}
		pb, w, pw := MMcK(p.servers, k, lambda, mu)
		a.PBlock, a.WaitMeanMS, a.PWait = round6(pb), round6(w*1000), round6(pw)
		simPB, pbHalf := st.blockBM.Interval()
		a.SimPBlock = round6(simPB)
		if math.IsInf(pbHalf, 0) {
			intervals = false
		} else {
			a.PBlockHalfWidth = round6(pbHalf)
		}
	}
	return a, intervals
}

// analyticChecks compares the simulated figures of a with the textbook ones: the textbook
// value must lie in the simulated value's 95% confidence interval. It works from the
// Analytic object alone, so a single run (batch-means intervals) and a set of replications
// (intervals across replications) are checked by the same code. Without intervals (too
// few observations) the comparisons fail and say why: nothing was shown.
func analyticChecks(name string, a *result.Analytic, intervals bool) []result.Check {
	ci := func(name, figure string, sim, want, half float64, unit string) result.Check {
		if !intervals {
			return result.Check{Name: name, Passed: false,
				Detail: fmt.Sprintf("%s: simulated %.6g%s vs textbook %.6g%s, but too few observations for a 95%% interval (a longer horizon is needed)",
					figure, sim, unit, want, unit)}
		}
		return ciCheck(name, figure, sim, want, half, unit)
	}
	switch a.Model {
	case "M/M/c":
		if a.Rho >= 1 {
			return []result.Check{{Name: "erlang-c/" + name, Passed: true,
				Detail: fmt.Sprintf("ρ = %.3f ≥ 1: no steady state to compare with", a.Rho)}}
		}
		return []result.Check{ci("erlang-c/"+name, "mean wait", a.SimWaitMeanMS, a.WaitMeanMS, a.WaitMeanHalfWidthMS, "ms")}
	case "M/M/c/c":
		return []result.Check{ci("erlang-b/"+name, "blocking", a.SimPBlock, a.PBlock, a.PBlockHalfWidth, "")}
	case "M/M/c/K":
		return []result.Check{
			ci("mmck/"+name, "blocking", a.SimPBlock, a.PBlock, a.PBlockHalfWidth, ""),
			ci("mmck/"+name, "mean wait", a.SimWaitMeanMS, a.WaitMeanMS, a.WaitMeanHalfWidthMS, "ms"),
		}
	}
	return nil
}

// ciCheck passes when the textbook value lies inside the simulated value's 95% confidence
// interval. By construction a correct simulator fails such a check in about one run in
// twenty; a seed is deterministic, so a given run always gives the same verdict.
func ciCheck(name, figure string, sim, want, half float64, unit string) result.Check {
	d := math.Abs(sim - want)
	return result.Check{
		Name:   name,
		Passed: d <= half,
		Detail: fmt.Sprintf("%s: simulated %.6g%s ± %.3g (95%% CI) vs textbook %.6g%s (|Δ| %.3g, %.2f%%)",
			figure, sim, unit, half, want, unit, d, 100*d/math.Max(math.Abs(want), 1e-12)),
	}
}

// conservationCheck proves no request was lost: every measured arrival was answered or
// refused or is still being answered, and every accepted one completed, failed, or is still
// being processed at the end of the run.
func (m *Model) conservationCheck() result.Check {
	open := int64(0)
	for i := range m.reqs.len() {
		q := m.reqs.at(ReqID(i))
		if q.holds > 0 && q.measured && !q.rejected {
			open++
		}
	}
	open += m.detachedOpen // carried by their last message (Model.detach)
	answering := m.offered - m.accepted - m.rejected
	processing := open - answering
	return result.Check{
		Name:   "conservation",
		Passed: answering >= 0 && processing >= 0 && m.accepted == m.completed+m.failed+processing,
		Detail: fmt.Sprintf("offered %d = accepted %d + rejected %d + %d still answering; accepted = completed %d + failed %d + %d still processing",
			m.offered, m.accepted, m.rejected, answering, m.completed, m.failed, processing),
	}
}

// finiteCheck replaces every NaN or infinite number in res by 0, and reports where it found
// them: encoding/json refuses such numbers, so one would otherwise lose the whole result,
// and a figure that is not a number is a modelling error worth naming.
func finiteCheck(res *result.Result) result.Check {
	var bad []string
	scrubFloats(reflect.ValueOf(res).Elem(), "", &bad)
	c := result.Check{Name: "finite", Passed: len(bad) == 0, Detail: "every figure is a finite number"}
	if len(bad) > 0 {
		const show = 5
		more := ""
		if len(bad) > show {
			more, bad = fmt.Sprintf(" and %d more", len(bad)-show), bad[:show]
		}
		c.Detail = "not a finite number, reported as 0: " + strings.Join(bad, ", ") + more
	}
	return c
}

// scrubFloats walks v (structs, pointers, slices) and zeroes non-finite float64s, naming
// each by its JSON path.
func scrubFloats(v reflect.Value, path string, bad *[]string) {
	switch v.Kind() {
	case reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			*bad = append(*bad, path)
			v.SetFloat(0)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			scrubFloats(v.Elem(), path, bad)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			scrubFloats(v.Index(i), elemPath(v.Index(i), path, i), bad)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			scrubFloats(v.Field(i), joinPath(path, jsonName(t.Field(i))), bad)
		}
	}
}

// jsonName is a struct field's name in the JSON result.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// elemPath names a slice element: components by their name, as reports do
// ("components.workers.wait_ms.mean"), others by index.
func elemPath(e reflect.Value, path string, i int) string {
	if e.Kind() == reflect.Struct {
		if f := e.FieldByName("Name"); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return path + "." + f.String()
		}
	}
	return fmt.Sprintf("%s[%d]", path, i)
}
