package scenarios

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// y joins lines into a YAML document, so that a test can count the line of each key.
func y(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// loadFiles loads ref from an in-memory file system holding files.
func loadFiles(files map[string]string, ref string, sets ...string) (*Scenario, error) {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return Load(ref, WithFS(fsys), WithSets(sets))
}

// pool is a valid one-component scenario; cases below replace one line of it.
func pool(component ...string) string {
	return y(append([]string{
		"name: t",                            // 1
		"horizon: 1h",                        // 2
		"workload: {rate_rps: 10, entry: w}", // 3
		"components:",                        // 4
		"  w:",                               // 5
		"    kind: pool",                     // 6
		"    concurrency: 2",                 // 7
		"    service_time: {dist: constant, value_ms: 10}", // 8
	}, component...)...)
}

// pipeline is a valid scenario with every kind; line numbers are in the comments.
const pipeline = `name: p
horizon: 1h
workload:
  rate_rps: 10
  entry: api
  mix:
    state: {a: 0.5, b: 0.5}
components:
  api:
    kind: gateway
    next: fn
  fn:
    kind: function
    runtime: go
    duration_ms: 20
    calls: [{to: tbl, op: write}, {to: top}]
  tbl: {kind: table}
  top:
    kind: topic
    routes:
      - {to: q, filter: {state: [a]}}
  q:
    kind: queue
    next: worker
  worker: {kind: function, runtime: go, duration_ms: 5}
`

// patch replaces the line that starts with old (after indentation) in text.
func patch(t *testing.T, text, old, repl string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), old) {
			indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
			lines[i] = indent + repl
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no line starting with %q", old)
	return ""
}

