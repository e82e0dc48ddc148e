package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/sqlite"
	"github.com/dbiam/dbiam/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "dbiam.db"))
	})
}

// migrationVersions reads schema_migrations directly.
func migrationVersions(t *testing.T, path string) []int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func migrationFiles(t *testing.T) []int {
	t.Helper()
	names, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var vs []int
	for i := range names {
		vs = append(vs, i+1)
	}
	return vs
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	s := open(t, path)
	if err := s.CreateUser(t.Context(), store.User{Name: "alice", Path: "/", ID: "AIDA1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	if _, err := s.GetUser(t.Context(), "alice"); err != nil {
		t.Fatalf("user lost across reopen: %v", err)
	}
	if got, want := migrationVersions(t, path), migrationFiles(t); !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	s := open(t, fresh)
	defer s.Close()
	// Write something so the WAL file exists too.
	if err := s.CreateUser(t.Context(), store.User{Name: "alice", Path: "/", ID: "AIDA1"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fresh, fresh + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}

	loose := filepath.Join(dir, "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	s2 := open(t, loose)
	defer s2.Close()
	if fi, err := os.Stat(loose); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("existing world-readable file: mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	s := open(t, path)
	defer s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// Two processes (here: two Stores) on one file must not lose updates or fail
// with SQLITE_BUSY: writes are BEGIN IMMEDIATE transactions behind
// busy_timeout, and concurrent Opens serialize their migrations.
func TestSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	const opens = 4
	stores := make([]*sqlite.Store, opens)
	errs := make([]error, opens)
	var wg sync.WaitGroup
	for i := range opens {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(t.Context(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open #%d: %v", i, err)
		}
		defer stores[i].Close()
	}
	if got, want := migrationVersions(t, path), migrationFiles(t); !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}

	if err := stores[0].CreateUser(t.Context(), store.User{Name: "counter", Path: "/", ID: "AIDA1", Tags: map[string]string{"n": "0"}}); err != nil {
		t.Fatal(err)
	}
	const perStore = 30
	for _, s := range stores {
		wg.Go(func() {
			for range perStore {
				_, err := s.UpdateUser(t.Context(), "counter", func(u store.User) (store.User, error) {
					n, err := strconv.Atoi(u.Tags["n"])
					u.Tags["n"] = strconv.Itoa(n + 1)
					return u, err
				})
				if err != nil {
					t.Errorf("UpdateUser: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	u, err := stores[opens-1].GetUser(t.Context(), "counter")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(opens * perStore); u.Tags["n"] != want {
		t.Errorf("counter = %s, want %s", u.Tags["n"], want)
	}
}

// rawDB opens the file directly, with foreign keys enforced like the store's
// connections.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// A database made by the first release (migration 0001 only) upgrades in
// place: its users keep their data and get no permissions boundary.
func TestUpgradeFrom0001(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	first, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	for _, q := range []string{
		string(first),
		`CREATE TABLE schema_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		) STRICT`,
		`INSERT INTO schema_migrations (version) VALUES (1)`,
		`INSERT INTO users (name_key, name, path, id, created_at, tags) VALUES ('alice', 'Alice', '/old/', 'AIDAOLD', 1700000000000000, '{"k":"v"}')`,
		`INSERT INTO access_keys (id, user_key, sealed_secret, status, created_at) VALUES ('AKIAOLD', 'alice', x'00ff', 'Active', 1700000000000000)`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("set up a 0001 database: %v", err)
		}
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	u, err := s.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Alice" || u.Path != "/old/" || u.Tags["k"] != "v" || u.PermissionsBoundary != "" {
		t.Errorf("upgraded user = %+v", u)
	}
	if got, want := migrationVersions(t, path), migrationFiles(t); !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}
	if err := s.CreateGroup(t.Context(), store.Group{Name: "devs", Path: "/", ID: "AGPA1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUserToGroup(t.Context(), "devs", "alice", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccessKey(t.Context(), "AKIAOLD"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(t.Context(), "alice"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeleteUser of a group member after the upgrade: %v, want ErrConflict", err)
	}
}

// The schema itself refuses orphans and half-written records, whatever
// writes to it: the store's checks are not the only line of defence.
func TestSchemaRefusesOrphans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	s := open(t, path)
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateUser(ctx, store.User{Name: "alice", Path: "/", ID: "AIDA1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, store.Group{Name: "devs", Path: "/", ID: "AGPA1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUserToGroup(ctx, "devs", "alice", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateManagedPolicy(ctx, store.ManagedPolicy{Name: "p", Path: "/", ID: "ANPA1"}, "{}"); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	for name, q := range map[string]string{
		"a policy without its default version": `INSERT INTO managed_policies (name_key, name, path, id, default_version, last_version, created_at, updated_at)
			VALUES ('q', 'q', '/', 'ANPA2', 1, 1, 0, 0)`,
		"deleting the default version":          `DELETE FROM policy_versions WHERE policy_key = 'p'`,
		"deleting a policy with versions":       `DELETE FROM managed_policies WHERE name_key = 'p'`,
		"a version of a missing policy":         `INSERT INTO policy_versions (policy_key, version, document, created_at) VALUES ('ghost', 1, '{}', 0)`,
		"an inline policy with two owners":      `INSERT INTO inline_policies (user_key, group_key, name_key, name, document) VALUES ('alice', 'devs', 'x', 'x', '{}')`,
		"an inline policy without owner":        `INSERT INTO inline_policies (name_key, name, document) VALUES ('x', 'x', '{}')`,
		"an inline policy of a missing user":    `INSERT INTO inline_policies (user_key, name_key, name, document) VALUES ('ghost', 'x', 'x', '{}')`,
		"an attachment of a missing policy":     `INSERT INTO policy_attachments (user_key, policy_key) VALUES ('alice', 'ghost')`,
		"an attachment without owner":           `INSERT INTO policy_attachments (policy_key) VALUES ('p')`,
		"deleting a user who is a member":       `DELETE FROM users WHERE name_key = 'alice'`,
		"deleting a group with members":         `DELETE FROM groups WHERE name_key = 'devs'`,
		"a default version beyond the last one": `UPDATE managed_policies SET default_version = 2 WHERE name_key = 'p'`,
	} {
		if _, err := db.ExecContext(ctx, q); err == nil {
			t.Errorf("the schema accepted %s", name)
		}
	}
	if _, err := s.GetManagedPolicy(ctx, "p"); err != nil {
		t.Errorf("policy after refused changes: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "dbiam.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Benchmark(b, s)
}

// A database made by the release with migrations 0001 and 0002 upgrades in
// place: its IAM entities are kept and clusters and credentials work.
func TestUpgradeFrom0002(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	db := rawDB(t, path)
	steps := []string{`CREATE TABLE schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	) STRICT`}
	for _, f := range []string{"migrations/0001_init.sql", "migrations/0002_iam_entities.sql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, string(b))
	}
	steps = append(steps,
		`INSERT INTO schema_migrations (version) VALUES (1), (2)`,
		`INSERT INTO users (name_key, name, path, id, created_at, tags, permissions_boundary) VALUES ('alice', 'Alice', '/', 'AIDAOLD', 1700000000000000, '{}', 'arn:aws:iam::123456789012:policy/B')`,
		`INSERT INTO groups (name_key, name, path, id, created_at) VALUES ('devs', 'Devs', '/', 'AGPAOLD', 1700000000000000)`,
		`INSERT INTO group_members (group_key, user_key) VALUES ('devs', 'alice')`,
	)
	for _, q := range steps {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("set up a 0002 database: %v", err)
		}
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	if got, want := migrationVersions(t, path), migrationFiles(t); !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}
	u, err := s.GetUser(t.Context(), "alice")
	if err != nil || u.Name != "Alice" || u.PermissionsBoundary != "arn:aws:iam::123456789012:policy/B" {
		t.Errorf("upgraded user = %+v, %v", u, err)
	}
	if gs, err := s.ListGroupsForUser(t.Context(), "alice"); err != nil || len(gs) != 1 || gs[0].Name != "Devs" {
		t.Errorf("upgraded membership = %+v, %v", gs, err)
	}
	if err := s.CreateCluster(t.Context(), store.Cluster{Identifier: "dev", Engine: "postgres", Source: "config"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCredential(t.Context(), store.IssuedCredential{ID: "c1", Cluster: "dev", LoginRole: "IAM:alice:1", DbUser: "alice", State: store.CredentialIssuing}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCluster(t.Context(), "dev"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeleteCluster with a live credential after the upgrade: %v, want ErrConflict", err)
	}
}

// The schema refuses credentials without a cluster, unknown states,
// malformed group lists and a second record of one login role, whatever
// writes to it.
func TestSchemaRefusesBadCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	s := open(t, path)
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateCluster(ctx, store.Cluster{Identifier: "dev", Engine: "postgres", Source: "config"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCredential(ctx, store.IssuedCredential{ID: "c1", Cluster: "dev", LoginRole: "IAM:a:1", DbUser: "a", State: store.CredentialActive}); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	const cols = `(id, cluster, login_role, db_user, groups, principal, request_id, created_at, expires_at, state, next_attempt_at)`
	for name, q := range map[string]string{
		"a credential of a missing cluster":   `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'ghost', 'r', 'a', '[]', '', '', 0, 0, 'active', 0)`,
		"a credential with an unknown state":  `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'dev', 'r', 'a', '[]', '', '', 0, 0, 'expired', 0)`,
		"groups that are not a JSON array":    `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'dev', 'r', 'a', '{"a":1}', '', '', 0, 0, 'active', 0)`,
		"groups that are not JSON":            `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'dev', 'r', 'a', 'readers', '', '', 0, 0, 'active', 0)`,
		"a login role taken on the cluster":   `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'dev', 'IAM:a:1', 'a', '[]', '', '', 0, 0, 'active', 0)`,
		"deleting a cluster with credentials": `DELETE FROM clusters WHERE identifier = 'dev'`,
	} {
		if _, err := db.ExecContext(ctx, q); err == nil {
			t.Errorf("the schema accepted %s", name)
		}
	}
	if _, err := s.GetCredential(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused row exists: %v", err)
	}
}
