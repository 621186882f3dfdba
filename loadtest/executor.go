package loadtest

import (
	"fmt"
	"math"
	"time"
)

// Arrivals says how k6's iterations become the scenario's arrivals.
type Arrivals string

const (
	// ArrivalsPoisson plays Poisson arrivals: k6 starts iterations Grid times as often as the
	// schedule says, evenly spaced as k6 does, and each iteration sends a Poisson(1/Grid)
	// number of requests at once (k6's http.batch). The counts of every interval are then
	// exactly Poisson with the schedule's mean; only within one grid slot do arrivals
	// coincide. The simulator's "poisson" arrival.
	ArrivalsPoisson Arrivals = "poisson"
	// ArrivalsUniform sends one request per iteration at k6's evenly spaced instants: the
	// simulator's "deterministic" arrival.
	ArrivalsUniform Arrivals = "uniform"
)

// DefaultGrid is the number of k6 iterations per expected arrival in Poisson mode: at 2, 61%
// of iterations send nothing and cost k6 a function call; coinciding arrivals are at most
// half a mean interarrival time apart.
const DefaultGrid = 2

// ArrivalsFor returns the arrival mode that plays a scenario's workload.arrival.
func ArrivalsFor(arrival string) Arrivals {
	if arrival == "deterministic" {
		return ArrivalsUniform
	}
	return ArrivalsPoisson
}

// Executor is the k6 scenario that plays a schedule: a ramping-arrival-rate executor whose
// iterations run the script's default function.
type Executor struct {
	Schedule Schedule
	// Grid is the number of iterations per expected arrival (1 for uniform arrivals).
	Grid float64
	// LatencyBudget is how long one iteration may take before k6 needs another VU to keep
	// the schedule: it sizes the pre-allocated VUs (default 50 ms) and MaxVUs (default 500
	// ms: iterations slower than that at the peak rate drop arrivals, which the run
	// reports as dropped_iterations; a VU costs k6 a JavaScript runtime, so not more).
	LatencyBudget, MaxLatency time.Duration
}

// K6 returns the executor as k6's scenario options (the value of options.scenarios.NAME).
// k6's rates are whole numbers of iterations per time unit, so the time unit is the
// shortest of 1 s, 10 s, 100 s and 1000 s that keeps every rate within 0.1% of the
// schedule's.
func (e Executor) K6() map[string]any {
	grid := e.Grid
	if grid <= 0 {
		grid = 1
	}
	sc := e.Schedule.Scaled(grid)
	unit := 1.0
	for _, u := range []float64{1, 10, 100, 1000} {
		unit = u
		if roundingOK(sc, u) {
			break
		}
	}
	iters := func(rps float64) int64 { return int64(math.Round(rps * unit)) }
	stages := make([]map[string]any, 0, len(sc.Stages))
	for _, st := range sc.Stages {
		stages = append(stages, map[string]any{"duration": k6Duration(st.Duration), "target": iters(st.TargetRPS)})
	}
	budget, maxLat := e.LatencyBudget, e.MaxLatency
	if budget <= 0 {
		budget = 50 * time.Millisecond
	}
	if maxLat <= 0 {
		maxLat = 500 * time.Millisecond
	}
	peak := sc.PeakRPS()
	pre := int64(math.Ceil(peak*budget.Seconds())) + 10
	maxVUs := max(pre, int64(math.Ceil(peak*maxLat.Seconds()))+20)
	return map[string]any{
		"executor":        "ramping-arrival-rate",
		"startRate":       iters(sc.StartRPS),
		"timeUnit":        k6Duration(time.Duration(unit) * time.Second),
		"stages":          stages,
		"preAllocatedVUs": pre,
		"maxVUs":          maxVUs,
		// Iterations in flight at the end get a moment to finish, not k6's 30 s: the
		// measurement ends with the schedule.
		"gracefulStop": "5s",
	}
}

func roundingOK(s Schedule, unit float64) bool {
	ok := func(r float64) bool {
		if r == 0 {
			return true
		}
		x := r * unit
		return math.Abs(math.Round(x)-x) <= 0.001*x
	}
	if !ok(s.StartRPS) {
		return false
	}
	for _, st := range s.Stages {
		if !ok(st.TargetRPS) {
			return false
		}
	}
	return true
}

// k6Duration writes d the way k6 reads durations: whole milliseconds.
func k6Duration(d time.Duration) string {
	return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
}
