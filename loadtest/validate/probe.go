package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/system"
)

// Probe times a system's processing steps from the inside: it wraps each state's work step
// (the one the pipeline would run, built from the same configuration) and records, in
// histograms whose buckets are 5% apart, the time from a write's acceptance to the step's
// start (pickup: the bus's delivery and any wait for a slot), the step itself (service),
// and acceptance to the step's end (end to end, on success). It adds only the cost of
// reading a clock and parsing the message's acceptance time.
//
// It lives in the validate loop, not in the system: the system's own end-to-end histogram
// stays what production would run, and the probe is registered beside it on /metrics only
// when a validation runs the system in-process.
type Probe struct {
	steps                 map[string]system.WorkFunc
	e2e, service, pickup  *prometheus.HistogramVec
	e2eObs, svcObs, pkObs map[string]prometheus.Observer

	// processed keeps every successful step, for the join with the client's journal;
	// effectEnd when each write's effect was applied, effects how long every effect took
	// (the timed store reports them).
	mu        sync.Mutex
	processed []loadtest.Processed
	effectEnd map[string]int64
	effects   []time.Duration
}

// NewProbe builds the probe for a pipeline configured by cfg.
func NewProbe(cfg system.PipelineConfig) (*Probe, error) {
	buckets := loadtest.ProbeBuckets()
	hist := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"state"})
	}
	p := &Probe{
		steps:   map[string]system.WorkFunc{},
		e2e:     hist(loadtest.MetricProbeEndToEnd, "Validation probe: from a write's acceptance to the end of its processing step, by state."),
		service: hist(loadtest.MetricProbeService, "Validation probe: the processing step's own duration, by state."),
		pickup:  hist(loadtest.MetricProbePickup, "Validation probe: from a write's acceptance to the start of its processing step, by state."),
		e2eObs:  map[string]prometheus.Observer{}, svcObs: map[string]prometheus.Observer{}, pkObs: map[string]prometheus.Observer{},
		effectEnd: map[string]int64{},
	}
	states := cfg.States
	if states == nil {
		states = system.DefaultStates
	}
	for _, st := range states {
		w := cfg.Work
		for _, pc := range cfg.Processors {
			if pc.State == st && pc.Work != nil {
				w = *pc.Work
			}
		}
		step, err := system.NewWorkStep(w)
		if err != nil {
			return nil, fmt.Errorf("probe: state %s: %w", st, err)
		}
		p.steps[st] = step
		p.e2eObs[st] = p.e2e.WithLabelValues(st)
		p.svcObs[st] = p.service.WithLabelValues(st)
		p.pkObs[st] = p.pickup.WithLabelValues(st)
	}
	return p, nil
}

// Collectors are the probe's histograms, for the server's registry.
func (p *Probe) Collectors() []prometheus.Collector {
	return []prometheus.Collector{p.e2e, p.service, p.pickup}
}

// WorkFunc is the instrumented step, for system.WithWorkFunc.
func (p *Probe) WorkFunc() system.WorkFunc {
	return func(ctx context.Context, state string, d *system.Delivery) error {
		step, ok := p.steps[state]
		if !ok {
			return fmt.Errorf("probe: no work step for state %q", state)
		}
		start := time.Now()
		err := step(ctx, state, d)
		end := time.Now()
		p.svcObs[state].Observe(end.Sub(start).Seconds())
		if ref, ok := parseRef(d.Body); ok {
			at := time.Unix(0, ref.AcceptedNs)
			p.pkObs[state].Observe(max(0, start.Sub(at).Seconds()))
			if err == nil {
				p.e2eObs[state].Observe(max(0, end.Sub(at).Seconds()))
				p.mu.Lock()
				p.processed = append(p.processed, loadtest.Processed{ID: ref.ID, Version: ref.Version, State: state,
					StartNs: start.UnixNano(), StepEndNs: end.UnixNano(), EndNs: end.UnixNano()})
				p.mu.Unlock()
			}
		}
		return err
	}
}

// Processed returns the successful steps so far, each ending when its effect was applied
// where the timed store saw it.
func (p *Probe) Processed() []loadtest.Processed {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]loadtest.Processed(nil), p.processed...)
	for i := range out {
		if e, ok := p.effectEnd[effectKey(out[i].ID, out[i].Version)]; ok && e > out[i].EndNs {
			out[i].EndNs = e
		}
	}
	return out
}

// effect records one processing effect (the timed store's MarkProcessed).
func (p *Probe) effect(id string, version int64, applied bool, start, end time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.effects = append(p.effects, end.Sub(start))
	if applied {
		p.effectEnd[effectKey(id, version)] = end.UnixNano()
	}
}

// Effects returns how long each processing effect took.
func (p *Probe) Effects() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.effects...)
}

// messageRef is what a pipeline message says (system/message.go):
// {"id":…,"version":…,"accepted_ns":…}.
type messageRef struct {
	ID         string `json:"id"`
	Version    int64  `json:"version"`
	AcceptedNs int64  `json:"accepted_ns"`
}

func parseRef(body []byte) (messageRef, bool) {
	var ref messageRef
	if json.Unmarshal(body, &ref) != nil || ref.AcceptedNs <= 0 || ref.ID == "" {
		return messageRef{}, false
	}
	return ref, true
}
