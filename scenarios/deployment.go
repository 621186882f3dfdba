package scenarios

import "fmt"

// Deployment is a Kubernetes Deployment of identical pods on nodes of one instance type,
// scaled by a HorizontalPodAutoscaler, with nodes added by a cluster-autoscaler or
// Karpenter. It consumes the queues whose next it is (every worker of a ready pod receives
// batches itself) or takes synchronous requests (as the next of a gateway, pool or function).
type Deployment struct {
	// Pods.
	Concurrency     int     // workers per pod: batches or requests a pod works on at once
	CPURequest      float64 // vCPUs requested per pod (0.25 = 250m)
	MemoryRequestMB float64
	// ServiceTime is the pod's own work per request, or per message of a batch, excluding
	// the latency of its calls.
	ServiceTime Dist
	// Calls are made for every request or message, in order, as a function's are.
	Calls []Call
	// BatchSize is the messages one receive takes from a queue (SQS: 1–10).
	BatchSize int
	// StartUp is scheduling to ready, excluding the image pull; ImagePull is added for the
	// first pod of the deployment on a node (the image is then cached there).
	StartUp   Dist
	ImagePull Dist
	// QueueTimeout: a synchronous request waiting longer than this for a worker is abandoned.
	QueueTimeout Duration

	// HorizontalPodAutoscaler: desired = ceil(current × metric / target) every HPAPeriod,
	// unchanged within Tolerance of the target; scale-up by at most max(ScaleUpPercent %,
	// ScaleUpPods) per period; scale-down to the highest recommendation of the last
	// ScaleDownStabilization.
	MinReplicas int
	MaxReplicas int
	// Metric is "cpu" (busy share of the workers, against Target as a utilization 0–1) or
	// "backlog" (messages visible and in flight in the queues consumed, per pod, against
	// Target as messages per pod: the KEDA SQS scaler).
	Metric                 string
	Target                 float64
	HPAPeriod              Duration
	Tolerance              float64
	ScaleUpPercent         float64
	ScaleUpPods            int
	ScaleDownStabilization Duration
	// ReadinessDelay: the cpu metric ignores a pod's first ReadinessDelay after it is ready
	// (the HPA's initial readiness delay).
	ReadinessDelay Duration
	// TargetPods is the pod count the design promises, for the nodes-needed figures:
	// 0 = MaxReplicas.
	TargetPods int

	// Nodes.
	NodeType string
	// CNI decides the pods per node when MaxPods is 0: "vpc" (EKS VPC CNI: the ENI formula),
	// "prefix" (VPC CNI prefix delegation: 110 below 30 vCPUs, else 250), "overlay" (110).
	CNI     string
	MaxPods int
	// DaemonSets on every node: pods, and what they request.
	DaemonsetPods     int
	DaemonsetCPU      float64
	DaemonsetMemoryMB float64
	// The node's own reservations (EKS AMI): kube-reserved memory = KubeReservedMemoryMB +
	// KubeReservedMemoryPerPodMB × max pods, the eviction threshold, and kube-reserved CPU as
	// fractions of the 1st, 2nd, ... core (the last applies to every further core).
	KubeReservedMemoryMB       float64
	KubeReservedMemoryPerPodMB float64
	EvictionMemoryMB           float64
	KubeReservedCPU            []float64
	// Provisioner is "cluster-autoscaler" or "karpenter": every ScanInterval it adds nodes
	// for pods that fit nowhere, ready after NodeReady; a node empty for ScaleDownUnneeded
	// is removed.
	Provisioner       string
	ScanInterval      Duration
	NodeReady         Dist
	ScaleDownUnneeded Duration
	MinNodes          int
	MaxNodes          int // 0 = only the cluster's limit
	// Cluster limits (upstream scalability envelope) and the network the nodes draw IPv4
	// addresses from.
	ClusterMaxNodes int
	ClusterMaxPods  int
	SubnetAddresses int
}

var (
	hpaMetrics   = []string{"cpu", "backlog"}
	cniModes     = []string{"vpc", "prefix", "overlay"}
	provisioners = []string{"cluster-autoscaler", "karpenter"}
)

