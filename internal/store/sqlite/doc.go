// Package sqlite is the embedded store backend, and dbiam's default: one
// SQLite file (through the pure-Go modernc.org/sqlite driver, no cgo) that
// implements store.Store for a single dbiam process.
//
// The file is opened in WAL mode with busy_timeout, foreign_keys=ON and
// synchronous=NORMAL, and created with mode 0600 (it holds sealed secrets).
// All writes go through one connection whose transactions start with BEGIN
// IMMEDIATE, so writers never fail with SQLITE_BUSY on a lock upgrade and
// read-modify-write updaters are serialized (so is the single UPDATE …
// RETURNING that claims the reaper's due credentials); reads use a small
// pool of read-only connections, and those outside a transaction run
// statements prepared once per SQL text and kept until Close (see
// stmts.go), since preparing costs more than the reads themselves. The schema is created and upgraded by the numbered
// migrations embedded from migrations/*.sql, each in its own transaction,
// recorded in schema_migrations. Foreign keys enforce every relation; the
// one between a managed policy and its default version is checked at commit
// (DEFERRABLE INITIALLY DEFERRED), since the two refer to each other.
//
// Several dbiam replicas must not share one SQLite file (use the postgres
// backend for that). This package must never log or put into an error a
// sealed secret, and never build SQL from values: all values are bind
// parameters.
package sqlite
