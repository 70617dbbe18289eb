package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the collectors of a Server, in a registry of its own.
type metrics struct {
	requests *prometheus.CounterVec   // model, endpoint, code, protocol
	errors   *prometheus.CounterVec   // model, endpoint, protocol
	latency  *prometheus.HistogramVec // model, endpoint, protocol
	rows     *prometheus.CounterVec   // model
	batches  *prometheus.HistogramVec // model
	reloads  *prometheus.CounterVec   // model, result
	unknown  *prometheus.CounterVec   // model
	refused  *prometheus.CounterVec   // model
}

// newMetrics registers the metrics of a Server in reg, with the bytes
// that requests in flight hold of the bound of lim, and the Go runtime's
// and the process's.
func newMetrics(reg *prometheus.Registry, lim *limiter) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_requests_total",
			Help: "Requests answered, by model (empty for none), endpoint, status code (the HTTP status, or the gRPC code's name) and protocol (http or grpc).",
		}, []string{"model", "endpoint", "code", "protocol"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_request_errors_total",
			Help: "Requests answered with an HTTP status of 400 or more, or a gRPC code other than OK, by model, endpoint and protocol (http or grpc).",
		}, []string{"model", "endpoint", "protocol"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nn_serve_request_duration_seconds",
			Help:    "Time from the start of a request's handling to its response, by model, endpoint and protocol (http or grpc).",
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 18), // 25µs to 3.3s
		}, []string{"model", "endpoint", "protocol"}),
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
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nn_serve_overload_refusals_total",
			Help: "Prediction requests refused with 503 before their body was read, because the bytes they may hold did not fit under the bound on requests in flight (Options.MaxInflightBytes), by model.",
		}, []string{"model"}),
	}
	held := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "nn_serve_inflight_bytes",
		Help: "Bytes reserved by the prediction requests being handled: the most that each may hold.",
	}, func() float64 { return float64(lim.held.Load()) })
	limit := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "nn_serve_inflight_bytes_limit",
		Help: "The bound on nn_serve_inflight_bytes (Options.MaxInflightBytes); -1 for none.",
	}, func() float64 { return float64(max(lim.limit, -1)) })
	reg.MustRegister(m.requests, m.errors, m.latency, m.rows, m.batches, m.reloads, m.unknown, m.refused, held, limit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
