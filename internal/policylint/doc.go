// Package policylint reviews IAM policy documents the way a careful
// colleague would before they are attached: strict parse errors, actions
// unknown to the services dbiam serves, statements that can never take
// effect, and wildcards in dangerous places. It backs `dbiam policy check`.
//
// It is pure: no I/O, no clock. It never changes a policy.
package policylint
