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

// SAML providers.

const samlColumns = `name, metadata_document, created_at, valid_until, tags::text`

func scanSAML(row pgx.Row) (store.SAMLProvider, error) {
	var (
		p     store.SAMLProvider
		until *time.Time
		tags  string
	)
	if err := row.Scan(&p.Name, &p.MetadataDocument, &p.CreatedAt, &until, &tags); err != nil {
		return store.SAMLProvider{}, err
	}
	p.CreatedAt = utc(p.CreatedAt)
	p.ValidUntil = fromNullTime(until)
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
	_, err = s.pool.Exec(ctx,
		`INSERT INTO saml_providers (name_key, name, metadata_document, created_at, valid_until, tags) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
		sqlbase.NameKey(p.Name), p.Name, p.MetadataDocument, p.CreatedAt, nullTime(p.ValidUntil), tags)
	switch {
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("create SAML provider %q: %w", p.Name, store.ErrAlreadyExists)
	case err != nil:
		return fmt.Errorf("create SAML provider %q: %w", p.Name, err)
	}
	return nil
}

// GetSAMLProvider implements store.SAMLProviderStore.
func (s *Store) GetSAMLProvider(ctx context.Context, name string) (store.SAMLProvider, error) {
	p, err := scanSAML(s.pool.QueryRow(ctx,
		`SELECT `+samlColumns+` FROM saml_providers WHERE name_key = $1`, sqlbase.NameKey(name)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.SAMLProvider{}, fmt.Errorf("get SAML provider %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.SAMLProvider{}, fmt.Errorf("get SAML provider %q: %w", name, err)
	}
	return p, nil
}

// ListSAMLProviders implements store.SAMLProviderStore.
func (s *Store) ListSAMLProviders(ctx context.Context) ([]store.SAMLProvider, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+samlColumns+` FROM saml_providers ORDER BY name_key`)
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	defer rollback(ctx, tx)
	key := sqlbase.NameKey(name)
	old, err := scanSAML(tx.QueryRow(ctx, `SELECT `+samlColumns+` FROM saml_providers WHERE name_key = $1 FOR UPDATE`, key))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	p, err = scanSAML(tx.QueryRow(ctx,
		`UPDATE saml_providers SET name_key = $1, name = $2, metadata_document = $3, created_at = $4, valid_until = $5, tags = $6::jsonb
		 WHERE name_key = $7 RETURNING `+samlColumns,
		sqlbase.NameKey(p.Name), p.Name, p.MetadataDocument, p.CreatedAt, nullTime(p.ValidUntil), tags, key))
	switch {
	case pgCode(err) == codeUniqueViolation:
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, store.ErrAlreadyExists)
	case err != nil:
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.SAMLProvider{}, fmt.Errorf("update SAML provider %q: %w", name, err)
	}
	return p, nil
}

// DeleteSAMLProvider implements store.SAMLProviderStore.
func (s *Store) DeleteSAMLProvider(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM saml_providers WHERE name_key = $1`, sqlbase.NameKey(name))
	switch {
	case err != nil:
		return fmt.Errorf("delete SAML provider %q: %w", name, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("delete SAML provider %q: %w", name, store.ErrNotFound)
	}
	return nil
}
