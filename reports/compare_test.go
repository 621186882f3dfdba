package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroom/headroom/result"
)

// costedFixture is the baseline fixture with its bill and claims, as a run reports them.
func costedFixture() *result.Result {
	r := baselineFixture()
	r.Cost = &result.Cost{
		PricesAsOf: "2026-11-23", PricesSource: "bundled:prices.yaml", Currency: "USD",
		HoursPerMonth: 730, PeriodS: 86400,
		HorizonUSD: 961.66983, MonthlyUSD: 29250.790654, PerMillionUSD: 6.281642,
		Services: []result.ServiceCost{
			{Service: "API Gateway", HorizonUSD: 402.245977, MonthlyUSD: 12234.981796},
			{Service: "Lambda", HorizonUSD: 177.620489, MonthlyUSD: 5402.623221},
			{Service: "DynamoDB", HorizonUSD: 191.365223, MonthlyUSD: 5820.692184},
			{Service: "SNS", HorizonUSD: 76.546095, MonthlyUSD: 2328.277041},
			{Service: "SQS", HorizonUSD: 113.892046, MonthlyUSD: 3464.216411},
		},
		Lines: []result.CostLine{
			{Component: "api", Service: "API Gateway", Item: "requests admitted", Price: "apigateway.rest.requests", Quantity: 159_998_001, Unit: "requests", UnitUSD: 2.514032, Per: 1e6, HorizonUSD: 402.245977, MonthlyUSD: 12234.981796},
			{Component: "request", Service: "Lambda", Item: "invocations", Price: "lambda.requests", Quantity: 159_998_001, Unit: "requests", UnitUSD: 0.2, Per: 1e6, HorizonUSD: 31.9996, MonthlyUSD: 973.32117},
			{Component: "request", Service: "Lambda", Item: "duration × 256 MB, INIT included", Price: "lambda.compute.x86", Quantity: 2_490_000, Unit: "GB-s", UnitUSD: 0.0000166667, Per: 1, HorizonUSD: 41.500083, MonthlyUSD: 1262.294192},
			{Component: "pending", Service: "SQS", Item: "ReceiveMessage, empty (5 pollers × 20 s long polls while idle)", Price: "sqs.standard.requests", Quantity: 0, Unit: "requests", UnitUSD: 0.4, Per: 1e6},
		},
	}
	r.Claims = []result.ClaimResult{
		{Claim: "the baseline carries 8 million users", Check: "meets throttle_ratio<=0.001", Verdict: result.VerdictFails, Evidence: "request throttled 6896969 of 159989158 (4.31%)"},
		{Claim: "end_to_end.p99 < 1m0s", Check: "end_to_end.p99 < 1m0s", Verdict: result.VerdictHolds, Evidence: "end_to_end.p99 = 1.9s over 153092107 requests"},
	}
	return r
}

func comparisonFixture() *result.Comparison {
	base := costedFixture()
	alt := baselineFixture()
	alt.Scenario = "per-state"
	alt.Workload.Rejected, alt.Workload.Failed = 0, 0
	alt.Breaks = nil
	alt.Cost = &result.Cost{MonthlyUSD: 30112.5, PerMillionUSD: 6.47}
	alt.Claims = []result.ClaimResult{{
		Claim: "one function per state gives more concurrency", Check: "max load at SLO vs baseline >= 1.5×", Verdict: result.VerdictHolds,
		Evidence: "max users at SLO: per-state 10486000 vs baseline 6571000, ratio 1.596 (needs >= 1.5) (between 1.57 and 1.62 given the search tolerance)",
	}}
	bpBase := &result.Breakpoint{
		Schema: result.BreakpointSchema, Scenario: "baseline", Variable: "users", Nominal: 8e6, Status: "found",
		MaxLoad: 6_570_710, FailLoad: 6_627_179, Ratio: 0.821339, Tolerance: 0.02,
		Method:           "each probe simulates the busiest 10m of the day (the 13:00 peak ± 5m) after 10m of warm-up at the rising rate; SLOs are judged over that window; requests start warm (on-demand tables that served this load the day before)",
		SLOs:             []result.SLOResult{{SLO: "throttle_ratio<=0.001", Value: 0.0004, Passed: true, Detail: "request throttled 3310 of 8214388 (0.0403%)"}},
		Binding:          &result.SLOResult{SLO: "throttle_ratio<=0.001", Value: 0.00211, Passed: false, Detail: "request throttled 17439 of 8276186 (0.211%)"},
		FirstBreakAtFail: &result.Break{Component: "request", Limit: "account concurrency", AtS: 320.5, OfferedRPS: 4540, Detail: "1000 of 1000 unreserved executions busy"},
		MonthlyUSD:       24310.55, CostNote: "the passing probe's usage per request over a day at this load",
		Probes: []result.Probe{
			{Load: 6_570_710, Passed: true, Events: 48_399_789},
			{Load: 6_627_179, Passed: false, Failed: []string{"throttle_ratio<=0.001 (request throttled 17439 of 8276186 (0.211%))"}, Events: 48_216_561},
		},
		Timing: result.Timing{WallS: 61.2, Events: 96_616_350, EventsPerS: 1_578_698},
	}
	bpAlt := &result.Breakpoint{
		Schema: result.BreakpointSchema, Scenario: "per-state", Variable: "users", Nominal: 8e6, Status: "above_range",
		MaxLoad: 10_486_000, Ratio: 1.31075, Tolerance: 0.02, Method: bpBase.Method, MonthlyUSD: 38000.1,
	}
	c := &result.Comparison{
		Schema: result.CompareSchema, Results: []*result.Result{base, alt}, Breakpoints: []*result.Breakpoint{bpBase, bpAlt},
		Timing: result.Timing{WallS: 171.4, Events: 2_100_000_000, EventsPerS: 12_252_000},
	}
	for i, r := range c.Results {
		c.Rows = append(c.Rows, compareRowFixture(r, c.Breakpoints[i]))
	}
	return c
}

