package scenarios

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMMCRoundTrip(t *testing.T) {
	s, err := Load("mmc")
	if err != nil {
		t.Fatal(err)
	}
	top := *s
	top.Regions, top.Components = nil, nil
	wantTop := Scenario{
		Name:        "mmc",
		Description: "Textbook M/M/10 queue; checks the kernel against Erlang C.",
		Horizon:     Duration(400 * time.Hour),
		Seed:        1,
		Workload: Workload{
			Arrival: "poisson", RateRPS: 8, Entry: "workers", PayloadBytes: 1024,
			Profile: Profile{Kind: "flat"},
		},
		Source: "bundled:mmc",
	}
	if !reflect.DeepEqual(top, wantTop) {
		t.Errorf("mmc =\n%+v\nwant\n%+v", top, wantTop)
	}
	if len(s.Components) != 1 || len(s.Regions) != 1 {
		t.Fatalf("%d components, %d regions; want 1 and 1", len(s.Components), len(s.Regions))
	}
	c := *s.Components[0]
	pool := *c.Pool
	c.Pool = nil
	if want := (Component{Name: "workers", Kind: KindPool, Region: "default", Pos: Pos{File: "mmc.yaml", Line: 6}}); !reflect.DeepEqual(c, want) {
		t.Errorf("component %+v, want %+v", c, want)
	}
	wantPool := Pool{Concurrency: 10, QueueCapacity: QueueUnbounded, ServiceTime: Dist{Kind: DistExponential, Mean: Duration(time.Second)}}
	if !reflect.DeepEqual(pool, wantPool) {
		t.Errorf("pool %+v, want %+v", pool, wantPool)
	}
	r := s.Regions[0]
	if r.Name != "default" || r.LambdaConcurrency != 1000 || r.LambdaUnreservedMin != 100 || r.LambdaScalingBurst != 1000 ||
		r.LambdaScalingRefillRate != 100 || r.APIGatewayRateRPS != 10000 || r.APIGatewayBurst != 5000 || r.SNSPublishRPS != 30000 {
		t.Errorf("region %+v", r)
	}
}

func TestMMCSetsLossSystem(t *testing.T) {
	s, err := Load("mmc", WithSets([]string{
		"components.workers.concurrency=37",
		"workload.rate_rps=30",
		"components.workers.queue=none",
	}))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Component("workers").Pool
	if p.Concurrency != 37 || p.QueueCapacity != QueueNone || s.Workload.RateRPS != 30 {
		t.Errorf("got c=%d queue=%d rate=%g; want 37, none, 30", p.Concurrency, p.QueueCapacity, s.Workload.RateRPS)
	}
}

