package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/scenarios"
)

// A deployment built in Go: pods of 0.5 vCPU on 2-vCPU nodes (1.93 allocatable: 3 pods a
// node), one worker each, one message per receive, 100 ms a message; nodes ready exactly
// 60 s after launch, images pulled in 2 s, pods started in 1 s.
func deploymentComp(name string, mut ...func(*scenarios.Deployment)) *scenarios.Component {
	d := &scenarios.Deployment{
		Concurrency: 1, CPURequest: 0.5, MemoryRequestMB: 128, BatchSize: 1,
		ServiceTime: constant(100 * time.Millisecond),
		StartUp:     constant(time.Second), ImagePull: constant(2 * time.Second),
		QueueTimeout: scenarios.Duration(time.Minute),
		MinReplicas:  3, MaxReplicas: 1000, Metric: "backlog", Target: 1,
		HPAPeriod: scenarios.Duration(15 * time.Second), Tolerance: 0.1,
		ScaleUpPercent: 100, ScaleUpPods: 4,
		ScaleDownStabilization: scenarios.Duration(300 * time.Second),
		ReadinessDelay:         scenarios.Duration(30 * time.Second),
		NodeType:               "node2", CNI: "vpc",
		KubeReservedMemoryMB: 255, KubeReservedMemoryPerPodMB: 11, EvictionMemoryMB: 100,
		KubeReservedCPU: []float64{0.06, 0.01, 0.005, 0.005, 0.0025},
		Provisioner:     "cluster-autoscaler", ScanInterval: scenarios.Duration(10 * time.Second),
		NodeReady: constant(time.Minute), ScaleDownUnneeded: scenarios.Duration(10 * time.Minute),
		ClusterMaxNodes: 5000, ClusterMaxPods: 150000, SubnetAddresses: 100000,
	}
	for _, m := range mut {
		m(d)
	}
	return &scenarios.Component{Name: name, Kind: scenarios.KindDeployment, Deployment: d}
}

func kubeScenario(rate float64, horizon time.Duration, entry string, comps ...*scenarios.Component) *scenarios.Scenario {
	sc := deterministic(rate, horizon, entry, testRegion(), comps...)
	sc.Regions[0].EC2VCPUQuota = 1000
	sc.InstanceTypes = []*scenarios.InstanceType{{Name: "node2", VCPUs: 2, MemoryMB: 8192, NetworkInterfaces: 3, AddressesPerInterface: 10}}
	return sc
}

// 50 messages/s of 100 ms need 5 busy pods; the cluster starts with 3 on one node. The HPA
// at 15 s sees the backlog grow and asks for 7 (the policy's 3 + 4); the 4 new pods fit
// nowhere, so the scan at 20 s launches ⌈4 / 3⌉ = 2 nodes, ready at 80 s; the pods bound
// there then pull the image (2 s) and start (1 s): 6 more pods are ready at 83 s, not before.
func TestDeploymentScalesPodsThenNodesOnTheClock(t *testing.T) {
	sc := kubeScenario(50, 10*time.Minute, "q", queueComp("q", "k"), deploymentComp("k"))
	m, err := build(sc, sc.Seed)
	require.NoError(t, err)
	k := comp[*deployment](t, m, "k")
	require.Equal(t, 3, k.fit.PodsPerNode)
	require.Equal(t, 1, k.nLaunched)
	m.k.Run(19900 * Millisecond)
	require.Equal(t, 1, k.nLaunched, "no node before the first scan with pending pods")
	require.Equal(t, int64(7), k.replicas.Value())
	m.k.Run(20100 * Millisecond)
	require.Equal(t, 3, k.nLaunched)
	m.k.Run(82900 * Millisecond)
	require.Equal(t, int64(3), k.readyPods.Value())
	m.k.Run(83100 * Millisecond)
	require.Equal(t, int64(9), k.readyPods.Value())
}

