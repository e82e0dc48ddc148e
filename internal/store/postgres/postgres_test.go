package postgres_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/postgres"
	"github.com/dbiam/dbiam/internal/store/storetest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(t.Context(), pgtest.New(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.New(t)
	const replicas = 4
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), url)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		defer stores[i].Close()
	}
	// Open once more, sequentially: nothing to do.
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []int32
	for i := range entries {
		want = append(want, int32(i+1))
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}

	// Every replica's store works on the shared schema.
	if err := stores[0].CreateUser(t.Context(), store.User{Name: "alice", Path: "/", ID: "AIDA1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[replicas-1].GetUser(t.Context(), "ALICE"); err != nil {
		t.Errorf("another replica does not see the user: %v", err)
	}
}

func TestOpenRejectsSimpleProtocol(t *testing.T) {
	url := pgtest.New(t)
	s, err := postgres.Open(t.Context(), url+"&default_query_exec_mode=simple_protocol")
	if err == nil {
		s.Close()
		t.Fatal("Open accepted default_query_exec_mode=simple_protocol")
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	const secret = "s3cr3t-pass"
	_, err := postgres.Open(t.Context(), "postgres://user:"+secret+"@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, secret) {
		t.Errorf("error shows the password: %s", msg)
	}
}

// A database made by the first release (migration 0001 only) upgrades in
// place: its users keep their data and get no permissions boundary.
func TestUpgradeFrom0001(t *testing.T) {
	url := pgtest.New(t)
	first, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, q := range []string{
		string(first),
		`CREATE TABLE schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`,
		`INSERT INTO schema_migrations (version) VALUES (1)`,
		`INSERT INTO users (name_key, name, path, id, created_at, tags) VALUES ('alice', 'Alice', '/old/', 'AIDAOLD', now(), '{"k":"v"}')`,
		`INSERT INTO access_keys (id, user_key, sealed_secret, status, created_at) VALUES ('AKIAOLD', 'alice', '\x00ff', 'Active', now())`,
	} {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("set up a 0001 database: %v", err)
		}
	}

	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Alice" || u.Path != "/old/" || u.Tags["k"] != "v" || u.PermissionsBoundary != "" {
		t.Errorf("upgraded user = %+v", u)
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
	url := pgtest.New(t)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
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
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for name, q := range map[string]string{
		"a policy without its default version": `INSERT INTO managed_policies (name_key, name, path, id, default_version, last_version, created_at, updated_at)
			VALUES ('q', 'q', '/', 'ANPA2', 1, 1, now(), now())`,
		"deleting the default version":          `DELETE FROM policy_versions WHERE policy_key = 'p'`,
		"deleting a policy with versions":       `DELETE FROM managed_policies WHERE name_key = 'p'`,
		"a version of a missing policy":         `INSERT INTO policy_versions (policy_key, version, document, created_at) VALUES ('ghost', 1, '{}', now())`,
		"an inline policy with two owners":      `INSERT INTO inline_policies (user_key, group_key, name_key, name, document) VALUES ('alice', 'devs', 'x', 'x', '{}')`,
		"an inline policy without owner":        `INSERT INTO inline_policies (name_key, name, document) VALUES ('x', 'x', '{}')`,
		"an inline policy of a missing user":    `INSERT INTO inline_policies (user_key, name_key, name, document) VALUES ('ghost', 'x', 'x', '{}')`,
		"an attachment of a missing policy":     `INSERT INTO policy_attachments (user_key, policy_key) VALUES ('alice', 'ghost')`,
		"an attachment without owner":           `INSERT INTO policy_attachments (policy_key) VALUES ('p')`,
		"deleting a user who is a member":       `DELETE FROM users WHERE name_key = 'alice'`,
		"deleting a group with members":         `DELETE FROM groups WHERE name_key = 'devs'`,
		"a default version beyond the last one": `UPDATE managed_policies SET default_version = 2 WHERE name_key = 'p'`,
	} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("the schema accepted %s", name)
		}
	}
	if _, err := s.GetManagedPolicy(ctx, "p"); err != nil {
		t.Errorf("policy after refused changes: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	s, err := postgres.Open(b.Context(), pgtest.New(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Benchmark(b, s)
}

// A database made by the release with migrations 0001 and 0002 upgrades in
// place: its IAM entities are kept and clusters and credentials work.
func TestUpgradeFrom0002(t *testing.T) {
	url := pgtest.New(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	steps := []string{`CREATE TABLE schema_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`}
	for _, f := range []string{"migrations/0001_init.sql", "migrations/0002_iam_entities.sql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, string(b))
	}
	steps = append(steps,
		`INSERT INTO schema_migrations (version) VALUES (1), (2)`,
		`INSERT INTO users (name_key, name, path, id, created_at, tags, permissions_boundary) VALUES ('alice', 'Alice', '/', 'AIDAOLD', now(), '{}', 'arn:aws:iam::123456789012:policy/B')`,
		`INSERT INTO groups (name_key, name, path, id, created_at) VALUES ('devs', 'Devs', '/', 'AGPAOLD', now())`,
		`INSERT INTO group_members (group_key, user_key) VALUES ('devs', 'alice')`,
	)
	for _, q := range steps {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("set up a 0002 database: %v", err)
		}
	}

	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := conn.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) || got[len(got)-1] != int32(len(entries)) {
		t.Errorf("schema_migrations versions = %v, want 1..%d", got, len(entries))
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
	url := pgtest.New(t)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateCluster(ctx, store.Cluster{Identifier: "dev", Engine: "postgres", Source: "config"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCredential(ctx, store.IssuedCredential{ID: "c1", Cluster: "dev", LoginRole: "IAM:a:1", DbUser: "a", State: store.CredentialActive}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const cols = `(id, cluster, login_role, db_user, groups, principal, request_id, created_at, expires_at, state, next_attempt_at)`
	for name, q := range map[string]string{
		"a credential of a missing cluster":   `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'ghost', 'r', 'a', '[]', '', '', now(), now(), 'active', now())`,
		"a credential with an unknown state":  `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'dev', 'r', 'a', '[]', '', '', now(), now(), 'expired', now())`,
		"groups that are not a JSON array":    `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'dev', 'r', 'a', '{"a":1}', '', '', now(), now(), 'active', now())`,
		"a login role taken on the cluster":   `INSERT INTO issued_credentials ` + cols + ` VALUES ('x', 'dev', 'IAM:a:1', 'a', '[]', '', '', now(), now(), 'active', now())`,
		"deleting a cluster with credentials": `DELETE FROM clusters WHERE identifier = 'dev'`,
	} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("the schema accepted %s", name)
		}
	}
	if _, err := s.GetCredential(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused row exists: %v", err)
	}
}
