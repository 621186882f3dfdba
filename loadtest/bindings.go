package loadtest

import (
	"fmt"
	"slices"
	"time"

	"github.com/headroom/headroom/scenarios"
)

// Bindings say which of a scenario's components the real system plays, so that measured
// figures land on the components the simulator reports and the two results compare name by
// name. The system (`headroom serve --scenario`) runs:
//
//	scenario                           system
//	gateway (entry)                    the HTTP API's token bucket (429 when empty)
//	function after the gateway         the API handler: store write, then publish
//	table, topic                       the store and bus backends (their own latency)
//	topic route with a state filter    the subscription of that state's queue
//	queue → function (its mapping)     the state's pollers and processor pool: a batch
//	                                   waits for a concurrency slot, then the work step
//	function duration, error_rate      the work step's service time and failure rate
//	reserved_concurrency               the state's reserved slots
//	region lambda_concurrency          the shared slots of the states without reservation
//	queue max_receives, dead_letter    redelivery after the visibility timeout, then the
//	                                   dead-letter queue
//
// Where the two do not behave alike, Notes says so (see there).
type Bindings struct {
	// Gateway is the workload's entry when it is a gateway, else nil.
	Gateway *scenarios.Component
	// Sync is the function the gateway calls, the API handler's part, else nil.
	Sync *scenarios.Component
	// States lists each routed state with its queue and processor function, in the order of
	// the workload's state mix (states only a filter names follow).
	States []StateBinding
	// DeadLetters are the dead-letter queues of the bound queues, in first-use order.
	DeadLetters []*scenarios.Component
}

// StateBinding is one state's path: the queue its route delivers to and the function
// that consumes it.
type StateBinding struct {
	State    string
	Queue    *scenarios.Component
	Function *scenarios.Component
}

// Bind finds what the system plays in s, the same way `headroom serve --scenario` reads
// it: topic route (filtered on the state) → queue → function.
func Bind(s *scenarios.Scenario) Bindings {
	var b Bindings
	if e := s.Component(s.Workload.Entry); e != nil && e.Kind == scenarios.KindGateway {
		b.Gateway = e
		if f := s.Component(e.Next); f != nil && f.Kind == scenarios.KindFunction {
			b.Sync = f
		}
	}
	var bound []StateBinding
	for _, c := range s.Components {
		if c.Kind != scenarios.KindTopic {
			continue
		}
		for _, r := range c.Topic.Routes {
			q := s.Component(r.To)
			if q == nil || q.Kind != scenarios.KindQueue {
				continue
			}
			fn := s.Component(q.Next)
			if fn == nil || fn.Kind != scenarios.KindFunction {
				continue
			}
			for _, f := range r.Filter {
				if f.Attribute != StateAttribute {
					continue
				}
				for _, st := range f.AnyOf {
					if !slices.ContainsFunc(bound, func(x StateBinding) bool { return x.State == st }) {
						bound = append(bound, StateBinding{State: st, Queue: q, Function: fn})
					}
				}
			}
		}
	}
	// The mix's order first, as the system orders its states.
	for _, a := range s.Workload.Mix {
		if a.Name != StateAttribute {
			continue
		}
		for _, v := range a.Values {
			if i := slices.IndexFunc(bound, func(x StateBinding) bool { return x.State == v.Value }); i >= 0 {
				b.States = append(b.States, bound[i])
			}
		}
	}
	for _, x := range bound {
		if !slices.ContainsFunc(b.States, func(y StateBinding) bool { return y.State == x.State }) {
			b.States = append(b.States, x)
		}
	}
	for _, st := range b.States {
		if d := s.Component(st.Queue.Queue.DeadLetter); d != nil && !slices.Contains(b.DeadLetters, d) {
			b.DeadLetters = append(b.DeadLetters, d)
		}
	}
	return b
}

// Queues returns the distinct bound queues in state order.
func (b Bindings) Queues() []*scenarios.Component {
	var out []*scenarios.Component
	for _, st := range b.States {
		if !slices.Contains(out, st.Queue) {
			out = append(out, st.Queue)
		}
	}
	return out
}

