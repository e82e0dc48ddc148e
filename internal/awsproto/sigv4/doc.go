// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on the
// server side, for dbiam's IAM, STS and Redshift Query-protocol endpoints.
//
// A Verifier accepts both forms of SigV4: the Authorization header and the
// presigned query string (X-Amz-Algorithm, X-Amz-Credential, …). It rebuilds
// the canonical request strictly from what the client declared and sent —
// the client's SignedHeaders list, r.Host, r.URL.RawQuery, the exact body
// bytes — asks a CredentialLookup for the secret of the access key, and
// compares signatures in constant time. Every failure is an *Error carrying
// the AWS error code and an AWS-like message (awserr.From maps it through
// the AWSErrorCode/AWSErrorMessage methods).
//
// What this package must never do:
//
//   - read r.Body: the caller reads (and size-limits) the body once and
//     passes the bytes, so the same bytes are hashed here and parsed later;
//   - build the canonical query from the body or r.Form: a Query-protocol
//     POST carries its parameters in the body, and those are covered by the
//     payload hash, not by the query;
//   - put a secret access key, a session token or the expected signature in
//     an error or a log line (it does not log at all);
//   - use headers the client did not sign — callers must not either: only
//     Result.SignedHeaders, the query and the body are authenticated;
//   - import anything outside the standard library;
//   - panic, whatever the request contains.
//
// Two wire paths that normalise to the same canonical URI (e.g. "/" and
// "//") share a signature, as with AWS for non-S3 services; callers route on
// the normalised path or accept only "/".
//
// SigV4 does not stop replay within the skew window (15 minutes); nor does
// this package. TLS is mandatory in front of it.
package sigv4
