package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/system"
)

// k6Binary builds cmd/k6 once per test binary into a cache directory shared by every test
// run (the file is named after the hash of its sources, so it is rebuilt only when they
// change): the first build of k6 takes minutes, the next ones are a lookup.
var k6Binary = sync.OnceValues(func() (string, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err
	}
	return loadtest.BuildK6(context.Background(), loadtest.K6Options{
		SourceDir: root, CacheDir: filepath.Join(os.TempDir(), "headroom-k6-test"), Log: os.Stderr,
	})
})

func k6Path(t *testing.T) string {
	t.Helper()
	p, err := k6Binary()
	if err != nil {
		t.Fatalf("building cmd/k6: %v", err)
	}
	return p
}

// TestK6ListsHeadroomExtensions: the k6 built from cmd/k6 has the JS module and the output.
func TestK6ListsHeadroomExtensions(t *testing.T) {
	out, err := exec.Command(k6Path(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("k6 version: %v\n%s", err, out)
	}
	for _, want := range []string{"k6 v1.8.1", "k6/x/headroom [js]", "headroom [output]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("k6 version lacks %q:\n%s", want, out)
		}
	}
}

// startServe runs the system as `headroom serve --scenario REF --token tok` would, on a
// free loopback port, and returns its base URL.
func startServe(t *testing.T, ref string) string {
	t.Helper()
	cmd, f := serveCmd()
	if err := cmd.ParseFlags([]string{"--scenario", ref, "--token", "tok", "--http-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := serveConfig(cmd, *f)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := system.NewServer(context.Background(), cfg, system.WithServerLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + srv.HTTPAddr()
}

// TestLoadtestAgainstServe plays validate-below for a few seconds against the system with
// the k6 built from cmd/k6: a script importing k6/x/headroom, the output headroom, and the
// measured result printed through the reports.
func TestLoadtestAgainstServe(t *testing.T) {
	k6 := k6Path(t)
	target := startServe(t, "validate-below")
	code, out, errOut := headroom(t, "loadtest", "validate-below", "--target", target, "--token", "tok",
		"--duration", "4s", "--k6", k6, "--format", "json", "--quiet", "--slo", "error_ratio<=0")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errOut)
	}
	res, err := reports.Read(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	w := res.Workload
	if res.Mode != "measured" || res.Scenario != "validate-below" || res.HorizonS != 4 {
		t.Errorf("mode %q scenario %q horizon %g", res.Mode, res.Scenario, res.HorizonS)
	}
	// 150/s for 4 s, evenly spaced.
	if w.Offered < 590 || w.Offered > 610 || w.Accepted != w.Offered || w.Completed < w.Offered*8/10 {
		t.Errorf("workload %+v, want 600 offered and accepted, most completed", w)
	}
	if res.Latency.API.Count == 0 || res.Latency.EndToEnd.Count == 0 || res.Latency.EndToEnd.P50 < 10 {
		t.Errorf("latencies %+v: the processing time (median 40 ms) is missing", res.Latency)
	}
	for _, name := range []string{"api", "request", "events", "q_pending", "q_approved", "p_pending", "p_approved", "dlq"} {
		if res.ComponentByName(name) == nil {
			t.Errorf("no measured component %s", name)
		}
	}
	if p := res.ComponentByName("p_pending"); p == nil || p.Capacity != 14 || p.PeakConcurrency < 1 {
		t.Errorf("p_pending %+v, want the reserved 14 and some concurrency", p)
	}
	if !strings.Contains(errOut, "loadtest validate-below: 4s against") {
		t.Errorf("stderr: %s", errOut)
	}
}

// TestLoadtestCRUDMix plays a CRUD mix: reads, updates and deletes of the requests each VU
// created, with no request refused or failing.
func TestLoadtestCRUDMix(t *testing.T) {
	k6 := k6Path(t)
	target := startServe(t, "validate-below")
	file := filepath.Join(t.TempDir(), "crud.yaml")
	os.WriteFile(file, []byte("extends: validate-below\nname: crud\nworkload:\n  rate_rps: 80\n  mix:\n    op: {create: 0.4, read: 0.3, update: 0.2, delete: 0.1}\n"), 0o644)
	code, out, errOut := headroom(t, "loadtest", file, "--target", target, "--token", "tok",
		"--duration", "4s", "--k6", k6, "--format", "json", "--quiet", "--slo", "error_ratio<=0")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errOut)
	}
	res, err := reports.Read(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Workload.Rejected != 0 || res.Workload.Accepted < 300 {
		t.Errorf("workload %+v: every read, update and delete should find its request", res.Workload)
	}
}

// TestLoadtestThresholdGatesCI: an SLO the system cannot meet fails k6's threshold, and
// headroom exits non-zero naming it.
func TestLoadtestThresholdGatesCI(t *testing.T) {
	k6 := k6Path(t)
	target := startServe(t, "validate-below")
	code, _, errOut := headroom(t, "loadtest", "validate-below", "--target", target, "--token", "tok",
		"--duration", "2s", "--k6", k6, "--quiet", "--slo", "api.p50<=1us")
	if code != exitInternal || !strings.Contains(errOut, "SLOs not met: api.p50<=1us") {
		t.Fatalf("exit %d, stderr %s; want 1 and the SLO named", code, errOut)
	}
}

func TestLoadtestEmitK8s(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := headroom(t, "loadtest", "baseline", "--target", "https://api.example.com", "--scale", "0.001",
		"--duration", "10m", "--emit", "k8s", "--emit-dir", dir, "--parallelism", "4", "--image", "registry/headroom-k6:1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	tr, err := os.ReadFile(filepath.Join(dir, "testrun.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"apiVersion: k6.io/v1alpha1", "kind: TestRun", "name: headroom-baseline", "parallelism: 4",
		"name: headroom-baseline-script", "image: registry/headroom-k6:1", `value: "144"`} {
		if !strings.Contains(string(tr), want) {
			t.Errorf("testrun.yaml lacks %q:\n%s", want, tr)
		}
	}
	if cm, err := os.ReadFile(filepath.Join(dir, "configmap.yaml")); err != nil || !strings.Contains(string(cm), "k6/x/headroom") {
		t.Errorf("configmap.yaml: %v\n%s", err, cm)
	}
	if !strings.Contains(out, "testrun.yaml") {
		t.Errorf("stdout %q does not name the files", out)
	}
}

func TestLoadtestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"loadtest", "validate-below"},
		{"loadtest", "validate-below", "--target", "ftp://x"},
		{"loadtest", "validate-below", "--target", "http://x", "--slo", "latency<1s"},
		{"loadtest", "validate-below", "--target", "http://x", "--slo", "api_p99<1s"},
		{"loadtest", "validate-below", "--target", "http://x", "--scale", "-1"},
		{"loadtest", "validate-below", "--target", "http://x", "--emit", "nomad"},
	} {
		if code, _, errOut := headroom(t, args...); code != exitBadInput {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}
