package scenarios

import (
	"fmt"
	"time"
)

// Scenario is a validated, fully resolved scenario: extends merged, defaults from the data
// file applied, --set overrides applied. Everything the simulator, the real system and the
// load harness know about an architecture comes from here.
type Scenario struct {
	Name        string
	Description string
	// Extends names the scenario this one was derived from (bundled name or file), for
	// provenance only: the fields below are already merged.
	Extends string
	// Horizon is the simulated duration.
	Horizon Duration
	// Warmup is the initial period excluded from statistics (the system starts empty).
	Warmup Duration
	Seed   uint64

	Workload Workload
	// SLOs are the service-level objectives the scenario must meet (slos: ["api.p99<=300ms"]):
	// breakpoint searches for the largest load that meets them all.
	SLOs []SLO
	// Claims are statements about the scenario with a checkable form; every run reports each
	// as holds, fails or unknown. Unlike SLOs they are not inherited through extends.
	Claims []Claim
	// Regions holds the shared quotas, one entry per region, in file order. A scenario with
	// no regions gets the single region "default" with the data file's quotas.
	Regions []*Region
	// Components in file order; the order is part of the output, so it never comes from a map.
	Components []*Component
	// InstanceTypes holds the instance types the components run on (instance_types in
	// defaults.yaml, under the scenario's own), in table order.
	InstanceTypes []*InstanceType

	// Source says where the scenario came from: "bundled:baseline" or a file path.
	Source string
}

