package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindDeployment, newDeployment) }

// puller is a queue consumer that pulls: a deployment whose pods' idle workers receive
// batches themselves, unlike Lambda's event source mapping, which pushes batches to a
// function. The queue calls pull when messages become visible (sent, or back after a
// visibility timeout) and when one of its batches ends; the puller takes batches with
// queue.takeBatch and settles each with queue.batchDone.
type puller interface {
	pull(q *queue)
}

// deployment is a Kubernetes Deployment: pods of `concurrency` workers on nodes of one
// instance type, scaled by a HorizontalPodAutoscaler, the nodes added by a cluster-autoscaler
// or Karpenter. It consumes the queues whose next it is — an idle worker of a ready pod
// receives a batch of up to batch_size messages and works through them one after another
// (service time, then the calls, per message) — or takes synchronous requests, which wait
// FIFO for a worker.
//
// Pods: Pending (no node has room) → Starting (bound to a node: the image pull, for the
// first pod on the node, then the start-up time) → Ready → Terminating (no new work; gone
// when its work is done). Scale-down removes pending pods first, then starting, then the
// newest ready ones.
//
// The HPA runs every hpa_period: desired = ceil(current × metric / target), no change
// within the tolerance; up by at most max(scale_up_percent %, scale_up_pods) a period;
// down to the highest recommendation of the stabilization window; between min and max
// replicas, and never past the cluster's pod limit. The provisioner runs every
// scan_interval: it launches nodes for the pods that fit nowhere (ready after node_ready),
// within the node group's and the cluster's node limits, the account's vCPU quota and the
// subnets' addresses, and removes nodes that have been empty for scale_down_unneeded.
//
// Pods per node are what the CNI's limit, the node's allocatable CPU and memory (less the
// DaemonSets) allow (scenarios.NodeFit); the result reports them, the nodes the design's
// target needs (at 110 pods per node, at the ENI formula, at the real fit) and the pods each
// limit allows, the smallest of which is the pods reachable.
//
// Events: one per batch or request (its end), one per pod start and node launch, and the
// two controllers' ticks.
type deployment struct {
	node
	dspec                    *scenarios.Deployment
	nodeType                 *scenarios.InstanceType
	fit                      scenarios.Fit
	svc, startUp, imagePull  Sampler
	nodeReady                Sampler
	calls                    []fnCall
	queues                   []*queue
	qNext                    int
	conc                     int
	hpaPeriod, scan          Time
	stabilization, unneeded  Time
	readinessDelay, qTimeout Time
	ipsPerNode               int
	limits                   []result.ClusterLimit

	pods    []pod
	podFree []int32
	live    []int32 // pods not terminating or gone, in creation order
	idle    []idleWorker
	pending ring[int32]
	nPend   int // pods pending (the ring may hold gone ones)
	work    slab[podWork]
	waiting ring[syncWait]
	// recvWakeAt is when a FIFO queue's next ReceiveMessage call is allowed, for idle
	// workers held back by its per-action limit; -1 when none is pending.
	recvWakeAt Time

	nodes     []kNode
	nodeFree  []int32
	firstOpen int // no ready node before it has room
	nLaunched int // nodes launched and not removed (provisioning + ready)
	nReady    int

	hpa hpa

	// readyTimes holds when pods became ready, oldest first, back to readiness_delay ago.
	readyTimes ring[Time]

	// Figures: replicas (desired), ready pods, ready worker slots, launched nodes.
	replicas, readyPods, slots, nodesG Gauge
	lastBusyArea, lastSlotArea         float64
	lastHPA                            Time
	podStarts, nodeLaunches, abandoned int64
	bound                              map[string]bool
}

var (
	_ component = (*deployment)(nil)
	_ linker    = (*deployment)(nil)
	_ resetter  = (*deployment)(nil)
	_ puller    = (*deployment)(nil)
	_ metered   = (*deployment)(nil)
)

type podState uint8

const (
	podPending podState = iota
	podStarting
	podReady
	podTerminating
	podGone
)

type pod struct {
	state podState
	node  int32
	busy  int32
	gen   uint32 // changes whenever the pod leaves, so stale references can tell
}

type kNode struct {
	ready, gone bool
	pods        int
	imageAt     Time // when the image is on the node; -1: not pulled yet
	emptySince  Time // -1 while it has pods
}

type idleWorker struct {
	pod int32
	gen uint32
}

