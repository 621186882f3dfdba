package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func usageOf(t *testing.T, res *result.Result, comp string) map[string]float64 {
	t.Helper()
	c := res.ComponentByName(comp)
	require.NotNil(t, c, comp)
	out := map[string]float64{}
	for _, u := range c.Usage {
		out[u.Price+" "+u.Item] += u.Quantity
	}
	return out
}

// One message every 100 s into a queue whose consumer takes 1 s, over 1,000 s: ten
// messages sent (at 100, 200, …, 1,000 s), ten receives of one message each, nine deletes
// (the batch received at 1,000 s is still running at the horizon). Between arrivals the
// mapping's five idle pollers long-poll for 20 s at a time and come back empty: 100 s gaps
// give 5 × 5 = 25 empty receives each, 10 gaps (from 0 s) 250 in all.
func TestQueueUsageCountsRequestsAndIdleLongPolls(t *testing.T) {
	sc := deterministic(0.01, 1000*time.Second, "q", testRegion(), queueComp("q", "proc"), fn("proc", time.Second))
	m := runModel(t, sc)
	res := m.result()
	u := usageOf(t, res, "q")
	require.Equal(t, map[string]float64{
		"sqs.standard.requests SendMessage":                                                    10,
		"sqs.standard.requests ReceiveMessage":                                                 10,
		"sqs.standard.requests DeleteMessageBatch":                                             9,
		"sqs.standard.requests ReceiveMessage, empty (5 pollers × 20 s long polls while idle)": 250,
	}, u)
	// Nine invocations of 1 s at 128 MB: 9 × 1 s × 0.125 GB = 1.125 GB-s.
	require.Equal(t, map[string]float64{
		"lambda.requests invocations":                         9,
		"lambda.compute.x86 duration × 128 MB, INIT included": 1.125,
	}, usageOf(t, res, "proc"))
}

// Batches: 10 messages a second for 100 s, a consumer that takes a batch of up to 10 at
// once. Each receive takes what is visible; deletes are one per 10 messages of a batch
// that succeeded. A 100 KB payload is two 64 KB chunks, billed as two requests per message
// sent — and per receive, as a batch of n messages is n × 100 KB.
func TestQueueReceiveAndDeleteRequestsFollowBatchesAndChunks(t *testing.T) {
	sc := deterministic(10, 100*time.Second, "q", testRegion(), queueComp("q", "proc"), fn("proc", 10*time.Millisecond))
	sc.Workload.PayloadBytes = 100 * 1024
	m := runDrained(t, sc)
	q := comp[*queue](t, m, "q")
	require.Equal(t, int64(1000), q.st.completed)
	u := usageOf(t, m.result(), "q")
	require.Equal(t, 2000.0, u["sqs.standard.requests SendMessage"])
	// A message every 100 ms and 10 ms of work: each batch holds one message; a receive of
	// one 100 KB message is 2 chunks.
	require.Equal(t, 2000.0, u["sqs.standard.requests ReceiveMessage"])
	require.Equal(t, 1000.0, u["sqs.standard.requests DeleteMessageBatch"])
}

// The synchronous path of the baseline shape: a gateway admits every request; the
// function writes a 5 KB item (5 WRU) and reads it (⌈5/4⌉ = 2 RRU) and publishes it (a
// 100 KB message is two 64 KB publishes); SNS delivers one copy to a queue, which is billed
// as two requests (two chunks) on the queue.
func TestGatewayTableTopicUsage(t *testing.T) {
	gw := &scenarios.Component{Name: "api", Kind: scenarios.KindGateway, Next: "f",
		Gateway: &scenarios.Gateway{API: "http", Timeout: scenarios.Duration(29 * time.Second)}}
	f := fn("f", time.Millisecond, func(f *scenarios.Function) {
		f.Architecture = "arm"
		f.Calls = []scenarios.Call{{To: "t", Op: "write"}, {To: "t", Op: "read"}, {To: "events", Op: "publish"}}
	})
	tab := &scenarios.Component{Name: "t", Kind: scenarios.KindTable, Table: &scenarios.Table{
		Mode: "on_demand", ItemKB: 5, ReadLatency: constant(time.Millisecond), WriteLatency: constant(time.Millisecond),
		OnDemandInitialWRU: 4000, OnDemandInitialRRU: 12000, OnDemandPeakWindow: scenarios.Duration(30 * time.Minute),
		OnDemandMaxWRU: 40000, OnDemandMaxRRU: 40000,
	}}
	topic := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
		PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(time.Millisecond),
		Routes: []scenarios.Route{{To: "sink"}},
	}}
	sc := deterministic(10, 100*time.Second, "api", testRegion(), gw, f, tab, topic, queueComp("sink", ""))
	sc.Workload.PayloadBytes = 100 * 1024
	m := runDrained(t, sc)
	res := m.result()
	require.Equal(t, map[string]float64{"apigateway.http.requests requests admitted": 1000}, usageOf(t, res, "api"))
	require.Equal(t, map[string]float64{
		"dynamodb.on_demand.write_units write request units": 5000,
		"dynamodb.on_demand.read_units read request units":   2000,
	}, usageOf(t, res, "t"))
	require.Equal(t, map[string]float64{
		"sns.standard.publishes publishes (64 KB chunks)": 2000,
		"sns.deliveries.sqs deliveries to SQS":            1000,
	}, usageOf(t, res, "events"))
	require.Equal(t, map[string]float64{"sqs.standard.sns_deliveries messages delivered by SNS": 2000}, usageOf(t, res, "sink"))
	fu := usageOf(t, res, "f")
	require.Equal(t, 1000.0, fu["lambda.requests invocations"])
	require.Contains(t, fu, "lambda.compute.arm duration × 128 MB, INIT included")
}

// A run's result carries its bill: the usage above priced with the embedded table.
func TestRunReportsCostOfItsUsage(t *testing.T) {
	sc := deterministic(10, 100*time.Second, "q", testRegion(), queueComp("q", "proc"), fn("proc", 10*time.Millisecond))
	res, err := Run(sc)
	require.NoError(t, err)
	require.NotNil(t, res.Cost)
	require.Equal(t, "bundled:prices.yaml", res.Cost.PricesSource)
	// 1,000 sends + ~1,000 receives + ~1,000 deletes at $0.40/M, 1,000 invocations at
	// $0.20/M and 10 s of 128 MB: a bit over a tenth of a cent.
	require.InDelta(t, 0.0014, res.Cost.HorizonUSD, 0.0002)
	require.Equal(t, []string{"SQS", "Lambda"}, []string{res.Cost.Services[0].Service, res.Cost.Services[1].Service})
	// 100 s is 1/26,280 of a 730-hour month (horizon_usd is rounded to a millionth).
	require.InDelta(t, res.Cost.HorizonUSD*26280, res.Cost.MonthlyUSD, 26280*0.5e-6)
	ch := checkNamed(t, res, "cost")
	require.True(t, ch.Passed, ch.Detail)
}
