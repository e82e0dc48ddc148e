package enginetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbiam/dbiam/internal/engine"
)

// NewFunc returns a fresh engine, built with default options, and a
// superuser URL of the database it is connected to. It registers the
// engine's Close with t.Cleanup.
type NewFunc func(t *testing.T) (engine.Engine, string)

// Run runs the conformance suite.
func Run(t *testing.T, newEngine NewFunc) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewFunc)
	}{
		{"IssueAndLogin", testIssueAndLogin},
		{"TwoCredentialsForOneUser", testTwoCredentials},
		{"PasswordRefusedAfterValidUntil", testExpiry},
		{"DbNameRestriction", testDbName},
		{"Groups", testGroups},
		{"AutoCreate", testAutoCreate},
		{"MissingUser", testMissingUser},
		{"UnknownGroup", testUnknownGroup},
		{"UnknownDatabase", testUnknownDatabase},
		{"LoginExists", testLoginExists},
		{"InvalidRequest", testInvalidRequest},
		{"PrivilegedDbUser", testPrivilegedDbUser},
		{"HostileNames", testHostileNames},
		{"LookAlikeName", testLookAlike},
		{"RevokeIdempotent", testRevokeIdempotent},
		{"RevokeBusy", testRevokeBusy},
		{"RevokeTerminate", testRevokeTerminate},
		{"ListManagedFromCatalog", testListManaged},
		{"Verify", testVerify},
		{"GroupRevocationRacingIssue", testGroupRevocationRace},
		{"Concurrency", testConcurrency},
		{"ConcurrentMixedRequests", testConcurrentMixed},
		{"LogsNeverContainPassword", testLogs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newEngine) })
	}
}

// env is one test's engine, server access and role-name prefix.
type env struct {
	t      *testing.T
	e      engine.Engine
	admin  string // superuser URL of the engine's database
	db     string // that database
	prefix string
	caps   engine.Capabilities
	seq    atomic.Int64
}

func setup(t *testing.T, newEngine NewFunc) *env {
	t.Helper()
	e, admin := newEngine(t)
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("enginetest: admin URL: %v", err)
	}
	v := &env{t: t, e: e, admin: admin, db: cfg.Database, prefix: "et" + randomHex(4)}
	v.caps, err = e.Verify(t.Context())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	t.Cleanup(v.cleanup)
	return v
}

// name returns a role or database name unique to this test.
func (v *env) name(s string) string { return v.prefix + "_" + s }

// login returns a fresh login name for db user user.
func (v *env) login(user string) string {
	return fmt.Sprintf("IAM:%s:%d", user, v.seq.Add(1))
}

// request returns a valid request for an existing db user.
func (v *env) request(user string) engine.IssueRequest {
	return engine.IssueRequest{
		LoginName:  v.login(user),
		DbUser:     user,
		Password:   NewPassword(),
		ValidUntil: time.Now().Add(15 * time.Minute),
		Comment:    "arn:aws:iam::123456789012:user/" + user + " credential " + randomHex(4),
	}
}

func (v *env) issue(req engine.IssueRequest) engine.IssueResponse {
	v.t.Helper()
	resp, err := v.e.Issue(v.t.Context(), req)
	if err != nil {
		v.t.Fatalf("Issue(%q as %q): %v", req.LoginName, req.DbUser, err)
	}
	return resp
}

