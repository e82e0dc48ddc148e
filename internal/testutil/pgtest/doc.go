// Package pgtest gives tests a throwaway PostgreSQL: one server per test
// binary, started on first use, and a fresh empty database per test.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.New(t) // a new database, dropped at t.Cleanup
//		...
//	}
//
// Where the server comes from:
//
//   - If DBIAM_TEST_POSTGRES_URL is set (a postgres:// URL of a superuser),
//     that server is used and New creates a database on it for each test
//     (dropped WITH (FORCE) when the test ends).
//   - Otherwise pgtest looks for the PostgreSQL binaries (initdb on PATH,
//     then /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and
//     /usr/local/pgsql/bin, highest version first), runs initdb into a
//     temporary directory and starts postgres on 127.0.0.1 on a port the
//     kernel picked, with fsync off and other settings for speed. Local
//     connections are trusted, TCP ones need the random superuser password
//     (scram-sha-256); the URLs handed out use TCP with that password and
//     sslmode=disable. When the test runs as root, initdb and postgres run as
//     the OS user "postgres" (PostgreSQL refuses to run as root). The
//     server itself is run by internal/localpg, which the dev cluster of
//     `dbiam serve --dev` uses too; pgtest adds the temporary directory,
//     the settings for speed and the sweep of stale directories.
//   - If neither is available the test is skipped, except when the
//     environment has CI=true: then it fails, so CI never silently skips.
//
// Lifetime of the local server: Main stops it (fast shutdown) and removes its
// directory after the tests. Without Main (or if the test binary dies, is
// killed or times out) the kernel sends postgres SIGQUIT when the test binary
// exits (parent-death signal, Linux), so no server outlives its test binary;
// the directory left behind is removed by the next test binary that starts a
// server. Use Main whenever a package calls New.
//
// The package keeps the server in package-level state: a test binary has one
// server shared by all its tests. This is the one exception to the project's
// no-globals rule, confined to test infrastructure. pgtest must only ever be
// imported by _test.go files.
package pgtest
