package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// headroom runs the command line in-process and returns the exit status and both outputs.
func headroom(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestScenariosListsEveryBundledScenarioOnOneLine(t *testing.T) {
	code, out, errOut := headroom(t, "scenarios")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	bundled := scenarios.Bundled()
	if len(bundled) == 0 {
		t.Fatal("no bundled scenarios")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(bundled) {
		t.Fatalf("%d lines for %d scenarios:\n%s", len(lines), len(bundled), out)
	}
	for i, s := range bundled {
		first, _, _ := strings.Cut(strings.TrimSpace(s.Description), "\n")
		pattern := "^" + regexp.QuoteMeta(s.Name) + ` +— ` + regexp.QuoteMeta(strings.TrimSpace(first)) + "$"
		if !regexp.MustCompile(pattern).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want name — first line of the description", i, lines[i])
		}
	}
	for _, name := range []string{"mmc", "baseline"} {
		if !strings.Contains(out, name+" ") {
			t.Errorf("%s is not listed:\n%s", name, out)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := headroom(t, "version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out, "headroom ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("version output lacks the module or Go version:\n%s", out)
	}
}

// runJSON runs `headroom run` with --format json and decodes the result.
func runJSON(t *testing.T, args ...string) *result.Result {
	t.Helper()
	code, out, errOut := headroom(t, append([]string{"run", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	r, err := reports.Read(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRunMMCJSON(t *testing.T) {
	r := runJSON(t, "mmc", "--horizon", "1h")
	if r.Scenario != "mmc" || r.HorizonS != 3600 || r.Mode != result.ModePredicted {
		t.Fatalf("scenario %q horizon %v mode %q", r.Scenario, r.HorizonS, r.Mode)
	}
	w := r.ComponentByName("workers")
	if w == nil || w.Analytic == nil || w.Analytic.Model != "M/M/c" || w.Analytic.Servers != 10 {
		t.Fatalf("workers lacks the M/M/10 analytic block: %+v", w)
	}
	if r.Workload.Offered == 0 || r.Workload.Completed == 0 || len(r.Checks) == 0 {
		t.Errorf("empty run: %+v, %d checks", r.Workload, len(r.Checks))
	}
}

func TestRunIsDeterministicApartFromTiming(t *testing.T) {
	strip := func(r *result.Result) []byte {
		r.Timing = result.Timing{}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := strip(runJSON(t, "mmc", "--horizon", "2h", "--seed", "7"))
	b := strip(runJSON(t, "mmc", "--horizon", "2h", "--seed", "7"))
	if !bytes.Equal(a, b) {
		t.Error("two runs of the same scenario and seed differ")
	}
	c := strip(runJSON(t, "mmc", "--horizon", "2h", "--seed", "8"))
	if bytes.Equal(a, c) {
		t.Error("a different seed gave the same result")
	}
}

func TestRunSetsMakeALossSystem(t *testing.T) {
	r := runJSON(t, "mmc", "--horizon", "2h",
		"--set", "components.workers.concurrency=37",
		"--set", "workload.rate_rps=30",
		"--set", "components.workers.queue=none")
	a := r.ComponentByName("workers").Analytic
	if a == nil || a.Model != "M/M/c/c" || a.Servers != 37 || a.LambdaRPS != 30 {
		t.Fatalf("want an M/M/37/37 analytic block with λ = 30, got %+v", a)
	}
	if r.Workload.Rejected == 0 {
		t.Error("a loss system at ρ = 0.81 rejected nothing in 2 h")
	}
}

func TestRunSeedFlag(t *testing.T) {
	if r := runJSON(t, "mmc", "--horizon", "10m", "--seed", "12345"); r.Seed != 12345 {
		t.Errorf("seed %d, want 12345", r.Seed)
	}
}

func TestRunTableIsTheDefault(t *testing.T) {
	code, out, errOut := headroom(t, "run", "mmc", "--horizon", "1h")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"Headroom: mmc", "WHAT BREAKS FIRST", "M/M/10", "Erlang", "Checks"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr is not a terminal, yet something was written to it: %q", errOut)
	}
}

func TestRunMarkdownAndOutFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mmc.md")
	code, out, errOut := headroom(t, "run", "mmc", "--horizon", "1h", "--format", "md", "--out", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if out != "" {
		t.Errorf("--out given, yet stdout got %q", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "# Headroom: mmc") || !strings.Contains(string(data), "| component |") {
		t.Errorf("not a Markdown report:\n%s", data)
	}
}

func TestRunReplications(t *testing.T) {
	r := runJSON(t, "mmc", "--horizon", "1h", "--replications", "3")
	if r.Replications != 3 {
		t.Errorf("replications %d, want 3", r.Replications)
	}
	if len(r.CI95) == 0 {
		t.Error("no confidence intervals with 3 replications")
	}
	for _, iv := range r.CI95 {
		if iv.HalfWidth < 0 {
			t.Errorf("%s: negative half-width %v", iv.Figure, iv.HalfWidth)
		}
	}
}

// writeScenario writes a scenario file and returns its path.
func writeScenario(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const mmcFile = `name: mine
description: a small M/M/2 queue
horizon: 1h
workload: {arrival: poisson, rate_rps: 1, entry: workers}
components:
  workers:
    kind: pool
    concurrency: 2
    queue: unbounded
    service_time: {dist: exponential, mean_ms: 1000}
`

func TestRunScenarioFile(t *testing.T) {
	r := runJSON(t, writeScenario(t, "mine.yaml", mmcFile))
	if r.Scenario != "mine" || r.ComponentByName("workers") == nil {
		t.Errorf("got scenario %q with %d components", r.Scenario, len(r.Components))
	}
}

func TestBadInputExitsTwoNamingTheProblem(t *testing.T) {
	unknownKey := writeScenario(t, "unknown-key.yaml", strings.Replace(mmcFile, "    concurrency: 2\n", "    concurrency: 2\n    concurency: 3\n", 1))
	wrongUnit := writeScenario(t, "wrong-unit.yaml", strings.Replace(mmcFile, "mean_ms: 1000", "mean_ms: 1000 parsecs", 1))
	dangling := writeScenario(t, "dangling.yaml", strings.Replace(mmcFile, "    concurrency: 2\n", "    concurrency: 2\n    next: nowhere\n", 1))
	cases := []struct {
		name string
		args []string
		want []string // all must appear in stderr
	}{
		{"unknown key", []string{"run", unknownKey}, []string{unknownKey + ":9:", "concurency"}},
		{"wrong unit", []string{"run", wrongUnit}, []string{wrongUnit + ":10:", "mean_ms"}},
		{"dangling next", []string{"run", dangling}, []string{dangling + ":9:", "next", "nowhere"}},
		{"unknown scenario", []string{"run", "no-such-scenario"}, []string{"no-such-scenario"}},
		{"bad --set", []string{"run", "mmc", "--set", "components.workers.concurrency=-3"}, []string{"components.workers.concurrency"}},
		{"unknown flag", []string{"run", "mmc", "--frobnicate"}, []string{"unknown flag", "--frobnicate"}},
		{"bad format", []string{"run", "mmc", "--format", "yaml"}, []string{"--format", `"yaml"`}},
		{"bad horizon", []string{"run", "mmc", "--horizon", "soon"}, []string{"--horizon", `"soon"`}},
		{"bad seed", []string{"run", "mmc", "--seed", "-1"}, []string{"--seed"}},
		{"no replications", []string{"run", "mmc", "--replications", "0"}, []string{"--replications"}},
		{"no scenario", []string{"run"}, []string{"accepts 1 arg"}},
		{"unknown command", []string{"rnu", "mmc"}, []string{`unknown command "rnu"`, `did you mean "run"`}},
		{"args to scenarios", []string{"scenarios", "extra"}, []string{`unknown command "extra"`}},
		{"out in a missing directory", []string{"run", "mmc", "--horizon", "1m", "--out", filepath.Join(t.TempDir(), "no", "such", "dir.txt")}, []string{"--out"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := headroom(t, c.args...)
			if code != exitBadInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitBadInput, errOut)
			}
			for _, want := range c.want {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if out != "" {
				t.Errorf("stdout got %q on bad input", out)
			}
		})
	}
}

func TestNoArgumentsPrintsHelp(t *testing.T) {
	code, out, _ := headroom(t)
	if code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// TestCPUProfileIsWrittenWhetherTheCommandFailsOrNot: --cpuprofile leaves a complete profile
// (gzip-compressed, as runtime/pprof writes it) after a run that succeeds and after one that
// fails once the profile has started — a profile is only written out when it stops.
func TestCPUProfileIsWrittenWhetherTheCommandFailsOrNot(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"succeeds", []string{"run", "mmc", "--horizon", "1m"}, exitOK},
		{"fails", []string{"run", "mmc", "--set", "components.workers.concurrency=-3"}, exitBadInput},
	} {
		t.Run(c.name, func(t *testing.T) {
			prof := filepath.Join(dir, c.name+".pprof")
			code, _, errOut := headroom(t, append(c.args, "--cpuprofile", prof)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.code, errOut)
			}
			b, err := os.ReadFile(prof)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				t.Fatalf("%s holds %d bytes, not a gzip-compressed profile", prof, len(b))
			}
		})
	}
}
