package system

import (
	"fmt"
	"time"
)

// DeadLetterQueue is the name of the pipeline's dead-letter queue; each state's queue is
// named after the state.
const DeadLetterQueue = "dead-letter"

// Defaults of PipelineConfig's zero fields.
const (
	DefaultTopic         = "requests"
	DefaultMaxReceives   = 5
	DefaultBatchSize     = 10 // Lambda's default batch size for SQS
	DefaultPollers       = 4
	DefaultRelayInterval = time.Second
	DefaultRelayGrace    = 2 * time.Second
)

// PipelineConfig is what a pipeline runs with; `headroom serve` fills it from a config
// file or from a scenario. Zero fields take the documented defaults, so the zero config
// is the design's: four states, standard queues, 1000 concurrent processors.
type PipelineConfig struct {
	// States; nil means DefaultStates.
	States States
	// Topic names the topic; "" means DefaultTopic.
	Topic string
	// FIFO switches to FIFO topic and queues: messages of one request (the group is the
	// request id) are processed in version order, one at a time, deduplicated by id:version.
	FIFO        bool
	DedupWindow time.Duration // 0: DefaultDedupWindow

	// VisibilityTimeout of every state queue; 0 means DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration
	// MaxReceives before a message is dead-lettered; 0 means DefaultMaxReceives.
	MaxReceives int

	// AccountConcurrency is the shared cap over every state's processors; 0 means
	// DefaultAccountConcurrency.
	AccountConcurrency int
	// UnreservedMin is what reservations must leave unreserved; 0 means the Lambda
	// proportion, min(100, AccountConcurrency/10).
	UnreservedMin int

	// BatchSize and BatchWindow shape each receive (Lambda's batch size and maximum
	// batching window); 0 means DefaultBatchSize and no window.
	BatchSize   int
	BatchWindow time.Duration
	// Pollers receiving from each state queue; 0 means min(DefaultPollers, the state's cap).
	Pollers int
	// Work is every state's processing step unless a processor overrides it.
	Work Work
	// CreateWork is the request handler's own work, spent on each create before the store
	// write: a scenario's synchronous request function's duration and error rate (a
	// failed step fails the create, which is not stored). The zero Work spends nothing.
	CreateWork Work

	// Processors hold per-state settings; a state without an entry takes the defaults
	// above and shares the unreserved concurrency.
	Processors []ProcessorConfig

	// RelayInterval is how often the outbox relay looks for unpublished writes, and
	// RelayGrace how old a write must be before the relay republishes it (younger ones are
	// still being published by the request that made them). 0 means the defaults.
	RelayInterval time.Duration
	RelayGrace    time.Duration
}

// ProcessorConfig is one state's processor pool.
type ProcessorConfig struct {
	State string
	// ReservedConcurrency > 0 reserves this many of the account's slots for the state and
	// caps it there; 0 shares the unreserved slots.
	ReservedConcurrency int
	// Pollers, BatchSize, BatchWindow: 0 means the pipeline's.
	Pollers     int
	BatchSize   int
	BatchWindow time.Duration
	// Work overrides the pipeline's Work when not nil.
	Work *Work
}

// withDefaults returns c with every zero field resolved, and checks it.
func (c PipelineConfig) withDefaults() (PipelineConfig, error) {
	if c.States == nil {
		c.States = DefaultStates
	}
	if err := c.States.Validate(); err != nil {
		return c, err
	}
	if c.States.Contains(DeadLetterQueue) {
		return c, fmt.Errorf("states: %q is the dead-letter queue's name: %w", DeadLetterQueue, ErrInvalid)
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.MaxReceives == 0 {
		c.MaxReceives = DefaultMaxReceives
	}
	if c.AccountConcurrency == 0 {
		c.AccountConcurrency = DefaultAccountConcurrency
	}
	if c.UnreservedMin == 0 {
		c.UnreservedMin = min(100, c.AccountConcurrency/10)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.RelayInterval == 0 {
		c.RelayInterval = DefaultRelayInterval
	}
	if c.RelayGrace == 0 {
		c.RelayGrace = DefaultRelayGrace
	}
	switch {
	case c.VisibilityTimeout < 0, c.DedupWindow < 0, c.BatchWindow < 0, c.RelayInterval < 0, c.RelayGrace < 0:
		return c, fmt.Errorf("pipeline: durations must be >= 0: %w", ErrInvalid)
	case c.MaxReceives < 0, c.BatchSize < 0, c.Pollers < 0:
		return c, fmt.Errorf("pipeline: max receives, batch size and pollers must be >= 0: %w", ErrInvalid)
	}
	if err := c.Work.Validate(); err != nil {
		return c, fmt.Errorf("pipeline: %w", err)
	}
	for i, pc := range c.Processors {
		if !c.States.Contains(pc.State) {
			return c, fmt.Errorf("processors[%d]: state %q is not configured: %w", i, pc.State, ErrInvalid)
		}
		for _, prev := range c.Processors[:i] {
			if prev.State == pc.State {
				return c, fmt.Errorf("processors[%d]: state %q configured twice: %w", i, pc.State, ErrInvalid)
			}
		}
		if pc.Pollers < 0 || pc.BatchSize < 0 || pc.BatchWindow < 0 {
			return c, fmt.Errorf("processors.%s: pollers, batch size and window must be >= 0: %w", pc.State, ErrInvalid)
		}
		if pc.Work != nil {
			if err := pc.Work.Validate(); err != nil {
				return c, fmt.Errorf("processors.%s: %w", pc.State, err)
			}
		}
	}
	if err := checkReservations(c.AccountConcurrency, c.UnreservedMin, c.Processors); err != nil {
		return c, fmt.Errorf("pipeline: %w", err)
	}
	return c, nil
}

// processor returns the state's processor settings (zero when it has none).
func (c *PipelineConfig) processor(state string) ProcessorConfig {
	for _, pc := range c.Processors {
		if pc.State == state {
			return pc
		}
	}
	return ProcessorConfig{State: state}
}

// Topology is the bus topology the pipeline declares: one queue per state, each
// subscribed with the filter state = <state>, and one dead-letter queue.
func (c PipelineConfig) Topology() (Topology, error) {
	c, err := c.withDefaults()
	if err != nil {
		return Topology{}, err
	}
	return c.topology(), nil
}

func (c *PipelineConfig) topology() Topology {
	t := Topology{Topic: c.Topic, FIFO: c.FIFO, DedupWindow: c.DedupWindow}
	for _, st := range c.States {
		t.Queues = append(t.Queues, QueueSpec{
			Name: st, VisibilityTimeout: c.VisibilityTimeout,
			MaxReceives: c.MaxReceives, DeadLetter: DeadLetterQueue,
		})
		t.Subscriptions = append(t.Subscriptions, Subscription{Queue: st, Filter: Equals(StateAttribute, st)})
	}
	t.Queues = append(t.Queues, QueueSpec{Name: DeadLetterQueue, VisibilityTimeout: c.VisibilityTimeout})
	return t
}
