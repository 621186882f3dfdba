package snssqs

import "github.com/prometheus/client_golang/prometheus"

var (
	descRedelivered  = prometheus.NewDesc("headroom_bus_redelivered_total", "Messages made visible again after their visibility timeout or a release.", nil, nil)
	descDeadLettered = prometheus.NewDesc("headroom_bus_dead_lettered_total", "Messages the bus moved to a dead-letter queue after their last allowed receive.", nil, nil)
	descGivenBack    = prometheus.NewDesc("headroom_bus_sqs_given_back_total", "Messages a long poll received after its caller had left, made visible again at once.", nil, nil)
)

// Collectors implements system.MetricsSource: what the bus did on its own, beside SQS's
// metrics.
func (b *Bus) Collectors() []prometheus.Collector { return []prometheus.Collector{busCollector{b}} }

type busCollector struct{ b *Bus }

func (c busCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRedelivered
	ch <- descDeadLettered
	ch <- descGivenBack
}

func (c busCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descRedelivered, prometheus.CounterValue, float64(c.b.redelivered.Load()))
	ch <- prometheus.MustNewConstMetric(descDeadLettered, prometheus.CounterValue, float64(c.b.deadLettered.Load()))
	ch <- prometheus.MustNewConstMetric(descGivenBack, prometheus.CounterValue, float64(c.b.givenBack.Load()))
}