// Functions returns the distinct processor functions in state order.
func (b Bindings) Functions() []*scenarios.Component {
	var out []*scenarios.Component
	for _, st := range b.States {
		if !slices.Contains(out, st.Function) {
			out = append(out, st.Function)
		}
	}
	return out
}

// StatesOf returns the states a component (queue or function) serves.
func (b Bindings) StatesOf(c *scenarios.Component) []string {
	var out []string
	for _, st := range b.States {
		if st.Queue == c || st.Function == c {
			out = append(out, st.State)
		}
	}
	return out
}

// Note is one place where the simulator's model and the system differ for a scenario, so
// that a figure which disagrees can be traced to a known cause rather than a bug.
type Note struct {
	// Component is the scenario component concerned ("" for the whole scenario).
	Component string
	// Differs is true when the difference changes the figures validate compares (the
	// scenario is then not a fair validation of those figures); false for a remark.
	Differs bool
	Text    string
}

func (n Note) String() string {
	mark := "note"
	if n.Differs {
		mark = "DIFFERS"
	}
	if n.Component == "" {
		return mark + ": " + n.Text
	}
	return mark + ": " + n.Component + ": " + n.Text
}

// Notes lists where s's model and the system behave differently. The ones that change the
// compared figures (Differs) are the reasons the bundled validation scenarios are written
// as they are: pollers that start at their full concurrency, a mapping concurrency no
// larger than the function's reservation, no cold starts, batches of one.
func (b Bindings) Notes(s *scenarios.Scenario) []Note {
	var out []Note
	add := func(c *scenarios.Component, differs bool, format string, args ...any) {
		name := ""
		if c != nil {
			name = c.Name
		}
		out = append(out, Note{Component: name, Differs: differs, Text: fmt.Sprintf(format, args...)})
	}
	if len(b.States) == 0 {
		add(nil, true, "no topic route filtered on %q leads to a queue consumed by a function: the system processes nothing the simulator models asynchronously", StateAttribute)
	}
	if g := b.Gateway; g != nil {
		r := s.Region(g.Region)
		if g.Gateway.RateRPS > 0 && r != nil && r.APIGatewayRateRPS < g.Gateway.RateRPS {
			add(g, true, "the simulator applies both the stage throttle (%g rps) and the region's lower account throttle (%g rps); the system's token bucket is the stage's", g.Gateway.RateRPS, r.APIGatewayRateRPS)
		}
		add(g, false, "the gateway's overhead is modelled; the system's API takes its own time (validate --fit measures it)")
	} else {
		add(nil, true, "the workload's entry %q is not a gateway: the system's API has nothing in the scenario to match", s.Workload.Entry)
	}
	if f := b.Sync; f != nil {
		if !isZeroDist(f.Function.Duration) || f.Function.ErrorRate > 0 {
			add(f, false, "its duration and error rate are the system's create work, spent by the API before the store write (a failed step answers 500)")
		}
		if f.Function.ReservedConcurrency == 0 && slices.ContainsFunc(b.Functions(), func(p *scenarios.Component) bool {
			return p.Function.ReservedConcurrency == 0 && p.Region == f.Region
		}) {
			add(f, true, "draws from the region's unreserved pool with the processors: when they fill it the simulator throttles synchronous requests; the system's API has no concurrency cap")
		}
	}
	for _, fn := range b.Functions() {
		f := fn.Function
		if !f.Init.IsZero() && !isZeroDist(f.Init) {
			add(fn, true, "cold starts cost INIT (%s) in the simulator; the system's processors have none (set init: 0ms)", describeDist(f.Init))
		}
		switch writes, others := tableWrites(s, f); {
		case writes == 1 && others == 0:
			add(fn, false, "its table write is the system's processing effect (the store's conditional write, which holds the execution as the write does): the store takes its own time (validate --fit measures it)")
		case writes == 0:
			add(fn, true, "the system holds each execution for a store write after the step (its processing effect); without a table write the model leaves that time out — microseconds on the memory store, milliseconds on a database")
		default:
			add(fn, true, "the system makes one store write per message after the step; %d table writes and %d other calls have no counterpart there", writes, others)
		}
		capacity, shared := f.ReservedConcurrency, false
		if capacity == 0 {
			shared = true
			if r := s.Region(fn.Region); r != nil {
				capacity = r.LambdaConcurrency
				for _, c := range s.Components {
					if c.Kind == scenarios.KindFunction && c.Region == fn.Region {
						capacity -= c.Function.ReservedConcurrency
					}
				}
			}
		}
		mappings := 0
		for _, q := range b.Queues() {
			if q.Next != fn.Name {
				continue
			}
			qs := q.Queue
			limit := qs.PollerMax
			if qs.MaxConcurrency > 0 {
				limit = min(limit, qs.MaxConcurrency)
			}
			mappings += limit
			if qs.PollerStart < limit {
				add(q, true, "the simulator's pollers start at %d concurrent batches and add %d a minute up to %d; the system's pollers take every free slot at once (set poller_start to the mapping's concurrency)", qs.PollerStart, qs.PollerRampPerM, limit)
			}
			if qs.BatchSize > 1 {
				add(q, false, "batches of %d: the measured queue depth counts the messages pollers hold while waiting for a slot as an estimate", qs.BatchSize)
			}
		}
		if mappings > capacity || shared && b.Sync != nil && b.Sync.Function.ReservedConcurrency == 0 && mappings >= capacity {
			add(fn, true, "its mappings may run %d batches at once but it has %d executions: the simulator throttles a batch, returns it to its queue for the visibility timeout and backs the mapping off; the system's pollers wait for a free slot (keep the mappings' max_concurrency within the function's reserved_concurrency)", mappings, capacity)
		}
		if f.Timeout > 0 && f.Duration.Kind != "" {
			if p := distQuantile(f.Duration, 0.999); p > f.Timeout.D() {
				add(fn, true, "the duration's p99.9 (%v) exceeds the %v timeout: the simulator fails those invocations; the system's work step has no timeout", p.Round(time.Millisecond), f.Timeout.D())
			}
		}
	}
	for _, c := range s.Components {
		switch c.Kind {
		case scenarios.KindTable:
			if c.Table.Mode == "provisioned" {
				add(c, true, "provisioned capacity throttles writes in the simulator; the system's store has no such limit")
			}
		case scenarios.KindTopic:
			add(c, false, "publish and delivery latencies are modelled; the system's bus takes its own time (validate --fit measures the delivery)")
		case scenarios.KindPool:
			add(c, true, "a pool has no counterpart in the system")
		}
	}
	return out
}

