package result

// Schema is the value of Result.Schema for this version of the format.
const Schema = "headroom/result/v1"

// Modes of a result.
const (
	ModePredicted = "predicted" // produced by the simulator
	ModeMeasured  = "measured"  // produced by a load test against the real system
)

// Result is one run, predicted or measured. Its JSON form is what `--format json` prints and
// the only thing reports read. Field order is fixed by the struct, slices keep the order the
// scenario declared, and nothing is taken from map iteration, so the same scenario and seed
// encode to the same bytes (apart from Timing, which measures the machine).
type Result struct {
	Schema      string  `json:"schema"`
	Mode        string  `json:"mode"`
	Scenario    string  `json:"scenario"`
	Description string  `json:"description,omitempty"`
	Seed        uint64  `json:"seed"`
	HorizonS    float64 `json:"horizon_s"`
	WarmupS     float64 `json:"warmup_s,omitempty"`
	// Replications is the number of independent replications averaged into this result
	// (1 for a single run); CI95 then gives the confidence half-widths.
	Replications int `json:"replications"`

	Workload   Workload     `json:"workload"`
	Latency    Latencies    `json:"latency_ms"`
	Components []Component  `json:"components"`
	Checks     []Check      `json:"checks"`
	Breaks     []Break      `json:"breaks,omitempty"`
	CI95       []Interval   `json:"ci95,omitempty"`
	Series     *SeriesIndex `json:"series,omitempty"`
	// Cost prices the usage of every component (see Component.Usage) with a dated price
	// table: over the measured period, per month, per service and per million requests.
	Cost *Cost `json:"cost,omitempty"`
	// Claims are the scenario's claims, each with its verdict and the evidence for it.
	Claims []ClaimResult `json:"claims,omitempty"`

	// Timing is the only part that differs between two runs of the same scenario and seed.
	Timing Timing `json:"timing"`
}

// Workload counts requests at the edge of the system over the measured period.
type Workload struct {
	// Offered requests arrived; Accepted were admitted by the entry path; Rejected were
	// refused (throttled or failed synchronously); Completed finished end to end.
	Offered   int64 `json:"offered"`
	Accepted  int64 `json:"accepted"`
	Rejected  int64 `json:"rejected"`
	Completed int64 `json:"completed"`
	// Failed were accepted but ended in a dead-letter queue or an error.
	Failed int64 `json:"failed"`
	// Throughput figures over the measured period, requests per second.
	OfferedRPS   float64 `json:"offered_rps"`
	CompletedRPS float64 `json:"completed_rps"`
	PeakRPS      float64 `json:"peak_offered_rps"`
}

// Latencies are the client-facing latency distributions.
type Latencies struct {
	// API is what the client waits for the synchronous path (accepted requests).
	API Stats `json:"api"`
	// EndToEnd is from arrival to the completion of all asynchronous processing.
	EndToEnd Stats `json:"end_to_end"`
}