// Everything the queue receives is processed; the pods scale up to carry it and, once the
// load is gone, back down to min_replicas after the stabilization window, and the nodes they
// leave empty go after 10 minutes.
func TestDeploymentCarriesAQueueAndScalesBackDown(t *testing.T) {
	sc := kubeScenario(50, 10*time.Minute, "q", queueComp("q", "k"), deploymentComp("k"))
	m := runDrained(t, sc)
	k := comp[*deployment](t, m, "k")
	require.Equal(t, m.offered, m.completed, "every message processed")
	require.GreaterOrEqual(t, k.replicas.Peak(), int64(5))
	require.Equal(t, int64(3), k.replicas.Value(), "back to min_replicas an hour after the load")
	require.Equal(t, 1, k.nLaunched, "the 3 pods left fit on one node; the others were removed")
	requireChecksPass(t, m)
	c := m.result().ComponentByName("k")
	require.NotNil(t, c.Cluster)
	require.Equal(t, int64(3), c.Cluster.PodsPerNode)
}

// Messages pulled by pods that publish nothing carry their request's end, as those of a
// function do (queue.carry): every request completes, no slot is held while its message
// waits, and conservation holds. Pods that publish look the request up: no carrying.
func TestDeploymentQueueCarriesTheRequestsEnd(t *testing.T) {
	// A function publishes each request to a topic that routes it to the queue: the message
	// is then the request's last holder.
	scenario := func(podCalls ...scenarios.Call) *scenarios.Scenario {
		pub := fn("pub", time.Millisecond, func(f *scenarios.Function) {
			f.Calls = []scenarios.Call{{To: "t", Op: "publish"}}
		})
		tp := &scenarios.Component{Name: "t", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
			PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(5 * time.Millisecond),
			Routes: []scenarios.Route{{To: "q"}},
		}}
		return kubeScenario(50, 10*time.Minute, "pub", pub, tp, queueComp("q", "k"),
			deploymentComp("k", func(d *scenarios.Deployment) { d.Calls = podCalls }))
	}
	m, err := build(scenario(), 1)
	require.NoError(t, err)
	require.True(t, comp[*queue](t, m, "q").carry)
	m.k.Run(Minute) // 3 pods of 10/s each against 50/s: a backlog builds
	require.Greater(t, m.detachedOpen, int64(100), "messages in the backlog carry their requests")
	inSlab := 0
	for i := range m.reqs.len() {
		if m.reqs.at(ReqID(i)).holds > 0 {
			inSlab++
		}
	}
	require.LessOrEqual(t, inSlab, 5, "only requests on their way to the queue (about 7 ms at 50/s) hold a slot")
	m = runDrained(t, scenario())
	require.Equal(t, m.offered, m.completed, "every message processed")
	require.Zero(t, m.detachedOpen)
	requireChecksPass(t, m)

	m, err = build(scenario(scenarios.Call{To: "t", Op: "publish"}), 1)
	require.NoError(t, err)
	require.False(t, comp[*queue](t, m, "q").carry, "a publish routes on the request")
}

// With a vCPU quota of 4, at most 2 nodes of 2 vCPUs run: 6 pods, against the 10 that
// 100 messages/s of 100 ms need. The provisioner binds on the quota and stays within it.
func TestDeploymentStopsAtTheVCPUQuota(t *testing.T) {
	sc := kubeScenario(100, 10*time.Minute, "q", queueComp("q", "k"), deploymentComp("k"))
	sc.Regions[0].EC2VCPUQuota = 4
	m := runModel(t, sc)
	k := comp[*deployment](t, m, "k")
	require.Equal(t, int64(2), k.nodesG.Peak())
	require.Equal(t, int64(6), k.readyPods.Peak())
	var limits []string
	for _, b := range m.breaks {
		limits = append(limits, b.Limit)
	}
	require.Contains(t, limits, "vCPU quota")
	best := reachable(k.limits)
	require.Equal(t, "vCPU quota", best.Limit)
	require.Equal(t, int64(6), best.Pods)
}

// As a synchronous target the pods serve requests directly: 10 requests/s of 50 ms on two
// pods never wait, so every answer takes exactly 50 ms.
func TestDeploymentServesSynchronousRequests(t *testing.T) {
	sc := kubeScenario(10, time.Minute, "k", deploymentComp("k", func(d *scenarios.Deployment) {
		d.ServiceTime, d.MinReplicas, d.Metric, d.Target = constant(50*time.Millisecond), 2, "cpu", 0.8
	}))
	m := runDrained(t, sc)
	require.Equal(t, m.offered, m.accepted)
	require.InDelta(t, 50.0, m.api.Stats().Mean, 1e-9)
	requireChecksPass(t, m)
}