// podWork is work on a worker of a pod: a synchronous request or a batch of a queue.
type podWork struct {
	start Time
	q     *queue // nil: a synchronous request
	id    int32  // the request (q nil) or q's batch
	workOn
}

// workOn is the pod that work runs on and whether the work fails, grouped so that podWork has
// four fields and stays in registers (see tierCall).
type workOn struct {
	pod    int32
	failed bool
}

type syncWait struct {
	r  ReqID
	at Time
}

const (
	opPodReady int32 = iota
	opNodeReady
	opPodWorkDone
	opHPA
	opProvision
	opReceiveWake
)

// waitedTooLong is how long work must have waited for a worker, while pods wait for nodes
// or the scale-up policy holds the HPA back, for the delay to count as the binding limit:
// two HPA periods, the autoscaler's own reaction time.
const hpaPeriodsOfPatience = 2

func newDeployment(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Deployment
	if spec == nil {
		return nil, fmt.Errorf("no deployment settings")
	}
	d := &deployment{node: *n, dspec: spec, conc: spec.Concurrency, bound: map[string]bool{}, recvWakeAt: -1}
	for _, s := range []struct {
		key string
		in  scenarios.Dist
		out *Sampler
	}{{"service_time", spec.ServiceTime, &d.svc}, {"start_up", spec.StartUp, &d.startUp},
		{"image_pull", spec.ImagePull, &d.imagePull}, {"node_ready", spec.NodeReady, &d.nodeReady}} {
		smp, err := NewSampler(s.in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.key, err)
		}
		*s.out = smp
	}
	d.nodeType = m.sc.InstanceType(spec.NodeType)
	if d.nodeType == nil {
		return nil, fmt.Errorf("node_type: no instance type %q", spec.NodeType)
	}
	if spec.Concurrency < 1 || spec.BatchSize < 1 || spec.MinReplicas < 1 || spec.MaxReplicas < spec.MinReplicas {
		return nil, fmt.Errorf("concurrency, batch_size and min_replicas must be >= 1, max_replicas >= min_replicas")
	}
	if spec.Target <= 0 || spec.HPAPeriod <= 0 || spec.ScanInterval <= 0 {
		return nil, fmt.Errorf("target, hpa_period and scan_interval must be > 0")
	}
	d.fit = scenarios.NodeFit(d.nodeType, spec)
	if d.fit.PodsPerNode < 1 {
		return nil, fmt.Errorf("no pod fits on a %s node: %s", spec.NodeType, d.fit.Why)
	}
	d.hpaPeriod, d.scan = Dur(spec.HPAPeriod.D()), Dur(spec.ScanInterval.D())
	d.stabilization, d.unneeded = Dur(spec.ScaleDownStabilization.D()), Dur(spec.ScaleDownUnneeded.D())
	d.readinessDelay, d.qTimeout = Dur(spec.ReadinessDelay.D()), Dur(spec.QueueTimeout.D())
	d.hpa = hpa{minReplicas: spec.MinReplicas, maxReplicas: spec.MaxReplicas, tolerance: spec.Tolerance,
		upPercent: spec.ScaleUpPercent, upPods: spec.ScaleUpPods, window: d.stabilization}
	d.ipsPerNode = ipsPerNode(d.nodeType, spec, d.fit)
	d.limits = clusterLimits(n.region.spec, d.nodeType, spec, d.fit, d.ipsPerNode)
	d.st.capacity = int64(spec.MaxReplicas * spec.Concurrency)
	return d, nil
}

