package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable with the superuser URL of an
// existing server to use instead of starting one.
const EnvURL = "DBIAM_TEST_POSTGRES_URL"

// shared is the server of this test binary. Package-level state is the
// exception here, not the rule: a test binary is one process with one server
// for all its tests (see the package documentation).
var shared server

// server is the lazily started server of a test binary.
type server struct {
	mu      sync.Mutex
	started bool     // get ran once; the fields below are final
	stopped bool     // stop ran
	url     string   // superuser URL
	skip    string   // non-empty: no PostgreSQL here, and why
	err     error    // the server failed to start
	local   *cluster // nil when the server is external
}

func (s *server) get() (url, skip string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return "", "", errors.New("the server was stopped by pgtest.Main; no test may use it afterwards")
	}
	if !s.started {
		s.started = true
		if u := os.Getenv(EnvURL); u != "" {
			s.url = u
		} else {
			s.local, s.skip, s.err = startLocal()
			if s.local != nil {
				s.url = s.local.url
			}
		}
	}
	return s.url, s.skip, s.err
}

func (s *server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.local == nil {
		return nil
	}
	err := s.local.stop()
	s.local = nil
	return err
}

// Main runs the tests and then stops the local server (if one was started)
// and removes its directory. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if err := shared.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop server: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Server returns the superuser URL of the test binary's server, starting it
// on first use. The test is skipped when no PostgreSQL is available (it fails
// instead when CI=true).
func Server(t testing.TB) string {
	t.Helper()
	u, skip, err := shared.get()
	if skip != "" {
		unavailable(t, skip)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

func unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("pgtest: no PostgreSQL: %s (CI=true, so this fails instead of skipping)", reason)
	}
	t.Skipf("pgtest: no PostgreSQL, skipping: %s", reason)
}

// New creates a fresh, empty database for this test on the test binary's
// server and returns its URL (the superuser's). The database is dropped
// WITH (FORCE) when the test and its subtests end.
func New(t testing.TB) string {
	t.Helper()
	admin := Server(t)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: the server URL must be a postgres:// URL")
	}
	name := dbName(t.Name())
	quoted := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+quoted); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// adminExec runs one statement without values as the superuser.
func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// dbName returns a unique database name that shows which test made it.
func dbName(testName string) string {
	var b strings.Builder
	b.WriteString("pgtest_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	b.WriteString(randomHex(6))
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
