package clustercreds

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/store"
)

// OpenFunc opens an engine for a cluster with its admin password.
type OpenFunc func(ctx context.Context, c store.Cluster, adminPassword secret.String) (engine.Engine, error)

// Engines keeps one engine (one bounded connection pool) per cluster and
// replica. It is a cache of connections, not state: every replica opens
// its own from the cluster record in the store.
type Engines struct {
	open    OpenFunc
	keyring *keyring.Keyring

	mu      sync.Mutex
	engines map[string]cachedEngine
}

type cachedEngine struct {
	updated time.Time
	engine  engine.Engine
}

// NewEngines returns an empty cache.
func NewEngines(open OpenFunc, kr *keyring.Keyring) *Engines {
	return &Engines{open: open, keyring: kr, engines: make(map[string]cachedEngine)}
}

// AdminPasswordAAD binds a sealed admin password to its cluster.
func AdminPasswordAAD(cluster string) []byte { return []byte("cluster:" + cluster + ":admin_password") }

// Engine returns the engine of c, opening it (or re-opening it after the
// cluster record changed).
func (e *Engines) Engine(ctx context.Context, c store.Cluster) (engine.Engine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ce, ok := e.engines[c.Identifier]; ok {
		if ce.updated.Equal(c.UpdatedAt) {
			return ce.engine, nil
		}
		_ = ce.engine.Close()
		delete(e.engines, c.Identifier)
	}
	var pw secret.String
	if len(c.SealedAdminPassword) > 0 {
		plain, err := e.keyring.Open(c.SealedAdminPassword, AdminPasswordAAD(c.Identifier))
		if err != nil {
			return nil, fmt.Errorf("open admin password of cluster %s: %w", c.Identifier, err)
		}
		pw = secret.String(plain)
	}
	eng, err := e.open(ctx, c, pw)
	if err != nil {
		return nil, fmt.Errorf("open cluster %s: %w", c.Identifier, err)
	}
	e.engines[c.Identifier] = cachedEngine{updated: c.UpdatedAt, engine: eng}
	return eng, nil
}

// Forget closes and drops the engine of a cluster.
func (e *Engines) Forget(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ce, ok := e.engines[id]; ok {
		_ = ce.engine.Close()
		delete(e.engines, id)
	}
}

// Close closes every engine.
func (e *Engines) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, ce := range e.engines {
		_ = ce.engine.Close()
		delete(e.engines, id)
	}
	return nil
}