func validateDeployment(v *validator, c *Component) {
	d := c.Deployment
	key := func(k string) string { return compKey(c, k) }
	if d.Concurrency < 1 {
		v.fail(key("concurrency"), "must be >= 1 (workers per pod), got %d", d.Concurrency)
	}
	v.positive(key("cpu_request"), d.CPURequest)
	v.positive(key("memory_request_mb"), d.MemoryRequestMB)
	v.required(key("service_time"), d.ServiceTime, "service_time (the pod's work per request or message)")
	if d.BatchSize < 1 || d.BatchSize > 10 {
		v.fail(key("batch_size"), "must be between 1 and 10 (an SQS receive returns at most 10 messages), got %d", d.BatchSize)
	}
	v.required(key("start_up"), d.StartUp, "start_up")
	v.positive(key("queue_timeout"), d.QueueTimeout.Seconds())
	if d.MinReplicas < 1 {
		v.fail(key("min_replicas"), "must be >= 1, got %d", d.MinReplicas)
	}
	if d.MaxReplicas < d.MinReplicas {
		v.fail(key("max_replicas"), "must be >= min_replicas (%d), got %d", d.MinReplicas, d.MaxReplicas)
	}
	v.nonNegative(key("target_pods"), float64(d.TargetPods))
	v.oneOf(key("metric"), d.Metric, hpaMetrics...)
	v.positive(key("target"), d.Target)
	if d.Metric == "cpu" && d.Target > 1 {
		v.fail(key("target"), "a cpu target is a utilization between 0 and 1, got %g", d.Target)
	}
	if d.Metric == "backlog" && !v.consumesQueue(c) {
		v.fail(key("metric"), "the backlog metric counts the messages of the queues the deployment consumes, and no queue has %s as its next", c.Name)
	}
	v.positive(key("hpa_period"), d.HPAPeriod.Seconds())
	if d.Tolerance < 0 || d.Tolerance >= 1 {
		v.fail(key("tolerance"), "must be between 0 and 1, got %g", d.Tolerance)
	}
	v.nonNegative(key("scale_up_percent"), d.ScaleUpPercent)
	v.nonNegative(key("scale_up_pods"), float64(d.ScaleUpPods))
	if d.ScaleUpPercent == 0 && d.ScaleUpPods == 0 {
		v.fail(key("scale_up_percent"), "scale_up_percent and scale_up_pods are both 0: the deployment could never scale up")
	}
	nt := v.instanceType(key("node_type"), d.NodeType, "m5.large", d.CNI == "vpc" && d.MaxPods == 0)
	v.oneOf(key("cni"), d.CNI, cniModes...)
	v.nonNegative(key("max_pods"), float64(d.MaxPods))
	v.nonNegative(key("daemonset_pods"), float64(d.DaemonsetPods))
	v.nonNegative(key("daemonset_cpu"), d.DaemonsetCPU)
	v.nonNegative(key("daemonset_memory_mb"), d.DaemonsetMemoryMB)
	v.nonNegative(key("kube_reserved_memory_mb"), d.KubeReservedMemoryMB)
	v.nonNegative(key("kube_reserved_memory_per_pod_mb"), d.KubeReservedMemoryPerPodMB)
	v.nonNegative(key("eviction_memory_mb"), d.EvictionMemoryMB)
	if len(d.KubeReservedCPU) == 0 {
		v.missing(key("kube_reserved_cpu"), "missing kube_reserved_cpu: the fraction of each core kept for the node (e.g. [0.06, 0.01, 0.005, 0.005, 0.0025])")
	}
	for i, f := range d.KubeReservedCPU {
		if f < 0 || f >= 1 {
			v.fail(index(key("kube_reserved_cpu"), i), "a fraction of a core is between 0 and 1, got %g", f)
		}
	}
	v.oneOf(key("provisioner"), d.Provisioner, provisioners...)
	v.positive(key("scan_interval"), d.ScanInterval.Seconds())
	v.required(key("node_ready"), d.NodeReady, "node_ready (launch to Ready of a node)")
	v.positive(key("scale_down_unneeded"), d.ScaleDownUnneeded.Seconds())
	v.nonNegative(key("min_nodes"), float64(d.MinNodes))
	v.nonNegative(key("max_nodes"), float64(d.MaxNodes))
	if d.MaxNodes > 0 && d.MaxNodes < d.MinNodes {
		v.fail(key("max_nodes"), "must be 0 (no limit of its own) or >= min_nodes (%d), got %d", d.MinNodes, d.MaxNodes)
	}
	if d.ClusterMaxNodes < 1 {
		v.fail(key("cluster_max_nodes"), "must be >= 1, got %d", d.ClusterMaxNodes)
	}
	if d.ClusterMaxPods < 1 {
		v.fail(key("cluster_max_pods"), "must be >= 1, got %d", d.ClusterMaxPods)
	}
	if d.SubnetAddresses < 1 {
		v.fail(key("subnet_addresses"), "must be >= 1 (IPv4 addresses the node subnets hold), got %d", d.SubnetAddresses)
	}
	for i := range d.Calls {
		v.call(c, index(key("calls"), i), &d.Calls[i])
	}
	if nt == nil || d.CPURequest <= 0 || d.MemoryRequestMB <= 0 {
		return
	}
	// One pod must fit on an empty node, or nothing ever runs.
	if fit := NodeFit(nt, d); fit.PodsPerNode < 1 {
		v.fail(key("cpu_request"), "a pod (%g vCPU, %g MB) does not fit on a %s node: %s", d.CPURequest, d.MemoryRequestMB, nt.Name, fit.Why)
	}
}

