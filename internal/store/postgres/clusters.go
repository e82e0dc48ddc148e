package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// Clusters.

const clusterColumns = `identifier, engine, address, port, admin_url, sealed_admin_password, default_database, source, capabilities, created_at, updated_at, tags::text`

func scanCluster(row pgx.Row) (store.Cluster, error) {
	var (
		c    store.Cluster
		tags string
	)
	if err := row.Scan(&c.Identifier, &c.Engine, &c.Address, &c.Port, &c.AdminURL, &c.SealedAdminPassword,
		&c.DefaultDatabase, &c.Source, &c.Capabilities, &c.CreatedAt, &c.UpdatedAt, &tags); err != nil {
		return store.Cluster{}, err
	}
	c.SealedAdminPassword = sqlbase.Secret(c.SealedAdminPassword)
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
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
	_, err = s.pool.Exec(ctx,
		`INSERT INTO clusters (identifier, engine, address, port, admin_url, sealed_admin_password, default_database, source, capabilities, created_at, updated_at, tags)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)`,
		c.Identifier, c.Engine, c.Address, c.Port, c.AdminURL, sqlbase.Secret(c.SealedAdminPassword),
		c.DefaultDatabase, c.Source, c.Capabilities, c.CreatedAt, updated, tags)
	switch {
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create cluster %q: %w", c.Identifier, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create cluster %q: %w", c.Identifier, err)
	}
	return nil
}