// NewPassword returns a random 256-bit password in base64url (43
// characters), the kind dbiam generates.
func NewPassword() engine.Secret {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return engine.Secret(base64.RawURLEncoding.EncodeToString(b))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// exec runs SQL as the superuser in database db ("" = the engine's).
func (v *env) exec(db, sql string, args ...any) {
	v.t.Helper()
	conn := v.superConn(db)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(v.t.Context(), sql, args...); err != nil {
		v.t.Fatalf("exec %q: %v", sql, err)
	}
}

func (v *env) superConn(db string) *pgx.Conn {
	v.t.Helper()
	cfg, err := pgx.ParseConfig(v.admin)
	if err != nil {
		v.t.Fatal(err)
	}
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(v.t.Context(), cfg)
	if err != nil {
		v.t.Fatalf("connect as superuser: %v", err)
	}
	return conn
}

// queryString returns the first column of the first row as text.
func (v *env) queryString(sql string, args ...any) string {
	v.t.Helper()
	conn := v.superConn("")
	defer conn.Close(context.Background())
	var s *string
	if err := conn.QueryRow(v.t.Context(), sql, args...).Scan(&s); err != nil {
		v.t.Fatalf("query %q: %v", sql, err)
	}
	if s == nil {
		return ""
	}
	return *s
}

func (v *env) roleExists(name string) bool {
	v.t.Helper()
	return v.queryString(`SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)::text`, name) == "true"
}

// createRole creates a role as the superuser; attrs is trusted SQL.
func (v *env) createRole(name, attrs string) {
	v.t.Helper()
	v.exec("", "CREATE ROLE "+pgx.Identifier{name}.Sanitize()+" "+attrs)
}

// createDatabase creates a database dropped at the end of the test.
func (v *env) createDatabase(name string) {
	v.t.Helper()
	v.exec("", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

// restrict revokes CONNECT on db from PUBLIC, first making sure a
// non-superuser admin keeps CONNECT and may grant it.
func (v *env) restrict(db string) {
	v.t.Helper()
	q := pgx.Identifier{db}.Sanitize()
	if !v.caps.Superuser {
		v.exec("", "GRANT CONNECT ON DATABASE "+q+" TO "+pgx.Identifier{v.caps.User}.Sanitize()+" WITH GRANT OPTION")
	}
	v.exec("", "REVOKE CONNECT ON DATABASE "+q+" FROM PUBLIC")
}

// connect logs in with a credential ("" db = the engine's database).
func (v *env) connect(login string, password engine.Secret, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(v.admin)
	if err != nil {
		return nil, err
	}
	cfg.User = login
	cfg.Password = password.Reveal()
	if db != "" {
		cfg.Database = db
	}
	cfg.ConnectTimeout = 10 * time.Second
	cfg.RuntimeParams = map[string]string{"application_name": "enginetest"}
	cfg.Fallbacks = nil
	return pgx.ConnectConfig(v.t.Context(), cfg)
}

func (v *env) mustConnect(login string, password engine.Secret, db string) *pgx.Conn {
	v.t.Helper()
	conn, err := v.connect(login, password, db)
	if err != nil {
		v.t.Fatalf("log in as %q to %q: %v", login, db, scrubbed(err, password))
	}
	v.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// scrubbed keeps a password out of test output.
func scrubbed(err error, p engine.Secret) string {
	return strings.ReplaceAll(err.Error(), p.Reveal(), "[password]")
}

// sqlState returns the SQLSTATE of err, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// whoami returns session_user and current_user of conn.
func whoami(t *testing.T, conn *pgx.Conn) (session, current string) {
	t.Helper()
	if err := conn.QueryRow(t.Context(), "SELECT session_user::text, current_user::text").Scan(&session, &current); err != nil {
		t.Fatalf("whoami: %v", err)
	}
	return session, current
}

// snapshot renders the cluster's roles, memberships, role settings, role
// comments and database ACLs, to check that a failed call changed nothing.
func (v *env) snapshot() string {
	v.t.Helper()
	return v.queryString(`
		SELECT string_agg(line, E'\n' ORDER BY line) FROM (
			SELECT 'role ' || rolname || ' ' || rolsuper || rolinherit || rolcreaterole || rolcanlogin || ' ' || coalesce(rolvaliduntil::text, '') AS line FROM pg_roles
			UNION ALL
			SELECT 'member ' || roleid::regrole::text || ' ' || member::regrole::text || ' ' || admin_option FROM pg_auth_members
			UNION ALL
			SELECT 'setting ' || setrole || ' ' || setdatabase || ' ' || setconfig::text FROM pg_db_role_setting
			UNION ALL
			SELECT 'comment ' || objoid || ' ' || description FROM pg_shdescription
			UNION ALL
			SELECT 'acl ' || datname || ' ' || coalesce(datacl::text, '') FROM pg_database
		) s`)
}

// cleanup drops the databases and roles this test created.
func (v *env) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgx.ParseConfig(v.admin)
	if err != nil {
		return
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		v.t.Logf("enginetest cleanup: %v", err)
		return
	}
	defer conn.Close(ctx)
	like := "%" + v.prefix + "%"
	_, _ = conn.Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename LIKE $1`, like)
	rows, _ := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1`, like)
	dbs, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, d := range dbs {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{d}.Sanitize()+" WITH (FORCE)"); err != nil {
			v.t.Logf("enginetest cleanup: drop database %s: %v", d, err)
		}
	}
	rows, _ = conn.Query(ctx, `SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, like)
	roles, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, r := range roles {
		q := pgx.Identifier{r}.Sanitize()
		if _, err := conn.Exec(ctx, "DROP OWNED BY "+q); err != nil {
			v.t.Logf("enginetest cleanup: drop owned by %s: %v", r, err)
		}
		if _, err := conn.Exec(ctx, "DROP ROLE "+q); err != nil {
			v.t.Logf("enginetest cleanup: drop role %s: %v", r, err)
		}
	}
}

func testIssueAndLogin(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("alice")
	v.createRole(user, "NOLOGIN")
	req := v.request(user)
	resp := v.issue(req)
	if resp.LoginName != req.LoginName || resp.DbUser != user || resp.CreatedUser {
		t.Errorf("response = %+v", resp)
	}
	if want := req.ValidUntil.UTC().Truncate(time.Microsecond); !resp.ValidUntil.Equal(want) || resp.ValidUntil.After(req.ValidUntil) {
		t.Errorf("ValidUntil = %v, want %v", resp.ValidUntil, want)
	}

	conn := v.mustConnect(req.LoginName, req.Password, "")
	if s, c := whoami(t, conn); s != req.LoginName || c != user {
		t.Errorf("session_user, current_user = %q, %q; want %q, %q", s, c, req.LoginName, user)
	}
	if _, err := conn.Exec(t.Context(), "RESET ROLE"); err != nil {
		t.Fatal(err)
	}
	if s, c := whoami(t, conn); s != req.LoginName || c != user {
		t.Errorf("after RESET ROLE: session_user, current_user = %q, %q; want %q, %q", s, c, req.LoginName, user)
	}
	// Objects created in the session belong to the db user.
	if _, err := conn.Exec(t.Context(), "CREATE TEMP TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	var owner string
	if err := conn.QueryRow(t.Context(), "SELECT tableowner::text FROM pg_tables WHERE tablename = 't'").Scan(&owner); err != nil || owner != user {
		t.Errorf("temp table owner = %q (%v), want %q", owner, err, user)
	}

	// The catalog: LOGIN NOINHERIT, expiry, comment, membership.
	got := v.queryString(`
		SELECT rolcanlogin || ' ' || rolinherit || ' ' || rolsuper || ' ' || (rolvaliduntil = $2) || ' ' ||
		       coalesce(shobj_description(oid, 'pg_authid'), '') || ' ' || pg_has_role(oid, $3, 'MEMBER')
		FROM pg_roles WHERE rolname = $1`, req.LoginName, resp.ValidUntil, user)
	if want := "true false false true " + req.Comment + " true"; got != want {
		t.Errorf("login role = %q, want %q", got, want)
	}
	// A wrong password is refused.
	if _, err := v.connect(req.LoginName, NewPassword(), ""); sqlState(err) != "28P01" {
		t.Errorf("wrong password: err = %v, want SQLSTATE 28P01", err)
	}
}

func testTwoCredentials(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("bob")
	v.createRole(user, "NOLOGIN")
	r1, r2 := v.request(user), v.request(user)
	v.issue(r1)
	c1 := v.mustConnect(r1.LoginName, r1.Password, "")
	v.issue(r2)
	c2 := v.mustConnect(r2.LoginName, r2.Password, "")
	// The first credential still works after the second was issued.
	c1b := v.mustConnect(r1.LoginName, r1.Password, "")
	for i, c := range []*pgx.Conn{c1, c2, c1b} {
		if _, cur := whoami(t, c); cur != user {
			t.Errorf("connection %d: current_user = %q", i, cur)
		}
	}
	if s, _ := whoami(t, c2); s != r2.LoginName {
		t.Errorf("second credential: session_user = %q", s)
	}
}

func testExpiry(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("carol")
	v.createRole(user, "NOLOGIN")
	req := v.request(user)
	req.ValidUntil = time.Now().Add(2 * time.Second)
	v.issue(req)
	conn := v.mustConnect(req.LoginName, req.Password, "")
	time.Sleep(time.Until(req.ValidUntil) + time.Second)
	_, err := v.connect(req.LoginName, req.Password, "")
	if st := sqlState(err); st != "28P01" && st != "28000" {
		t.Fatalf("login after ValidUntil: err = %v, want SQLSTATE 28P01 or 28000", err)
	}
	// A session opened before the expiry survives it (as in Redshift).
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err != nil {
		t.Errorf("session opened before expiry: %v", err)
	}
}

func testDbName(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("dave")
	v.createRole(user, "NOLOGIN")
	other := v.name("other")
	v.createDatabase(other)
	v.restrict(other)
	v.restrict(v.db)

	// DbName = the engine's database: that one only.
	r1 := v.request(user)
	r1.DbName = v.db
	resp := v.issue(r1)
	if !slices.Contains(resp.ConnectGranted, v.db) {
		t.Errorf("ConnectGranted = %q, want %q", resp.ConnectGranted, v.db)
	}
	v.mustConnect(r1.LoginName, r1.Password, v.db)
	if _, err := v.connect(r1.LoginName, r1.Password, other); sqlState(err) != "42501" {
		t.Errorf("login to %q with DbName %q: err = %v, want SQLSTATE 42501", other, v.db, err)
	}

	// DbName = the other database: that one only.
	r2 := v.request(user)
	r2.DbName = other
	v.issue(r2)
	v.mustConnect(r2.LoginName, r2.Password, other)
	if _, err := v.connect(r2.LoginName, r2.Password, v.db); sqlState(err) != "42501" {
		t.Errorf("login to %q with DbName %q: err = %v, want SQLSTATE 42501", v.db, other, err)
	}

	// No DbName: every database.
	r3 := v.request(user)
	resp = v.issue(r3)
	for _, db := range []string{v.db, other} {
		if !slices.Contains(resp.ConnectGranted, db) {
			t.Errorf("ConnectGranted = %q, want it to include %q", resp.ConnectGranted, db)
		}
		v.mustConnect(r3.LoginName, r3.Password, db)
	}
	// The db user's own CONNECT does not leak to the login (NOINHERIT).
	v.exec("", "GRANT CONNECT ON DATABASE "+pgx.Identifier{other}.Sanitize()+" TO "+pgx.Identifier{user}.Sanitize())
	if _, err := v.connect(r1.LoginName, r1.Password, other); sqlState(err) != "42501" {
		t.Errorf("login inherits the db user's CONNECT: err = %v, want SQLSTATE 42501", err)
	}
}

func testGroups(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("erin")
	readers, manual, later := v.name("readers"), v.name("manual"), v.name("later")
	v.createRole(user, "NOLOGIN")
	for _, g := range []string{readers, manual, later} {
		v.createRole(g, "NOLOGIN")
	}
	table := pgx.Identifier{v.name("facts")}.Sanitize()
	v.exec("", "CREATE TABLE "+table+" (x int)")
	v.exec("", "INSERT INTO "+table+" VALUES (42)")
	v.exec("", "GRANT SELECT ON "+table+" TO "+pgx.Identifier{readers}.Sanitize())
	// An administrator made user a member of manual by hand, before.
	v.exec("", "GRANT "+pgx.Identifier{manual}.Sanitize()+" TO "+pgx.Identifier{user}.Sanitize())

	// Without the group, no access.
	r0 := v.request(user)
	v.issue(r0)
	c0 := v.mustConnect(r0.LoginName, r0.Password, "")
	if _, err := c0.Exec(t.Context(), "SELECT * FROM "+table); sqlState(err) != "42501" {
		t.Fatalf("select without the group: err = %v, want 42501", err)
	}

	req := v.request(user)
	req.Groups = []string{readers, manual, later, readers}
	resp := v.issue(req)
	slices.Sort(resp.GrantedGroups)
	if want := []string{later, manual, readers}; !slices.Equal(resp.GrantedGroups, want) {
		t.Errorf("GrantedGroups = %q, want %q", resp.GrantedGroups, want)
	}
	conn := v.mustConnect(req.LoginName, req.Password, "")
	var x int
	if err := conn.QueryRow(t.Context(), "SELECT x FROM "+table).Scan(&x); err != nil || x != 42 {
		t.Fatalf("select through the group: %d, %v", x, err)
	}
	if _, err := conn.Exec(t.Context(), "SET ROLE "+pgx.Identifier{readers}.Sanitize()); err != nil {
		t.Errorf("SET ROLE to the group: %v", err)
	}
	// A second credential asking for the same group grants nothing new.
	again := v.request(user)
	again.Groups = []string{readers}
	if resp := v.issue(again); len(resp.GrantedGroups) != 0 {
		t.Errorf("second issue: GrantedGroups = %q", resp.GrantedGroups)
	}
	// An administrator also grants later by hand, after dbiam did.
	v.exec("", "GRANT "+pgx.Identifier{later}.Sanitize()+" TO "+pgx.Identifier{user}.Sanitize())

	m, err := v.e.ListManaged(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{readers, manual, later} {
		if !slices.Contains(m.GroupGrants, engine.GroupGrant{DbUser: user, Group: g}) {
			t.Errorf("ListManaged lacks the grant of %q to %q: %+v", g, user, m.GroupGrants)
		}
	}

	if err := v.e.RevokeGroups(t.Context(), user, []string{readers, manual, later}, nil); err != nil {
		t.Fatal(err)
	}
	// The group's privileges are gone, for new and existing sessions.
	fresh := v.request(user)
	v.issue(fresh)
	c2 := v.mustConnect(fresh.LoginName, fresh.Password, "")
	if _, err := c2.Exec(t.Context(), "SELECT * FROM "+table); sqlState(err) != "42501" {
		t.Errorf("select after RevokeGroups: err = %v, want 42501", err)
	}
	// Hand-made memberships survive.
	for _, g := range []string{manual, later} {
		if got := v.queryString(`SELECT EXISTS (SELECT 1 FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole)::text`,
			pgx.Identifier{g}.Sanitize(), pgx.Identifier{user}.Sanitize()); got != "true" {
			t.Errorf("hand-granted membership of %q in %q was revoked", user, g)
		}
	}
	if got := v.queryString(`SELECT pg_has_role($1, $2, 'MEMBER')::text`, user, readers); got != "false" {
		t.Errorf("%q is still a member of %q", user, readers)
	}
	m, err = v.e.ListManaged(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, gg := range m.GroupGrants {
		if gg.DbUser == user {
			t.Errorf("ListManaged still reports %+v", gg)
		}
	}
	// Idempotent, and unknown groups are skipped.
	before := v.snapshot()
	if err := v.e.RevokeGroups(t.Context(), user, []string{readers, v.name("nosuch")}, nil); err != nil {
		t.Errorf("second RevokeGroups: %v", err)
	}
	if v.snapshot() != before {
		t.Errorf("second RevokeGroups changed the catalog")
	}
	if err := v.e.RevokeGroups(t.Context(), `x"; DROP ROLE postgres; --`, []string{readers}, nil); !errors.Is(err, engine.ErrInvalidName) {
		t.Errorf("RevokeGroups with a hostile user: %v", err)
	}
}

func testAutoCreate(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("frank")
	req := v.request(user)
	req.AutoCreate = true
	resp := v.issue(req)
	if !resp.CreatedUser {
		t.Errorf("CreatedUser = false")
	}
	if got := v.queryString(`SELECT rolcanlogin::text FROM pg_roles WHERE rolname = $1`, user); got != "false" {
		t.Errorf("auto-created user: rolcanlogin = %q, want false", got)
	}
	conn := v.mustConnect(req.LoginName, req.Password, "")
	if _, c := whoami(t, conn); c != user {
		t.Errorf("current_user = %q", c)
	}
	// The second time, the user exists.
	r2 := v.request(user)
	r2.AutoCreate = true
	if resp := v.issue(r2); resp.CreatedUser {
		t.Errorf("second issue: CreatedUser = true")
	}
}

// expectNothing checks that a failed Issue returns want and changed nothing.
func (v *env) expectNothing(req engine.IssueRequest, want error) {
	v.t.Helper()
	before := v.snapshot()
	existed := engine.ValidateRoleName(req.LoginName) == nil && v.roleExists(req.LoginName)
	_, err := v.e.Issue(v.t.Context(), req)
	if !errors.Is(err, want) {
		v.t.Fatalf("Issue = %v, want %v", err, want)
	}
	if strings.Contains(err.Error(), req.Password.Reveal()) {
		v.t.Fatalf("the error contains the password")
	}
	if after := v.snapshot(); after != before {
		v.t.Errorf("the failed Issue changed the catalog:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !existed && engine.ValidateRoleName(req.LoginName) == nil && v.roleExists(req.LoginName) {
		v.t.Errorf("login role %q exists", req.LoginName)
	}
}

func testMissingUser(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	v.expectNothing(v.request(v.name("ghost")), engine.ErrNoSuchUser)
}

func testUnknownGroup(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user, good := v.name("gina"), v.name("good")
	v.createRole(user, "NOLOGIN")
	v.createRole(good, "NOLOGIN")
	req := v.request(user)
	req.Groups = []string{good, v.name("nosuch")}
	v.expectNothing(req, engine.ErrNoSuchGroup)

	// With AutoCreate, the user is not created either.
	req = v.request(v.name("newbie"))
	req.AutoCreate = true
	req.Groups = []string{v.name("nosuch")}
	v.expectNothing(req, engine.ErrNoSuchGroup)

	// A login role is not a group.
	person := v.name("person")
	v.createRole(person, "LOGIN")
	req = v.request(user)
	req.Groups = []string{person}
	v.expectNothing(req, engine.ErrNoSuchGroup)
}

func testUnknownDatabase(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("hank")
	v.createRole(user, "NOLOGIN")
	req := v.request(user)
	req.DbName = v.name("nosuchdb")
	v.expectNothing(req, engine.ErrNoSuchDatabase)
	req.DbName = "template0" // accepts no connections
	v.expectNothing(req, engine.ErrNoSuchDatabase)
}

func testLoginExists(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("ivan")
	v.createRole(user, "NOLOGIN")
	req := v.request(user)
	v.issue(req)
	again := req
	again.Password = NewPassword()
	v.expectNothing(again, engine.ErrLoginExists)
	// The first password still works.
	v.mustConnect(req.LoginName, req.Password, "")
}

func testInvalidRequest(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("judy")
	v.createRole(user, "NOLOGIN")
	for name, mutate := range map[string]func(*engine.IssueRequest){
		"short password":  func(r *engine.IssueRequest) { r.Password = "tooshort" },
		"past expiry":     func(r *engine.IssueRequest) { r.ValidUntil = time.Now().Add(-time.Minute) },
		"no expiry":       func(r *engine.IssueRequest) { r.ValidUntil = time.Time{} },
		"control comment": func(r *engine.IssueRequest) { r.Comment = "a\x00b" },
	} {
		t.Run(name, func(t *testing.T) {
			req := v.request(user)
			mutate(&req)
			v.expectNothing(req, engine.ErrInvalidRequest)
		})
	}
}

func testPrivilegedDbUser(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	super := v.name("super")
	v.createRole(super, "NOLOGIN SUPERUSER")
	v.expectNothing(v.request(super), engine.ErrPrivilegedRole)

	// A login dbiam manages cannot be used as a db user or a group.
	user := v.name("kate")
	v.createRole(user, "NOLOGIN")
	first := v.request(user)
	v.issue(first)
	v.expectNothing(v.request(first.LoginName), engine.ErrPrivilegedRole)
	req := v.request(user)
	req.Groups = []string{first.LoginName}
	v.expectNothing(req, engine.ErrNoSuchGroup)
}

// HostileNames are the names the suite tries in every name field.
var HostileNames = []string{
	`x"; DROP ROLE postgres; --`,
	strings.Repeat("x", 200),
	"PUBLIC",
	"public",
	"pg_foo",
	"none",
	"current_user",
	"SESSION_USER",
	"a\x00b",
	"a\x01b",
	"a\nb",
	"al\u202eice",
	"a'b",
	`a\b`,
	" alice",
	"",
}

func testHostileNames(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user, group := v.name("leo"), v.name("grp")
	v.createRole(user, "NOLOGIN")
	v.createRole(group, "NOLOGIN")
	before := v.snapshot()
	for _, bad := range HostileNames {
		for field, mutate := range map[string]func(*engine.IssueRequest){
			"LoginName": func(r *engine.IssueRequest) { r.LoginName = bad },
			"DbUser":    func(r *engine.IssueRequest) { r.DbUser = bad },
			"Group":     func(r *engine.IssueRequest) { r.Groups = []string{group, bad} },
			"DbName": func(r *engine.IssueRequest) {
				if bad == "" {
					r.DbName = "\x00" // "" means every database
				} else {
					r.DbName = bad
				}
			},
		} {
			req := v.request(user)
			req.AutoCreate = true
			mutate(&req)
			if field == "DbName" && engine.ValidateDatabaseName(req.DbName) == nil {
				// Valid as a database name (e.g. "public"): it must
				// simply not exist.
				if _, err := v.e.Issue(t.Context(), req); !errors.Is(err, engine.ErrNoSuchDatabase) {
					t.Errorf("DbName %q: %v, want ErrNoSuchDatabase", req.DbName, err)
				}
				continue
			}
			if _, err := v.e.Issue(t.Context(), req); !errors.Is(err, engine.ErrInvalidName) {
				t.Errorf("%s %q: Issue = %v, want ErrInvalidName", field, bad, err)
			}
		}
		if _, err := v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: bad, Terminate: true}); !errors.Is(err, engine.ErrInvalidName) {
			t.Errorf("Revoke %q = %v, want ErrInvalidName", bad, err)
		}
		if err := v.e.RevokeGroups(t.Context(), user, []string{bad}, nil); !errors.Is(err, engine.ErrInvalidName) {
			t.Errorf("RevokeGroups %q = %v, want ErrInvalidName", bad, err)
		}
	}
	if after := v.snapshot(); after != before {
		t.Errorf("hostile names changed the catalog:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// testLookAlike: "аlice" with a Cyrillic а is a valid, distinct role name:
// quoting is exact, so it never touches the Latin "alice".
func testLookAlike(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	latin := v.name("alice")
	cyrillic := v.name("\u0430lice")
	v.createRole(latin, "NOLOGIN")
	grp := v.name("g")
	v.createRole(grp, "NOLOGIN")
	req := v.request(cyrillic)
	req.AutoCreate = true
	req.Groups = []string{grp}
	resp := v.issue(req)
	if !resp.CreatedUser {
		t.Errorf("the look-alike user was not created")
	}
	conn := v.mustConnect(req.LoginName, req.Password, "")
	if _, c := whoami(t, conn); c != cyrillic {
		t.Errorf("current_user = %q, want %q", c, cyrillic)
	}
	if got := v.queryString(`SELECT pg_has_role($1, $2, 'MEMBER')::text`, latin, grp); got != "false" {
		t.Errorf("the Latin user got the group")
	}
}

func testRevokeIdempotent(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("mia")
	v.createRole(user, "NOLOGIN")
	resp, err := v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: v.login(user)})
	if err != nil || !resp.NotFound || resp.Dropped {
		t.Fatalf("Revoke of a missing login = %+v, %v", resp, err)
	}
	other := v.name("other")
	v.createDatabase(other)
	v.restrict(other)
	req := v.request(user)
	req.DbName = other
	v.issue(req)
	resp, err = v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName})
	if err != nil || !resp.Dropped || resp.Busy {
		t.Fatalf("Revoke = %+v, %v", resp, err)
	}
	if v.roleExists(req.LoginName) {
		t.Fatalf("login still exists")
	}
	if _, err := v.connect(req.LoginName, req.Password, other); err == nil {
		t.Fatalf("revoked login still connects")
	}
	resp, err = v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName})
	if err != nil || !resp.NotFound {
		t.Fatalf("second Revoke = %+v, %v", resp, err)
	}
	// Roles dbiam does not manage are refused, and untouched.
	before := v.snapshot()
	for _, name := range []string{user, v.queryString("SELECT current_user::text")} {
		if _, err := v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: name, Terminate: true}); !errors.Is(err, engine.ErrNotManaged) {
			t.Errorf("Revoke %q = %v, want ErrNotManaged", name, err)
		}
	}
	if v.snapshot() != before {
		t.Errorf("Revoke of unmanaged roles changed the catalog")
	}
}

