package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/loadtest/validate"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/system"
)

// The validation tests measure real runs on a machine shared with the load generator (and,
// here, with other work): each is the short form of `headroom validate` — 20 to 24 s of
// load, well under the 3 minutes a full one may take.

// TestValidateBundledScenarios: the model agrees with the system on each bundled
// validation scenario, on the memory backend, within the default tolerances. The API's
// latency is the request function's work (median 8 ms) that the system spends as its create
// work, plus a loopback call of a few hundred microseconds whose tail, on this 2-core
// machine shared with the generator and with other work (load averages above 10 have been
// seen), is the scheduler's queue. A measured run is one sample of such a machine, so a
// scenario gets up to three runs; a right model passes one of them, while a wrong one
// (TestValidateFailsWhenTheModelIsWrong) fails by far more than noise.
func TestValidateBundledScenarios(t *testing.T) {
	k6 := k6Path(t)
	for _, tc := range []struct {
		name     string
		duration string
	}{
		{"validate-below", "20s"},
		{"validate-throttle", "20s"},
		{"validate-backlog", "24s"}, // the day compressed 3600×: one second an hour
	} {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			var out, errOut string
			for attempt := 1; attempt <= 3; attempt++ {
				start := time.Now()
				code, out, errOut = headroom(t, "validate", tc.name, "--duration", tc.duration, "--k6", k6, "-r", "8")
				t.Logf("attempt %d: exit %d in %s\n%s", attempt, code, time.Since(start).Round(time.Second), out)
				if code == 0 {
					break
				}
			}
			if code != 0 {
				t.Fatalf("validate %s failed three times; stderr: %s", tc.name, errOut)
			}
			for _, want := range []string{"PASS: all", "throughput (completed)", "end-to-end p99", "peak concurrency p_pending", "max queue depth q_pending"} {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q", want)
				}
			}
		})
	}
}

// TestValidateFailsWhenTheModelIsWrong halves the processors' concurrency in the model
// while the system keeps the real one: validation fails and names the figures that
// disagree — the caps themselves, and the queueing they would cause.
func TestValidateFailsWhenTheModelIsWrong(t *testing.T) {
	k6 := k6Path(t)
	halved := []string{
		"components.p_pending.reserved_concurrency=4", "components.q_pending.max_concurrency=4",
		"components.q_pending.poller_start=4", "components.q_pending.poller_max=4",
		"components.p_approved.reserved_concurrency=2", "components.q_approved.max_concurrency=2",
		"components.q_approved.poller_start=2", "components.q_approved.poller_max=2",
	}
	// The system runs validate-throttle as written, whatever the model says.
	real := func(_ *scenarios.Scenario, base system.ServerConfig) (system.ServerConfig, error) {
		s, err := scenarios.Load("validate-throttle", scenarios.WithSets([]string{"horizon=20s"}))
		if err != nil {
			return base, err
		}
		return serveFromScenario(s, base)
	}
	rep, err := validate.Run(context.Background(), validate.Options{
		Scenario: "validate-throttle", Sets: halved, Duration: 20 * time.Second, Replications: 6,
		ServerConfig: real, K6: loadtest.K6Options{Path: k6},
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Comparison.WriteTable(&b)
	t.Logf("\n%s", b.String())
	if rep.OK() {
		t.Fatal("a model with half the concurrency passed validation")
	}
	failed := map[string]bool{}
	for _, r := range rep.Comparison.Failed() {
		failed[r.Figure] = true
	}
	for _, want := range []string{"peak concurrency p_pending", "peak concurrency p_approved", "end-to-end p50", "end-to-end p99",
		"throughput (completed)", "max queue depth q_pending"} {
		if !failed[want] {
			t.Errorf("%s is not among the failed figures %v", want, failed)
		}
	}
	// What the client sees at the gateway does not depend on the processors: it agrees.
	for _, ok := range []string{"offered", "throttled share", "accepted share"} {
		if failed[ok] {
			t.Errorf("%s failed, but the gateway is modelled right", ok)
		}
	}
}

// TestValidateFit calibrates validate-below against the system: the override extends the
// scenario, replaces the assumed latencies with measured ones, and the report shows both
// comparisons and how the errors moved.
func TestValidateFit(t *testing.T) {
	k6 := k6Path(t)
	dir := t.TempDir()
	fit := filepath.Join(dir, "below-fit.yaml")
	code, out, errOut := headroom(t, "validate", "validate-below", "--duration", "15s", "--k6", k6, "-r", "6",
		"--fit", "--fit-out", fit, "--keep", filepath.Join(dir, "runs"))
	t.Logf("exit %d\n%s", code, out)
	if code != 0 && code != exitInternal {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(fit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"extends: validate-below", "api:\n", "overhead: {dist: empirical", "request:\n    duration: 0ms",
		"delivery_latency: {dist: lognormal", "p_pending:\n", "pooled over the 2 functions"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("fit file lacks %q:\n%s", want, data)
		}
	}
	s, err := scenarios.Load(fit)
	if err != nil {
		t.Fatalf("the fit does not load: %v", err)
	}
	// The step sleeps a lognormal of mean 47.8 ms; measured, it is that and the timers.
	mean := loadtest.DistMean(s.Component("p_pending").Function.Duration)
	if mean < 45*time.Millisecond || mean > 56*time.Millisecond {
		t.Errorf("fitted processing mean %v, want about 48 ms", mean)
	}
	for _, want := range []string{"The model as written:", "The model calibrated against the system", "What the fit changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, f := range []string{"measured.json", "predicted.json", "measure/script.js", "fit/result.json"} {
		if _, err := os.Stat(filepath.Join(dir, "runs", f)); err != nil {
			t.Errorf("--keep: %v", err)
		}
	}
}

func TestValidateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"validate"},
		{"validate", "validate-below", "--replications", "0"},
		{"validate", "validate-below", "--tolerance", "p99"},
		{"validate", "validate-below", "--format", "xml"},
		{"validate", "no-such-scenario"},
	} {
		if code, _, errOut := headroom(t, args...); code != exitBadInput {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}
