package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// These tests pin defaults.yaml and validate.go to the team's reference sheet
// (shared/reference/aws-and-k8s-limits.md).

// High-throughput FIFO: 70,000 calls/s in us-east-1, us-west-2 and eu-west-1, 19,000 in
// Ohio (us-east-2) and Frankfurt (eu-central-1), 2,400 elsewhere; a scenario's own value wins.
func TestSQSFifoHighThroughputPerRegion(t *testing.T) {
	regions := "regions: {us-east-1: ~, us-west-2: ~, eu-west-1: ~, us-east-2: ~, eu-central-1: ~, ap-south-1: ~, raised: {sqs_fifo_high_throughput_tps: 5000}}\n"
	s, err := loadFiles(map[string]string{"s.yaml": regions + pool()}, "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"us-east-1": 70000, "us-west-2": 70000, "eu-west-1": 70000,
		"us-east-2": 19000, "eu-central-1": 19000, "ap-south-1": 2400, "raised": 5000}
	for name, tps := range want {
		if r := s.Region(name); r == nil || r.SQSFifoHighThroughputTPS != tps || r.SQSFifoTPS != 300 {
			t.Errorf("region %s: %+v; want sqs_fifo_high_throughput_tps %g, sqs_fifo_tps 300", name, r, tps)
		}
	}
	s, err = loadFiles(map[string]string{"s.yaml": "regions: {us-east-2: {sqs_fifo_high_throughput_tps: 3000}}\n" + pool()}, "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Region("us-east-2").SQSFifoHighThroughputTPS; got != 3000 {
		t.Errorf("us-east-2 given 3000: got %g", got)
	}
}

// SNS publish quotas: standard 30,000/s in us-east-1 (and default), 9,000 in us-west-2 and
// eu-west-1, 300 elsewhere; FIFO topics have their own, 3,000 elsewhere and the standard
// figure where the reference gives one for both. Both must be positive.
func TestSNSFifoPublishQuotaPerRegion(t *testing.T) {
	regions := "regions: {default: ~, us-east-1: ~, us-west-2: ~, eu-west-1: ~, ap-south-1: ~, raised: {sns_fifo_publish_rps: 5000}}\n"
	s, err := loadFiles(map[string]string{"s.yaml": regions + pool()}, "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{"default": {30000, 30000}, "us-east-1": {30000, 30000}, "us-west-2": {9000, 9000},
		"eu-west-1": {9000, 9000}, "ap-south-1": {300, 3000}, "raised": {300, 5000}}
	for name, q := range want {
		if r := s.Region(name); r == nil || r.SNSPublishRPS != q[0] || r.SNSFifoPublishRPS != q[1] {
			t.Errorf("region %s: %+v; want sns_publish_rps %g, sns_fifo_publish_rps %g", name, r, q[0], q[1])
		}
	}
	_, err = loadFiles(map[string]string{"s.yaml": "regions: {r1: {sns_fifo_publish_rps: 0}}\n" + pool()}, "s.yaml")
	if err == nil || !strings.Contains(err.Error(), "regions.r1.sns_fifo_publish_rps: must be > 0, got 0") {
		t.Errorf("sns_fifo_publish_rps 0: err = %v", err)
	}
}

