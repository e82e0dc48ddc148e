package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestPhaseFigures(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	p := Phase{OK: 100, Elapsed: 4 * time.Second, Latencies: lat, Errors: map[string]int{"Throttling": 3, "AccessDenied": 1},
		CPU: &Usage{Process: 100 * time.Millisecond, Database: 300 * time.Millisecond}}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := p.Percentile(c.q); got != c.want {
			t.Errorf("p%v = %v, want %v (nearest rank)", c.q*100, got, c.want)
		}
	}
	if p.Rate() != 25 || p.Failed() != 4 {
		t.Errorf("rate %v, failed %d", p.Rate(), p.Failed())
	}
	if u := p.CPUPerOp(); u.Process != time.Millisecond || u.Database != 3*time.Millisecond {
		t.Errorf("CPU per op %+v", u)
	}
	if (Phase{}).Percentile(0.99) != 0 || (Phase{}).Rate() != 0 || (Phase{}).CPUPerOp() != (Usage{}) {
		t.Error("an empty phase has figures")
	}
	ceiling := Phase{OK: 100, Elapsed: 2 * time.Second}
	if r := (Report{DBIAM: p, Ceiling: &ceiling}).Ratio(); r != 0.5 {
		t.Errorf("ratio %v, want 0.5", r)
	}
	if r := (Report{DBIAM: p}).Ratio(); r != 0 {
		t.Errorf("ratio without a ceiling %v", r)
	}
}

func TestReportNamesThrottling(t *testing.T) {
	ceiling := Phase{Name: "ceiling (direct DDL)", OK: 10, Elapsed: time.Second}
	r := Report{DBIAM: Phase{Name: "dbiam", OK: 5, Elapsed: time.Second, Errors: map[string]int{"Throttling": 2}}, Ceiling: &ceiling, Cleanup: "nothing"}
	var b strings.Builder
	PrintReport(&b, Config{}, r)
	out := b.String()
	for _, want := range []string{"ratio:                 50.0% of the ceiling", "errors 2: Throttling ×2", "2 requests were throttled", "cleanup: nothing"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestErrorKey(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}, "AccessDenied"},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "cancelled"},
		{errors.New(strings.Repeat("x", 100)), strings.Repeat("x", 80) + "…"},
	} {
		if got := errorKey(c.err); got != c.want {
			t.Errorf("errorKey(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Endpoint: "http://127.0.0.1:1", Region: "us-east-1", Principals: []Credentials{{AccessKeyID: "AKIA"}}, Cluster: "dev", DbUser: "bench"}
	if err := c.defaults(); err != nil {
		t.Fatal(err)
	}
	if c.Concurrency != 4 || c.Duration != 10*time.Second || c.DurationSeconds != 900 || c.SCRAMIterations != 1 {
		t.Errorf("defaults %+v", c)
	}
	for _, bad := range []Config{{}, {Endpoint: "x"}, {Endpoint: "x", Region: "r"}, {Endpoint: "x", Region: "r", Principals: []Credentials{{AccessKeyID: "A"}}}} {
		if err := bad.defaults(); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}
