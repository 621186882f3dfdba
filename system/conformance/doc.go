// Package conformance is the behaviour every pipeline backend must show, as test suites a
// backend's own tests call with a factory for fresh instances:
//
//	func TestConformance(t *testing.T) {
//		conformance.RunStoreSuite(t, func(t *testing.T) system.Store { return open(t) })
//		conformance.RunBusSuite(t, func(t *testing.T) system.Bus { return openBus(t) })
//		conformance.RunPipelineSuite(t, newStore, newBus)
//	}
//
// The store suite covers CRUD with version conflicts, cursor pagination, the idempotent
// version-conditional effect and the outbox. The bus suite covers filter routing (every
// message routed per policy), at-least-once delivery, redelivery after the visibility
// timeout, dead-lettering after max receives, batching, FIFO order per group under
// concurrent consumers with one message in flight per group, and deduplication. The
// pipeline suite runs the whole pipeline over a store and a bus: concurrency caps never
// exceeded (high-water marks taken inside the work step with atomics), every accepted
// request processed exactly once in effect or dead-lettered under random failures,
// routing by state, the outbox under publish failures, FIFO version order and graceful
// shutdown.
//
// The suites must pass reliably on a loaded machine, so no assertion depends on how fast
// the machine is: visibility timeouts are generous against the processing they cover (a
// second, where a slow database commit can take a hundred milliseconds), a time a backend
// must respect is measured from before the call that starts it (a stall of the test only
// lengthens it), and what at-least-once delivery legitimately allows after a timeout has
// expired — a stale copy processed late, an acknowledgement refused — is told apart from a
// violation rather than forbidden. Counts are asserted per request (applied once, published
// by the relay when its own publish failed), not as totals that depend on who won a race.
// Timeouts that only bound a wait are tens of milliseconds to seconds, so the suites run in
// seconds. Names are unique per test so backends sharing one broker or database do not
// collide. Optional capabilities (Releaser, Inspector) are tested when the backend has them.
package conformance