// The cpu metric trusts a pod only once it has been ready for the readiness delay: 100
// requests/s of 100 ms keep 3 pods saturated, so the HPA at 15 s asks for ceil(3 × 1/0.8) =
// 4. The 4th pod waits for a node (launched at the 20 s scan, ready at 80 s) and starts at
// 83 s; until it has been ready 30 s, each evaluation counts it as idle — 3 of 4 pods busy,
// a ratio of 0.94, which does not reverse into a scale-down but stops the scale-up — so the
// next step, to 5, comes at 120 s, the first evaluation after 113 s.
func TestDeploymentCPUMetricWaitsTheReadinessDelay(t *testing.T) {
	sc := kubeScenario(100, 10*time.Minute, "k", deploymentComp("k", func(d *scenarios.Deployment) {
		d.Metric, d.Target, d.MinReplicas = "cpu", 0.8, 3
	}))
	m, err := build(sc, sc.Seed)
	require.NoError(t, err)
	k := comp[*deployment](t, m, "k")
	for _, step := range []struct {
		at   Time
		want int64
	}{{14 * Second, 3}, {16 * Second, 4}, {119 * Second, 4}, {121 * Second, 5}} {
		m.k.Run(step.at)
		require.Equal(t, step.want, k.replicas.Value(), "at %v", time.Duration(step.at))
	}
}

// Pods pulling a FIFO queue make ReceiveMessage calls within the queue's per-action limit,
// as the Lambda mapping does: 300 calls/s with batches of 1 cap them at 300 messages/s
// (plus the bucket's first second), although 900 workers of 1 ms could take the 5,000/s
// that arrive. Their idle polls are priced as FIFO requests.
func TestDeploymentPullsAFIFOQueueWithinItsReceiveLimit(t *testing.T) {
	q := fifoQueueComp("q", "k", "request", 10) // a mapping's batch size: the pods take their own, 1
	q.Queue.OrderKeys = nil
	pub := fn("pub", time.Millisecond, func(f *scenarios.Function) { f.Calls = []scenarios.Call{{To: "events"}} })
	topic := &scenarios.Component{Name: "events", Kind: scenarios.KindTopic, Topic: &scenarios.Topic{
		PublishLatency: constant(time.Millisecond), DeliveryLatency: constant(time.Millisecond),
		Routes: []scenarios.Route{{To: "q"}}, FIFO: true, GroupBy: "request", GroupRPS: 1e6, FifoTopicRPS: 1e6,
	}}
	k := deploymentComp("k", func(d *scenarios.Deployment) {
		d.Concurrency, d.ServiceTime, d.MinReplicas = 300, constant(time.Millisecond), 3
	})
	sc := kubeScenario(5000, 10*time.Second, "pub", pub, topic, q, k)
	withFIFOQuotas(sc.Regions[0])
	sc.Regions[0].LambdaConcurrency = 10000
	m := runModel(t, sc)
	qq := comp[*queue](t, m, "q")
	t0 := 0.2e-3 + 2e-3 // the first arrival, its publish and its delivery
	calls := 300 + 300*(10-t0)
	require.InDelta(t, calls, float64(qq.receives), 2)
	require.InDelta(t, calls, float64(qq.st.completed)+float64(qq.st.busy.Value()), 2)
	require.Greater(t, qq.fifo.receiveWaits, int64(0))
	detail := ""
	for _, b := range m.breaks {
		if b.Component == "q" && b.Limit == "FIFO throughput" {
			detail = b.Detail
		}
	}
	require.Contains(t, detail, "a second of full batches of 1 at 300 ReceiveMessage calls", "the pods' batch size, not the queue's")
	prices := map[string]bool{}
	for _, u := range comp[*deployment](t, m, "k").usage(10 * Second) {
		prices[u.Price] = true
	}
	require.True(t, prices["sqs.fifo.requests"], "%v", prices)
	require.False(t, prices["sqs.standard.requests"], "%v", prices)
	requireChecksPass(t, m)
}

