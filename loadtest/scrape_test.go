package loadtest

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	_ "github.com/headroom/headroom/system/backend/memory"
)

// TestScrapeReadsTheSystemsMetrics runs the real system, sends it requests and reads its
// /metrics: the names the harness looks for are the ones the system exports.
func TestScrapeReadsTheSystemsMetrics(t *testing.T) {
	ctx := context.Background()
	cfg := system.ServerConfig{
		HTTPAddr: "127.0.0.1:0", AdminTokens: []string{"tok"},
		Pipeline: system.PipelineConfig{
			States:             system.States{"pending", "approved"},
			AccountConcurrency: 20, UnreservedMin: 2,
			Processors: []system.ProcessorConfig{{State: "approved", ReservedConcurrency: 3}},
			Work:       system.Work{ServiceTime: system.Dist{Kind: system.DistConstant, Value: 2 * time.Millisecond}},
		},
	}
	srv, err := system.NewServer(ctx, cfg, system.WithServerLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.HTTPAddr()
	sc := Scraper{URL: base + "/metrics"}
	before, err := sc.Scrape(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		state := "pending"
		if i%3 == 0 {
			state = "approved"
		}
		req, _ := http.NewRequest("POST", base+"/v1/requests", strings.NewReader(`{"state":"`+state+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("create: %s", resp.Status)
		}
	}
	var after Snapshot
	deadline := time.Now().Add(10 * time.Second)
	for {
		if after, err = sc.Scrape(ctx); err != nil {
			t.Fatal(err)
		}
		if after.States["pending"].Applied+after.States["approved"].Applied >= 30 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := after.Accepted - before.Accepted; got != 30 {
		t.Errorf("accepted %g, want 30", got)
	}
	p, a := after.States["pending"], after.States["approved"]
	if p.Applied != 20 || a.Applied != 10 || p.Processed != 20 {
		t.Errorf("applied pending %g approved %g (processed %g), want 20 and 10", p.Applied, a.Applied, p.Processed)
	}
	if a.Limit != 3 || p.Limit != 17 || after.AccountLimit != 20 {
		t.Errorf("limits approved %g pending %g account %g, want 3, 17 (the unreserved pool), 20", a.Limit, p.Limit, after.AccountLimit)
	}
	if p.High < 1 || after.AccountHigh < 1 {
		t.Errorf("high-water marks %g, %g: want at least one invocation", p.High, after.AccountHigh)
	}
	if _, ok := after.Queues["pending"]; !ok || !after.HasDeadLettered {
		t.Errorf("queue depths %v, dead-lettered present %v: the memory bus reports both", after.Queues, after.HasDeadLettered)
	}
	h := after.EndToEnd["pending"].Sub(before.EndToEnd["pending"])
	if h.Count != 20 || !(h.Mean() >= 0.002) {
		t.Errorf("end to end: %g observations, mean %gs; want 20, at least the 2 ms step", h.Count, h.Mean())
	}
	if after.HasProbe {
		t.Error("a probe is reported where none is registered")
	}
}

func TestHistogramQuantile(t *testing.T) {
	// 10 observations in (0, 1], 30 in (1, 2], 60 in (2, 4].
	h := Histogram{Bounds: []float64{1, 2, 4}, Counts: []float64{10, 40, 100}, Count: 100, Sum: 250}
	for _, tc := range []struct{ q, want float64 }{
		{0.05, 0.5}, {0.1, 1}, {0.25, 1.5}, {0.7, 2 + 2*(30.0/60)}, {1, 4},
	} {
		if got := h.Quantile(tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("q%g = %g, want %g", tc.q, got, tc.want)
		}
	}
	if h.Mean() != 2.5 {
		t.Errorf("mean %g, want 2.5", h.Mean())
	}
	d := h.Sub(Histogram{Bounds: h.Bounds, Counts: []float64{10, 10, 10}, Count: 10, Sum: 5})
	if d.Count != 90 || d.Counts[1] != 30 || d.Sum != 245 {
		t.Errorf("difference %+v", d)
	}
	if !math.IsNaN((Histogram{}).Quantile(0.5)) {
		t.Error("an empty histogram has a median")
	}
}

func TestFitHistogramLognormal(t *testing.T) {
	// Fill probe buckets with a known lognormal by its quantiles: the fit finds its sigma
	// and, from the sum, its mean.
	const mu, sigma = -3.0, 0.6 // median ≈ 50 ms
	bounds := ProbeBuckets()
	h := Histogram{Bounds: bounds, Counts: make([]float64, len(bounds))}
	const n = 200000
	for i := range n {
		u := (float64(i) + 0.5) / n
		x := math.Exp(mu + sigma*normQuantile(u))
		h.Sum += x
		h.Count++
		for j, b := range bounds {
			if x <= b {
				for k := j; k < len(bounds); k++ {
					h.Counts[k]++
				}
				break
			}
		}
	}
	f, ok := FitHistogram(h)
	if !ok {
		t.Fatal("no fit")
	}
	wantMean := 1000 * math.Exp(mu+sigma*sigma/2)
	if math.Abs(f.Sigma-sigma) > 0.01 || math.Abs(f.MeanMS-wantMean) > 0.001*wantMean {
		t.Errorf("fit sigma %.4f mean %.3f ms, want %.1f and %.3f", f.Sigma, f.MeanMS, sigma, wantMean)
	}
}

// normQuantile is the standard normal's inverse CDF, by bisection on erfc.
func normQuantile(p float64) float64 {
	lo, hi := -10.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
