package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the collectors of a Server, in a registry of its own.
type metrics struct {
	requests *prometheus.CounterVec   // model, endpoint, code
	errors   *prometheus.CounterVec   // model, endpoint
	latency  *prometheus.HistogramVec // model, endpoint
	rows     *prometheus.CounterVec   // model
	batches  *prometheus.HistogramVec // model
	reloads  *prometheus.CounterVec   // model, result
	unknown  *prometheus.CounterVec   // model
}

// newMetrics registers the metrics of a Server in reg, with the Go
// runtime's and the process's.
func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_requests_total",
			Help: "HTTP requests answered, by model (empty for none), endpoint and status code.",
		}, []string{"model", "endpoint", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_request_errors_total",
			Help: "HTTP requests answered with a status of 400 or more, by model and endpoint.",
		}, []string{"model", "endpoint"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nn_serve_request_duration_seconds",
			Help:    "Time from the start of a request's handling to its response, by model and endpoint.",
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 18), // 25µs to 3.3s
		}, []string{"model", "endpoint"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_rows_predicted_total",
			Help: "Rows predicted, by model.",
		}, []string{"model"}),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nn_serve_batch_rows",
			Help:    "Rows per matrix product of the dynamic batcher, by model.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14), // 1 to 8192
		}, []string{"model"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_reloads_total",
			Help: "Reloads of model files, by model and result (success or failure).",
		}, []string{"model", "result"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_unknown_categories_total",
			Help: "Values of categorical columns that were categories the model has not seen, encoded as all zeros, by model.",
		}, []string{"model"}),
	}
	reg.MustRegister(m.requests, m.errors, m.latency, m.rows, m.batches, m.reloads, m.unknown,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
