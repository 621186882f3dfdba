package system

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// apiMetrics are the HTTP API's own series; the pipeline's (queue depths, in-flight,
// processed, dead-lettered) are registered beside them by whoever owns the registry.
type apiMetrics struct {
	requests  *prometheus.CounterVec   // by route pattern and status code
	latency   *prometheus.HistogramVec // by route pattern
	throttled prometheus.Counter
	// codes caches the status-code label strings so the hot path does not format them.
	codes [600]string
}

func newAPIMetrics(reg prometheus.Registerer) *apiMetrics {
	m := &apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "headroom", Subsystem: "api", Name: "requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "headroom", Subsystem: "api", Name: "request_duration_seconds",
			Help:    "Time from reading the request to writing the response, by route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "headroom", Subsystem: "api", Name: "throttled_total",
			Help: "Requests refused with 429 by the gateway token bucket.",
		}),
	}
	for c := range m.codes {
		m.codes[c] = strconv.Itoa(c)
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.throttled)
	}
	return m
}

// routeMetrics are one route's series, resolved once at registration so that serving a
// request does not hash label values.
type routeMetrics struct {
	m       *apiMetrics
	route   string
	latency prometheus.Observer
	// byCode is filled lazily: a handful of codes per route are ever seen.
	byCode [600]atomic.Pointer[counterBox]
}

type counterBox struct{ c prometheus.Counter }

func (m *apiMetrics) route(pattern string) *routeMetrics {
	return &routeMetrics{m: m, route: pattern, latency: m.latency.WithLabelValues(pattern)}
}

func (rm *routeMetrics) observe(code int, elapsed time.Duration) {
	rm.latency.Observe(elapsed.Seconds())
	if code < 100 || code >= len(rm.byCode) {
		code = 500
	}
	box := rm.byCode[code].Load()
	if box == nil {
		// Two goroutines may both resolve the child; prometheus returns the same one.
		box = &counterBox{rm.m.requests.WithLabelValues(rm.route, rm.m.codes[code])}
		rm.byCode[code].Store(box)
	}
	box.c.Inc()
}
