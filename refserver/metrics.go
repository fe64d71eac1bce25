package refserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one Server's collectors, in a registry of its own so that two
// Servers can live in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	labels := []string{"route", "method", "status"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "carebook", Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests served, by route pattern, method and status.",
	}, labels)
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "carebook", Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to serve HTTP requests, by route pattern, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, labels)
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, method, code).Observe(d.Seconds())
}

// instrument wraps one route's handler: it tells the access log the route
// and counts and times the request under the route's pattern. A panic is
// counted as a 500 before it travels on to the recovery middleware.
func (s *Server) instrument(rt Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := infoFrom(r.Context()); i != nil {
			i.route = rt.Pattern
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := sw.code()
			if v := recover(); v != nil {
				s.metrics.observe(rt.Pattern, rt.Method, http.StatusInternalServerError, time.Since(start))
				panic(v)
			}
			s.metrics.observe(rt.Pattern, rt.Method, status, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}