// consumesQueue reports whether some queue has c as its next.
func (v *validator) consumesQueue(c *Component) bool {
	for _, q := range v.s.Components {
		if q.Kind == KindQueue && q.Next == c.Name {
			return true
		}
	}
	return false
}

// call checks one synchronous call (to a table or topic) at key and fills in its default op.
func (v *validator) call(c *Component, p string, call *Call) {
	if call.To == "" {
		v.missing(p, "missing to: the table or topic called")
		return
	}
	t := v.ref(p+".to", call.To, []Kind{KindTable, KindTopic}, "a call")
	if t == nil {
		return
	}
	ops := callOps[t.Kind]
	if call.Op == "" {
		call.Op = ops[0]
	} else if !containsString(ops, call.Op) {
		v.fail(p+".op", "a %s call is %s, got %q", t.Kind, orList(ops), call.Op)
	}
}

func containsString(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// Fit is how many pods of a deployment fit on one node, and why no more.
type Fit struct {
	// MaxPods is the kubelet's pod limit (the CNI's), ENIMaxPods the VPC CNI formula's.
	MaxPods, ENIMaxPods int
	// AllocatableCPU and AllocatableMemoryMB are what the node offers pods (capacity less
	// kube-reserved and the eviction threshold), before DaemonSets.
	AllocatableCPU      float64
	AllocatableMemoryMB float64
	// PodsPerNode is the deployment's pods on a full node; Limit names what bounds it
	// ("max pods", "cpu", "memory") and Why explains it in figures.
	PodsPerNode int
	Limit, Why  string
}

// NodeFit computes the pods of deployment d that fit on a node of type t.
func NodeFit(t *InstanceType, d *Deployment) Fit {
	f := Fit{ENIMaxPods: t.ENIMaxPods()}
	switch {
	case d.MaxPods > 0:
		f.MaxPods = d.MaxPods
	case d.CNI == "vpc":
		f.MaxPods = f.ENIMaxPods
	case d.CNI == "prefix" && t.VCPUs >= 30:
		f.MaxPods = 250
	default:
		f.MaxPods = 110
	}
	reserved := 0.0
	for i := range t.VCPUs {
		frac := 0.0
		if n := len(d.KubeReservedCPU); n > 0 {
			frac = d.KubeReservedCPU[min(i, n-1)]
		}
		reserved += frac
	}
	f.AllocatableCPU = float64(t.VCPUs) - reserved
	f.AllocatableMemoryMB = t.MemoryMB - d.KubeReservedMemoryMB - d.KubeReservedMemoryPerPodMB*float64(f.MaxPods) - d.EvictionMemoryMB
	byPods := f.MaxPods - d.DaemonsetPods
	byCPU := int((f.AllocatableCPU - d.DaemonsetCPU + 1e-9) / d.CPURequest)
	byMem := int((f.AllocatableMemoryMB - d.DaemonsetMemoryMB + 1e-9) / d.MemoryRequestMB)
	f.PodsPerNode, f.Limit = byPods, "max pods"
	f.Why = fmt.Sprintf("%d pods per node less %d DaemonSet pods", f.MaxPods, d.DaemonsetPods)
	if byCPU < f.PodsPerNode {
		f.PodsPerNode, f.Limit = byCPU, "cpu"
		f.Why = fmt.Sprintf("%.3f allocatable vCPU less %.3f for DaemonSets, %g per pod", f.AllocatableCPU, d.DaemonsetCPU, d.CPURequest)
	}
	if byMem < f.PodsPerNode {
		f.PodsPerNode, f.Limit = byMem, "memory"
		f.Why = fmt.Sprintf("%.0f MB allocatable less %.0f MB for DaemonSets, %g MB per pod", f.AllocatableMemoryMB, d.DaemonsetMemoryMB, d.MemoryRequestMB)
	}
	f.PodsPerNode = max(f.PodsPerNode, 0)
	return f
}
