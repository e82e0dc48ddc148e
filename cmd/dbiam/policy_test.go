package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand(func(string) string { return "" })
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

const example = "../../examples/policies/redshift-getclustercredentials.json"

func TestPolicySimulate(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"allowed", []string{"--action", "redshift:GetClusterCredentials", "--resource", "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice",
			"--context", "aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com", "--context", "redshift:DbUser=alice"},
			[]string{"Decision: allowed", "GetClusterCredsStatement"}},
		{"another session", []string{"--action", "redshift:GetClusterCredentials", "--resource", "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice",
			"--context", "aws:userid=AIDIODR4TAW7CSEXAMPLE:bob@yourdomain.com", "--context", "redshift:DbUser=alice", "--trace"},
			[]string{"Decision: implicitDeny", "Statements:", "condition"}},
		{"missing keys", []string{"--action", "redshift:GetClusterCredentials", "--resource", "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice"},
			[]string{"Decision: implicitDeny", "Missing context keys:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, append([]string{"policy", "simulate", "--policy", example}, tt.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	out, err := run(t, "policy", "check", example)
	if err != nil || !strings.Contains(out, "ok") {
		t.Errorf("clean example: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "policy", "check", bad)
	if err != nil || !strings.Contains(out, "full administrator access") {
		t.Errorf("warning: %v\n%s", err, out)
	}
	if _, err := run(t, "policy", "check", "--strict", bad); err == nil {
		t.Error("--strict should fail on a warning")
	}
	if err := os.WriteFile(bad, []byte(`{"Version":"2012-10-17","Statement":{"effect":"Allow"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "policy", "check", bad); err == nil || !strings.Contains(out, "error:") {
		t.Errorf("parse error: %v\n%s", err, out)
	}
}
