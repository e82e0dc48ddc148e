package saml

import (
	"errors"
	"net/http"
	"strings"
)

// AWS error codes an *Error carries. They are the codes AWS STS answers
// AssumeRoleWithSAML with (see doc.go for the full mapping), plus the IAM code
// CreateSAMLProvider uses for unusable metadata.
const (
	// CodeInvalidIdentityToken (400): the response is malformed, its
	// signature does not verify against the provider's certificates, or a
	// claim STS checks is wrong or missing.
	CodeInvalidIdentityToken = "InvalidIdentityToken"
	// CodeExpiredToken (400): the assertion is past its NotOnOrAfter, or was
	// issued too long ago.
	CodeExpiredToken = "ExpiredTokenException"
	// CodeIDPRejectedClaim (403): the identity provider itself reported that
	// authentication failed (Status other than Success).
	CodeIDPRejectedClaim = "IDPRejectedClaim"
	// CodeValidationError (400): the SAMLAssertion parameter is outside the
	// length the API model allows.
	CodeValidationError = "ValidationError"
	// CodeInternalFailure (500): the replay store failed, or the caller
	// passed an unusable Provider or Validator.
	CodeInternalFailure = "InternalFailure"
	// CodeInvalidInput (400): IAM's code for metadata it cannot use
	// (ParseMetadata).
	CodeInvalidInput = "InvalidInput"
)

// Client-visible messages. Where AWS documents a message for the failure it is
// used verbatim; the others are dbiam's, in the same style.
const (
	msgSignature        = "Response signature invalid"
	msgMalformed        = "Invalid SAML response"
	msgBase64           = "Invalid base64 SAMLResponse (check that your input contains a base64 encoded SAMLResponse)"
	msgIssuer           = "Issuer not present in specified provider"
	msgAudience         = "Response does not contain the required audience."
	msgRecipient        = "Response does not contain a valid Recipient for this endpoint."
	msgSubjectConfirm   = "Response must contain exactly one bearer SubjectConfirmation with Recipient and NotOnOrAfter."
	msgNameID           = "Response does not contain a Subject NameID."
	msgExpired          = "Response has expired"
	msgIssuedTooLongAgo = "Token must be redeemed within 5 minutes of issuance"
	msgNotYetValid      = "Response is not yet valid"
	msgReplay           = "Response has already been used"
	msgIDPRejected      = "The identity provider reported that authentication failed"
	msgMetadataExpired  = "The metadata of the specified provider has expired"
	msgRSNRequired      = "RoleSessionName is required in AuthnResponse"
	msgRSNFormat        = "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"
	msgSourceIdentity   = `Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"`
	msgRole             = "Role attribute in AuthnResponse must contain at least one roleArn,providerArn pair"
	msgSessionDuration  = "SessionDuration in AuthnResponse must be an integer between 900 and 43200"
	msgTags             = "Invalid PrincipalTag or TransitiveTagKeys attribute in AuthnResponse"
	msgInternal         = "We encountered an internal error. Please try again."
	msgMetadata         = "Could not parse metadata"
)

// Error is a SAML validation failure. Code and Message are what the STS client
// sees: Message is AWS's generic text for the failure and never quotes the
// response. Detail says exactly which rule failed, for the server log only;
// it is built from dbiam's own text and configuration, never from the
// response (which is attacker-controlled and, while valid, a bearer
// credential), so logging err.Error() is safe.
type Error struct {
	Code    string
	Message string
	Detail  error
}

// Error implements error. It includes Detail (safe to log, see above).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("saml: ")
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Detail != nil {
		b.WriteString(" (")
		b.WriteString(e.Detail.Error())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns Detail.
func (e *Error) Unwrap() error { return e.Detail }

// AWSErrorCode returns the AWS error code (awserr.Coder).
func (e *Error) AWSErrorCode() string { return e.Code }

// AWSErrorMessage returns the client-visible message (awserr.Coder).
func (e *Error) AWSErrorMessage() string { return e.Message }

// HTTPStatus returns the HTTP status AWS answers Code with: 403 for
// IDPRejectedClaim, 500 for InternalFailure, 400 otherwise.
func (e *Error) HTTPStatus() int {
	switch e.Code {
	case CodeIDPRejectedClaim:
		return http.StatusForbidden
	case CodeInternalFailure:
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}

func newErr(code, msg, detail string) *Error {
	return &Error{Code: code, Message: msg, Detail: errors.New(detail)}
}

func invalid(msg, detail string) *Error { return newErr(CodeInvalidIdentityToken, msg, detail) }

func sigErr(detail string) *Error { return invalid(msgSignature, detail) }

func malformed(detail string) *Error { return invalid(msgMalformed, detail) }

// redactedError hides an identifier taken from the response (the assertion ID
// in a replay-store error message) while keeping the error chain for
// errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secrets ...string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return &redactedError{msg: msg, err: err}
}