// compareRowFixture builds a row as sim.CompareRow would (reports never imports sim).
func compareRowFixture(r *result.Result, bp *result.Breakpoint) result.ComparisonRow {
	w := r.Workload
	row := result.ComparisonRow{
		Scenario: r.Scenario, Offered: w.Offered, Completed: w.Completed, OfferedRPS: w.OfferedRPS,
		CompletedRPS: w.CompletedRPS, PeakRPS: w.PeakRPS,
		APIP50MS: r.Latency.API.P50, APIP99MS: r.Latency.API.P99, E2EP50MS: r.Latency.EndToEnd.P50, E2EP99MS: r.Latency.EndToEnd.P99,
		ErrorRatio: float64(w.Rejected+w.Failed) / float64(w.Offered), MaxQueueAgeMS: 2_740_000, ColdStarts: 12_982,
		PeakConcurrency: 1000, ConcurrencyLimit: 1000, ConcurrencyComponent: "processor",
		MonthlyUSD: r.Cost.MonthlyUSD, PerMillionUSD: r.Cost.PerMillionUSD, Claims: r.Claims,
		LoadVariable: bp.Variable, MaxLoad: bp.MaxLoad, MonthlyUSDAtMax: bp.MonthlyUSD,
	}
	if len(r.Breaks) > 0 {
		b := r.Breaks[0]
		row.FirstBreak = &b
		row.ThrottleRatio, row.ThrottledComponent = 0.00009, "api"
	}
	if bp.Binding != nil {
		row.BindingSLO = bp.Binding.SLO
	}
	if bp.Status == "above_range" {
		row.BreakpointNote = "met every SLO at the largest load probed"
	}
	return row
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff):\n%s", path, got)
	}
}

func TestComparisonGolden(t *testing.T) {
	for _, f := range []struct {
		ext string
		rep ComparisonReporter
	}{{"txt", CompareTable}, {"md", CompareMarkdown}, {"json", CompareJSON}} {
		var buf bytes.Buffer
		if err := f.rep(&buf, comparisonFixture()); err != nil {
			t.Fatal(err)
		}
		golden(t, "compare."+f.ext, buf.Bytes())
	}
	for _, f := range []struct {
		ext string
		rep BreakpointReporter
	}{{"txt", BreakpointTable}, {"md", BreakpointMarkdown}, {"json", BreakpointJSON}} {
		var buf bytes.Buffer
		if err := f.rep(&buf, comparisonFixture().Breakpoints[0]); err != nil {
			t.Fatal(err)
		}
		golden(t, "breakpoint."+f.ext, buf.Bytes())
	}
	for _, f := range []struct {
		ext string
		rep Reporter
	}{{"txt", Table}, {"md", Markdown}} {
		var buf bytes.Buffer
		if err := f.rep(&buf, costedFixture()); err != nil {
			t.Fatal(err)
		}
		golden(t, "costed."+f.ext, buf.Bytes())
	}
}

func TestComparisonTableAnswersTheQuestions(t *testing.T) {
	var buf bytes.Buffer
	if err := CompareTable(&buf, comparisonFixture()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	row := func(label string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "│ "+label+" ") {
				return l
			}
		}
		t.Fatalf("no row %q in\n%s", label, out)
		return ""
	}
	for label, want := range map[string][]string{
		"cost per month":            {"$29,250.79", "$30,112.50"},
		"cost per million requests": {"$6.28", "$6.47"},
		"max load at SLO":           {"6.57M users", "≥ 10.5M users"},
		"binding SLO above it":      {"throttle_ratio<=0.001"},
		"claims":                    {"1 holds, 1 fails", "1 holds"},
		"peak concurrency / limit":  {"1000 / 1000 (processor)"},
	} {
		for _, w := range want {
			if !strings.Contains(row(label), w) {
				t.Errorf("row %q lacks %q: %s", label, w, row(label))
			}
		}
	}
	for _, want := range []string{
		"baseline: processor: account concurrency 1000 at 10h12m3s",
		"per-state: nothing: no limit bound during the run",
		"│ per-state │ HOLDS   │ one function per state gives more",
		"Probes: each probe simulates the busiest 10m of the day",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestUSD(t *testing.T) {
	for x, want := range map[float64]string{
		29250.790654: "$29,250.79", 584.73: "$584.73", 0: "$0.00", 1234567.891: "$1,234,567.89",
		0.0014: "$0.0014", -12.5: "-$12.50", 100: "$100.00",
	} {
		if got := usd(x); got != want {
			t.Errorf("usd(%v) = %q, want %q", x, got, want)
		}
	}
	if got := unitPrice(0.2, 1e6, "requests"); got != "$0.20/M requests" {
		t.Errorf("unit price %q", got)
	}
	if got := unitPrice(0.0000166667, 1, "GB-s"); got != "$0.0000166667/GB-s" {
		t.Errorf("unit price %q", got)
	}
}

func TestFormatsForComparisonsAndBreakpoints(t *testing.T) {
	for _, f := range Formats {
		if _, err := ComparisonForFormat(f); err != nil {
			t.Error(err)
		}
		if _, err := BreakpointForFormat(f); err != nil {
			t.Error(err)
		}
	}
	if _, err := ComparisonForFormat("html"); err == nil || !strings.Contains(err.Error(), `unknown format "html"`) {
		t.Errorf("error %v", err)
	}
}
