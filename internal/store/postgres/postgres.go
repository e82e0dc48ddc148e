package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the pg_advisory_xact_lock key that serializes migrations
// of replicas starting at once ("dbiamsto" in ASCII).
const migrationLock int64 = 0x6462_6961_6d73_746f

// SQLSTATE codes we map to store errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a libpq URL or key=value string;
// pool_max_conns and the other pgxpool settings apply, the pool is bounded
// by pgxpool's default otherwise) and brings its schema up to date.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password from its parse errors.
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if cfg.ConnConfig.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol {
		return nil, errors.New("open postgres store: default_query_exec_mode=simple_protocol is not supported (values must be bind parameters)")
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "dbiam"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	return s, nil
}

// migrate applies the embedded migrations that schema_migrations does not
// list, in order, each in its own transaction holding the migration advisory
// lock, so replicas starting together apply each migration exactly once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := sqlbase.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    integer     NOT NULL PRIMARY KEY,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var done bool
			if err := tx.QueryRow(ctx,
				`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			// A migration carries no values; pgx sends an argument-less Exec
			// as one simple-protocol Query message, which allows several
			// statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres store: %w", err)
	}
	return nil
}

// Close implements store.Store. It waits for connections in use to be
// returned to the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func utc(t time.Time) time.Time { return t.UTC() }

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// rollback ends tx if it is still open; it is a no-op after Commit.
func rollback(ctx context.Context, tx pgx.Tx) {
	_ = tx.Rollback(context.WithoutCancel(ctx))
}

// Users.

const userColumns = `name, path, id, created_at, tags::text, permissions_boundary`

func scanUser(row pgx.Row) (store.User, error) {
	var (
		u    store.User
		tags string
	)
	if err := row.Scan(&u.Name, &u.Path, &u.ID, &u.CreatedAt, &tags, &u.PermissionsBoundary); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = utc(u.CreatedAt)
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
	_, err = s.pool.Exec(ctx,
		`INSERT INTO users (name_key, name, path, id, created_at, tags, permissions_boundary) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
		sqlbase.NameKey(u.Name), u.Name, u.Path, u.ID, u.CreatedAt, tags, u.PermissionsBoundary)
	switch {
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create user %q: %w", u.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	return nil
}

// GetUser implements store.UserStore.
func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE name_key = $1`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	rows, err := s.pool.Query(ctx,
		`SELECT `+userColumns+` FROM users WHERE name_key > $1 ORDER BY name_key LIMIT $2`,
		page.Marker, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
	if err != nil {
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(name)
	old, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name_key = $1 FOR UPDATE`, key))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	u, err = scanUser(tx.QueryRow(ctx,
		`UPDATE users SET name_key = $1, name = $2, path = $3, id = $4, created_at = $5, tags = $6::jsonb, permissions_boundary = $7
		 WHERE name_key = $8 RETURNING `+userColumns,
		sqlbase.NameKey(u.Name), u.Name, u.Path, u.ID, u.CreatedAt, tags, u.PermissionsBoundary, key))
	switch {
	case pgCode(err) == codeUniqueViolation:
		return store.User{}, fmt.Errorf("update user %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	return u, nil
}

// DeleteUser implements store.UserStore. It looks for what still refers to
// the user first, to name every cause; the foreign keys are the backstop.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.deleteReferenced(ctx, "user", name, "users",
		`SELECT EXISTS (SELECT 1 FROM access_keys WHERE user_key = $1),
		        EXISTS (SELECT 1 FROM group_members WHERE user_key = $1),
		        EXISTS (SELECT 1 FROM inline_policies WHERE user_key = $1),
		        EXISTS (SELECT 1 FROM policy_attachments WHERE user_key = $1)`,
		[]string{"access keys", "group memberships", "inline policies", "attached policies"},
		`DELETE FROM users WHERE name_key = $1`)
}

