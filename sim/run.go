package sim

import (
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim/cost"
)

// Option configures a run.
type Option func(*options)

type options struct {
	progress    func(now, end Time)
	repProgress func(rep int, now, end Time)
	workers     int
	prices      *cost.Table // nil: the embedded table (annotate.go)
}

// WithProgress calls f with the virtual time reached, once per series interval. It runs on
// the simulation's goroutine: it must be quick.
func WithProgress(f func(now, end Time)) Option { return func(o *options) { o.progress = f } }

// Run simulates the scenario once with its seed and returns the predicted result.
func Run(sc *scenarios.Scenario, opts ...Option) (*result.Result, error) {
	return runSeed(sc, sc.Seed, opts...)
}

func runSeed(sc *scenarios.Scenario, seed uint64, opts ...Option) (*result.Result, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	m, err := build(sc, seed)
	if err != nil {
		return nil, err
	}
	m.progress = o.progress
	start := time.Now() // the run's own timing; the kernel never sees the wall clock
	m.k.Run(m.horizon)
	wall := time.Since(start).Seconds()
	res := m.result()
	res.Seed = seed
	annotate(sc, res, &o)
	res.Timing = result.Timing{WallS: wall, Events: m.k.Events()}
	if wall > 0 {
		res.Timing.EventsPerS = float64(m.k.Events()) / wall
	}
	return res, nil
}

// result assembles the figures of a finished run.
func (m *Model) result() *result.Result {
	now := m.k.now
	span := (m.horizon - m.warmup).Seconds()
	res := &result.Result{
		Schema:       result.Schema,
		Mode:         result.ModePredicted,
		Scenario:     m.sc.Name,
		Description:  m.sc.Description,
		HorizonS:     m.horizon.Seconds(),
		WarmupS:      m.warmup.Seconds(),
		Replications: 1,
		Workload: result.Workload{
			Offered: m.offered, Accepted: m.accepted, Rejected: m.rejected,
			Completed: m.completed, Failed: m.failed,
			OfferedRPS:   round6(float64(m.offered) / span),
			CompletedRPS: round6(float64(m.completed) / span),
			PeakRPS:      m.series.peakOffered(),
		},
		Latency: result.Latencies{API: m.api.Stats(), EndToEnd: m.e2e.Stats()},
		Series:  &result.SeriesIndex{IntervalS: m.series.interval.Seconds(), OfferedRPS: m.series.offered},
	}
	for i, comp := range m.comps {
		n := comp.base()
		st := &n.st
		c := result.Component{
			Name: n.name, Kind: string(n.kind), Region: n.region.spec.Name,
			Offered: st.offered, Accepted: st.accepted, Rejected: st.rejected, Completed: st.completed,
			Throttled:       st.throttled,
			Wait:            st.wait.Stats(),
			Sojourn:         st.sojourn.Stats(),
			Capacity:        st.capacity,
			PeakConcurrency: st.busy.Peak(),
			MeanConcurrency: round6(st.busy.Mean(now)),
			MeanInSystem:    round6(st.inSys.Mean(now)),
			ThroughputRPS:   round6(float64(st.completed) / span),
		}
		if st.capacity > 0 {
			c.Utilization = round6(st.busy.Mean(now) / float64(st.capacity))
		}
		comp.report(&c)
		if mt, ok := comp.(metered); ok {
			c.Usage = mt.usage(m.horizon - m.warmup)
		}
		s := m.series.comps[i].s
		c.Series = &s
		if _, ok := comp.(delayStation); ok {
			if c.Completed > 0 {
				res.Checks = append(res.Checks, littleClassicCheck(&c))
			}
		} else if st.accepted > 0 || st.completed > 0 || st.inSys.Value() > 0 {
			res.Checks = append(res.Checks, littleCheck(n.name, st, now))
		}
		if p, ok := comp.(*pool); ok {
			if a, intervals := m.analytic(p); a != nil {
				c.Analytic = a
				res.Checks = append(res.Checks, analyticChecks(n.name, a, intervals)...)
			}
		}
		res.Components = append(res.Components, c)
	}
	res.Checks = append(res.Checks, m.conservationCheck())
	res.Breaks = m.sortedBreaks()
	res.Checks = append(res.Checks, finiteCheck(res))
	return res
}