func (d *deployment) link() error {
	for _, comp := range d.m.comps {
		if q, ok := comp.(*queue); ok && q.next == component(d) {
			d.queues = append(d.queues, q)
		}
	}
	for i, c := range d.dspec.Calls {
		switch t := d.m.component(c.To).(type) {
		case *table:
			d.calls = append(d.calls, fnCall{table: t, write: c.Op != "read"})
		case *topic:
			d.calls = append(d.calls, fnCall{topic: t})
		default:
			return fmt.Errorf("calls[%d].to: %q is not a table or topic", i, c.To)
		}
	}
	if d.dspec.Metric == "backlog" && len(d.queues) == 0 {
		return fmt.Errorf("metric: backlog needs a queue whose next is %s", d.name)
	}
	// The cluster is in service at time 0: min_replicas pods ready on as few nodes as hold
	// them (at least min_nodes), their image pulled.
	now := d.m.k.now
	ppn := d.fit.PodsPerNode
	n := max(d.dspec.MinNodes, (d.dspec.MinReplicas+ppn-1)/ppn)
	if limit, name := d.maxNodes(); n > limit {
		return fmt.Errorf("min_replicas %d need %d nodes; the %s allows %d", d.dspec.MinReplicas, n, name, limit)
	}
	for range n {
		i := d.launchNode(now)
		d.nodes[i].ready, d.nodes[i].imageAt = true, 0
		d.nReady++
	}
	for range d.dspec.MinReplicas {
		p := d.newPod(now)
		d.bindPod(p, d.openNode(), now)
		d.podReady(p, now)
	}
	d.podStarts, d.nodeLaunches = 0, 0
	d.readyTimes = ring[Time]{} // the pods in service at time 0 are not new
	d.m.k.Schedule(d.hpaPeriod, d.id, opHPA, 0)
	d.m.k.Schedule(d.scan, d.id, opProvision, 0)
	return nil
}

// --- Work -------------------------------------------------------------------------------

func (d *deployment) pull(q *queue) { d.dispatch() }

// accept is a synchronous request: it waits for a worker.
func (d *deployment) accept(r ReqID) {
	now := d.m.k.now
	d.st.offer()
	d.st.admit(now)
	d.waiting.push(syncWait{r: r, at: now})
	d.dispatch()
}

// dispatch gives idle workers the work there is: synchronous requests first, then batches
// from the queues in turn.
func (d *deployment) dispatch() {
	now := d.m.k.now
	for d.waiting.len() > 0 || d.visible() {
		w, ok := d.takeIdle()
		if !ok {
			return
		}
		if d.waiting.len() > 0 {
			s := d.waiting.pop()
			if now-s.at > d.qTimeout {
				d.abandon(s, now)
				d.idle = append(d.idle, w)
				continue
			}
			d.st.start(now, now-s.at)
			end, failed := d.run(now, s.r, nil)
			d.begin(podWork{start: s.at, id: int32(s.r), workOn: workOn{pod: w.pod, failed: failed}}, end)
			continue
		}
		q := d.nextQueue(now)
		if q == nil { // messages wait only in FIFO queues out of receive calls
			d.idle = append(d.idle, w)
			return
		}
		b := q.takeBatch(now, d.dspec.BatchSize)
		d.st.offer()
		d.st.admit(now)
		d.st.start(now, 0)
		end, failed := d.run(now, -1, q.batches[b].msgs)
		d.begin(podWork{start: now, q: q, id: b, workOn: workOn{pod: w.pod, failed: failed}}, end)
	}
}

// visible reports whether a queue has messages to receive.
func (d *deployment) visible() bool {
	for _, q := range d.queues {
		if q.visible.len() > 0 {
			return true
		}
	}
	return false
}

// nextQueue returns the next queue in turn that has visible messages and, for a FIFO queue,
// a ReceiveMessage call within its per-action limit (taken now, as the Lambda mapping takes
// it). When only FIFO queues out of calls have messages it returns nil, and the workers are
// woken when the earliest of them has a call again.
func (d *deployment) nextQueue(now Time) *queue {
	for range d.queues {
		q := d.queues[d.qNext]
		d.qNext++
		if d.qNext == len(d.queues) {
			d.qNext = 0
		}
		if q.visible.len() == 0 {
			continue
		}
		if q.fifo != nil {
			if ok, next := q.fifo.receiveCall(now); !ok {
				if d.recvWakeAt < 0 || next < d.recvWakeAt {
					d.recvWakeAt = next
					d.m.k.Schedule(next, d.id, opReceiveWake, 0)
				}
				continue
			}
		}
		return q
	}
	return nil
}

// takeIdle returns an idle worker of a ready pod.
func (d *deployment) takeIdle() (idleWorker, bool) {
	for n := len(d.idle); n > 0; n = len(d.idle) {
		w := d.idle[n-1]
		d.idle = d.idle[:n-1]
		if p := &d.pods[w.pod]; p.gen == w.gen && p.state == podReady {
			return w, true
		}
	}
	return idleWorker{}, false
}

func (d *deployment) abandon(s syncWait, now Time) {
	d.abandoned++
	d.st.gaveUp(now, now-s.at)
	leave(&d.st, now, s.at)
	d.bindOnceNamed("workers", func() string {
		return fmt.Sprintf("a request waited more than %v for a worker of %d ready pods × %d and was abandoned; %s",
			time.Duration(d.qTimeout), d.readyPods.Value(), d.conc, d.podState())
	})
	d.m.reject(s.r)
}

