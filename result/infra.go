package result

// CacheFigures are a cache-aside cache's figures (kind cache).
type CacheFigures struct {
	// Queries looked a key up; Hits found it, Misses read the database and set it;
	// Invalidations deleted a key after an update or delete.
	Queries       int64 `json:"queries"`
	Hits          int64 `json:"hits"`
	Misses        int64 `json:"misses"`
	Invalidations int64 `json:"invalidations"`
	// HitRatio is Hits / Queries; HitRatioSet the scenario's hit_ratio; HitRatioCap what the
	// memory allows with uniform access (capacity / working set, at most 1).
	HitRatio    float64 `json:"hit_ratio"`
	HitRatioSet float64 `json:"hit_ratio_set"`
	HitRatioCap float64 `json:"hit_ratio_cap"`
	// CapacityItems is what the memory holds, WorkingSet the distinct keys read, CachedItems
	// what was cached at the end of the run.
	CapacityItems int64 `json:"capacity_items"`
	WorkingSet    int64 `json:"working_set"`
	CachedItems   int64 `json:"cached_items"`
	// PeakOpsPerS is the most commands in one second.
	PeakOpsPerS float64 `json:"peak_ops_per_s"`
}

// DatabaseFigures are a database's figures (kind database).
type DatabaseFigures struct {
	Reads  int64 `json:"reads"`
	Writes int64 `json:"writes"`
	// Instances counts the primary and the replicas, each with CoresPerInstance cores.
	Instances        int64 `json:"instances"`
	CoresPerInstance int64 `json:"cores_per_instance"`
	// PrimaryUtilization and ReplicaUtilization are the busy shares of their cores.
	PrimaryUtilization float64 `json:"primary_utilization"`
	ReplicaUtilization float64 `json:"replica_utilization,omitempty"`
	// Clients are the VMs with connection pools; WriterConnections and ReaderConnections the
	// pools' sizes per endpoint, all clients together; MaxConnections what one instance accepts.
	Clients           int64 `json:"clients"`
	WriterConnections int64 `json:"writer_connections"`
	ReaderConnections int64 `json:"reader_connections,omitempty"`
	MaxConnections    int64 `json:"max_connections"`
}

// ClusterFigures are a Kubernetes deployment's figures (kind deployment): how its pods fit
// on nodes, what the design's target pod count needs, what each limit allows, and what the
// run used.
type ClusterFigures struct {
	NodeType    string `json:"node_type"`
	Provisioner string `json:"provisioner"`
	CNI         string `json:"cni"`
	// PodsPerNode is the deployment's pods on a full node; PodsPerNodeLimit names what
	// bounds it (max pods, cpu or memory) and PodsPerNodeWhy gives the figures.
	PodsPerNode      int64  `json:"pods_per_node"`
	PodsPerNodeLimit string `json:"pods_per_node_limit"`
	PodsPerNodeWhy   string `json:"pods_per_node_why"`
	// MaxPodsPerNode is the kubelet's limit under the CNI; ENIMaxPods the VPC CNI formula's
	// (interfaces × (addresses − 1) + 2).
	MaxPodsPerNode      int64   `json:"max_pods_per_node"`
	ENIMaxPods          int64   `json:"eni_max_pods"`
	AllocatableCPU      float64 `json:"allocatable_cpu"`
	AllocatableMemoryMB float64 `json:"allocatable_memory_mb"`
	// TargetPods is the design's pod count; NodesForTarget the nodes it needs at PodsPerNode,
	// NodesForTargetAt110 and NodesForTargetAtENI at 110 pods per node and at the ENI
	// formula's; VCPUsForTarget the vCPUs of NodesForTarget nodes.
	TargetPods          int64 `json:"target_pods"`
	NodesForTarget      int64 `json:"nodes_for_target"`
	NodesForTargetAt110 int64 `json:"nodes_for_target_at_110"`
	NodesForTargetAtENI int64 `json:"nodes_for_target_at_eni"`
	VCPUsForTarget      int64 `json:"vcpus_for_target"`
	// Limits lists the pods each limit allows; the smallest is Component.PodsReachable.
	Limits []ClusterLimit `json:"limits"`
	// ScaleUpS estimates the time from min_replicas to the target (or the pods reachable,
	// if fewer): HPA periods under the scale-up policy, then a node launch, image pull and
	// start-up.
	ScaleUpS float64 `json:"scale_up_s"`
	// What the run used.
	PeakReplicas  int64   `json:"peak_replicas"`
	MeanReplicas  float64 `json:"mean_replicas"`
	PeakReadyPods int64   `json:"peak_ready_pods"`
	PeakNodes     int64   `json:"peak_nodes"`
	MeanNodes     float64 `json:"mean_nodes"`
	NodeHours     float64 `json:"node_hours"`
	PodStarts     int64   `json:"pod_starts"`
	NodeLaunches  int64   `json:"node_launches"`
}

// ClusterLimit is the most pods of a deployment one limit allows.
type ClusterLimit struct {
	Limit  string `json:"limit"`
	Pods   int64  `json:"pods"`
	Detail string `json:"detail"`
}
