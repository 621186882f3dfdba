package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// TestServeSecondArchitecture runs `headroom serve --store redis+mysql --bus rabbitmq`,
// the design's second architecture (web → Thrift microservice → Redis cache-aside over
// MySQL, RabbitMQ between the writes and the processors), in-process against the
// machine's Redis, MariaDB and RabbitMQ. It creates requests, waits for the processors,
// reads every request three times, and checks on /metrics that the cache series are there
// and say what happened: one miss then two hits per request, a hit ratio of 2/3.
func TestServeSecondArchitecture(t *testing.T) {
	name := "arch" + randomHex(t, 5)
	be := durDSNs(t, durableCombo{store: "redis+mysql", bus: "rabbitmq"}, name)
	t.Cleanup(func() { be.cleanup(t) })
	cfgText := fmt.Sprintf("pipeline:\n  topic: %s\n  visibility_timeout: 10s\n", name)
	cfgPath := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	scfg, err := system.ParseServerConfig(cfgPath, []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	topo, err := scfg.Pipeline.Topology()
	if err != nil {
		t.Fatal(err)
	}
	deleteTopologyAfter(t, "rabbitmq", be.busDSN, topo)

	type outcome struct {
		code   int
		stderr string
	}
	done := make(chan outcome, 1)
	var errb syncBuffer
	go func() {
		code := run([]string{"serve", "--config", cfgPath, "--store", "redis+mysql", "--store-dsn", be.storeDSN,
			"--bus", "rabbitmq", "--bus-dsn", be.busDSN, "--http-addr", "127.0.0.1:0", "--thrift-addr", "127.0.0.1:0",
			"--api-via-thrift", "--token", "tk", "--drain-delay", "0s", "--drain-timeout", "20s"}, io.Discard, &errb)
		done <- outcome{code, errb.String()}
	}()
	base := "http://" + servingAddr(t, &errb, done)
	waitHTTP(t, base+"/readyz", 200, done)
	if log := errb.String(); !strings.Contains(log, "api_via_thrift=true store=redis+mysql bus=rabbitmq") {
		t.Fatalf("the server does not say it runs web → Thrift → redis+mysql with rabbitmq:\n%s", log)
	}

	const n = 20
	ids := make([]string, n)
	for i := range ids {
		var r system.Request
		code := call(t, "POST", base+"/v1/requests", `{"state":"pending","payload":{"n":`+strconv.Itoa(i)+`}}`, &r)
		if code != http.StatusCreated {
			t.Fatalf("create %d: status %d", i, code)
		}
		ids[i] = r.ID
	}
	// Wait for the processors through /metrics, not by reading the requests, which would
	// touch the cache being measured.
	deadline := time.Now().Add(30 * time.Second)
	for sumSeries(scrape(t, base), "headroom_processor_messages_total{", `outcome="applied"`) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the processors did not apply %d effects within 30s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	before := scrape(t, base)
	for _, id := range ids {
		for k := range 3 {
			var r system.Request
			if code := call(t, "GET", base+"/v1/requests/"+id, "", &r); code != http.StatusOK || r.ProcessedVersion != 1 {
				t.Fatalf("read %d of %s: status %d, %+v; want 200 and processed version 1", k+1, id, code, r)
			}
		}
	}
	after := scrape(t, base)
	hits := series(t, after, "headroom_cache_hits_total") - series(t, before, "headroom_cache_hits_total")
	misses := series(t, after, "headroom_cache_misses_total") - series(t, before, "headroom_cache_misses_total")
	if hits != 2*n || misses != n {
		t.Errorf("%d reads of %d requests: %g hits, %g misses on /metrics; want %d and %d (a miss fills, two hits follow)",
			3*n, n, hits, misses, 2*n, n)
	}
	totalHits, totalMisses := series(t, after, "headroom_cache_hits_total"), series(t, after, "headroom_cache_misses_total")
	ratio := series(t, after, "headroom_cache_hit_ratio")
	if want := totalHits / (totalHits + totalMisses); math.Abs(ratio-want) > 1e-9 || math.Abs(ratio-2.0/3) > 1e-9 {
		t.Errorf("headroom_cache_hit_ratio %g; want hits/(hits+misses) = %g/%g = 2/3", ratio, totalHits, totalHits+totalMisses)
	}
	for _, s := range []string{"headroom_cache_fills_total", "headroom_cache_refused_fills_total", `headroom_cache_errors_total{op="invalidate"}`} {
		series(t, after, s) // present
	}
	if fills := series(t, after, "headroom_cache_fills_total"); fills != n {
		t.Errorf("headroom_cache_fills_total %g, want %d (one per miss)", fills, n)
	}
	t.Logf("/metrics after %d reads of %d requests: hits %g, misses %g, hit ratio %.4f", 3*n, n, totalHits, totalMisses, ratio)

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-done:
		if o.code != 0 || !strings.Contains(o.stderr, "shutdown: clean") {
			t.Fatalf("serve exited %d:\n%s", o.code, o.stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop within 40s of SIGTERM")
	}
}

// deleteTopologyAfter removes the test's queues and exchange from the broker when the test
// ends, through a bus of its own on the same topology.
func deleteTopologyAfter(t testing.TB, busName, busDSN string, topo system.Topology) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		b, err := system.OpenBus(ctx, busName, busDSN)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer closeIf(b)
		d, ok := b.(interface{ DeleteTopology(context.Context) error })
		if !ok {
			return
		}
		if err := b.Declare(ctx, topo); err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		if err := d.DeleteTopology(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func call(t *testing.T, method, url, body string, into any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer tk")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

// scrape reads /metrics into series → value (the text format: "name{labels} value").
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d, %v", resp.StatusCode, err)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("/metrics line %q: not a sample", line)
		}
		m[line[:i]] = v
	}
	return m
}

// series returns the sample named exactly s, failing when /metrics does not have it.
func series(t *testing.T, m map[string]float64, s string) float64 {
	t.Helper()
	v, ok := m[s]
	if !ok {
		t.Fatalf("/metrics has no series %s", s)
	}
	return v
}

// sumSeries adds the samples whose name starts with prefix and that contain label.
func sumSeries(m map[string]float64, prefix, label string) float64 {
	sum := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, prefix) && strings.Contains(k, label) {
			sum += v
		}
	}
	return sum
}
