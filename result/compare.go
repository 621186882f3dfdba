package result

// Schemas of the comparison and breakpoint documents.
const (
	CompareSchema    = "headroom/compare/v1"
	BreakpointSchema = "headroom/breakpoint/v1"
)

// Comparison is several scenarios run with common random numbers (the same seed, and
// random streams per component name), side by side. Results hold each scenario's full
// result in the one result schema; Rows the figures a comparison table shows.
type Comparison struct {
	Schema  string          `json:"schema"`
	Rows    []ComparisonRow `json:"rows"`
	Results []*Result       `json:"results"`
	// Breakpoints are parallel to Results when the comparison searched for them.
	Breakpoints []*Breakpoint `json:"breakpoints,omitempty"`
	Timing      Timing        `json:"timing"`
}

// ComparisonRow is one scenario's line of a comparison.
type ComparisonRow struct {
	Scenario     string  `json:"scenario"`
	Offered      int64   `json:"offered"`
	Completed    int64   `json:"completed"`
	OfferedRPS   float64 `json:"offered_rps"`
	CompletedRPS float64 `json:"completed_rps"`
	PeakRPS      float64 `json:"peak_offered_rps"`
	APIP50MS     float64 `json:"api_p50_ms"`
	APIP99MS     float64 `json:"api_p99_ms"`
	E2EP50MS     float64 `json:"end_to_end_p50_ms"`
	E2EP99MS     float64 `json:"end_to_end_p99_ms"`
	// ThrottleRatio is the largest share of a component's offered work refused by a
	// throttle, ThrottledComponent that component; ErrorRatio the share of requests that
	// ended in an error (rejected or failed).
	ThrottleRatio      float64 `json:"throttle_ratio"`
	ThrottledComponent string  `json:"throttled_component,omitempty"`
	ErrorRatio         float64 `json:"error_ratio"`
	MaxQueueAgeMS      float64 `json:"max_queue_age_ms"`
	ColdStarts         int64   `json:"cold_starts"`
	// Peak concurrency of the component closest to its limit, and that limit.
	PeakConcurrency      int64   `json:"peak_concurrency"`
	ConcurrencyLimit     int64   `json:"concurrency_limit,omitempty"`
	ConcurrencyComponent string  `json:"concurrency_component,omitempty"`
	MonthlyUSD           float64 `json:"monthly_usd"`
	PerMillionUSD        float64 `json:"per_million_usd"`
	// FirstBreak is what breaks first (nil when no limit bound).
	FirstBreak *Break `json:"first_break,omitempty"`
	// With a breakpoint search: the largest load meeting the SLOs (users, or rate_rps
	// for a rate-based workload), the SLO that binds above it, the estimated monthly cost
	// at that load.
	MaxLoad         float64       `json:"max_load,omitempty"`
	LoadVariable    string        `json:"load_variable,omitempty"`
	BreakpointNote  string        `json:"breakpoint_note,omitempty"`
	BindingSLO      string        `json:"binding_slo,omitempty"`
	MonthlyUSDAtMax float64       `json:"monthly_usd_at_max,omitempty"`
	Claims          []ClaimResult `json:"claims,omitempty"`
}

// Breakpoint is the outcome of a search for the largest load that meets every SLO.
type Breakpoint struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	// Variable is what was searched over: "users" or "rate_rps".
	Variable string  `json:"variable"`
	Nominal  float64 `json:"nominal"`
	// Status is "found" (MaxLoad passes, FailLoad fails, within Tolerance), "below_range"
	// (even the smallest load probed fails) or "above_range" (the largest load probed
	// still passes).
	Status    string  `json:"status"`
	MaxLoad   float64 `json:"max_load"`
	FailLoad  float64 `json:"fail_load,omitempty"`
	Ratio     float64 `json:"ratio"` // MaxLoad / Nominal
	Tolerance float64 `json:"tolerance"`
	// Method says how each probe was run (its window, warm-up and start state).
	Method string `json:"method"`
	// Start is where the search started, and why.
	Start *SearchStart `json:"start,omitempty"`
	SLOs  []SLOResult  `json:"slos"` // at MaxLoad
	// Binding is the SLO that fails at FailLoad (the first that fails, in the order given).
	Binding *SLOResult `json:"binding,omitempty"`
	// FirstBreak is the first limit that bound at MaxLoad, and at FailLoad.
	FirstBreak       *Break `json:"first_break,omitempty"`
	FirstBreakAtFail *Break `json:"first_break_at_fail,omitempty"`
	// MonthlyUSD estimates the monthly cost at MaxLoad (see CostNote).
	MonthlyUSD float64 `json:"monthly_usd,omitempty"`
	CostNote   string  `json:"cost_note,omitempty"`
	Probes     []Probe `json:"probes"`
	Timing     Timing  `json:"timing"`
}

// SearchStart is where a breakpoint search started: the load of its first probe, how far
// either side of it the first steps went (a fraction; 0 without an estimate, when the
// search steps by factors of 2), and the evidence for it.
type SearchStart struct {
	Load   float64 `json:"load"`
	Spread float64 `json:"spread"`
	Basis  string  `json:"basis"`
}

// SLOResult is one SLO evaluated on one result.
type SLOResult struct {
	SLO    string  `json:"slo"`
	Value  float64 `json:"value"`
	Passed bool    `json:"passed"`
	Detail string  `json:"detail,omitempty"`
}

// Probe is one simulation of the search.
type Probe struct {
	Load   float64  `json:"load"`
	Passed bool     `json:"passed"`
	Failed []string `json:"failed,omitempty"` // the SLOs that failed, with their values
	Events int64    `json:"events"`
}
