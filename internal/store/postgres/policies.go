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

// Inline policies.
//
// The SQL of the methods that take a principal kind splices in the owner's
// table and column names from sqlbase.OwnerOf: constants, never values.

// PutInlinePolicy implements store.PolicyStore.
func (s *Store) PutInlinePolicy(ctx context.Context, p store.InlinePolicy) error {
	o, err := sqlbase.OwnerOf(p.Kind)
	if err != nil {
		return fmt.Errorf("put inline policy %q: %w", p.Name, err)
	}
	_, err = s.pool.Exec(ctx,
		`INSERT INTO inline_policies (`+o.Column+`, name_key, name, document) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (`+o.Column+`, name_key) DO UPDATE SET name = EXCLUDED.name, document = EXCLUDED.document`,
		sqlbase.NameKey(p.Owner), sqlbase.NameKey(p.Name), p.Name, p.Document)
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return fmt.Errorf("put inline policy %q: no such %s %q: %w", p.Name, p.Kind, p.Owner, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("put inline policy %q of %s %q: %w", p.Name, p.Kind, p.Owner, err)
	}
	return nil
}

// GetInlinePolicy implements store.PolicyStore.
func (s *Store) GetInlinePolicy(ctx context.Context, kind store.PrincipalKind, owner, name string) (store.InlinePolicy, error) {
	o, err := sqlbase.OwnerOf(kind)
	if err != nil {
		return store.InlinePolicy{}, fmt.Errorf("get inline policy %q: %w", name, err)
	}
	p := store.InlinePolicy{Kind: kind}
	err = s.pool.QueryRow(ctx,
		`SELECT o.name, p.name, p.document FROM inline_policies p JOIN `+o.Table+` o ON o.name_key = p.`+o.Column+`
		 WHERE p.`+o.Column+` = $1 AND p.name_key = $2`,
		sqlbase.NameKey(owner), sqlbase.NameKey(name)).Scan(&p.Owner, &p.Name, &p.Document)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.InlinePolicy{}, fmt.Errorf("get inline policy %q of %s %q: %w", name, kind, owner, store.ErrNotFound)
	case err != nil:
		return store.InlinePolicy{}, fmt.Errorf("get inline policy %q of %s %q: %w", name, kind, owner, err)
	}
	return p, nil
}