func (v *env) waitNoSessions(login string) {
	v.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for v.queryString(`SELECT count(*)::text FROM pg_stat_activity WHERE usename = $1`, login) != "0" {
		if time.Now().After(deadline) {
			v.t.Fatalf("sessions of %q did not end", login)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testRevokeBusy(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("nick")
	v.createRole(user, "NOLOGIN")
	req := v.request(user)
	v.issue(req)
	conn, err := v.connect(req.LoginName, req.Password, "")
	if err != nil {
		t.Fatal(scrubbed(err, req.Password))
	}
	resp, err := v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName})
	if err != nil || !resp.Busy || resp.Sessions != 1 || resp.Dropped {
		t.Fatalf("Revoke with a live session = %+v, %v", resp, err)
	}
	// Disabled: no new login, but the live session goes on.
	if _, err := v.connect(req.LoginName, req.Password, ""); sqlState(err) != "28000" && sqlState(err) != "28P01" {
		t.Errorf("login after a busy revoke: err = %v, want 28000 or 28P01", err)
	}
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err != nil {
		t.Errorf("the live session broke: %v", err)
	}
	m, err := v.e.ListManaged(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Logins, func(l engine.ManagedLogin) bool { return l.Name == req.LoginName })
	if i < 0 {
		t.Errorf("ListManaged lacks the disabled login")
	} else if l := m.Logins[i]; !l.Disabled || l.Sessions != 1 || !l.Expired(time.Now()) {
		t.Errorf("ListManaged after a busy revoke: %+v", l)
	}
	// Again while busy: still busy.
	if resp, err := v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName}); err != nil || !resp.Busy {
		t.Errorf("second Revoke = %+v, %v", resp, err)
	}
	conn.Close(t.Context())
	v.waitNoSessions(req.LoginName)
	resp, err = v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName})
	if err != nil || !resp.Dropped {
		t.Fatalf("Revoke after the session ended = %+v, %v", resp, err)
	}
}

