package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/app"
	"github.com/dbiam/dbiam/internal/localpg"
)

// requireLocalPostgres skips the test when this machine cannot run
// PostgreSQL (it fails instead when CI=true), as pgtest does.
func requireLocalPostgres(t *testing.T) {
	t.Helper()
	reason := ""
	if localpg.FindBinDir() == "" {
		reason = app.ErrNoPostgres.Error()
	} else if err := localpg.CheckOSUser(); err != nil {
		reason = err.Error()
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no PostgreSQL: %s (CI=true, so this fails instead of skipping)", reason)
	}
	t.Skipf("no PostgreSQL, skipping: %s", reason)
}

func TestDemo(t *testing.T) {
	requireLocalPostgres(t)
	out, err := run(t, "demo", "--exit")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\$ aws iam create-user --user-name alice\n   → arn:aws:iam::\d{12}:user/alice`),
		regexp.MustCompile(`\$ aws redshift get-cluster-credentials --cluster-identifier dev --db-user alice --db-name dev --auto-create\n   → DbUser IAMA:alice:\w+, DbPassword \(43 characters, not shown\)`),
		regexp.MustCompile(`→ session_user = IAMA:alice:\w+, current_user = alice\n`),
		regexp.MustCompile(`--db-user bob --db-name dev\n   → AccessDenied: User: arn:aws:iam::\d{12}:user/alice is not authorized to perform: redshift:GetClusterCredentials on resource: arn:aws:redshift:[a-z0-9-]+:\d{12}:dbuser:dev/bob`),
		regexp.MustCompile(`→ arn:aws:iam::\d{12}:saml-provider/DevIdP\n`),
		regexp.MustCompile(`attribute DbUser = carol\n`),
		regexp.MustCompile(`→ arn:aws:sts::\d{12}:assumed-role/RedshiftSSO/carol@example.com, AccessKeyId ASIA\w+`),
		regexp.MustCompile(`\$ aws sts get-caller-identity\n   → UserId AROA\w+:carol@example.com, Arn arn:aws:sts::\d{12}:assumed-role/RedshiftSSO/carol@example.com`),
		regexp.MustCompile(`→ session_user = IAMA:carol:\w+, current_user = carol\n`),
		regexp.MustCompile(`→ AccessDenied: User: arn:aws:sts::\d{12}:assumed-role/RedshiftSSO/carol@example.com is not authorized`),
		regexp.MustCompile(`\nDone\.`),
	} {
		if !want.MatchString(out) {
			t.Errorf("transcript lacks %s", want)
		}
	}
	if strings.Contains(out, "AWS_SECRET_ACCESS_KEY") || strings.Contains(out, "✗") {
		t.Errorf("with --exit the transcript shows secrets or a failed step")
	}
	if t.Failed() {
		t.Logf("transcript:\n%s", out)
	}
	// Everything was removed.
	if m := regexp.MustCompile(`removing (\S+)\.\)`).FindStringSubmatch(out); m == nil {
		t.Error("the transcript does not name its data dir")
	} else if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("data dir %s still exists: %v", m[1], err)
	}
}
