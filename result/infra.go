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
