// Package metrics is dbiam's Prometheus instrumentation: one private
// registry per server, filled by the observers the other packages are given
// (dispatch's request observer, the credential issuer, the engine's batch
// observer, the reaper's pass observer), served by Handler.
//
// Label values are bounded: services and actions are the served ones (or
// "unknown"), codes are dbiam's AWS error codes (or "ok"), clusters are
// registered identifiers. Never an access key, principal, role session
// name, database user, SQL text or secret.
package metrics