// run computes when work started at now ends: the service time and the calls of request r,
// or of every message of a batch, one after another. A throttled call fails the work there.
func (d *deployment) run(now Time, r ReqID, msgs []qmsg) (end Time, failed bool) {
	t := now
	if msgs == nil {
		return d.work1(now, t, r)
	}
	for i := range msgs {
		if t, failed = d.work1(now, t, msgs[i].r); failed {
			break
		}
	}
	return t, failed
}

func (d *deployment) work1(now, t Time, r ReqID) (Time, bool) {
	t += d.svc.Sample(&d.rng)
	for i := range d.calls {
		c := &d.calls[i]
		var lat Time
		var ok bool
		if c.table != nil {
			lat, ok = c.table.call(now, c.write)
		} else {
			lat, ok = c.topic.publish(now, t, r)
		}
		t += lat
		if !ok {
			return t, true
		}
	}
	return t, false
}

// begin records work on a worker of pod w.pod and its end event.
func (d *deployment) begin(w podWork, end Time) {
	d.pods[w.pod].busy++
	i := d.work.alloc(w)
	d.m.k.Schedule(end, d.id, opPodWorkDone, int64(i))
}

// workDone ends work: the worker is idle again (unless its pod is leaving), and the batch is
// settled with its queue or the request answered.
func (d *deployment) workDone(i int32, now Time) {
	w := *d.work.at(i)
	d.work.release(i)
	p := &d.pods[w.pod]
	p.busy--
	d.st.done(now, now-w.start)
	switch {
	case p.state == podReady:
		d.idle = append(d.idle, idleWorker{pod: w.pod, gen: p.gen})
	case p.state == podTerminating && p.busy == 0:
		d.podGone(w.pod, now)
		if d.nPend > 0 {
			d.schedule(now) // its place on the node is free for a pending pod
		}
	}
	switch {
	case w.q != nil:
		w.q.batchDone(w.id, !w.failed) // lets the queue call pull
	case w.failed:
		d.m.reject(ReqID(w.id))
	default:
		d.forward(ReqID(w.id))
	}
	d.dispatch()
}

// --- Pods and nodes ---------------------------------------------------------------------

// newPod creates a pending pod.
func (d *deployment) newPod(now Time) int32 {
	var i int32
	if n := len(d.podFree); n > 0 {
		i = d.podFree[n-1]
		d.podFree = d.podFree[:n-1]
		gen := d.pods[i].gen
		d.pods[i] = pod{state: podPending, node: -1, gen: gen}
	} else {
		d.pods = append(d.pods, pod{state: podPending, node: -1})
		i = int32(len(d.pods) - 1)
	}
	d.live = append(d.live, i)
	d.replicas.Add(now, 1)
	return i
}

// bindPod puts pod p on node n: it starts once the image is there (pulled by the first pod
// on the node) and its start-up time has passed.
func (d *deployment) bindPod(p, n int32, now Time) {
	nd := &d.nodes[n]
	nd.pods++
	nd.emptySince = -1
	if nd.imageAt < 0 {
		nd.imageAt = now + d.imagePull.Sample(&d.rng)
	}
	pd := &d.pods[p]
	pd.state, pd.node = podStarting, n
	d.podStarts++
	at := max(now, nd.imageAt) + d.startUp.Sample(&d.rng)
	d.m.k.Schedule(at, d.id, opPodReady, int64(p)|int64(pd.gen)<<32)
}

// podReady makes a started pod ready: its workers take work.
func (d *deployment) podReady(p int32, now Time) {
	pd := &d.pods[p]
	pd.state = podReady
	d.readyPods.Add(now, 1)
	d.readyTimes.push(now)
	d.slots.Add(now, int64(d.conc))
	for range d.conc {
		d.idle = append(d.idle, idleWorker{pod: p, gen: pd.gen})
	}
}

// schedule binds pending pods to ready nodes with room, in the order they were created.
func (d *deployment) schedule(now Time) {
	for d.pending.len() > 0 {
		p := *d.pending.peek()
		if d.pods[p].state != podPending {
			d.pending.pop()
			continue
		}
		n := d.openNode()
		if n < 0 {
			return
		}
		d.pending.pop()
		d.nPend--
		d.bindPod(p, n, now)
	}
}

