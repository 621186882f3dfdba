// Package rabbitmq is a system.Bus on RabbitMQ (github.com/rabbitmq/amqp091-go), the
// messaging of the design's second architecture. It registers itself as "rabbitmq"; the
// DSN is an AMQP URI (default amqp://guest:guest@127.0.0.1:5672/). It needs RabbitMQ 3.10
// or later (quorum queues with at-least-once dead-lettering) and no plugin.
//
// Topology. The topic is a durable headers exchange named after it; each queue is a
// durable quorum queue "<topic>.<queue>" (replicated, fsynced, and counting deliveries).
// A subscription's filter policy becomes bindings with x-match=all: bindings between an
// exchange and a queue are alternatives, so the policy (an AND of conditions, each an OR
// of values) is bound as its disjunctive normal form, one binding per combination of
// any-of values (at most 1024). Exists=true binds the attribute with a void value, which
// a headers exchange matches on presence alone. A headers exchange cannot match absence,
// so for exists=false the publisher adds a void "hr-absent:<attribute>" header to every
// message lacking an attribute that some policy requires absent, and the binding matches
// that marker. Attribute names may not start with "x-" (the exchange ignores such binding
// keys) or "hr-absent:". A message matching no binding is dropped, as SNS does. Declaring
// is idempotent on the broker; bindings of an older policy are not removed.
//
// Publishing waits for the publisher confirm, which a quorum queue sends once the message
// is on disk. Attributes travel as string headers with their order in x-hr-attrs, the
// publish time in x-hr-sent (nanoseconds; AMQP's timestamp has seconds only).
//
// Visibility timeout. AMQP has none: an unacknowledged delivery stays with its channel
// until acked, rejected or the channel closes (the broker's consumer_timeout, 30 minutes by
// default, closes channels that hold one longer, so visibility timeouts must stay below
// it). The bus keeps it on the consumer side: each delivery it hands out gets a timer, and
// one not acked in time is nacked with requeue. Acks and releases check the timer first, so
// a late ack fails with ErrNotFound instead of acking a delivery tag the broker no longer
// knows (which would close the channel). A receipt is "<channel id>.<delivery tag>": when
// the channel or connection dies, the broker requeues everything on it (at once rather
// than after the timeout) and the receipts stop resolving. Release is a nack with requeue,
// at once or after the delay, the delivery staying hidden on the channel until then.
//
// Receiving. A message leaves the broker only for a receiver that takes it at once. A
// standard-mode Receive takes what is available with basic.get, up to the batch size (a
// get-empty says exactly when nothing is); on an empty queue it long-polls with a consumer
// of prefetch one and cancels it once that one message came, when its credit is spent,
// then tops the batch up with gets; with a batching window it repeats the gets every 5 ms
// until the window ends. Two designs were rejected: a consumer per Receive with the batch
// as prefetch, cancelled afterwards, lets a delivery in flight meet the cancelled
// consumer, and the quorum queue counts that as a return, so messages trickling in while
// receivers poll reached the dead-letter queue without anyone seeing them (the test
// TestNoPhantomReceives caught it); a long-lived consumer would hold up to its prefetch
// hidden from every other receiver with no visibility timeout running. Concurrent
// receives of a queue each take a channel from a pool (at most 8), so their round trips,
// each a Raft command of the quorum queue, overlap and share its log writes; a channel's
// synchronous methods are serialized, since the library can swap concurrent replies.
// Only a receive whose context ends while its long poll is out can still have a message
// counted without being seen.
//
// Dead letters. A queue with MaxReceives has x-delivery-limit MaxReceives-1 (the quorum
// queue counts returns; the first delivery is 0) and dead-letters, with the at-least-once
// strategy, to the default exchange keyed by the dead-letter queue's name: the source
// keeps the message until the dead-letter queue has confirmed it, so a crash while
// dead-lettering loses nothing. ReceiveCount is x-delivery-count+1 on a redelivery and 1
// on a first delivery (dead-lettering copies the source's count along).
//
// FIFO. Consumers sharing a queue interleave a group's messages, and a quorum queue puts a
// nacked message at the back (RabbitMQ 3.10), so a FIFO queue is split into shards (FIFOShards, 8 by default): a direct exchange
// "<topic>.<queue>", bound to the topic with the policy, routes by a routing key that the
// publisher sets to hash(group) mod shards, to quorum queues "<topic>.<queue>.<k>" with
// single active consumer. The bus consumes every shard with a prefetch of one, so across
// every process at most one message per shard, hence per group, is out of the broker, and
// a group's messages come in publish order. A FIFO delivery whose timeout ends is not
// returned to the broker (which would reorder it) but made ready again in the process,
// ahead of everything its shard has not delivered, with the receive count kept there; after
// MaxReceives it is rejected and dead-lettered to the dead-letter queue's shard of the same
// index. Deduplication: RabbitMQ has none, so the publisher skips an id it published
// within the window (topic-wide, this process), and each shard's consumer drops a message
// whose id another message carried within the window (measured in publish times).
//
// Gaps against the interface, all FIFO-only: groups in one shard share its one slot, so at
// most FIFOShards groups are in flight at once; deduplication across processes holds per
// shard (ids repeated in the same group, the retry case) and only while the shard's active
// consumer lives, since its memory is the window; and a shard consumer may hold one
// message it has not handed out (hidden from other processes until this bus receives it
// or closes), which closing the bus returns to the queue with a delivery counted by the
// broker (so the next receive reports one more than happened; the
// shard queues' delivery limit is MaxReceives, one above standard queues, so such counts
// never dead-letter a message the bus did not time out itself). QueueStats' InFlight is
// this process's only: AMQP reports no unacknowledged count.
package rabbitmq
