// Package localpg runs a PostgreSQL server from the binaries installed on
// the machine, as a child process: the development cluster of
// `dbiam serve --dev`, `dbiam demo` and `dbiam bench creds --self`, and the
// throwaway server of the tests (internal/testutil/pgtest builds on it).
//
//	srv, err := localpg.Start(ctx, localpg.Config{Dir: "dbiam-data/postgres"})
//	...
//	defer srv.Stop()
//	conn, err := pgx.Connect(ctx, srv.URL()) // the superuser, over TCP
//
// What Start does:
//
//   - Finds initdb and postgres (FindBinDir: initdb on PATH, symlinks
//     resolved, then /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, Homebrew's
//     postgresql@* and /usr/local/pgsql/bin, highest version first), or
//     fails with ErrNotInstalled.
//   - Runs initdb into Dir/data unless Dir/data already holds a cluster
//     (then the cluster is reused: data survives restarts). Local (socket)
//     connections are trusted, TCP ones need the superuser's password
//     (scram-sha-256). The password is Config.Password, or generated and
//     kept in Dir/superuser-password (mode 0600) when none is given.
//   - Starts postgres listening on 127.0.0.1 only, on Config.Port, else on
//     the port of the previous start (read from Dir/data/postmaster.opts),
//     else on a port the kernel picked (retrying when another process takes
//     it first), with the server log appended to Dir/postgres.log, and
//     waits until the superuser can log in over TCP.
//   - When the caller is root, runs initdb and postgres as the OS user
//     "postgres" (PostgreSQL refuses to run as root) and hands Dir to it;
//     every directory above Dir must be searchable by that user (see
//     Reachable), or Start fails with ErrUnreachable.
//   - On Linux the kernel sends postgres SIGQUIT (immediate shutdown) when
//     the thread that started it, and so the calling process, dies: no
//     server outlives its parent, even after SIGKILL.
//
// Stop asks for a fast shutdown (sessions ended, data kept) and kills the
// server if it is not gone within 15 seconds. Stop does not remove Dir.
//
// This package must never: listen on anything but 127.0.0.1, accept TCP
// logins without a password, run PostgreSQL as root, log or return in an
// error a password, or touch a directory it was not given.
package localpg
