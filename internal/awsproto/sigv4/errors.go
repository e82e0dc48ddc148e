package sigv4

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// ErrUnknownAccessKey is what a CredentialLookup wraps when the access key id
// does not exist. Verify turns it into InvalidClientTokenId.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key")

// ErrorCode is the AWS error code of a verification failure.
type ErrorCode string

// The AWS error codes Verify returns. The comments give the HTTP status AWS
// answers with; ErrorCode.HTTPStatus returns it.
const (
	IncompleteSignature        ErrorCode = "IncompleteSignature"        // HTTP 400
	SignatureDoesNotMatch      ErrorCode = "SignatureDoesNotMatch"      // 403
	RequestExpired             ErrorCode = "RequestExpired"             // 400
	InvalidClientTokenID       ErrorCode = "InvalidClientTokenId"       // 403
	MissingAuthenticationToken ErrorCode = "MissingAuthenticationToken" // 403
)

// HTTPStatus returns the HTTP status AWS sends with the code.
func (c ErrorCode) HTTPStatus() int {
	switch c {
	case SignatureDoesNotMatch, InvalidClientTokenID, MissingAuthenticationToken:
		return http.StatusForbidden
	default:
		return http.StatusBadRequest
	}
}

// Error is a verification failure with its AWS error code. Message is the
// text the client may see; it never contains a secret access key, a session
// token or the signature the server computed.
type Error struct {
	Code    ErrorCode
	Message string
}

// Error implements error.
func (e *Error) Error() string { return "sigv4: " + string(e.Code) + ": " + e.Message }

// AWSErrorCode returns the AWS error code, e.g. "SignatureDoesNotMatch".
func (e *Error) AWSErrorCode() string { return string(e.Code) }

// AWSErrorMessage returns the message for the client.
func (e *Error) AWSErrorMessage() string { return e.Message }

// AWS's own wording, reproduced so that clients and tools that match on it
// keep working.
const (
	msgSignatureDoesNotMatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidClientTokenID = "The security token included in the request is invalid."
	msgMissingAuth          = "Request is missing Authentication Token"
	msgOnlyOneMechanism     = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, " +
		"Signature query string parameter or the Authorization header should be specified"
	msgInvalidRegion   = "Credential should be scoped to a valid region. "
	msgMissingQueryArg = "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', " +
		"'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the query-string parameters."
	msgRequestHasExpired = "Request has expired"
	msgSigV2             = "Signature Version 2 is not supported; sign requests with AWS Signature Version 4 (AWS4-HMAC-SHA256)."
	msgSigV4A            = "Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not supported; sign requests with AWS4-HMAC-SHA256."
	msgNotSigV4          = "Unsupported authorization type; sign requests with AWS Signature Version 4 (AWS4-HMAC-SHA256)."
	msgPayloadHash       = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

func newError(code ErrorCode, msg string) *Error { return &Error{Code: code, Message: msg} }

// maxEcho bounds how much client-supplied text goes back into a message.
const maxEcho = 256

// echo makes client-supplied text safe to put in a message: printable ASCII
// only, bounded in length. It is only ever given values that carry no secret.
func echo(s string) string {
	n := len(s)
	if n > maxEcho {
		n = maxEcho
	}
	clean := true
	for i := 0; i < n; i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			clean = false
			break
		}
	}
	if clean && n == len(s) {
		return s
	}
	b := make([]byte, 0, n+3)
	for i := 0; i < n; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b = append(b, c)
	}
	if n < len(s) {
		b = append(b, "..."...)
	}
	return string(b)
}

// formatSkew renders a skew the way AWS does ("15 min").
func formatSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}

func errExpired(t, now time.Time, skew time.Duration) *Error {
	return newError(RequestExpired, "Signature expired: "+formatAmzDate(t)+" is now earlier than "+
		formatAmzDate(now.Add(-skew))+" ("+formatAmzDate(now)+" - "+formatSkew(skew)+".)")
}

func errNotYetCurrent(t, now time.Time, skew time.Duration) *Error {
	return newError(RequestExpired, "Signature not yet current: "+formatAmzDate(t)+" is still later than "+
		formatAmzDate(now.Add(skew))+" ("+formatAmzDate(now)+" + "+formatSkew(skew)+".)")
}
