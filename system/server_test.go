package system_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	_ "github.com/headroom/headroom/system/backend/memory"
)

func testServerConfig() system.ServerConfig {
	return system.ServerConfig{
		HTTPAddr:    "127.0.0.1:0",
		ThriftAddr:  "127.0.0.1:0",
		AdminTokens: []string{adminToken},
		Pipeline: system.PipelineConfig{
			AccountConcurrency: 40,
			VisibilityTimeout:  5 * time.Second,
			RelayInterval:      50 * time.Millisecond,
		},
	}
}

func startServer(t testing.TB, cfg system.ServerConfig, opts ...system.ServerOption) *system.Server {
	t.Helper()
	quiet := system.WithServerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s, err := system.NewServer(context.Background(), cfg, append([]system.ServerOption{quiet}, opts...)...)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return s
}

func post(t *testing.T, c *http.Client, base, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/requests", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func applied(p *system.Pipeline) int64 {
	var n int64
	for _, st := range p.Stats().States {
		n += st.Applied
	}
	return n
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServerServesBothArchitectures runs one process with the API calling the pipeline,
// then one with the API calling the Thrift service: in both, every accepted request is
// processed and /metrics shows the API's and the pipeline's series.
func TestServerServesBothArchitectures(t *testing.T) {
	for _, viaThrift := range []bool{false, true} {
		t.Run(fmt.Sprintf("api_via_thrift=%v", viaThrift), func(t *testing.T) {
			cfg := testServerConfig()
			cfg.APIViaThrift = viaThrift
			s := startServer(t, cfg)
			base := "http://" + s.HTTPAddr()
			c := &http.Client{}
			const n = 60
			states := []string{"pending", "approved", "rejected", "cancelled"}
			for i := range n {
				if code := post(t, c, base, fmt.Sprintf(`{"state":%q,"payload":{"i":%d}}`, states[i%4], i)); code != 201 {
					t.Fatalf("post %d: %d", i, code)
				}
			}
			waitFor(t, "every request processed", 10*time.Second, func() bool { return applied(s.Pipeline()) == n })

			resp, err := c.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{
				`headroom_api_requests_total{code="201",route="POST /v1/requests"} 60`,
				"headroom_pipeline_",
				"go_goroutines",
			} {
				if !strings.Contains(string(body), want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			rep, err := s.Shutdown(ctx)
			if err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if !rep.Clean() {
				t.Fatalf("shutdown left work: %s", rep)
			}
		})
	}
}

// TestServerGracefulShutdownDrains: requests accepted just before a shutdown are all
// processed before it returns, readyz says 503 during the drain delay, and changes are
// refused from the moment intake stops.
func TestServerGracefulShutdownDrains(t *testing.T) {
	cfg := testServerConfig()
	cfg.DrainDelay = time.Second // long enough for the test to see the 503 on a loaded machine
	cfg.Pipeline.Work = system.Work{ServiceTime: system.Dist{Kind: system.DistConstant, Value: 50 * time.Millisecond}}
	cfg.Pipeline.AccountConcurrency = 10
	s := startServer(t, cfg)
	base := "http://" + s.HTTPAddr()
	c := &http.Client{}
	const n = 40 // 40 × 50 ms over 10 slots: about 200 ms of work still queued at shutdown
	for i := range n {
		if code := post(t, c, base, `{"state":"pending"}`); code != 201 {
			t.Fatalf("post %d: %d", i, code)
		}
	}
	var rep system.ServerReport
	var err error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rep, err = s.Shutdown(ctx)
	}()
	waitFor(t, "readyz 503", 2*time.Second, func() bool {
		resp, err := c.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 503
	})
	if code := post(t, c, base, `{"state":"pending"}`); code != 503 {
		t.Fatalf("post while draining: %d, want 503", code)
	}
	wg.Wait()
	if err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if !rep.Clean() {
		t.Fatalf("shutdown left work: %s", rep)
	}
	if got := applied(s.Pipeline()); got != n {
		t.Fatalf("processed %d of %d accepted requests", got, n)
	}
}

// TestServerShutdownReportsWhatIsLeft: with work far longer than the deadline, the
// shutdown gives up at the deadline and its report says what was left unprocessed.
func TestServerShutdownReportsWhatIsLeft(t *testing.T) {
	cfg := testServerConfig()
	cfg.Pipeline.Work = system.Work{ServiceTime: system.Dist{Kind: system.DistConstant, Value: 5 * time.Second}}
	cfg.Pipeline.AccountConcurrency = 2
	s := startServer(t, cfg)
	base := "http://" + s.HTTPAddr()
	c := &http.Client{}
	for i := range 10 {
		if code := post(t, c, base, `{"state":"approved"}`); code != 201 {
			t.Fatalf("post %d: %d", i, code)
		}
	}
	waitFor(t, "two invocations running", 2*time.Second, func() bool { return s.Pipeline().Stats().InFlight == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, _ := s.Shutdown(ctx)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("shutdown took %v with a 200ms deadline", took)
	}
	if rep.Clean() || rep.Pipeline.Drained {
		t.Fatalf("report says clean with 10 × 5s of work left: %s", rep)
	}
	var left int64
	for _, q := range rep.Pipeline.Queues {
		if q.Queue == "approved" {
			left = q.Visible + q.InFlight
		}
	}
	if left+rep.Pipeline.Interrupted < 8 {
		t.Fatalf("report counts %d queued and %d interrupted, want at least 8 unprocessed: %s",
			left, rep.Pipeline.Interrupted, rep)
	}
	if !strings.Contains(rep.String(), "NOT drained") {
		t.Fatalf("report string does not say so: %s", rep)
	}
}

func TestParseServerConfig(t *testing.T) {
	good := `
http_addr: 127.0.0.1:9000
thrift_addr: 127.0.0.1:9001
api_via_thrift: true
admin_tokens: [a1]
throttle: {rate_rps: 500, burst: 50}
drain_timeout: 10s
pipeline:
  states: [pending, approved]
  account_concurrency: 100
  visibility_timeout: 5s
  work:
    service_time: {dist: empirical, percentiles: {p100: 20ms, p0: 1ms, p50: 4ms}}
    mode: spin
  processors:
    - {state: approved, reserved_concurrency: 20}
`
	c, err := system.ParseServerConfig("serve.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9000" || !c.APIViaThrift || c.ThrottleRPS != 500 || c.ThrottleBurst != 50 ||
		c.DrainTimeout != 10*time.Second || len(c.Pipeline.States) != 2 || c.Pipeline.AccountConcurrency != 100 ||
		c.Pipeline.Processors[0].ReservedConcurrency != 20 || c.Pipeline.Work.Mode != system.WorkSpin {
		t.Fatalf("parsed %+v", c)
	}
	ps := c.Pipeline.Work.ServiceTime.Percentiles
	if len(ps) != 3 || ps[0].Q != 0 || ps[1].Q != 0.5 || ps[2].Q != 1 || ps[2].V != 20*time.Millisecond {
		t.Fatalf("percentiles %+v, want sorted p0, p50, p100", ps)
	}
	if _, err := system.ParseServerConfig("empty.yaml", nil); err != nil {
		t.Fatalf("an empty file is all defaults: %v", err)
	}

	for _, bad := range []struct{ yaml, want string }{
		{"http_adr: x\n", "bad.yaml:1: unknown key http_adr"},
		{"pipeline:\n  states: [a]\n  batch: 3\n", "bad.yaml:3: unknown key batch"},
		{"drain_timeout: soon\n", "bad.yaml:1: cannot unmarshal !!str `soon` into time.Duration"},
		{"http_addr: [\n", "bad.yaml:"},
		{"api_via_thrift: true\n", "api_via_thrift needs thrift_addr"},
		{"pipeline:\n  work:\n    service_time: {dist: empirical, percentiles: {q50: 1ms}}\n", "percentiles.q50"},
		{"pipeline:\n  work: {failure_rate: 2}\n", "pipeline.work"},
	} {
		_, err := system.ParseServerConfig("bad.yaml", []byte(bad.yaml))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want it to contain %q", bad.yaml, err, bad.want)
		}
	}
}