// Stats summarises a latency distribution, in milliseconds. Percentiles come from HDR
// histograms (3 significant digits), never from stored samples.
type Stats struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Component holds one component's figures over the measured period.
type Component struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Region string `json:"region,omitempty"`

	Offered   int64 `json:"offered"`
	Accepted  int64 `json:"accepted"`
	Rejected  int64 `json:"rejected"`
	Completed int64 `json:"completed"`

	// Wait is the time spent queued before service, or before the request was abandoned (a VM
	// tier's or a deployment's queue_timeout); Sojourn is wait + service.
	Wait    Stats `json:"wait_ms"`
	Sojourn Stats `json:"sojourn_ms"`

	// Utilization is busy capacity / capacity, time-averaged (0 when unbounded).
	Utilization float64 `json:"utilization"`
	// Capacity is the concurrency limit in force (0 when the component has none).
	Capacity        int64   `json:"capacity,omitempty"`
	PeakConcurrency int64   `json:"peak_concurrency"`
	MeanConcurrency float64 `json:"mean_concurrency"`
	// MeanInSystem is the time-average number of requests in the component (queued + in
	// service): the L of Little's law.
	MeanInSystem float64 `json:"mean_in_system"`
	// ThroughputRPS is Completed over the measured period: the λ of Little's law.
	ThroughputRPS float64 `json:"throughput_rps"`

	// Kind-specific figures; absent when they do not apply.
	Throttled    int64   `json:"throttled,omitempty"`
	Errors       int64   `json:"errors,omitempty"`
	ColdStarts   int64   `json:"cold_starts,omitempty"`
	Invocations  int64   `json:"invocations,omitempty"`
	MaxDepth     int64   `json:"max_depth,omitempty"`
	MaxAgeMS     float64 `json:"max_age_ms,omitempty"`
	DeadLettered int64   `json:"dead_lettered,omitempty"`
	Redelivered  int64   `json:"redelivered,omitempty"`
	Published    int64   `json:"published,omitempty"`
	Delivered    int64   `json:"delivered,omitempty"`
	Unrouted     int64   `json:"unrouted,omitempty"`
	PeakUnitsPS  float64 `json:"peak_units_per_s,omitempty"`
	// Table: the peaks of read and write capacity units consumed in one second (PeakUnitsPS
	// is the peak of both together).
	PeakReadUnitsPS  float64 `json:"peak_read_units_per_s,omitempty"`
	PeakWriteUnitsPS float64 `json:"peak_write_units_per_s,omitempty"`
	// TimedOut counts answers later than a gateway's integration timeout (the client got 504).
	TimedOut int64 `json:"timed_out,omitempty"`
	// BilledGBS is a function's billed compute in GB-seconds: every invocation's duration,
	// INIT included, rounded up to the millisecond, × its memory.
	BilledGBS float64 `json:"billed_gb_s,omitempty"`
	// Ordering is reported by queues that count messages processed out of the order they
	// received them, one entry per key (a FIFO queue's group key, and the keys a queue's
	// order_keys name): how many messages were checked and how many were out of order.
	Ordering []Ordering `json:"ordering,omitempty"`
	// FIFO holds the figures of a FIFO queue or topic: its message groups and the limits of
	// FIFO throughput.
	FIFO *FIFOFigures `json:"fifo,omitempty"`
	// Routes is a router's split: each route's target, its configured share and the
	// requests it got.
	Routes []RouteShare `json:"routes,omitempty"`
	// ReplicatedWrites counts the writes a replica of a global table received from the
	// other replicas (each billed as replicated write units), and ReplicationLag is the
	// delay from a write to its arrival here (drawn for one replicated write in 16: it
	// shapes nothing else).
	ReplicatedWrites int64  `json:"replicated_writes,omitempty"`
	ReplicationLag   *Stats `json:"replication_lag_ms,omitempty"`
	// PodsReachable is the most pods the component's cluster can run within its limits
	// (nodes × pods per node, the cluster's pod limit, vCPU quota); PodsLimit names the
	// limit that caps it. Reported by Kubernetes kinds.
	PodsReachable int64  `json:"pods_reachable,omitempty"`
	PodsLimit     string `json:"pods_limit,omitempty"`
	// CPUUtilization is a VM tier's busy share of the vCPUs of the VMs it runs on.
	CPUUtilization float64 `json:"cpu_utilization,omitempty"`
	// Cache, Database and Cluster hold the figures of those kinds.
	Cache    *CacheFigures    `json:"cache,omitempty"`
	Database *DatabaseFigures `json:"database,omitempty"`
	Cluster  *ClusterFigures  `json:"cluster,omitempty"`
	// Usage lists what the component consumed that a provider bills, over the measured
	// period; Result.Cost prices it.
	Usage    []Usage   `json:"usage,omitempty"`
	Analytic *Analytic `json:"analytic,omitempty"`
	// Series is the per-interval time series (see Result.Series for the interval).
	Series *Series `json:"series,omitempty"`
}

// Analytic holds textbook figures for a component that matches a textbook queue, beside the
// simulated ones.
type Analytic struct {
	Model string `json:"model"` // "M/M/c", "M/M/c/K" or "M/M/c/c"
	// Inputs.
	LambdaRPS float64 `json:"lambda_rps"`
	MuRPS     float64 `json:"mu_rps"`
	Servers   int     `json:"servers"`
	Capacity  int     `json:"capacity,omitempty"` // K, places in system incl. servers
	Rho       float64 `json:"rho"`
	// Textbook values.
	WaitMeanMS float64 `json:"wait_mean_ms"`
	PWait      float64 `json:"p_wait"`
	PBlock     float64 `json:"p_block,omitempty"`
	// Simulated values of the same figures.
	SimWaitMeanMS float64 `json:"sim_wait_mean_ms"`
	SimPWait      float64 `json:"sim_p_wait"`
	SimPBlock     float64 `json:"sim_p_block,omitempty"`
	// 95% confidence half-widths of the simulated values (batch means).
	WaitMeanHalfWidthMS float64 `json:"wait_mean_ci95_ms"`
	PBlockHalfWidth     float64 `json:"p_block_ci95,omitempty"`
}

// Check is one self-check of the run.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// Break names a limit that bound during the run: the first one is "what breaks first".
type Break struct {
	Component  string  `json:"component"`
	Limit      string  `json:"limit"`
	AtS        float64 `json:"at_s"`
	OfferedRPS float64 `json:"offered_rps"`
	Detail     string  `json:"detail"`
}

// Interval is a figure's mean over replications with its 95% confidence half-width.
type Interval struct {
	Figure    string  `json:"figure"`
	Mean      float64 `json:"mean"`
	HalfWidth float64 `json:"half_width"`
}

// SeriesIndex describes the time series kept for charts.
type SeriesIndex struct {
	IntervalS float64 `json:"interval_s"`
	// OfferedRPS is the workload's offered rate per interval.
	OfferedRPS []float64 `json:"offered_rps"`
}

// Series is one component's figures per interval.
type Series struct {
	ThroughputRPS []float64 `json:"throughput_rps"`
	Concurrency   []float64 `json:"concurrency"` // at the end of each interval
	QueueDepth    []float64 `json:"queue_depth"` // at the end of each interval
	Throttled     []float64 `json:"throttled,omitempty"`
}

// Timing measures the run on the machine; it is excluded from determinism comparisons.
type Timing struct {
	WallS      float64 `json:"wall_s"`
	Events     int64   `json:"events"`
	EventsPerS float64 `json:"events_per_s"`
}

// ComponentByName returns the named component's figures, or nil.
func (r *Result) ComponentByName(name string) *Component {
	for i := range r.Components {
		if r.Components[i].Name == name {
			return &r.Components[i]
		}
	}
	return nil
}
