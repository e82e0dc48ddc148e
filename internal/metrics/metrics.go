package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds dbiam's collectors in a private registry. Create it with
// New; the zero value is not usable. All methods are safe for concurrent
// use.
type Metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec

	issued        *prometheus.CounterVec
	issueFailures *prometheus.CounterVec
	issueDuration *prometheus.HistogramVec
	batchLogins   prometheus.Histogram

	reaperOutcomes *prometheus.CounterVec
	reaperErrors   prometheus.Counter
	reaperDuration prometheus.Histogram
}

// latencyBuckets span a fast signed call (~1 ms) to a slow issuance under
// load (seconds).
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// New returns the collectors, registered with a new registry together with
// the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbiam_requests_total",
			Help: "AWS API requests served, by service, action and result (an AWS error code, or ok).",
		}, []string{"service", "action", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dbiam_request_duration_seconds",
			Help:    "Time to serve an AWS API request, from its arrival to its answer.",
			Buckets: latencyBuckets,
		}, []string{"service", "action"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbiam_credentials_issued_total",
			Help: "Temporary database credentials issued (login roles created), by cluster.",
		}, []string{"cluster"}),
		issueFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbiam_credential_issue_failures_total",
			Help: "Authorized credential requests the database did not complete, by cluster.",
		}, []string{"cluster"}),
		issueDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dbiam_credential_issue_duration_seconds",
			Help:    "Time to record a credential and create its login role, by cluster.",
			Buckets: latencyBuckets,
		}, []string{"cluster"}),
		batchLogins: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dbiam_engine_batch_logins",
			Help:    "Logins written per issuing transaction (concurrent requests share one).",
			Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16},
		}),
		reaperOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbiam_reaper_outcomes_total",
			Help: "What the reaper did: dropped, busy, failed, not_managed, group_grants_revoked, orphans_dropped, missing_roles, purged.",
		}, []string{"outcome"}),
		reaperErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dbiam_reaper_pass_errors_total",
			Help: "Reaper passes that ended with an error (see the log).",
		}),
		reaperDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dbiam_reaper_pass_duration_seconds",
			Help:    "Time of one reaper pass.",
			Buckets: latencyBuckets,
		}),
	}
	m.registry.MustRegister(m.requests, m.requestDuration, m.issued, m.issueFailures, m.issueDuration, m.batchLogins,
		m.reaperOutcomes, m.reaperErrors, m.reaperDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// maxScrapesInFlight bounds concurrent scrapes (more get 503).
const maxScrapesInFlight = 4

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry, MaxRequestsInFlight: maxScrapesInFlight})
}

// ObserveRequest records one API request (dispatch.Observer). code is ""
// for success.
func (m *Metrics) ObserveRequest(service, action, code string, elapsed time.Duration) {
	if code == "" {
		code = "ok"
	}
	m.requests.WithLabelValues(service, action, code).Inc()
	m.requestDuration.WithLabelValues(service, action).Observe(elapsed.Seconds())
}

// ObserveIssue records one credential issuance on cluster: its duration and
// whether the database completed it.
func (m *Metrics) ObserveIssue(cluster string, elapsed time.Duration, err error) {
	if err != nil {
		m.issueFailures.WithLabelValues(cluster).Inc()
		return
	}
	m.issued.WithLabelValues(cluster).Inc()
	m.issueDuration.WithLabelValues(cluster).Observe(elapsed.Seconds())
}

// ForgetCluster deletes the series of a deregistered cluster, so that
// registering and deregistering clusters does not grow the registry.
func (m *Metrics) ForgetCluster(cluster string) {
	for _, v := range []*prometheus.CounterVec{m.issued, m.issueFailures} {
		v.DeleteLabelValues(cluster)
	}
	m.issueDuration.DeleteLabelValues(cluster)
}

// ObserveBatch records the number of logins one issuing transaction wrote.
func (m *Metrics) ObserveBatch(logins int) { m.batchLogins.Observe(float64(logins)) }

// ReaperOutcomes are the counts of one reaper pass, by outcome name.
type ReaperOutcomes map[string]int

// ObserveReaperPass records one reaper pass.
func (m *Metrics) ObserveReaperPass(outcomes ReaperOutcomes, elapsed time.Duration, err error) {
	for name, n := range outcomes {
		if n > 0 {
			m.reaperOutcomes.WithLabelValues(name).Add(float64(n))
		}
	}
	if err != nil {
		m.reaperErrors.Inc()
	}
	m.reaperDuration.Observe(elapsed.Seconds())
}

// CountCredentials returns the number of credentials not dropped whose
// login is still valid (live) and whose login has expired but is not yet
// removed (expired).
type CountCredentials func(ctx context.Context) (live, expired int, err error)

// WatchCredentials adds the gauges dbiam_credentials_live and
// dbiam_credentials_expired_pending, read through count (bounded by
// scrapeTimeout) at most every countEvery, whatever the scrape rate. They
// come from the shared store: every replica reports the same values. A
// failed read leaves them out of that scrape.
func (m *Metrics) WatchCredentials(count CountCredentials, now func() time.Time) {
	m.registry.MustRegister(&credentialsCollector{
		count: count,
		now:   now,
		live: prometheus.NewDesc("dbiam_credentials_live",
			"Credentials whose login is valid now (from the store; the same on every replica).", nil, nil),
		expired: prometheus.NewDesc("dbiam_credentials_expired_pending",
			"Expired credentials whose login the reaper has not removed yet: due, busy (sessions still use it) or failing.", nil, nil),
	})
}

// scrapeTimeout bounds the store read of one scrape; countEvery is how
// long its result serves later scrapes.
const (
	scrapeTimeout = 5 * time.Second
	countEvery    = 10 * time.Second
)

type credentialsCollector struct {
	count         CountCredentials
	now           func() time.Time
	live, expired *prometheus.Desc

	mu            sync.Mutex
	at            time.Time // of the last successful read
	nLive, nExpir int
}

func (c *credentialsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.live
	ch <- c.expired
}

func (c *credentialsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.at.IsZero() || now.Sub(c.at) >= countEvery || now.Before(c.at) {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		live, expired, err := c.count(ctx)
		cancel()
		if err != nil {
			return
		}
		c.at, c.nLive, c.nExpir = now, live, expired
	}
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, float64(c.nLive))
	ch <- prometheus.MustNewConstMetric(c.expired, prometheus.GaugeValue, float64(c.nExpir))
}
