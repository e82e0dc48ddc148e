// Package engine is the seam between dbiam and the databases it issues
// temporary logins for: the Engine interface (issue a login, revoke it, list
// what dbiam manages, verify the connection), the request and response types
// it speaks, the sentinel errors callers check with errors.Is, the name rules
// every engine enforces, and SCRAMVerifier, which turns a password into the
// SCRAM-SHA-256 verifier PostgreSQL stores.
//
// The shape follows Vault's dbplugin v5: one request struct and one response
// struct per operation, the caller generates the password (IssueRequest.Password)
// and the engine never invents or returns secrets, delete (Revoke) is
// idempotent. Implementations live in subpackages (postgres); every
// implementation runs the conformance suite in package enginetest against a
// real server.
//
// What an Issue means, for every engine (architecture decision 8):
//
//   - each credential gets its own login role (IssueRequest.LoginName), which
//     acts as IssueRequest.DbUser (session_user = the login, current_user =
//     DbUser) and which the database itself refuses after
//     IssueRequest.ValidUntil;
//   - the login can connect to IssueRequest.DbName only (to every database
//     when DbName is empty) wherever CONNECT is revoked from PUBLIC;
//   - IssueRequest.Groups are existing groups granted to DbUser, tracked as
//     granted by dbiam so that RevokeGroups removes exactly those and never a
//     membership an administrator granted; an Issue asking for groups and a
//     RevokeGroups for the same DbUser never interleave, so a revocation
//     decided before a credential was recorded cannot strip its groups;
//   - concurrent Issue calls may share a transaction, but each gets the
//     outcome it would get alone;
//   - everything is written in one transaction: an error leaves the catalog
//     as it was;
//   - logins and dbiam's group grants are recognisable from the database
//     catalog alone (ListManaged), so reconciliation works even if dbiam's
//     store is lost.
//
// This package must never: log or format a password or verifier (Secret
// prints "[redacted]"; errors carry names, never secrets), import anything
// but the standard library and dbiam's stdlib-only secret package, or touch
// a database (that is the subpackages' job).
package engine
