package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The validator checks what the decoder cannot see one key at a time: ranges that depend
// on the kind, references between components, the shape of the graph, and the quotas
// shared within a region. It places every error with the positions the decoder recorded,
// so a value that came from defaults.yaml or a --set override is reported there.

type validator struct {
	errs
	pos      map[string]Pos
	s        *Scenario
	runtimes []string // runtimes with a cold-start default in defaults.yaml
	root     Pos      // the scenario file itself, for what is missing from it
}

// where finds the position of key, or of its nearest enclosing key that has one.
func (v *validator) where(key string) Pos {
	for k := key; k != ""; {
		if p, ok := v.pos[k]; ok {
			return p
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return Pos{}
}

func (v *validator) fail(key, format string, args ...any) {
	p := v.where(key)
	if p == (Pos{}) {
		p = v.root
	}
	v.add(&Error{File: p.File, Line: p.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// missing reports something the scenario must say and does not. It is placed at the
// nearest enclosing key the user wrote, never at defaults.yaml (which only filled in the
// keys around the gap), and failing that at the top of the scenario file.
func (v *validator) missing(key, format string, args ...any) {
	p := v.root
	for k := key; k != ""; {
		if q, ok := v.pos[k]; ok && q.File != defaultsFile {
			p = q
			break
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	v.add(&Error{File: p.File, Line: p.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// given reports whether key was written somewhere (a file, defaults.yaml or --set).
func (v *validator) given(key string) bool { _, ok := v.pos[key]; return ok }

func compKey(c *Component, key string) string { return join("components."+c.Name, key) }

// probabilityTolerance is how far a mix may sum from 1: rounding in decimal fractions, not
// a license for a missing value.
const probabilityTolerance = 1e-9

func (v *validator) scenario() {
	s := v.s
	v.claims()
	if s.Horizon <= 0 {
		v.fail("horizon", "must be > 0 (e.g. horizon: 24h)")
	}
	if s.Warmup >= s.Horizon && s.Horizon > 0 {
		v.fail("warmup", "must be shorter than the horizon (%s), got %s", s.Horizon, s.Warmup)
	}
	v.regions()
	v.workload()
	if len(s.Components) == 0 {
		v.missing("components", "a scenario needs at least one component")
		return
	}
	for _, c := range s.Components {
		v.component(c)
	}
	v.instanceTypes()
	v.crudMix()
	v.reserved()
	v.cycles()
	v.routers()
	v.fifo()
	v.globalTables()
}

func (v *validator) workload() {
	w := &v.s.Workload
	const p = "workload"
	if !slices.Contains([]string{"poisson", "deterministic"}, w.Arrival) {
		v.fail(p+".arrival", "unknown arrival process %q; poisson or deterministic", w.Arrival)
	}
	rate, users, rpud := v.given(p+".rate_rps"), v.given(p+".users"), v.given(p+".requests_per_user_per_day")
	switch {
	case rate && (users || rpud):
		v.fail(p+".rate_rps", "give either rate_rps, or users and requests_per_user_per_day, not both")
	case rate:
		if w.RateRPS <= 0 {
			v.fail(p+".rate_rps", "must be > 0, got %g", w.RateRPS)
		}
	case users || rpud:
		if !users {
			v.fail(p+".requests_per_user_per_day", "needs users as well (the daily volume is users × requests_per_user_per_day)")
		} else if w.Users <= 0 {
			v.fail(p+".users", "must be > 0, got %d", w.Users)
		}
		if !rpud {
			v.fail(p+".users", "needs requests_per_user_per_day as well (the daily volume is users × requests_per_user_per_day)")
		} else if w.RequestsPerUserPerDay <= 0 {
			v.fail(p+".requests_per_user_per_day", "must be > 0, got %g", w.RequestsPerUserPerDay)
		}
	default:
		v.missing(p, "needs rate_rps, or users and requests_per_user_per_day")
	}
	v.profile(rate)
	if w.PayloadBytes < 0 {
		v.fail(p+".payload_bytes", "must be >= 0, got %d", w.PayloadBytes)
	}
	switch c := v.s.Component(w.Entry); {
	case w.Entry == "":
		v.missing(p+".entry", "missing entry: the component that receives every arrival")
	case c == nil:
		v.fail(p+".entry", "no component named %q%s", w.Entry, v.componentList(w.Entry))
	case lookupKind(string(c.Kind)).next == nil && c.Kind != KindRouter:
		v.fail(p+".entry", "%s is a %s; arrivals enter a router, gateway, pool, function or queue", w.Entry, c.Kind)
	}
	for _, a := range w.Mix {
		v.attribute(a)
	}
}

// maxPeakToMean bounds a diurnal profile: 24 puts a whole day's traffic into about one
// hour, beyond which an hourly profile says what is meant.
const maxPeakToMean = 24

func (v *validator) profile(rateBased bool) {
	pr := &v.s.Workload.Profile
	const p = "workload.profile"
	applies := map[string]string{"peak_to_mean": "diurnal", "peak_hour": "diurnal", "hourly": "hourly"}
	for _, key := range []string{"peak_to_mean", "peak_hour", "hourly"} {
		if kind := applies[key]; v.given(p+"."+key) && pr.Kind != kind {
			v.fail(p+"."+key, "applies to a %s profile (kind: %s), not to kind %s", kind, kind, pr.Kind)
		}
	}
	switch pr.Kind {
	case "flat":
	case "diurnal":
		if !v.given(p + ".peak_to_mean") {
			v.missing(p, "a diurnal profile needs peak_to_mean (the peak rate over the daily mean, e.g. 3)")
		} else if pr.PeakToMean < 1 || pr.PeakToMean > maxPeakToMean {
			v.fail(p+".peak_to_mean", "must be between 1 (flat) and %d (a day's traffic in one hour), got %g", maxPeakToMean, pr.PeakToMean)
		}
		if pr.PeakHour < 0 || pr.PeakHour >= 24 {
			v.fail(p+".peak_hour", "must be an hour of the day, 0 <= h < 24, got %g", pr.PeakHour)
		}
	case "hourly":
		if len(pr.Hourly) != 24 {
			v.fail(p+".hourly", "needs 24 weights, one per hour from midnight, got %d", len(pr.Hourly))
			break
		}
		sum := 0.0
		for i, w := range pr.Hourly {
			if w < 0 {
				v.fail(index(p+".hourly", i), "weights must be >= 0, got %g", w)
			}
			sum += w
		}
		if sum <= 0 {
			v.fail(p+".hourly", "at least one weight must be > 0")
			break
		}
		for i := range pr.Hourly {
			pr.Hourly[i] *= 24 / sum
		}
	default:
		v.fail(p+".kind", "unknown profile %q; flat, diurnal or hourly", pr.Kind)
		return
	}
	if v.s.Workload.Arrival == "deterministic" && pr.Kind != "flat" {
		v.fail("workload.arrival", "deterministic arrivals need a flat profile, not %s", pr.Kind)
	}
	if rateBased && pr.Kind != "flat" {
		v.fail(p+".kind", "a %s profile shapes users × requests_per_user_per_day; a rate_rps workload is flat", pr.Kind)
	}
}

func (v *validator) attribute(a Attribute) {
	p := "workload.mix." + a.Name
	if len(a.Values) == 0 {
		v.fail(p, "needs at least one value with its probability")
		return
	}
	sum := 0.0
	var terms []string
	for _, wv := range a.Values {
		if wv.P < 0 || wv.P > 1 {
			v.fail(join(p, wv.Value), "a probability is between 0 and 1, got %g", wv.P)
			return
		}
		sum += wv.P
		terms = append(terms, fmt.Sprintf("%s %g", wv.Value, wv.P))
	}
	if math.Abs(sum-1) > probabilityTolerance {
		v.fail(p, "probabilities must sum to 1, got %.10g (%s)", sum, strings.Join(terms, " + "))
	}
}

func (v *validator) regions() {
	for _, r := range v.s.Regions {
		p := "regions." + r.Name
		pos := func(key string, x float64) {
			if x <= 0 {
				v.fail(p+"."+key, "must be > 0, got %g", x)
			}
		}
		pos("lambda_concurrency", float64(r.LambdaConcurrency))
		pos("lambda_scaling_burst", float64(r.LambdaScalingBurst))
		pos("lambda_scaling_refill_rate", r.LambdaScalingRefillRate)
		pos("api_gateway_rate_rps", r.APIGatewayRateRPS)
		pos("api_gateway_burst", float64(r.APIGatewayBurst))
		pos("sns_publish_rps", r.SNSPublishRPS)
		pos("sns_fifo_publish_rps", r.SNSFifoPublishRPS)
		pos("ec2_vcpu_quota", float64(r.EC2VCPUQuota))
		pos("sqs_fifo_tps", r.SQSFifoTPS)
		pos("sqs_fifo_high_throughput_tps", r.SQSFifoHighThroughputTPS)
		if r.LambdaUnreservedMin < 0 || r.LambdaUnreservedMin > r.LambdaConcurrency {
			v.fail(p+".lambda_unreserved_min", "must be between 0 and lambda_concurrency (%d), got %d", r.LambdaConcurrency, r.LambdaUnreservedMin)
		}
	}
}

func (v *validator) componentList(missing string) string {
	var names []string
	for _, c := range v.s.Components {
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return " (there are no components)"
	}
	if s := suggest(missing, names); s != "" {
		return fmt.Sprintf(" (did you mean %s?); components: %s", s, strings.Join(names, ", "))
	}
	return "; components: " + strings.Join(names, ", ")
}

// ref checks that key names an existing component of one of the kinds, and returns it.
func (v *validator) ref(key, name string, kinds []Kind, role string) *Component {
	c := v.s.Component(name)
	if c == nil {
		v.fail(key, "no component named %q%s", name, v.componentList(name))
		return nil
	}
	if !slices.Contains(kinds, c.Kind) {
		var ks []string
		for _, k := range kinds {
			ks = append(ks, string(k))
		}
		hint := ""
		if spec := lookupKind(string(c.Kind)); spec.next == nil && !slices.Contains(kinds, KindTable) && !slices.Contains(kinds, KindTopic) {
			hint = "; " + spec.nextHint
		}
		v.fail(key, "%s is a %s; %s must be a %s%s", name, c.Kind, role, orList(ks), hint)
		return nil
	}
	return c
}

func (v *validator) component(c *Component) {
	if c.Region == "" {
		c.Region = v.s.Regions[0].Name
	} else if v.s.Region(c.Region) == nil {
		var names []string
		for _, r := range v.s.Regions {
			names = append(names, r.Name)
		}
		v.fail(compKey(c, "region"), "no region named %q; regions: %s", c.Region, strings.Join(names, ", "))
	}
	spec := lookupKind(string(c.Kind))
	if c.Next != "" {
		switch {
		case spec.next == nil:
			v.fail(compKey(c, "next"), "a %s takes no next: %s", c.Kind, spec.nextHint)
		case c.Next == c.Name:
			v.fail(compKey(c, "next"), "a component cannot be its own next")
		default:
			v.ref(compKey(c, "next"), c.Next, spec.next, "the next of a "+string(c.Kind))
		}
	}
	spec.validate(v, c)
}

func (v *validator) positive(key string, x float64) {
	if x <= 0 {
		v.fail(key, "must be > 0, got %g", x)
	}
}

func (v *validator) nonNegative(key string, x float64) {
	if x < 0 {
		v.fail(key, "must be >= 0, got %g", x)
	}
}

func (v *validator) oneOf(key, x string, allowed ...string) {
	if !slices.Contains(allowed, x) {
		v.fail(key, "unknown value %q; one of %s", x, strings.Join(allowed, ", "))
	}
}

func (v *validator) required(key string, d Dist, what string) {
	if d.IsZero() {
		v.missing(key, "missing %s: a distribution like {dist: lognormal, median_ms: 50, p99_ms: 200}", what)
	}
}

func (v *validator) durationIn(key string, d Duration, lo, hi time.Duration) {
	if d.D() < lo || d.D() > hi {
		v.fail(key, "must be between %s and %s, got %s", lo, hi, d)
	}
}

func validatePool(v *validator, c *Component) {
	p := c.Pool
	if p.Concurrency < 1 {
		v.fail(compKey(c, "concurrency"), "must be >= 1 (the number of servers), got %d", p.Concurrency)
	}
	if p.QueueCapacity < QueueUnbounded {
		v.fail(compKey(c, "queue"), "expected unbounded, none, or a number of waiting places >= 0")
	}
	v.required(compKey(c, "service_time"), p.ServiceTime, "service_time")
}

func validateGateway(v *validator, c *Component) {
	g := c.Gateway
	v.nonNegative(compKey(c, "rate_rps"), g.RateRPS)
	v.nonNegative(compKey(c, "burst"), float64(g.Burst))
	v.positive(compKey(c, "timeout"), g.Timeout.Seconds())
	v.oneOf(compKey(c, "api"), g.API, "rest", "http")
}

func validateFunction(v *validator, c *Component) {
	f := c.Function
	if f.MemoryMB < 128 || f.MemoryMB > 10240 {
		v.fail(compKey(c, "memory_mb"), "must be between 128 and 10240 (Lambda's range), got %d", f.MemoryMB)
	}
	v.oneOf(compKey(c, "architecture"), f.Architecture, "x86", "arm")
	v.required(compKey(c, "duration"), f.Duration, "duration (the function's own work per invocation or message)")
	if f.Init.IsZero() {
		if f.Runtime == "" {
			v.missing(compKey(c, "runtime"), "missing runtime (%s), or give init", strings.Join(v.runtimes, ", "))
		} else {
			v.fail(compKey(c, "runtime"), "no cold-start default for runtime %q (defaults.yaml has %s); give init: {dist: lognormal, median_ms: ..., p99_ms: ...}", f.Runtime, strings.Join(v.runtimes, ", "))
		}
	}
	v.nonNegative(compKey(c, "reserved_concurrency"), float64(f.ReservedConcurrency))
	v.positive(compKey(c, "idle_lifetime"), f.IdleLifetime.Seconds())
	v.durationIn(compKey(c, "timeout"), f.Timeout, time.Millisecond, 900*time.Second)
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		v.fail(compKey(c, "error_rate"), "a probability is between 0 and 1, got %g", f.ErrorRate)
	}
	for i := range f.Calls {
		call := &f.Calls[i]
		p := index(compKey(c, "calls"), i)
		if call.To == "" {
			v.missing(p, "missing to: the table or topic called")
			continue
		}
		t := v.ref(p+".to", call.To, []Kind{KindTable, KindTopic}, "a call")
		if t == nil {
			continue
		}
		ops := callOps[t.Kind]
		if call.Op == "" {
			call.Op = ops[0]
		} else if !slices.Contains(ops, call.Op) {
			v.fail(p+".op", "a %s call is %s, got %q", t.Kind, strings.Join(ops, " or "), call.Op)
		}
	}
}

func validateTable(v *validator, c *Component) {
	t := c.Table
	v.oneOf(compKey(c, "mode"), t.Mode, "on_demand", "provisioned")
	v.positive(compKey(c, "item_kb"), t.ItemKB)
	switch t.Mode {
	case "on_demand":
		v.positive(compKey(c, "on_demand_initial_wru"), t.OnDemandInitialWRU)
		v.positive(compKey(c, "on_demand_initial_rru"), t.OnDemandInitialRRU)
		v.positive(compKey(c, "on_demand_peak_window"), t.OnDemandPeakWindow.Seconds())
		v.positive(compKey(c, "on_demand_max_wru"), t.OnDemandMaxWRU)
		v.positive(compKey(c, "on_demand_max_rru"), t.OnDemandMaxRRU)
	case "provisioned":
		if !v.given(compKey(c, "provisioned_wcu")) || !v.given(compKey(c, "provisioned_rcu")) {
			v.missing(compKey(c, "mode"), "provisioned mode needs provisioned_wcu and provisioned_rcu (units per second)")
		}
		v.positive(compKey(c, "provisioned_wcu"), t.ProvisionedWCU)
		v.positive(compKey(c, "provisioned_rcu"), t.ProvisionedRCU)
		if t.BurstSeconds < 0 || t.BurstSeconds > 300 {
			v.fail(compKey(c, "burst_seconds"), "must be between 0 and 300 (DynamoDB keeps at most 5 minutes of unused capacity), got %g", t.BurstSeconds)
		}
	}
}

// maxFilterKeys is SNS's limit on the keys of one filter policy.
const maxFilterKeys = 5

func validateTopic(v *validator, c *Component) {
	t := c.Topic
	v.nonNegative(compKey(c, "publish_rps"), t.PublishRPS)
	for i, r := range t.Routes {
		p := index(compKey(c, "routes"), i)
		if r.To == "" {
			v.missing(p, "missing to: the queue this subscription delivers to")
		} else {
			v.ref(p+".to", r.To, []Kind{KindQueue}, "a route's target")
		}
		if len(r.Filter) > maxFilterKeys {
			v.fail(p+".filter", "an SNS filter policy has at most %d keys, got %d", maxFilterKeys, len(r.Filter))
		}
		for _, f := range r.Filter {
			v.filter(p+".filter."+f.Attribute, f)
		}
	}
}

// filter checks a condition against the workload mix, the only source of attributes: a
// misspelt attribute or value would silently match nothing.
func (v *validator) filter(key string, f FilterCond) {
	var attr *Attribute
	var names []string
	for i := range v.s.Workload.Mix {
		a := &v.s.Workload.Mix[i]
		names = append(names, a.Name)
		if a.Name == f.Attribute {
			attr = a
		}
	}
	if attr == nil {
		if f.Exists != nil {
			return
		}
		have := "workload.mix has none"
		if len(names) > 0 {
			have = "workload.mix has " + strings.Join(names, ", ")
		}
		v.fail(key, "no request carries attribute %q (%s)", f.Attribute, have)
		return
	}
	var vals []string
	for _, wv := range attr.Values {
		vals = append(vals, wv.Value)
	}
	for _, x := range f.AnyOf {
		if !slices.Contains(vals, x) {
			v.fail(key, "%q is not a value of %s in workload.mix (%s)", x, f.Attribute, strings.Join(vals, ", "))
		}
	}
}

func validateQueue(v *validator, c *Component) {
	q := c.Queue
	v.durationIn(compKey(c, "visibility_timeout"), q.VisibilityTimeout, 0, 12*time.Hour)
	v.nonNegative(compKey(c, "max_receives"), float64(q.MaxReceives))
	switch {
	case q.DeadLetter != "" && q.MaxReceives < 1:
		v.fail(compKey(c, "dead_letter"), "needs max_receives >= 1 (the receives after which a message moves there)")
	case q.DeadLetter == "" && q.MaxReceives > 0:
		v.fail(compKey(c, "max_receives"), "needs dead_letter: the queue that takes a message after max_receives receives")
	case q.DeadLetter == c.Name:
		v.fail(compKey(c, "dead_letter"), "a queue cannot be its own dead-letter queue")
	case q.DeadLetter != "":
		v.ref(compKey(c, "dead_letter"), q.DeadLetter, []Kind{KindQueue}, "a dead-letter queue")
	}
	if q.BatchSize < 1 || q.BatchSize > 10000 {
		v.fail(compKey(c, "batch_size"), "must be between 1 and 10000, got %d", q.BatchSize)
	}
	v.durationIn(compKey(c, "batching_window"), q.BatchingWindow, 0, 300*time.Second)
	if q.BatchSize > 10 && q.BatchingWindow < Duration(time.Second) {
		v.fail(compKey(c, "batch_size"), "a batch larger than 10 needs batching_window >= 1s (as Lambda requires)")
	}
	if q.MaxConcurrency != 0 && (q.MaxConcurrency < 2 || q.MaxConcurrency > 1000) {
		v.fail(compKey(c, "max_concurrency"), "must be 0 (no limit) or between 2 and 1000, got %d", q.MaxConcurrency)
	}
	if q.PollerStart < 1 {
		v.fail(compKey(c, "poller_start"), "must be >= 1, got %d", q.PollerStart)
	}
	v.nonNegative(compKey(c, "poller_ramp_per_m"), float64(q.PollerRampPerM))
	if q.PollerMax < q.PollerStart {
		v.fail(compKey(c, "poller_max"), "must be >= poller_start (%d), got %d", q.PollerStart, q.PollerMax)
	}
	if q.ThrottleBackoff <= 0 {
		v.fail(compKey(c, "throttle_backoff"), "must be > 0: pollers that retried a throttled invoke at once would never let time pass")
	}
	if fn := v.s.Component(c.Next); fn != nil && fn.Function != nil {
		if fn.Function.Timeout > q.VisibilityTimeout {
			v.fail(compKey(c, "visibility_timeout"), "%s is shorter than the timeout of %s (%s); Lambda refuses such a mapping (AWS recommends 6 × the function timeout)", q.VisibilityTimeout, fn.Name, fn.Function.Timeout)
		}
		if fn.Next != "" {
			v.fail(compKey(fn, "next"), "%s consumes queue %s in batches and cannot hand requests on with next; let it publish to a topic through calls", fn.Name, c.Name)
		}
	}
}

// reserved checks that the reserved concurrency of each region's functions leaves the
// region's minimum unreserved.
func (v *validator) reserved() {
	for _, r := range v.s.Regions {
		limit := r.LambdaConcurrency - r.LambdaUnreservedMin
		sum := 0
		var terms []string
		for _, c := range v.s.Components {
			if c.Function == nil || c.Region != r.Name || c.Function.ReservedConcurrency <= 0 {
				continue
			}
			sum += c.Function.ReservedConcurrency
			terms = append(terms, fmt.Sprintf("%s %d", c.Name, c.Function.ReservedConcurrency))
			if sum > limit {
				v.fail(compKey(c, "reserved_concurrency"), "reserved concurrency in region %s totals %d (%s); at most %d may be reserved (lambda_concurrency %d − lambda_unreserved_min %d)",
					r.Name, sum, strings.Join(terms, " + "), limit, r.LambdaConcurrency, r.LambdaUnreservedMin)
				break
			}
		}
	}
}

// cycles refuses next links that come back to where they started without a queue between:
// a synchronous cycle would hold every request forever.
func (v *validator) cycles() {
	state := map[string]int{} // 0 unseen, 1 on the current path, 2 done
	for _, start := range v.s.Components {
		var path []*Component
		c := start
		for c != nil && state[c.Name] == 0 {
			state[c.Name] = 1
			path = append(path, c)
			c = v.s.Component(c.Next)
		}
		if c != nil && state[c.Name] == 1 {
			i := slices.Index(path, c)
			loop := path[i:]
			hasQueue := false
			var names []string
			for _, x := range loop {
				hasQueue = hasQueue || x.Kind == KindQueue
				names = append(names, x.Name)
			}
			if !hasQueue {
				first := loop[0]
				for _, x := range loop {
					if slices.Index(v.s.Components, x) < slices.Index(v.s.Components, first) {
						first = x
					}
				}
				v.fail(compKey(first, "next"), "next links form a cycle with no queue in it (%s → %s); a synchronous cycle never finishes", strings.Join(names, " → "), loop[0].Name)
			}
		}
		for _, x := range path {
			state[x.Name] = 2
		}
	}
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