// terminate takes pod p out of the deployment.
func (d *deployment) terminate(p int32, now Time) {
	pd := &d.pods[p]
	d.replicas.Add(now, -1)
	switch pd.state {
	case podPending:
		d.nPend--
		d.podGone(p, now)
	case podStarting:
		d.podGone(p, now)
	case podReady:
		d.readyPods.Add(now, -1)
		d.slots.Add(now, -int64(d.conc))
		pd.state = podTerminating
		if pd.busy == 0 {
			d.podGone(p, now)
		}
	}
}

// podGone frees pod p's place on its node.
func (d *deployment) podGone(p int32, now Time) {
	pd := &d.pods[p]
	if pd.node >= 0 {
		n := &d.nodes[pd.node]
		n.pods--
		if n.pods == 0 {
			n.emptySince = now
		}
		d.firstOpen = min(d.firstOpen, int(pd.node))
	}
	pd.state, pd.node = podGone, -1
	pd.gen++
	d.podFree = append(d.podFree, p)
}

func (d *deployment) Handle(op int32, arg int64) {
	now := d.m.k.now
	switch op {
	case opPodWorkDone:
		d.workDone(int32(arg), now)
	case opPodReady:
		p := int32(arg & (1<<32 - 1))
		if pd := &d.pods[p]; pd.state == podStarting && pd.gen == uint32(arg>>32) {
			d.podReady(p, now)
			d.dispatch()
		}
	case opNodeReady:
		n := &d.nodes[arg]
		n.ready = true
		d.nReady++
		d.firstOpen = min(d.firstOpen, int(arg))
		d.schedule(now)
	case opHPA:
		d.autoscale(now)
		d.m.k.Schedule(now+d.hpaPeriod, d.id, opHPA, 0)
	case opProvision:
		d.provision(now)
		d.m.k.Schedule(now+d.scan, d.id, opProvision, 0)
	case opReceiveWake:
		if now == d.recvWakeAt {
			d.recvWakeAt = -1
		}
		d.dispatch()
	}
}

// oldestWork is how long the oldest work not yet started has waited.
func (d *deployment) oldestWork(now Time) Time {
	oldest := Time(0)
	if d.waiting.len() > 0 {
		oldest = now - d.waiting.peek().at
	}
	for _, q := range d.queues {
		if q.visible.len() > 0 {
			oldest = max(oldest, now-q.visible.peek().sent)
		}
	}
	return oldest
}

// workWaited reports whether work has waited long enough for a scaling delay to bind.
func (d *deployment) workWaited(now Time) bool {
	return d.oldestWork(now) > hpaPeriodsOfPatience*d.hpaPeriod
}

func (d *deployment) bindOnceNamed(limit string, detail func() string) {
	if d.bound[limit] {
		return
	}
	d.bound[limit] = true
	d.m.bind(&d.node, limit, detail())
}

func (d *deployment) podState() string {
	return fmt.Sprintf("%d replicas, %d ready, %d pending for nodes; %d nodes (%d ready)",
		d.replicas.Value(), d.readyPods.Value(), d.nPend, d.nLaunched, d.nReady)
}

// distText names a distribution in a few words, for details.
func distText(dist scenarios.Dist) string {
	switch dist.Kind {
	case scenarios.DistUniform:
		return fmt.Sprintf("%v–%v", dist.Min, dist.Max)
	case scenarios.DistConstant:
		return dist.Value.String()
	case scenarios.DistLognormal:
		if dist.Median > 0 {
			return fmt.Sprintf("median %v, p99 %v", dist.Median, dist.P99)
		}
	}
	return string(dist.Kind)
}

// --- Figures ----------------------------------------------------------------------------

func (d *deployment) resetStats(now Time) {
	d.replicas.Reset(now)
	d.readyPods.Reset(now)
	d.slots.Reset(now)
	d.nodesG.Reset(now)
	d.podStarts, d.nodeLaunches, d.abandoned = 0, 0, 0
	d.lastBusyArea, d.lastSlotArea = d.st.busy.Area(now), d.slots.Area(now)
}