func testRevokeTerminate(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("olga")
	v.createRole(user, "NOLOGIN")
	req := v.request(user)
	v.issue(req)
	conn := v.mustConnect(req.LoginName, req.Password, "")
	conn2 := v.mustConnect(req.LoginName, req.Password, "")
	resp, err := v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
	if err != nil || !resp.Dropped || resp.Terminated != 2 || resp.Busy {
		t.Fatalf("Revoke with Terminate = %+v, %v", resp, err)
	}
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err == nil {
		t.Errorf("the terminated session still works")
	}
	_ = conn2
	if v.roleExists(req.LoginName) {
		t.Errorf("login still exists")
	}
}

func testListManaged(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user := v.name("pat")
	v.createRole(user, "NOLOGIN")
	other := v.name("other")
	v.createDatabase(other)
	v.restrict(other)
	r1, r2 := v.request(user), v.request(user)
	r2.DbName = other
	resp1, resp2 := v.issue(r1), v.issue(r2)
	v.mustConnect(r2.LoginName, r2.Password, other)

	// A second engine, with no state of its own, finds them in the catalog.
	e2, _ := newEngine(t)
	m, err := e2.ListManaged(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	find := func(name string) *engine.ManagedLogin {
		for i := range m.Logins {
			if m.Logins[i].Name == name {
				return &m.Logins[i]
			}
		}
		t.Fatalf("ListManaged lacks %q", name)
		return nil
	}
	l1, l2 := find(r1.LoginName), find(r2.LoginName)
	if l1.DbUser != user || !l1.ValidUntil.Equal(resp1.ValidUntil) || l1.Comment != r1.Comment || l1.Disabled || l1.Sessions != 0 || l1.Expired(time.Now()) {
		t.Errorf("first login = %+v", *l1)
	}
	if l2.DbUser != user || !l2.ValidUntil.Equal(resp2.ValidUntil) || l2.Sessions != 1 || !slices.Contains(l2.Databases, other) {
		t.Errorf("second login = %+v", *l2)
	}
	for _, l := range m.Logins {
		if l.Name == user || l.Name == "postgres" {
			t.Errorf("ListManaged reports the unmanaged role %q", l.Name)
		}
	}
}

func testVerify(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	c := v.caps
	if c.User == "" || c.ServerVersionNum < engine.MinServerVersionNum || c.ServerVersion == "" {
		t.Errorf("Verify = %+v", c)
	}
	attrs := v.queryString(`SELECT rolsuper || ' ' || rolcreaterole FROM pg_roles WHERE rolname = $1`, c.User)
	if want := fmt.Sprintf("%t %t", c.Superuser, c.CreateRole); attrs != want {
		t.Errorf("Verify: superuser, createrole = %s; catalog says %s", want, attrs)
	}
	if !c.CanIssue() {
		t.Errorf("CanIssue = false: %q", c.Problems())
	}
	db := func(c engine.Capabilities) engine.DatabaseInfo {
		for _, d := range c.Databases {
			if d.Name == v.db {
				return d
			}
		}
		t.Fatalf("Verify lacks database %q", v.db)
		return engine.DatabaseInfo{}
	}
	if d := db(c); !d.PublicConnect || !d.AllowConnections || d.IsTemplate {
		t.Errorf("before REVOKE: %+v", d)
	}
	if !strings.Contains(strings.Join(c.Problems(), "\n"), "PUBLIC holds CONNECT on database "+v.db) {
		t.Errorf("Problems does not mention PUBLIC CONNECT on %q: %q", v.db, c.Problems())
	}
	v.restrict(v.db)
	c2, err := v.e.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := db(c2); d.PublicConnect || !d.CanGrantConnect {
		t.Errorf("after REVOKE: %+v", d)
	}
}

func testConcurrency(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user, group := v.name("quinn"), v.name("crowd")
	v.createRole(group, "NOLOGIN")
	v.restrict(v.db) // every issue rewrites the database's ACL
	// A deadlock (say, a pool exhausted by nested acquisitions) fails
	// the test in a minute instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const workers, each = 8, 10
	var (
		mu   sync.Mutex
		reqs []engine.IssueRequest
		wg   sync.WaitGroup
		errs = make(chan error, workers*each)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				req := v.request(user)
				req.AutoCreate = true
				req.Groups = []string{group}
				if _, err := v.e.Issue(ctx, req); err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				reqs = append(reqs, req)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Issue: %v", err)
	}
	if len(reqs) != workers*each {
		t.Fatalf("%d of %d issues succeeded", len(reqs), workers*each)
	}
	for _, req := range []engine.IssueRequest{reqs[0], reqs[len(reqs)-1]} {
		conn := v.mustConnect(req.LoginName, req.Password, "")
		conn.Close(t.Context())
	}
	// And revoke them all, concurrently.
	var failed atomic.Int64
	work := make(chan string)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				if resp, err := v.e.Revoke(ctx, engine.RevokeRequest{LoginName: name, Terminate: true}); err != nil || !resp.Dropped {
					failed.Add(1)
					t.Errorf("concurrent Revoke %q = %+v, %v", name, resp, err)
				}
			}
		}()
	}
	for _, r := range reqs {
		work <- r.LoginName
	}
	close(work)
	wg.Wait()
	if failed.Load() == 0 {
		if n := v.queryString(`SELECT count(*)::text FROM pg_roles WHERE rolname LIKE $1`, "IAM:"+user+":%"); n != "0" {
			t.Errorf("%s logins left after revoking all", n)
		}
	}
}