func TestPipelineIsValid(t *testing.T) {
	s, err := loadFiles(map[string]string{"p.yaml": pipeline}, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Component("fn").Function.Calls[1].Op; got != "publish" {
		t.Errorf("default op of a topic call = %q, want publish", got)
	}
}

func TestErrors(t *testing.T) {
	defaultsLine := func(key string) string {
		for i, l := range strings.Split(string(defaultsYAML), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), key+":") {
				return "defaults.yaml:" + strconv.Itoa(i+1) + ":"
			}
		}
		t.Fatalf("defaults.yaml has no %s", key)
		return ""
	}
	cases := []struct {
		name string
		text string
		sets []string
		want []string // each must appear in the error
	}{
		{"unknown key", pool("    concurency: 3"),
			nil, []string{`s.yaml:9: components.w.concurency: unknown key "concurency" for a pool (did you mean concurrency?); valid keys: kind, region, next, concurrency, queue, service_time`}},
		{"unprintable key", y(`"a\nb": 1`),
			nil, []string{`s.yaml:1: "a\nb": unknown key "a\nb" for a scenario`}},
		{"unknown top-level key", y("name: t", "horizn: 1h"),
			nil, []string{`s.yaml:2: horizn: unknown key "horizn" for a scenario (did you mean horizon?)`}},
		{"unit suggestion", y("workload: {rate: 3}"),
			nil, []string{`s.yaml:1: workload.rate: unknown key "rate" for workload (did you mean rate_rps?)`}},
		{"wrong type", patch(t, pool(), "concurrency:", "concurrency: ten"),
			nil, []string{`s.yaml:7: components.w.concurrency: expected a whole number, got "ten"`}},
		{"wrong type mapping", patch(t, pool(), "concurrency:", "concurrency: {a: 1}"),
			nil, []string{`s.yaml:7: components.w.concurrency: expected a whole number, got a mapping`}},
		{"fraction for integer", patch(t, pool(), "concurrency:", "concurrency: 2.5"),
			nil, []string{`s.yaml:7: components.w.concurrency: expected a whole number, got "2.5"`}},
		{"missing unit", patch(t, pool(), "horizon:", "horizon: 30"),
			nil, []string{`s.yaml:2: horizon: needs a unit: horizon: 30s, or horizon_s: 30`}},
		{"missing unit in a dist", patch(t, pool(), "service_time:", "service_time: {dist: exponential, mean: 5}"),
			nil, []string{`s.yaml:8: components.w.service_time.mean: needs a unit: mean: 5s, or mean_s: 5`}},
		{"string under a unit key", patch(t, pool(), "horizon:", "horizon_s: 30s"),
			nil, []string{`s.yaml:2: horizon_s: expected a number of seconds, got "30s" (a duration string goes under horizon)`}},
		{"bad duration string", patch(t, pool(), "horizon:", "horizon: 3 days"),
			nil, []string{`s.yaml:2: horizon: expected a duration like 30s, 250ms or 1.5h, got "3 days"`}},
		{"negative duration", patch(t, pool(), "horizon:", "horizon: -1h"),
			nil, []string{`s.yaml:2: horizon: must not be negative`}},
		{"zero horizon", patch(t, pool(), "horizon:", "horizon: 0s"),
			nil, []string{`s.yaml:2: horizon: must be > 0`}},
		{"duration too large", patch(t, pool(), "horizon:", "horizon_h: 1e300"),
			nil, []string{`s.yaml:2: horizon_h: 1e+300 h is too large (at most about 292 years)`}},
		{"day duration too large", patch(t, pool(), "horizon:", "horizon: 1e300d"),
			nil, []string{`s.yaml:2: horizon: expected a duration like 30s, 250ms or 1.5h, got "1e300d"`}},
		{"provisioned without capacity", patch(t, pipeline, "tbl: {kind: table}", "tbl: {kind: table, mode: provisioned, provisioned_wcu: 100}"),
			nil, []string{`s.yaml:17: components.tbl.mode: provisioned mode needs provisioned_wcu and provisioned_rcu`}},
		{"unknown table mode", patch(t, pipeline, "tbl: {kind: table}", "tbl: {kind: table, mode: serverless}"),
			nil, []string{`s.yaml:17: components.tbl.mode: unknown value "serverless"; one of on_demand, provisioned`}},
		{"unknown api", patch(t, pipeline, "kind: gateway", "kind: gateway\n    api: websocket"),
			nil, []string{`s.yaml:11: components.api.api: unknown value "websocket"; one of rest, http`}},
		{"bool expected", patch(t, pipeline, "- {to: q,", "- {to: q, filter: {state: {exists: maybe}}}"),
			nil, []string{`s.yaml:21: components.top.routes[0].filter.state.exists: expected true or false, got "maybe"`}},
		{"regions not a mapping", pool("regions: [a, b]"),
			nil, []string{`s.yaml:9: regions: expected a mapping of region names to quotas, got a list`}},
		{"unit given twice", pool("    service_time_ms: 5"),
			nil, []string{`s.yaml:9: components.w.service_time_ms: service_time is also given as service_time on line 8; give it once`}},
		{"infinite number", patch(t, pool(), "workload:", "workload: {rate_rps: .inf, entry: w}"),
			nil, []string{`s.yaml:3: workload.rate_rps: must be a finite number`}},
		{"negative rate", patch(t, pool(), "workload:", "workload: {rate_rps: -5, entry: w}"),
			nil, []string{`s.yaml:3: workload.rate_rps: must be > 0, got -5`}},
		{"zero rate", patch(t, pool(), "workload:", "workload: {rate_rps: 0, entry: w}"),
			nil, []string{`s.yaml:3: workload.rate_rps: must be > 0, got 0`}},
		{"rate and users", patch(t, pool(), "workload:", "workload: {rate_rps: 1, users: 5, requests_per_user_per_day: 2, entry: w}"),
			nil, []string{`s.yaml:3: workload.rate_rps: give either rate_rps, or users and requests_per_user_per_day, not both`}},
		{"users without requests", patch(t, pool(), "workload:", "workload: {users: 5, entry: w}"),
			nil, []string{`s.yaml:3: workload.users: needs requests_per_user_per_day as well`}},
		{"no load", patch(t, pool(), "workload:", "workload: {entry: w}"),
			nil, []string{`s.yaml:3: workload: needs rate_rps, or users and requests_per_user_per_day`}},
		{"no workload at all", y("name: t", "components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}"),
			nil, []string{`s.yaml:1: workload: needs rate_rps, or users and requests_per_user_per_day`, `s.yaml:1: workload.entry: missing entry`}},
		{"no components", y("name: t", "workload: {rate_rps: 1, entry: w}"),
			nil, []string{`s.yaml:1: components: a scenario needs at least one component`}},
		{"unknown arrival", patch(t, pool(), "workload:", "workload: {rate_rps: 1, entry: w, arrival: bursty}"),
			nil, []string{`s.yaml:3: workload.arrival: unknown arrival process "bursty"`}},
		{"missing entry", patch(t, pool(), "workload:", "workload: {rate_rps: 1, entry: wx}"),
			nil, []string{`s.yaml:3: workload.entry: no component named "wx" (did you mean w?); components: w`}},
		{"no entry", patch(t, pool(), "workload:", "workload: {rate_rps: 1}"),
			nil, []string{`s.yaml:3: workload.entry: missing entry`}},
		{"mix does not sum to 1", patch(t, pool(), "workload:", "workload: {rate_rps: 1, entry: w, mix: {state: {a: 0.5, b: 0.4}}}"),
			nil, []string{`s.yaml:3: workload.mix.state: probabilities must sum to 1, got 0.9 (a 0.5 + b 0.4)`}},
		{"probability above 1", patch(t, pool(), "workload:", "workload: {rate_rps: 1, entry: w, mix: {state: {a: 1.5, b: -0.5}}}"),
			nil, []string{`s.yaml:3: workload.mix.state.a: a probability is between 0 and 1, got 1.5`}},
		{"probability not a number", patch(t, pool(), "workload:", "workload: {rate_rps: 1, entry: w, mix: {state: {a: half}}}"),
			nil, []string{`s.yaml:3: workload.mix.state.a: expected a number, got "half"`}},
		{"profile key of another kind", y("workload:", "  users: 10", "  requests_per_user_per_day: 1", "  entry: w", "  profile: {peak_to_mean: 3}", "components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}"),
			nil, []string{`s.yaml:5: workload.profile.peak_to_mean: applies to a diurnal profile (kind: diurnal), not to kind flat`}},
		{"hourly needs 24", y("workload:", "  users: 10", "  requests_per_user_per_day: 1", "  entry: w", "  profile: {kind: hourly, hourly: [1, 2]}", "components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}"),
			nil, []string{`s.yaml:5: workload.profile.hourly: needs 24 weights, one per hour from midnight, got 2`}},
		{"diurnal below 1", y("workload:", "  users: 10", "  requests_per_user_per_day: 1", "  entry: w", "  profile: {kind: diurnal, peak_to_mean: 0.5}", "components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}"),
			nil, []string{`s.yaml:5: workload.profile.peak_to_mean: must be between 1 (flat) and 24 (a day's traffic in one hour), got 0.5`}},
		{"diurnal too peaky", y("workload:", "  users: 10", "  requests_per_user_per_day: 1", "  entry: w", "  profile: {kind: diurnal, peak_to_mean: 1e9}", "components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}"),
			nil, []string{`s.yaml:5: workload.profile.peak_to_mean: must be between 1 (flat) and 24`}},
		{"deterministic diurnal", y("workload:", "  users: 10", "  arrival: deterministic", "  requests_per_user_per_day: 1", "  entry: w", "  profile: {kind: diurnal, peak_to_mean: 2}", "components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}"),
			nil, []string{`s.yaml:3: workload.arrival: deterministic arrivals need a flat profile, not diurnal`}},
		{"profile on a rate", y("workload:", "  rate_rps: 10", "  entry: w", "  profile: {kind: diurnal, peak_to_mean: 2}", "components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}"),
			nil, []string{`s.yaml:4: workload.profile.kind: a diurnal profile shapes users × requests_per_user_per_day; a rate_rps workload is flat`}},
		{"concurrency zero", patch(t, pool(), "concurrency:", "concurrency: 0"),
			nil, []string{`s.yaml:7: components.w.concurrency: must be >= 1 (the number of servers), got 0`}},
		{"bad queue", patch(t, pool(), "concurrency:", "queue: -3"),
			nil, []string{`s.yaml:7: components.w.queue: expected unbounded, none, or a number of waiting places >= 0, got "-3"`}},
		{"missing service time", patch(t, pool(), "service_time:", "queue: 5"),
			nil, []string{`s.yaml:5: components.w.service_time: missing service_time`}},
		{"unknown dist", patch(t, pool(), "service_time:", "service_time: {dist: normal, mean_ms: 3}"),
			nil, []string{`s.yaml:8: components.w.service_time.dist: unknown distribution "normal"; one of constant, exponential, uniform, lognormal, empirical`}},
		{"missing dist", patch(t, pool(), "service_time:", "service_time: {mean_ms: 3}"),
			nil, []string{`s.yaml:8: components.w.service_time: missing dist: one of constant`}},
		{"missing dist parameter", patch(t, pool(), "service_time:", "service_time: {dist: exponential}"),
			nil, []string{`s.yaml:8: components.w.service_time: exponential needs mean: e.g. mean_ms: 100`}},
		{"parameter of another family", patch(t, pool(), "service_time:", "service_time: {dist: exponential, median_ms: 3}"),
			nil, []string{`s.yaml:8: components.w.service_time.median_ms: median is a parameter of lognormal, not of exponential; exponential takes mean`}},
		{"unknown dist parameter", patch(t, pool(), "service_time:", "service_time: {dist: uniform, min_ms: 1, max_ms: 3, mode_ms: 2}"),
			nil, []string{`s.yaml:8: components.w.service_time.mode_ms: unknown key "mode_ms" for a uniform distribution`}},
		{"exponential mean zero", patch(t, pool(), "service_time:", "service_time: {dist: exponential, mean_ms: 0}"),
			nil, []string{`s.yaml:8: components.w.service_time.mean_ms: must be > 0`}},
		{"uniform max below min", patch(t, pool(), "service_time:", "service_time: {dist: uniform, min_ms: 5, max_ms: 3}"),
			nil, []string{`s.yaml:8: components.w.service_time.max_ms: max (3ms) must be >= min (5ms)`}},
		{"lognormal p99 below median", patch(t, pool(), "service_time:", "service_time: {dist: lognormal, median_ms: 50, p99_ms: 50}"),
			nil, []string{`s.yaml:8: components.w.service_time.p99_ms: p99 (50ms) must be greater than the median (50ms)`}},
		{"lognormal half given", patch(t, pool(), "service_time:", "service_time: {dist: lognormal, median_ms: 50}"),
			nil, []string{`s.yaml:8: components.w.service_time: lognormal needs both median and p99`}},
		{"lognormal mixed", patch(t, pool(), "service_time:", "service_time: {dist: lognormal, median_ms: 50, sigma: 1}"),
			nil, []string{`s.yaml:8: components.w.service_time: lognormal takes median and p99, or mean and sigma, not a mix of both`}},
		{"lognormal sigma", patch(t, pool(), "service_time:", "service_time: {dist: lognormal, mean_ms: 50, sigma: -1}"),
			nil, []string{`s.yaml:8: components.w.service_time.sigma: sigma must be > 0`}},
		{"empirical decreasing", patch(t, pool(), "service_time:", "queue: 1") + y("    service_time:", "      dist: empirical", "      percentiles_ms: {p0: 1, p50: 20, p90: 10, p100: 30}"),
			nil, []string{`s.yaml:11: components.w.service_time.percentiles_ms.p90: percentiles must not decrease: p90 is 10ms, below p50 = 20ms`}},
		{"empirical without p100", patch(t, pool(), "service_time:", "service_time: {dist: empirical, percentiles_ms: {p0: 1, p50: 2}}"),
			nil, []string{`s.yaml:8: components.w.service_time.percentiles_ms: an empirical distribution needs p0 and p100`}},
		{"empirical bad key", patch(t, pool(), "service_time:", "service_time: {dist: empirical, percentiles_ms: {median: 1}}"),
			nil, []string{`s.yaml:8: components.w.service_time.percentiles_ms.median: percentile keys are p0 to p100`}},
		{"unknown kind", patch(t, pool(), "kind:", "kind: lambda"),
			nil, []string{`s.yaml:6: components.w.kind: unknown kind "lambda"; one of pool, gateway, function, table, topic, queue`}},
		{"missing kind", patch(t, pool(), "kind:", "queue: 1"),
			nil, []string{`s.yaml:5: components.w.kind: missing kind`}},
		{"bad component name", y("components:", "  a.b: {kind: pool}"),
			nil, []string{`s.yaml:2: components.a.b: bad component name "a.b"`}},
		{"dangling next", pool("    next: nope"),
			nil, []string{`s.yaml:9: components.w.next: no component named "nope"; components: w`}},
		{"next to itself", pool("    next: w"),
			nil, []string{`s.yaml:9: components.w.next: a component cannot be its own next`}},
		{"cycle without queue", pool("    next: v", "  v: {kind: pool, concurrency: 1, service_time_ms: 1, next: w}"),
			nil, []string{`s.yaml:9: components.w.next: next links form a cycle with no queue in it (w → v → w)`}},
		{"dangling route", patch(t, pipeline, "- {to: q,", "- {to: qq, filter: {state: [a]}}"),
			nil, []string{`s.yaml:21: components.top.routes[0].to: no component named "qq" (did you mean q?)`}},
		{"route to a function", patch(t, pipeline, "- {to: q,", "- {to: fn}"),
			nil, []string{`s.yaml:21: components.top.routes[0].to: fn is a function; a route's target must be a queue`}},
		{"dangling call", patch(t, pipeline, "calls:", "calls: [{to: tbx}]"),
			nil, []string{`s.yaml:16: components.fn.calls[0].to: no component named "tbx" (did you mean tbl?)`}},
		{"call to the wrong kind", patch(t, pipeline, "calls:", "calls: [{to: q}]"),
			nil, []string{`s.yaml:16: components.fn.calls[0].to: q is a queue; a call must be a table or topic`}},
		{"bad call op", patch(t, pipeline, "calls:", "calls: [{to: tbl, op: publish}]"),
			nil, []string{`s.yaml:16: components.fn.calls[0].op: a table call is write or read, got "publish"`}},
		{"filter on an unknown attribute", patch(t, pipeline, "- {to: q,", "- {to: q, filter: {sate: [a]}}"),
			nil, []string{`s.yaml:21: components.top.routes[0].filter.sate: no request carries attribute "sate" (workload.mix has state)`}},
		{"filter on an unknown value", patch(t, pipeline, "- {to: q,", "- {to: q, filter: {state: [c]}}"),
			nil, []string{`s.yaml:21: components.top.routes[0].filter.state: "c" is not a value of state in workload.mix (a, b)`}},
		{"bad filter", patch(t, pipeline, "- {to: q,", "- {to: q, filter: {state: {present: true}}}"),
			nil, []string{`s.yaml:21: components.top.routes[0].filter.state.present: unknown key "present" for a filter condition`}},
		{"wrong next kind", patch(t, pipeline, "next: worker", "next: tbl"),
			nil, []string{`s.yaml:24: components.q.next: tbl is a table; the next of a queue must be a function`}},
		{"topic as a next", patch(t, pipeline, "next: fn", "next: top"),
			nil, []string{`s.yaml:11: components.api.next: top is a topic; the next of a gateway must be a function, pool, queue or deployment; a function publishes to a topic through calls`}},
		{"entry a topic", patch(t, pipeline, "entry: api", "entry: top"),
			nil, []string{`s.yaml:5: workload.entry: top is a topic; arrivals enter a router, gateway, pool, function or queue`}},
		{"queue consumer with a next", patch(t, pipeline, "worker: {kind", "worker: {kind: function, runtime: go, duration_ms: 5, next: fn}"),
			nil, []string{`s.yaml:25: components.worker.next: worker consumes queue q in batches and cannot hand requests on with next`}},
		{"zero backoff", patch(t, pipeline, "next: worker", "throttle_backoff: 0s"),
			nil, []string{`s.yaml:24: components.q.throttle_backoff: must be > 0`}},
		{"table takes no next", patch(t, pipeline, "tbl: {kind: table}", "tbl: {kind: table, next: fn}"),
			nil, []string{`s.yaml:17: components.tbl.next: a table takes no next: a function reaches a table through calls`}},
		{"dangling dead letter", patch(t, pipeline, "next: worker", "dead_letter: dl"),
			nil, []string{`s.yaml:24: components.q.dead_letter: needs max_receives >= 1`}},
		{"dead letter missing", patch(t, pipeline, "next: worker", "{dead_letter: dl, max_receives: 3}"),
			nil, []string{`s.yaml:24: not valid YAML`}},
		{"max receives without dead letter", patch(t, pipeline, "next: worker", "max_receives: 3"),
			nil, []string{`s.yaml:24: components.q.max_receives: needs dead_letter`}},
		{"big batch without window", patch(t, pipeline, "next: worker", "batch_size: 100"),
			nil, []string{`s.yaml:24: components.q.batch_size: a batch larger than 10 needs batching_window >= 1s`}},
		{"memory out of range", patch(t, pipeline, "runtime: go", "memory_mb: 64"),
			nil, []string{`s.yaml:14: components.fn.memory_mb: must be between 128 and 10240`}},
		{"unknown runtime", patch(t, pipeline, "runtime: go", "runtime: cobol"),
			nil, []string{`s.yaml:14: components.fn.runtime: no cold-start default for runtime "cobol" (defaults.yaml has go, python, node, java)`}},
		{"function timeout", patch(t, pipeline, "runtime: go", "timeout: 20m"),
			nil, []string{`s.yaml:14: components.fn.timeout: must be between 1ms and 15m0s, got 20m0s`}},
		{"a default placed in defaults.yaml", patch(t, pipeline, "worker: {kind", "worker: {kind: function, runtime: go, duration_ms: 5, timeout: 60s}"),
			nil, []string{defaultsLine("visibility_timeout") + ` components.q.visibility_timeout: 30s is shorter than the timeout of worker (1m0s)`}},
		{"reserved concurrency", pool("  f1: {kind: function, duration_ms: 1, reserved_concurrency: 500}", "  f2: {kind: function, duration_ms: 1, reserved_concurrency: 450}"),
			nil, []string{`s.yaml:10: components.f2.reserved_concurrency: reserved concurrency in region default totals 950 (f1 500 + f2 450); at most 900 may be reserved (lambda_concurrency 1000 − lambda_unreserved_min 100)`}},
		{"reserved in a bigger region", "regions: {r: {lambda_concurrency: 2000}}\n" + pool("  f1: {kind: function, duration_ms: 1, reserved_concurrency: 1500}", "  f2: {kind: function, duration_ms: 1, reserved_concurrency: 450}"),
			nil, []string{`s.yaml:11: components.f2.reserved_concurrency: reserved concurrency in region r totals 1950 (f1 1500 + f2 450); at most 1900 may be reserved (lambda_concurrency 2000 − lambda_unreserved_min 100)`}},
		{"unknown region", pool("    region: eu"),
			nil, []string{`s.yaml:9: components.w.region: no region named "eu"; regions: default`}},
		{"bad region quota", y("regions:", "  r1: {lambda_concurrency: 0}"),
			nil, []string{`s.yaml:2: regions.r1.lambda_concurrency: must be > 0, got 0`}},
		{"yaml syntax", y("name: t", "horizon: 1h", "workload: x", "  rate_rps: 3"),
			nil, []string{`s.yaml:4: not valid YAML: mapping values are not allowed in this context`}},
		{"duplicate key", y("name: t", "name: u"),
			nil, []string{`s.yaml:2: key "name" given twice (first on line 1)`}},
		{"not a mapping", y("- a", "- b"),
			nil, []string{`s.yaml:1: a scenario is a mapping of keys`}},
		{"empty file", "",
			nil, []string{`s.yaml:1: empty scenario`}},
		{"two documents", y("name: a", "---", "name: b"),
			nil, []string{`s.yaml:2: more than one YAML document`}},
		{"alias bomb", y("a: &a [1,1,1,1,1,1,1,1,1,1]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]", "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]", "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]"),
			nil, []string{`s.yaml:`, `document too large`}},
		{"set without =", pool(), []string{"workload.rate_rps"},
			[]string{`--set workload.rate_rps: expected key=value`}},
		{"set on a missing component", pool(), []string{"components.x.concurrency=3"},
			[]string{`--set components.x.concurrency=3: components.x.concurrency: no component named "x"; components: w`}},
		{"set with a bad value", pool(), []string{"components.w.concurrency=abc"},
			[]string{`--set components.w.concurrency=abc: components.w.concurrency: expected a whole number, got "abc"`}},
		{"set with an unknown key", pool(), []string{"workload.rate=3"},
			[]string{`--set workload.rate=3: workload.rate: unknown key "rate" for workload (did you mean rate_rps?)`}},
		{"set into a value", pool(), []string{"workload.rate_rps.x=3"},
			[]string{`--set workload.rate_rps.x=3: workload.rate_rps.x: workload.rate_rps is a single value, it has no key "x"`}},
		{"set past a list", pipeline, []string{"components.top.routes.5.to=q"},
			[]string{`--set components.top.routes.5.to=q: components.top.routes.5.to: components.top.routes is a list of 1`}},
		{"set bad yaml", pool(), []string{"workload.rate_rps=[1"},
			[]string{`--set workload.rate_rps=[1: workload.rate_rps: not valid YAML`}},
		{"set negative rate", pool(), []string{"workload.rate_rps=-1"},
			[]string{`--set workload.rate_rps=-1: workload.rate_rps: must be > 0, got -1`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadFiles(map[string]string{"s.yaml": tc.text}, "s.yaml", tc.sets...)
			if err == nil {
				t.Fatalf("loaded without error; want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n  %s\nwant it to contain\n  %s", err, w)
				}
			}
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Errorf("error %v is not a *Error with a message", err)
			}
		})
	}
}
