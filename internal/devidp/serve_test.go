package devidp_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/devidp"
)

func TestListenLoopbackOnly(t *testing.T) {
	for _, tt := range []struct {
		addr     string
		insecure bool
		ok       bool
	}{
		{"127.0.0.1:0", false, true},
		{"localhost:0", false, true},
		{"[::1]:0", false, true},
		{"0.0.0.0:0", false, false},
		{":0", false, false},
		{"192.0.2.1:0", false, false},
		{"example.com:0", false, false},
		{"0.0.0.0:0", true, true},
		{"no-port", false, false},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			ln, err := devidp.Listen(tt.addr, tt.insecure)
			if ln != nil {
				ln.Close()
			}
			if tt.addr == "[::1]:0" && err != nil && !strings.Contains(err.Error(), "refusing") {
				t.Skipf("no IPv6 loopback: %v", err)
			}
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && tt.addr != "no-port" && !strings.Contains(err.Error(), "--insecure") {
				t.Errorf("the refusal does not say how to override: %v", err)
			}
		})
	}
}

// Run prints the banner, writes the metadata file, serves, and stops
// cleanly when its context ends.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(users, []byte("- {username: alice, password: run-test-password-xyz, roles: [RedshiftSSO]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	out := &logBuffer{}
	logs := &logBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- devidp.Run(ctx, devidp.Config{Listen: "127.0.0.1:0", UsersFile: users, DataDir: filepath.Join(dir, "idp"),
			Logger: slog.New(slog.NewTextHandler(logs, nil))}, out)
	}()
	urlRe := regexp.MustCompile(`Metadata:  (http://127\.0\.0\.1:[0-9]+)/metadata`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no banner; err %v\n%s", <-done, out.String())
	}
	banner := out.String()
	metaPath := filepath.Join(dir, "idp", devidp.MetadataFile)
	for _, want := range []string{
		"aws iam create-saml-provider --name DevIdP --saml-metadata-document file://" + metaPath,
		"Sign in:   " + base + "/login",
		base + "/api/saml-response",
		"entity ID " + base + "/metadata",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	_, body := get(t, base+"/metadata")
	file, err := os.ReadFile(metaPath)
	if err != nil || string(file) != body {
		t.Errorf("metadata file (%v) differs from GET /metadata", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "idp")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode: %v %v", fi.Mode(), err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if strings.Contains(logs.String()+banner, "run-test-password-xyz") {
		t.Error("the password reached the log or the banner")
	}
}
