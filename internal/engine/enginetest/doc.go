// Package enginetest is the conformance suite every engine.Engine must
// pass, against a real PostgreSQL-compatible server:
//
//	func TestConformance(t *testing.T) {
//		enginetest.Run(t, func(t *testing.T) (engine.Engine, string) {
//			url := pgtest.New(t)
//			e, err := postgres.New(postgres.Config{URL: url})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { e.Close() })
//			return e, url
//		})
//	}
//
// The factory returns a new engine, built with its default options, and a
// superuser URL of the database it is connected to, which the suite uses to
// set up fixtures (roles, tables, a second database), to inspect the
// catalog, and to log in with the issued credentials (same host and port,
// the login's name and password). It may be called several times per test
// and must return engines on the same cluster. The suite changes server
// settings with ALTER SYSTEM only in the log test and restores them; it
// names every role it creates with a random per-test prefix and drops them
// at the end, but the engine's marker roles stay. Its tests are not
// parallel.
//
// The suite checks, among others: logins work with session_user = login
// and current_user = DbUser; several credentials per user; the password is
// refused after ValidUntil; DbName restrictions; group privileges and
// RevokeGroups removing only dbiam's grants; AutoCreate; errors for missing
// users, groups and databases that change nothing in the catalog; hostile
// names; idempotent, busy and terminating Revoke; ListManaged from the
// catalog alone; Verify; 8×10 concurrent issuances; and that no server log
// line contains an issued password (nor a verifier when the admin may
// switch logging off).
//
// This package must only be imported by tests. It never prints passwords.
package enginetest
