// Package validate closes the loop between the simulator and the system: for one scenario
// it derives the version that fits this machine (loadtest.Derive: limits and rates scaled by
// one factor, service times kept, the horizon played in bounded time), predicts it with the
// simulator (independent replications, 95% confidence intervals), starts the system
// configured from the same scaled scenario, plays the scenario's workload against it with
// k6, and holds the measurement against the prediction figure by figure
// (loadtest.Compare). Run returns the comparison; `headroom validate` prints it and exits
// non-zero when a figure is outside its tolerance.
//
// Calibration (Options.Fit) first measures, under light load, what the implementation
// takes that the scenario can only assume — the API's latency, the bus's delivery, the
// processing step's actual duration — writes it into a scenario override (a YAML file that
// extends the scenario) and predicts again with it, reporting how much the errors moved.
//
// The system runs in this process, so that a probe can time each processing step from
// the inside (Probe): the end-to-end histogram the system exports has buckets too coarse
// for a 10% bound on a median. Time-compressed profiles are predicted on a dilated clock
// (dilate.go).
package validate
