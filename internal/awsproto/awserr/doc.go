// Package awserr is the one place where dbiam errors become AWS API errors.
//
// An *Error carries the AWS error code, the message the client may see, the
// HTTP status and the fault type (Sender or Receiver). Handlers return domain
// errors wrapped with context; the dispatcher calls From once, at the edge, to
// turn whatever came back into an *Error. Anything that is not already an
// *Error becomes InternalFailure: its detail goes to the log, never to the
// client.
//
// This package imports only the standard library. It must never put a secret
// (secret access key, session token, password, SAML assertion) into a message.
package awserr
