package loadtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The series of the system's /metrics the harness reads (system/pipeline_metrics.go,
// system/api_metrics.go), and the probe's, which `headroom validate` registers beside them.
const (
	metricAccepted      = "headroom_pipeline_accepted_total"
	metricAccountHigh   = "headroom_account_concurrency_high_water"
	metricAccountLimit  = "headroom_account_concurrency_limit"
	metricStateLimit    = "headroom_processor_concurrency_limit"
	metricStateInFlight = "headroom_processor_inflight"
	metricStateHigh     = "headroom_processor_concurrency_high_water"
	metricMessages      = "headroom_processor_messages_total"
	metricReceived      = "headroom_processor_received_total"
	metricRedelivered   = "headroom_processor_redelivered_total"
	metricThrottles     = "headroom_processor_throttles_total"
	metricVisible       = "headroom_queue_visible_messages"
	metricQueueInFlight = "headroom_queue_inflight_messages"
	metricDeadLettered  = "headroom_dead_lettered_messages"
	metricAPIThrottled  = "headroom_api_throttled_total"
	metricEndToEnd      = "headroom_pipeline_end_to_end_seconds"
	metricProcessCPU    = "process_cpu_seconds_total"

	// MetricProbeEndToEnd, MetricProbeService and MetricProbePickup are the probe's
	// fine-grained histograms, by state: from a write being accepted to its processing step
	// ending, the step's own duration, and from acceptance to the step starting (the bus's
	// delivery plus any wait for a slot). The system's own end-to-end histogram has twenty
	// buckets, each about twice the last, too coarse to hold a p50 to 10%.
	MetricProbeEndToEnd = "headroom_probe_end_to_end_seconds"
	MetricProbeService  = "headroom_probe_service_seconds"
	MetricProbePickup   = "headroom_probe_pickup_seconds"
)

// ProbeBuckets are the probe histograms' bucket bounds in seconds: 5% apart from 100 µs to
// 100 s, so that a percentile interpolated within its bucket is within about 1% of the
// true one. Finer buckets cost more than they give: /metrics is polled several times a
// second, and each bucket is a line to encode and parse while the system is under load.
func ProbeBuckets() []float64 {
	var out []float64
	for b := 100e-6; b < 100; b *= 1.05 {
		out = append(out, b)
	}
	return out
}

// Snapshot is what the system's /metrics said at one moment. Absent series are zero and
// their Has… flag false.
type Snapshot struct {
	At time.Time
	// Accepted counts writes stored (the pipeline's accepted_total).
	Accepted float64
	// AccountLimit and AccountHigh are the shared cap and the high-water mark of
	// invocations across states.
	AccountLimit, AccountHigh float64
	// States holds each state's processor figures, by state name.
	States map[string]StateMetrics
	// Queues holds each queue's depth, by queue name (the bus must be able to say).
	Queues map[string]QueueMetrics
	// DeadLettered is the dead-letter queue's depth.
	DeadLettered    float64
	HasDeadLettered bool
	// APIThrottled counts 429s.
	APIThrottled float64
	// EndToEnd is the system's end-to-end histogram by state; Probe the probe's, when it
	// is registered (HasProbe).
	EndToEnd map[string]Histogram
	Probe    map[string]ProbeMetrics
	HasProbe bool
	// ProcessCPU is the serving process's CPU seconds.
	ProcessCPU float64
}

// StateMetrics are one state's processor counters and gauges.
type StateMetrics struct {
	Limit, InFlight, High                             float64
	Received, Applied, Failed, Redelivered, Throttles float64
	// Processed counts messages processed with any outcome but failed.
	Processed float64
}

// QueueMetrics is one queue's depth: visible messages and messages received and not yet
// acknowledged.
type QueueMetrics struct {
	Visible, InFlight float64
}

// ProbeMetrics are the probe's histograms of one state.
type ProbeMetrics struct {
	EndToEnd, Service, Pickup Histogram
}

// Histogram is a Prometheus histogram: cumulative counts by upper bound.
type Histogram struct {
	Bounds []float64 // upper bounds in seconds, ascending, without +Inf
	Counts []float64 // cumulative counts, one per bound
	Count  float64   // all observations (the +Inf bucket)
	Sum    float64   // in seconds
}

// Sub returns h − o, the observations made between two snapshots (same buckets).
func (h Histogram) Sub(o Histogram) Histogram {
	if len(o.Bounds) != len(h.Bounds) {
		return h
	}
	out := Histogram{Bounds: h.Bounds, Counts: make([]float64, len(h.Counts)), Count: h.Count - o.Count, Sum: h.Sum - o.Sum}
	for i := range h.Counts {
		out.Counts[i] = h.Counts[i] - o.Counts[i]
	}
	return out
}

// Add returns h + o (same buckets; an empty side is the other).
func (h Histogram) Add(o Histogram) Histogram {
	if len(h.Bounds) == 0 {
		return o
	}
	if len(o.Bounds) != len(h.Bounds) {
		return h
	}
	out := Histogram{Bounds: h.Bounds, Counts: make([]float64, len(h.Counts)), Count: h.Count + o.Count, Sum: h.Sum + o.Sum}
	for i := range h.Counts {
		out.Counts[i] = h.Counts[i] + o.Counts[i]
	}
	return out
}

