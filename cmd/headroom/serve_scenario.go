package main

import (
	"fmt"
	"slices"

	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/system"
)

// serveFromScenario sets what a scenario says about the real system on cfg, so that the
// running pipeline makes the simulator's assumptions: the states (the workload's state
// mix, else the topic's filters), the gateway throttle, the account concurrency limit and
// its unreserved minimum, the synchronous request function's duration and error rate (the
// API's create work, spent before the store write), each state's processor (found by
// following topic route → queue → function) with its service-time distribution, failure
// rate and reserved concurrency, and the queues' visibility timeout, max receives and
// batch size.
//
// What it cannot run it refuses with an error placed in the scenario. It leaves alone
// what the real system does for itself: the table and topic latencies (the real store and
// bus take their own time).
func serveFromScenario(s *scenarios.Scenario, cfg system.ServerConfig) (system.ServerConfig, error) {
	pc := &cfg.Pipeline
	setAccount := func(r *scenarios.Region) {
		pc.AccountConcurrency, pc.UnreservedMin = r.LambdaConcurrency, r.LambdaUnreservedMin
	}
	setAccount(s.Regions[0])

	if entry := s.Component(s.Workload.Entry); entry != nil && entry.Kind == scenarios.KindGateway {
		cfg.ThrottleRPS, cfg.ThrottleBurst = entry.Gateway.RateRPS, entry.Gateway.Burst
		if r := s.Region(entry.Region); r != nil && cfg.ThrottleRPS == 0 {
			cfg.ThrottleRPS, cfg.ThrottleBurst = r.APIGatewayRateRPS, r.APIGatewayBurst
		}
		if fn := s.Component(entry.Next); fn != nil && fn.Kind == scenarios.KindFunction {
			w, err := workOf(fn)
			if err != nil {
				return cfg, err
			}
			pc.CreateWork = w
		}
	}

	// The processor of each state: topic route (filtered on the state) → queue → function.
	type binding struct {
		state string
		queue *scenarios.Component
		fn    *scenarios.Component
	}
	var bound []binding
	var states []string
	for _, c := range s.Components {
		if c.Kind != scenarios.KindTopic {
			continue
		}
		for _, r := range c.Topic.Routes {
			for _, f := range r.Filter {
				if f.Attribute != system.StateAttribute {
					continue
				}
				q := s.Component(r.To)
				if q == nil || q.Kind != scenarios.KindQueue {
					continue
				}
				fn := s.Component(q.Next)
				if fn == nil || fn.Kind != scenarios.KindFunction {
					continue
				}
				for _, st := range f.AnyOf {
					bound = append(bound, binding{state: st, queue: q, fn: fn})
					if !slices.Contains(states, st) {
						states = append(states, st)
					}
				}
			}
		}
	}
	// The workload's mix gives the states in the order the scenario lists them.
	for _, a := range s.Workload.Mix {
		if a.Name != system.StateAttribute {
			continue
		}
		mix := make([]string, 0, len(a.Values))
		for _, v := range a.Values {
			mix = append(mix, v.Value)
		}
		for _, st := range states {
			if !slices.Contains(mix, st) {
				mix = append(mix, st)
			}
		}
		states = mix
	}
	if len(states) > 0 {
		pc.States = system.States(states)
	}
	if len(bound) == 0 {
		return cfg, nil
	}

	// Queue settings are per pipeline in the system; the scenario's per-queue values must
	// therefore agree, and the first one is taken.
	q := bound[0].queue.Queue
	pc.VisibilityTimeout = q.VisibilityTimeout.D()
	pc.MaxReceives = q.MaxReceives
	pc.BatchSize = q.BatchSize
	pc.BatchWindow = q.BatchingWindow.D()
	for _, b := range bound[1:] {
		bq := b.queue.Queue
		if bq.VisibilityTimeout != q.VisibilityTimeout || bq.MaxReceives != q.MaxReceives {
			return cfg, placed(b.queue, "visibility_timeout",
				fmt.Sprintf("the system runs one visibility timeout and max_receives for every state queue; %s differs from %s",
					b.queue.Name, bound[0].queue.Name))
		}
	}

	// Functions: the common one gives the pipeline's work and its region the account limit;
	// others override the work per state.
	common := bound[0].fn
	if r := s.Region(common.Region); r != nil {
		setAccount(r)
	}
	work, err := workOf(common)
	if err != nil {
		return cfg, err
	}
	pc.Work = work
	statesOf := map[string][]string{}
	for _, b := range bound {
		statesOf[b.fn.Name] = append(statesOf[b.fn.Name], b.state)
	}
	pc.Processors = nil
	for _, b := range bound {
		fn := b.fn
		p := system.ProcessorConfig{State: b.state, BatchSize: b.queue.Queue.BatchSize, BatchWindow: b.queue.Queue.BatchingWindow.D()}
		if fn != common {
			w, err := workOf(fn)
			if err != nil {
				return cfg, err
			}
			p.Work = &w
		}
		if r := fn.Function.ReservedConcurrency; r > 0 {
			switch {
			case len(statesOf[fn.Name]) == 1:
				p.ReservedConcurrency = r
			case len(statesOf[fn.Name]) == len(states):
				// One function for every state: its reservation caps them all together,
				// which is an account limit of that size.
				pc.AccountConcurrency = min(pc.AccountConcurrency, r)
				pc.UnreservedMin = 0
			default:
				return cfg, placed(fn, "reserved_concurrency", fmt.Sprintf(
					"a reservation shared by some states (%v) but not all cannot be run by the system; give each state its own function",
					statesOf[fn.Name]))
			}
		}
		pc.Processors = append(pc.Processors, p)
	}
	return cfg, nil
}

func workOf(fn *scenarios.Component) (system.Work, error) {
	f := fn.Function
	w := system.Work{ServiceTime: systemDist(f.Duration), FailureRate: f.ErrorRate}
	if err := w.Validate(); err != nil {
		return w, placed(fn, "duration", err.Error())
	}
	return w, nil
}

// systemDist converts field for field: system owns its copy of the distribution so that it
// does not depend on how scenarios are parsed.
func systemDist(d scenarios.Dist) system.Dist {
	out := system.Dist{
		Kind: system.DistKind(d.Kind), Value: d.Value.D(), Mean: d.Mean.D(), Min: d.Min.D(), Max: d.Max.D(),
		Median: d.Median.D(), P99: d.P99.D(), Sigma: d.Sigma,
	}
	for _, p := range d.Percentiles {
		out.Percentiles = append(out.Percentiles, system.Percentile{Q: p.Q, V: p.V.D()})
	}
	return out
}

func placed(c *scenarios.Component, key, msg string) error {
	return &scenarios.Error{File: c.Pos.File, Line: c.Pos.Line, Key: "components." + c.Name + "." + key, Msg: msg}
}
