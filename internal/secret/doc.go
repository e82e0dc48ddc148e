// Package secret holds in-memory secrets (secret access keys, passwords,
// database URLs with credentials, master key text) in a type that refuses to
// print itself.
//
// A String formats as "[redacted]" through fmt (every verb, including %#v),
// encoding/json, encoding.TextMarshaler, YAML marshalling and log/slog. The
// only way to read the value is Reveal, so every place that handles the
// plaintext is easy to find with grep.
//
// This package must never print, log or return a secret's value anywhere
// except from Reveal. It does no I/O.
//
// Two limits come from the standard library, not from this package:
//   - fmt cannot call methods on unexported struct fields, so
//     fmt.Sprintf("%v", v) on a struct that keeps a String in an unexported
//     field prints the raw value (slog's text handler formats structs that
//     way too). Keep secrets in exported fields, or never format the
//     enclosing struct.
//   - encoding/json writes string-kinded map keys verbatim. Never use a
//     String as a map key.
package secret
