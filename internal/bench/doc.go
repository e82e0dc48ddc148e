// Package bench is `dbiam bench creds`: a load generator for
// GetClusterCredentials that measures, in the same run, the ceiling — the
// same login DDL sent straight to the database through the PostgreSQL
// engine's DirectDDL, with the same concurrency and SCRAM iteration count,
// for the same number of logins and from the same catalog — and reports
// throughput, latency percentiles (p50, p90, p99, max), the ratio, and
// with StartSelf the CPU time per login of dbiam and of PostgreSQL.
//
// Run drops every login it made (the ceiling's, and dbiam's before the
// ceiling phase so that both phases start from the same catalog) as the
// admin role: only roles the engine's marker holds and that have no
// session. See docs/bench.md for the method and what the figures mean.
//
// This package must never: print a password or a secret access key, drop
// a role it did not create or that has sessions, or retry a throttled or
// failed request (failures are counted by error code, so the report shows
// them as they are).
package bench
