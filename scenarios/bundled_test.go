package scenarios

import (
	"math"
	"strings"
	"testing"
)

func TestBundled(t *testing.T) {
	infos := Bundled()
	var names []string
	for _, in := range infos {
		names = append(names, in.Name)
		if in.Description == "" || strings.Contains(in.Description, "\n") {
			t.Errorf("%s: description %q, want one line", in.Name, in.Description)
		}
		s, err := Load(in.Name)
		if err != nil {
			t.Errorf("bundled %s does not load: %v", in.Name, err)
			continue
		}
		if s.Name != in.Name || s.Source != "bundled:"+in.Name {
			t.Errorf("bundled %s: name %q source %q", in.Name, s.Name, s.Source)
		}
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "baseline") || !strings.Contains(got, "mmc") {
		t.Errorf("bundled = %s, want baseline and mmc among them", got)
	}
}

// lognormalMean is the mean of a lognormal given by its median and p99, in seconds.
func lognormalMean(d Dist) float64 {
	const z99 = 2.3263478740408408
	sigma := math.Log(d.P99.Seconds()/d.Median.Seconds()) / z99
	return d.Median.Seconds() * math.Exp(sigma*sigma/2)
}

// TestBaselineBindsAtPeak pins the property the baseline exists to show: at the diurnal
// peak, Little's law puts the request and processing functions together above the
// account's concurrency limit, so whoever tunes its numbers keeps that true.
func TestBaselineBindsAtPeak(t *testing.T) {
	s, err := Load("baseline")
	if err != nil {
		t.Fatal(err)
	}
	w := s.Workload
	if w.Users != 8_000_000 || w.RequestsPerUserPerDay != 20 || w.Profile.Kind != "diurnal" || w.Profile.PeakToMean != 3 {
		t.Errorf("workload %+v", w)
	}
	var states []string
	for _, v := range w.Mix[0].Values {
		states = append(states, v.Value)
	}
	if w.Mix[0].Name != "state" || strings.Join(states, ",") != "pending,approved,rejected,cancelled" {
		t.Errorf("mix %+v, want the states in file order", w.Mix)
	}
	peak := w.MeanRPS() * w.Profile.PeakToMean
	if math.Abs(peak-5555.6) > 0.1 {
		t.Errorf("peak %g/s, want 5,556", peak)
	}
	callTime := func(f *Function) float64 {
		total := lognormalMean(f.Duration)
		for _, c := range f.Calls {
			switch t := s.Component(c.To); {
			case t.Table != nil && c.Op == "write":
				total += lognormalMean(t.Table.WriteLatency)
			case t.Table != nil:
				total += lognormalMean(t.Table.ReadLatency)
			case t.Topic != nil:
				total += lognormalMean(t.Topic.PublishLatency)
			}
		}
		return total
	}
	request := s.Component("request").Function
	processor := s.Component("processor").Function
	concurrency := peak * (callTime(request) + callTime(processor))
	limit := float64(s.Region(s.Component("request").Region).LambdaConcurrency)
	if concurrency <= limit*1.05 {
		t.Errorf("peak concurrency %.0f does not clearly exceed the account limit %.0f", concurrency, limit)
	}
	t.Logf("peak %.0f/s: request %.1f ms, processor %.1f ms per message, %.0f concurrent against %.0f",
		peak, 1000*callTime(request), 1000*callTime(processor), concurrency, limit)

	// One queue per state, each consumed by the one processor, redriving to dlq.
	for _, r := range s.Component("events").Topic.Routes {
		q := s.Component(r.To)
		if q.Kind != KindQueue || q.Next != "processor" || q.Queue.DeadLetter != "dlq" || q.Queue.MaxReceives < 1 {
			t.Errorf("route to %s: %+v %+v", r.To, q, q.Queue)
		}
		if len(r.Filter) != 1 || r.Filter[0].Attribute != "state" || len(r.Filter[0].AnyOf) != 1 || "q_"+r.Filter[0].AnyOf[0] != r.To {
			t.Errorf("route to %s filters %+v", r.To, r.Filter)
		}
	}
	if dlq := s.Component("dlq"); dlq.Kind != KindQueue || dlq.Next != "" {
		t.Errorf("dlq %+v", dlq)
	}
}

func TestQuantile(t *testing.T) {
	cases := map[string]float64{"p0": 0, "p5": 0.05, "p50": 0.5, "p99": 0.99, "p99.9": 0.999, "p0.1": 0.001, "p100": 1, "p100.0": 1}
	for key, want := range cases {
		if got, ok := quantile(key); !ok || got != want {
			t.Errorf("quantile(%q) = %v, %v; want %v", key, got, ok, want)
		}
	}
	for _, key := range []string{"p100.1", "p1000", "p-1", "p", "50", "p5e1", "p 5"} {
		if _, ok := quantile(key); ok {
			t.Errorf("quantile(%q) accepted", key)
		}
	}
}

func TestSnake(t *testing.T) {
	cases := map[string]string{
		"APIGatewayRateRPS": "api_gateway_rate_rps", "MemoryMB": "memory_mb", "ItemKB": "item_kb",
		"OnDemandInitialWRU": "on_demand_initial_wru", "PollerRampPerM": "poller_ramp_per_m",
		"RequestsPerUserPerDay": "requests_per_user_per_day", "SNSPublishRPS": "sns_publish_rps",
		"P99": "p99", "ReservedConcurrency": "reserved_concurrency",
	}
	for in, want := range cases {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
}
