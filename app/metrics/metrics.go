// Package metrics holds IKRA's Prometheus collectors: one registry per App (no package
// globals), served on a listener of its own (IKRA_METRICS_ADDR). Every method is safe on
// a nil *Metrics and then does nothing, so a package handed no metrics needs no checks.
//
// The series (README, "Metrics" lists them with what to alert on):
//
//	ikra_http_requests_total{route,method,status}
//	ikra_http_request_duration_seconds{route,method}
//	ikra_jobs_total{type,result}
//	ikra_job_duration_seconds{type}
//	ikra_ledger_operations_total{kind,result}
//	ikra_notifications_delivered_total{channel,result}
//	ikra_telegram_api_errors_total{method,code}
//	ikra_db_open_connections, ikra_db_in_use_connections, ikra_db_idle_connections,
//	ikra_db_max_open_connections, ikra_db_wait_count_total, ikra_db_wait_seconds_total
//	ikra_queue_tasks{state}
//
// plus Go's runtime (go_*) and the process's (process_*) collectors.
package metrics

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Unmatched is the route label of a request that matched no route.
const Unmatched = "unmatched"

// Metrics is the registry and the collectors the application writes to.
type Metrics struct {
	Registry *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	jobs          *prometheus.CounterVec
	jobDuration   *prometheus.HistogramVec
	ledger        *prometheus.CounterVec
	notifications *prometheus.CounterVec
	telegram      *prometheus.CounterVec
}

