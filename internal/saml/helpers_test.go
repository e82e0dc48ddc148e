package saml_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

// testNow is the fixed clock every test validates at.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const testEntityID = "https://idp.example.com/saml/metadata"

// memReplay is an in-memory ReplayRecorder with store.ReplayStore semantics
// (a record is live while now < expiresAt). It counts calls.
type memReplay struct {
	mu    sync.Mutex
	m     map[string]time.Time
	calls int
	err   error
}

func newMemReplay() *memReplay { return &memReplay{m: map[string]time.Time{}} }

func (r *memReplay) RecordOnce(_ context.Context, namespace, id string, expiresAt, now time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return false, r.err
	}
	k := namespace + "\x00" + id
	if exp, ok := r.m[k]; ok && now.Before(exp) {
		return false, nil
	}
	r.m[k] = expiresAt
	return true, nil
}

var _ saml.ReplayRecorder = (*memReplay)(nil)

// alwaysNew accepts every ID (benchmarks and fuzzing re-use one response).
type alwaysNew struct{}

func (alwaysNew) RecordOnce(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return true, nil
}

// env is one test setup: an IdP, its registered provider and a validator.
type env struct {
	idp    *samltest.IdP
	p      *saml.Provider
	v      *saml.Validator
	replay *memReplay
	now    time.Time
	ids    []string // every Assertion/Response ID handed out by opts
}

func newEnv(t testing.TB, opts ...samltest.Option) *env {
	t.Helper()
	idp := samltest.New(t, testEntityID, opts...)
	e := &env{idp: idp, p: provider(t, idp.Metadata()), replay: newMemReplay(), now: testNow}
	e.v = e.validator(t, saml.Config{})
	return e
}

// validator builds a validator with cfg, filling the env's clock and replay
// recorder unless cfg sets them.
func (e *env) validator(t testing.TB, cfg saml.Config) *saml.Validator {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return e.now }
	}
	if cfg.Replay == nil {
		cfg.Replay = e.replay
	}
	v, err := saml.NewValidator(cfg)
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

func provider(t testing.TB, metadata []byte) *saml.Provider {
	t.Helper()
	p, err := saml.ParseMetadata(metadata)
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	p.ARN = samltest.DefaultProviderARN
	p.Name = samltest.ProviderName
	return p
}

// opts returns default response options at the env's clock.
func (e *env) opts() samltest.ResponseOptions {
	o := samltest.ResponseOptions{Now: e.now, ID: samltest.RandomID(), ResponseID: samltest.RandomID()}
	e.ids = append(e.ids, o.ID, o.ResponseID)
	return o
}

// wantErr is the package wantErr that also checks that no ID from this env's
// responses appears in the error.
func (e *env) wantErr(t testing.TB, err error, code, msg string) *saml.Error {
	t.Helper()
	return wantErr(t, err, code, msg, e.ids...)
}

func (e *env) validate(t testing.TB, b64 string) (*saml.Assertion, error) {
	t.Helper()
	return e.v.Validate(t.Context(), b64, e.p)
}

func (e *env) mustAccept(t testing.TB, b64 string) *saml.Assertion {
	t.Helper()
	a, err := e.validate(t, b64)
	if err != nil {
		t.Fatalf("Validate rejected a valid response: %v", err)
	}
	return a
}

// secrets are values from the fixtures that must never appear in an error.
var secrets = []string{
	samltest.DefaultNameID, samltest.EvilNameID, "bob@example.com",
	"<saml", "<samlp", "<ds:", "PHNhbWxw", // base64 of "<samlp"
}

// wantErr asserts that err is a *saml.Error with code (and message, if not
// empty) and that its text leaks nothing from the response.
func wantErr(t testing.TB, err error, code, msg string, extraSecrets ...string) *saml.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("Validate accepted the response, want %s %q", code, msg)
	}
	var se *saml.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not a *saml.Error", err, err)
	}
	if se.Code != code || (msg != "" && se.Message != msg) {
		t.Fatalf("error = %s %q (%v), want %s %q", se.Code, se.Message, se.Detail, code, msg)
	}
	if se.AWSErrorCode() != code || se.AWSErrorMessage() != se.Message {
		t.Fatalf("AWSErrorCode/AWSErrorMessage disagree with Code/Message")
	}
	text := err.Error()
	for _, s := range append(append([]string{}, secrets...), extraSecrets...) {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("error text %q contains response content %q", text, s)
		}
	}
	return se
}
