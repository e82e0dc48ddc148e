package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// Groups.

const groupColumns = `name, path, id, created_at`

func scanGroup(row scanner) (store.Group, error) {
	var (
		g  store.Group
		at int64
	)
	if err := row.Scan(&g.Name, &g.Path, &g.ID, &at); err != nil {
		return store.Group{}, err
	}
	g.CreatedAt = fromMicros(at)
	return g, nil
}

// CreateGroup implements store.GroupStore.
func (s *Store) CreateGroup(ctx context.Context, g store.Group) error {
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO groups (name_key, name, path, id, created_at) VALUES (?, ?, ?, ?, ?)`,
		sqlbase.NameKey(g.Name), g.Name, g.Path, g.ID, micros(g.CreatedAt))
	switch {
	case isUnique(err):
		return fmt.Errorf("create group %q: %w", g.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create group %q: %w", g.Name, err)
	}
	return nil
}

// GetGroup implements store.GroupStore.
func (s *Store) GetGroup(ctx context.Context, name string) (store.Group, error) {
	g, err := scanGroup(s.queryRow(ctx,
		`SELECT `+groupColumns+` FROM groups WHERE name_key = ?`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Group{}, fmt.Errorf("get group %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Group{}, fmt.Errorf("get group %q: %w", name, err)
	}
	return g, nil
}

// ListGroups implements store.GroupStore. The marker is the name key of the
// last group of the previous page.
func (s *Store) ListGroups(ctx context.Context, page store.Page) ([]store.Group, string, error) {
	limit := page.Limit()
	rows, err := s.query(ctx,
		`SELECT `+groupColumns+` FROM groups WHERE name_key > ? ORDER BY name_key LIMIT ?`,
		page.Marker, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list groups: %w", err)
	}
	groups, err := collect(rows, scanGroup)
	if err != nil {
		return nil, "", fmt.Errorf("list groups: %w", err)
	}
	if len(groups) > limit {
		groups = groups[:limit]
		return groups, sqlbase.NameKey(groups[limit-1].Name), nil
	}
	return groups, "", nil
}

// UpdateGroup implements store.GroupStore.
func (s *Store) UpdateGroup(ctx context.Context, name string, fn func(store.Group) (store.Group, error)) (store.Group, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	key := sqlbase.NameKey(name)
	old, err := scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE name_key = ?`, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Group{}, fmt.Errorf("update group %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	g, err := fn(old)
	if err != nil {
		return store.Group{}, err
	}
	g, err = scanGroup(tx.QueryRowContext(ctx,
		`UPDATE groups SET name_key = ?, name = ?, path = ?, id = ?, created_at = ?
		 WHERE name_key = ? RETURNING `+groupColumns,
		sqlbase.NameKey(g.Name), g.Name, g.Path, g.ID, micros(g.CreatedAt), key))
	switch {
	case isUnique(err):
		return store.Group{}, fmt.Errorf("update group %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	return g, nil
}

// DeleteGroup implements store.GroupStore.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return s.deleteReferenced(ctx, "group", name,
		`SELECT EXISTS (SELECT 1 FROM group_members WHERE group_key = ?1),
		        EXISTS (SELECT 1 FROM inline_policies WHERE group_key = ?1),
		        EXISTS (SELECT 1 FROM policy_attachments WHERE group_key = ?1)
		 FROM groups WHERE name_key = ?1`,
		[]string{"members", "inline policies", "attached policies"},
		`DELETE FROM groups WHERE name_key = ?`)
}

// AddUserToGroup implements store.GroupStore.
func (s *Store) AddUserToGroup(ctx context.Context, group, user string, maxGroupsPerUser int) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	}
	defer tx.Rollback() // a no-op after Commit
	gk, uk := sqlbase.NameKey(group), sqlbase.NameKey(user)
	var hasGroup, hasUser bool
	if err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM groups WHERE name_key = ?), EXISTS (SELECT 1 FROM users WHERE name_key = ?)`,
		gk, uk).Scan(&hasGroup, &hasUser); err != nil {
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	}
	switch {
	case !hasGroup:
		return fmt.Errorf("add user %q to group %q: no such group: %w", user, group, store.ErrNotFound)
	case !hasUser:
		return fmt.Errorf("add user %q to group %q: no such user: %w", user, group, store.ErrNotFound)
	}
	if maxGroupsPerUser > 0 {
		var member bool
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM group_members WHERE group_key = ? AND user_key = ?), (SELECT count(*) FROM group_members WHERE user_key = ?)`,
			gk, uk, uk).Scan(&member, &n); err != nil {
			return fmt.Errorf("add user %q to group %q: %w", user, group, err)
		}
		if !member && n >= maxGroupsPerUser {
			return fmt.Errorf("add user %q to group %q: a member of %d groups: %w", user, group, n, store.ErrLimitExceeded)
		}
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO group_members (group_key, user_key) VALUES (?, ?) ON CONFLICT DO NOTHING`, gk, uk)
	switch {
	case isForeignKey(err):
		return fmt.Errorf("add user %q to group %q: %w", user, group, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	}
	return nil
}

// RemoveUserFromGroup implements store.GroupStore.
func (s *Store) RemoveUserFromGroup(ctx context.Context, group, user string) error {
	res, err := s.w.ExecContext(ctx,
		`DELETE FROM group_members WHERE group_key = ? AND user_key = ?`,
		sqlbase.NameKey(group), sqlbase.NameKey(user))
	if err != nil {
		return fmt.Errorf("remove user %q from group %q: %w", user, group, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("remove user %q from group %q: %w", user, group, err)
	} else if n == 0 {
		return fmt.Errorf("remove user %q from group %q: not a member: %w", user, group, store.ErrNotFound)
	}
	return nil
}

// ListGroupsForUser implements store.GroupStore.
func (s *Store) ListGroupsForUser(ctx context.Context, user string) ([]store.Group, error) {
	// The LEFT JOIN tells "no such user" (no row) from "no groups" (one row
	// with NULL group columns) in one consistent read.
	rows, err := s.query(ctx,
		`SELECT g.name, g.path, g.id, g.created_at
		 FROM users u
		 LEFT JOIN group_members m ON m.user_key = u.name_key
		 LEFT JOIN groups g ON g.name_key = m.group_key
		 WHERE u.name_key = ? ORDER BY g.name_key`, sqlbase.NameKey(user))
	if err != nil {
		return nil, fmt.Errorf("list groups of user %q: %w", user, err)
	}
	defer rows.Close()
	found := false
	groups := []store.Group{}
	for rows.Next() {
		found = true
		var (
			name, path, id sql.NullString
			at             sql.NullInt64
		)
		if err := rows.Scan(&name, &path, &id, &at); err != nil {
			return nil, fmt.Errorf("list groups of user %q: %w", user, err)
		}
		if name.Valid {
			groups = append(groups, store.Group{Name: name.String, Path: path.String, ID: id.String, CreatedAt: fromMicros(at.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list groups of user %q: %w", user, err)
	}
	if !found {
		return nil, fmt.Errorf("list groups of user %q: %w", user, store.ErrNotFound)
	}
	return groups, nil
}

// ListGroupMembers implements store.GroupStore.
func (s *Store) ListGroupMembers(ctx context.Context, group string) ([]store.User, error) {
	rows, err := s.query(ctx,
		`SELECT u.name, u.path, u.id, u.created_at, u.tags, u.permissions_boundary
		 FROM groups g
		 LEFT JOIN group_members m ON m.group_key = g.name_key
		 LEFT JOIN users u ON u.name_key = m.user_key
		 WHERE g.name_key = ? ORDER BY u.name_key`, sqlbase.NameKey(group))
	if err != nil {
		return nil, fmt.Errorf("list members of group %q: %w", group, err)
	}
	defer rows.Close()
	found := false
	users := []store.User{}
	for rows.Next() {
		found = true
		var (
			name, path, id, tags, boundary sql.NullString
			at                             sql.NullInt64
		)
		if err := rows.Scan(&name, &path, &id, &at, &tags, &boundary); err != nil {
			return nil, fmt.Errorf("list members of group %q: %w", group, err)
		}
		if !name.Valid {
			continue
		}
		t, err := sqlbase.DecodeTags(tags.String)
		if err != nil {
			return nil, fmt.Errorf("list members of group %q: %w", group, err)
		}
		users = append(users, store.User{
			Name: name.String, Path: path.String, ID: id.String, CreatedAt: fromMicros(at.Int64),
			Tags: t, PermissionsBoundary: boundary.String,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members of group %q: %w", group, err)
	}
	if !found {
		return nil, fmt.Errorf("list members of group %q: %w", group, store.ErrNotFound)
	}
	return users, nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
