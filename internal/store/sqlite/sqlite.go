package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// readers is the size of the read-only connection pool.
const readers = 4

// Store is a store.Store in one SQLite file.
type Store struct {
	w *sql.DB // the single writer connection; transactions are BEGIN IMMEDIATE
	r *sql.DB // read-only connections

	stmts  stmtCache // the reads prepared on r, see query
	wstmts stmtCache // the hot writes prepared on w, see exec
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed, with mode 0600) the SQLite database at
// path and brings its schema up to date. The directory must exist.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("open sqlite store: unsupported path %q (want a file path)", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}

	common := url.Values{}
	common.Add("_pragma", "busy_timeout(5000)")
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "synchronous(NORMAL)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := migrate(ctx, w); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s := &Store{w: w, r: r}
	s.stmts.db, s.wstmts.db = r, w
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	return s, nil
}

// createPrivate creates the database file with mode 0600 if it is missing,
// and tightens the mode of an existing file that others could read.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return err
		}
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// migrate applies the embedded migrations that schema_migrations does not
// list, in order, each in its own (BEGIN IMMEDIATE) transaction, so that two
// processes opening the same file at once serialize.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := sqlbase.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m sqlbase.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, m.Version); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	return nil
}

// Ping checks that both connection pools work.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.stmts.close(), s.wstmts.close(), s.r.Close(), s.w.Close())
}

// errCode returns the extended SQLite result code of err, or 0.
func errCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := errCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool { return errCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

type scanner interface{ Scan(dest ...any) error }

// Users.

const userColumns = `name, path, id, created_at, tags, permissions_boundary`

func scanUser(row scanner) (store.User, error) {
	var (
		u    store.User
		at   int64
		tags string
	)
	if err := row.Scan(&u.Name, &u.Path, &u.ID, &at, &tags, &u.PermissionsBoundary); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = fromMicros(at)
	t, err := sqlbase.DecodeTags(tags)
	if err != nil {
		return store.User{}, err
	}
	u.Tags = t
	return u, nil
}

// CreateUser implements store.UserStore.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	tags, err := sqlbase.EncodeTags(u.Tags)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	_, err = s.w.ExecContext(ctx,
		`INSERT INTO users (name_key, name, path, id, created_at, tags, permissions_boundary) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sqlbase.NameKey(u.Name), u.Name, u.Path, u.ID, micros(u.CreatedAt), tags, u.PermissionsBoundary)
	switch {
	case isUnique(err):
		return fmt.Errorf("create user %q: %w", u.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	return nil
}

// GetUser implements store.UserStore.
func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.queryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE name_key = ?`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.User{}, fmt.Errorf("get user %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.User{}, fmt.Errorf("get user %q: %w", name, err)
	}
	return u, nil
}

