package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/engine/enginetest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestConformanceSuperuser runs the suite with a superuser admin.
func TestConformanceSuperuser(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) (engine.Engine, string) {
		u := pgtest.New(t)
		return newEngine(t, Config{URL: u}), u
	})
}

// TestConformanceUnbatched runs the suite with batching off (MaxBatch 1).
func TestConformanceUnbatched(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) (engine.Engine, string) {
		u := pgtest.New(t)
		return newEngine(t, Config{URL: u, MaxBatch: 1}), u
	})
}

// TestConformanceCreateRole runs the suite with the recommended admin: a
// non-superuser with CREATEROLE, pg_signal_backend, SET on the logging
// parameters and CONNECT WITH GRANT OPTION on its database.
func TestConformanceCreateRole(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) (engine.Engine, string) {
		adminURL, dbURL := createRoleAdmin(t)
		return newEngine(t, Config{URL: adminURL}), dbURL
	})
}

// createRoleAdmin creates a fresh database and a non-superuser admin role
// (CREATEROLE, pg_signal_backend, SET on the logging parameters, CONNECT
// WITH GRANT OPTION on the database) and returns the admin's URL and the
// superuser's URL of that database.
func createRoleAdmin(t *testing.T) (adminURL, dbURL string) {
	t.Helper()
	super := pgtest.Server(t)
	name := "adm_" + randomHex(4)
	password := randomHex(16)
	superExec(t, super,
		"CREATE ROLE "+name+" LOGIN CREATEROLE PASSWORD '"+password+"'",
		"GRANT pg_signal_backend TO "+name,
		"GRANT SET ON PARAMETER log_statement, log_min_error_statement, log_min_duration_statement TO "+name,
	)
	t.Cleanup(func() { superExec(t, super, "DROP OWNED BY "+name, "DROP ROLE "+name) }) // after the database is gone
	dbURL = pgtest.New(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	superExec(t, dbURL, "GRANT CONNECT ON DATABASE "+pgx.Identifier{db}.Sanitize()+" TO "+name+" WITH GRANT OPTION")
	u.User = url.UserPassword(name, password)
	return u.String(), dbURL
}

func superExec(t *testing.T, u string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func request(user string) engine.IssueRequest {
	return engine.IssueRequest{
		LoginName:  "IAM:" + user + ":" + randomHex(4),
		DbUser:     user,
		Password:   enginetest.NewPassword(),
		ValidUntil: time.Now().Add(15 * time.Minute),
	}
}

func loginConfig(t *testing.T, admin, login string, password engine.Secret) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = login, password.Reveal()
	return cfg
}

// The verifier PostgreSQL computes for a password equals ours for the same
// salt and iteration count, and logins work whatever the iteration count.
func TestSCRAMAgainstServer(t *testing.T) {
	u := pgtest.New(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	role := "scram_" + randomHex(4)
	password := enginetest.NewPassword()
	// The server hashes a plaintext itself here (test only).
	if _, err := conn.Exec(ctx, "SET password_encryption = 'scram-sha-256'"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE ROLE "+role+" PASSWORD "+quoteLiteral(password.Reveal())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { superExec(t, u, "DROP ROLE "+role) })
	var stored string
	if err := conn.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(stored, "$")
	_, saltB64, _ := strings.Cut(parts[1], ":")
	salt := mustB64(t, saltB64)
	if got := engine.SCRAMVerifier(password.Reveal(), salt, 4096); got != stored {
		t.Fatalf("our verifier differs from the server's")
	}

	for _, iter := range []int{1, 2, 4096} {
		e := newEngine(t, Config{URL: u, SCRAMIterations: iter})
		user := "scramuser_" + randomHex(4)
		req := request(user)
		req.AutoCreate = true
		if _, err := e.Issue(ctx, req); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = e.Revoke(context.Background(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
		})
		var v string
		if err := conn.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", req.LoginName).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if !engine.IsSCRAMVerifier(v) || !strings.HasPrefix(v, "SCRAM-SHA-256$"+strconv.Itoa(iter)+":") {
			t.Errorf("iterations %d: stored verifier has the wrong shape", iter)
		}
		lc, err := pgx.ConnectConfig(ctx, loginConfig(t, u, req.LoginName, req.Password))
		if err != nil {
			t.Fatalf("iterations %d: login: %v", iter, err)
		}
		lc.Close(ctx)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The simple protocol is never used, even when the URL asks for it.
func TestNoSimpleProtocol(t *testing.T) {
	u := pgtest.New(t) + "&default_query_exec_mode=simple_protocol"
	e := newEngine(t, Config{URL: u})
	if m := e.pool.Config().ConnConfig.DefaultQueryExecMode; m == pgx.QueryExecModeSimpleProtocol {
		t.Fatalf("DefaultQueryExecMode = %v", m)
	}
	req := request("nosimple_" + randomHex(4))
	req.AutoCreate = true
	if _, err := e.Issue(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName}); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"url":        {URL: "postgres://u:secretpw@[::1"},
		"marker":     {URL: "postgres://localhost/x", MarkerRole: "pg_marker"},
		"long":       {URL: "postgres://localhost/x", MarkerRole: strings.Repeat("m", 41)},
		"colon":      {URL: "postgres://localhost/x", MarkerRole: "a:b"},
		"iterations": {URL: "postgres://localhost/x", SCRAMIterations: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%s: error contains the URL password: %v", name, err)
		}
	}
}

// With statement logging on, the statements after the one carrying the
// verifier are still logged (logging is restored), the verifier is not.
func TestLoggingRestoredAfterVerifier(t *testing.T) {
	u := pgtest.New(t)
	// Logging on for this engine's sessions only, through the URL.
	e := newEngine(t, Config{URL: u + "&log_statement=all&log_min_error_statement=error"})
	logPath := serverLogPath(t, u)
	before, err := os.ReadFile(logPath)
	if err != nil {
		t.Skipf("cannot read the server log: %v", err)
	}
	user := "logged_" + randomHex(4)
	req := request(user)
	req.AutoCreate = true
	req.Comment = "comment-" + randomHex(6)
	resp, err := e.Issue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.LogsSuppressed {
		t.Errorf("LogsSuppressed = false for a superuser")
	}
	t.Cleanup(func() {
		_, _ = e.Revoke(context.Background(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
	})
	log := waitForLog(t, logPath, len(before), req.Comment)
	if !strings.Contains(log, "COMMENT ON ROLE") || !strings.Contains(log, req.Comment) {
		t.Errorf("the statements after CREATE ROLE were not logged:\n%s", log)
	}
	if strings.Contains(log, "SCRAM-SHA-256$") || strings.Contains(log, "PASSWORD") {
		t.Errorf("the CREATE ROLE statement was logged")
	}
}

func queryText(t *testing.T, u, sql string, args ...any) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var s string
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// Objects a login owns itself (after SET ROLE NONE in a schema where it may
// create), in the admin database and in another one, do not block Revoke:
// they are reassigned to the db user, by a superuser admin or a CREATEROLE
// one. A superuser admin also removes privileges others granted to the
// login (a CREATEROLE admin cannot: only the grantor or a superuser can).
func TestRevokeReassignsOwnedObjects(t *testing.T) {
	for name, tc := range map[string]struct {
		admin   func(t *testing.T) (string, string)
		grantee string // who may create in the schema
	}{
		"superuser":  {func(t *testing.T) (string, string) { u := pgtest.New(t); return u, u }, "login"},
		"createrole": {createRoleAdmin, "PUBLIC"},
	} {
		t.Run(name, func(t *testing.T) {
			adminURL, u := tc.admin(t)
			other := "owned_" + randomHex(4)
			superExec(t, u, "CREATE DATABASE "+other)
			otherURL := withDatabase(t, u, other)
			e := newEngine(t, Config{URL: adminURL})
			user := "owner_" + randomHex(4)
			req := request(user)
			req.AutoCreate = true
			if _, err := e.Issue(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			grantee := "PUBLIC"
			if tc.grantee == "login" {
				grantee = pgx.Identifier{req.LoginName}.Sanitize()
			}
			for _, db := range []string{u, otherURL} {
				superExec(t, db, "CREATE SCHEMA open", "GRANT USAGE, CREATE ON SCHEMA open TO "+grantee)
			}
			t.Cleanup(func() {
				superExec(t, u, "DROP DATABASE "+other+" WITH (FORCE)", "DROP SCHEMA open CASCADE", "DROP ROLE "+user)
			})
			for _, db := range []string{u, otherURL} {
				conn, err := pgx.ConnectConfig(t.Context(), loginConfig(t, db, req.LoginName, req.Password))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{"SET ROLE NONE", "CREATE TABLE open.mine (x int)"} {
					if _, err := conn.Exec(t.Context(), s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
				conn.Close(t.Context())
			}
			resp, err := e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
			if err != nil || !resp.Dropped {
				t.Fatalf("Revoke = %+v, %v", resp, err)
			}
			for _, db := range []string{u, otherURL} {
				if owner := queryText(t, db, "SELECT tableowner::text FROM pg_tables WHERE schemaname = 'open' AND tablename = 'mine'"); owner != user {
					t.Errorf("table owner after Revoke = %q, want %q", owner, user)
				}
			}
			// The admin did not keep the memberships it borrowed.
			caps, err := e.Verify(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := queryText(t, u, "SELECT count(*)::text FROM pg_auth_members WHERE member = $1::regrole", caps.User); !caps.Superuser && got != "1" { // pg_signal_backend
				t.Errorf("the admin holds %s memberships after Revoke, want 1", got)
			}
		})
	}
}

func withDatabase(t *testing.T, u, db string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.Path = "/" + db
	return p.String()
}

// A marker role someone can become would give access to every login:
// Issue refuses to work with it.
func TestUnsafeMarkerRefused(t *testing.T) {
	u := pgtest.New(t)
	marker := "mk_" + randomHex(4)
	e := newEngine(t, Config{URL: u, MarkerRole: marker})
	user := "mkuser_" + randomHex(4)
	req := request(user)
	req.AutoCreate = true
	if _, err := e.Issue(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	intruder := "intruder_" + randomHex(4)
	superExec(t, u, "CREATE ROLE "+intruder, "GRANT "+marker+" TO "+intruder)
	t.Cleanup(func() {
		_, _ = e.Revoke(context.Background(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
		superExec(t, u, "DROP ROLE "+intruder, "DROP ROLE "+marker, "DROP ROLE "+user)
	})
	if _, err := e.Issue(t.Context(), request(user)); !errors.Is(err, engine.ErrPermission) {
		t.Fatalf("Issue with a marker that has members = %v, want ErrPermission", err)
	}
}

func TestWrapperName(t *testing.T) {
	if got := wrapperName("dbiam_managed", "readers"); got != "dbiam_managed:readers" {
		t.Errorf("wrapperName = %q", got)
	}
	seen := map[string]string{}
	for _, g := range []string{
		strings.Repeat("g", 63),
		strings.Repeat("g", 62) + "h",
		strings.Repeat("é", 31) + "x",
		strings.Repeat("é", 31) + "y",
		strings.Repeat("g", 49),
		strings.Repeat("g", 50),
	} {
		w := wrapperName(strings.Repeat("m", MaxMarkerRoleLength), g)
		if len(w) > engine.MaxNameLength || !utf8.ValidString(w) || engine.ValidateRoleName(w) != nil {
			t.Errorf("wrapperName(%q) = %q (%d bytes)", g, w, len(w))
		}
		if prev, ok := seen[w]; ok {
			t.Errorf("wrapperName collision: %q and %q", prev, g)
		}
		seen[w] = g
	}
}

func TestQuoteLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              `'plain'`,
		"o'brien":            `'o''brien'`,
		`back\slash`:         `E'back\\slash'`,
		`'; DROP ROLE x; --`: `'''; DROP ROLE x; --'`,
	} {
		if got := quoteLiteral(in); got != want {
			t.Errorf("quoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	secret := "SCRAM-SHA-256$1:abc$def:ghi"
	pgErr := &pgconn.PgError{Code: "42601", Message: `syntax error at or near "` + secret + `"`}
	err := scrub(errors.Join(errors.New("issue"), pgErr), secret)
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("scrub kept the secret: %v", err)
	}
	var s interface{ SQLState() string }
	if !errors.As(err, &s) || s.SQLState() != "42601" {
		t.Errorf("scrub lost the SQLSTATE")
	}
	plain := errors.New("role exists")
	if scrub(plain, secret) != plain {
		t.Errorf("scrub replaced an innocent error")
	}
}

func TestTransient(t *testing.T) {
	for code, want := range map[string]bool{"40001": true, "40P01": true, "23505": true, "42710": true, "42501": false, "2BP01": false} {
		if got := transient(&pgconn.PgError{Code: code}); got != want {
			t.Errorf("transient(%s) = %v", code, got)
		}
	}
	if !transient(&pgconn.PgError{Code: "XX000", Message: "tuple concurrently updated"}) {
		t.Errorf("tuple concurrently updated is not transient")
	}
	if transient(&pgconn.PgError{Code: "XX000", Message: "cache lookup failed"}) || transient(errors.New("x")) {
		t.Errorf("other errors are transient")
	}
}

// Config.Databases limits DbName and the databases a login without DbName
// can reach.
func TestManagedDatabases(t *testing.T) {
	u := pgtest.New(t)
	db := queryText(t, u, "SELECT current_database()::text")
	other := "unmanaged_" + randomHex(4)
	superExec(t, u, "CREATE DATABASE "+other, "REVOKE CONNECT ON DATABASE "+other+" FROM PUBLIC",
		"REVOKE CONNECT ON DATABASE "+pgx.Identifier{db}.Sanitize()+" FROM PUBLIC")
	t.Cleanup(func() { superExec(t, u, "DROP DATABASE "+other+" WITH (FORCE)") })
	e := newEngine(t, Config{URL: u, Databases: []string{db}})
	user := "managed_" + randomHex(4)
	req := request(user)
	req.AutoCreate = true
	req.DbName = other
	if _, err := e.Issue(t.Context(), req); !errors.Is(err, engine.ErrNoSuchDatabase) {
		t.Fatalf("Issue for an unmanaged database = %v, want ErrNoSuchDatabase", err)
	}
	req.DbName = ""
	resp, err := e.Issue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.Revoke(context.Background(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
		superExec(t, u, "DROP ROLE "+user)
	})
	if len(resp.ConnectGranted) != 1 || resp.ConnectGranted[0] != db {
		t.Errorf("ConnectGranted = %q, want [%q]", resp.ConnectGranted, db)
	}
	cfg := loginConfig(t, u, req.LoginName, req.Password)
	cfg.Database = other
	if _, err := pgx.ConnectConfig(t.Context(), cfg); err == nil {
		t.Errorf("the login reached an unmanaged database")
	}
	if _, err := New(Config{URL: u, Databases: []string{"a\x00"}}); !errors.Is(err, engine.ErrInvalidName) {
		t.Errorf("New with a bad managed database = %v", err)
	}
}

// The log check of the conformance suite would catch a verifier: with
// KeepStatementLogging the CREATE ROLE statement is logged (the residual
// risk documented for admins that may not switch logging off), but never
// the password.
func TestVerifierLoggedWhenLoggingKept(t *testing.T) {
	u := pgtest.New(t)
	e := newEngine(t, Config{URL: u + "&log_statement=all", KeepStatementLogging: true})
	logPath := serverLogPath(t, u)
	before, err := os.ReadFile(logPath)
	if err != nil {
		t.Skipf("cannot read the server log: %v", err)
	}
	req := request("kept_" + randomHex(4))
	req.AutoCreate = true
	resp, err := e.Issue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.Revoke(context.Background(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
		superExec(t, u, "DROP ROLE "+pgx.Identifier{req.DbUser}.Sanitize())
	})
	if resp.LogsSuppressed {
		t.Errorf("LogsSuppressed = true with KeepStatementLogging")
	}
	log := waitForLog(t, logPath, len(before), "SCRAM-SHA-256$")
	if !strings.Contains(log, "SCRAM-SHA-256$1:") {
		t.Errorf("the verifier is not in the log: the conformance check would be blind")
	}
	if strings.Contains(log, req.Password.Reveal()) {
		t.Errorf("the password is in the log")
	}
}

func serverLogPath(t *testing.T, u string) string {
	t.Helper()
	dataDir := queryText(t, u, "SELECT current_setting('data_directory')")
	return strings.TrimSuffix(dataDir, "/data") + "/postgres.log"
}

// waitForLog returns the log written after offset once it contains want
// (or after a few seconds).
func waitForLog(t *testing.T, path string, offset int, want string) string {
	t.Helper()
	var log string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		log = string(b[min(offset, len(b)):])
		if strings.Contains(log, want) {
			break
		}
	}
	return log
}

// An admin with CREATEROLE but without SET on the logging parameters can
// issue; Verify and the response say that logs were not suppressed.
func TestAdminWithoutLogPrivileges(t *testing.T) {
	super := pgtest.Server(t)
	name := "weak_" + randomHex(4)
	password := randomHex(16)
	superExec(t, super, "CREATE ROLE "+name+" LOGIN CREATEROLE PASSWORD '"+password+"'")
	t.Cleanup(func() { superExec(t, super, "DROP OWNED BY "+name, "DROP ROLE "+name) })
	dbURL := pgtest.New(t)
	u, _ := url.Parse(dbURL)
	u.User = url.UserPassword(name, password)
	e := newEngine(t, Config{URL: u.String()})
	caps, err := e.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if caps.Superuser || !caps.CreateRole || caps.CanTerminate || caps.CanSuppressLogs || !caps.CanIssue() {
		t.Errorf("Verify = %+v", caps)
	}
	problems := strings.Join(caps.Problems(), "\n")
	for _, want := range []string{"pg_signal_backend", "statement logging"} {
		if !strings.Contains(problems, want) {
			t.Errorf("Problems lacks %q:\n%s", want, problems)
		}
	}
	req := request("weakuser_" + randomHex(4))
	req.AutoCreate = true
	resp, err := e.Issue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		superExec(t, dbURL, "DROP ROLE "+pgx.Identifier{req.LoginName}.Sanitize(), "DROP ROLE "+req.DbUser)
	})
	if resp.LogsSuppressed {
		t.Errorf("LogsSuppressed = true without the privilege")
	}
	conn, err := pgx.ConnectConfig(t.Context(), loginConfig(t, dbURL, req.LoginName, req.Password))
	if err != nil {
		t.Fatal(err)
	}
	// Without pg_signal_backend, Revoke with Terminate reports the
	// missing privilege and leaves the login disabled.
	_, err = e.Revoke(t.Context(), engine.RevokeRequest{LoginName: req.LoginName, Terminate: true})
	if !errors.Is(err, engine.ErrPermission) {
		t.Errorf("Revoke with Terminate without pg_signal_backend = %v, want ErrPermission", err)
	}
	conn.Close(t.Context())
	if got := queryText(t, dbURL, "SELECT rolcanlogin::text FROM pg_roles WHERE rolname = $1", req.LoginName); got != "false" {
		t.Errorf("login not disabled: rolcanlogin = %s", got)
	}
}

func TestPoolIsBounded(t *testing.T) {
	e := newEngine(t, Config{URL: "postgres://localhost/x"})
	if got := e.pool.Config().MaxConns; got != DefaultMaxConns {
		t.Errorf("MaxConns = %d", got)
	}
	e = newEngine(t, Config{URL: "postgres://localhost/x", MaxConns: 2})
	if got := e.pool.Config().MaxConns; got != 2 {
		t.Errorf("MaxConns = %d", got)
	}
}

// The engine's own roles cannot be named in a request; this is checked
// before any connection is made.
func TestReservedNamesRefused(t *testing.T) {
	e := newEngine(t, Config{URL: "postgres://127.0.0.1:1/x?connect_timeout=1"})
	for name, tc := range map[string]struct {
		mutate func(*engine.IssueRequest)
		want   error
	}{
		"login is the marker":   {func(r *engine.IssueRequest) { r.LoginName = "dbiam_managed" }, engine.ErrInvalidName},
		"login is a wrapper":    {func(r *engine.IssueRequest) { r.LoginName = "dbiam_managed:x" }, engine.ErrInvalidName},
		"user is the marker":    {func(r *engine.IssueRequest) { r.DbUser = "dbiam_managed" }, engine.ErrPrivilegedRole},
		"user is a wrapper":     {func(r *engine.IssueRequest) { r.DbUser = "dbiam_managed:readers" }, engine.ErrPrivilegedRole},
		"group is group marker": {func(r *engine.IssueRequest) { r.Groups = []string{"dbiam_managed_groups"} }, engine.ErrNoSuchGroup},
	} {
		req := request("alice")
		tc.mutate(&req)
		if _, err := e.Issue(t.Context(), req); !errors.Is(err, tc.want) {
			t.Errorf("%s: Issue = %v, want %v", name, err, tc.want)
		}
	}
}

func TestQuietSQL(t *testing.T) {
	off, restore := quietSQL([]string{"log_min_duration_statement", "log_statement", "pgaudit.log"})
	if want := "SELECT set_config('log_statement', 'none', true), set_config('log_min_duration_statement', '-1', true), " +
		"set_config('pgaudit.log', 'none', true)"; off != want {
		t.Errorf("off = %s", off)
	}
	if want := "SELECT set_config('log_statement', NULL, true), set_config('log_min_duration_statement', NULL, true), " +
		"set_config('pgaudit.log', NULL, true)"; restore != want {
		t.Errorf("restore = %s", restore)
	}
	if off, _ := quietSQL(nil); off != "" {
		t.Errorf("quietSQL without privileges = %q", off)
	}
}
