package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestObservations(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("sts", "GetCallerIdentity", "", 3*time.Millisecond)
	m.ObserveRequest("sts", "GetCallerIdentity", "AccessDenied", time.Millisecond)
	m.ObserveIssue("dev", 20*time.Millisecond, nil)
	m.ObserveIssue("dev", 5*time.Millisecond, errors.New("cluster down"))
	m.ObserveBatch(3)
	m.ObserveReaperPass(metrics.ReaperOutcomes{"dropped": 2, "busy": 0}, time.Second, errors.New("store down"))
	text := scrape(t, m)
	for _, want := range []string{
		`dbiam_requests_total{action="GetCallerIdentity",code="ok",service="sts"} 1`,
		`dbiam_requests_total{action="GetCallerIdentity",code="AccessDenied",service="sts"} 1`,
		`dbiam_request_duration_seconds_count{action="GetCallerIdentity",service="sts"} 2`,
		`dbiam_credentials_issued_total{cluster="dev"} 1`,
		`dbiam_credential_issue_failures_total{cluster="dev"} 1`,
		`dbiam_credential_issue_duration_seconds_count{cluster="dev"} 1`,
		`dbiam_engine_batch_logins_sum 3`,
		`dbiam_reaper_outcomes_total{outcome="dropped"} 2`,
		`dbiam_reaper_pass_errors_total 1`,
		`dbiam_reaper_pass_duration_seconds_count 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	m.ForgetCluster("dev")
	if text := scrape(t, m); strings.Contains(text, `cluster="dev"`) {
		t.Error("a forgotten cluster still has series")
	}
	if strings.Contains(text, `outcome="busy"`) {
		t.Error("a zero outcome created a series")
	}
	if strings.Contains(text, "cluster down") || strings.Contains(text, "store down") {
		t.Error("an error text reached the metrics")
	}
}

func TestWatchCredentials(t *testing.T) {
	m := metrics.New()
	fail, reads := false, 0
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	m.WatchCredentials(func(context.Context) (int, int, error) {
		reads++
		if fail {
			return 0, 0, errors.New("store down")
		}
		return 7 + reads, 2, nil
	}, func() time.Time { return now })
	text := scrape(t, m)
	if !strings.Contains(text, "dbiam_credentials_live 8") || !strings.Contains(text, "dbiam_credentials_expired_pending 2") {
		t.Errorf("gauges missing:\n%s", text)
	}
	// Scrapes within 10 s reuse the read.
	now = now.Add(9 * time.Second)
	if text := scrape(t, m); !strings.Contains(text, "dbiam_credentials_live 8") || reads != 1 {
		t.Errorf("a scrape 9 s later read the store again (%d reads)", reads)
	}
	now = now.Add(2 * time.Second)
	if text := scrape(t, m); !strings.Contains(text, "dbiam_credentials_live 9") {
		t.Errorf("a scrape 11 s later did not read the store again")
	}
	fail = true
	now = now.Add(time.Minute)
	if text := scrape(t, m); strings.Contains(text, "dbiam_credentials_live") || strings.Contains(text, "store down") {
		t.Error("a failed read still reported the gauges, or its error")
	}
}

// Two servers in one process (tests, replicas in one binary) keep separate
// registries.
func TestRegistriesAreSeparate(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.ObserveBatch(1)
	if strings.Contains(scrape(t, b), "dbiam_engine_batch_logins_count 1") {
		t.Error("registries are shared")
	}
}