func TestSets(t *testing.T) {
	cases := []struct {
		name  string
		ref   string
		sets  []string
		check func(t *testing.T, s *Scenario)
	}{
		{"bounded queue", "mmc", []string{"components.workers.queue=5"}, func(t *testing.T, s *Scenario) {
			if q := s.Component("workers").Pool.QueueCapacity; q != 5 {
				t.Errorf("queue = %d, want 5", q)
			}
		}},
		{"removing a key restores the default", "mmc", []string{"components.workers.queue=none", "components.workers.queue="}, func(t *testing.T, s *Scenario) {
			if q := s.Component("workers").Pool.QueueCapacity; q != QueueUnbounded {
				t.Errorf("queue = %d, want unbounded", q)
			}
		}},
		{"another unit spelling wins over the file", "mmc", []string{"components.workers.service_time.mean_s=2.5"}, func(t *testing.T, s *Scenario) {
			if m := s.Component("workers").Pool.ServiceTime.Mean; m.D() != 2500*time.Millisecond {
				t.Errorf("mean = %s, want 2.5s", m)
			}
		}},
		{"a whole distribution", "mmc", []string{"components.workers.service_time={dist: lognormal, median_ms: 50, p99_ms: 400}"}, func(t *testing.T, s *Scenario) {
			d := s.Component("workers").Pool.ServiceTime
			if d.Kind != DistLognormal || d.Median.D() != 50*time.Millisecond || d.Mean != 0 {
				t.Errorf("service_time = %+v", d)
			}
		}},
		{"horizon and seed", "mmc", []string{"horizon=2h", "seed=42", "warmup_m=10"}, func(t *testing.T, s *Scenario) {
			if s.Horizon.D() != 2*time.Hour || s.Seed != 42 || s.Warmup.D() != 10*time.Minute {
				t.Errorf("horizon %s seed %d warmup %s", s.Horizon, s.Seed, s.Warmup)
			}
		}},
		{"the later set wins", "mmc", []string{"workload.rate_rps=3", "workload.rate_rps=4"}, func(t *testing.T, s *Scenario) {
			if s.Workload.RateRPS != 4 {
				t.Errorf("rate = %g, want 4", s.Workload.RateRPS)
			}
		}},
		{"a region created by --set gets the defaults", "mmc", []string{"regions.us-west-2.lambda_concurrency=3000"}, func(t *testing.T, s *Scenario) {
			r := s.Region("us-west-2")
			if r == nil || r.LambdaConcurrency != 3000 || r.SNSPublishRPS != 9000 || r.LambdaUnreservedMin != 100 {
				t.Fatalf("region = %+v", r)
			}
			if s.Component("workers").Region != "us-west-2" {
				t.Errorf("component region = %q", s.Component("workers").Region)
			}
		}},
		{"list items by index, both spellings", "baseline", []string{"components.events.routes.0.to=q_approved", "components.events.routes[1].filter.state=[pending]"}, func(t *testing.T, s *Scenario) {
			r := s.Component("events").Topic.Routes
			if r[0].To != "q_approved" || r[1].Filter[0].AnyOf[0] != "pending" {
				t.Errorf("routes = %+v", r)
			}
		}},
		{"users", "baseline", []string{"workload.users=1e6"}, func(t *testing.T, s *Scenario) {
			if s.Workload.Users != 1_000_000 {
				t.Errorf("users = %d", s.Workload.Users)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(tc.ref, WithSets(tc.sets))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestExtends(t *testing.T) {
	files := map[string]string{
		"base.yaml": y(
			"name: base",
			"description: the base",
			"horizon: 2h",
			"workload: {rate_rps: 5, entry: a}",
			"components:",
			"  a: {kind: pool, concurrency: 2, service_time: {dist: exponential, mean: 1s}, next: b}",
			"  b: {kind: pool, concurrency: 3, service_time_ms: 10}",
			"  c: {kind: pool, concurrency: 1, service_time_ms: 10}",
		),
		"dir/variant.yaml": y(
			"extends: ../base.yaml",
			"workload: {rate_rps: 7}",
			"components:",
			"  a: {concurrency: 4, service_time: {mean_ms: 500}}",
			"  b: {kind: function, runtime: node, duration_ms: 20}", // another kind replaces b
			"  c: ~", // removed
			"  d: {kind: pool, concurrency: 9, service_time_ms: 1}", // added after the base's
		),
		"dir/third.yaml": y(
			"extends: variant.yaml",
			"name: third",
			"components: {d: {concurrency: 10}}",
		),
	}
	s, err := loadFiles(files, "dir/variant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "variant" || s.Description != "" || s.Extends != "../base.yaml" || s.Source != "dir/variant.yaml" {
		t.Errorf("name %q description %q extends %q source %q", s.Name, s.Description, s.Extends, s.Source)
	}
	if s.Horizon.D() != 2*time.Hour || s.Workload.RateRPS != 7 || s.Workload.Entry != "a" {
		t.Errorf("horizon %s rate %g entry %q", s.Horizon, s.Workload.RateRPS, s.Workload.Entry)
	}
	var names []string
	for _, c := range s.Components {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "a,b,d" {
		t.Errorf("components %v, want a,b,d", names)
	}
	a := s.Component("a").Pool
	if a.Concurrency != 4 || a.ServiceTime.Mean.D() != 500*time.Millisecond || a.ServiceTime.Kind != DistExponential {
		t.Errorf("a = %+v", a)
	}
	if b := s.Component("b"); b.Kind != KindFunction || b.Pool != nil || b.Function.Init.Median.D() != 208*time.Millisecond {
		t.Errorf("b = %+v %+v", b, b.Function)
	}
	if p := s.Component("a").Pos; p != (Pos{File: "dir/variant.yaml", Line: 4}) {
		t.Errorf("a declared at %s", p)
	}

	s, err = loadFiles(files, "dir/third.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "third" || s.Component("d").Pool.Concurrency != 10 || s.Component("a").Pool.Concurrency != 4 {
		t.Errorf("third: name %q d %+v", s.Name, s.Component("d").Pool)
	}

	// An error in a value the base file wrote is placed in the base file.
	files["bad.yaml"] = y("extends: base.yaml", "components: {b: {service_time: {dist: exponential}}}")
	_, err = loadFiles(files, "bad.yaml")
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:2: components.b.service_time: exponential needs mean") {
		t.Errorf("err = %v", err)
	}
	files["bad2.yaml"] = y("extends: base.yaml", "components: {b: {concurrency: 0}}", "horizon: 1h")
	_, err = loadFiles(files, "bad2.yaml", "components.a.concurrency=x")
	if err == nil || !strings.Contains(err.Error(), "--set components.a.concurrency=x: components.a.concurrency: expected a whole number") {
		t.Errorf("err = %v", err)
	}
}

func TestExtendsBundled(t *testing.T) {
	files := map[string]string{"big.yaml": y(
		"extends: mmc",
		"description: |",
		"  M/M/40 at 35 requests/s.",
		"workload: {rate_rps: 35}",
		"components: {workers: {concurrency: 40}}",
	)}
	s, err := loadFiles(files, "big.yaml", "components.workers.queue=none")
	if err != nil {
		t.Fatal(err)
	}
	p := s.Component("workers").Pool
	if s.Extends != "mmc" || s.Horizon.D() != 400*time.Hour || p.Concurrency != 40 || p.QueueCapacity != QueueNone || s.Workload.RateRPS != 35 {
		t.Errorf("extends %q horizon %s pool %+v rate %g", s.Extends, s.Horizon, p, s.Workload.RateRPS)
	}
	if s.Description != "M/M/40 at 35 requests/s.\n" {
		t.Errorf("description %q", s.Description)
	}
}

func TestExtendsErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		ref   string
		want  string
	}{
		{"cycle", map[string]string{"a.yaml": "extends: b.yaml\n", "b.yaml": "name: b\nextends: a.yaml\n"}, "a.yaml",
			"b.yaml:2: extends: extends cycle: a.yaml → b.yaml → a.yaml"},
		{"self", map[string]string{"a.yaml": "extends: ./a.yaml\n"}, "a.yaml",
			"a.yaml:1: extends: extends cycle: a.yaml → a.yaml"},
		{"missing file", map[string]string{"a.yaml": "name: a\nextends: nope.yaml\n"}, "a.yaml",
			"a.yaml:2: extends: cannot read nope.yaml: file does not exist"},
		{"not a name", map[string]string{"a.yaml": "extends: [mmc]\n"}, "a.yaml",
			"a.yaml:1: extends: expected the name of a bundled scenario or a file path, got a list"},
		{"unknown scenario", nil, "nosuch",
			`no bundled scenario or file named "nosuch" (bundled: baseline, `},
		{"missing file on the command line", nil, "x/nosuch.yaml",
			`cannot read x/nosuch.yaml: file does not exist`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadFiles(tc.files, tc.ref)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestLoadFromDisk(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(pool()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "v.yaml"), []byte("extends: base.yaml\nworkload: {rate_rps: 2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(filepath.Join(dir, "v.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "v" || s.Workload.RateRPS != 2 || s.Source != filepath.Join(dir, "v.yaml") {
		t.Errorf("name %q rate %g source %q", s.Name, s.Workload.RateRPS, s.Source)
	}
}

func TestDefaultsApplied(t *testing.T) {
	s, err := loadFiles(map[string]string{"p.yaml": pipeline}, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != 1 || s.Warmup != 0 || s.Workload.Arrival != "poisson" || len(s.Regions) != 1 || s.Regions[0].Name != DefaultRegion {
		t.Errorf("seed %d warmup %s arrival %q regions %d", s.Seed, s.Warmup, s.Workload.Arrival, len(s.Regions))
	}
	g := s.Component("api").Gateway
	if g.API != "rest" || g.Timeout.D() != 29*time.Second || g.Overhead.Kind != DistLognormal {
		t.Errorf("gateway %+v", g)
	}
	f := s.Component("fn").Function
	if f.MemoryMB != 128 || f.Timeout.D() != 3*time.Second || f.Architecture != "x86" || f.IdleLifetime.D() != 10*time.Minute ||
		f.Init.Median.D() != 70*time.Millisecond || !reflect.DeepEqual(f.Duration, Dist{Kind: DistConstant, Value: Duration(20 * time.Millisecond)}) {
		t.Errorf("function %+v", f)
	}
	tb := s.Component("tbl").Table
	if tb.Mode != "on_demand" || tb.OnDemandInitialWRU != 4000 || tb.OnDemandInitialRRU != 12000 || tb.OnDemandPeakWindow.D() != 30*time.Minute || tb.ItemKB != 1 {
		t.Errorf("table %+v", tb)
	}
	q := s.Component("q").Queue
	if q.VisibilityTimeout.D() != 30*time.Second || q.BatchSize != 10 || q.PollerStart != 5 || q.PollerRampPerM != 300 || q.PollerMax != 1250 {
		t.Errorf("queue %+v", q)
	}
	if c := s.Component("worker"); c.Region != DefaultRegion {
		t.Errorf("worker region %q", c.Region)
	}
	// A runtime without init uses defaults.yaml's python unless told.
	s, err = loadFiles(map[string]string{"p.yaml": patch(t, pipeline, "runtime: go", "memory_mb: 512")}, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Component("fn").Function; f.Runtime != "python" || f.Init.Median.D() != 106*time.Millisecond || f.MemoryMB != 512 {
		t.Errorf("function %+v", f)
	}
}

func TestProfiles(t *testing.T) {
	weights := "[1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2]"
	text := y("workload:", "  users: 1000", "  requests_per_user_per_day: 86.4", "  entry: w",
		"  profile: {kind: hourly, hourly: "+weights+"}",
		"components: {w: {kind: pool, concurrency: 1, service_time_ms: 5}}")
	s, err := loadFiles(map[string]string{"h.yaml": text}, "h.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, w := range s.Workload.Profile.Hourly {
		sum += w
	}
	if math.Abs(sum/24-1) > 1e-12 || math.Abs(s.Workload.Profile.Hourly[0]-0.5) > 1e-12 {
		t.Errorf("hourly %v: mean %g, want 1", s.Workload.Profile.Hourly, sum/24)
	}
	if s.Workload.MeanRPS() != 1 {
		t.Errorf("mean rps %g", s.Workload.MeanRPS())
	}
	text = patch(t, text, "profile:", "profile: {kind: diurnal, peak_to_mean: 2.5}")
	s, err = loadFiles(map[string]string{"h.yaml": text}, "h.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Workload.Profile; p.PeakToMean != 2.5 || p.PeakHour != 13 || p.Hourly != nil {
		t.Errorf("profile %+v", p)
	}
}

func TestFilterForms(t *testing.T) {
	text := patch(t, pipeline, "- {to: q,", "- {to: q, filter: {state: a, tenant: {exists: false}}}")
	s, err := loadFiles(map[string]string{"p.yaml": text}, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := s.Component("top").Topic.Routes[0].Filter
	if len(f) != 2 || f[0].Attribute != "state" || !reflect.DeepEqual(f[0].AnyOf, []string{"a"}) || f[1].Exists == nil || *f[1].Exists {
		t.Errorf("filter %+v", f)
	}
}

func TestDistForms(t *testing.T) {
	cases := map[string]Dist{
		"service_time_ms: 7": {Kind: DistConstant, Value: Duration(7 * time.Millisecond)},
		"service_time: 1.5s": {Kind: DistConstant, Value: Duration(1500 * time.Millisecond)},
		"service_time: {dist: uniform, min_us: 10, max: 1ms}":      {Kind: DistUniform, Min: Duration(10 * time.Microsecond), Max: Duration(time.Millisecond)},
		"service_time: {dist: lognormal, mean_ms: 60, sigma: 0.5}": {Kind: DistLognormal, Mean: Duration(60 * time.Millisecond), Sigma: 0.5},
		"service_time: {dist: empirical, percentiles_ms: {p100: 9, p0: 1, p99.9: 8, p50: 2}}": {Kind: DistEmpirical, Percentiles: []Percentile{
			{0, Duration(time.Millisecond)}, {0.5, Duration(2 * time.Millisecond)}, {0.999, Duration(8 * time.Millisecond)}, {1, Duration(9 * time.Millisecond)}}},
		"service_time: {dist: empirical, percentiles: {p0: 1ms, p100: 2s}}": {Kind: DistEmpirical, Percentiles: []Percentile{
			{0, Duration(time.Millisecond)}, {1, Duration(2 * time.Second)}}},
	}
	for line, want := range cases {
		s, err := loadFiles(map[string]string{"s.yaml": patch(t, pool(), "service_time:", line)}, "s.yaml")
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if got := s.Component("w").Pool.ServiceTime; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", line, got, want)
		}
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	text := y(
		"workload: {rate_rps: 1, entry: a}",
		"x-pool: &p {kind: pool, concurrency: 2, service_time_ms: 5}",
		"components:",
		"  a: {<<: *p, concurrency: 3}",
		"  b: *p",
	)
	_, err := loadFiles(map[string]string{"s.yaml": text}, "s.yaml")
	if err == nil || !strings.Contains(err.Error(), `s.yaml:2: x-pool: unknown key "x-pool"`) {
		t.Fatalf("err = %v", err)
	}
	text = strings.Replace(text, "x-pool: &p {kind: pool, concurrency: 2, service_time_ms: 5}\n", "", 1)
	text = strings.Replace(text, "  a: {<<: *p, concurrency: 3}", "  a: &p {kind: pool, concurrency: 3, service_time_ms: 5}\n  c: {<<: *p, concurrency: 4}", 1)
	s, err := loadFiles(map[string]string{"s.yaml": text}, "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Component("a").Pool.Concurrency != 3 || s.Component("c").Pool.Concurrency != 4 || s.Component("b").Pool.Concurrency != 3 {
		t.Errorf("pools %+v %+v %+v", s.Component("a").Pool, s.Component("b").Pool, s.Component("c").Pool)
	}
}

func TestSeveralErrorsAtOnce(t *testing.T) {
	text := pool("  v: {kind: pool, concurrency: x, service_time_ms: 5}", "  u: {kind: pool, concurrency: 1, service_time: 5}")
	_, err := loadFiles(map[string]string{"s.yaml": text}, "s.yaml")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("err = %v, want two errors", err)
	}
	if list[0].Line != 9 || list[1].Line != 10 || list[1].Key != "components.u.service_time" {
		t.Errorf("errors %+v %+v", list[0], list[1])
	}
	var first *Error
	if !errors.As(err, &first) || first != list[0] {
		t.Errorf("errors.As gives %v", first)
	}
}

func TestLoadIsDeterministic(t *testing.T) {
	a, err := Load("baseline")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Load("baseline")
	if !reflect.DeepEqual(a, b) {
		t.Error("two loads of baseline differ")
	}
}

func TestNullMeansNotGiven(t *testing.T) {
	text := patch(t, pipeline, "api:", "api: {kind: gateway, next: fn, timeout: ~, overhead_ms: 0}")
	text = patch(t, text, "kind: gateway", "")
	text = patch(t, text, "next: fn", "")
	text = strings.Replace(text, "components:\n", "regions: {us-west-2: ~}\ncomponents:\n", 1)
	s, err := loadFiles(map[string]string{"p.yaml": text}, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := s.Component("api").Gateway
	if g.Timeout.D() != 29*time.Second || g.Overhead.Kind != DistConstant || g.Overhead.Value != 0 {
		t.Errorf("gateway %+v", g)
	}
	if r := s.Region("us-west-2"); r == nil || r.SNSPublishRPS != 9000 || len(s.Regions) != 1 {
		t.Errorf("regions %+v", s.Regions)
	}
	if _, err := Load(" "); err == nil || !strings.Contains(err.Error(), "no scenario given") {
		t.Errorf("err = %v", err)
	}
}

// TestFormatExample loads the extends example of FORMAT.md, which must stay valid.
func TestFormatExample(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(doc), "```yaml\nextends: baseline")
	if start < 0 {
		t.Fatal("FORMAT.md has no extends example")
	}
	text := string(doc)[start+len("```yaml\n"):]
	text = text[:strings.Index(text, "```")]
	s, err := loadFiles(map[string]string{"per-state.yaml": text}, "per-state.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, v := range s.Workload.Mix[0].Values {
		states = append(states, v.Value)
	}
	if strings.Join(states, ",") != "pending,approved,rejected,cancelled" || s.Workload.Mix[0].Values[0].P != 0.6 ||
		s.Component("request").Function.Timeout.D() != 3*time.Second || s.Component("q_pending").Next != "p_pending" ||
		s.Component("p_pending").Function.ReservedConcurrency != 300 || s.Component("q_approved").Next != "processor" {
		t.Errorf("states %v, q_pending → %s", states, s.Component("q_pending").Next)
	}
}

func TestManyErrorsAreCapped(t *testing.T) {
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("k%d: 1", i))
	}
	_, err := loadFiles(map[string]string{"s.yaml": y(lines...)}, "s.yaml")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 30 {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "\n"); n != maxErrors || !strings.HasSuffix(msg, "... and 10 more") {
		t.Errorf("%d lines, ending %q", n+1, msg[len(msg)-20:])
	}
}

func TestDurationStrings(t *testing.T) {
	for text, want := range map[string]time.Duration{"2d": 48 * time.Hour, "1.5h": 90 * time.Minute, "400h": 400 * time.Hour, "90m": 90 * time.Minute, "0": 0} {
		s, err := Load("mmc", WithSets([]string{"horizon=" + text, "warmup=0s"}))
		if text == "0" {
			if err == nil || !strings.Contains(err.Error(), "horizon: must be > 0") {
				t.Errorf("horizon 0: err = %v", err)
			}
			continue
		}
		if err != nil || s.Horizon.D() != want {
			t.Errorf("horizon %s: %v, %v", text, s, err)
		}
	}
}

// A distribution given whole replaces the inherited one, whatever its form; one parameter
// given alone changes that parameter; --set of another family drops the old family's
// parameters, and a later --set adds the new ones.
func TestDistributionOverrides(t *testing.T) {
	files := map[string]string{"meansigma.yaml": y(
		"extends: baseline",
		"components: {request: {duration: {dist: lognormal, mean_ms: 40, sigma: 0.5}}}",
	)}
	s, err := loadFiles(files, "meansigma.yaml")
	require.NoError(t, err)
	d := s.Component("request").Function.Duration
	require.Equal(t, Duration(40*time.Millisecond), d.Mean)
	require.Equal(t, 0.5, d.Sigma)
	require.Zero(t, d.Median)
	require.Zero(t, d.P99)

	s, err = Load("baseline", WithSets([]string{"components.request.duration.median_ms=40"}))
	require.NoError(t, err)
	d = s.Component("request").Function.Duration
	require.Equal(t, Duration(40*time.Millisecond), d.Median)
	require.Equal(t, Duration(110*time.Millisecond), d.P99, "the p99 the baseline gives is kept")

	s, err = Load("baseline", WithSets([]string{
		"components.request.duration.dist=exponential", "components.request.duration.mean_ms=40"}))
	require.NoError(t, err)
	d = s.Component("request").Function.Duration
	require.Equal(t, DistExponential, d.Kind)
	require.Equal(t, Duration(40*time.Millisecond), d.Mean)

	// The same family named again by --set keeps the parameters.
	s, err = Load("baseline", WithSets([]string{"components.request.duration.dist=lognormal"}))
	require.NoError(t, err)
	require.Equal(t, Duration(110*time.Millisecond), s.Component("request").Function.Duration.P99)
}
