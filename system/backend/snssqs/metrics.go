package snssqs

import "github.com/prometheus/client_golang/prometheus"

// The series share names and labels with the memory bus's, so dashboards work for both.
var (
	descRedelivered  = prometheus.NewDesc("headroom_bus_redelivered_total", "Messages made visible again after their visibility timeout or a release, by queue.", []string{"queue"}, nil)
	descDeadLettered = prometheus.NewDesc("headroom_bus_dead_lettered_total", "Messages moved to the dead-letter queue by the bus after their last allowed receive, by source queue.", []string{"queue"}, nil)
	descGivenBack    = prometheus.NewDesc("headroom_bus_sqs_given_back_total", "Messages a long poll received after its caller had left, made visible again at once, by queue.", []string{"queue"}, nil)
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
	tp := c.b.topo.Load()
	if tp == nil {
		return
	}
	for _, q := range tp.list {
		ch <- prometheus.MustNewConstMetric(descRedelivered, prometheus.CounterValue, float64(q.redelivered.Load()), q.spec.Name)
		ch <- prometheus.MustNewConstMetric(descDeadLettered, prometheus.CounterValue, float64(q.deadLettered.Load()), q.spec.Name)
		ch <- prometheus.MustNewConstMetric(descGivenBack, prometheus.CounterValue, float64(q.givenBack.Load()), q.spec.Name)
	}
}
