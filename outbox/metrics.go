package outbox

import "github.com/prometheus/client_golang/prometheus"

// metrics of delivery. Labelled by subscription: a county has a handful.
type metrics struct {
	delivered   *prometheus.CounterVec
	failures    *prometheus.CounterVec
	sendSeconds prometheus.Histogram
	parked      prometheus.Gauge
	lag         *prometheus.GaugeVec
}

func newMetrics() *metrics {
	return &metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eseal_events_delivered_total", Help: "Events acknowledged by receivers, by subscription.",
		}, []string{"subscription"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eseal_events_failures_total", Help: "Failed event deliveries, by subscription.",
		}, []string{"subscription"}),
		sendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "eseal_events_send_seconds", Help: "Duration of one event's HTTP delivery.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 2.5, 5, 10},
		}),
		parked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eseal_events_parked", Help: "Subscriptions parked after failed deliveries: an operator must resume them.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "eseal_events_cursor", Help: "The last ledger sequence number each subscription's receiver acknowledged.",
		}, []string{"subscription"}),
	}
}

func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.delivered, m.failures, m.sendSeconds, m.parked, m.lag}
}

// observe sets the gauges from the subscriptions as listed.
func (m *metrics) observe(subs []*Subscription) {
	parked := 0
	for _, s := range subs {
		if s.State == Parked {
			parked++
		}
		m.lag.WithLabelValues(s.ID).Set(float64(s.Cursor))
	}
	m.parked.Set(float64(parked))
}
