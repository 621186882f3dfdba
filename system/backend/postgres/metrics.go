package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reports pgxpool's statistics at scrape time: nothing is counted on the
// hot path, the pool keeps these numbers anyway.
type poolCollector struct {
	pool                                 *pgxpool.Pool
	total, idle, acquired, max           *prometheus.Desc
	acquires, emptyAcquires, acquireWait *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	labels := prometheus.Labels{"store": "postgres"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("headroom_store_pool_"+name, help, nil, labels)
	}
	return &poolCollector{
		pool:          pool,
		total:         d("connections", "Open connections of the store's pool."),
		idle:          d("idle_connections", "Idle connections of the store's pool."),
		acquired:      d("acquired_connections", "Connections in use."),
		max:           d("max_connections", "The pool's connection cap."),
		acquires:      d("acquires_total", "Connections handed out."),
		emptyAcquires: d("empty_acquires_total", "Acquires that had to wait or dial because no connection was idle."),
		acquireWait:   d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.max, c.acquires, c.emptyAcquires, c.acquireWait} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	k := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(c.total, float64(st.TotalConns()))
	g(c.idle, float64(st.IdleConns()))
	g(c.acquired, float64(st.AcquiredConns()))
	g(c.max, float64(st.MaxConns()))
	k(c.acquires, float64(st.AcquireCount()))
	k(c.emptyAcquires, float64(st.EmptyAcquireCount()))
	k(c.acquireWait, st.AcquireDuration().Seconds())
}