// scaleUpTime estimates how long the deployment takes from min_replicas to n pods when the
// load asks for them at once: HPA periods under the scale-up policy, then a node's launch and
// a pod's image pull and start-up (the means).
func (d *deployment) scaleUpTime(n int) Time {
	spec := d.dspec
	periods := 0
	for r := spec.MinReplicas; r < n; periods++ {
		next := max(int(math.Ceil(float64(r)*(1+spec.ScaleUpPercent/100))), r+spec.ScaleUpPods)
		if next <= r {
			return -1
		}
		r = next
	}
	return Time(periods)*d.hpaPeriod + Time(d.nodeReady.Mean()+d.imagePull.Mean()+d.startUp.Mean())
}

func (d *deployment) report(c *result.Component) {
	now := d.m.k.now
	spec := d.dspec
	target := spec.TargetPods
	if target == 0 {
		target = spec.MaxReplicas
	}
	ceilDiv := func(a, b int) int64 {
		if b <= 0 {
			return 0
		}
		return int64((a + b - 1) / b)
	}
	best := reachable(d.limits)
	c.PodsReachable, c.PodsLimit = best.Pods, best.Limit
	c.Errors = d.abandoned
	f := &result.ClusterFigures{
		NodeType:            spec.NodeType,
		Provisioner:         spec.Provisioner,
		CNI:                 spec.CNI,
		PodsPerNode:         int64(d.fit.PodsPerNode),
		PodsPerNodeLimit:    d.fit.Limit,
		PodsPerNodeWhy:      d.fit.Why,
		MaxPodsPerNode:      int64(d.fit.MaxPods),
		ENIMaxPods:          int64(d.fit.ENIMaxPods),
		AllocatableCPU:      round6(d.fit.AllocatableCPU),
		AllocatableMemoryMB: round6(d.fit.AllocatableMemoryMB),
		TargetPods:          int64(target),
		NodesForTarget:      ceilDiv(target, d.fit.PodsPerNode),
		NodesForTargetAt110: ceilDiv(target, 110),
		NodesForTargetAtENI: ceilDiv(target, d.fit.ENIMaxPods),
		Limits:              append([]result.ClusterLimit(nil), d.limits...),
		PeakReplicas:        d.replicas.Peak(),
		MeanReplicas:        round6(d.replicas.Mean(now)),
		PeakReadyPods:       d.readyPods.Peak(),
		PeakNodes:           d.nodesG.Peak(),
		MeanNodes:           round6(d.nodesG.Mean(now)),
		NodeHours:           round6(d.nodesG.Area(now) / float64(Hour)),
		PodStarts:           d.podStarts,
		NodeLaunches:        d.nodeLaunches,
	}
	f.VCPUsForTarget = f.NodesForTarget * int64(d.nodeType.VCPUs)
	if t := d.scaleUpTime(int(min(int64(target), best.Pods))); t >= 0 {
		f.ScaleUpS = round6(t.Seconds())
	}
	c.Cluster = f
	if d.slots.Mean(now) > 0 {
		c.Utilization = round6(d.st.busy.Mean(now) / d.slots.Mean(now))
	}
}

// A deployment is billed for its nodes, per instance-hour from launch to removal, and for
// the EKS control plane; its idle workers' empty long polls are SQS requests (20 s each).
func (d *deployment) usage(span Time) []result.Usage {
	now := d.m.k.now
	out := []result.Usage{
		{Price: "ec2." + d.dspec.NodeType, Item: fmt.Sprintf("node-hours (%s, %d at peak)", d.dspec.NodeType, d.nodesG.Peak()),
			Quantity: d.nodesG.Area(now) / float64(Hour)},
		{Price: "eks.cluster_hours", Item: "EKS control plane", Quantity: span.Seconds() / 3600, Fixed: true},
	}
	if len(d.queues) > 0 {
		// An idle worker polls the queues in turn: its empty receives are shared among them,
		// each priced as its kind (a FIFO queue's requests cost more).
		idle := max(0, d.slots.Area(now)-d.st.busy.Area(now))
		polls := int64(math.Floor(idle / float64(longPoll)))
		fifo := int64(0)
		for _, q := range d.queues {
			if q.fifo != nil {
				fifo++
			}
		}
		n := int64(len(d.queues))
		std := polls * (n - fifo) / n
		const item = "ReceiveMessage, empty (idle pod workers' 20 s long polls)"
		if fifo < n {
			out = append(out, result.Usage{Price: "sqs.standard.requests", Item: item, Quantity: float64(std)})
		}
		if fifo > 0 {
			out = append(out, result.Usage{Price: "sqs.fifo.requests", Item: item, Quantity: float64(polls - std)})
		}
	}
	return out
}
