package devidp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/secret"
)

const (
	testAccount     = "123456789012"
	testProviderARN = "arn:aws:iam::123456789012:saml-provider/DevIdP"
	testRoleARN     = "arn:aws:iam::123456789012:role/RedshiftSSO"
	testBaseURL     = "http://127.0.0.1:8440"
	alicePassword   = "alice-Passw0rd-not-in-logs"
	bobPassword     = "bob-Passw0rd-not-in-logs"
)

func ptr[T any](v T) *T { return &v }

// testUsers are alice with every attribute and bob with an explicit pair
// and a role ARN.
func testUsers() []devidp.User {
	return []devidp.User{
		{
			Username: "alice", Password: secret.String(alicePassword),
			Roles:  []string{"RedshiftSSO", "team/Admin"},
			DBUser: "alice", DBGroups: []string{"analysts", "readers"}, AutoCreate: ptr(true),
			SessionDuration: devidp.Duration(time.Hour),
			PrincipalTags:   map[string]string{"team": "data", "cost-center": "42"},
			SourceIdentity:  "alice@example.com",
		},
		{
			Username: "bob", Password: secret.String(bobPassword), SessionName: "bob.builder",
			Roles: []string{
				"arn:aws:iam::123456789012:saml-provider/Other,arn:aws:iam::123456789012:role/Builder",
				"arn:aws:iam::123456789012:role/RedshiftSSO",
			},
		},
	}
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	idp  *devidp.IdP
	dir  string
	logs *logBuffer
	now  time.Time
}

func newIdP(t *testing.T, mod ...func(*devidp.Config)) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), logs: &logBuffer{}, now: time.Now().UTC().Truncate(time.Second)}
	cfg := devidp.Config{
		BaseURL:   testBaseURL,
		Users:     testUsers(),
		DataDir:   f.dir,
		AccountID: testAccount,
		Now:       func() time.Time { return f.now },
		Logger:    slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mod {
		m(&cfg)
	}
	idp, err := devidp.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.idp = idp
	t.Cleanup(func() {
		for _, s := range []string{alicePassword, bobPassword} {
			if bytes.Contains([]byte(f.logs.String()), []byte(s)) {
				t.Errorf("a password reached the log")
			}
		}
	})
	return f
}

// memReplay is an in-memory saml.ReplayRecorder that counts its calls.
type memReplay struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	calls int
}

func (m *memReplay) RecordOnce(_ context.Context, ns, id string, exp, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	k := ns + "\x00" + id
	if e, ok := m.seen[k]; ok && now.Before(e) {
		return false, nil
	}
	m.seen[k] = exp
	return true, nil
}

var _ saml.ReplayRecorder = (*memReplay)(nil)

// validator returns dbiam's STS validator at now and the provider
// registered from the IdP's metadata.
func (f *fixture) validator(t *testing.T, now time.Time) (*saml.Validator, *saml.Provider, *memReplay) {
	t.Helper()
	p, err := saml.ParseMetadata(f.idp.Metadata())
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	p.ARN, p.Name = testProviderARN, "DevIdP"
	rep := &memReplay{}
	v, err := saml.NewValidator(saml.Config{Now: func() time.Time { return now }, Replay: rep})
	if err != nil {
		t.Fatal(err)
	}
	return v, p, rep
}

// validate checks resp with dbiam's validator at f.now.
func (f *fixture) validate(t *testing.T, resp string) *saml.Assertion {
	t.Helper()
	v, p, _ := f.validator(t, f.now)
	a, err := v.Validate(t.Context(), resp, p)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return a
}

func decode(t *testing.T, b64 string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
