package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// Roles.

const roleColumns = `name, path, id, description, assume_role_policy, max_session_duration, permissions_boundary, created_at, tags`

func scanRole(row scanner) (store.Role, error) {
	var (
		r    store.Role
		at   int64
		tags string
	)
	if err := row.Scan(&r.Name, &r.Path, &r.ID, &r.Description, &r.AssumeRolePolicyDocument,
		&r.MaxSessionDuration, &r.PermissionsBoundary, &at, &tags); err != nil {
		return store.Role{}, err
	}
	r.CreatedAt = fromMicros(at)
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
	_, err = s.w.ExecContext(ctx,
		`INSERT INTO roles (name_key, name, path, id, description, assume_role_policy, max_session_duration, permissions_boundary, created_at, tags)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sqlbase.NameKey(r.Name), r.Name, r.Path, r.ID, r.Description, r.AssumeRolePolicyDocument,
		r.MaxSessionDuration, r.PermissionsBoundary, micros(r.CreatedAt), tags)
	switch {
	case isUnique(err):
		return fmt.Errorf("create role %q: %w", r.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	return nil
}

// GetRole implements store.RoleStore.
func (s *Store) GetRole(ctx context.Context, name string) (store.Role, error) {
	r, err := scanRole(s.queryRow(ctx,
		`SELECT `+roleColumns+` FROM roles WHERE name_key = ?`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	rows, err := s.query(ctx,
		`SELECT `+roleColumns+` FROM roles WHERE name_key > ? ORDER BY name_key LIMIT ?`,
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	key := sqlbase.NameKey(name)
	old, err := scanRole(tx.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE name_key = ?`, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	r, err = scanRole(tx.QueryRowContext(ctx,
		`UPDATE roles SET name_key = ?, name = ?, path = ?, id = ?, description = ?, assume_role_policy = ?,
		        max_session_duration = ?, permissions_boundary = ?, created_at = ?, tags = ?
		 WHERE name_key = ? RETURNING `+roleColumns,
		sqlbase.NameKey(r.Name), r.Name, r.Path, r.ID, r.Description, r.AssumeRolePolicyDocument,
		r.MaxSessionDuration, r.PermissionsBoundary, micros(r.CreatedAt), tags, key))
	switch {
	case isUnique(err):
		return store.Role{}, fmt.Errorf("update role %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Role{}, fmt.Errorf("update role %q: %w", name, err)
	}
	return r, nil
}

// DeleteRole implements store.RoleStore.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	return s.deleteReferenced(ctx, "role", name,
		`SELECT EXISTS (SELECT 1 FROM inline_policies WHERE role_key = ?1),
		        EXISTS (SELECT 1 FROM policy_attachments WHERE role_key = ?1)
		 FROM roles WHERE name_key = ?1`,
		[]string{"inline policies", "attached policies"},
		`DELETE FROM roles WHERE name_key = ?`)
}
