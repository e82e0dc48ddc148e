// Package postgres is the PostgreSQL engine: it implements engine.Engine on
// pgx with one bounded connection pool (pgxpool) per cluster, following
// architecture decision 8. Tested on PostgreSQL 15 (Debian bookworm's
// version); Verify reports older servers as unsupported.
//
// # What Issue writes (one transaction)
//
//	CREATE ROLE <login> LOGIN NOINHERIT PASSWORD '<SCRAM verifier>'
//	    VALID UNTIL '<UTC instant>'
//	    IN ROLE <dbuser>                      -- the login may act as dbuser
//	    ROLE dbiam_managed                    -- the marker: see below
//	ALTER ROLE <login> SET role = '<dbuser>'
//	COMMENT ON ROLE <login> IS '<attribution>'
//	GRANT CONNECT ON DATABASE <db> TO <login>   -- see "CONNECT" below
//
// preceded when needed by CREATE ROLE <dbuser> NOLOGIN (AutoCreate), the
// creation of the marker roles, and the group grants. A session opened with
// the login has session_user = the login (attribution) and current_user =
// dbuser (privileges, ownership, row-level security); RESET ROLE lands on
// dbuser again. Because the login is NOINHERIT it holds no privilege of its
// own except CONNECT, and objects its sessions create belong to dbuser.
//
// # Marker: recognising managed roles from the catalog alone
//
// The marker role (Config.MarkerRole, default "dbiam_managed", created
// NOLOGIN NOINHERIT on first use) is made a member OF every login (the ROLE
// clause of CREATE ROLE), not the other way round, so that a login
// cannot SET ROLE to the marker, and the marker, which has no members and
// cannot log in, gives nobody anything. Managed logins are exactly the roles
// the marker holds. Issue refuses to run if a marker role can log in or has
// members (anyone who could become the marker could become every login).
//
// # Groups: wrapper roles, so only dbiam's memberships are ever revoked
//
// dbiam never grants a group directly. For group g it uses a wrapper role
// "<marker>:<g>" (hashed when longer than 63 bytes), NOLOGIN, member of g and
// held by the group marker "<marker>_groups", and grants the wrapper to
// dbuser. dbuser (INHERIT, as roles are by default) gets g's privileges and
// may SET ROLE g through the wrapper. RevokeGroups revokes the wrapper from
// dbuser, which cannot touch a membership in g that an administrator granted,
// before or after. The grants are read back from the catalog (ListManaged):
// members of roles held by the group marker. Groups must be NOLOGIN,
// non-superuser roles that dbiam does not manage.
//
// An Issue that asks for groups and RevokeGroups for the same db user
// exclude each other through a per-user advisory lock, taken first in both
// transactions and held to COMMIT (shared by issues, which do not exclude
// each other; exclusive for RevokeGroups, which calls its stillNeeded
// callback under it, bounded to 10 seconds).
// So a revocation decided on records read before a new credential was
// recorded cannot strip that credential's group: either the callback sees
// the new record, or the Issue waits, sees the revocation and grants again.
//
// # CONNECT
//
// With DbName, the login is granted CONNECT on that database. Without it,
// the login is granted CONNECT on every database that accepts connections,
// is not a template, and where PUBLIC lacks CONNECT (where PUBLIC holds it
// the login already gets in through PUBLIC; granting it there would only
// make every issuance rewrite that database's ACL). Config.Databases
// narrows both cases to the managed databases. Databases on which the
// admin may not grant CONNECT are skipped without DbName (Verify reports
// them) and are an error (ErrPermission) as DbName, unless PUBLIC can
// connect there anyway. DbName restricts the
// login only where CONNECT is revoked from PUBLIC; Verify reports where it is
// not. Grants of CONNECT rewrite the database's pg_database row, which
// concurrent transactions cannot do at once ("tuple concurrently updated"),
// so Issue and Revoke take a transaction-level advisory lock per database
// (key 0x64626961_00000000 | database oid) just before, in oid order.
//
// # Passwords and logs
//
// The caller's password is turned into a SCRAM-SHA-256 verifier in Go
// (engine.SCRAMVerifier) with Config.SCRAMIterations iterations, default 1.
// dbiam's passwords are random 256-bit secrets: the iteration count only
// slows guessing of guessable passwords, while PostgreSQL repeats the full
// count on every CREATE ROLE … PASSWORD (its "empty password" check) and
// every client repeats it on every login; measured on 2 cores, the issue
// transaction runs ~6-7× faster with 1 iteration than with 4096. Issue
// refuses passwords shorter than engine.MinPasswordLength.
//
// CREATE ROLE … PASSWORD takes no bind parameter, so the verifier is
// embedded as a literal after a strict regexp check, in an unnamed
// extended-protocol statement (never prepared or cached). Just before it,
// in the same transaction, Issue sets log_statement = none,
// log_min_error_statement = panic and log_min_duration_statement = -1 (and
// the sampling, debug_print_*, pg_stat_statements.track_utility and
// pgaudit.log settings when they are on) with set_config(…, true), and
// resets them right after it, so the rest of the transaction is logged as
// the DBA configured. That needs superuser or GRANT SET ON PARAMETER
// (PostgreSQL 15; the engine checks which it may set and caches that for a
// minute). Without it the verifier can reach the server log when statement
// logging is on: a documented residual risk, reported by Verify
// (CanSuppressLogs) and IssueResponse.LogsSuppressed. The plaintext password
// never reaches the server in any case. Errors are scrubbed of the verifier
// and password before they are returned.
//
// Reaping many logins leaves dead rows in the shared catalogs: autovacuum
// must run, or the engine's lookups slow down.
//
// # Revoke
//
// ALTER ROLE <login> NOLOGIN VALID UNTIL '-infinity' is committed first, so
// a failure later leaves a login nobody can use. Live sessions
// (pg_stat_activity.usesysid) make Revoke return Busy, or with Terminate are
// ended with pg_terminate_backend(pid, Config.TerminateTimeout). Then, in
// one transaction, the login's privileges on databases are revoked and the
// role is dropped (memberships, its SET role setting and its comment go with
// it). Only if DROP ROLE still reports dependent objects (possible after
// SET ROLE NONE in a database where PUBLIC may create, or grants made to the
// login by others) does Revoke look them up in pg_shdepend and, in each
// database that has some, run REASSIGN OWNED BY <login> TO <dbuser> and
// DROP OWNED BY <login>, then drop the role. Objects are therefore kept, now
// owned by dbuser. Both statements need the privileges of the login and of
// dbuser: a non-superuser admin grants itself those memberships for the
// length of that transaction only. Privileges that others granted to the
// login can be removed only by their grantor or a superuser: with a
// non-superuser admin such a Revoke fails and the login stays disabled.
// Revoke refuses roles the marker does not hold.
//
// # PostgreSQL 15 specifics
//
// The admin role needs SUPERUSER or CREATEROLE. In PostgreSQL 15 a
// CREATEROLE role may create, alter, drop and grant any non-superuser role,
// which is what Issue and Revoke need; ending sessions needs
// pg_signal_backend; granting CONNECT needs ownership or CONNECT WITH GRANT
// OPTION on each database (the owner can grant that). PostgreSQL 16 changed
// CREATEROLE: a non-superuser may then grant only roles on which it holds
// ADMIN OPTION (it gets that on the roles it creates), so existing db users
// and groups must be granted to the admin WITH ADMIN OPTION there.
//
// The recommended admin role (what the conformance suite runs with):
//
//	CREATE ROLE dbiam LOGIN CREATEROLE PASSWORD '…';
//	GRANT pg_signal_backend TO dbiam;
//	GRANT SET ON PARAMETER log_statement, log_min_error_statement,
//	      log_min_duration_statement TO dbiam;
//	GRANT CONNECT ON DATABASE <each managed database> TO dbiam WITH GRANT OPTION;
//
// # Admin sessions
//
// The pool is bounded (Config.MaxConns, default 4). Its sessions set
// application_name = dbiam and enable_seqscan = off: every catalog lookup of
// the engine is an equality on a unique index, but the catalogs are skewed
// (the marker and a db user may have thousands of members) and grow from a
// handful of rows while a connection lives, so the planner would pick
// sequential scans and keep them in cached plans, making each Issue cost
// O(logins). Statements with values go through the extended protocol with
// bind parameters; DDL, which takes none, is sent as unnamed statements in
// pipelined round trips (pgconn batch). Every statement counts: a trivial
// SET or SELECT costs the server about as much as a small DDL statement.
// Nothing in the engine takes a second pooled connection while it holds one
// (that deadlocks a full pool).
//
// # Batched issuance
//
// The cost of a login is dominated by GRANT CONNECT ON DATABASE, which
// rewrites the database's ACL (pg_database.datacl, one entry per live
// login: about 3 ms with 3,000 live logins on the project's machine) and is
// serialized per database (under an advisory lock, held until COMMIT). One
// GRANT for nine logins costs what one for a single login does. So
// concurrent Issue calls without Groups are combined (Config.MaxBatch,
// default 16; 1 turns batching off) into one transaction of three round
// trips:
//
//  1. BEGIN; one database read per distinct DbName (the first also switches
//     logging off); one role read for all the calls;
//  2. for the calls that pass their checks: their CREATE ROLE statements,
//     the logging reset, their ALTER ROLE … SET role and COMMENT
//     statements, and the advisory locks of their databases (oid order);
//  3. one GRANT CONNECT ON DATABASE <db> TO <login>, <login>, … per
//     database; COMMIT.
//
// Batches form as a two-stage pipeline (Config.IssueWorkers, default 2,
// bounds the batches running at once): at most one batch is in stages 1-2,
// and a new one forms only when that batch holds its locks, so the calls
// that arrived meanwhile are gathered while the previous batch rewrites the
// ACL. The callers run the batches themselves (no goroutine of the
// engine's own) and each returns as soon as its own call is done. A call
// that fails its checks gets its error as if alone, without affecting the
// others. A call that must create its db user or the marker, or whose
// login name repeats in the batch, is handed back to its caller, who issues
// it alone after the batch with its own context and retries; if the
// batch's transaction fails, every call in it is handed back so. So
// batching does not fail a call that would succeed alone — except when a
// COMMIT's outcome never reaches the engine (the connection dropped during
// it): a call then issued alone may find its login already there and fail
// with ErrLoginExists, and the reaper drops that login at expiry. A caller
// whose context ends while its call waits leaves the queue; once taken into
// a batch a call completes (the batch runs under its own 30-second bound,
// since it serves several callers). The logins of a batch are created in
// db user order: from PostgreSQL 16, CREATE ROLE … IN ROLE locks the role
// granted until COMMIT, and batches on several replicas must take those
// locks in one order. Calls with Groups are issued alone, in two round
// trips: BEGIN and the catalog reads; then the DDL and COMMIT.
//
// Without contention a batch holds one call: an idle engine pays one more
// round trip per Issue (about 0.1 ms on a local network) and nothing else.
//
// Transient conflicts with concurrent issuances (40001, 40P01, 23505,
// 42710, "tuple concurrently updated") are retried, Config.MaxAttempts
// times.
//
// This package must never: log, format or return a password or verifier;
// build SQL from raw input (identifiers go through pgx.Identifier.Sanitize
// after engine.ValidateRoleName, literals through quoteLiteral or a strict
// regexp); use the simple protocol with client-side interpolation
// (QueryExecModeSimpleProtocol is overridden); drop or alter a role the
// marker does not hold; revoke a group membership it did not grant.
package postgres
