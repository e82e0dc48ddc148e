// Package audit records one structured event per API call: when, who (the
// principal ARN and access key id), from where, what (service, action,
// resource), the authorization decisions with the statements that decided
// them, and the outcome (error code, HTTP status).
//
// Events never carry a secret: no secret key, session token, password,
// policy document or SAML assertion, and no request parameter values other
// than the resource ARNs the decisions were about.
package audit