// GetCluster implements store.ClusterStore.
func (s *Store) GetCluster(ctx context.Context, id string) (store.Cluster, error) {
	c, err := scanCluster(s.pool.QueryRow(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE identifier = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	rows, err := s.pool.Query(ctx,
		`SELECT `+clusterColumns+` FROM clusters WHERE identifier > $1 ORDER BY identifier LIMIT $2`,
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

// UpdateCluster implements store.ClusterStore. The row lock is FOR NO KEY
// UPDATE (the identifier cannot change), which serializes updaters but lets
// the foreign-key checks of new credentials (FOR KEY SHARE) through, so
// updating a cluster never holds up issuance.
func (s *Store) UpdateCluster(ctx context.Context, id string, fn func(store.Cluster) (store.Cluster, error)) (store.Cluster, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	defer rollback(ctx, tx)
	old, err := scanCluster(tx.QueryRow(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE identifier = $1 FOR NO KEY UPDATE`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	c, err = scanCluster(tx.QueryRow(ctx,
		`UPDATE clusters SET engine = $1, address = $2, port = $3, admin_url = $4, sealed_admin_password = $5,
		        default_database = $6, source = $7, capabilities = $8, created_at = $9, updated_at = $10, tags = $11::jsonb
		 WHERE identifier = $12 RETURNING `+clusterColumns,
		c.Engine, c.Address, c.Port, c.AdminURL, sqlbase.Secret(c.SealedAdminPassword),
		c.DefaultDatabase, c.Source, c.Capabilities, c.CreatedAt, c.UpdatedAt, tags, id))
	if err != nil {
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Cluster{}, fmt.Errorf("update cluster %q: %w", id, err)
	}
	return c, nil
}

// DeleteCluster implements store.ClusterStore. It locks the cluster row
// first (FOR UPDATE, which blocks new credentials for it, as their foreign
// key takes FOR KEY SHARE), so the credentials it then counts cannot gain a
// new one before the deletes; a credential moved out of "dropped"
// meanwhile is not deleted, and the foreign key then refuses the delete.
func (s *Store) DeleteCluster(ctx context.Context, id string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("delete cluster %q: %w", id, err)
	}
	defer rollback(ctx, tx)
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM clusters WHERE identifier = $1 FOR UPDATE`, id).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("delete cluster %q: %w", id, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("delete cluster %q: %w", id, err)
	}
	var live int
	if err := tx.QueryRow(ctx,
		`SELECT count(*) FROM issued_credentials WHERE cluster = $1 AND state <> 'dropped'`, id).Scan(&live); err != nil {
		return fmt.Errorf("delete cluster %q: %w", id, err)
	}
	if live > 0 {
		return sqlbase.DeleteConflict("cluster", id, []string{liveCredentials(live)})
	}
	if _, err = tx.Exec(ctx, `DELETE FROM issued_credentials WHERE cluster = $1 AND state = 'dropped'`, id); err == nil {
		_, err = tx.Exec(ctx, `DELETE FROM clusters WHERE identifier = $1`, id)
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	switch {
	case pgCode(err) == codeForeignKeyViolation:
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

// credentialColumns are read through the alias c everywhere.
const credentialColumns = `c.id, c.cluster, c.login_role, c.db_user, c.db_name, c.groups::text, c.auto_create, c.principal, c.request_id,
	c.created_at, c.expires_at, c.state, c.attempts, c.next_attempt_at, c.last_error, c.dropped_at, c.claim_owner`

// dueWhere selects the credentials due at $1.
const dueWhere = `state IN ('issuing', 'active', 'revoking', 'failed') AND expires_at <= $1 AND next_attempt_at <= $1`

func scanCredential(row pgx.Row) (store.IssuedCredential, error) {
	var (
		c       store.IssuedCredential
		groups  string
		dropped *time.Time
	)
	if err := row.Scan(&c.ID, &c.Cluster, &c.LoginRole, &c.DbUser, &c.DbName, &groups, &c.AutoCreate,
		&c.Principal, &c.RequestID, &c.CreatedAt, &c.ExpiresAt, &c.State, &c.Attempts, &c.NextAttemptAt,
		&c.LastError, &dropped, &c.ClaimOwner); err != nil {
		return store.IssuedCredential{}, err
	}
	g, err := sqlbase.DecodeGroups(groups)
	if err != nil {
		return store.IssuedCredential{}, err
	}
	c.Groups = g
	c.CreatedAt, c.ExpiresAt, c.NextAttemptAt = utc(c.CreatedAt), utc(c.ExpiresAt), utc(c.NextAttemptAt)
	c.DroppedAt = fromNullTime(dropped)
	return c, nil
}

// sqlLimit is limit as a LIMIT parameter: NULL (LIMIT ALL) for none.
func sqlLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

// CreateCredential implements store.CredentialStore.
func (s *Store) CreateCredential(ctx context.Context, c store.IssuedCredential) error {
	if err := sqlbase.CheckCredentialState(c.ID, c.State); err != nil {
		return fmt.Errorf("create %w", err)
	}
	groups, err := sqlbase.EncodeGroups(c.Groups)
	if err != nil {
		return fmt.Errorf("create credential %q: %w", c.ID, err)
	}
	_, err = s.pool.Exec(ctx,
		`INSERT INTO issued_credentials (id, cluster, login_role, db_user, db_name, groups, auto_create, principal, request_id,
		        created_at, expires_at, state, attempts, next_attempt_at, last_error, dropped_at, claim_owner)
		 VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		c.ID, c.Cluster, c.LoginRole, c.DbUser, c.DbName, groups, c.AutoCreate, c.Principal, c.RequestID,
		c.CreatedAt, c.ExpiresAt, c.State, c.Attempts, c.NextAttemptAt, c.LastError, nullTime(c.DroppedAt), c.ClaimOwner)
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return fmt.Errorf("create credential %q: cluster %q: %w", c.ID, c.Cluster, store.ErrNotFound)
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create credential %q (login role %q on cluster %q): %w", c.ID, c.LoginRole, c.Cluster, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create credential %q: %w", c.ID, err)
	}
	return nil
}

// GetCredential implements store.CredentialStore.
func (s *Store) GetCredential(ctx context.Context, id string) (store.IssuedCredential, error) {
	c, err := scanCredential(s.pool.QueryRow(ctx, `SELECT `+credentialColumns+` FROM issued_credentials c WHERE c.id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.IssuedCredential{}, fmt.Errorf("get credential %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.IssuedCredential{}, fmt.Errorf("get credential %q: %w", id, err)
	}
	return c, nil
}

// UpdateCredential implements store.CredentialStore. The row lock (FOR NO
// KEY UPDATE: the key columns cannot change) serializes updaters, and a
// concurrent ClaimDueCredentials skips the row until the update commits.
func (s *Store) UpdateCredential(ctx context.Context, id string, fn func(store.IssuedCredential) (store.IssuedCredential, error)) (store.IssuedCredential, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	defer rollback(ctx, tx)
	old, err := scanCredential(tx.QueryRow(ctx,
		`SELECT `+credentialColumns+` FROM issued_credentials c WHERE c.id = $1 FOR NO KEY UPDATE`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	c, err = scanCredential(tx.QueryRow(ctx,
		`UPDATE issued_credentials c SET db_name = $1, groups = $2::jsonb, auto_create = $3, principal = $4, request_id = $5,
		        expires_at = $6, state = $7, attempts = $8, next_attempt_at = $9, last_error = $10, dropped_at = $11, claim_owner = $12
		 WHERE c.id = $13 RETURNING `+credentialColumns,
		c.DbName, groups, c.AutoCreate, c.Principal, c.RequestID, c.ExpiresAt, c.State, c.Attempts,
		c.NextAttemptAt, c.LastError, nullTime(c.DroppedAt), c.ClaimOwner, id))
	if err != nil {
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.IssuedCredential{}, fmt.Errorf("update credential %q: %w", id, err)
	}
	return c, nil
}

// ListCredentialsByCluster implements store.CredentialStore. Both reads run
// in one read-only REPEATABLE READ transaction, so they see one snapshot.
func (s *Store) ListCredentialsByCluster(ctx context.Context, cluster string, states []string, limit int) ([]store.IssuedCredential, error) {
	var filter any // NULL: any state
	if len(states) > 0 {
		filter = states
	}
	var cs []store.IssuedCredential
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clusters WHERE identifier = $1)`, cluster).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		rows, err := tx.Query(ctx,
			`SELECT `+credentialColumns+` FROM issued_credentials c
			 WHERE c.cluster = $1 AND ($2::text[] IS NULL OR c.state = ANY ($2::text[]))
			 ORDER BY c.created_at, c.id LIMIT $3`, cluster, filter, sqlLimit(limit))
		if err != nil {
			return err
		}
		cs, err = collect(rows, scanCredential)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list credentials of cluster %q: %w", cluster, err)
	}
	return cs, nil
}

// DueCredentials implements store.CredentialStore.
func (s *Store) DueCredentials(ctx context.Context, now time.Time, limit int) ([]store.IssuedCredential, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+credentialColumns+` FROM issued_credentials c WHERE `+dueWhere+`
		 ORDER BY c.created_at, c.id LIMIT $2`, now, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("due credentials: %w", err)
	}
	cs, err := collect(rows, scanCredential)
	if err != nil {
		return nil, fmt.Errorf("due credentials: %w", err)
	}
	return cs, nil
}

// CountCredentials implements store.CredentialStore.
func (s *Store) CountCredentials(ctx context.Context, now time.Time) (store.CredentialCounts, error) {
	var c store.CredentialCounts
	err := s.pool.QueryRow(ctx,
		`SELECT count(*) FILTER (WHERE expires_at > $1 AND state IN ('issuing', 'active'))::int, count(*) FILTER (WHERE expires_at <= $1)::int
		 FROM issued_credentials WHERE state IN ('issuing', 'active', 'revoking', 'failed')`, now).Scan(&c.Live, &c.Expired)
	if err != nil {
		return store.CredentialCounts{}, fmt.Errorf("count credentials: %w", err)
	}
	return c, nil
}

// ClaimDueCredentials implements store.CredentialStore. The due rows are
// locked FOR UPDATE SKIP LOCKED in a materialized CTE (evaluated once) and
// updated by the same statement: concurrent claimers skip each other's rows,
// and a row another claimer updated since this statement's snapshot is
// re-checked on its new version (READ COMMITTED), which is no longer due.
func (s *Store) ClaimDueCredentials(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]store.IssuedCredential, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("claim due credentials: lease %v is not positive", lease)
	}
	if owner == "" {
		return nil, errors.New("claim due credentials: empty owner")
	}
	rows, err := s.pool.Query(ctx,
		`WITH due AS MATERIALIZED (
		     SELECT id FROM issued_credentials WHERE `+dueWhere+`
		     ORDER BY created_at, id LIMIT $2
		     FOR UPDATE SKIP LOCKED)
		 UPDATE issued_credentials c SET next_attempt_at = $3, claim_owner = $4
		 FROM due WHERE c.id = due.id
		 RETURNING `+credentialColumns,
		now, sqlLimit(limit), now.Add(lease), owner)
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
	rows, err := s.pool.Query(ctx,
		`SELECT DISTINCT g FROM issued_credentials c, jsonb_array_elements_text(c.groups) AS g
		 WHERE c.cluster = $1 AND c.db_user = $2 AND c.expires_at > $3 AND c.state <> 'dropped'`,
		cluster, dbUser, now)
	if err != nil {
		return nil, fmt.Errorf("active groups of %q on cluster %q: %w", dbUser, cluster, err)
	}
	groups, err := collect(rows, func(row pgx.Row) (string, error) {
		var g string
		err := row.Scan(&g)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("active groups of %q on cluster %q: %w", dbUser, cluster, err)
	}
	slices.Sort(groups) // byte-wise, whatever the database's collation
	return groups, nil
}

// PurgeCredentials implements store.CredentialStore.
func (s *Store) PurgeCredentials(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM issued_credentials WHERE state = 'dropped' AND dropped_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge credentials: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
