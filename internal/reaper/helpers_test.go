package reaper_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/clustercreds"
	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/engine/enginetest"
	"github.com/dbiam/dbiam/internal/engine/postgres"
	"github.com/dbiam/dbiam/internal/reaper"
	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/sqlite"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

// The Engines cache of the credentials API is what dbiam passes as Config.Engines.
var _ reaper.EngineSource = (*clustercreds.Engines)(nil)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is one test's PostgreSQL database, engine (with a marker role unique
// to the test, since roles are shared by the whole server), SQLite store
// with cluster "c1", and clock.
type env struct {
	t      *testing.T
	admin  string // superuser URL of the test's database
	prefix string // every role the test creates contains it
	marker string
	eng    *postgres.Engine
	store  *sqlite.Store
	dbPath string
	clock  *clock
	seq    atomic.Int64
}

const clusterID = "c1"

func newEnv(t *testing.T) *env {
	t.Helper()
	v := &env{t: t, admin: pgtest.New(t), prefix: "rp" + randomHex(4)}
	v.marker = v.prefix + "_marker"
	t.Cleanup(v.dropRoles) // after the engine is closed
	v.eng = v.newEngine()
	v.dbPath = filepath.Join(t.TempDir(), "dbiam.db")
	v.store = openStore(t, v.dbPath)
	v.clock = newClock(time.Now().UTC())
	v.addCluster(clusterID)
	return v
}

