package k6ext

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.k6.io/k6/metrics"
	"go.k6.io/k6/output"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/reports"
)

// OutputName is the output's name: `k6 run --out headroom=result.json script.js`.
const OutputName = "headroom"

// Output is the k6 output headroom. It records the run's responses into HDR histograms,
// polls the system's /metrics for what the client cannot see (queue depths, concurrency,
// throttles, processed and dead-lettered counts, end-to-end latency), and at the end writes
// the run as a Headroom result marked measured to the file given as its argument.
//
// k6 hands it samples from the engine's goroutine; AddMetricSamples only appends them to
// a buffer (k6's contract: it must not block) and a flusher goroutine of its own processes
// them every flushInterval. The /metrics poller is a second goroutine; both feed the
// recorder under one lock, which nothing else takes.
type Output struct {
	params output.Params
	path   string
	cfg    loadtest.Config

	buf     output.SampleBuffer
	flusher *output.PeriodicFlusher

	mu  sync.Mutex
	rec *loadtest.Recorder

	scraper  loadtest.Scraper
	horizon  time.Duration
	start    time.Time
	cpu      *loadtest.CPUMeter
	stopPoll context.CancelFunc
	polled   chan struct{}
}

var (
	_ output.Output                = (*Output)(nil)
	_ output.WithStopWithTestError = (*Output)(nil)
)

const flushInterval = 100 * time.Millisecond

// NewOutput is the output's constructor for output.RegisterExtension. Its argument is the
// result file; its settings are the HEADROOM_* environment variables (loadtest.Config),
// from k6's environment and its -e options.
func NewOutput(p output.Params) (output.Output, error) {
	path := strings.TrimPrefix(p.ConfigArgument, "file=")
	if path == "" {
		return nil, fmt.Errorf("headroom output: give the result file: --out headroom=result.json")
	}
	get := func(k string) string {
		if v, ok := p.RuntimeOptions.Env[k]; ok {
			return v
		}
		return p.Environment[k]
	}
	cfg, err := loadtest.ConfigFromEnv(get)
	if err != nil {
		return nil, fmt.Errorf("headroom output: %w", err)
	}
	return &Output{params: p, path: path, cfg: cfg, polled: make(chan struct{})}, nil
}

// Description is shown by `k6 run`.
func (o *Output) Description() string {
	return fmt.Sprintf("headroom (%s → %s, polling %s)", o.cfg.Scenario, o.path, o.cfg.Metrics())
}

// Start loads the scenario, takes the baseline of /metrics and starts the flusher and the
// poller. The measured period starts here, just before k6 starts the first iteration.
func (o *Output) Start() error {
	sc, err := o.cfg.Load()
	if err != nil {
		return fmt.Errorf("headroom output: scenario %s: %w", o.cfg.Scenario, err)
	}
	o.horizon = o.cfg.Play.Duration(sc)
	o.scraper = loadtest.Scraper{URL: o.cfg.Metrics()}
	o.cpu = loadtest.StartCPU()
	o.start = time.Now()
	o.rec = loadtest.NewRecorder(sc, o.start, o.horizon)
	o.rec.Note("measured with k6 (%s arrivals, %g iterations per arrival) against %s", o.cfg.ArrivalsOf(sc), o.cfg.GridOf(sc), o.cfg.Target)
	o.poll(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	o.stopPoll = cancel
	go o.poller(ctx)
	o.flusher, err = output.NewPeriodicFlusher(flushInterval, o.flush)
	return err
}

// AddMetricSamples buffers samples; it never blocks on processing.
func (o *Output) AddMetricSamples(samples []metrics.SampleContainer) {
	o.buf.AddMetricSamples(samples)
}

// poller scrapes /metrics every poll interval, and once exactly at the horizon, the end
// of the measured period.
func (o *Output) poller(ctx context.Context) {
	defer close(o.polled)
	tick := time.NewTicker(o.cfg.PollInterval())
	defer tick.Stop()
	end := time.NewTimer(time.Until(o.start.Add(o.horizon)))
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			o.poll(ctx)
		case <-end.C:
			o.poll(ctx)
		}
	}
}

func (o *Output) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snap, err := o.scraper.Scrape(ctx)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			o.rec.ScrapeFailed(err)
		}
		return
	}
	o.rec.Snapshot(snap)
}

// flush turns buffered samples into the recorder's figures.
func (o *Output) flush() {
	containers := o.buf.GetBufferedSamples()
	if len(containers) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range containers {
		for _, s := range c.GetSamples() {
			switch s.Metric.Name {
			case "http_req_duration":
				status := 0
				if v, ok := s.Tags.Get("status"); ok {
					status, _ = strconv.Atoi(v)
				}
				op, _ := s.Tags.Get("op")
				d := time.Duration(s.Value * float64(time.Millisecond))
				o.rec.Response(op, status, s.Time.Add(-d), d)
			case metrics.DroppedIterationsName:
				o.rec.Dropped(int64(s.Value))
			case "iterations":
				o.rec.Iterations(int64(s.Value))
			}
		}
	}
}

// Stop flushes, stops polling and writes the result.
func (o *Output) Stop() error { return o.StopWithTestError(nil) }

// StopWithTestError is Stop, told whether the test run failed.
func (o *Output) StopWithTestError(testErr error) error {
	if o.flusher != nil {
		o.flusher.Stop()
	}
	if o.stopPoll != nil {
		o.stopPoll()
		<-o.polled
	}
	if o.rec == nil {
		return nil
	}
	o.poll(context.Background())
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rec.GeneratorCPU(o.cpu.Stop())
	o.rec.Finish(time.Since(o.start))
	if testErr != nil {
		o.rec.Note("the k6 run ended with an error: %v", testErr)
	}
	res := o.rec.Result()
	var b bytes.Buffer
	if err := reports.JSON(&b, res); err != nil {
		return fmt.Errorf("headroom output: %w", err)
	}
	if dir := filepath.Dir(o.path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("headroom output: %w", err)
		}
	}
	if err := os.WriteFile(o.path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("headroom output: %w", err)
	}
	// The API latency's distribution beside the result, for calibration (validate --fit).
	fit, _ := o.rec.APIFit()
	side, err := json.MarshalIndent(loadtest.LatencyDetail{APILatency: o.rec.APIPercentiles(), APIFit: fit}, "", "  ")
	if err != nil {
		return fmt.Errorf("headroom output: %w", err)
	}
	if err := os.WriteFile(loadtest.LatencyFile(o.path), append(side, '\n'), 0o644); err != nil {
		return fmt.Errorf("headroom output: %w", err)
	}
	if o.cfg.Journal {
		if err := journal.WriteFile(loadtest.JournalFile(o.path)); err != nil {
			return fmt.Errorf("headroom output: %w", err)
		}
	}
	return nil
}
