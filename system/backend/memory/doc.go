// Package memory is the embedded backend of the pipeline: a Store and a Bus that live in
// the process, registered as "memory" for both --store and --bus. It is the default and
// the benchmark target, so it is built for concurrency rather than simplicity: the store
// is sharded by id with a lock per shard, the bus has a lock per queue, receivers wait on
// per-waiter channels (no polling, no goroutine per message), and visibility deadlines are
// served by one timer per queue over a deadline-ordered list (the visibility timeout is
// constant per queue, so receive order is deadline order).
//
// Nothing survives the process: the pipeline's outbox still protects against a failed
// publish, but a crash loses everything. Use a durable backend when that matters.
package memory