func (v *env) newEngine() *postgres.Engine {
	v.t.Helper()
	e, err := postgres.New(postgres.Config{URL: v.admin, MarkerRole: v.marker})
	if err != nil {
		v.t.Fatal(err)
	}
	v.t.Cleanup(func() { e.Close() })
	return e
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (v *env) addCluster(id string) {
	v.t.Helper()
	now := time.Now().UTC()
	if err := v.store.CreateCluster(v.t.Context(), store.Cluster{
		Identifier: id, Engine: "postgres", Address: "127.0.0.1", Port: 5432, AdminURL: "postgres://x",
		DefaultDatabase: "postgres", Source: "config", CreatedAt: now,
	}); err != nil {
		v.t.Fatal(err)
	}
}

// name returns a role name unique to this test.
func (v *env) name(s string) string { return v.prefix + "_" + s }

// logger writes to the test's output.
func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// engines serves the test's engine for every cluster.
func (v *env) engines(e engine.Engine) reaper.EngineSource {
	return reaper.EngineSourceFunc(func(context.Context, store.Cluster) (engine.Engine, error) { return e, nil })
}

func (v *env) reaper(owner string, eng reaper.EngineSource, mod func(*reaper.Config)) *reaper.Reaper {
	v.t.Helper()
	if eng == nil {
		eng = v.engines(v.eng)
	}
	cfg := reaper.Config{Store: v.store, Engines: eng, Now: v.clock.Now, Logger: logger(v.t).With("owner", owner), Owner: owner}
	if mod != nil {
		mod(&cfg)
	}
	r, err := reaper.New(cfg)
	if err != nil {
		v.t.Fatal(err)
	}
	return r
}

func (v *env) runOnce(r *reaper.Reaper) reaper.Report {
	v.t.Helper()
	rep, err := r.RunOnce(v.t.Context())
	if err != nil {
		v.t.Fatalf("RunOnce: %v", err)
	}
	v.t.Logf("report: %+v", rep)
	return rep
}

// createRole creates a role as the superuser; attrs is trusted SQL.
func (v *env) createRole(name, attrs string) {
	v.t.Helper()
	v.exec("CREATE ROLE " + pgx.Identifier{name}.Sanitize() + " " + attrs)
}

func (v *env) exec(sql string, args ...any) {
	v.t.Helper()
	conn := v.superConn()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(v.t.Context(), sql, args...); err != nil {
		v.t.Fatalf("exec %q: %v", sql, err)
	}
}

func (v *env) superConn() *pgx.Conn {
	v.t.Helper()
	conn, err := pgx.Connect(v.t.Context(), v.admin)
	if err != nil {
		v.t.Fatalf("connect as superuser: %v", err)
	}
	return conn
}

func (v *env) queryBool(sql string, args ...any) bool {
	v.t.Helper()
	conn := v.superConn()
	defer conn.Close(context.Background())
	var b bool
	if err := conn.QueryRow(v.t.Context(), sql, args...).Scan(&b); err != nil {
		v.t.Fatalf("query %q: %v", sql, err)
	}
	return b
}

func (v *env) roleExists(name string) bool {
	v.t.Helper()
	return v.queryBool(`SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, name)
}

func (v *env) canLogin(name string) bool {
	v.t.Helper()
	return v.queryBool(`SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, name)
}

// isMember reports whether user is a member of group, directly or not.
func (v *env) isMember(user, group string) bool {
	v.t.Helper()
	return v.queryBool(`SELECT pg_has_role($1, $2, 'MEMBER')`, user, group)
}

// managedLogins lists the roles the marker holds, from the catalog.
func (v *env) managedLogins() []string {
	v.t.Helper()
	conn := v.superConn()
	defer conn.Close(context.Background())
	rows, err := conn.Query(v.t.Context(), `
		SELECT l.rolname::text FROM pg_roles m
		JOIN pg_auth_members a ON a.member = m.oid JOIN pg_roles l ON l.oid = a.roleid
		WHERE m.rolname = $1 ORDER BY 1`, v.marker)
	if err != nil {
		v.t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		v.t.Fatal(err)
	}
	return names
}

// dropRoles drops every role the test created (logins, users, groups,
// wrappers, markers), ending their sessions first.
func (v *env) dropRoles() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, v.admin)
	if err != nil {
		v.t.Logf("cleanup: %v", err)
		return
	}
	defer conn.Close(ctx)
	like := "%" + v.prefix + "%"
	_, _ = conn.Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename LIKE $1`, like)
	rows, _ := conn.Query(ctx, `SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY length(rolname) DESC`, like)
	roles, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, r := range roles {
		q := pgx.Identifier{r}.Sanitize()
		if _, err := conn.Exec(ctx, "DROP OWNED BY "+q); err != nil {
			v.t.Logf("cleanup: drop owned by %s: %v", r, err)
		}
		if _, err := conn.Exec(ctx, "DROP ROLE "+q); err != nil {
			v.t.Logf("cleanup: drop role %s: %v", r, err)
		}
	}
}

// cred is one issued credential of a test.
type cred struct {
	id, login, user string
	password        engine.Secret
	groups          []string
	expires         time.Time
}

// issueMode says how far an issuance gets, to simulate crashes.
type issueMode int

const (
	issueComplete   issueMode = iota // record "issuing", DDL, record "active"
	crashBeforeDDL                   // record "issuing", then nothing
	crashAfterDDL                    // record "issuing", DDL, never "active"
	noRecord                         // DDL only: the record is lost
	issueFailsGroup                  // record, DDL fails (unknown group), record "failed"
)

// issue issues a credential for user the way clustercreds does (record
// first, then the DDL, then "active"), stopping where mode says. The
// engine's clock and the database's are real: expires must be in the real
// future.
func (v *env) issue(ctx context.Context, eng engine.Engine, cluster, user string, groups []string, expires time.Time, mode issueMode) (cred, error) {
	n := v.seq.Add(1)
	c := cred{
		id: fmt.Sprintf("cred-%s-%d", v.prefix, n), login: fmt.Sprintf("IAM:%s:%d", user, n), user: user,
		password: enginetest.NewPassword(), groups: groups, expires: expires.UTC().Truncate(time.Millisecond),
	}
	if mode != noRecord {
		now := time.Now().UTC()
		if err := v.store.CreateCredential(ctx, store.IssuedCredential{
			ID: c.id, Cluster: cluster, LoginRole: c.login, DbUser: user, Groups: groups,
			Principal: "arn:aws:iam::123456789012:user/test", RequestID: "req", CreatedAt: now, ExpiresAt: c.expires,
			State: store.CredentialIssuing, NextAttemptAt: c.expires,
		}); err != nil {
			return c, err
		}
	}
	if mode == crashBeforeDDL {
		return c, nil
	}
	req := engine.IssueRequest{LoginName: c.login, DbUser: user, Groups: groups, Password: c.password, ValidUntil: c.expires,
		Comment: "dbiam credential " + c.id}
	if mode == issueFailsGroup {
		req.Groups = append(slices.Clone(groups), v.name("nosuchgroup"))
	}
	_, err := eng.Issue(ctx, req)
	if mode == issueFailsGroup {
		if !errors.Is(err, engine.ErrNoSuchGroup) {
			return c, fmt.Errorf("issue with an unknown group: err = %v, want ErrNoSuchGroup", err)
		}
		_, err = v.store.UpdateCredential(ctx, c.id, func(r store.IssuedCredential) (store.IssuedCredential, error) {
			r.State, r.LastError, r.NextAttemptAt = store.CredentialFailed, err.Error(), time.Now().UTC()
			return r, nil
		})
		return c, err
	}
	if err != nil {
		return c, err
	}
	if mode != issueComplete {
		return c, nil
	}
	_, err = v.store.UpdateCredential(ctx, c.id, func(r store.IssuedCredential) (store.IssuedCredential, error) {
		r.State = store.CredentialActive
		return r, nil
	})
	return c, err
}

func (v *env) mustIssue(user string, groups []string, expires time.Time) cred {
	v.t.Helper()
	c, err := v.issue(v.t.Context(), v.eng, clusterID, user, groups, expires, issueComplete)
	if err != nil {
		v.t.Fatalf("issue for %s: %v", user, err)
	}
	return c
}

func (v *env) record(id string) store.IssuedCredential {
	v.t.Helper()
	c, err := v.store.GetCredential(v.t.Context(), id)
	if err != nil {
		v.t.Fatal(err)
	}
	return c
}

// liveRecords returns the records that are not dropped.
func (v *env) liveRecords(cluster string) []store.IssuedCredential {
	v.t.Helper()
	cs, err := v.store.ListCredentialsByCluster(v.t.Context(), cluster,
		[]string{store.CredentialIssuing, store.CredentialActive, store.CredentialRevoking, store.CredentialFailed}, 0)
	if err != nil {
		v.t.Fatal(err)
	}
	return cs
}

// connect logs in with a credential.
func (v *env) connect(c cred) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(v.admin)
	if err != nil {
		return nil, err
	}
	cfg.User, cfg.Password = c.login, c.password.Reveal()
	cfg.ConnectTimeout = 10 * time.Second
	cfg.Fallbacks = nil
	return pgx.ConnectConfig(v.t.Context(), cfg)
}

// countingEngine counts the calls to Revoke per login and to RevokeGroups.
type countingEngine struct {
	engine.Engine
	mu           sync.Mutex
	revokes      map[string]int
	revokeGroups int
}

func newCountingEngine(e engine.Engine) *countingEngine {
	return &countingEngine{Engine: e, revokes: make(map[string]int)}
}

func (c *countingEngine) Revoke(ctx context.Context, req engine.RevokeRequest) (engine.RevokeResponse, error) {
	c.mu.Lock()
	c.revokes[req.LoginName]++
	c.mu.Unlock()
	return c.Engine.Revoke(ctx, req)
}

func (c *countingEngine) RevokeGroups(ctx context.Context, dbUser string, groups []string, stillNeeded func(context.Context) ([]string, error)) error {
	c.mu.Lock()
	c.revokeGroups++
	c.mu.Unlock()
	return c.Engine.RevokeGroups(ctx, dbUser, groups, stillNeeded)
}

// blockingEngine is a cluster that hangs: every call waits for its context.
type blockingEngine struct{ engine.Engine }

func (blockingEngine) Revoke(ctx context.Context, _ engine.RevokeRequest) (engine.RevokeResponse, error) {
	<-ctx.Done()
	return engine.RevokeResponse{}, fmt.Errorf("revoke login: %w", ctx.Err())
}

func (blockingEngine) ListManaged(ctx context.Context) (engine.Managed, error) {
	<-ctx.Done()
	return engine.Managed{}, fmt.Errorf("list managed logins: %w", ctx.Err())
}

func (blockingEngine) RevokeGroups(ctx context.Context, _ string, _ []string, _ func(context.Context) ([]string, error)) error {
	<-ctx.Done()
	return fmt.Errorf("revoke groups: %w", ctx.Err())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
