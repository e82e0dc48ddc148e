package credcache

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Redacted is what a Credential prints instead of its password.
const Redacted = "[redacted]"

// Credential is a temporary database login.
//
// Formatting a Credential with any fmt verb, marshalling it to JSON or
// logging it with log/slog never shows the password; read the Password field
// to use it.
type Credential struct {
	User     string
	Password string
	// Expiration is when the database stops accepting the password. The zero
	// time means the credential does not expire.
	Expiration time.Time
}

// ValidAt reports whether the credential is complete and not expired at t.
func (c Credential) ValidAt(t time.Time) bool {
	return c.User != "" && c.Password != "" && (c.Expiration.IsZero() || t.Before(c.Expiration))
}

// String returns the credential with its password redacted.
func (c Credential) String() string {
	return fmt.Sprintf("{User:%s Password:%s Expiration:%s}", c.User, c.redacted(), c.expiration())
}

// GoString returns the credential as Go syntax, with its password redacted.
func (c Credential) GoString() string {
	return fmt.Sprintf("credcache.Credential{User:%q, Password:%q, Expiration:%s}", c.User, c.redacted(), c.expiration())
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s,
// %q …) redacts the password.
func (c Credential) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = fmt.Fprint(f, c.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", c.String())
	default:
		_, _ = fmt.Fprint(f, c.String())
	}
}

// MarshalJSON encodes the credential with its password redacted.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		User       string
		Password   string
		Expiration time.Time
	}{c.User, c.redacted(), c.Expiration})
}

// LogValue implements slog.LogValuer: the user and expiry, no password.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.User), slog.Time("expiration", c.Expiration))
}

func (c Credential) redacted() string {
	if c.Password == "" {
		return ""
	}
	return Redacted
}

func (c Credential) expiration() string {
	if c.Expiration.IsZero() {
		return "never"
	}
	return c.Expiration.UTC().Format(time.RFC3339)
}

// same reports whether two credentials are the same login.
func (c Credential) same(o Credential) bool {
	return c.User == o.User && c.Password == o.Password && c.Expiration.Equal(o.Expiration)
}

// Source fetches a new credential, typically by calling
// GetClusterCredentials. A cache calls Fetch from one goroutine at a time.
type Source interface {
	Fetch(ctx context.Context) (Credential, error)
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context) (Credential, error)

// Fetch calls f.
func (f SourceFunc) Fetch(ctx context.Context) (Credential, error) { return f(ctx) }

var _ Source = SourceFunc(nil)
