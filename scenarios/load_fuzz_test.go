package scenarios

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary scenario files and --set overrides to the loader. It must never
// panic; it must either return a scenario that satisfies the invariants the simulator
// relies on, or errors that each name what is wrong.
func FuzzLoad(f *testing.F) {
	for _, name := range bundledNames() {
		data, _ := bundledFS.ReadFile("bundled/" + name + ".yaml")
		f.Add(data, "")
	}
	f.Add([]byte(pipeline), "components.top.routes.0.to=q")
	f.Add([]byte(pool()), "components.w.queue=none")
	f.Add([]byte("extends: mmc\nworkload: {rate_rps: 9}\n"), "components.workers.concurrency=3")
	f.Add([]byte("extends: base.yaml\ncomponents: {x: ~}\n"), "horizon=1h")
	f.Add([]byte("a: &a [*a]\n"), "")
	f.Add([]byte("components: {w: {<<: [{kind: pool}], concurrency: 1}}\n"), "workload=")
	f.Add([]byte(pool("    service_time: {dist: empirical, percentiles_ms: {p0: 1, p100: 2}}")), "components.w.service_time.dist=lognormal")

	f.Fuzz(func(t *testing.T, data []byte, set string) {
		fsys := fstest.MapFS{
			"s.yaml":    {Data: data},
			"base.yaml": {Data: []byte(pipeline)},
		}
		var sets []string
		if set != "" {
			sets = strings.Split(set, "\n")
		}
		s, err := Load("s.yaml", WithFS(fsys), WithSets(sets))
		if err != nil {
			checkError(t, err)
			return
		}
		checkScenario(t, s)
	})
}

func checkError(t *testing.T, err error) {
	var list ErrorList
	if errors.As(err, &list) {
		if len(list) < 2 {
			t.Fatalf("ErrorList of %d", len(list))
		}
		for _, e := range list {
			checkOne(t, e)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not a *Error", err, err)
	}
	checkOne(t, e)
}

func checkOne(t *testing.T, e *Error) {
	if e.Msg == "" || e.Error() == "" {
		t.Fatalf("empty error %#v", e)
	}
	if e.File == "" && e.Key == "" && !strings.Contains(e.Msg, "scenario") {
		t.Fatalf("error placed nowhere: %#v", e)
	}
}

func checkScenario(t *testing.T, s *Scenario) {
	if s.Name == "" || s.Horizon <= 0 || s.Warmup < 0 || s.Warmup >= s.Horizon {
		t.Fatalf("scenario %q horizon %s warmup %s", s.Name, s.Horizon, s.Warmup)
	}
	if len(s.Regions) == 0 || len(s.Components) == 0 {
		t.Fatalf("%d regions, %d components", len(s.Regions), len(s.Components))
	}
	if s.Workload.MeanRPS() <= 0 || s.Component(s.Workload.Entry) == nil {
		t.Fatalf("workload %+v", s.Workload)
	}
	seen := map[string]bool{}
	for _, c := range s.Components {
		if seen[c.Name] {
			t.Fatalf("component %s twice", c.Name)
		}
		seen[c.Name] = true
		set := 0
		for _, p := range []bool{c.Pool != nil, c.Gateway != nil, c.Function != nil, c.Table != nil, c.Topic != nil, c.Queue != nil,
			c.LoadBalancer != nil, c.VMTier != nil, c.Cache != nil, c.Database != nil, c.Deployment != nil, c.Router != nil} {
			if p {
				set++
			}
		}
		if set != 1 || s.Region(c.Region) == nil {
			t.Fatalf("component %s: %d kind structs, region %q", c.Name, set, c.Region)
		}
		if c.Next != "" && s.Component(c.Next) == nil {
			t.Fatalf("component %s: dangling next %q", c.Name, c.Next)
		}
		for _, d := range dists(c) {
			checkDist(t, c.Name, d)
		}
		switch {
		case c.Pool != nil && c.Pool.Concurrency < 1:
			t.Fatalf("pool %s with %d servers", c.Name, c.Pool.Concurrency)
		case c.Function != nil && c.Function.Init.IsZero():
			t.Fatalf("function %s without init", c.Name)
		}
	}
	for _, a := range s.Workload.Mix {
		sum := 0.0
		for _, v := range a.Values {
			sum += v.P
		}
		if sum < 1-1e-9 || sum > 1+1e-9 {
			t.Fatalf("mix %s sums to %g", a.Name, sum)
		}
	}
}

func dists(c *Component) []Dist {
	switch {
	case c.Pool != nil:
		return []Dist{c.Pool.ServiceTime}
	case c.Gateway != nil:
		return []Dist{c.Gateway.Overhead}
	case c.Function != nil:
		return []Dist{c.Function.Duration, c.Function.Init}
	case c.Table != nil:
		return []Dist{c.Table.ReadLatency, c.Table.WriteLatency}
	case c.Topic != nil:
		return []Dist{c.Topic.PublishLatency, c.Topic.DeliveryLatency}
	}
	return nil
}

func checkDist(t *testing.T, name string, d Dist) {
	bad := false
	switch d.Kind {
	case "", DistConstant:
		bad = d.Value < 0
	case DistExponential:
		bad = d.Mean <= 0
	case DistUniform:
		bad = d.Min < 0 || d.Max < d.Min
	case DistLognormal:
		bad = !(d.Median > 0 && d.P99 > d.Median) && !(d.Mean > 0 && d.Sigma > 0)
	case DistEmpirical:
		ps := d.Percentiles
		bad = len(ps) < 2 || ps[0].Q != 0 || ps[len(ps)-1].Q != 1
		for i := 1; i < len(ps) && !bad; i++ {
			bad = ps[i].Q <= ps[i-1].Q || ps[i].V < ps[i-1].V
		}
	default:
		bad = true
	}
	if bad {
		t.Fatalf("component %s: bad distribution %+v", name, d)
	}
}
