package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// Clusters.

const clusterColumns = `identifier, engine, address, port, admin_url, sealed_admin_password, default_database, source, capabilities, created_at, updated_at, tags`

func scanCluster(row scanner) (store.Cluster, error) {
	var (
		c            store.Cluster
		created, upd int64
		tags         string
	)
	if err := row.Scan(&c.Identifier, &c.Engine, &c.Address, &c.Port, &c.AdminURL, &c.SealedAdminPassword,
		&c.DefaultDatabase, &c.Source, &c.Capabilities, &created, &upd, &tags); err != nil {
		return store.Cluster{}, err
	}
	c.SealedAdminPassword = sqlbase.Secret(c.SealedAdminPassword)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(upd)
	t, err := sqlbase.DecodeTags(tags)
	if err != nil {
		return store.Cluster{}, err
	}
	c.Tags = t
	return c, nil
}

// CreateCluster implements store.ClusterStore.
func (s *Store) CreateCluster(ctx context.Context, c store.Cluster) error {
	tags, err := sqlbase.EncodeTags(c.Tags)
	if err != nil {
		return fmt.Errorf("create cluster %q: %w", c.Identifier, err)
	}
	updated := c.UpdatedAt
	if updated.IsZero() {
		updated = c.CreatedAt
	}
	_, err = s.w.ExecContext(ctx,
		`INSERT INTO clusters (`+clusterColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Identifier, c.Engine, c.Address, c.Port, c.AdminURL, sqlbase.Secret(c.SealedAdminPassword),
		c.DefaultDatabase, c.Source, c.Capabilities, micros(c.CreatedAt), micros(updated), tags)
	switch {
	case isUnique(err):
		return fmt.Errorf("create cluster %q: %w", c.Identifier, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create cluster %q: %w", c.Identifier, err)
	}
	return nil
}

// GetCluster implements store.ClusterStore.
func (s *Store) GetCluster(ctx context.Context, id string) (store.Cluster, error) {
	c, err := scanCluster(s.queryRow(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE identifier = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Cluster{}, fmt.Errorf("get cluster %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Cluster{}, fmt.Errorf("get cluster %q: %w", id, err)
	}
	return c, nil
}

// ListClusters implements store.ClusterStore. The marker is the identifier
// of the last cluster of the previous page.
func (s *Store) ListClusters(ctx context.Context, page store.Page) ([]store.Cluster, string, error) {
	limit := page.Limit()
	rows, err := s.query(ctx,
		`SELECT `+clusterColumns+` FROM clusters WHERE identifier > ? ORDER BY identifier LIMIT ?`,
		page.Marker, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list clusters: %w", err)
	}
	cs, err := collect(rows, scanCluster)
	if err != nil {
		return nil, "", fmt.Errorf("list clusters: %w", err)
	}
	if len(cs) > limit {
		cs = cs[:limit]
		return cs, cs[limit-1].Identifier, nil
	}
	return cs, "", nil
}

// UpdateCluster implements store.ClusterStore.
func (s *Store) UpdateCluster(ctx context.Context, id string, fn func(store.Cluster) (store.Cluster, error)) (store.Cluster, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	defer tx.Rollback() // a no-op after Commit
	old, err := scanCluster(tx.QueryRowContext(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE identifier = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	c, err := fn(old)
	if err != nil {
		return store.Cluster{}, err
	}
	if err := sqlbase.CheckClusterUpdate(old, c); err != nil {
		return store.Cluster{}, err
	}
	tags, err := sqlbase.EncodeTags(c.Tags)
	if err != nil {
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	c, err = scanCluster(tx.QueryRowContext(ctx,
		`UPDATE clusters SET engine = ?, address = ?, port = ?, admin_url = ?, sealed_admin_password = ?,
		        default_database = ?, source = ?, capabilities = ?, created_at = ?, updated_at = ?, tags = ?
		 WHERE identifier = ? RETURNING `+clusterColumns,
		c.Engine, c.Address, c.Port, c.AdminURL, sqlbase.Secret(c.SealedAdminPassword),
		c.DefaultDatabase, c.Source, c.Capabilities, micros(c.CreatedAt), micros(c.UpdatedAt), tags, id))
	if err != nil {
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	return c, nil
}

// DeleteCluster implements store.ClusterStore. The single writer serializes
// it with every credential write; the foreign key is the backstop.
func (s *Store) DeleteCluster(ctx context.Context, id string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete cluster %q: %w", id, err)
	}
	defer tx.Rollback() // a no-op after Commit
	var live int
	err = tx.QueryRowContext(ctx,
		`SELECT (SELECT count(*) FROM issued_credentials WHERE cluster = ?1 AND state <> 'dropped')
		 FROM clusters WHERE identifier = ?1`, id).Scan(&live)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("delete cluster %q: %w", id, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("delete cluster %q: %w", id, err)
	case live > 0:
		return sqlbase.DeleteConflict("cluster", id, []string{liveCredentials(live)})
	}
	if _, err = tx.ExecContext(ctx, `DELETE FROM issued_credentials WHERE cluster = ? AND state = 'dropped'`, id); err == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM clusters WHERE identifier = ?`, id)
	}
	if err == nil {
		err = tx.Commit()
	}
	switch {
	case isForeignKey(err):
		return fmt.Errorf("delete cluster %q: still referenced: %w", id, store.ErrConflict)
	case err != nil:
		return fmt.Errorf("delete cluster %q: %w", id, err)
	}
	return nil
}

// liveCredentials names the cause of a refused cluster delete.
func liveCredentials(n int) string {
	if n == 1 {
		return "1 credential that is not dropped yet"
	}
	return fmt.Sprintf("%d credentials that are not dropped yet", n)
}

// Issued credentials.

const credentialColumns = `id, cluster, login_role, db_user, db_name, groups, auto_create, principal, request_id,
	created_at, expires_at, state, attempts, next_attempt_at, last_error, dropped_at, claim_owner`

// dueSQL selects the ids of the credentials due at ?1, oldest first, at
// most ?2 (-1: no limit).
const dueSQL = `SELECT id FROM issued_credentials
	WHERE state IN ('issuing', 'active', 'revoking', 'failed') AND expires_at <= ?1 AND next_attempt_at <= ?1
	ORDER BY created_at, id LIMIT ?2`

func scanCredential(row scanner) (store.IssuedCredential, error) {
	var (
		c                      store.IssuedCredential
		groups                 string
		created, expires, next int64
		dropped                sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.Cluster, &c.LoginRole, &c.DbUser, &c.DbName, &groups, &c.AutoCreate,
		&c.Principal, &c.RequestID, &created, &expires, &c.State, &c.Attempts, &next, &c.LastError,
		&dropped, &c.ClaimOwner); err != nil {
		return store.IssuedCredential{}, err
	}
	g, err := sqlbase.DecodeGroups(groups)
	if err != nil {
		return store.IssuedCredential{}, err
	}
	c.Groups = g
	c.CreatedAt, c.ExpiresAt, c.NextAttemptAt = fromMicros(created), fromMicros(expires), fromMicros(next)
	c.DroppedAt = fromNullMicros(dropped)
	return c, nil
}

// sqlLimit is limit as SQLite's LIMIT: -1 for none.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// insertCredentialSQL is CreateCredential's statement, prepared once.
const insertCredentialSQL = `INSERT INTO issued_credentials (` + credentialColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateCredential implements store.CredentialStore.
func (s *Store) CreateCredential(ctx context.Context, c store.IssuedCredential) error {
	if err := sqlbase.CheckCredentialState(c.ID, c.State); err != nil {
		return fmt.Errorf("create %w", err)
	}
	groups, err := sqlbase.EncodeGroups(c.Groups)
	if err != nil {
		return fmt.Errorf("create credential %q: %w", c.ID, err)
	}
	_, err = s.exec(ctx, insertCredentialSQL,
		c.ID, c.Cluster, c.LoginRole, c.DbUser, c.DbName, groups, c.AutoCreate, c.Principal, c.RequestID,
		micros(c.CreatedAt), micros(c.ExpiresAt), c.State, c.Attempts, micros(c.NextAttemptAt), c.LastError,
		nullMicros(c.DroppedAt), c.ClaimOwner)
	switch {
	case isForeignKey(err):
		return fmt.Errorf("create credential %q: cluster %q: %w", c.ID, c.Cluster, store.ErrNotFound)
	case isUnique(err):
		return fmt.Errorf("create credential %q (login role %q on cluster %q): %w", c.ID, c.LoginRole, c.Cluster, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create credential %q: %w", c.ID, err)
	}
	return nil
}

// GetCredential implements store.CredentialStore.
func (s *Store) GetCredential(ctx context.Context, id string) (store.IssuedCredential, error) {
	c, err := scanCredential(s.queryRow(ctx, `SELECT `+credentialColumns+` FROM issued_credentials WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.IssuedCredential{}, fmt.Errorf("get credential %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.IssuedCredential{}, fmt.Errorf("get credential %q: %w", id, err)
	}
	return c, nil
}

// UpdateCredential implements store.CredentialStore.
func (s *Store) UpdateCredential(ctx context.Context, id string, fn func(store.IssuedCredential) (store.IssuedCredential, error)) (store.IssuedCredential, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	defer tx.Rollback() // a no-op after Commit
	old, err := scanCredential(tx.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM issued_credentials WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	c, err := fn(old)
	if err != nil {
		return store.IssuedCredential{}, err
	}
	if err := sqlbase.CheckCredentialUpdate(old, c); err != nil {
		return store.IssuedCredential{}, err
	}
	groups, err := sqlbase.EncodeGroups(c.Groups)
	if err != nil {
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	c, err = scanCredential(tx.QueryRowContext(ctx,
		`UPDATE issued_credentials SET db_name = ?, groups = ?, auto_create = ?, principal = ?, request_id = ?,
		        expires_at = ?, state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, dropped_at = ?, claim_owner = ?
		 WHERE id = ? RETURNING `+credentialColumns,
		c.DbName, groups, c.AutoCreate, c.Principal, c.RequestID, micros(c.ExpiresAt), c.State, c.Attempts,
		micros(c.NextAttemptAt), c.LastError, nullMicros(c.DroppedAt), c.ClaimOwner, id))
	if err != nil {
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	return c, nil
}

// ListCredentialsByCluster implements store.CredentialStore. Both reads run
// in one read transaction, so they see one snapshot.
func (s *Store) ListCredentialsByCluster(ctx context.Context, cluster string, states []string, limit int) ([]store.IssuedCredential, error) {
	var filter any // NULL: any state
	if len(states) > 0 {
		b, err := json.Marshal(states)
		if err != nil {
			return nil, fmt.Errorf("list credentials of cluster %q: %w", cluster, err)
		}
		filter = string(b)
	}
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list credentials of cluster %q: %w", cluster, err)
	}
	defer tx.Rollback() // read-only: nothing to keep
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM clusters WHERE identifier = ?)`, cluster).Scan(&exists); err != nil {
		return nil, fmt.Errorf("list credentials of cluster %q: %w", cluster, err)
	}
	if !exists {
		return nil, fmt.Errorf("list credentials of cluster %q: %w", cluster, store.ErrNotFound)
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT `+credentialColumns+` FROM issued_credentials
		 WHERE cluster = ?1 AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2)))
		 ORDER BY created_at, id LIMIT ?3`, cluster, filter, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list credentials of cluster %q: %w", cluster, err)
	}
	cs, err := collect(rows, scanCredential)
	if err != nil {
		return nil, fmt.Errorf("list credentials of cluster %q: %w", cluster, err)
	}
	return cs, nil
}

// DueCredentials implements store.CredentialStore.
func (s *Store) DueCredentials(ctx context.Context, now time.Time, limit int) ([]store.IssuedCredential, error) {
	rows, err := s.query(ctx,
		`SELECT `+credentialColumns+` FROM issued_credentials WHERE id IN (`+dueSQL+`) ORDER BY created_at, id`,
		micros(now), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("due credentials: %w", err)
	}
	cs, err := collect(rows, scanCredential)
	if err != nil {
		return nil, fmt.Errorf("due credentials: %w", err)
	}
	return cs, nil
}

// CountCredentials implements store.CredentialStore. The index on (state,
// …) serves the state test.
func (s *Store) CountCredentials(ctx context.Context, now time.Time) (store.CredentialCounts, error) {
	var c store.CredentialCounts
	err := s.queryRow(ctx,
		`SELECT coalesce(sum(expires_at > ?1 AND state IN ('issuing', 'active')), 0), coalesce(sum(expires_at <= ?1), 0)
		 FROM issued_credentials WHERE state IN ('issuing', 'active', 'revoking', 'failed')`, micros(now)).Scan(&c.Live, &c.Expired)
	if err != nil {
		return store.CredentialCounts{}, fmt.Errorf("count credentials: %w", err)
	}
	return c, nil
}

// ClaimDueCredentials implements store.CredentialStore: one UPDATE on the
// single writer connection (and, across processes sharing the file, under
// SQLite's write lock), so the selection and the claim are atomic.
func (s *Store) ClaimDueCredentials(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]store.IssuedCredential, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("claim due credentials: lease %v is not positive", lease)
	}
	if owner == "" {
		return nil, errors.New("claim due credentials: empty owner")
	}
	rows, err := s.w.QueryContext(ctx,
		`UPDATE issued_credentials SET next_attempt_at = ?3, claim_owner = ?4
		 WHERE id IN (`+dueSQL+`)
		 RETURNING `+credentialColumns,
		micros(now), sqlLimit(limit), micros(now.Add(lease)), owner)
	if err != nil {
		return nil, fmt.Errorf("claim due credentials: %w", err)
	}
	cs, err := collect(rows, scanCredential)
	if err != nil {
		return nil, fmt.Errorf("claim due credentials: %w", err)
	}
	sortCredentials(cs)
	return cs, nil
}

// sortCredentials puts cs oldest first, the order RETURNING does not
// promise.
func sortCredentials(cs []store.IssuedCredential) {
	slices.SortFunc(cs, func(a, b store.IssuedCredential) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// ActiveGroups implements store.CredentialStore.
func (s *Store) ActiveGroups(ctx context.Context, cluster, dbUser string, now time.Time) ([]string, error) {
	rows, err := s.query(ctx,
		`SELECT DISTINCT g.value FROM issued_credentials c, json_each(c.groups) g
		 WHERE c.cluster = ? AND c.db_user = ? AND c.expires_at > ? AND c.state <> 'dropped'
		 ORDER BY 1`, cluster, dbUser, micros(now))
	if err != nil {
		return nil, fmt.Errorf("active groups of %q on cluster %q: %w", dbUser, cluster, err)
	}
	groups, err := collect(rows, func(row scanner) (string, error) {
		var g string
		err := row.Scan(&g)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("active groups of %q on cluster %q: %w", dbUser, cluster, err)
	}
	slices.Sort(groups) // byte-wise, whatever the collation
	return groups, nil
}

// PurgeCredentials implements store.CredentialStore.
func (s *Store) PurgeCredentials(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx,
		`DELETE FROM issued_credentials WHERE state = 'dropped' AND dropped_at < ?`, micros(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purge credentials: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge credentials: %w", err)
	}
	return int(n), nil
}
