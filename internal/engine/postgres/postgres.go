package postgres

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbiam/dbiam/internal/engine"
)

// Defaults of Config.
const (
	DefaultMarkerRole       = "dbiam_managed"
	DefaultMaxConns         = 4
	DefaultSCRAMIterations  = 1
	DefaultTerminateTimeout = 5 * time.Second
	DefaultMaxAttempts      = 10
	// MaxMarkerRoleLength leaves room for the derived names
	// (<marker>_groups, <marker>:<group>).
	MaxMarkerRoleLength = 40
)

// Config configures an Engine. Only URL is required.
type Config struct {
	// URL is the admin connection URL or DSN (postgres://…). Use
	// sslmode=verify-full and, with pgx ≥ 5.12, require_auth=scram-sha-256
	// and channel_binding=require against remote servers.
	URL string
	// Password, when set, replaces the URL's password (read from a file
	// or a sealed store by the caller).
	Password engine.Secret
	// BeforeConnect runs before each new admin connection (for example to
	// fetch a rotated password).
	BeforeConnect func(context.Context, *pgx.ConnConfig) error
	// Databases, when not empty, are the managed databases: DbName must
	// be one of them, and a login without DbName gets CONNECT on these
	// only (where PUBLIC lacks it). Empty: every database of the cluster.
	Databases []string
	// MaxConns bounds the pool (default 4).
	MaxConns int32
	// MarkerRole names the marker role that holds every managed login
	// (default "dbiam_managed"); "<MarkerRole>_groups" holds the group
	// wrappers. Installations sharing a cluster must use different
	// markers. At most MaxMarkerRoleLength bytes.
	MarkerRole string
	// SCRAMIterations is the iteration count of the verifiers Issue
	// creates (default 1; see the package documentation).
	SCRAMIterations int
	// AllowSuperuser lets logins act as superuser db users. Off by
	// default: such a login would be a temporary superuser.
	AllowSuperuser bool
	// KeepStatementLogging leaves statement logging on around the
	// statement carrying the verifier (default: switch it off when
	// permitted).
	KeepStatementLogging bool
	// TerminateTimeout bounds the wait for each terminated session
	// (default 5s).
	TerminateTimeout time.Duration
	// MaxAttempts bounds the attempts of a transaction that fails with a
	// transient conflict (serialization failure, deadlock, concurrent
	// creation of the same role or membership); default 10.
	MaxAttempts int
	// MaxBatch is the largest number of concurrent Issue calls written in
	// one transaction (default DefaultMaxBatch; 1 turns batching off).
	// Calls with Groups are always issued alone.
	MaxBatch int
	// IssueWorkers is the number of batched transactions that may run at
	// once (default DefaultIssueWorkers). Calls that arrive while they run
	// wait and are batched together.
	IssueWorkers int
	// ObserveBatch, when set, is told how many logins each committed
	// issuing transaction wrote (1 for a call issued alone). For metrics.
	ObserveBatch func(logins int)
	// Rand is the source of SCRAM salts (default crypto/rand).
	Rand io.Reader
	// Now is the clock used to reject expiries in the past (default
	// time.Now). The database checks expiry with its own clock.
	Now func() time.Time
	// Logger receives debug lines about retries (names only, never
	// secrets). Default: discard.
	Logger *slog.Logger
}

// Engine is the PostgreSQL engine. Create it with New.
type Engine struct {
	pool          *pgxpool.Pool
	connConfig    *pgx.ConnConfig // for connections to other databases (Revoke's fallback)
	beforeConnect func(context.Context, *pgx.ConnConfig) error
	marker        string
	groupMarker   string
	databases     []string // managed databases; empty: all
	iterations    int
	allowSuper    bool
	keepLogging   bool
	termTimeout   time.Duration
	maxAttempts   int
	rand          io.Reader
	now           func() time.Time
	log           *slog.Logger
	quiet         quietCache
	queue         *issueQueue // nil: no batching
	observeBatch  func(logins int)
	// afterBatchRead, when set (tests), runs between the catalog read and
	// the DDL of a batch.
	afterBatchRead func()
}

var _ engine.Engine = (*Engine)(nil)

