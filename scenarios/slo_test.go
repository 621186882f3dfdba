package scenarios

import (
	"strings"
	"testing"
)

func TestParseSLO(t *testing.T) {
	for _, c := range []struct {
		expr   string
		metric string
		op     string
		value  float64
		canon  string
	}{
		{"api.p99<=300ms", "api.p99", "<=", 300, "api.p99<=300ms"},
		{"  api.p99 <= 300ms ", "api.p99", "<=", 300, "api.p99<=300ms"},
		{"end_to_end.p99<=60s", "end_to_end.p99", "<=", 60_000, "end_to_end.p99<=60s"},
		{"end_to_end.p999<2m", "end_to_end.p999", "<", 120_000, "end_to_end.p999<2m"},
		{"api.mean<=1.5s", "api.mean", "<=", 1500, "api.mean<=1.5s"},
		{"api.max<250us", "api.max", "<", 0.25, "api.max<250us"},
		{"max_queue_age<=5m", "max_queue_age", "<=", 300_000, "max_queue_age<=5m"},
		{"throttle_ratio<=0.001", "throttle_ratio", "<=", 0.001, "throttle_ratio<=0.001"},
		{"throttle_ratio<=0.1%", "throttle_ratio", "<=", 0.001, "throttle_ratio<=0.1%"},
		{"error_ratio<0.01", "error_ratio", "<", 0.01, "error_ratio<0.01"},
		{"completed_ratio>=0.999", "completed_ratio", ">=", 0.999, "completed_ratio>=0.999"},
		{"completed_ratio>99%", "completed_ratio", ">", 0.99, "completed_ratio>99%"},
	} {
		s, err := ParseSLO(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if s.Metric != c.metric || s.Op != c.op || abs(s.Value-c.value) > 1e-12 || s.Expr != c.canon {
			t.Errorf("%q = %+v, want %s %s %v (%s)", c.expr, s, c.metric, c.op, c.value, c.canon)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestParseSLOErrorsNameTheExpression(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"api.p99", `SLO "api.p99": expected METRIC OP VALUE`},
		{"api.p99<=300", `SLO "api.p99<=300": api.p99 is a time: give the unit, e.g. 300ms or 300s`},
		{"api.p99<=fast", `api.p99 is a time: expected a duration such as 300ms`},
		{"api.p99<=0ms", `the bound must be > 0`},
		{"api.p99>=300ms", `api.p99 is bounded from above (more is worse): use <= or <`},
		{"completed_ratio<=0.9", `completed_ratio is bounded from below: use >= or >`},
		{"api.p99=300ms", `an objective is a bound: use <=, <, >= or >`},
		{"api_p99<=300ms", `unknown metric "api_p99" (did you mean api.p99?)`},
		{"e2e.p99<=60s", `unknown metric "e2e.p99" (did you mean end_to_end.p99?)`},
		{"throttle_rate<=0.01", `unknown metric "throttle_rate" (did you mean throttle_ratio?)`},
		{"api.p42<=1s", `unknown metric "api.p42"`},
		{"throttle_ratio<=2", `throttle_ratio is a ratio between 0 and 1 (0% to 100%), got 2`},
		{"throttle_ratio<=5ms", `throttle_ratio is a ratio: expected a fraction such as 0.001 or a percentage such as 0.1%, got "5ms"`},
		{"throttle_ratio<=NaN", `throttle_ratio is a ratio`},
	} {
		_, err := ParseSLO(c.expr)
		if err == nil {
			t.Errorf("%q: no error", c.expr)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q\n does not contain %q", c.expr, err, c.want)
		}
	}
}

func TestSLOHolds(t *testing.T) {
	le, _ := ParseSLO("api.p99<=300ms")
	lt, _ := ParseSLO("api.p99<300ms")
	ge, _ := ParseSLO("completed_ratio>=0.99")
	for _, c := range []struct {
		s    SLO
		v    float64
		want bool
	}{
		{le, 300, true}, {le, 300.1, false}, {lt, 300, false}, {lt, 299, true},
		{ge, 0.99, true}, {ge, 0.98, false},
	} {
		if got := c.s.Holds(c.v); got != c.want {
			t.Errorf("%s holds at %v = %v", c.s, c.v, got)
		}
	}
}

func TestScenarioSLOsAndClaimsLoad(t *testing.T) {
	s, err := loadFiles(map[string]string{"t.yaml": pool(
		"slos: [\"api.p99<=300ms\", throttle_ratio<=0.1%]",
		"claims:",
		"  - {says: twice the capacity, kind: capacity_ratio, vs: baseline, at_least: 2}",
		"  - {kind: p99_under, path: end_to_end, under: 60s}",
		"  - {kind: meets_slo, slo: \"completed_ratio>=0.999\"}",
	)}, "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.SLOs) != 2 || s.SLOs[0].Expr != "api.p99<=300ms" || s.SLOs[1].Value != 0.001 {
		t.Fatalf("slos %+v", s.SLOs)
	}
	if len(s.Claims) != 3 {
		t.Fatalf("claims %+v", s.Claims)
	}
	if c := s.Claims[0]; c.Statement() != "twice the capacity" || c.Check() != "max load at SLO vs baseline >= 2×" {
		t.Errorf("claim 0: %q / %q", c.Statement(), c.Check())
	}
	if c := s.Claims[1]; c.Statement() != "end_to_end.p99 < 1m0s" {
		t.Errorf("claim 1: %q", c.Statement())
	}
	if c := s.Claims[2]; c.Objective().Metric != "completed_ratio" {
		t.Errorf("claim 2 objective %+v", c.Objective())
	}
	// --set reaches both.
	s, err = loadFiles(map[string]string{"t.yaml": pool()}, "t.yaml", "slos=[end_to_end.p99<=1m]")
	if err != nil || len(s.SLOs) != 1 || s.SLOs[0].Value != 60_000 {
		t.Fatalf("--set slos: %v %+v", err, s)
	}
}

func TestScenarioSLOAndClaimErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
		want  []string
	}{
		{"bad slo", []string{"slos:", "  - api.p99<=300ms", "  - api.p99<300"},
			[]string{`t.yaml:11: slos[1]: SLO "api.p99<300": api.p99 is a time: give the unit`}},
		{"not a list", []string{"slos: api.p99<=300ms"}, []string{`t.yaml:9: slos: expected a list of objectives`}},
		{"twice", []string{"slos: [api.p99<=1s, api.p99<=1s]"}, []string{`t.yaml:9: slos[1]: api.p99<=1s is listed twice`}},
		{"unknown kind", []string{"claims:", "  - {kind: faster}"}, []string{`t.yaml:10: claims[0].kind: unknown claim kind "faster"; one of capacity_ratio, order_preserved`}},
		{"no kind", []string{"claims:", "  - {says: it is fast}"}, []string{`t.yaml:10: claims[0].kind: missing kind`}},
		{"missing key", []string{"claims:", "  - {kind: capacity_ratio, at_least: 2}"}, []string{`t.yaml:10: claims[0].vs: a capacity_ratio claim needs vs`}},
		{"foreign key", []string{"claims:", "  - {kind: cost_under, monthly_usd: 10, key: state}"}, []string{`t.yaml:10: claims[0].key: a cost_under claim takes no key (it takes monthly_usd)`}},
		{"bad path", []string{"claims:", "  - {kind: p99_under, path: queue, under: 1s}"}, []string{`t.yaml:10: claims[0].path: unknown path "queue"; api or end_to_end`}},
		{"bare under", []string{"claims:", "  - {kind: p99_under, path: api, under: 300}"}, []string{`claims[0].under: needs a unit`}},
		{"negative", []string{"claims:", "  - {kind: pods_reachable, at_least: -5}"}, []string{`t.yaml:10: claims[0].at_least: must be > 0, got -5`}},
		{"bad claim slo", []string{"claims:", "  - {kind: meets_slo, slo: \"api.p99 < soon\"}"}, []string{`t.yaml:10: claims[0].slo: SLO "api.p99 < soon"`}},
		{"typo", []string{"claims:", "  - {kind: cost_under, monthly_usd: 10, atleast: 3}"}, []string{`unknown key "atleast"`, "did you mean at_least?"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadFiles(map[string]string{"t.yaml": pool(c.lines...)}, "t.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

// A variant inherits the SLOs of what it extends but not its claims: a claim is about one
// scenario.
func TestClaimsAreNotInheritedButSLOsAre(t *testing.T) {
	s, err := loadFiles(map[string]string{
		"base.yaml": pool("slos: [api.p99<=1s]", "claims: [{kind: cost_under, monthly_usd: 10}]"),
		"alt.yaml":  "extends: base.yaml\n",
	}, "alt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.SLOs) != 1 || len(s.Claims) != 0 {
		t.Errorf("slos %+v claims %+v", s.SLOs, s.Claims)
	}
}