// ListInlinePolicies implements store.PolicyStore.
func (s *Store) ListInlinePolicies(ctx context.Context, kind store.PrincipalKind, owner string) ([]store.InlinePolicy, error) {
	o, err := sqlbase.OwnerOf(kind)
	if err != nil {
		return nil, fmt.Errorf("list inline policies: %w", err)
	}
	rows, err := s.pool.Query(ctx,
		`SELECT o.name, p.name, p.document FROM `+o.Table+` o LEFT JOIN inline_policies p ON p.`+o.Column+` = o.name_key
		 WHERE o.name_key = $1 ORDER BY p.name_key`, sqlbase.NameKey(owner))
	if err != nil {
		return nil, fmt.Errorf("list inline policies of %s %q: %w", kind, owner, err)
	}
	defer rows.Close()
	found := false
	ps := []store.InlinePolicy{}
	for rows.Next() {
		found = true
		var (
			ownerName      string
			name, document *string
		)
		if err := rows.Scan(&ownerName, &name, &document); err != nil {
			return nil, fmt.Errorf("list inline policies of %s %q: %w", kind, owner, err)
		}
		if name != nil {
			ps = append(ps, store.InlinePolicy{Kind: kind, Owner: ownerName, Name: *name, Document: *document})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list inline policies of %s %q: %w", kind, owner, err)
	}
	if !found {
		return nil, fmt.Errorf("list inline policies of %s %q: %w", kind, owner, store.ErrNotFound)
	}
	return ps, nil
}

// DeleteInlinePolicy implements store.PolicyStore.
func (s *Store) DeleteInlinePolicy(ctx context.Context, kind store.PrincipalKind, owner, name string) error {
	o, err := sqlbase.OwnerOf(kind)
	if err != nil {
		return fmt.Errorf("delete inline policy %q: %w", name, err)
	}
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM inline_policies WHERE `+o.Column+` = $1 AND name_key = $2`,
		sqlbase.NameKey(owner), sqlbase.NameKey(name))
	switch {
	case err != nil:
		return fmt.Errorf("delete inline policy %q of %s %q: %w", name, kind, owner, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("delete inline policy %q of %s %q: %w", name, kind, owner, store.ErrNotFound)
	}
	return nil
}

// Managed policies.

// policyColumns are the columns of a managed policy p, its attachment count
// last.
const policyColumns = `p.name, p.path, p.id, p.description, p.default_version, p.created_at, p.updated_at, p.tags::text,
	(SELECT count(*) FROM policy_attachments c WHERE c.policy_key = p.name_key)`

// scanPolicy scans policyColumns; ok is false when they are all NULL (no
// policy on the optional side of a LEFT JOIN).
func scanPolicy(row pgx.Row) (p store.ManagedPolicy, ok bool, err error) {
	var (
		name, path, id, desc, tags *string
		def                        *int
		created, updated           *time.Time
		n                          int
	)
	if err := row.Scan(&name, &path, &id, &desc, &def, &created, &updated, &tags, &n); err != nil {
		return store.ManagedPolicy{}, false, err
	}
	if name == nil {
		return store.ManagedPolicy{}, false, nil
	}
	t, err := sqlbase.DecodeTags(*tags)
	if err != nil {
		return store.ManagedPolicy{}, false, err
	}
	return store.ManagedPolicy{
		Name:             *name,
		Path:             *path,
		ID:               *id,
		Description:      *desc,
		DefaultVersionID: sqlbase.VersionID(*def),
		CreatedAt:        fromNullTime(created),
		UpdatedAt:        fromNullTime(updated),
		AttachmentCount:  n,
		Tags:             t,
	}, true, nil
}

func scanPolicyRow(row pgx.Row) (store.ManagedPolicy, error) {
	p, _, err := scanPolicy(row)
	return p, err
}

// CreateManagedPolicy implements store.PolicyStore.
func (s *Store) CreateManagedPolicy(ctx context.Context, p store.ManagedPolicy, document string) error {
	tags, err := sqlbase.EncodeTags(p.Tags)
	if err != nil {
		return fmt.Errorf("create policy %q: %w", p.Name, err)
	}
	updated := p.UpdatedAt
	if updated.IsZero() {
		updated = p.CreatedAt
	}
	key := sqlbase.NameKey(p.Name)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`INSERT INTO managed_policies (name_key, name, path, id, description, default_version, last_version, created_at, updated_at, tags)
			 VALUES ($1, $2, $3, $4, $5, 1, 1, $6, $7, $8::jsonb)`,
			key, p.Name, p.Path, p.ID, p.Description, p.CreatedAt, updated, tags); err != nil {
			return err
		}
		_, err := tx.Exec(ctx,
			`INSERT INTO policy_versions (policy_key, version, document, created_at) VALUES ($1, 1, $2, $3)`,
			key, document, p.CreatedAt)
		return err
	})
	switch {
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create policy %q: %w", p.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create policy %q: %w", p.Name, err)
	}
	return nil
}

// GetManagedPolicy implements store.PolicyStore.
func (s *Store) GetManagedPolicy(ctx context.Context, name string) (store.ManagedPolicy, error) {
	p, err := scanPolicyRow(s.pool.QueryRow(ctx,
		`SELECT `+policyColumns+` FROM managed_policies p WHERE p.name_key = $1`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ManagedPolicy{}, fmt.Errorf("get policy %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.ManagedPolicy{}, fmt.Errorf("get policy %q: %w", name, err)
	}
	return p, nil
}

// UpdatePolicyTags implements store.PolicyStore.
func (s *Store) UpdatePolicyTags(ctx context.Context, name string, fn func(map[string]string) (map[string]string, error)) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("update tags of policy %q: %w", name, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(name)
	var raw string
	err = tx.QueryRow(ctx, `SELECT tags::text FROM managed_policies WHERE name_key = $1 FOR NO KEY UPDATE`, key).Scan(&raw)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("update tags of policy %q: %w", name, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("update tags of policy %q: %w", name, err)
	}
	tags, err := sqlbase.DecodeTags(raw)
	if err != nil {
		return fmt.Errorf("update tags of policy %q: %w", name, err)
	}
	if tags, err = fn(tags); err != nil {
		return err
	}
	enc, err := sqlbase.EncodeTags(tags)
	if err != nil {
		return fmt.Errorf("update tags of policy %q: %w", name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE managed_policies SET tags = $1::jsonb WHERE name_key = $2`, enc, key); err != nil {
		return fmt.Errorf("update tags of policy %q: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("update tags of policy %q: %w", name, err)
	}
	return nil
}

// ListManagedPolicies implements store.PolicyStore. The marker is the name
// key of the last policy of the previous page.
func (s *Store) ListManagedPolicies(ctx context.Context, page store.Page, onlyAttached bool) ([]store.ManagedPolicy, string, error) {
	limit := page.Limit()
	rows, err := s.pool.Query(ctx,
		`SELECT `+policyColumns+` FROM managed_policies p
		 WHERE p.name_key > $1 AND (NOT $2::boolean OR EXISTS (SELECT 1 FROM policy_attachments a WHERE a.policy_key = p.name_key))
		 ORDER BY p.name_key LIMIT $3`,
		page.Marker, onlyAttached, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list policies: %w", err)
	}
	ps, err := collect(rows, scanPolicyRow)
	if err != nil {
		return nil, "", fmt.Errorf("list policies: %w", err)
	}
	if len(ps) > limit {
		ps = ps[:limit]
		return ps, sqlbase.NameKey(ps[limit-1].Name), nil
	}
	return ps, "", nil
}

// DeleteManagedPolicy implements store.PolicyStore. The policy's row lock
// also serializes it with AttachPolicy and CreatePolicyVersion.
func (s *Store) DeleteManagedPolicy(ctx context.Context, name string) error {
	return s.deleteReferenced(ctx, "policy", name, "managed_policies",
		`SELECT EXISTS (SELECT 1 FROM policy_attachments WHERE policy_key = $1),
		        (SELECT count(*) FROM policy_versions WHERE policy_key = $1) > 1`,
		[]string{"attachments", "non-default versions"},
		`DELETE FROM policy_versions WHERE policy_key = $1`,
		`DELETE FROM managed_policies WHERE name_key = $1`)
}

// Policy versions.

// CreatePolicyVersion implements store.PolicyStore. The policy's row lock
// serializes concurrent creations, so the limit holds and no id is handed
// out twice.
func (s *Store) CreatePolicyVersion(ctx context.Context, policyName, document string, setDefault bool, now time.Time) (store.PolicyVersion, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: %w", policyName, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(policyName)
	var (
		name string
		last int
	)
	err = tx.QueryRow(ctx,
		`SELECT name, last_version FROM managed_policies WHERE name_key = $1 FOR UPDATE`, key).Scan(&name, &last)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: %w", policyName, store.ErrNotFound)
	case err != nil:
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: %w", policyName, err)
	}
	var count int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM policy_versions WHERE policy_key = $1`, key).Scan(&count); err != nil {
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: %w", policyName, err)
	}
	if count >= store.MaxPolicyVersions {
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: it has %d versions, the most allowed: %w",
			policyName, count, store.ErrLimitExceeded)
	}
	n := last + 1
	if _, err := tx.Exec(ctx,
		`INSERT INTO policy_versions (policy_key, version, document, created_at) VALUES ($1, $2, $3, $4)`,
		key, n, document, now); err != nil {
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: %w", policyName, err)
	}
	if _, err := tx.Exec(ctx,
		`UPDATE managed_policies SET last_version = $1, updated_at = $2,
		        default_version = CASE WHEN $3::boolean THEN $1 ELSE default_version END
		 WHERE name_key = $4`,
		n, now, setDefault, key); err != nil {
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: %w", policyName, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.PolicyVersion{}, fmt.Errorf("create version of policy %q: %w", policyName, err)
	}
	return store.PolicyVersion{
		PolicyName: name,
		VersionID:  sqlbase.VersionID(n),
		Document:   document,
		IsDefault:  setDefault,
		CreatedAt:  sqlbase.Time(now),
	}, nil
}

// GetPolicyVersion implements store.PolicyStore.
func (s *Store) GetPolicyVersion(ctx context.Context, policyName, versionID string) (store.PolicyVersion, error) {
	n, ok := sqlbase.ParseVersionID(versionID)
	if !ok {
		return store.PolicyVersion{}, fmt.Errorf("get version %q of policy %q: no such version: %w", versionID, policyName, store.ErrNotFound)
	}
	vs, err := s.policyVersions(ctx, policyName, n)
	if err != nil {
		return store.PolicyVersion{}, fmt.Errorf("get version %q of policy %q: %w", versionID, policyName, err)
	}
	if len(vs) == 0 {
		return store.PolicyVersion{}, fmt.Errorf("get version %q of policy %q: no such version: %w", versionID, policyName, store.ErrNotFound)
	}
	return vs[0], nil
}

// ListPolicyVersions implements store.PolicyStore.
func (s *Store) ListPolicyVersions(ctx context.Context, policyName string) ([]store.PolicyVersion, error) {
	vs, err := s.policyVersions(ctx, policyName, 0)
	if err != nil {
		return nil, fmt.Errorf("list versions of policy %q: %w", policyName, err)
	}
	return vs, nil
}

// policyVersions reads the versions of a policy, or only version n if n >
// 0, in one statement: the LEFT JOIN tells "no such policy" (ErrNotFound)
// from "no such version" (no versions).
func (s *Store) policyVersions(ctx context.Context, policyName string, n int) ([]store.PolicyVersion, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT p.name, v.version, v.document, v.version = p.default_version, v.created_at
		 FROM managed_policies p LEFT JOIN policy_versions v ON v.policy_key = p.name_key AND ($2::integer = 0 OR v.version = $2)
		 WHERE p.name_key = $1 ORDER BY v.version`, sqlbase.NameKey(policyName), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := false
	vs := []store.PolicyVersion{}
	for rows.Next() {
		found = true
		var (
			name      string
			version   *int
			document  *string
			isDefault *bool
			at        *time.Time
		)
		if err := rows.Scan(&name, &version, &document, &isDefault, &at); err != nil {
			return nil, err
		}
		if version != nil {
			vs = append(vs, store.PolicyVersion{
				PolicyName: name,
				VersionID:  sqlbase.VersionID(*version),
				Document:   *document,
				IsDefault:  *isDefault,
				CreatedAt:  fromNullTime(at),
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no such policy: %w", store.ErrNotFound)
	}
	return vs, nil
}

// policyVersionState locks the policy's row in tx and returns its default
// version. It returns ErrNotFound if the policy or version n does not
// exist.
func policyVersionState(ctx context.Context, tx pgx.Tx, key string, n int) (def int, err error) {
	err = tx.QueryRow(ctx, `SELECT default_version FROM managed_policies WHERE name_key = $1 FOR UPDATE`, key).Scan(&def)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("no such policy: %w", store.ErrNotFound)
	case err != nil:
		return 0, err
	}
	var exists bool
	if err := tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM policy_versions WHERE policy_key = $1 AND version = $2)`, key, n).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, fmt.Errorf("no such version: %w", store.ErrNotFound)
	}
	return def, nil
}

// SetDefaultPolicyVersion implements store.PolicyStore.
func (s *Store) SetDefaultPolicyVersion(ctx context.Context, policyName, versionID string, now time.Time) error {
	n, ok := sqlbase.ParseVersionID(versionID)
	if !ok {
		return fmt.Errorf("set default version of policy %q to %q: no such version: %w", policyName, versionID, store.ErrNotFound)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("set default version of policy %q to %q: %w", policyName, versionID, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(policyName)
	def, err := policyVersionState(ctx, tx, key, n)
	if err != nil {
		return fmt.Errorf("set default version of policy %q to %q: %w", policyName, versionID, err)
	}
	if def == n {
		return nil
	}
	if _, err := tx.Exec(ctx,
		`UPDATE managed_policies SET default_version = $1, updated_at = $2 WHERE name_key = $3`, n, now, key); err != nil {
		return fmt.Errorf("set default version of policy %q to %q: %w", policyName, versionID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("set default version of policy %q to %q: %w", policyName, versionID, err)
	}
	return nil
}

// DeletePolicyVersion implements store.PolicyStore.
func (s *Store) DeletePolicyVersion(ctx context.Context, policyName, versionID string) error {
	n, ok := sqlbase.ParseVersionID(versionID)
	if !ok {
		return fmt.Errorf("delete version %q of policy %q: no such version: %w", versionID, policyName, store.ErrNotFound)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("delete version %q of policy %q: %w", versionID, policyName, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(policyName)
	def, err := policyVersionState(ctx, tx, key, n)
	switch {
	case err != nil:
		return fmt.Errorf("delete version %q of policy %q: %w", versionID, policyName, err)
	case def == n:
		return fmt.Errorf("delete version %q of policy %q: it is the default version: %w", versionID, policyName, store.ErrConflict)
	}
	if _, err := tx.Exec(ctx,
		`DELETE FROM policy_versions WHERE policy_key = $1 AND version = $2`, key, n); err != nil {
		return fmt.Errorf("delete version %q of policy %q: %w", versionID, policyName, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("delete version %q of policy %q: %w", versionID, policyName, err)
	}
	return nil
}

// Attachments.

// AttachPolicy implements store.PolicyStore. The existence check names what
// is missing; the foreign keys catch a concurrent delete.
func (s *Store) AttachPolicy(ctx context.Context, a store.Attachment, maxPerOwner int) error {
	o, err := sqlbase.OwnerOf(a.Kind)
	if err != nil {
		return fmt.Errorf("attach policy %q: %w", a.PolicyName, err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("attach policy %q to %s %q: %w", a.PolicyName, a.Kind, a.Owner, err)
	}
	defer rollback(ctx, tx)
	ok, pk := sqlbase.NameKey(a.Owner), sqlbase.NameKey(a.PolicyName)
	// The owner's row lock serializes its attachments; the count comes
	// after it, in its own statement (see lockRow).
	if err := lockRow(ctx, tx, o.Table, ok); errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("attach policy %q to %s %q: no such %s: %w", a.PolicyName, a.Kind, a.Owner, a.Kind, store.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("attach policy %q to %s %q: %w", a.PolicyName, a.Kind, a.Owner, err)
	}
	var hasPolicy, attached bool
	var n int
	err = tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM managed_policies WHERE name_key = $2),
		        EXISTS (SELECT 1 FROM policy_attachments WHERE `+o.Column+` = $1 AND policy_key = $2),
		        (SELECT count(*) FROM policy_attachments WHERE `+o.Column+` = $1)::int`,
		ok, pk).Scan(&hasPolicy, &attached, &n)
	switch {
	case err != nil:
		return fmt.Errorf("attach policy %q to %s %q: %w", a.PolicyName, a.Kind, a.Owner, err)
	case !hasPolicy:
		return fmt.Errorf("attach policy %q to %s %q: no such policy: %w", a.PolicyName, a.Kind, a.Owner, store.ErrNotFound)
	case !attached && maxPerOwner > 0 && n >= maxPerOwner:
		return fmt.Errorf("attach policy %q to %s %q: %d attached: %w", a.PolicyName, a.Kind, a.Owner, n, store.ErrLimitExceeded)
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO policy_attachments (`+o.Column+`, policy_key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, ok, pk)
	if err == nil {
		err = tx.Commit(ctx)
	}
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return fmt.Errorf("attach policy %q to %s %q: %w", a.PolicyName, a.Kind, a.Owner, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("attach policy %q to %s %q: %w", a.PolicyName, a.Kind, a.Owner, err)
	}
	return nil
}

// DetachPolicy implements store.PolicyStore.
func (s *Store) DetachPolicy(ctx context.Context, a store.Attachment) error {
	o, err := sqlbase.OwnerOf(a.Kind)
	if err != nil {
		return fmt.Errorf("detach policy %q: %w", a.PolicyName, err)
	}
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM policy_attachments WHERE `+o.Column+` = $1 AND policy_key = $2`,
		sqlbase.NameKey(a.Owner), sqlbase.NameKey(a.PolicyName))
	switch {
	case err != nil:
		return fmt.Errorf("detach policy %q from %s %q: %w", a.PolicyName, a.Kind, a.Owner, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("detach policy %q from %s %q: not attached: %w", a.PolicyName, a.Kind, a.Owner, store.ErrNotFound)
	}
	return nil
}

// ListAttachedPolicies implements store.PolicyStore.
func (s *Store) ListAttachedPolicies(ctx context.Context, kind store.PrincipalKind, owner string) ([]store.ManagedPolicy, error) {
	o, err := sqlbase.OwnerOf(kind)
	if err != nil {
		return nil, fmt.Errorf("list attached policies: %w", err)
	}
	// The LEFT JOINs tell "no such owner" (no row) from "nothing attached"
	// (one row of NULLs) in one consistent read.
	rows, err := s.pool.Query(ctx,
		`SELECT `+policyColumns+` FROM `+o.Table+` o
		 LEFT JOIN policy_attachments a ON a.`+o.Column+` = o.name_key
		 LEFT JOIN managed_policies p ON p.name_key = a.policy_key
		 WHERE o.name_key = $1 ORDER BY p.name_key`, sqlbase.NameKey(owner))
	if err != nil {
		return nil, fmt.Errorf("list attached policies of %s %q: %w", kind, owner, err)
	}
	defer rows.Close()
	found := false
	ps := []store.ManagedPolicy{}
	for rows.Next() {
		found = true
		p, ok, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("list attached policies of %s %q: %w", kind, owner, err)
		}
		if ok {
			ps = append(ps, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list attached policies of %s %q: %w", kind, owner, err)
	}
	if !found {
		return nil, fmt.Errorf("list attached policies of %s %q: %w", kind, owner, store.ErrNotFound)
	}
	return ps, nil
}

// ListEntitiesForPolicy implements store.PolicyStore.
func (s *Store) ListEntitiesForPolicy(ctx context.Context, policyName string) ([]store.Attachment, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT p.name, u.name, g.name, r.name
		 FROM managed_policies p
		 LEFT JOIN policy_attachments a ON a.policy_key = p.name_key
		 LEFT JOIN users u ON u.name_key = a.user_key
		 LEFT JOIN groups g ON g.name_key = a.group_key
		 LEFT JOIN roles r ON r.name_key = a.role_key
		 WHERE p.name_key = $1
		 ORDER BY a.user_key IS NULL, a.user_key, a.group_key IS NULL, a.group_key, a.role_key`,
		sqlbase.NameKey(policyName))
	if err != nil {
		return nil, fmt.Errorf("list entities for policy %q: %w", policyName, err)
	}
	defer rows.Close()
	found := false
	as := []store.Attachment{}
	for rows.Next() {
		found = true
		var (
			name            string
			user, grp, role *string
		)
		if err := rows.Scan(&name, &user, &grp, &role); err != nil {
			return nil, fmt.Errorf("list entities for policy %q: %w", policyName, err)
		}
		switch {
		case user != nil:
			as = append(as, store.Attachment{Kind: store.KindUser, Owner: *user, PolicyName: name})
		case grp != nil:
			as = append(as, store.Attachment{Kind: store.KindGroup, Owner: *grp, PolicyName: name})
		case role != nil:
			as = append(as, store.Attachment{Kind: store.KindRole, Owner: *role, PolicyName: name})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list entities for policy %q: %w", policyName, err)
	}
	if !found {
		return nil, fmt.Errorf("list entities for policy %q: %w", policyName, store.ErrNotFound)
	}
	return as, nil
}

// EffectivePolicies implements store.PolicyStore with one statement, so it
// reads one snapshot.
func (s *Store) EffectivePolicies(ctx context.Context, kind store.PrincipalKind, name string) ([]store.EffectivePolicy, error) {
	o, err := sqlbase.OwnerOf(kind)
	if err != nil {
		return nil, fmt.Errorf("effective policies of %q: %w", name, err)
	}
	rows, err := s.pool.Query(ctx, sqlbase.EffectiveSQL(o, "$1"), sqlbase.NameKey(name))
	if err != nil {
		return nil, fmt.Errorf("effective policies of %s %q: %w", kind, name, err)
	}
	defer rows.Close()
	found := false
	ps := []store.EffectivePolicy{}
	for rows.Next() {
		var (
			part, managed, version int
			ownerKey, owner        string
			policyKey, policy, doc string
		)
		if err := rows.Scan(&part, &ownerKey, &owner, &managed, &policyKey, &policy, &version, &doc); err != nil {
			return nil, fmt.Errorf("effective policies of %s %q: %w", kind, name, err)
		}
		if part == 0 {
			found = true
			continue
		}
		ps = append(ps, sqlbase.EffectiveRow(kind, part, owner, managed, policy, version, doc))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("effective policies of %s %q: %w", kind, name, err)
	}
	if !found {
		return nil, fmt.Errorf("effective policies of %s %q: %w", kind, name, store.ErrNotFound)
	}
	return ps, nil
}