// testGroupRevocationRace revokes a group while a new credential of the
// same user asks for it, the new credential having been recorded after the
// caller's first look at its records (the engine calls stillNeeded, which
// here starts that Issue and finds no credential needing the group): the
// Issue must not rely on the grant being revoked, so the user ends up
// holding the group, granted by that Issue.
func testGroupRevocationRace(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	user, readers := v.name("uma"), v.name("readers")
	v.createRole(user, "NOLOGIN")
	v.createRole(readers, "NOLOGIN")
	first := v.request(user)
	first.Groups = []string{readers}
	if resp := v.issue(first); !slices.Equal(resp.GrantedGroups, []string{readers}) {
		t.Fatalf("first issue: GrantedGroups = %q", resp.GrantedGroups)
	}
	second := v.request(user)
	second.Groups = []string{readers}
	var (
		resp engine.IssueResponse
		err  error
		done = make(chan struct{})
	)
	stillNeeded := func(ctx context.Context) ([]string, error) {
		go func() {
			defer close(done)
			resp, err = v.e.Issue(t.Context(), second)
		}()
		// Long enough for an Issue that does not wait to finish.
		select {
		case <-done:
		case <-time.After(500 * time.Millisecond):
		}
		return nil, nil
	}
	if err := v.e.RevokeGroups(t.Context(), user, []string{readers}, stillNeeded); err != nil {
		t.Fatal(err)
	}
	<-done
	if err != nil {
		t.Fatalf("the racing Issue: %v", err)
	}
	if got := v.queryString(`SELECT pg_has_role($1, $2, 'MEMBER')::text`, user, readers); got != "true" {
		t.Errorf("after the race %q is not a member of %q: the new credential lost its group", user, readers)
	}
	if !slices.Equal(resp.GrantedGroups, []string{readers}) {
		t.Errorf("racing Issue: GrantedGroups = %q, want the group granted again", resp.GrantedGroups)
	}
	// And stillNeeded keeps what it returns.
	if err := v.e.RevokeGroups(t.Context(), user, []string{readers}, func(context.Context) ([]string, error) { return []string{readers}, nil }); err != nil {
		t.Fatal(err)
	}
	if got := v.queryString(`SELECT pg_has_role($1, $2, 'MEMBER')::text`, user, readers); got != "true" {
		t.Errorf("a group stillNeeded returned was revoked")
	}
}

