package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/system"
)

func TestServeFromBaselineScenario(t *testing.T) {
	s, err := scenarios.Load("baseline")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serveFromScenario(s, system.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pc := cfg.Pipeline
	want := system.States{"pending", "approved", "rejected", "cancelled"}
	if len(pc.States) != len(want) {
		t.Fatalf("states %v, want %v", pc.States, want)
	}
	for i := range want {
		if pc.States[i] != want[i] {
			t.Fatalf("states %v, want %v (the mix's order)", pc.States, want)
		}
	}
	region := s.Regions[0]
	if pc.AccountConcurrency != region.LambdaConcurrency || pc.AccountConcurrency == 0 {
		t.Errorf("account concurrency %d, want the region's %d", pc.AccountConcurrency, region.LambdaConcurrency)
	}
	if cfg.ThrottleRPS != region.APIGatewayRateRPS || cfg.ThrottleBurst != region.APIGatewayBurst || cfg.ThrottleRPS == 0 {
		t.Errorf("throttle %g/%d, want the region's %g/%d", cfg.ThrottleRPS, cfg.ThrottleBurst,
			region.APIGatewayRateRPS, region.APIGatewayBurst)
	}
	if pc.VisibilityTimeout != 180*time.Second || pc.MaxReceives != 5 || pc.BatchSize != 10 {
		t.Errorf("queue settings %v / %d / %d, want 180s / 5 / 10", pc.VisibilityTimeout, pc.MaxReceives, pc.BatchSize)
	}
	st := pc.Work.ServiceTime
	if st.Kind != system.DistLognormal || st.Median != 120*time.Millisecond || st.P99 != 400*time.Millisecond {
		t.Errorf("processor work %+v, want lognormal median 120ms p99 400ms", st)
	}
	// The request function's own work is the API's create work.
	if cw := pc.CreateWork.ServiceTime; cw.Kind != system.DistLognormal || cw.Median != 35*time.Millisecond || cw.P99 != 110*time.Millisecond {
		t.Errorf("create work %+v, want the request function's lognormal median 35ms p99 110ms", cw)
	}
	if len(pc.Processors) != 4 {
		t.Fatalf("%d processors, want one per state", len(pc.Processors))
	}
	// The result must be a configuration the pipeline accepts.
	if _, err := pc.Topology(); err != nil {
		t.Fatalf("pipeline refuses the derived config: %v", err)
	}
}

func TestServeFromScenarioPerStateReservations(t *testing.T) {
	s, err := scenarios.Load("baseline", scenarios.WithSets([]string{
		"components.processor.reserved_concurrency=300",
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serveFromScenario(s, system.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// One function for every state with a reservation: that reservation caps them all.
	if cfg.Pipeline.AccountConcurrency != 300 {
		t.Fatalf("account concurrency %d, want the shared reservation 300", cfg.Pipeline.AccountConcurrency)
	}
}

func TestServeConfigLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(file, []byte("http_addr: 127.0.0.1:9000\nthrift_addr: 127.0.0.1:9001\nadmin_tokens: [from-file]\ndrain_delay: 3s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, f := serveCmd()
	if err := cmd.ParseFlags([]string{"--config", file, "--thrift-addr", "127.0.0.1:7777", "--token", "from-flag", "--scenario", "mmc"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := serveConfig(cmd, *f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9000" {
		t.Errorf("http addr %q: the file's should stand when the flag is not given", cfg.HTTPAddr)
	}
	if cfg.ThriftAddr != "127.0.0.1:7777" {
		t.Errorf("thrift addr %q: the flag should win", cfg.ThriftAddr)
	}
	if len(cfg.AdminTokens) != 2 || cfg.AdminTokens[0] != "from-flag" || cfg.AdminTokens[1] != "from-file" {
		t.Errorf("tokens %v, want the flag's and the file's", cfg.AdminTokens)
	}
	if cfg.DrainDelay != 3*time.Second {
		t.Errorf("drain delay %v: the file's should stand", cfg.DrainDelay)
	}

	cmd, f = serveCmd()
	if err := cmd.ParseFlags([]string{"--api-via-thrift"}); err != nil {
		t.Fatal(err)
	}
	if _, err := serveConfig(cmd, *f); !isUsage(err) {
		t.Errorf("--api-via-thrift without --thrift-addr: %v, want a usage error", err)
	}

	cmd, f = serveCmd()
	if err := cmd.ParseFlags([]string{"--config", filepath.Join(dir, "missing.yaml")}); err != nil {
		t.Fatal(err)
	}
	if _, err := serveConfig(cmd, *f); exitCode(err) != exitBadInput {
		t.Errorf("missing config file: %v (exit %d), want bad input", err, exitCode(err))
	}

	cmd, f = serveCmd()
	if err := cmd.ParseFlags([]string{"--scenario", "no-such-scenario"}); err != nil {
		t.Fatal(err)
	}
	_, err = serveConfig(cmd, *f)
	var se *scenarios.Error
	if err == nil || (!errors.As(err, &se) && exitCode(err) != exitBadInput) {
		t.Errorf("unknown scenario: %v, want a scenario error", err)
	}
}

// TestServeDrainsOnSIGTERM runs `headroom serve` in-process, loads it, sends the process
// SIGTERM (which serve's signal handler takes, so the test survives it) and checks that
// readiness turned 503, every accepted request was processed, and the report says so.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	type outcome struct {
		code   int
		stderr string
	}
	done := make(chan outcome, 1)
	var errb syncBuffer
	go func() {
		code := run([]string{"serve", "--scenario", "mmc", "--http-addr", "127.0.0.1:0", "--thrift-addr", "127.0.0.1:0",
			"--api-via-thrift", "--token", "tk", "--drain-delay", "1s", "--drain-timeout", "20s"}, io.Discard, &errb)
		done <- outcome{code, errb.String()}
	}()
	base := "http://" + servingAddr(t, &errb, done)
	waitHTTP(t, base+"/readyz", 200, done)

	const n = 25
	for i := range n {
		req, _ := http.NewRequest("POST", base+"/v1/requests", strings.NewReader(`{"state":"pending"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer tk")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("post %d: %d", i, resp.StatusCode)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, base+"/readyz", 503, done)
	select {
	case o := <-done:
		if o.code != 0 {
			t.Fatalf("serve exited %d:\n%s", o.code, o.stderr)
		}
		if !strings.Contains(o.stderr, "shutdown: clean") || !strings.Contains(o.stderr, "unpublished 0") {
			t.Fatalf("no clean shutdown report:\n%s", o.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(file, []byte("http_addr: 127.0.0.1:0\npipeline:\n  stats: [a]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := headroom(t, "serve", "--config", file)
	if code != exitBadInput || !strings.Contains(stderr, "bad.yaml:3: unknown key stats") {
		t.Fatalf("exit %d, stderr %q; want 2 and the file, line and key", code, stderr)
	}
	code, _, stderr = headroom(t, "serve", "--store", "nosuch", "--http-addr", "127.0.0.1:0")
	if code != exitBadInput || !strings.Contains(stderr, `store "nosuch": unknown backend`) {
		t.Fatalf("exit %d, stderr %q; want 2 and the unknown backend named", code, stderr)
	}
}

// servingAddr waits for serve's "serving" line on its stderr and returns the HTTP address
// the line names. The tests give serve port 0 and let the kernel pick: a port chosen by the
// test and released before serve binds it can be taken meanwhile by any other test process
// (go test runs packages in parallel). It fails if serve exits first.
func servingAddr[T any](t *testing.T, stderr *syncBuffer, exited <-chan T) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		select {
		case o := <-exited:
			t.Fatalf("serve exited before serving: %+v", o)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not say where it serves within 60s:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitHTTP polls url until it answers status; it fails if serve exits first.
func waitHTTP[T any](t *testing.T, url string, status int, exited <-chan T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case o := <-exited:
			t.Fatalf("serve exited early: %+v", o)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d", url, status)
}

// syncBuffer is a bytes.Buffer safe for the serve goroutine to write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
