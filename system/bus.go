package system

import (
	"context"
	"fmt"
	"time"
)

// StateAttribute is the message attribute that carries a request's state; the per-state
// subscriptions filter on it.
const StateAttribute = "state"

// Attr is one message attribute (SNS MessageAttributes, AMQP headers, NATS headers).
type Attr struct {
	Name, Value string
}

// Attributes are a message's attributes. A slice rather than a map: messages carry one or
// two attributes, so a scan beats hashing and the order is deterministic.
type Attributes []Attr

// Get returns the value of the attribute named name and whether it is present.
func (a Attributes) Get(name string) (string, bool) {
	for _, at := range a {
		if at.Name == name {
			return at.Value, true
		}
	}
	return "", false
}

// Message is what is published on the bus.
type Message struct {
	Body       []byte
	Attributes Attributes
	// GroupID orders messages in FIFO mode: messages of one group are delivered in publish
	// order, one at a time. Required in FIFO mode, ignored in standard mode.
	GroupID string
	// DedupID deduplicates in FIFO mode: a message whose DedupID was published within the
	// topology's DedupWindow is accepted but not delivered again. Ignored in standard mode.
	DedupID string
}

// Delivery is a received message.
type Delivery struct {
	Message
	Queue string
	// Receipt identifies this delivery to Ack (an SQS receipt handle, an AMQP delivery tag,
	// a JetStream reply subject). It is opaque and valid until the visibility timeout ends.
	Receipt string
	// ReceiveCount is how many times the message has been delivered, this time included
	// (1 on the first delivery).
	ReceiveCount int
	// SentAt is when the message was published.
	SentAt time.Time
}

// Topology is the topic, its queues and the subscriptions between them: SNS topic →
// filtered subscriptions → SQS queues (with redrive to a dead-letter queue); in RabbitMQ a
// headers exchange with bindings; in JetStream a stream with subjects per queue.
type Topology struct {
	// Topic names the topic, exchange or stream.
	Topic string
	// FIFO switches the topic and every queue to FIFO mode: per-group order, one in-flight
	// message per group, deduplication.
	FIFO bool
	// DedupWindow is the FIFO deduplication interval; 0 means DefaultDedupWindow.
	DedupWindow time.Duration
	// Queues in declaration order; dead-letter queues are queues too.
	Queues []QueueSpec
	// Subscriptions route published messages to queues: a message goes to every queue whose
	// filter it matches, and is dropped when it matches none (as SNS does).
	Subscriptions []Subscription
}

// DefaultDedupWindow is SQS FIFO's deduplication interval.
const DefaultDedupWindow = 5 * time.Minute

// DefaultVisibilityTimeout is SQS's default visibility timeout.
const DefaultVisibilityTimeout = 30 * time.Second

// QueueSpec is one queue.
type QueueSpec struct {
	Name string
	// VisibilityTimeout is how long a received message stays hidden before it is delivered
	// again unless acknowledged; 0 means DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration
	// MaxReceives > 0 delivers a message at most that many times: when its visibility
	// timeout ends after the last allowed receive, it moves to DeadLetter (SQS
	// maxReceiveCount). 0 redelivers forever.
	MaxReceives int
	// DeadLetter names the queue (in the same topology) that takes messages received
	// MaxReceives times; required when MaxReceives > 0.
	DeadLetter string
}

// Subscription routes messages matching Filter to Queue.
type Subscription struct {
	Queue  string
	Filter FilterPolicy
}

// Queue returns the queue named name, or nil.
func (t *Topology) Queue(name string) *QueueSpec {
	for i := range t.Queues {
		if t.Queues[i].Name == name {
			return &t.Queues[i]
		}
	}
	return nil
}

