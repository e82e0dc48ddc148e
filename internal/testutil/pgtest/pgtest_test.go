package pgtest_test

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func connect(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func TestServerIsSuperuserOverTCP(t *testing.T) {
	admin := pgtest.Server(t)
	conn := connect(t, admin)
	var version string
	if err := conn.QueryRow(t.Context(), "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "PostgreSQL ") {
		t.Errorf("version() = %q", version)
	}
	var super bool
	if err := conn.QueryRow(t.Context(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatal(err)
	}
	if !super {
		t.Error("the server URL is not a superuser's")
	}
	if pgtest.Server(t) != admin {
		t.Error("Server returned a different URL the second time")
	}
}

func TestPasswordRequired(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) != "" {
		t.Skip("external server: its authentication is not ours to check")
	}
	u, err := url.Parse(pgtest.Server(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "wrong")
	if conn, err := pgx.Connect(t.Context(), u.String()); err == nil {
		_ = conn.Close(t.Context())
		t.Fatal("connected with a wrong password")
	}
}

func TestNewGivesFreshEmptyDatabases(t *testing.T) {
	u1, u2 := pgtest.New(t), pgtest.New(t)
	if u1 == u2 {
		t.Fatalf("New returned the same URL twice: %s", u1)
	}
	c1, c2 := connect(t, u1), connect(t, u2)
	dbs := map[string]bool{}
	for _, c := range []*pgx.Conn{c1, c2} {
		var db string
		var tables int
		if err := c.QueryRow(t.Context(), "SELECT current_database()").Scan(&db); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("database %s has %d tables, want none", db, tables)
		}
		dbs[db] = true
	}
	if len(dbs) != 2 {
		t.Fatalf("both URLs lead to the same database: %v", dbs)
	}
	if _, err := c1.Exec(t.Context(), "CREATE TABLE only_in_one (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c2.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_one'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("a table created in one database shows in the other")
	}
}

func TestNewDropsDatabaseAtCleanup(t *testing.T) {
	outer := t
	var name string
	t.Run("inner", func(t *testing.T) {
		u, err := url.Parse(pgtest.New(t))
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		// A session still open when the test ends must not block the drop:
		// close it only after the subtest's cleanup ran.
		conn, err := pgx.Connect(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		outer.Cleanup(func() { _ = conn.Close(context.Background()) })
	})
	if name == "" {
		t.Fatal("the subtest did not run")
	}
	conn := connect(t, pgtest.Server(t))
	var exists bool
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestNewInParallel(t *testing.T) {
	for i := range 8 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, pgtest.New(t))
			if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
