package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// Roles.

const roleColumns = `name, path, id, description, assume_role_policy, max_session_duration, permissions_boundary, created_at, tags::text`

func scanRole(row pgx.Row) (store.Role, error) {
	var (
		r    store.Role
		tags string
	)
	if err := row.Scan(&r.Name, &r.Path, &r.ID, &r.Description, &r.AssumeRolePolicyDocument,
		&r.MaxSessionDuration, &r.PermissionsBoundary, &r.CreatedAt, &tags); err != nil {
		return store.Role{}, err
	}
	r.CreatedAt = utc(r.CreatedAt)
	t, err := sqlbase.DecodeTags(tags)
	if err != nil {
		return store.Role{}, err
	}
	r.Tags = t
	return r, nil
}

// CreateRole implements store.RoleStore.
func (s *Store) CreateRole(ctx context.Context, r store.Role) error {
	tags, err := sqlbase.EncodeTags(r.Tags)
	if err != nil {
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	_, err = s.pool.Exec(ctx,
		`INSERT INTO roles (name_key, name, path, id, description, assume_role_policy, max_session_duration, permissions_boundary, created_at, tags)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)`,
		sqlbase.NameKey(r.Name), r.Name, r.Path, r.ID, r.Description, r.AssumeRolePolicyDocument,
		r.MaxSessionDuration, r.PermissionsBoundary, r.CreatedAt, tags)
	switch {
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create role %q: %w", r.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	return nil
}

// GetRole implements store.RoleStore.
func (s *Store) GetRole(ctx context.Context, name string) (store.Role, error) {
	r, err := scanRole(s.pool.QueryRow(ctx,
		`SELECT `+roleColumns+` FROM roles WHERE name_key = $1`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Role{}, fmt.Errorf("get role %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Role{}, fmt.Errorf("get role %q: %w", name, err)
	}
	return r, nil
}

// ListRoles implements store.RoleStore. The marker is the name key of the
// last role of the previous page.
func (s *Store) ListRoles(ctx context.Context, page store.Page) ([]store.Role, string, error) {
	limit := page.Limit()
	rows, err := s.pool.Query(ctx,
		`SELECT `+roleColumns+` FROM roles WHERE name_key > $1 ORDER BY name_key LIMIT $2`,
		page.Marker, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list roles: %w", err)
	}
	roles, err := collect(rows, scanRole)
	if err != nil {
		return nil, "", fmt.Errorf("list roles: %w", err)
	}
	if len(roles) > limit {
		roles = roles[:limit]
		return roles, sqlbase.NameKey(roles[limit-1].Name), nil
	}
	return roles, "", nil
}

// UpdateRole implements store.RoleStore.
func (s *Store) UpdateRole(ctx context.Context, name string, fn func(store.Role) (store.Role, error)) (store.Role, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(name)
	old, err := scanRole(tx.QueryRow(ctx, `SELECT `+roleColumns+` FROM roles WHERE name_key = $1 FOR UPDATE`, key))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Role{}, fmt.Errorf("update role %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	r, err := fn(old)
	if err != nil {
		return store.Role{}, err
	}
	tags, err := sqlbase.EncodeTags(r.Tags)
	if err != nil {
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	r, err = scanRole(tx.QueryRow(ctx,
		`UPDATE roles SET name_key = $1, name = $2, path = $3, id = $4, description = $5, assume_role_policy = $6,
		        max_session_duration = $7, permissions_boundary = $8, created_at = $9, tags = $10::jsonb
		 WHERE name_key = $11 RETURNING `+roleColumns,
		sqlbase.NameKey(r.Name), r.Name, r.Path, r.ID, r.Description, r.AssumeRolePolicyDocument,
		r.MaxSessionDuration, r.PermissionsBoundary, r.CreatedAt, tags, key))
	switch {
	case pgCode(err) == codeUniqueViolation:
		return store.Role{}, fmt.Errorf("update role %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	return r, nil
}

// DeleteRole implements store.RoleStore.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	return s.deleteReferenced(ctx, "role", name, "roles",
		`SELECT EXISTS (SELECT 1 FROM inline_policies WHERE role_key = $1),
		        EXISTS (SELECT 1 FROM policy_attachments WHERE role_key = $1)`,
		[]string{"inline policies", "attached policies"},
		`DELETE FROM roles WHERE name_key = $1`)
}
