package system_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// benchConcurrency is the number of client goroutines, each with its own keep-alive
// connection: enough to keep both cores busy through the round-trip latency.
const benchConcurrency = 32

// benchDeadline bounds one phase in time whatever b.N is.
const benchDeadline = 2 * time.Minute

// BenchmarkAPIThroughput measures, in one run, requests per second accepted by the API
// over loopback HTTP and fully processed by the pipeline (memory backend, no service
// time), and the same number of requests through a bare net/http handler that reads the
// body and answers a JSON document of the same size: the ceiling of this machine's HTTP
// stack with this client. processed/bare is the figure to watch (target >= 0.5).
//
// The via_thrift case runs the second architecture: the API calls the Thrift service
// (loopback) which calls the pipeline.
//
//	go test ./system -run '^$' -bench APIThroughput -benchtime 20000x
func BenchmarkAPIThroughput(b *testing.B) {
	b.Run("direct", func(b *testing.B) { benchThroughput(b, false) })
	b.Run("via_thrift", func(b *testing.B) { benchThroughput(b, true) })
}

func benchThroughput(b *testing.B, viaThrift bool) {
	b.ReportAllocs()
	b.StopTimer()
	client := benchClient()
	body := []byte(`{"state":"pending","payload":{"amount":12.5,"currency":"EUR","note":"bench"}}`)

	bareURL, stopBare := startBareServer(b)
	bareURL += "/v1/requests"
	defer stopBare()
	cfg := system.ServerConfig{
		HTTPAddr:    "127.0.0.1:0",
		AdminTokens: []string{adminToken},
		Pipeline:    system.PipelineConfig{VisibilityTimeout: 30 * time.Second},
	}
	if viaThrift {
		cfg.ThriftAddr, cfg.APIViaThrift = "127.0.0.1:0", true
	}
	srv := startServer(b, cfg)
	p := srv.Pipeline()
	apiURL := "http://" + srv.HTTPAddr() + "/v1/requests"

	// The two are measured in alternating rounds so that a change in the machine's load
	// (it is shared) hits both alike.
	const rounds = 4
	var bareTime, apiTime time.Duration
	var bareN, apiN int
	deadline := time.Now().Add(benchDeadline)
	for r := range rounds {
		n := b.N/rounds + boolInt(r < b.N%rounds)
		if n == 0 {
			continue
		}
		b.StartTimer()
		start := time.Now()
		bareN += drive(b, client, bareURL, body, n)
		bareTime += time.Since(start)

		before := applied(p)
		start = time.Now()
		accepted := drive(b, client, apiURL, body, n)
		for applied(p)-before < int64(accepted) {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d accepted requests processed by the deadline", applied(p)-before, accepted)
			}
			time.Sleep(100 * time.Microsecond)
		}
		apiTime += time.Since(start)
		apiN += accepted
		b.StopTimer()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if rep, err := srv.Shutdown(ctx); err != nil || !rep.Clean() {
		b.Fatalf("shutdown: %v: %s", err, rep)
	}
	if apiN != b.N || bareN != b.N {
		b.Fatalf("accepted %d and bare %d of %d requests", apiN, bareN, b.N)
	}
	bareRPS := float64(bareN) / bareTime.Seconds()
	processedRPS := float64(apiN) / apiTime.Seconds()
	b.ReportMetric(bareRPS, "bare_req/s")
	b.ReportMetric(processedRPS, "processed_req/s")
	b.ReportMetric(processedRPS/bareRPS, "processed/bare")
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

func benchClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        benchConcurrency * 2,
			MaxIdleConnsPerHost: benchConcurrency * 2,
			IdleConnTimeout:     time.Minute,
		},
		Timeout: 30 * time.Second,
	}
}

// drive sends n POSTs with benchConcurrency workers and returns how many got a 2xx. A
// non-2xx stops the benchmark: it measures accepted requests only.
func drive(b *testing.B, c *http.Client, url string, body []byte, n int) int {
	var next, good atomic.Int64
	var failure atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), benchDeadline)
	defer cancel()
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+adminToken)
				resp, err := c.Do(req)
				if err != nil {
					failure.CompareAndSwap(nil, err)
					cancel()
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					failure.CompareAndSwap(nil, fmt.Errorf("%s: status %d", url, resp.StatusCode))
					cancel()
					return
				}
				good.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := failure.Load().(error); err != nil {
		b.Fatal(err)
	}
	return int(good.Load())
}

// startBareServer serves a handler doing the HTTP part of a create and nothing else:
// read the body, answer 201 with a JSON document the size of the API's.
func startBareServer(b *testing.B) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	reply := []byte(`{"id":"18jjnet0mr-1","state":"pending","payload":{"amount":12.5,"currency":"EUR","note":"bench"},"version":1,"created_at":"2026-11-23T09:14:08.458256625Z","updated_at":"2026-11-23T09:14:08.458256625Z","processed_version":0}` + "\n")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(reply)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }
}

// BenchmarkAPICreateHandler is the API's own cost per create, without the network: the
// handler over a running pipeline (memory backend), called in-process.
func BenchmarkAPICreateHandler(b *testing.B) {
	srv := startServer(b, system.ServerConfig{HTTPAddr: "127.0.0.1:0", AdminTokens: []string{adminToken}})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	api := system.NewAPI(srv.Pipeline(), system.WithAdminTokens(adminToken))
	body := []byte(`{"state":"pending","payload":{"amount":12.5,"currency":"EUR","note":"bench"}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/requests", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