// deleteReferenced deletes the record of table with the name key of name in
// one transaction. It locks the row first (FOR UPDATE, which also blocks
// new references to it, as those take FOR KEY SHARE), so what causesSQL
// (one row of booleans) then sees still refers to it cannot change before
// the deleteSQL statements, run in order, delete it. All statements take
// the name key as their only parameter; table is a constant.
func (s *Store) deleteReferenced(ctx context.Context, what, name, table, causesSQL string, causeNames []string, deleteSQL ...string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", what, name, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(name)
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE name_key = $1 FOR UPDATE`, key).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("delete %s %q: %w", what, name, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("delete %s %q: %w", what, name, err)
	}
	flags := make([]bool, len(causeNames))
	dest := make([]any, len(flags))
	for i := range flags {
		dest[i] = &flags[i]
	}
	if err := tx.QueryRow(ctx, causesSQL, key).Scan(dest...); err != nil {
		return fmt.Errorf("delete %s %q: %w", what, name, err)
	}
	if causes := sqlbase.Causes(flags, causeNames); len(causes) > 0 {
		return sqlbase.DeleteConflict(what, name, causes)
	}
	for _, q := range deleteSQL {
		if _, err = tx.Exec(ctx, q, key); err != nil {
			break
		}
	}
	if err == nil {
		err = tx.Commit(ctx) // deferred foreign keys are checked here
	}
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return fmt.Errorf("delete %s %q: still referenced: %w", what, name, store.ErrConflict)
	case err != nil:
		return fmt.Errorf("delete %s %q: %w", what, name, err)
	}
	return nil
}

// Access keys.

const keyColumns = `k.id, u.name, k.sealed_secret, k.status, k.created_at, k.last_used_at`

func scanKey(row pgx.Row) (store.AccessKey, error) {
	var (
		k    store.AccessKey
		used *time.Time
	)
	if err := row.Scan(&k.ID, &k.UserName, &k.SealedSecret, &k.Status, &k.CreatedAt, &used); err != nil {
		return store.AccessKey{}, err
	}
	k.SealedSecret = sqlbase.Secret(k.SealedSecret)
	k.CreatedAt = utc(k.CreatedAt)
	k.LastUsedAt = fromNullTime(used)
	return k, nil
}

// CreateAccessKey implements store.AccessKeyStore.
func (s *Store) CreateAccessKey(ctx context.Context, k store.AccessKey, maxPerUser int) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("create access key %q: %w", k.ID, err)
	}
	defer rollback(ctx, tx)
	uk := sqlbase.NameKey(k.UserName)
	if maxPerUser > 0 {
		// The user's row lock serializes key creation per user; the count
		// comes after it, in its own statement, so that it sees the keys
		// of the transactions the lock waited for.
		err := lockRow(ctx, tx, "users", uk)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("create access key %q: user %q: %w", k.ID, k.UserName, store.ErrNotFound)
		}
		var n int
		if err == nil {
			err = tx.QueryRow(ctx, `SELECT count(*)::int FROM access_keys WHERE user_key = $1`, uk).Scan(&n)
		}
		switch {
		case err != nil:
			return fmt.Errorf("create access key %q: %w", k.ID, err)
		case n >= maxPerUser:
			return fmt.Errorf("create access key %q: user %q has %d keys: %w", k.ID, k.UserName, n, store.ErrLimitExceeded)
		}
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO access_keys (id, user_key, sealed_secret, status, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, uk, sqlbase.Secret(k.SealedSecret), k.Status, k.CreatedAt, nullTime(k.LastUsedAt))
	if err == nil {
		err = tx.Commit(ctx)
	}
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return fmt.Errorf("create access key %q: user %q: %w", k.ID, k.UserName, store.ErrNotFound)
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create access key %q: %w", k.ID, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create access key %q: %w", k.ID, err)
	}
	return nil
}

// GetAccessKey implements store.AccessKeyStore.
func (s *Store) GetAccessKey(ctx context.Context, id string) (store.AccessKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx,
		`SELECT `+keyColumns+` FROM access_keys k JOIN users u ON u.name_key = k.user_key WHERE k.id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	rows, err := s.pool.Query(ctx,
		`SELECT u.name, k.id, k.sealed_secret, k.status, k.created_at, k.last_used_at
		 FROM users u LEFT JOIN access_keys k ON k.user_key = u.name_key
		 WHERE u.name_key = $1 ORDER BY k.created_at, k.id`, sqlbase.NameKey(userName))
	if err != nil {
		return nil, fmt.Errorf("list access keys of %q: %w", userName, err)
	}
	defer rows.Close()
	found := false
	keys := []store.AccessKey{}
	for rows.Next() {
		found = true
		var (
			name       string
			id, status *string
			secret     []byte
			at, used   *time.Time
		)
		if err := rows.Scan(&name, &id, &secret, &status, &at, &used); err != nil {
			return nil, fmt.Errorf("list access keys of %q: %w", userName, err)
		}
		if id == nil {
			continue
		}
		keys = append(keys, store.AccessKey{
			ID:           *id,
			UserName:     name,
			SealedSecret: sqlbase.Secret(secret),
			Status:       *status,
			CreatedAt:    fromNullTime(at),
			LastUsedAt:   fromNullTime(used),
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.AccessKey{}, fmt.Errorf("update access key %q: %w", id, err)
	}
	defer rollback(ctx, tx)
	old, err := scanKey(tx.QueryRow(ctx,
		`SELECT `+keyColumns+` FROM access_keys k JOIN users u ON u.name_key = k.user_key WHERE k.id = $1 FOR UPDATE OF k`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	if _, err := tx.Exec(ctx,
		`UPDATE access_keys SET sealed_secret = $1, status = $2, last_used_at = $3 WHERE id = $4`,
		sqlbase.Secret(k.SealedSecret), k.Status, nullTime(k.LastUsedAt), id); err != nil {
		return store.AccessKey{}, fmt.Errorf("update access key %q: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM access_keys WHERE id = $1`, id)
	switch {
	case err != nil:
		return fmt.Errorf("delete access key %q: %w", id, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("delete access key %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// Replay records.

// RecordOnce implements store.ReplayStore. Concurrent inserts of one key
// wait on each other inside ON CONFLICT; the losers see the winner's live
// record, fail the WHERE and return no row.
func (s *Store) RecordOnce(ctx context.Context, namespace, id string, expiresAt, now time.Time) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx,
		`INSERT INTO replay (namespace, id, expires_at) VALUES ($1, $2, $3)
		 ON CONFLICT (namespace, id) DO UPDATE SET expires_at = EXCLUDED.expires_at
		 WHERE replay.expires_at <= $4
		 RETURNING 1`,
		namespace, id, expiresAt, now).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("record replay %q in %q: %w", id, namespace, err)
	}
	return true, nil
}

// PurgeReplay implements store.ReplayStore.
func (s *Store) PurgeReplay(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM replay WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge replay: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Claims.

// Claim implements store.ClaimStore.
func (s *Store) Claim(ctx context.Context, kind, key, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("claim %s/%s: ttl %v is not positive", kind, key, ttl)
	}
	var one int
	err := s.pool.QueryRow(ctx,
		`INSERT INTO claims (kind, key, owner, expires_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (kind, key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
		 WHERE claims.expires_at <= $5 OR claims.owner = EXCLUDED.owner
		 RETURNING 1`,
		kind, key, owner, now.Add(ttl), now).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claim %s/%s: %w", kind, key, err)
	}
	return true, nil
}

// Release implements store.ClaimStore.
func (s *Store) Release(ctx context.Context, kind, key, owner string) error {
	if _, err := s.pool.Exec(ctx,
		`DELETE FROM claims WHERE kind = $1 AND key = $2 AND owner = $3`, kind, key, owner); err != nil {
		return fmt.Errorf("release %s/%s: %w", kind, key, err)
	}
	return nil
}

// lockRow locks the row of table whose name_key is key until the end of
// tx (FOR NO KEY UPDATE: it excludes other lockRow calls and updates, not
// the foreign-key checks of inserts elsewhere), or returns pgx.ErrNoRows. table is a constant, never a value. A
// statement after it (a new snapshot under READ COMMITTED) sees what the
// transactions it waited for wrote; one that takes the lock itself does
// not, for its other subqueries.
func lockRow(ctx context.Context, tx pgx.Tx, table, key string) error {
	var one int
	return tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE name_key = $1 FOR NO KEY UPDATE`, key).Scan(&one)
}
