package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/result"
)

func TestCompareJSONDocument(t *testing.T) {
	code, out, errOut := headroom(t, "compare", "mmc", "./testdata/mmc20.yaml", "--horizon", "2h", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var c result.Comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.Schema != result.CompareSchema || len(c.Rows) != 2 || len(c.Results) != 2 {
		t.Fatalf("schema %q, %d rows, %d results", c.Schema, len(c.Rows), len(c.Results))
	}
	if c.Rows[0].Scenario != "mmc" || c.Rows[1].Scenario != "mmc20" || c.Results[1].Schema != result.Schema {
		t.Errorf("rows %+v", c.Rows)
	}
	if c.Results[0].Workload.Offered != c.Results[1].Workload.Offered {
		t.Error("common random numbers: the same arrivals into both")
	}
	if c.Breakpoints != nil || c.Rows[0].LoadVariable != "" {
		t.Error("no breakpoint columns without --breakpoint")
	}
}

func TestCompareWithBreakpointTable(t *testing.T) {
	code, out, errOut := headroom(t, "compare", "mmc", "./testdata/mmc20.yaml", "--horizon", "5h", "--breakpoint", "--slo", "api.mean<=1.5s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Side by side", "max load at SLO", "api.mean<=1.5s", "Breakpoints", ">>> WHAT BREAKS FIRST", "each probe runs the scenario's own 5h horizon"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestBreakpointJSON(t *testing.T) {
	code, out, errOut := headroom(t, "breakpoint", "mmc", "--slo", "api.mean<=1.5s", "--horizon", "10h", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var b result.Breakpoint
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	if b.Schema != result.BreakpointSchema || b.Status != "found" || b.Variable != "rate_rps" || b.MaxLoad < 8.3 || b.MaxLoad > 9.3 {
		t.Errorf("breakpoint %+v", b)
	}
	if b.Binding == nil || b.Binding.SLO != "api.mean<=1.5s" {
		t.Errorf("binding %+v", b.Binding)
	}
}

func TestCompareAndBreakpointBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "prices.yaml")
	if err := os.WriteFile(bad, []byte("as_of: \"2026-01-01\"\nprices:\n  lambda.requests: {service: Lambda, unit: requests, usd: -1, source: me}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"breakpoint", "mmc"}, "no SLOs: give --slo EXPR"},
		{[]string{"breakpoint", "mmc", "--slo", "api.p99<=300"}, `--slo: SLO "api.p99<=300": api.p99 is a time: give the unit`},
		{[]string{"breakpoint", "mmc", "--slo", "api.p99<=1s", "--tolerance", "2"}, "--tolerance: want a fraction between 0 and 1"},
		{[]string{"compare", "mmc", "--slo", "api.p99<=1s"}, "--slo applies to the breakpoint search: add --breakpoint"},
		{[]string{"compare"}, "compare needs at least one scenario"},
		{[]string{"compare", "mmc", "mmc"}, "scenario mmc is given twice"},
		{[]string{"compare", "mmc", "nosuch"}, `no bundled scenario or file named "nosuch"`},
		{[]string{"compare", "mmc", "--format", "html"}, `--format: unknown format "html"`},
		{[]string{"run", "mmc", "--prices", bad}, bad + ":3: prices.lambda.requests.usd: must be >= 0, got -1"},
		{[]string{"compare", "mmc", "--prices", filepath.Join(dir, "none.yaml")}, "none.yaml: cannot read the price table"},
	} {
		code, _, errOut := headroom(t, c.args...)
		const wantCode = 2
		if code != wantCode || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errOut, wantCode, c.want)
		}
	}
}

// --prices replaces the bundled table: a table that prices only Lambda requests lists the
// rest as unpriced and fails the cost check.
func TestRunWithOwnPrices(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(p, []byte("as_of: \"2026-01-01\"\nprices:\n  lambda.requests: {service: Lambda, unit: requests, per: 1000000, usd: 1, source: negotiated}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := headroom(t, "run", "baseline", "--horizon", "5m", "--prices", p, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r, err := reports.Read(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Cost.PricesSource != p || r.Cost.PricesAsOf != "2026-01-01" || len(r.Cost.Services) != 1 || r.Cost.Services[0].Service != "Lambda" {
		t.Fatalf("cost %+v", r.Cost)
	}
	if len(r.Cost.Unpriced) == 0 || !strings.Contains(strings.Join(r.Cost.Unpriced, ";"), "api: apigateway.rest.requests") {
		t.Errorf("unpriced %v", r.Cost.Unpriced)
	}
	for _, ch := range r.Checks {
		if ch.Name == "cost" && ch.Passed {
			t.Error("the cost check passed with unpriced usage")
		}
	}
}
