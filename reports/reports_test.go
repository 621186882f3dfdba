package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroom/headroom/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var fixtures = []struct {
	name string
	r    func() *result.Result
}{
	{"baseline", baselineFixture},
	{"mmc", mmcFixture},
	{"loss", lossFixture},
}

// TestGolden renders every fixture in every format and compares with testdata/. Run
// `go test ./reports -update` after an intended change and review the diff.
func TestGolden(t *testing.T) {
	formats := []struct {
		name, ext string
		rep       Reporter
	}{
		{"table", "txt", Table},
		{"md", "md", Markdown},
		{"json", "json", JSON},
	}
	for _, fx := range fixtures {
		for _, f := range formats {
			t.Run(fx.name+"/"+f.name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := f.rep(&buf, fx.r()); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", fx.name+"."+f.ext)
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s differs from the golden file (run with -update and review the diff):\n%s", golden, buf.String())
				}
				// Rendering twice gives the same bytes.
				var again bytes.Buffer
				if err := f.rep(&again, fx.r()); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), again.Bytes()) {
					t.Error("two renderings of the same result differ")
				}
			})
		}
	}
}

func TestTableShowsWhatMatters(t *testing.T) {
	var buf bytes.Buffer
	if err := Table(&buf, baselineFixture()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		">>> WHAT BREAKS FIRST",
		"FIRST  processor: account concurrency 1000 at 10h12m3s (offered 4.98k/s)",
		"then   pending: message age > 60s at 10h30m",
		"│ FAIL   │ conservation   │ offered 160012345 ≠ accepted 159998001 + rejected 14344 + 0 still answering; accepted │",
		"│        │                │ 159998001 = completed 159870222 + failed 1203 + 126576 still processing               │",
		"1 of 3 checks FAILED",
		"1000/1000",      // processor peak concurrency against its capacity
		"41.2k (0.026%)", // processor throttles as a share of offered
		"9.87k (0.062%)", // cold starts as a share of invocations
		"1.84M",          // queue max depth
		"45m40s",         // queue max age
		"21.7s wall · 1.61G events · 74.2M events/s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// What breaks first comes before every table.
	if i, j := strings.Index(out, "WHAT BREAKS FIRST"), strings.Index(out, "Workload"); i < 0 || j < i {
		t.Errorf("what breaks first is not ahead of the workload table")
	}
}

func TestRegionColumnOnlyWhenRegionsDiffer(t *testing.T) {
	r := baselineFixture()
	for i := range r.Components {
		r.Components[i].Region = "us-east-1"
	}
	b := componentsBlock(r, nil)
	if b.header[2] == "region" {
		t.Errorf("one region, yet a region column: %v", b.header)
	}
	r.Components[5].Region = "us-west-2"
	b = componentsBlock(r, nil)
	if b.header[2] != "region" || b.rows[5][2] != "us-west-2" {
		t.Errorf("two regions, no region column: %v %v", b.header, b.rows[5])
	}
}

func TestTableShowsAnalyticAndIntervals(t *testing.T) {
	var buf bytes.Buffer
	if err := Table(&buf, mmcFixture()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"M/M/10",
		"204.59 ms", // Erlang C
		"204.10 ms", // simulated
		"±1.70 ms",
		"-0.241%",
		"11.5M ±3.10k",      // completed with its interval inline
		"5.30s ±41.0ms",     // api p99 with its interval inline
		"80.0% ±0.040%",     // utilization
		"0 / 2.27s ±22.0ms", // wait p50 / p99
		"95% confidence intervals over 4 replications",
		"400h (first 1h is warm-up, not measured)",
		"│    0.4089 │  ±0.0031 │", // P(wait) with its interval across replications
		"│ components.workers.peak_concurrency    │       10 │       ±0 │      ±0% │",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	buf.Reset()
	if err := Table(&buf, lossFixture()); err != nil {
		t.Fatal(err)
	}
	out = buf.String()
	for _, want := range []string{"M/M/37/37", "P(block)", "0.0206", "0.0204", "±0.0011", "-0.0002", "nothing: no limit bound"} {
		if !strings.Contains(out, want) {
			t.Errorf("loss table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "mean wait") {
		t.Errorf("a loss system has no wait to compare:\n%s", out)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, fx := range fixtures {
		var buf bytes.Buffer
		if err := JSON(&buf, fx.r()); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(buf.String(), "}\n") {
			t.Errorf("%s: JSON does not end with a newline", fx.name)
		}
		got, err := Read(&buf)
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		var again bytes.Buffer
		if err := JSON(&again, got); err != nil {
			t.Fatal(err)
		}
		var first bytes.Buffer
		_ = JSON(&first, fx.r())
		if !bytes.Equal(first.Bytes(), again.Bytes()) {
			t.Errorf("%s: JSON → Read → JSON changed the result", fx.name)
		}
	}
}

func TestJSONNamesNonFiniteField(t *testing.T) {
	r := mmcFixture()
	r.Components[0].Wait.P99 = nan()
	err := JSON(&bytes.Buffer{}, r)
	if err == nil || !strings.Contains(err.Error(), "components[workers].wait_ms.p99") {
		t.Fatalf("got %v, want an error naming components[workers].wait_ms.p99", err)
	}
}

func TestReadRejects(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"not json", "schema: x", "invalid character"},
		{"no schema", `{"scenario":"mmc"}`, `no "schema" field`},
		{"other schema", `{"schema":"headroom/result/v2"}`, `schema "headroom/result/v2" is not supported`},
		{"trailing data", `{"schema":"headroom/result/v1"} {}`, "unexpected data after the result"},
		{"wrong type", `{"schema":"headroom/result/v1","seed":"one"}`, "seed"},
	}
	for _, c := range cases {
		_, err := Read(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestForFormat(t *testing.T) {
	for _, name := range append([]string{"markdown"}, Formats...) {
		if _, err := ForFormat(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := ForFormat("yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) || !strings.Contains(err.Error(), "table, json, md") {
		t.Errorf("got %v", err)
	}
}