// New returns an Engine for the cluster at cfg.URL. It does not connect:
// connections are opened on first use (call Verify to check the server).
func New(cfg Config) (*Engine, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's parse errors may quote the URL, password included.
		return nil, errors.New("postgres engine: invalid admin connection URL")
	}
	if !cfg.Password.IsZero() {
		pc.ConnConfig.Password = cfg.Password.Reveal()
	}
	// Never the simple protocol with client-side interpolation
	// (GHSA-j38q-h3ph-jjpq and earlier advisories).
	if pc.ConnConfig.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol {
		pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	}
	if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
		pc.ConnConfig.RuntimeParams["application_name"] = "dbiam"
	}
	// The engine's catalog lookups are all by unique key, but the
	// catalogs are skewed (the marker and a db user can have thousands of
	// members) and grow from a handful of rows while a connection lives:
	// the planner would choose sequential scans, and keep them in cached
	// plans, making every Issue O(logins). Index scans are always right
	// for these queries.
	pc.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	pc.ConnConfig.Tracer = nil
	if cfg.BeforeConnect != nil {
		pc.BeforeConnect = cfg.BeforeConnect
	}
	pc.MaxConns = cfg.MaxConns
	if pc.MaxConns <= 0 {
		pc.MaxConns = DefaultMaxConns
	}
	pc.MinConns = 0

	e := &Engine{
		connConfig:    pc.ConnConfig.Copy(),
		beforeConnect: cfg.BeforeConnect,
		marker:        cfg.MarkerRole,
		iterations:    cfg.SCRAMIterations,
		allowSuper:    cfg.AllowSuperuser,
		keepLogging:   cfg.KeepStatementLogging,
		termTimeout:   cfg.TerminateTimeout,
		maxAttempts:   cfg.MaxAttempts,
		rand:          cfg.Rand,
		now:           cfg.Now,
		log:           cfg.Logger,
		observeBatch:  cfg.ObserveBatch,
	}
	if e.marker == "" {
		e.marker = DefaultMarkerRole
	}
	if err := engine.ValidateRoleName(e.marker); err != nil {
		return nil, fmt.Errorf("postgres engine: marker role: %w", err)
	}
	if len(e.marker) > MaxMarkerRoleLength || strings.Contains(e.marker, ":") {
		return nil, fmt.Errorf("postgres engine: marker role: %w: at most %d bytes and no colon", engine.ErrInvalidName, MaxMarkerRoleLength)
	}
	e.groupMarker = e.marker + "_groups"
	e.databases = []string{}
	for _, d := range cfg.Databases {
		if err := engine.ValidateDatabaseName(d); err != nil {
			return nil, fmt.Errorf("postgres engine: managed databases: %w", err)
		}
		e.databases = append(e.databases, d)
	}
	if e.iterations == 0 {
		e.iterations = DefaultSCRAMIterations
	}
	if e.iterations < 1 {
		return nil, fmt.Errorf("postgres engine: SCRAM iterations must be at least 1, got %d", e.iterations)
	}
	if e.termTimeout <= 0 {
		e.termTimeout = DefaultTerminateTimeout
	}
	if e.maxAttempts <= 0 {
		e.maxAttempts = DefaultMaxAttempts
	}
	switch {
	case cfg.MaxBatch < 0 || cfg.IssueWorkers < 0:
		return nil, errors.New("postgres engine: MaxBatch and IssueWorkers must not be negative")
	case cfg.MaxBatch != 1:
		e.queue = newIssueQueue(cmp.Or(cfg.IssueWorkers, DefaultIssueWorkers), cmp.Or(cfg.MaxBatch, DefaultMaxBatch))
	}
	if e.rand == nil {
		e.rand = rand.Reader
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.pool, err = pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("postgres engine: create pool: %w", err)
	}
	return e, nil
}

// Close closes the pool, waiting for connections in use to be released.
func (e *Engine) Close() error {
	e.pool.Close()
	return nil
}

// MarkerRole returns the name of the role that holds every managed login.
func (e *Engine) MarkerRole() string { return e.marker }

