package system

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Pinger is an optional capability of a Store or Bus: Ping answers whether the backend can
// serve now, for /readyz. A backend without it is taken as ready once opened.
type Pinger interface {
	Ping(ctx context.Context) error
}

// MetricsSource is an optional capability of a Store or Bus: series of its own (a cache's
// hit ratio, a connection pool's size), registered beside the pipeline's.
type MetricsSource interface {
	Collectors() []prometheus.Collector
}
