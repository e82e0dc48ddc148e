// Package identity describes who is calling: the principal that a verified
// request resolved to (the account root, an IAM user, an assumed-role
// session), and how it travels through a request's context.
//
// A Principal is built by the authenticator after SigV4 verification and is
// read by handlers and the policy engine. This package holds no secrets and
// does no I/O.
package identity