// ident quotes a validated name as an SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// quoteLiteral quotes s as an SQL string literal, whatever the setting of
// standard_conforming_strings (the logic of lib/pq's QuoteLiteral). s must
// not contain NUL (the validators refuse it).
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, `'`, `''`)
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(s, `\`, `\\`) + `'`
	}
	return `'` + s + `'`
}

// lockKey is the advisory lock key that serializes rewrites of one
// database's ACL ("dbia" in the high 32 bits, the database oid below).
func lockKey(dbOID uint32) int64 { return 0x64626961<<32 | int64(dbOID) }

// SQLSTATEs the engine reacts to.
const (
	codeSerialization    = "40001"
	codeDeadlock         = "40P01"
	codeUniqueViolation  = "23505"
	codeDuplicateObject  = "42710"
	codeLockNotAvailable = "55P03"
	codeInternal         = "XX000"
	codeDependentObjects = "2BP01"
	codeUndefinedObject  = "42704"
	codeInsufficientPriv = "42501"
)

// retryable marks an error that a new attempt resolves.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// transient reports whether err is a conflict with a concurrent transaction
// (or another condition) that a new attempt resolves.
func transient(err error) bool {
	var r *retryable
	if errors.As(err, &r) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case codeSerialization, codeDeadlock, codeUniqueViolation, codeDuplicateObject, codeLockNotAvailable:
		return true
	case codeInternal:
		return strings.Contains(pgErr.Message, "tuple concurrently updated")
	}
	return false
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// retry runs fn until it succeeds, fails with a non-transient error, or
// maxAttempts attempts failed, sleeping a little (with jitter) in between.
func (e *Engine) retry(ctx context.Context, op string, fn func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = fn()
		if err == nil || !transient(err) || attempt >= e.maxAttempts {
			return err
		}
		e.log.DebugContext(ctx, "postgres engine: retrying after a conflict", "op", op, "attempt", attempt, "sqlstate", sqlState(err))
		var b [1]byte
		_, _ = io.ReadFull(e.rand, b[:])
		wait := time.Duration(attempt)*2*time.Millisecond + time.Duration(b[0])*20*time.Microsecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// scrubbedError replaces an error whose text quotes a secret. It keeps the
// SQLSTATE for errors.As callers that look for it.
type scrubbedError struct {
	code string
	msg  string
}

func (e *scrubbedError) Error() string    { return e.msg }
func (e *scrubbedError) SQLState() string { return e.code }

// scrub returns err, or a replacement without its text when that text (or
// any field of a PostgreSQL error) contains one of the secrets.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	texts := []string{err.Error()}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		texts = append(texts, pgErr.Message, pgErr.Detail, pgErr.Hint, pgErr.Where, pgErr.InternalQuery)
	}
	for _, t := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(t, s) {
				code := sqlState(err)
				return &scrubbedError{code: code, msg: "database error (SQLSTATE " + code + "); message withheld because it quoted a secret"}
			}
		}
	}
	return err
}

// rollback ends a transaction left open on conn after an error. A broken
// connection is destroyed by the pool on release anyway.
func rollback(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn.Conn().PgConn().TxStatus() != 'I' {
		_ = execAll(ctx, conn.Conn(), []stmt{plain("ROLLBACK")})
	}
}

// execAll runs statements (without parameters) in one round trip over the
// extended protocol: unnamed statements, never prepared or cached, and no
// client-side interpolation. Statements run in order; the first error stops
// the rest.
func execAll(ctx context.Context, conn *pgx.Conn, stmts []stmt) error {
	var b pgconn.Batch
	for _, s := range stmts {
		b.ExecParams(s.sql, nil, nil, nil, nil)
	}
	_, err := conn.PgConn().ExecBatch(ctx, &b).ReadAll()
	return err
}

// execPool runs statements in one round trip on a pooled connection (see
// execAll), rolling back a transaction they leave open on error.
func (e *Engine) execPool(ctx context.Context, stmts ...stmt) error {
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if err := execAll(ctx, conn.Conn(), stmts); err != nil {
		rollback(conn)
		return err
	}
	return nil
}

// stmt is one statement for execAll. It takes no parameters: every value
// in it was validated or quoted (ident, quoteLiteral) when it was built.
type stmt struct{ sql string }

func plain(sql string) stmt { return stmt{sql: sql} }
