// Package dispatch is dbiam's HTTP front door for the AWS Query protocol.
//
// One listener serves every AWS service dbiam implements (IAM, STS,
// Redshift). For each request the Dispatcher assigns a request ID, bounds
// and reads the body, parses the form strictly, authenticates the caller
// with SigV4 (or lets an allow-listed unsigned action through), routes by
// the credential-scope service and Action, calls the handler, and writes
// the XML response or AWS error envelope. Domain errors become AWS errors
// here, once.
//
// It must never: answer 200 with an empty body, echo a secret or a request
// parameter value into a log line, or let a handler panic take the process
// down.
package dispatch