// ListUsers implements store.UserStore. The marker is the name key of the
// last user of the previous page.
func (s *Store) ListUsers(ctx context.Context, page store.Page) ([]store.User, string, error) {
	limit := page.Limit()
	rows, err := s.query(ctx,
		`SELECT `+userColumns+` FROM users WHERE name_key > ? ORDER BY name_key LIMIT ?`,
		page.Marker, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	if len(users) > limit {
		users = users[:limit]
		return users, sqlbase.NameKey(users[limit-1].Name), nil
	}
	return users, "", nil
}

// UpdateUser implements store.UserStore.
func (s *Store) UpdateUser(ctx context.Context, name string, fn func(store.User) (store.User, error)) (store.User, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	key := sqlbase.NameKey(name)
	old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name_key = ?`, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.User{}, fmt.Errorf("update user %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	u, err := fn(old)
	if err != nil {
		return store.User{}, err
	}
	tags, err := sqlbase.EncodeTags(u.Tags)
	if err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	u, err = scanUser(tx.QueryRowContext(ctx,
		`UPDATE users SET name_key = ?, name = ?, path = ?, id = ?, created_at = ?, tags = ?, permissions_boundary = ?
		 WHERE name_key = ? RETURNING `+userColumns,
		sqlbase.NameKey(u.Name), u.Name, u.Path, u.ID, micros(u.CreatedAt), tags, u.PermissionsBoundary, key))
	switch {
	case isUnique(err):
		return store.User{}, fmt.Errorf("update user %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	return u, nil
}

// DeleteUser implements store.UserStore. It looks for what still refers to
// the user first, to name every cause; the foreign keys are the backstop.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.deleteReferenced(ctx, "user", name,
		`SELECT EXISTS (SELECT 1 FROM access_keys WHERE user_key = ?1),
		        EXISTS (SELECT 1 FROM group_members WHERE user_key = ?1),
		        EXISTS (SELECT 1 FROM inline_policies WHERE user_key = ?1),
		        EXISTS (SELECT 1 FROM policy_attachments WHERE user_key = ?1)
		 FROM users WHERE name_key = ?1`,
		[]string{"access keys", "group memberships", "inline policies", "attached policies"},
		`DELETE FROM users WHERE name_key = ?`)
}

// deleteReferenced deletes the record with the name key of name in one
// transaction: causesSQL (one row of booleans, no row when the record does
// not exist) tells what still refers to it, and the deleteSQL statements,
// run in order, delete it when nothing does. All take the name key as their
// only parameter.
func (s *Store) deleteReferenced(ctx context.Context, what, name, causesSQL string, causeNames []string, deleteSQL ...string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", what, name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	key := sqlbase.NameKey(name)
	flags := make([]bool, len(causeNames))
	dest := make([]any, len(flags))
	for i := range flags {
		dest[i] = &flags[i]
	}
	err = tx.QueryRowContext(ctx, causesSQL, key).Scan(dest...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("delete %s %q: %w", what, name, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("delete %s %q: %w", what, name, err)
	}
	if causes := sqlbase.Causes(flags, causeNames); len(causes) > 0 {
		return sqlbase.DeleteConflict(what, name, causes)
	}
	for _, q := range deleteSQL {
		if _, err = tx.ExecContext(ctx, q, key); err != nil {
			break
		}
	}
	if err == nil {
		err = tx.Commit() // deferred foreign keys are checked here
	}
	switch {
	case isForeignKey(err):
		return fmt.Errorf("delete %s %q: still referenced: %w", what, name, store.ErrConflict)
	case err != nil:
		return fmt.Errorf("delete %s %q: %w", what, name, err)
	}
	return nil
}

// Access keys.

const keyColumns = `k.id, u.name, k.sealed_secret, k.status, k.created_at, k.last_used_at`

func scanKey(row scanner) (store.AccessKey, error) {
	var (
		k    store.AccessKey
		at   int64
		used sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.UserName, &k.SealedSecret, &k.Status, &at, &used); err != nil {
		return store.AccessKey{}, err
	}
	k.SealedSecret = sqlbase.Secret(k.SealedSecret)
	k.CreatedAt = fromMicros(at)
	k.LastUsedAt = fromNullMicros(used)
	return k, nil
}

// CreateAccessKey implements store.AccessKeyStore.
func (s *Store) CreateAccessKey(ctx context.Context, k store.AccessKey, maxPerUser int) error {
	// One writer connection: the count and the insert are not interleaved
	// with another write.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create access key %q: %w", k.ID, err)
	}
	defer tx.Rollback() // a no-op after Commit
	uk := sqlbase.NameKey(k.UserName)
	if maxPerUser > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_keys WHERE user_key = ?`, uk).Scan(&n); err != nil {
			return fmt.Errorf("create access key %q: %w", k.ID, err)
		}
		if n >= maxPerUser {
			return fmt.Errorf("create access key %q: user %q has %d keys: %w", k.ID, k.UserName, n, store.ErrLimitExceeded)
		}
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO access_keys (id, user_key, sealed_secret, status, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, uk, sqlbase.Secret(k.SealedSecret), k.Status, micros(k.CreatedAt), nullMicros(k.LastUsedAt))
	if err == nil {
		err = tx.Commit()
	}
	switch {
	case isForeignKey(err):
		return fmt.Errorf("create access key %q: user %q: %w", k.ID, k.UserName, store.ErrNotFound)
	case isUnique(err):
		return fmt.Errorf("create access key %q: %w", k.ID, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create access key %q: %w", k.ID, err)
	}
	return nil
}

// GetAccessKey implements store.AccessKeyStore.
func (s *Store) GetAccessKey(ctx context.Context, id string) (store.AccessKey, error) {
	k, err := scanKey(s.queryRow(ctx,
		`SELECT `+keyColumns+` FROM access_keys k JOIN users u ON u.name_key = k.user_key WHERE k.id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.AccessKey{}, fmt.Errorf("get access key %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.AccessKey{}, fmt.Errorf("get access key %q: %w", id, err)
	}
	return k, nil
}

// ListAccessKeys implements store.AccessKeyStore.
func (s *Store) ListAccessKeys(ctx context.Context, userName string) ([]store.AccessKey, error) {
	// The LEFT JOIN tells "no such user" (no row) from "no keys" (one row
	// with NULL key columns) in one consistent read.
	rows, err := s.query(ctx,
		`SELECT u.name, k.id, k.sealed_secret, k.status, k.created_at, k.last_used_at
		 FROM users u LEFT JOIN access_keys k ON k.user_key = u.name_key
		 WHERE u.name_key = ? ORDER BY k.created_at, k.id`, sqlbase.NameKey(userName))
	if err != nil {
		return nil, fmt.Errorf("list access keys of %q: %w", userName, err)
	}
	defer rows.Close()
	found := false
	keys := []store.AccessKey{}
	for rows.Next() {
		found = true
		var (
			name, id, status sql.NullString
			secret           []byte
			at, used         sql.NullInt64
		)
		if err := rows.Scan(&name, &id, &secret, &status, &at, &used); err != nil {
			return nil, fmt.Errorf("list access keys of %q: %w", userName, err)
		}
		if !id.Valid {
			continue
		}
		keys = append(keys, store.AccessKey{
			ID:           id.String,
			UserName:     name.String,
			SealedSecret: sqlbase.Secret(secret),
			Status:       status.String,
			CreatedAt:    fromMicros(at.Int64),
			LastUsedAt:   fromNullMicros(used),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list access keys of %q: %w", userName, err)
	}
	if !found {
		return nil, fmt.Errorf("list access keys of %q: %w", userName, store.ErrNotFound)
	}
	return keys, nil
}

// UpdateAccessKey implements store.AccessKeyStore.
func (s *Store) UpdateAccessKey(ctx context.Context, id string, fn func(store.AccessKey) (store.AccessKey, error)) (store.AccessKey, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.AccessKey{}, fmt.Errorf("update access key %q: %w", id, err)
	}
	defer tx.Rollback() // a no-op after Commit
	old, err := scanKey(tx.QueryRowContext(ctx,
		`SELECT `+keyColumns+` FROM access_keys k JOIN users u ON u.name_key = k.user_key WHERE k.id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.AccessKey{}, fmt.Errorf("update access key %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.AccessKey{}, fmt.Errorf("update access key %q: %w", id, err)
	}
	k, err := fn(old)
	if err != nil {
		return store.AccessKey{}, err
	}
	if err := sqlbase.CheckKeyUpdate(old, k); err != nil {
		return store.AccessKey{}, err
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE access_keys SET sealed_secret = ?, status = ?, last_used_at = ? WHERE id = ?`,
		sqlbase.Secret(k.SealedSecret), k.Status, nullMicros(k.LastUsedAt), id); err != nil {
		return store.AccessKey{}, fmt.Errorf("update access key %q: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return store.AccessKey{}, fmt.Errorf("update access key %q: %w", id, err)
	}
	return store.AccessKey{
		ID:           old.ID,
		UserName:     old.UserName,
		SealedSecret: append([]byte{}, k.SealedSecret...),
		Status:       k.Status,
		CreatedAt:    old.CreatedAt,
		LastUsedAt:   sqlbase.Time(k.LastUsedAt),
	}, nil
}

// DeleteAccessKey implements store.AccessKeyStore.
func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete access key %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete access key %q: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("delete access key %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// Replay records.

// RecordOnce implements store.ReplayStore.
func (s *Store) RecordOnce(ctx context.Context, namespace, id string, expiresAt, now time.Time) (bool, error) {
	var one int
	err := s.w.QueryRowContext(ctx,
		`INSERT INTO replay (namespace, id, expires_at) VALUES (?, ?, ?)
		 ON CONFLICT (namespace, id) DO UPDATE SET expires_at = excluded.expires_at
		 WHERE replay.expires_at <= ?
		 RETURNING 1`,
		namespace, id, micros(expiresAt), micros(now)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("record replay %q in %q: %w", id, namespace, err)
	}
	return true, nil
}

// PurgeReplay implements store.ReplayStore.
func (s *Store) PurgeReplay(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM replay WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("purge replay: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge replay: %w", err)
	}
	return int(n), nil
}

// Claims.

// Claim implements store.ClaimStore.
func (s *Store) Claim(ctx context.Context, kind, key, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("claim %s/%s: ttl %v is not positive", kind, key, ttl)
	}
	var one int
	err := s.w.QueryRowContext(ctx,
		`INSERT INTO claims (kind, key, owner, expires_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		 WHERE claims.expires_at <= ? OR claims.owner = excluded.owner
		 RETURNING 1`,
		kind, key, owner, micros(now.Add(ttl)), micros(now)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claim %s/%s: %w", kind, key, err)
	}
	return true, nil
}

// Release implements store.ClaimStore.
func (s *Store) Release(ctx context.Context, kind, key, owner string) error {
	if _, err := s.w.ExecContext(ctx,
		`DELETE FROM claims WHERE kind = ? AND key = ? AND owner = ?`, kind, key, owner); err != nil {
		return fmt.Errorf("release %s/%s: %w", kind, key, err)
	}
	return nil
}
