package pgdriver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	// Keep the machine's AWS configuration out of the tests; tests that
	// need some set it with t.Setenv.
	dir, err := os.MkdirTemp("", "pgdriver-test-aws-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_REDSHIFT", "AWS_ENDPOINT_URL_STS",
		"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE"} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// database is a fresh database on the test server.
type database struct {
	admin string // superuser URL
	host  string
	port  int
	name  string
}

func newDatabase(t testing.TB) database {
	t.Helper()
	admin := pgtest.New(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	return database{admin: admin, host: u.Hostname(), port: port, name: strings.TrimPrefix(u.Path, "/")}
}

func (d database) exec(t testing.TB, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// newRole creates a login role with a random password, dropped when the
// test ends.
func (d database) newRole(t testing.TB) (name, password string) {
	t.Helper()
	name, password = "pgdriver_"+randomHex(6), randomHex(16)
	d.exec(t, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", name, password))
	t.Cleanup(func() { d.exec(t, "DROP ROLE IF EXISTS "+name) })
	return name, password
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
