package rediscache

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats counts what the cache did since the store was made.
type Stats struct {
	// Hits are Gets answered from Redis; Misses are Gets that read the backing store
	// (Redis had no entry, or could not be reached).
	Hits, Misses uint64
	// Fills set a value after a miss; RefusedFills found their lease gone (a write
	// intervened, or the backing read outlived the lease) and set nothing.
	Fills, RefusedFills uint64
	// Errors are failed Redis calls, by operation; the store carried on without them.
	GetErrors, LeaseErrors, FillErrors, InvalidateErrors uint64
}

// HitRatio is Hits / (Hits + Misses), or 0 before the first Get.
func (s Stats) HitRatio() float64 {
	if n := s.Hits + s.Misses; n > 0 {
		return float64(s.Hits) / float64(n)
	}
	return 0
}

// counters are plain atomics on the hot path; Prometheus reads them through func
// collectors at scrape time.
type counters struct {
	hits, misses, fills, refused                 atomic.Uint64
	getErrs, leaseErrs, fillErrs, invalidateErrs atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(),
		Fills: c.fills.Load(), RefusedFills: c.refused.Load(),
		GetErrors: c.getErrs.Load(), LeaseErrors: c.leaseErrs.Load(),
		FillErrors: c.fillErrs.Load(), InvalidateErrors: c.invalidateErrs.Load(),
	}
}

func (c *counters) collectors() []prometheus.Collector {
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "headroom", Subsystem: "cache", Name: name, Help: help,
		}, func() float64 { return float64(v.Load()) })
	}
	errs := func(op string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "headroom", Subsystem: "cache", Name: "errors_total",
			Help:        "Failed Redis calls by operation; reads fell back to the backing store, writes still succeeded.",
			ConstLabels: prometheus.Labels{"op": op},
		}, func() float64 { return float64(v.Load()) })
	}
	return []prometheus.Collector{
		counter("hits_total", "Gets answered from Redis.", &c.hits),
		counter("misses_total", "Gets that read the backing store.", &c.misses),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "headroom", Subsystem: "cache", Name: "hit_ratio",
			Help: "hits / (hits + misses) since start.",
		}, func() float64 { return c.snapshot().HitRatio() }),
		counter("fills_total", "Values set in Redis after a miss.", &c.fills),
		counter("refused_fills_total", "Fills refused because a write invalidated the key (or the lease expired) during the backing read.", &c.refused),
		errs("get", &c.getErrs),
		errs("lease", &c.leaseErrs),
		errs("fill", &c.fillErrs),
		errs("invalidate", &c.invalidateErrs),
	}
}
