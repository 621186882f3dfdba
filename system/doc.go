// Package system is the request pipeline of the design as running Go code: the thing the
// load harness drives to validate the simulator, and a reference implementation.
//
// A write (Pipeline.Create, Update) stores a Request through a Store, then publishes a
// Message on a Bus with the request's state as the "state" attribute. The bus's Topology
// routes each message through subscriptions with filter policies (exact match, any-of,
// exists: the SNS subset that matters) to one queue per state. Processor pools consume the
// queues under concurrency caps modelled on AWS Lambda: a shared account limit across all
// states and optional reserved concurrency per state. A processing step does configurable
// work (a service-time distribution, slept or spun on the CPU, with a failure
// probability), then applies an idempotent, version-conditional effect on the store
// (Effector.MarkProcessed), then acknowledges. An unacknowledged message reappears after
// its queue's visibility timeout; after MaxReceives it moves to the dead-letter queue. In
// FIFO mode messages of a group are delivered in order, one in flight at a time, and
// deduplicated by id within a window.
//
// Nothing accepted is lost: the store is the source of truth and doubles as the outbox
// (Outbox), so a write whose publish fails, or whose process dies before publishing, is
// published later by the pipeline's relay; the effect's idempotence absorbs the duplicates
// this at-least-once path produces.
//
// Backends are small interfaces (Store = CRUD + Effector + Outbox; Bus = Declarer +
// Publisher + Receiver + Acker) with optional capabilities as separate interfaces
// (Releaser, Inspector, Pinger, MetricsSource). They live in sub-packages
// (system/backend/memory is the embedded default) and register by name, so `headroom
// serve --store memory --bus memory` selects them; package system/conformance is the
// suite every backend must pass.
//
// Use: open backends (OpenStore/OpenBus by name, or construct them), NewPipeline with a
// PipelineConfig (zero fields are the design's defaults: four states, standard queues,
// an account limit of 1000 with 100 kept unreserved, batches of 10), Start, serve writes
// through the Pipeline (it is a CRUD), register its Collectors on the /metrics registry,
// and Shutdown with a deadline, which returns a ShutdownReport of anything left.
//
// The HTTP API, the Thrift service and `headroom serve` are built on top of this core.
// system never imports sim: both read scenarios only.
package system