// Validate checks names, references and policies; errors wrap ErrInvalid.
func (t *Topology) Validate() error {
	if err := validateName(t.Topic); err != nil {
		return fmt.Errorf("topology: topic: %w", err)
	}
	if t.DedupWindow < 0 {
		return fmt.Errorf("topology %s: dedup window %v must be >= 0: %w", t.Topic, t.DedupWindow, ErrInvalid)
	}
	if len(t.Queues) == 0 {
		return fmt.Errorf("topology %s: no queues: %w", t.Topic, ErrInvalid)
	}
	for i, q := range t.Queues {
		if err := validateName(q.Name); err != nil {
			return fmt.Errorf("topology %s: queues[%d]: %w", t.Topic, i, err)
		}
		for _, p := range t.Queues[:i] {
			if p.Name == q.Name {
				return fmt.Errorf("topology %s: queue %q declared twice: %w", t.Topic, q.Name, ErrInvalid)
			}
		}
		if q.VisibilityTimeout < 0 || q.MaxReceives < 0 {
			return fmt.Errorf("topology %s: queue %s: visibility timeout and max receives must be >= 0: %w",
				t.Topic, q.Name, ErrInvalid)
		}
		if q.MaxReceives > 0 && q.DeadLetter == "" {
			return fmt.Errorf("topology %s: queue %s: max receives %d needs a dead-letter queue: %w",
				t.Topic, q.Name, q.MaxReceives, ErrInvalid)
		}
		if q.DeadLetter != "" && (t.Queue(q.DeadLetter) == nil || q.DeadLetter == q.Name) {
			return fmt.Errorf("topology %s: queue %s: dead-letter queue %q is not another declared queue: %w",
				t.Topic, q.Name, q.DeadLetter, ErrInvalid)
		}
	}
	for i, s := range t.Subscriptions {
		if t.Queue(s.Queue) == nil {
			return fmt.Errorf("topology %s: subscriptions[%d]: queue %q is not declared: %w",
				t.Topic, i, s.Queue, ErrInvalid)
		}
		if err := s.Filter.Validate(); err != nil {
			return fmt.Errorf("topology %s: subscriptions[%d] (%s): %w", t.Topic, i, s.Queue, err)
		}
	}
	return nil
}

// Declarer creates a topology.
type Declarer interface {
	// Declare creates the topic, queues and subscriptions of t, or checks that they exist
	// as specified; it is idempotent, so every process of a deployment may call it at start.
	// A bus hosts one topology: Publish goes to its topic. Queue names are scoped to the
	// topology: a backend whose brokers share one namespace (SQS, RabbitMQ, JetStream)
	// qualifies them with the topic, so two pipelines with states of the same names do
	// not share queues.
	Declare(ctx context.Context, t Topology) error
}

// Publisher publishes to the declared topic.
type Publisher interface {
	// Publish routes m to every subscribed queue whose filter matches its attributes. When
	// it returns nil the message is durable as far as the backend is (the broker confirmed
	// it); on error it may or may not have been delivered. The bus may keep m.Body and
	// m.Attributes after Publish returns (the embedded bus does, to avoid a copy), so the
	// caller must not modify them afterwards. In FIFO mode m.GroupID must be set.
	Publish(ctx context.Context, m Message) error
}

// ReceiveOptions shape one Receive.
type ReceiveOptions struct {
	// Max is the largest batch (SQS MaxNumberOfMessages, AMQP prefetch); <= 0 means 1.
	Max int
	// Window: after the first message, keep collecting for up to Window until Max are in
	// hand (Lambda's MaximumBatchingWindow). 0 returns what is available at once.
	Window time.Duration
}

// Receiver takes messages off a queue.
type Receiver interface {
	// Receive blocks until at least one message of queue is visible (long polling), then
	// appends up to opt.Max deliveries to dst and returns it. Each returned message is
	// hidden from other receivers for the queue's visibility timeout. When ctx ends before
	// a message arrives it returns dst and ctx.Err(); a closed bus returns ErrClosed; an
	// undeclared queue ErrNotFound. In FIFO mode a message is returned only when no earlier
	// message of its group is in flight, so at most one message per group is in flight.
	Receive(ctx context.Context, queue string, opt ReceiveOptions, dst []Delivery) ([]Delivery, error)
}

// Acker acknowledges processed messages.
type Acker interface {
	// Ack deletes the delivered messages for good. A receipt whose visibility timeout has
	// already ended may fail with an error wrapping ErrNotFound; the message may then be
	// delivered again (at-least-once), which is why processing is idempotent. Ack acts on
	// every receipt it can and returns the first error.
	Ack(ctx context.Context, queue string, receipts ...string) error
}

// Bus is a publish/subscribe backend. Optional capabilities: Releaser, Inspector,
// Pinger, io.Closer, MetricsSource.
type Bus interface {
	Declarer
	Publisher
	Receiver
	Acker
}

// Releaser is an optional capability: make a received message visible again after delay
// instead of at the end of its visibility timeout (SQS ChangeMessageVisibility, AMQP nack
// with requeue, JetStream NakWithDelay). The release counts as a receive for MaxReceives.
type Releaser interface {
	Release(ctx context.Context, queue, receipt string, delay time.Duration) error
}

// QueueStats is a snapshot of one queue.
type QueueStats struct {
	Visible  int64 // waiting to be received
	InFlight int64 // received, neither acknowledged nor timed out
}

// Inspector is an optional capability: queue depths for metrics and for draining.
type Inspector interface {
	QueueStats(ctx context.Context, queue string) (QueueStats, error)
}
