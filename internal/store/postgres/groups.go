package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// Groups.

const groupColumns = `name, path, id, created_at`

func scanGroup(row pgx.Row) (store.Group, error) {
	var g store.Group
	if err := row.Scan(&g.Name, &g.Path, &g.ID, &g.CreatedAt); err != nil {
		return store.Group{}, err
	}
	g.CreatedAt = utc(g.CreatedAt)
	return g, nil
}

// CreateGroup implements store.GroupStore.
func (s *Store) CreateGroup(ctx context.Context, g store.Group) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO groups (name_key, name, path, id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		sqlbase.NameKey(g.Name), g.Name, g.Path, g.ID, g.CreatedAt)
	switch {
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create group %q: %w", g.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create group %q: %w", g.Name, err)
	}
	return nil
}

// GetGroup implements store.GroupStore.
func (s *Store) GetGroup(ctx context.Context, name string) (store.Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx,
		`SELECT `+groupColumns+` FROM groups WHERE name_key = $1`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	rows, err := s.pool.Query(ctx,
		`SELECT `+groupColumns+` FROM groups WHERE name_key > $1 ORDER BY name_key LIMIT $2`,
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(name)
	old, err := scanGroup(tx.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE name_key = $1 FOR UPDATE`, key))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Group{}, fmt.Errorf("update group %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	g, err := fn(old)
	if err != nil {
		return store.Group{}, err
	}
	g, err = scanGroup(tx.QueryRow(ctx,
		`UPDATE groups SET name_key = $1, name = $2, path = $3, id = $4, created_at = $5
		 WHERE name_key = $6 RETURNING `+groupColumns,
		sqlbase.NameKey(g.Name), g.Name, g.Path, g.ID, g.CreatedAt, key))
	switch {
	case pgCode(err) == codeUniqueViolation:
		return store.Group{}, fmt.Errorf("update group %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Group{}, fmt.Errorf("update group %q: %w", name, err)
	}
	return g, nil
}

// DeleteGroup implements store.GroupStore.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return s.deleteReferenced(ctx, "group", name, "groups",
		`SELECT EXISTS (SELECT 1 FROM group_members WHERE group_key = $1),
		        EXISTS (SELECT 1 FROM inline_policies WHERE group_key = $1),
		        EXISTS (SELECT 1 FROM policy_attachments WHERE group_key = $1)`,
		[]string{"members", "inline policies", "attached policies"},
		`DELETE FROM groups WHERE name_key = $1`)
}

// AddUserToGroup implements store.GroupStore. The existence check names
// what is missing; the foreign keys catch a concurrent delete.
func (s *Store) AddUserToGroup(ctx context.Context, group, user string, maxGroupsPerUser int) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	}
	defer rollback(ctx, tx)
	gk, uk := sqlbase.NameKey(group), sqlbase.NameKey(user)
	// The user's row lock serializes the user's memberships; the count
	// comes after it, in its own statement (see lockRow).
	if err := lockRow(ctx, tx, "users", uk); errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("add user %q to group %q: no such user: %w", user, group, store.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	}
	var hasGroup, member bool
	var n int
	err = tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM groups WHERE name_key = $1),
		        EXISTS (SELECT 1 FROM group_members WHERE group_key = $1 AND user_key = $2),
		        (SELECT count(*) FROM group_members WHERE user_key = $2)::int`,
		gk, uk).Scan(&hasGroup, &member, &n)
	switch {
	case err != nil:
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	case !hasGroup:
		return fmt.Errorf("add user %q to group %q: no such group: %w", user, group, store.ErrNotFound)
	case !member && maxGroupsPerUser > 0 && n >= maxGroupsPerUser:
		return fmt.Errorf("add user %q to group %q: a member of %d groups: %w", user, group, n, store.ErrLimitExceeded)
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO group_members (group_key, user_key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, gk, uk)
	if err == nil {
		err = tx.Commit(ctx)
	}
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return fmt.Errorf("add user %q to group %q: %w", user, group, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("add user %q to group %q: %w", user, group, err)
	}
	return nil
}

// RemoveUserFromGroup implements store.GroupStore.
func (s *Store) RemoveUserFromGroup(ctx context.Context, group, user string) error {
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM group_members WHERE group_key = $1 AND user_key = $2`,
		sqlbase.NameKey(group), sqlbase.NameKey(user))
	switch {
	case err != nil:
		return fmt.Errorf("remove user %q from group %q: %w", user, group, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("remove user %q from group %q: not a member: %w", user, group, store.ErrNotFound)
	}
	return nil
}

// ListGroupsForUser implements store.GroupStore.
func (s *Store) ListGroupsForUser(ctx context.Context, user string) ([]store.Group, error) {
	// The LEFT JOIN tells "no such user" (no row) from "no groups" (one row
	// with NULL group columns) in one consistent read.
	rows, err := s.pool.Query(ctx,
		`SELECT g.name, g.path, g.id, g.created_at
		 FROM users u
		 LEFT JOIN group_members m ON m.user_key = u.name_key
		 LEFT JOIN groups g ON g.name_key = m.group_key
		 WHERE u.name_key = $1 ORDER BY g.name_key`, sqlbase.NameKey(user))
	if err != nil {
		return nil, fmt.Errorf("list groups of user %q: %w", user, err)
	}
	defer rows.Close()
	found := false
	groups := []store.Group{}
	for rows.Next() {
		found = true
		var (
			name, path, id *string
			at             *time.Time
		)
		if err := rows.Scan(&name, &path, &id, &at); err != nil {
			return nil, fmt.Errorf("list groups of user %q: %w", user, err)
		}
		if name != nil {
			groups = append(groups, store.Group{Name: *name, Path: *path, ID: *id, CreatedAt: fromNullTime(at)})
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
	rows, err := s.pool.Query(ctx,
		`SELECT u.name, u.path, u.id, u.created_at, u.tags::text, u.permissions_boundary
		 FROM groups g
		 LEFT JOIN group_members m ON m.group_key = g.name_key
		 LEFT JOIN users u ON u.name_key = m.user_key
		 WHERE g.name_key = $1 ORDER BY u.name_key`, sqlbase.NameKey(group))
	if err != nil {
		return nil, fmt.Errorf("list members of group %q: %w", group, err)
	}
	defer rows.Close()
	found := false
	users := []store.User{}
	for rows.Next() {
		found = true
		var (
			name, path, id, tags, boundary *string
			at                             *time.Time
		)
		if err := rows.Scan(&name, &path, &id, &at, &tags, &boundary); err != nil {
			return nil, fmt.Errorf("list members of group %q: %w", group, err)
		}
		if name == nil {
			continue
		}
		t, err := sqlbase.DecodeTags(*tags)
		if err != nil {
			return nil, fmt.Errorf("list members of group %q: %w", group, err)
		}
		users = append(users, store.User{
			Name: *name, Path: *path, ID: *id, CreatedAt: fromNullTime(at),
			Tags: t, PermissionsBoundary: *boundary,
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

// collect scans every row with scan; the result is empty, not nil, when
// there are none.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if out == nil && err == nil {
		out = []T{}
	}
	return out, err
}