// A pod terminated while busy keeps its place on its node until its work is done; the
// moment it is gone, a pod pending for want of room takes that place, without waiting
// for the next HPA tick or a node of its own. One node of 3 pods; a message of 5 s
// arrives at 1 s; at 1.5 s its pod is terminated and a replacement asked for (the node is
// full); at 6 s the work ends and the replacement is bound to the same node.
func TestDeploymentPendingPodTakesTheRoomOfAPodThatDrained(t *testing.T) {
	sc := kubeScenario(1, time.Minute, "q", queueComp("q", "k"), deploymentComp("k", func(d *scenarios.Deployment) {
		d.ServiceTime = constant(5 * time.Second)
	}))
	m, err := build(sc, sc.Seed)
	require.NoError(t, err)
	k := comp[*deployment](t, m, "k")
	m.k.Run(1500 * Millisecond)
	busy := int32(-1)
	for i := range k.pods {
		if k.pods[i].busy > 0 {
			busy = int32(i)
		}
	}
	require.GreaterOrEqual(t, busy, int32(0), "the first message is being worked on")
	k.terminate(busy, m.k.now)
	k.scaleTo(3, m.k.now)
	require.Equal(t, 1, k.nPend, "the node is full: the replacement waits")
	m.k.Run(5900 * Millisecond)
	require.Equal(t, 1, k.nPend)
	m.k.Run(6100 * Millisecond)
	require.Equal(t, 0, k.nPend, "bound as soon as the drained pod left")
	require.Equal(t, 1, k.nLaunched, "no node launched for it")
	require.Equal(t, 3, k.nodes[0].pods)
}

// A visibility timeout of 0 s with pods that fail in no time (a write to a table that
// throttles it, and no service time) gives each failed batch back: it comes back a
// millisecond later, not at the instant it was received, so simulated time moves on and
// the run ends.
func TestZeroVisibilityTimeoutWithInstantFailuresEnds(t *testing.T) {
	tbl := &scenarios.Component{Name: "t", Kind: scenarios.KindTable, Table: &scenarios.Table{
		Mode: "on_demand", ItemKB: 1, ReadLatency: constant(0), WriteLatency: constant(0),
		OnDemandInitialWRU: 10, OnDemandInitialRRU: 10, OnDemandPeakWindow: scenarios.Duration(time.Hour),
		OnDemandMaxWRU: 10, OnDemandMaxRRU: 10,
	}}
	q := queueComp("q", "k", func(q *scenarios.Queue) { q.VisibilityTimeout = 0 })
	k := deploymentComp("k", func(d *scenarios.Deployment) {
		d.ServiceTime = constant(0)
		d.Calls = []scenarios.Call{{To: "t", Op: "write"}}
	})
	sc := kubeScenario(100, 3*time.Second, "q", q, k, tbl)
	done := make(chan *Model, 1)
	go func() {
		m, err := build(sc, sc.Seed)
		if err != nil {
			done <- nil
			return
		}
		m.k.Run(m.horizon)
		done <- m
	}()
	select {
	case m := <-done:
		require.NotNil(t, m)
		qq := comp[*queue](t, m, "q")
		require.Greater(t, qq.redelivered, int64(0), "throttled writes fail their batches")
		require.Greater(t, qq.st.completed, int64(0), "10 writes a second succeed")
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end: a batch given back at the instant it was received is taken again at that instant")
	}
}

// A synchronous request abandoned after the deployment's queue_timeout has waited, and its
// wait counts among the waits: one pod of one worker, 3 s a request, one a second, a 5 s
// timeout give the same 95 waits as TestTierWaitsCountTheAbandonedRequests, 61 of them
// abandoned after 6 or 7 s.
func TestDeploymentWaitsCountTheAbandonedRequests(t *testing.T) {
	sc := kubeScenario(1, 100*time.Second, "k", deploymentComp("k", func(d *scenarios.Deployment) {
		d.ServiceTime, d.MinReplicas, d.MaxReplicas, d.Metric, d.Target = constant(3*time.Second), 1, 1, "cpu", 0.8
		d.QueueTimeout = scenarios.Duration(5 * time.Second)
	}))
	res, err := Run(sc)
	require.NoError(t, err)
	k := res.ComponentByName("k")
	require.Equal(t, int64(61), k.Errors, "abandoned")
	require.Equal(t, int64(95), k.Wait.Count)
	require.InDelta(t, 557.0/95*1000, k.Wait.Mean, 1e-6, "ms")
	require.InDelta(t, 7000, k.Wait.Max, 1e-6, "ms")
}