// testConcurrentMixed issues, from many clients at once, requests that
// succeed and requests that must fail, for several users and databases
// (engines may combine concurrent requests): each gets exactly the outcome
// it would get alone, and only the successful ones leave a login.
func testConcurrentMixed(t *testing.T, newEngine NewFunc) {
	v := setup(t, newEngine)
	existing, other := v.name("rita"), v.name("sam")
	v.createRole(existing, "NOLOGIN")
	v.restrict(v.db)
	taken := v.request(existing)
	v.issue(taken)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	type outcome struct {
		req  engine.IssueRequest
		want error // nil: success
	}
	var cases []outcome
	for i := range 60 {
		req := v.request(existing)
		var want error
		switch i % 6 {
		case 0, 1: // restricted to the engine's database
			req.DbName = v.db
		case 2: // a user created by the first request that asks
			req.DbUser, req.LoginName, req.AutoCreate = other, v.login(other), true
		case 3:
			req.DbUser, req.LoginName = v.name(fmt.Sprintf("ghost%d", i)), v.login(v.name("ghost"))
			want = engine.ErrNoSuchUser
		case 4:
			req.DbName = v.name("nosuchdb")
			want = engine.ErrNoSuchDatabase
		case 5:
			if i%12 == 5 {
				req.LoginName = taken.LoginName
				want = engine.ErrLoginExists
			}
		}
		cases = append(cases, outcome{req, want})
	}
	var wg sync.WaitGroup
	resps := make([]engine.IssueResponse, len(cases))
	errs := make([]error, len(cases))
	next := atomic.Int64{}
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(cases); i = int(next.Add(1)) - 1 {
				resps[i], errs[i] = v.e.Issue(ctx, cases[i].req)
			}
		}()
	}
	wg.Wait()
	created := 0
	for i, c := range cases {
		switch {
		case c.want == nil && errs[i] != nil:
			t.Errorf("request %d (%s as %s, db %q): %v", i, c.req.LoginName, c.req.DbUser, c.req.DbName, errs[i])
		case c.want != nil && !errors.Is(errs[i], c.want):
			t.Errorf("request %d (%s as %s, db %q): %v, want %v", i, c.req.LoginName, c.req.DbUser, c.req.DbName, errs[i], c.want)
		case c.want == nil:
			if resps[i].LoginName != c.req.LoginName || resps[i].DbUser != c.req.DbUser || resps[i].ValidUntil.IsZero() {
				t.Errorf("request %d: response %+v", i, resps[i])
			}
			if resps[i].CreatedUser {
				created++
			}
		}
		if c.want != nil && c.want != engine.ErrLoginExists && v.roleExists(c.req.LoginName) {
			t.Errorf("request %d failed but left login %q", i, c.req.LoginName)
		}
	}
	if created != 1 {
		t.Errorf("%d responses report creating %q, want 1", created, other)
	}
	// Every successful login works, on the restricted database too.
	for i, c := range cases {
		if c.want == nil && errs[i] == nil && i%6 < 3 {
			conn := v.mustConnect(c.req.LoginName, c.req.Password, "")
			var user string
			if err := conn.QueryRow(t.Context(), "SELECT current_user::text").Scan(&user); err != nil || user != c.req.DbUser {
				t.Errorf("request %d: current_user = %q, %v; want %q", i, user, err, c.req.DbUser)
			}
			conn.Close(t.Context())
		}
	}
	// The taken login still has its own password.
	v.mustConnect(taken.LoginName, taken.Password, "").Close(t.Context())
}

