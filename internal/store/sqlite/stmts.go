package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/internal/sqlbase"
)

// Prepared reads.
//
// Preparing a statement (parsing and planning it) costs more than running
// the small indexed reads of the store, and the reads of every request
// (access key, user, effective policies) would otherwise prepare their SQL
// on each call. So the reads outside transactions go through query and
// queryRow, which run the statement prepared once per SQL text on the
// read-only pool: database/sql prepares it again on each connection that
// runs it, and the driver keeps it prepared (resetting it between runs)
// until Close.
//
// Only a fixed set of SQL texts may go through the cache (constants, or
// SQL built once from the constants of sqlbase.OwnerOf, see byKind), never
// text that contains a value: each distinct text stays prepared until
// Close. Reads inside a transaction keep preparing their SQL per call:
// they are not hot, and preparing on the pool while a read transaction
// holds one of its connections could wait for a connection that the
// transactions of other callers hold.
//
// Writes prepare their SQL per call too, except the one write of every
// GetClusterCredentials (CreateCredential), which goes through exec: a
// single statement outside any transaction, prepared once on the writer
// connection. Preparing it waits for a write transaction in progress,
// never for itself: no caller holds a transaction while calling exec.

// stmtCache is the statements prepared on db, by SQL text.
type stmtCache struct {
	db *sql.DB
	m  sync.Map // SQL text -> *sql.Stmt

	mu     sync.Mutex // serializes adding statements with close
	closed bool
}

// get returns the statement of query, preparing it the first time, or nil
// when it cannot be prepared (the caller then runs query unprepared, which
// reports the same error as before) or the cache is closed.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if v, ok := c.m.Load(query); ok {
		return v.(*sql.Stmt)
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = st.Close()
		return nil
	}
	if v, loaded := c.m.LoadOrStore(query, st); loaded {
		_ = st.Close() // another caller prepared it first
		return v.(*sql.Stmt)
	}
	return st
}

// close closes every statement; get returns nil from now on.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	c.m.Range(func(k, v any) bool {
		c.m.Delete(k)
		errs = append(errs, v.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}

// query runs the read query on the read-only pool, prepared once.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmts.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, query, args...)
}

// queryRow runs the read query, which returns at most one row, on the
// read-only pool, prepared once.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmts.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}

// exec runs the write statement, outside any transaction, prepared once
// on the writer connection.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := s.wstmts.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.w.ExecContext(ctx, query, args...)
}

// byKind builds the SQL of a method that takes a principal kind once for
// each kind, so that each call runs the same text (one prepared statement
// per kind) without building it again.
func byKind(build func(o sqlbase.Owner) string) map[store.PrincipalKind]string {
	m := make(map[store.PrincipalKind]string, 3)
	for _, k := range []store.PrincipalKind{store.KindUser, store.KindGroup, store.KindRole} {
		o, err := sqlbase.OwnerOf(k)
		if err != nil {
			panic(err)
		}
		m[k] = build(o)
	}
	return m
}
