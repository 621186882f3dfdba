package system

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PipelineStats is a snapshot of the pipeline's counters, the same figures /metrics
// exports, for tests and for the end-of-run report.
type PipelineStats struct {
	// Accepted counts writes stored (creates and updates); PublishFailures those whose
	// first publish failed and were left to the outbox relay; Republished the relay's
	// successful publishes; RelayErrors its failed attempts.
	Accepted, PublishFailures, Republished, RelayErrors int64
	// AccountLimit is the shared cap; InFlight and HighWater are invocations running now
	// and at most, across every state.
	AccountLimit        int
	InFlight, HighWater int64
	Pools               []PoolStats
	States              []StateStats
}

// PoolStats is one concurrency pool: a reserved state's, or the shared unreserved one.
type PoolStats struct {
	Name                string
	Limit               int
	InFlight, HighWater int64
}

// StateStats is one state's processors.
type StateStats struct {
	State string
	// Reserved is the state's reserved concurrency (0: it shares the unreserved pool);
	// Limit is the cap that applies to it.
	Reserved, Limit     int
	InFlight, HighWater int64
	// Received messages; the outcome of each processed one (Applied, Duplicate,
	// Superseded, Gone); Failed steps, EffectErrors (the store failed), Malformed bodies.
	Received, Applied, Duplicates, Superseded, Gone int64
	Failed, EffectErrors, Malformed                 int64
	// Redelivered counts deliveries with a receive count above 1; Throttles the batches
	// that found no free slot and had to wait.
	Redelivered, Throttles   int64
	ReceiveErrors, AckErrors int64
}

// Stats returns a snapshot of the counters.
func (p *Pipeline) Stats() PipelineStats {
	s := PipelineStats{
		Accepted: p.accepted.Load(), PublishFailures: p.publishFailures.Load(),
		Republished: p.republished.Load(), RelayErrors: p.relayErrors.Load(),
		AccountLimit: p.cfg.AccountConcurrency, InFlight: p.inflight.Load(), HighWater: p.high.Load(),
	}
	for _, pool := range p.pools {
		s.Pools = append(s.Pools, PoolStats{Name: pool.name, Limit: pool.size(),
			InFlight: pool.inflight.Load(), HighWater: pool.high.Load()})
	}
	for _, sp := range p.states {
		s.States = append(s.States, StateStats{
			State: sp.state, Reserved: sp.reserved, Limit: sp.pool.size(),
			InFlight: sp.inflight.Load(), HighWater: sp.high.Load(),
			Received: sp.received.Load(), Applied: sp.applied.Load(), Duplicates: sp.duplicates.Load(),
			Superseded: sp.superseded.Load(), Gone: sp.gone.Load(),
			Failed: sp.failed.Load(), EffectErrors: sp.effectErrors.Load(), Malformed: sp.malformed.Load(),
			Redelivered: sp.redelivered.Load(), Throttles: sp.throttles.Load(),
			ReceiveErrors: sp.receiveErrors.Load(), AckErrors: sp.ackErrors.Load(),
		})
	}
	return s
}

// Collectors implements MetricsSource: the pipeline's series, then the store's and the
// bus's own when they have any. Register them all on the registry /metrics serves.
func (p *Pipeline) Collectors() []prometheus.Collector {
	cs := []prometheus.Collector{pipelineCollector{p}, p.latency}
	for _, b := range []any{p.store, p.bus} {
		if ms, ok := b.(MetricsSource); ok {
			cs = append(cs, ms.Collectors()...)
		}
	}
	return cs
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("headroom_"+name, help, labels, nil)
}

