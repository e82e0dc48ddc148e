// Package postgres is the store backend for several dbiam replicas: it
// implements store.Store in a PostgreSQL database through a bounded pgx
// connection pool.
//
// Every replica may open the same database at once: the numbered migrations
// embedded from migrations/*.sql run at Open, each in its own transaction
// that first takes pg_advisory_xact_lock, and are recorded in
// schema_migrations. Read-modify-write updaters lock the row with SELECT …
// FOR UPDATE; replay records and work leases are single atomic INSERT … ON
// CONFLICT DO UPDATE … WHERE … RETURNING statements, so no update is lost and
// exactly one replica wins a race. The reaper's work is claimed with one
// UPDATE of the due credentials that a materialized CTE locked FOR UPDATE
// SKIP LOCKED, so concurrent claimers never get the same row within its
// lease and never wait for each other. Deletes lock the row FOR UPDATE before
// they look for what still refers to it; new references take FOR KEY SHARE
// through their foreign keys, so the two serialize and a delete never leaves
// an orphan (the foreign keys are the backstop). Tables live in the first
// schema of the connection's search_path; point the URL at a dedicated
// database or schema.
//
// This package must never log or put into an error a sealed secret or the
// connection password, and never use the simple query protocol for
// statements that carry values: every value is a bind parameter (Open
// refuses default_query_exec_mode=simple_protocol).
package postgres