// DynamoDB on demand: a table serves at most 40,000 WRU and 40,000 RRU per second by
// default; a scenario may raise either, and neither may be 0.
func TestOnDemandTableMaximum(t *testing.T) {
	s, err := loadFiles(map[string]string{"p.yaml": pipeline}, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if tb := s.Component("tbl").Table; tb.OnDemandMaxWRU != 40000 || tb.OnDemandMaxRRU != 40000 {
		t.Errorf("table %+v; want on_demand_max_wru and on_demand_max_rru 40000", tb)
	}
	s, err = loadFiles(map[string]string{"p.yaml": pipeline}, "p.yaml", "components.tbl.on_demand_max_wru=80000")
	if err != nil {
		t.Fatal(err)
	}
	if tb := s.Component("tbl").Table; tb.OnDemandMaxWRU != 80000 || tb.OnDemandMaxRRU != 40000 {
		t.Errorf("raised table %+v; want on_demand_max_wru 80000, on_demand_max_rru 40000", tb)
	}
	for _, key := range []string{"on_demand_max_wru", "on_demand_max_rru"} {
		_, err := loadFiles(map[string]string{"p.yaml": pipeline}, "p.yaml", "components.tbl."+key+"=0")
		if err == nil || !strings.Contains(err.Error(), "components.tbl."+key+": must be > 0, got 0") {
			t.Errorf("%s 0: err = %v", key, err)
		}
	}
}

// An HTTP API's integration timeout is 30 s and it adds < 10 ms at p99; a REST API's is
// 29 s. The API type's defaults lie under the gateway's own keys.
func TestHTTPGatewayDefaults(t *testing.T) {
	gateway := func(t *testing.T, text string, sets ...string) *Gateway {
		t.Helper()
		s, err := loadFiles(map[string]string{"p.yaml": text}, "p.yaml", sets...)
		if err != nil {
			t.Fatal(err)
		}
		return s.Component("api").Gateway
	}
	ms := func(n float64) Duration { return Duration(n * float64(time.Millisecond)) }
	http := patch(t, pipeline, "kind: gateway", "kind: gateway\n    api: http")

	if g := gateway(t, pipeline); g.API != "rest" || g.Timeout.D() != 29*time.Second ||
		!reflect.DeepEqual(g.Overhead, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(15)}) {
		t.Errorf("rest gateway %+v; want timeout 29s, overhead median 4 ms p99 15 ms", g)
	}
	g := gateway(t, http)
	if g.API != "http" || g.Timeout.D() != 30*time.Second || g.Overhead.Kind != DistLognormal ||
		g.Overhead.P99 >= ms(10) || g.Overhead.Median >= g.Overhead.P99 {
		t.Errorf("http gateway %+v; want timeout 30s, a lognormal overhead with p99 < 10 ms", g)
	}
	if !reflect.DeepEqual(g.Overhead, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(9)}) {
		t.Errorf("http gateway overhead %+v; want median 4 ms, p99 9 ms", g.Overhead)
	}
	for _, c := range []struct {
		name, text string
		sets       []string
		timeout    time.Duration
		overhead   Dist
	}{
		{"by --set", pipeline, []string{"components.api.api=http"}, 30 * time.Second, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(9)}},
		{"timeout given", patch(t, http, "next: fn", "next: fn\n    timeout: 20s"), nil, 20 * time.Second, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(9)}},
		{"timeout given in seconds", patch(t, http, "next: fn", "next: fn\n    timeout_s: 25"), nil, 25 * time.Second, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(9)}},
		{"timeout by --set", http, []string{"components.api.timeout=29s"}, 29 * time.Second, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(9)}},
		{"overhead given", patch(t, http, "next: fn", "next: fn\n    overhead: {dist: lognormal, median_ms: 2, p99_ms: 6}"), nil, 30 * time.Second, Dist{Kind: DistLognormal, Median: ms(2), P99: ms(6)}},
		{"overhead in ms", patch(t, http, "next: fn", "next: fn\n    overhead_ms: 0"), nil, 30 * time.Second, Dist{Kind: DistConstant}},
		{"one parameter given", patch(t, http, "next: fn", "next: fn\n    overhead: {p99_ms: 8}"), nil, 30 * time.Second, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(8)}},
		{"rest given", patch(t, pipeline, "kind: gateway", "kind: gateway\n    api: rest"), nil, 29 * time.Second, Dist{Kind: DistLognormal, Median: ms(4), P99: ms(15)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if g := gateway(t, c.text, c.sets...); g.Timeout.D() != c.timeout || !reflect.DeepEqual(g.Overhead, c.overhead) {
				t.Errorf("gateway %+v; want timeout %s, overhead %+v", g, c.timeout, c.overhead)
			}
		})
	}
	// A scenario that extends a REST one and switches to HTTP gets HTTP's defaults.
	s, err := loadFiles(map[string]string{"h.yaml": "extends: baseline\ncomponents: {api: {api: http}}\n"}, "h.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Component("api").Gateway; g.Timeout.D() != 30*time.Second || g.Overhead.P99 != ms(9) {
		t.Errorf("baseline switched to http: %+v", g)
	}
}

// SQS takes a visibility timeout from 0 s to 12 h.
func TestVisibilityTimeoutRange(t *testing.T) {
	// dlq is nobody's next, so no function timeout bounds its visibility timeout.
	withDLQ := func(key string) string {
		text := patch(t, pipeline, "next: worker", "next: worker\n    max_receives: 3\n    dead_letter: dlq")
		return text + "  dlq: {kind: queue, " + key + "}\n"
	}
	for key, want := range map[string]time.Duration{"visibility_timeout: 0s": 0, "visibility_timeout: 0": 0,
		"visibility_timeout_ms: 0": 0, "visibility_timeout: 12h": 12 * time.Hour} {
		s, err := loadFiles(map[string]string{"p.yaml": withDLQ(key)}, "p.yaml")
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if got := s.Component("dlq").Queue.VisibilityTimeout.D(); got != want {
			t.Errorf("%s: got %s", key, got)
		}
	}
	for vt, msg := range map[string]string{
		"12h1s": `components.dlq.visibility_timeout: must be between 0s and 12h0m0s, got 12h0m1s`,
		"13h":   `components.dlq.visibility_timeout: must be between 0s and 12h0m0s, got 13h0m0s`,
		"-1s":   `components.dlq.visibility_timeout: must not be negative, got "-1s"`,
	} {
		_, err := loadFiles(map[string]string{"p.yaml": withDLQ("visibility_timeout: " + vt)}, "p.yaml")
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("visibility timeout %s: err = %v; want %q", vt, err, msg)
		}
	}
	// A consuming function's timeout still bounds it from below.
	_, err := loadFiles(map[string]string{"p.yaml": patch(t, pipeline, "next: worker", "next: worker\n    visibility_timeout: 0s")}, "p.yaml")
	if err == nil || !strings.Contains(err.Error(), "components.q.visibility_timeout: 0s is shorter than the timeout of worker (3s)") {
		t.Errorf("visibility timeout 0s before a function: err = %v", err)
	}
}
