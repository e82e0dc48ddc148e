package awserr

import (
	"errors"
	"fmt"
	"net/http"
)

// Fault types as they appear in the <Type> element of a Query-protocol error.
const (
	Sender   = "Sender"
	Receiver = "Receiver"
)

// Error is an AWS API error: what the client sees.
type Error struct {
	Code       string // AWS error code, e.g. "SignatureDoesNotMatch"
	Message    string // safe for the client; never contains a secret
	HTTPStatus int    // 4xx for Sender faults, 5xx for Receiver faults
	// Cause is the underlying error, for logs only; it is never sent.
	Cause error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause, so errors.Is reaches domain sentinels.
func (e *Error) Unwrap() error { return e.Cause }

// Type is "Sender" for 4xx and "Receiver" for 5xx.
func (e *Error) Type() string {
	if e.HTTPStatus >= 500 {
		return Receiver
	}
	return Sender
}

// New returns an *Error with the code's default HTTP status.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), HTTPStatus: StatusFor(code)}
}

// Wrap is New with a cause kept for logs.
func Wrap(cause error, code, format string, args ...any) *Error {
	e := New(code, format, args...)
	e.Cause = cause
	return e
}

// Common error codes (AWS "Common Errors" plus the ones every Query service
// emits). Service-specific codes live with their service.
const (
	AccessDenied                = "AccessDenied"
	IncompleteSignature         = "IncompleteSignature"
	InternalFailure             = "InternalFailure"
	InvalidAction               = "InvalidAction"
	InvalidClientTokenID        = "InvalidClientTokenId"
	InvalidParameterCombination = "InvalidParameterCombination"
	InvalidParameterValue       = "InvalidParameterValue"
	InvalidQueryParameter       = "InvalidQueryParameter"
	MalformedQueryString        = "MalformedQueryString"
	MissingAction               = "MissingAction"
	MissingAuthenticationToken  = "MissingAuthenticationToken"
	MissingParameter            = "MissingParameter"
	RequestExpired              = "RequestExpired"
	ServiceUnavailable          = "ServiceUnavailable"
	SignatureDoesNotMatch       = "SignatureDoesNotMatch"
	Throttling                  = "Throttling"
	ValidationError             = "ValidationError"
	ExpiredToken                = "ExpiredToken"
	RequestEntityTooLarge       = "RequestEntityTooLarge"
	UnsupportedMediaType        = "UnsupportedMediaType"
	MethodNotAllowed            = "MethodNotAllowed"
)

var statusByCode = map[string]int{
	AccessDenied:                http.StatusForbidden,
	IncompleteSignature:         http.StatusBadRequest,
	InternalFailure:             http.StatusInternalServerError,
	InvalidAction:               http.StatusBadRequest,
	InvalidClientTokenID:        http.StatusForbidden,
	InvalidParameterCombination: http.StatusBadRequest,
	InvalidParameterValue:       http.StatusBadRequest,
	InvalidQueryParameter:       http.StatusBadRequest,
	MalformedQueryString:        http.StatusNotFound,
	MissingAction:               http.StatusBadRequest,
	MissingAuthenticationToken:  http.StatusForbidden,
	MissingParameter:            http.StatusBadRequest,
	RequestExpired:              http.StatusBadRequest,
	ServiceUnavailable:          http.StatusServiceUnavailable,
	SignatureDoesNotMatch:       http.StatusForbidden,
	Throttling:                  http.StatusBadRequest,
	ValidationError:             http.StatusBadRequest,
	ExpiredToken:                http.StatusBadRequest,
	RequestEntityTooLarge:       http.StatusRequestEntityTooLarge,
	UnsupportedMediaType:        http.StatusUnsupportedMediaType,
	MethodNotAllowed:            http.StatusMethodNotAllowed,
}

// StatusFor returns the HTTP status AWS uses for a common code, and 400 for
// any other code (service-specific codes set their status explicitly).
func StatusFor(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// Coder is implemented by errors from pure packages (sigv4, query, saml)
// that know their AWS code but must not import this package. A Coder that
// also has an HTTPStatus() int method sets the status; otherwise the code's
// default applies.
type Coder interface {
	error
	AWSErrorCode() string
	AWSErrorMessage() string
}

// From converts any error into an *Error for the client. *Error values pass
// through; Coder values keep their code and message; anything else becomes
// InternalFailure with a generic message and the original error as Cause.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var c Coder
	if errors.As(err, &c) {
		status := StatusFor(c.AWSErrorCode())
		if hs, ok := c.(interface{ HTTPStatus() int }); ok && hs.HTTPStatus() >= 400 {
			status = hs.HTTPStatus()
		}
		return &Error{Code: c.AWSErrorCode(), Message: c.AWSErrorMessage(), HTTPStatus: status, Cause: err}
	}
	return &Error{Code: InternalFailure, Message: "We encountered an internal error. Please try again.", HTTPStatus: http.StatusInternalServerError, Cause: err}
}
