// Package loadtest plays a scenario's workload against the real system and turns what it
// measures into a result of Headroom's one schema, marked measured, so that it can be held
// against the simulator's prediction of the same scenario.
//
// It is the k6-independent core of the load harness: the arrival schedule (Schedule: a
// scenario's arrival profile as k6 ramping-arrival-rate stages, scaled and time-compressed),
// the request generator (Generator: the workload's state mix, payloads and the ids a CRUD
// mix reads, updates and deletes), the SLOs as k6 thresholds, the generated k6 script, the
// reading of the system's /metrics (Scrape), the measured result (Recorder), the
// comparison of a prediction with a measurement under tolerances (Compare), and the
// plumbing to find or build the k6 binary, run it and emit a k6-operator TestRun for loads
// larger than one machine.
//
// The k6 extensions themselves (the JS module k6/x/headroom and the output headroom) are in
// package loadtest/k6ext, which cmd/k6 compiles into k6; the validate loop, which also runs
// the simulator and the system, is in package loadtest/validate. This package imports
// neither sim nor system: the k6 binary stays free of them, and both sides read only the
// scenario.
//
// How the simulator's components map onto the system the load runs against, and where
// their semantics differ, is in Bindings (bindings.go).
package loadtest