// Component returns the component named name, or nil.
func (s *Scenario) Component(name string) *Component {
	for _, c := range s.Components {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Region returns the region named name, or nil.
func (s *Scenario) Region(name string) *Region {
	for _, r := range s.Regions {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Duration is a span of (virtual or wall) time. In YAML it is a duration string ("30s",
// "250ms", "400h") or a bare number under a key whose name carries the unit
// ("timeout_s: 30", "mean_ms: 1000").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns the duration in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

func (d Duration) String() string { return time.Duration(d).String() }

// Workload is the open arrival process that drives the entry component.
type Workload struct {
	// Arrival is the arrival process: "poisson" (default) or "deterministic".
	Arrival string
	// RateRPS is a constant mean arrival rate. Exclusive with Users.
	RateRPS float64
	// Users × RequestsPerUserPerDay gives the daily volume, shaped by Profile.
	Users                 int64
	RequestsPerUserPerDay float64
	Profile               Profile
	// Entry is the component that receives every arrival.
	Entry string
	// Mix gives request attributes drawn independently per request (e.g. state), in file order.
	Mix []Attribute
	// PayloadBytes is the request body size, for the real system and the load harness.
	PayloadBytes int
}

// MeanRPS returns the workload's mean arrival rate over a day.
func (w Workload) MeanRPS() float64 {
	if w.Users > 0 {
		return float64(w.Users) * w.RequestsPerUserPerDay / 86400
	}
	return w.RateRPS
}

// Profile shapes a Users-based workload over the 24 hours of a day. Its mean is always 1,
// so the daily volume is Users × RequestsPerUserPerDay whatever the shape.
type Profile struct {
	// Kind is "flat" (default), "diurnal" or "hourly".
	Kind string
	// PeakToMean is the ratio of the peak rate to the daily mean rate (diurnal).
	PeakToMean float64
	// PeakHour is the hour of day (0–24, fractional) of the peak (diurnal).
	PeakHour float64
	// Hourly holds 24 relative weights, one per hour starting at midnight (hourly); they are
	// normalised to mean 1 by the loader.
	Hourly []float64
}

// Attribute is one request attribute and its distribution over values.
type Attribute struct {
	Name   string
	Values []WeightedValue
}

// WeightedValue is one value of an attribute and its probability; the probabilities of an
// attribute sum to 1 (checked by the loader).
type WeightedValue struct {
	Value string
	P     float64
}

// Region holds the account/region quotas shared by every component placed in it.
// Defaults come from the dated data file (defaults.yaml), never from code.
type Region struct {
	Name string
	// Lambda.
	LambdaConcurrency       int     // account concurrency limit (shared pool)
	LambdaUnreservedMin     int     // reserved concurrency must leave at least this unreserved
	LambdaScalingBurst      int     // per-function scaling token bucket capacity (environments)
	LambdaScalingRefillRate float64 // per-function scaling refill (environments per second)
	// API Gateway account throttle, shared by all gateways in the region.
	APIGatewayRateRPS float64
	APIGatewayBurst   int
	// SNS publish quota (messages per second, account-wide in the region).
	SNSPublishRPS float64
	// SNSFifoPublishRPS is the publish quota of the region's FIFO topics, a bucket of its
	// own: 3,000/s where the standard quota is lower, the standard figure where it is higher
	// (the reference gives one figure for both there).
	SNSFifoPublishRPS float64
	// SNSPublishBurst is how much above the publish quota a short burst may go, as time at
	// the quota's rate: the throttle is a token bucket holding SNSPublishRPS × this many
	// tokens (the FIFO quota and a topic's own PublishRPS get the same burst time).
	SNSPublishBurst Duration
	// EC2VCPUQuota is the account's running on-demand standard instances quota in vCPUs:
	// Kubernetes nodes cannot be added beyond it.
	EC2VCPUQuota int
	// SQS FIFO throughput per queue and per API action (SendMessage, ReceiveMessage,
	// DeleteMessage), in calls per second: SQSFifoTPS normally (300: with batches of 10,
	// 3,000 messages/s), SQSFifoHighThroughputTPS in high-throughput mode (70,000 in
	// us-east-1, us-west-2, eu-west-1; less elsewhere).
	SQSFifoTPS               float64
	SQSFifoHighThroughputTPS float64
}

// Kind is a component type.
type Kind string

// The component kinds.
const (
	KindPool     Kind = "pool"
	KindGateway  Kind = "gateway"
	KindFunction Kind = "function"
	KindTable    Kind = "table"
	KindTopic    Kind = "topic"
	KindQueue    Kind = "queue"

	KindLoadBalancer Kind = "loadbalancer"
	KindVMTier       Kind = "vmtier"
	KindCache        Kind = "cache"
	KindDatabase     Kind = "database"
	KindDeployment   Kind = "deployment"

	KindRouter Kind = "router"
)

// Component is one node of the architecture graph. Exactly one of the kind-specific
// pointers is set, the one matching Kind.
type Component struct {
	Name   string
	Kind   Kind
	Region string // defaults to the scenario's first region
	// Next is the component that receives the request when this one is done with it
	// (synchronously for pool/gateway/function, by polling for a queue's consumer).
	Next string

	Pool     *Pool
	Gateway  *Gateway
	Function *Function
	Table    *Table
	Topic    *Topic
	Queue    *Queue

	LoadBalancer *LoadBalancer
	VMTier       *VMTier
	Cache        *Cache
	Database     *Database
	Deployment   *Deployment

	Router *Router

	// Pos is where the component was declared, for errors found after loading.
	Pos Pos
}

// Pos is a place in a scenario file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// QueueUnbounded and QueueNone are the special values of Pool.QueueCapacity.
const (
	QueueUnbounded = -1 // "queue: unbounded" (M/M/c)
	QueueNone      = 0  // "queue: none", a loss system (M/M/c/c)
)

// Pool is c identical servers in front of one FIFO queue.
type Pool struct {
	Concurrency int
	// QueueCapacity is the number of waiting places: QueueUnbounded, QueueNone or a positive
	// number (M/M/c/K with K = Concurrency + QueueCapacity).
	QueueCapacity int
	ServiceTime   Dist
}

// Gateway is an API Gateway: a token-bucket throttle (the region's account quota, or a
// lower stage limit), per-request overhead, an integration timeout.
type Gateway struct {
	// RateRPS and Burst: 0 means the region's quota.
	RateRPS float64
	Burst   int
	// Overhead is the latency the gateway adds to every request it admits.
	Overhead Dist
	Timeout  Duration
	// API is "rest" or "http" (pricing and defaults).
	API string
}

// Function is a Lambda function.
type Function struct {
	Runtime      string // go, python, node, java: selects the cold-start table in defaults.yaml
	MemoryMB     int
	Architecture string // x86 or arm
	// Duration is the function's own work per invocation (synchronous) or per message
	// (invoked by a queue with batches), excluding the latency of Calls.
	Duration Dist
	// Init is the cold-start (INIT) duration; defaults to the runtime's from defaults.yaml.
	Init Dist
	// ReservedConcurrency > 0 reserves (and caps) concurrency from the region's pool.
	ReservedConcurrency int
	// IdleLifetime is how long an idle execution environment stays warm.
	IdleLifetime Duration
	Timeout      Duration
	// Calls are synchronous calls made during every invocation (per message for batches),
	// in order; their latency adds to the duration.
	Calls []Call
	// ErrorRate is the probability that one invocation fails (for retry/DLQ behaviour).
	ErrorRate float64
}

// Call is one synchronous downstream call made by a function.
type Call struct {
	To string // a table or topic component
	Op string // "read" or "write" for a table, "publish" for a topic
}

// Table is a DynamoDB table.
type Table struct {
	// Mode is "on_demand" (default) or "provisioned".
	Mode         string
	ReadLatency  Dist
	WriteLatency Dist
	// ItemKB sets the capacity units per operation (1 WRU per KB written, 1 RRU per 4 KB read).
	ItemKB float64
	// On-demand: the capacity a new table absorbs at once, and the window after which a new
	// peak is absorbed (throughput up to 2× the previous peak is served at once).
	OnDemandInitialWRU float64
	OnDemandInitialRRU float64
	OnDemandPeakWindow Duration
	// On-demand maximum throughput per table and direction (units per second): however
	// high the previous peak, an on-demand table serves no more than this.
	OnDemandMaxWRU float64
	OnDemandMaxRRU float64
	// Provisioned mode capacity (units per second) and burst (seconds of unused capacity).
	ProvisionedWCU float64
	ProvisionedRCU float64
	BurstSeconds   float64
	// Replicas makes the table one replica of a DynamoDB global table: the tables named here
	// (each in another region) and this one hold the same items. A write to any of them is
	// replicated, asynchronously, to all the others, and every replica pays for it and
	// spends its own write capacity on it.
	Replicas []string
	// ReplicationLag is the delay from a write to its arrival at another replica.
	ReplicationLag Dist
}

// Topic is an SNS standard topic fanning out to subscriptions with filter policies.
type Topic struct {
	// PublishLatency is what a publisher waits for; DeliveryLatency is publish → queue.
	PublishLatency  Dist
	DeliveryLatency Dist
	// PublishRPS: 0 means the region's quota.
	PublishRPS float64
	Routes     []Route
	// FIFO makes it an SNS FIFO topic: messages of one message group are delivered in the
	// order they were published, at most GroupRPS per group and FifoTopicRPS for the
	// topic, and only to FIFO queues.
	FIFO bool
	// GroupBy is the message group ID a FIFO topic's publisher sets: a mix attribute (e.g.
	// state: one group per state), "request" (one group per request) or "user".
	GroupBy      string
	GroupRPS     float64
	FifoTopicRPS float64
}

// Route is one subscription: messages matching Filter are delivered to To.
type Route struct {
	To     string
	Filter []FilterCond // all conditions must hold; empty matches everything
}

// FilterCond is one key of an SNS filter policy.
type FilterCond struct {
	Attribute string
	AnyOf     []string // the attribute equals one of these
	Exists    *bool    // the attribute is present (true) or absent (false)
}

// Queue is an SQS standard queue, and — when Next is set — the event source mapping that
// makes Next (a function) poll it.
type Queue struct {
	VisibilityTimeout Duration
	// MaxReceives > 0 moves a message to DeadLetter after that many receives.
	MaxReceives int
	DeadLetter  string
	// Event source mapping.
	BatchSize      int
	BatchingWindow Duration
	MaxConcurrency int // 0 = no MaximumConcurrency setting
	PollerStart    int // concurrent batches at start
	PollerRampPerM int // concurrent invocations added per minute while messages remain
	PollerMax      int // ceiling per mapping
	// ThrottleBackoff is how long the pollers back off after a throttled invoke.
	ThrottleBackoff Duration
	// PollDelay is how long a poller whose batch is done takes to delete it and receive the
	// next one (the SQS round trips) while messages wait: the function's environment is free
	// meanwhile, and any other invocation may take its concurrency.
	PollDelay Duration
	// FIFO makes it an SQS FIFO queue: messages of one message group are received in order
	// and only while no earlier message of the group is in flight (a failing message
	// blocks its group until it succeeds or moves to the dead-letter queue), and each API
	// action is limited to the region's sqs_fifo_tps calls per second.
	FIFO bool
	// HighThroughput selects a FIFO queue's high-throughput mode (the region's
	// sqs_fifo_high_throughput_tps).
	HighThroughput bool
	// GroupBy is the message group ID of messages sent to a FIFO queue directly (as a
	// component's next); a queue subscribed to a FIFO topic gets the topic's.
	GroupBy string
	// OrderKeys lists keys per which the run counts messages processed out of the order
	// the queue received them (a mix attribute, "request" or "user"); a FIFO queue counts
	// its group key as well.
	OrderKeys []string
}

// Router is DNS routing in front of the regions (Route 53): every request goes to one of
// its routes' targets, each typically the entry of one region's stack.
type Router struct {
	// Policy is "weighted" (a request goes to a route with probability weight / sum of
	// weights) or "latency" (each client goes to the region with the lowest latency for
	// it: Clients gives the share of the clients nearest each route's region).
	Policy string
	Routes []RouterRoute
}

// RouterRoute is one record of a router.
type RouterRoute struct {
	To      string
	Weight  float64
	Clients float64
}

// DistKind is a distribution family.
type DistKind string

// The distribution families.
const (
	DistConstant    DistKind = "constant"
	DistExponential DistKind = "exponential"
	DistUniform     DistKind = "uniform"
	DistLognormal   DistKind = "lognormal"
	DistEmpirical   DistKind = "empirical"
)

// Dist is a distribution of durations. YAML forms:
//
//	{dist: constant, value_ms: 5}
//	{dist: exponential, mean_ms: 1000}
//	{dist: uniform, min_ms: 10, max_ms: 30}
//	{dist: lognormal, median_ms: 50, p99_ms: 400}   or   {dist: lognormal, mean_ms: 60, sigma: 0.5}
//	{dist: empirical, percentiles_ms: {p0: 5, p50: 20, p90: 60, p99: 200, p100: 400}}
//
// Unit suffixes _ms, _s and _us are accepted, or duration strings under the bare key
// ("mean: 1s"). The zero Dist means "none" (no time).
type Dist struct {
	Kind   DistKind
	Value  Duration // constant
	Mean   Duration // exponential; lognormal with Sigma
	Min    Duration // uniform
	Max    Duration // uniform
	Median Duration // lognormal with P99
	P99    Duration // lognormal with Median
	Sigma  float64  // lognormal with Mean
	// Percentiles of an empirical distribution, sorted by Q, from Q=0 to Q=1; the inverse CDF
	// is linear between them.
	Percentiles []Percentile
}

// IsZero reports whether no distribution was given.
func (d Dist) IsZero() bool { return d.Kind == "" }

// Percentile is one point of an empirical distribution: P(X <= V) = Q.
type Percentile struct {
	Q float64
	V Duration
}
