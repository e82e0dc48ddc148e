package query

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// AWS error codes carried by *Error.
const (
	// CodeMalformedQueryString: the request could not be parsed as a
	// form-encoded parameter list (bad percent-encoding, a duplicate key,
	// invalid UTF-8, an empty key, too many parameters). AWS answers it with
	// HTTP 404.
	CodeMalformedQueryString = "MalformedQueryString"
	// CodeMissingParameter: a required parameter is absent or empty.
	CodeMissingParameter = "MissingParameter"
	// CodeInvalidParameterValue: a parameter is present but its value (or the
	// shape of a list or map) is not acceptable.
	CodeInvalidParameterValue = "InvalidParameterValue"
	// CodeInvalidQueryParameter: a parameter the operation does not know.
	CodeInvalidQueryParameter = "InvalidQueryParameter"
)

// maxEcho bounds how many bytes of a request-supplied name or value an error
// message quotes.
const maxEcho = 64

// Error is a request decoding or parsing failure with its AWS error code.
// Message is safe to send to the client: it quotes at most a clipped,
// control-character-free excerpt of the request and never the value of a
// string parameter.
type Error struct {
	Code    string // one of the Code* constants
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// AWSErrorCode returns the AWS error code (awserr.Coder).
func (e *Error) AWSErrorCode() string { return e.Code }

// AWSErrorMessage returns the client-visible message (awserr.Coder).
func (e *Error) AWSErrorMessage() string { return e.Message }

func errorf(code string, parts ...string) *Error {
	return &Error{Code: code, Message: strings.Join(parts, "")}
}

// clip makes request-derived text safe to quote: at most maxEcho bytes, cut
// on a rune boundary, with invalid UTF-8 and non-printable runes replaced by
// '?'. A cut is marked with "...".
func clip(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i >= maxEcho {
			b.WriteString("...")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		n := utf8.RuneLen(r)
		if i+n > maxEcho {
			b.WriteString("...")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
