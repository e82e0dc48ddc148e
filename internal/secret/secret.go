package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what every formatting of a String prints.
const Redacted = "[redacted]"

// String is a secret held in memory. Its zero value is the empty secret.
// Convert with secret.String(s); read with Reveal.
type String string

// Reveal returns the plaintext. Call it only where the value is used
// (signing, hashing, connecting), never to print it.
func (s String) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s == "" }

// String implements fmt.Stringer.
func (String) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v).
func (String) GoString() string { return Redacted }

// Format implements fmt.Formatter so that no verb (%x, %d, %q, ...)
// reaches the underlying string.
func (String) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", Redacted)
		return
	}
	fmt.Fprint(f, Redacted)
}

// MarshalJSON implements json.Marshaler.
func (String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used for map keys and by
// encoders that prefer text).
func (String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalYAML implements the YAML marshaler interface of go.yaml.in/yaml
// (and gopkg.in/yaml) without importing it.
func (String) MarshalYAML() (any, error) { return Redacted, nil }

// LogValue implements slog.LogValuer.
func (String) LogValue() slog.Value { return slog.StringValue(Redacted) }

var (
	_ fmt.Stringer   = String("")
	_ fmt.GoStringer = String("")
	_ fmt.Formatter  = String("")
	_ slog.LogValuer = String("")
)
