package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// SAML providers.

const samlColumns = `name, metadata_document, created_at, valid_until, tags`

func scanSAML(row scanner) (store.SAMLProvider, error) {
	var (
		p     store.SAMLProvider
		at    int64
		until sql.NullInt64
		tags  string
	)
	if err := row.Scan(&p.Name, &p.MetadataDocument, &at, &until, &tags); err != nil {
		return store.SAMLProvider{}, err
	}
	p.CreatedAt = fromMicros(at)
	p.ValidUntil = fromNullMicros(until)
	t, err := sqlbase.DecodeTags(tags)
	if err != nil {
		return store.SAMLProvider{}, err
	}
	p.Tags = t
	return p, nil
}

// CreateSAMLProvider implements store.SAMLProviderStore.
func (s *Store) CreateSAMLProvider(ctx context.Context, p store.SAMLProvider) error {
	tags, err := sqlbase.EncodeTags(p.Tags)
	if err != nil {
		return fmt.Errorf("create SAML provider %q: %w", p.Name, err)
	}
	_, err = s.w.ExecContext(ctx,
		`INSERT INTO saml_providers (name_key, name, metadata_document, created_at, valid_until, tags) VALUES (?, ?, ?, ?, ?, ?)`,
		sqlbase.NameKey(p.Name), p.Name, p.MetadataDocument, micros(p.CreatedAt), nullMicros(p.ValidUntil), tags)
	switch {
	case isUnique(err):
		return fmt.Errorf("create SAML provider %q: %w", p.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create SAML provider %q: %w", p.Name, err)
	}
	return nil
}

// GetSAMLProvider implements store.SAMLProviderStore.
func (s *Store) GetSAMLProvider(ctx context.Context, name string) (store.SAMLProvider, error) {
	p, err := scanSAML(s.queryRow(ctx,
		`SELECT `+samlColumns+` FROM saml_providers WHERE name_key = ?`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.SAMLProvider{}, fmt.Errorf("get SAML provider %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.SAMLProvider{}, fmt.Errorf("get SAML provider %q: %w", name, err)
	}
	return p, nil
}

// ListSAMLProviders implements store.SAMLProviderStore.
func (s *Store) ListSAMLProviders(ctx context.Context) ([]store.SAMLProvider, error) {
	rows, err := s.query(ctx, `SELECT `+samlColumns+` FROM saml_providers ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("list SAML providers: %w", err)
	}
	ps, err := collect(rows, scanSAML)
	if err != nil {
		return nil, fmt.Errorf("list SAML providers: %w", err)
	}
	return ps, nil
}

// UpdateSAMLProvider implements store.SAMLProviderStore.
func (s *Store) UpdateSAMLProvider(ctx context.Context, name string, fn func(store.SAMLProvider) (store.SAMLProvider, error)) (store.SAMLProvider, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	key := sqlbase.NameKey(name)
	old, err := scanSAML(tx.QueryRowContext(ctx, `SELECT `+samlColumns+` FROM saml_providers WHERE name_key = ?`, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	p, err := fn(old)
	if err != nil {
		return store.SAMLProvider{}, err
	}
	tags, err := sqlbase.EncodeTags(p.Tags)
	if err != nil {
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	p, err = scanSAML(tx.QueryRowContext(ctx,
		`UPDATE saml_providers SET name_key = ?, name = ?, metadata_document = ?, created_at = ?, valid_until = ?, tags = ?
		 WHERE name_key = ? RETURNING `+samlColumns,
		sqlbase.NameKey(p.Name), p.Name, p.MetadataDocument, micros(p.CreatedAt), nullMicros(p.ValidUntil), tags, key))
	switch {
	case isUnique(err):
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	return p, nil
}

// DeleteSAMLProvider implements store.SAMLProviderStore.
func (s *Store) DeleteSAMLProvider(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM saml_providers WHERE name_key = ?`, sqlbase.NameKey(name))
	if err != nil {
		return fmt.Errorf("delete SAML provider %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete SAML provider %q: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("delete SAML provider %q: %w", name, store.ErrNotFound)
	}
	return nil
}
