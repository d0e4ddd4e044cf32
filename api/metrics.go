package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics counts requests by route pattern and status and times them, in a
// registry of the server's own (never the global one).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_http_requests_total",
		Help: "HTTP requests served, by route pattern and status code.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "baton_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

// watchLimits exports the state of the server's limits: the writes being
// worked on, the request body bytes held in memory, and the requests shed.
func (m *metrics) watchLimits(s *Server) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "baton_http_writes_in_progress",
			Help: "Write requests being worked on now (at most --max-writes)."},
			func() float64 { return float64(len(s.limiter.writes)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "baton_http_request_body_bytes",
			Help: "Bytes of request bodies held in memory now (at most --body-budget)."},
			func() float64 { return float64(s.limiter.held.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "baton_http_shed_writes_total",
			Help: "Write requests refused with 429 because every place for writes stayed taken."},
			func() float64 { return float64(s.limiter.shed[shedWrites].Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "baton_http_shed_bodies_total",
			Help: "Requests refused with 429 because the body budget was spent."},
			func() float64 { return float64(s.limiter.shed[shedBodies].Load()) }),
	)
}

// observe records one request. route is the mux pattern that served it, or
// "unmatched".
func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}
