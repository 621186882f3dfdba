package sim

import (
	"fmt"
	"math"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// Little's law is exact for the measured period up to end effects (what is in a component
// at the start and end of the period), so a correct model meets it tightly on any run long
// enough to report; these tolerances only absorb those end effects.
const (
	littleRelTol = 0.02
	littleAbsTol = 0.01
)

// littleCheck compares L (time-average number in the component) with λW (throughput ×
// mean sojourn).
func littleCheck(c *result.Component) result.Check {
	l := c.MeanInSystem
	lw := c.ThroughputRPS * c.Sojourn.Mean / 1000
	diff := math.Abs(l - lw)
	ok := diff <= littleRelTol*math.Max(l, lw)+littleAbsTol
	return result.Check{
		Name:   "little/" + c.Name,
		Passed: ok,
		Detail: fmt.Sprintf("L = %.4g, λW = %.4g × %.4g s = %.4g (|Δ| %.3g)", l, c.ThroughputRPS, c.Sojourn.Mean/1000, lw, diff),
	}
}

// analytic returns the textbook figures for a pool that is a textbook queue: it receives the
// whole workload directly as a stationary Poisson stream and serves exponentially. Otherwise
// it returns nil and no comparison is made.
func (m *Model) analytic(p *pool, c *result.Component) (*result.Analytic, []result.Check) {
	wl := m.wl
	if wl.entry != component(p) || wl.profile != profileFlat || wl.deterministic || !p.svc.Exponential() {
		return nil, nil
	}
	lambda := wl.mean
	mu := 1e9 / p.svc.Mean()
	a := &result.Analytic{
		LambdaRPS: lambda, MuRPS: round6(mu), Servers: p.servers,
		Rho: round6(lambda / (float64(p.servers) * mu)),
	}
	st := &p.st
	simWait, waitHalf := st.waitBM.Interval()
	a.SimWaitMeanMS = round6(simWait / 1e6)
	a.WaitMeanHalfWidthMS = round6(waitHalf / 1e6)
	if started := st.wait.Count(); started > 0 {
		a.SimPWait = round6(float64(st.waited) / float64(started))
	}
	var checks []result.Check
	switch p.capacity {
	case scenarios.QueueUnbounded:
		a.Model = "M/M/c"
		if a.Rho >= 1 {
			checks = append(checks, result.Check{Name: "erlang-c/" + p.name, Passed: true,
				Detail: fmt.Sprintf("ρ = %.3f ≥ 1: no steady state to compare with", a.Rho)})
			return a, checks
		}
		w, pw := MMc(p.servers, lambda, mu)
		a.WaitMeanMS, a.PWait = round6(w*1000), round6(pw)
		checks = append(checks, ciCheck("erlang-c/"+p.name, "mean wait", a.SimWaitMeanMS, a.WaitMeanMS, a.WaitMeanHalfWidthMS, "ms"))
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
		a.SimPBlock, a.PBlockHalfWidth = round6(simPB), round6(pbHalf)
		name := "mmck/" + p.name
		if p.capacity == scenarios.QueueNone {
			name = "erlang-b/" + p.name
		}
		checks = append(checks, ciCheck(name, "blocking", a.SimPBlock, a.PBlock, a.PBlockHalfWidth, ""))
		if p.capacity != scenarios.QueueNone {
			checks = append(checks, ciCheck(name, "mean wait", a.SimWaitMeanMS, a.WaitMeanMS, a.WaitMeanHalfWidthMS, "ms"))
		}
	}
	return a, checks
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
	for i := range m.reqs {
		q := &m.reqs[i]
		if q.holds > 0 && q.measured && !q.rejected {
			open++
		}
	}
	answering := m.offered - m.accepted - m.rejected
	processing := open - answering
	return result.Check{
		Name:   "conservation",
		Passed: answering >= 0 && processing >= 0 && m.accepted == m.completed+m.failed+processing,
		Detail: fmt.Sprintf("offered %d = accepted %d + rejected %d + %d still answering; accepted = completed %d + failed %d + %d still processing",
			m.offered, m.accepted, m.rejected, answering, m.completed, m.failed, processing),
	}
}