// tableWrites counts a function's table writes and its other calls.
func tableWrites(s *scenarios.Scenario, f *scenarios.Function) (writes, others int) {
	for _, c := range f.Calls {
		if t := s.Component(c.To); t != nil && t.Kind == scenarios.KindTable && c.Op != "read" {
			writes++
		} else {
			others++
		}
	}
	return writes, others
}

func isZeroDist(d scenarios.Dist) bool {
	switch d.Kind {
	case scenarios.DistConstant:
		return d.Value == 0
	case scenarios.DistUniform:
		return d.Max == 0
	case scenarios.DistEmpirical:
		return len(d.Percentiles) > 0 && d.Percentiles[len(d.Percentiles)-1].V == 0
	}
	return d.Kind == ""
}

func describeDist(d scenarios.Dist) string {
	switch d.Kind {
	case scenarios.DistConstant:
		return d.Value.String()
	case scenarios.DistLognormal:
		if d.Median > 0 {
			return fmt.Sprintf("lognormal, median %v", d.Median)
		}
		return fmt.Sprintf("lognormal, mean %v", d.Mean)
	case scenarios.DistExponential:
		return fmt.Sprintf("exponential, mean %v", d.Mean)
	case scenarios.DistUniform:
		return fmt.Sprintf("uniform %v–%v", d.Min, d.Max)
	}
	return string(d.Kind)
}
