package main

import (
	"regexp"
	"runtime"
	"strconv"
	"testing"
)

func TestBenchCredsSelf(t *testing.T) {
	requireLocalPostgres(t)
	out, err := run(t, "bench", "creds", "--self", "--count", "20", "--principals", "2")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^dbiam: +[0-9.]+ creds/s +\(20 in [0-9.]+s\) +latency p50 [0-9.]+ms +p90 [0-9.]+ms +p99 [0-9.]+ms +max [0-9.]+ms$`),
		regexp.MustCompile(`(?m)^ceiling \(direct DDL\): +[0-9.]+ logins/s +\(20 in [0-9.]+s\) +latency p50 [0-9.]+ms`),
		regexp.MustCompile(`(?m)^ratio: +[0-9.]+% of the ceiling$`),
		regexp.MustCompile(`(?m)^cleanup: dropped the \d+ logins dbiam issued to the bench .*; dropped the 20 roles of the ceiling`),
	} {
		if !want.MatchString(out) {
			t.Errorf("output lacks %s", want)
		}
	}
	if runtime.GOOS == "linux" {
		if !regexp.MustCompile(`(?m)^CPU per login: +dbiam [0-9.]+ms \(this process [0-9.]+ms \+ PostgreSQL [0-9.]+ms\), ceiling`).MatchString(out) {
			t.Error("output lacks the CPU per login")
		}
	}
	// Every login dbiam issued (20 and the warm-up's) was dropped.
	if m := regexp.MustCompile(`dropped the (\d+) logins dbiam issued`).FindStringSubmatch(out); m != nil {
		if n, _ := strconv.Atoi(m[1]); n < 20 {
			t.Errorf("dropped %d of dbiam's logins, want at least 20", n)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestBenchCredsNeedsCredentials(t *testing.T) {
	_, err := run(t, "bench", "creds", "--endpoint", "http://127.0.0.1:1", "--region", "us-east-1")
	if err == nil || !regexp.MustCompile(`no credentials`).MatchString(err.Error()) {
		t.Errorf("without credentials: %v", err)
	}
}
