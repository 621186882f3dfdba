package result

// FIFOFigures are the figures of an SQS FIFO queue or an SNS FIFO topic.
type FIFOFigures struct {
	// GroupBy is the message group key: a mix attribute, "request" or "user".
	GroupBy string `json:"group_by"`
	// Queue: PeakGroups is the most message groups with messages in the queue (waiting or
	// in flight) at once, the ceiling of the consumer's concurrency; PeakBlockedGroups the
	// most groups at once with messages waiting behind an earlier one of their group.
	PeakGroups        int64 `json:"peak_groups,omitempty"`
	PeakBlockedGroups int64 `json:"peak_blocked_groups,omitempty"`
	// TPS is the queue's limit of calls per second per API action; ReceiveWaits counts the
	// times the consumer had messages to take but no call left (each wait for the next
	// call once), SendThrottled the direct sends refused by the limit.
	TPS           float64 `json:"tps,omitempty"`
	ReceiveWaits  int64   `json:"receive_waits,omitempty"`
	SendThrottled int64   `json:"send_throttled,omitempty"`
	// Topic: publishes refused by the per-group limit and by the topic's own.
	GroupThrottled int64 `json:"group_throttled,omitempty"`
	TopicThrottled int64 `json:"topic_throttled,omitempty"`
}

// RouteShare is one route of a router.
type RouteShare struct {
	To string `json:"to"`
	// Share is the configured share of the requests (weight or clients over their sum).
	Share    float64 `json:"share"`
	Requests int64   `json:"requests"`
}