// Quantile returns the q-quantile in seconds, linear within its bucket (the first bucket
// from zero); NaN when the histogram is empty. Beyond the last finite bound it returns
// that bound.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count <= 0 {
		return math.NaN()
	}
	rank := q * h.Count
	i := sort.Search(len(h.Counts), func(i int) bool { return h.Counts[i] >= rank })
	if i == len(h.Counts) {
		return h.Bounds[len(h.Bounds)-1]
	}
	lo, below := 0.0, 0.0
	if i > 0 {
		lo, below = h.Bounds[i-1], h.Counts[i-1]
	}
	in := h.Counts[i] - below
	if in <= 0 {
		return h.Bounds[i]
	}
	return lo + (h.Bounds[i]-lo)*(rank-below)/in
}

// Mean is the exact mean in seconds (from the sum), NaN when empty.
func (h Histogram) Mean() float64 {
	if h.Count <= 0 {
		return math.NaN()
	}
	return h.Sum / h.Count
}

// Scraper reads a system's /metrics.
type Scraper struct {
	URL    string
	Client *http.Client
}

// Scrape fetches and parses /metrics once.
func (s Scraper) Scrape(ctx context.Context) (Snapshot, error) {
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return Snapshot{}, fmt.Errorf("metrics %s: %w", s.URL, err)
	}
	// The text format: the parser reads it, and it is what a person can check by hand.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	// The snapshot is of the moment the request leaves: the system answers with its state
	// as of then, give or take the time it takes to collect.
	at := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Snapshot{}, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return Snapshot{}, fmt.Errorf("metrics %s: %s", s.URL, resp.Status)
	}
	return ParseMetrics(resp.Body, at)
}

// ParseMetrics reads Prometheus text exposition into a Snapshot taken at at.
func ParseMetrics(r io.Reader, at time.Time) (Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return Snapshot{}, fmt.Errorf("metrics: %w", err)
	}
	snap := Snapshot{At: at, States: map[string]StateMetrics{}, Queues: map[string]QueueMetrics{},
		EndToEnd: map[string]Histogram{}, Probe: map[string]ProbeMetrics{}}
	single := func(name string) (float64, bool) {
		f := fams[name]
		if f == nil || len(f.Metric) == 0 {
			return 0, false
		}
		return value(f.Metric[0]), true
	}
	snap.Accepted, _ = single(metricAccepted)
	snap.AccountLimit, _ = single(metricAccountLimit)
	snap.AccountHigh, _ = single(metricAccountHigh)
	snap.DeadLettered, snap.HasDeadLettered = single(metricDeadLettered)
	snap.APIThrottled, _ = single(metricAPIThrottled)
	snap.ProcessCPU, _ = single(metricProcessCPU)

	byLabel := func(name, label string, set func(key string, m *dto.Metric)) {
		f := fams[name]
		if f == nil {
			return
		}
		for _, m := range f.Metric {
			set(labelValue(m, label), m)
		}
	}
	state := func(name string, apply func(*StateMetrics, *dto.Metric)) {
		byLabel(name, "state", func(k string, m *dto.Metric) {
			st := snap.States[k]
			apply(&st, m)
			snap.States[k] = st
		})
	}
	state(metricStateLimit, func(s *StateMetrics, m *dto.Metric) { s.Limit = value(m) })
	state(metricStateInFlight, func(s *StateMetrics, m *dto.Metric) { s.InFlight = value(m) })
	state(metricStateHigh, func(s *StateMetrics, m *dto.Metric) { s.High = value(m) })
	state(metricReceived, func(s *StateMetrics, m *dto.Metric) { s.Received = value(m) })
	state(metricRedelivered, func(s *StateMetrics, m *dto.Metric) { s.Redelivered = value(m) })
	state(metricThrottles, func(s *StateMetrics, m *dto.Metric) { s.Throttles = value(m) })
	state(metricMessages, func(s *StateMetrics, m *dto.Metric) {
		v := value(m)
		switch labelValue(m, "outcome") {
		case "applied":
			s.Applied = v
			s.Processed += v
		case "failed":
			s.Failed = v
		case "duplicate", "superseded", "gone":
			s.Processed += v
		}
	})
	byLabel(metricVisible, "queue", func(k string, m *dto.Metric) {
		q := snap.Queues[k]
		q.Visible = value(m)
		snap.Queues[k] = q
	})
	byLabel(metricQueueInFlight, "queue", func(k string, m *dto.Metric) {
		q := snap.Queues[k]
		q.InFlight = value(m)
		snap.Queues[k] = q
	})
	byLabel(metricEndToEnd, "state", func(k string, m *dto.Metric) { snap.EndToEnd[k] = histogram(m) })
	probe := func(name string, set func(*ProbeMetrics, Histogram)) {
		byLabel(name, "state", func(k string, m *dto.Metric) {
			snap.HasProbe = true
			p := snap.Probe[k]
			set(&p, histogram(m))
			snap.Probe[k] = p
		})
	}
	probe(MetricProbeEndToEnd, func(p *ProbeMetrics, h Histogram) { p.EndToEnd = h })
	probe(MetricProbeService, func(p *ProbeMetrics, h Histogram) { p.Service = h })
	probe(MetricProbePickup, func(p *ProbeMetrics, h Histogram) { p.Pickup = h })
	return snap, nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func histogram(m *dto.Metric) Histogram {
	h := m.Histogram
	if h == nil {
		return Histogram{}
	}
	out := Histogram{Count: float64(h.GetSampleCount()), Sum: h.GetSampleSum()}
	for _, b := range h.Bucket {
		if math.IsInf(b.GetUpperBound(), 1) {
			continue
		}
		out.Bounds = append(out.Bounds, b.GetUpperBound())
		out.Counts = append(out.Counts, float64(b.GetCumulativeCount()))
	}
	return out
}
