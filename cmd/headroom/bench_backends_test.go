package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// BenchmarkBackendMatrix measures, for every store × bus pair, the requests per second the
// system accepts over its HTTP API (loopback, keep-alive clients) and fully processes: a
// closed loop of POST /v1/requests from benchClients clients for 3 s (pausing while more
// than benchBacklog requests wait for the processors), then the wait until the processors
// have applied every accepted request; the rate is the accepted count over the time from
// the first request to the last effect. Each pair runs on a table,
// key prefix and topic of its own, against the machine's services (and the AWS emulators
// for dynamodb and sns+sqs). Right before each pair the same clients drive a bare net/http
// handler (read the body, answer 201 with a document of the API's size) for a second: the
// ceiling of this machine's HTTP stack at that moment, so that a change in the shared
// machine's load shows in both figures. memory + memory runs first and is the reference of
// the ÷ memory column.
//
// scripts/bench-backends runs it and writes the table into README.md:
//
//	go test ./cmd/headroom -run '^$' -bench '^BenchmarkBackendMatrix$' -benchtime 1x -timeout 30m
//
// Every sub-benchmark is one bounded measurement, whatever b.N is (run it with
// -benchtime 1x); HEADROOM_BENCH_CELL changes the intake time (default 3s).
func BenchmarkBackendMatrix(b *testing.B) {
	cell := 3 * time.Second
	if v := os.Getenv("HEADROOM_BENCH_CELL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("HEADROOM_BENCH_CELL=%q: want a positive duration such as 3s", v)
		}
		cell = d
	}
	awsEnv(b)
	stores := []string{"memory", "postgres", "mysql", "redis+mysql", "dynamodb"}
	buses := []string{"memory", "rabbitmq", "nats", "sns+sqs"}
	for _, st := range stores {
		for _, bu := range buses {
			b.Run("store="+st+"/bus="+bu, func(b *testing.B) { benchCell(b, st, bu, cell) })
		}
	}
}

const (
	benchClients = 32
	benchToken   = "bench-admin-token"
	// benchDrain bounds the wait for the processors after intake stops.
	benchDrain = 2 * time.Minute
	// benchBacklog is how many accepted requests may wait for the processors before the
	// clients pause.
	benchBacklog = 2000
)

var benchBody = []byte(`{"state":"pending","payload":{"amount":12.5,"currency":"EUR","note":"bench"}}`)

func benchCell(b *testing.B, store, bus string, intake time.Duration) {
	b.ReportAllocs()
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        benchClients * 2,
			MaxIdleConnsPerHost: benchClients * 2,
			IdleConnTimeout:     time.Minute,
		},
		Timeout: 30 * time.Second,
	}
	defer client.CloseIdleConnections()

	bareURL, stopBare := startBare(b)
	bareN, bareTime := benchDrive(b, client, bareURL, time.Second)
	stopBare()
	bareRPS := float64(bareN) / bareTime.Seconds()

	name := "bench" + randomHex(b, 5)
	cfg := system.ServerConfig{
		HTTPAddr:    "127.0.0.1:0",
		AdminTokens: []string{benchToken},
		Store:       store, Bus: bus,
		Pipeline: system.PipelineConfig{Topic: name, VisibilityTimeout: 30 * time.Second},
	}
	if store != "memory" {
		be := durDSNs(b, durableCombo{store: store, bus: "rabbitmq"}, name)
		b.Cleanup(func() { be.cleanup(b) })
		cfg.StoreDSN = be.storeDSN
	}
	if bus != "memory" {
		be := durDSNs(b, durableCombo{store: "mysql", bus: bus}, name)
		cfg.BusDSN = be.busDSN
		topo, err := cfg.Pipeline.Topology()
		if err != nil {
			b.Fatal(err)
		}
		deleteTopologyAfter(b, bus, cfg.BusDSN, topo)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := system.NewServer(ctx, cfg, system.WithServerLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatalf("%s + %s: %v", store, bus, err)
	}
	if err := srv.Start(ctx); err != nil {
		b.Fatalf("%s + %s: start: %v", store, bus, err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if rep, err := srv.Shutdown(sctx); err != nil || !rep.Clean() {
			b.Errorf("%s + %s: shutdown: %v: %s", store, bus, err, rep)
		}
	}()
	p := srv.Pipeline()

	// Backpressure: the clients pause while more than benchBacklog accepted requests wait
	// for the processors, so a pair whose processing is slower than its intake is measured
	// at its processing rate without queueing minutes of work behind the cell.
	var posted atomic.Int64
	paused := &atomic.Bool{}
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopWatch:
				return
			case <-t.C:
			}
			backlog := posted.Load() - appliedCount(p)
			switch {
			case backlog > benchBacklog:
				paused.Store(true)
			case backlog < benchBacklog/2:
				paused.Store(false)
			}
		}
	}()

	b.ResetTimer()
	start := time.Now()
	accepted, intakeTime := benchDriveWith(b, client, "http://"+srv.HTTPAddr()+"/v1/requests", intake, paused, &posted)
	close(stopWatch)
	<-watchDone
	deadline := time.Now().Add(benchDrain)
	for appliedCount(p) < int64(accepted) {
		if time.Now().After(deadline) {
			b.Fatalf("%s + %s: %d of %d accepted requests processed %v after intake stopped",
				store, bus, appliedCount(p), accepted, benchDrain)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	processedRPS := float64(accepted) / elapsed.Seconds()
	b.ReportMetric(float64(accepted)/intakeTime.Seconds(), "accepted_req/s")
	b.ReportMetric(processedRPS, "processed_req/s")
	b.ReportMetric(bareRPS, "bare_req/s")
	b.ReportMetric(processedRPS/bareRPS, "processed/bare")
	b.ReportMetric(float64(accepted), "requests")
}

func appliedCount(p *system.Pipeline) int64 {
	var n int64
	for _, s := range p.Stats().States {
		n += s.Applied
	}
	return n
}

// benchDrive posts from benchClients clients for d and returns how many were answered
// 2xx and how long it took (to the last answer). Anything else stops the benchmark: it
// measures accepted requests only.
func benchDrive(b *testing.B, c *http.Client, url string, d time.Duration) (int, time.Duration) {
	return benchDriveWith(b, c, url, d, &atomic.Bool{}, &atomic.Int64{})
}

// benchDriveWith is benchDrive with backpressure: the clients wait while paused is set.
// posted counts the requests answered 2xx as they come.
func benchDriveWith(b *testing.B, c *http.Client, url string, d time.Duration, paused *atomic.Bool, good *atomic.Int64) (int, time.Duration) {
	var failure atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	stopAt := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) && ctx.Err() == nil {
				if paused.Load() {
					time.Sleep(time.Millisecond)
					continue
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(benchBody))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+benchToken)
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
	return int(good.Load()), time.Since(start)
}

// startBare serves the HTTP part of a create and nothing else: read the body, answer 201
// with a JSON document the size of the API's.
func startBare(b *testing.B) (string, func()) {
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
	return "http://" + ln.Addr().String() + "/v1/requests", func() { srv.Close() }
}