var (
	descAccepted        = desc("pipeline_accepted_total", "Writes stored and accepted (creates and updates).")
	descPublishFailures = desc("pipeline_publish_failures_total", "Accepted writes whose publish failed; the outbox relay publishes them later.")
	descRepublished     = desc("pipeline_republished_total", "Writes published by the outbox relay.")
	descRelayErrors     = desc("pipeline_relay_errors_total", "Failed outbox relay attempts.")
	descAccountLimit    = desc("account_concurrency_limit", "Shared concurrency cap over all states (the account limit).")
	descAccountInFlight = desc("account_concurrency_inflight", "Invocations running now, all states.")
	descAccountHigh     = desc("account_concurrency_high_water", "Most invocations ever running at once, all states.")
	descPoolLimit       = desc("pool_concurrency_limit", "Concurrency cap of a pool (a reserved state, or the unreserved pool).", "pool")
	descPoolInFlight    = desc("pool_concurrency_inflight", "Invocations running now in a pool.", "pool")
	descPoolHigh        = desc("pool_concurrency_high_water", "Most invocations ever running at once in a pool.", "pool")
	descStateLimit      = desc("processor_concurrency_limit", "Concurrency cap that applies to a state's processors.", "state")
	descStateReserved   = desc("processor_reserved_concurrency", "Reserved concurrency of a state (0: shares the unreserved pool).", "state")
	descStateInFlight   = desc("processor_inflight", "A state's invocations running now.", "state")
	descStateHigh       = desc("processor_concurrency_high_water", "Most invocations of a state ever running at once.", "state")
	descMessages        = desc("processor_messages_total", "Messages processed, by state and outcome (applied, duplicate, superseded, gone, failed, effect_error, malformed).", "state", "outcome")
	descReceived        = desc("processor_received_total", "Messages received by a state's pollers.", "state")
	descRedelivered     = desc("processor_redelivered_total", "Deliveries with a receive count above 1.", "state")
	descThrottles       = desc("processor_throttles_total", "Batches that found the concurrency cap reached and had to wait.", "state")
	descErrors          = desc("processor_bus_errors_total", "Failed receives and acknowledgements, by state and operation.", "state", "op")
	descQueueVisible    = desc("queue_visible_messages", "Messages waiting in a queue.", "queue")
	descQueueInFlight   = desc("queue_inflight_messages", "Messages received from a queue and not yet acknowledged or timed out.", "queue")
	descDeadLettered    = desc("dead_lettered_messages", "Messages in the dead-letter queue.")
)

type pipelineCollector struct{ p *Pipeline }

func (c pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAccepted, descPublishFailures, descRepublished, descRelayErrors,
		descAccountLimit, descAccountInFlight, descAccountHigh, descPoolLimit, descPoolInFlight, descPoolHigh,
		descStateLimit, descStateReserved, descStateInFlight, descStateHigh, descMessages, descReceived,
		descRedelivered, descThrottles, descErrors, descQueueVisible, descQueueInFlight, descDeadLettered} {
		ch <- d
	}
}

func (c pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter(descAccepted, s.Accepted)
	counter(descPublishFailures, s.PublishFailures)
	counter(descRepublished, s.Republished)
	counter(descRelayErrors, s.RelayErrors)
	gauge(descAccountLimit, int64(s.AccountLimit))
	gauge(descAccountInFlight, s.InFlight)
	gauge(descAccountHigh, s.HighWater)
	for _, ps := range s.Pools {
		gauge(descPoolLimit, int64(ps.Limit), ps.Name)
		gauge(descPoolInFlight, ps.InFlight, ps.Name)
		gauge(descPoolHigh, ps.HighWater, ps.Name)
	}
	for _, st := range s.States {
		gauge(descStateLimit, int64(st.Limit), st.State)
		gauge(descStateReserved, int64(st.Reserved), st.State)
		gauge(descStateInFlight, st.InFlight, st.State)
		gauge(descStateHigh, st.HighWater, st.State)
		counter(descMessages, st.Applied, st.State, "applied")
		counter(descMessages, st.Duplicates, st.State, "duplicate")
		counter(descMessages, st.Superseded, st.State, "superseded")
		counter(descMessages, st.Gone, st.State, "gone")
		counter(descMessages, st.Failed, st.State, "failed")
		counter(descMessages, st.EffectErrors, st.State, "effect_error")
		counter(descMessages, st.Malformed, st.State, "malformed")
		counter(descReceived, st.Received, st.State)
		counter(descRedelivered, st.Redelivered, st.State)
		counter(descThrottles, st.Throttles, st.State)
		counter(descErrors, st.ReceiveErrors, st.State, "receive")
		counter(descErrors, st.AckErrors, st.State, "ack")
	}
	insp, ok := c.p.bus.(Inspector)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, q := range c.p.topo.Queues {
		qs, err := insp.QueueStats(ctx, q.Name)
		if err != nil {
			continue
		}
		gauge(descQueueVisible, qs.Visible, q.Name)
		gauge(descQueueInFlight, qs.InFlight, q.Name)
		if q.Name == DeadLetterQueue {
			gauge(descDeadLettered, qs.Visible+qs.InFlight)
		}
	}
}