// New returns a registry with every collector registered, Go's runtime and the
// process's included.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ikra_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and the status sent.",
	}, []string{"route", "method", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ikra_http_request_duration_seconds",
		Help:    "Time from a request's arrival to its answer, by route pattern and method.",
		Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ikra_jobs_total",
		Help: "Job runs by task type and result: ok, retry (failed, will run again), failed (no retry left), postponed (waits for a limit).",
	}, []string{"type", "result"})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ikra_job_duration_seconds",
		Help:    "Time one job run took, by task type.",
		Buckets: []float64{.005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"type"})
	m.ledger = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ikra_ledger_operations_total",
		Help: "Ledger operations by entry kind and result: ok (committed), refused (insufficient bonuses, settled, conflict, invalid, not found), rolled_back (done, but the caller's transaction did not commit), error.",
	}, []string{"kind", "result"})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ikra_notifications_delivered_total",
		Help: "Notification delivery attempts by channel and result: sent, failed (will retry), rejected (permanent), unreachable, in_doubt, deferred.",
	}, []string{"channel", "result"})
	m.telegram = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ikra_telegram_api_errors_total",
		Help: "Bot API calls that failed, by method and HTTP status (network: no answer).",
	}, []string{"method", "code"})
	m.Registry.MustRegister(m.httpRequests, m.httpDuration, m.jobs, m.jobDuration, m.ledger, m.notifications, m.telegram,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Serve serves the metrics on addr (GET /metrics) until ctx ends.
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Route is one route's series with its labels resolved once: a request only finds the
// counter of its status among the few its route has answered. The series appear at a
// route's first request, so routes nobody calls add nothing to a scrape.
type Route struct {
	m             *Metrics
	route, method string
	once          sync.Once
	duration      prometheus.Observer
	mu            sync.Mutex
	statuses      atomic.Pointer[[]statusCounter]
}

type statusCounter struct {
	code int
	c    prometheus.Counter
}

// Route returns the series of the route pattern for method; nil on nil Metrics.
func (m *Metrics) Route(method, pattern string) *Route {
	if m == nil {
		return nil
	}
	r := &Route{m: m, route: pattern, method: method}
	r.statuses.Store(&[]statusCounter{})
	return r
}

// Observe counts one answer with status that took d.
func (r *Route) Observe(status int, d time.Duration) {
	if r == nil {
		return
	}
	r.once.Do(func() { r.duration = r.m.httpDuration.WithLabelValues(r.route, r.method) })
	r.duration.Observe(d.Seconds())
	r.counter(status).Inc()
}

func (r *Route) counter(status int) prometheus.Counter {
	for _, s := range *r.statuses.Load() {
		if s.code == status {
			return s.c
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := *r.statuses.Load()
	for _, s := range cur {
		if s.code == status {
			return s.c
		}
	}
	c := r.m.httpRequests.WithLabelValues(r.route, r.method, strconv.Itoa(status))
	next := append(append(make([]statusCounter, 0, len(cur)+1), cur...), statusCounter{status, c})
	r.statuses.Store(&next)
	return c
}

// Job counts one job run of type typ with result, which took d.
func (m *Metrics) Job(typ, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(typ, result).Inc()
	m.jobDuration.WithLabelValues(typ).Observe(d.Seconds())
}

// LedgerOp counts one ledger operation of kind with result.
func (m *Metrics) LedgerOp(kind, result string) {
	if m == nil {
		return
	}
	m.ledger.WithLabelValues(kind, result).Inc()
}

// Notification counts one delivery outcome of a notification on channel.
func (m *Metrics) Notification(channel, result string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(channel, result).Inc()
}

// TelegramError counts one failed Bot API call; code 0 means no answer came.
func (m *Metrics) TelegramError(method string, code int) {
	if m == nil {
		return
	}
	c := "network"
	if code > 0 {
		c = strconv.Itoa(code)
	}
	m.telegram.WithLabelValues(method, c).Inc()
}

// WatchDB adds the connection pool of db: ikra_db_* gauges and counters read from
// db.Stats() at each scrape.
func (m *Metrics) WatchDB(db *sql.DB) {
	if m == nil || db == nil {
		return
	}
	m.Registry.MustRegister(dbCollector{db: db})
}

// WatchQueue adds ikra_queue_tasks{state}: size reports the job queue's tasks by state
// (pending, active, scheduled, retry, archived) at each scrape.
func (m *Metrics) WatchQueue(size func(ctx context.Context) (map[string]int, error)) {
	if m == nil || size == nil {
		return
	}
	m.Registry.MustRegister(queueCollector{size: size})
}

var (
	dbOpen    = prometheus.NewDesc("ikra_db_open_connections", "Connections open to the database, in use or idle.", nil, nil)
	dbInUse   = prometheus.NewDesc("ikra_db_in_use_connections", "Connections in use.", nil, nil)
	dbIdle    = prometheus.NewDesc("ikra_db_idle_connections", "Idle connections.", nil, nil)
	dbMax     = prometheus.NewDesc("ikra_db_max_open_connections", "The pool's limit of open connections.", nil, nil)
	dbWaits   = prometheus.NewDesc("ikra_db_wait_count_total", "Times a query waited for a free connection.", nil, nil)
	dbWaited  = prometheus.NewDesc("ikra_db_wait_seconds_total", "Time spent waiting for a free connection.", nil, nil)
	queueDesc = prometheus.NewDesc("ikra_queue_tasks", "Tasks in this platform's job queue by state (the same for every node).", []string{"state"}, nil)
)

type dbCollector struct{ db *sql.DB }

func (c dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbOpen, dbInUse, dbIdle, dbMax, dbWaits, dbWaited} {
		ch <- d
	}
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Stats()
	ch <- prometheus.MustNewConstMetric(dbOpen, prometheus.GaugeValue, float64(s.OpenConnections))
	ch <- prometheus.MustNewConstMetric(dbInUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(dbIdle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(dbMax, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(dbWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(dbWaited, prometheus.CounterValue, s.WaitDuration.Seconds())
}

type queueCollector struct {
	size func(ctx context.Context) (map[string]int, error)
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

// Collect reports nothing when the queue does not answer within a second: a scrape
// must not hang on Redis, and a missing series is what an alert should see.
func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sizes, err := c.size(ctx)
	if err != nil {
		return
	}
	for state, n := range sizes {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), state)
	}
}

// LedgerCounter is the counter of ledger operations of kind with result (tests).
func (m *Metrics) LedgerCounter(kind, result string) prometheus.Counter {
	return m.ledger.WithLabelValues(kind, result)
}

// JobCounter is the counter of job runs of typ with result (tests).
func (m *Metrics) JobCounter(typ, result string) prometheus.Counter {
	return m.jobs.WithLabelValues(typ, result)
}