// serverLog returns the path of the server's log file and its current size,
// or skips the test when it cannot be found or read.
func (v *env) serverLog() (string, int64) {
	v.t.Helper()
	dataDir := v.queryString(`SELECT current_setting('data_directory')`)
	var candidates []string
	if f := v.queryString(`SELECT pg_current_logfile()`); f != "" {
		if !filepath.IsAbs(f) {
			f = filepath.Join(dataDir, f)
		}
		candidates = append(candidates, f)
	}
	// pgtest's layout: <dir>/data and <dir>/postgres.log.
	candidates = append(candidates, filepath.Join(filepath.Dir(dataDir), "postgres.log"))
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			if _, err := os.ReadFile(c); err == nil {
				return c, fi.Size()
			}
		}
	}
	v.t.Skipf("cannot read the server log (tried %q)", candidates)
	return "", 0
}

func (v *env) logSince(path string, offset int64) string {
	v.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		v.t.Fatal(err)
	}
	if int64(len(b)) < offset {
		return string(b)
	}
	return string(b[offset:])
}

func testLogs(t *testing.T, newEngine NewFunc) {
	v0 := setup(t, newEngine)
	path, _ := v0.serverLog()
	for _, s := range []string{
		"ALTER SYSTEM SET log_statement = 'all'",
		"ALTER SYSTEM SET log_min_error_statement = 'error'",
		"ALTER SYSTEM SET log_min_duration_statement = 0",
		"SELECT pg_reload_conf()",
	} {
		v0.exec("", s)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, v0.admin)
		if err != nil {
			t.Logf("restore logging: %v", err)
			return
		}
		defer conn.Close(ctx)
		for _, s := range []string{
			"ALTER SYSTEM RESET log_statement",
			"ALTER SYSTEM RESET log_min_error_statement",
			"ALTER SYSTEM RESET log_min_duration_statement",
			"SELECT pg_reload_conf()",
		} {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Logf("restore logging: %v", err)
			}
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for v0.queryString("SHOW log_statement") != "all" {
		if time.Now().After(deadline) {
			t.Fatal("log_statement did not become 'all'")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A new engine, whose connections all start with logging on.
	v := setup(t, newEngine)
	_, offset := v.serverLog()
	user, group := v.name("rita"), v.name("loggers")
	v.createRole(group, "NOLOGIN")
	v.restrict(v.db)
	req := v.request(user)
	req.AutoCreate = true
	req.Groups = []string{group}
	req.DbName = v.db
	v.issue(req)
	conn := v.mustConnect(req.LoginName, req.Password, "")
	conn.Close(t.Context())
	// Failing paths too: a duplicate, a wrong password.
	dup := req
	dup.Password = NewPassword()
	if _, err := v.e.Issue(t.Context(), dup); !errors.Is(err, engine.ErrLoginExists) {
		t.Errorf("duplicate Issue = %v", err)
	}
	if _, err := v.connect(req.LoginName, dup.Password, ""); err == nil {
		t.Errorf("wrong password accepted")
	}
	second := v.request(user)
	v.issue(second)
	if _, err := v.e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true}); err != nil {
		t.Errorf("Revoke: %v", err)
	}
	probe := "enginetest-log-probe-" + randomHex(8)
	v.queryString("SELECT '" + probe + "'::text")

	var log string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		log = v.logSince(path, offset)
		if strings.Contains(log, probe) || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(log, probe) {
		t.Fatalf("statement logging is not on: the probe is not in the log")
	}
	for _, p := range []engine.Secret{req.Password, dup.Password, second.Password} {
		if strings.Contains(log, p.Reveal()) {
			t.Errorf("an issued password appears in the server log")
		}
	}
	if v.caps.CanSuppressLogs {
		if strings.Contains(log, "SCRAM-SHA-256$") {
			t.Errorf("a SCRAM verifier appears in the server log although the admin may switch logging off")
		}
	} else {
		t.Logf("the admin cannot switch logging off: not checking for verifiers")
	}
}
