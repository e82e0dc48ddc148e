package reaper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/store"
)

// Defaults of Config.
const (
	DefaultInterval       = 15 * time.Second
	DefaultLease          = time.Minute
	DefaultBatch          = 100
	DefaultReconcileEvery = 5 * time.Minute
	DefaultRetention      = 7 * 24 * time.Hour
	DefaultParallelism    = 4
	DefaultBusyRetry      = 30 * time.Second
	DefaultRetryBase      = 10 * time.Second
	DefaultMaxBackoff     = 5 * time.Minute
)

// MaxLastError bounds the error text kept in a record, in bytes.
const MaxLastError = 500

// EngineSource returns the engine of a cluster. *clustercreds.Engines
// satisfies it. Engines are shared and owned by the source: the reaper never
// closes them.
type EngineSource interface {
	Engine(ctx context.Context, c store.Cluster) (engine.Engine, error)
}

// EngineSourceFunc adapts a function to EngineSource.
type EngineSourceFunc func(ctx context.Context, c store.Cluster) (engine.Engine, error)

// Engine calls f.
func (f EngineSourceFunc) Engine(ctx context.Context, c store.Cluster) (engine.Engine, error) {
	return f(ctx, c)
}

var _ EngineSource = EngineSourceFunc(nil)

// Config configures a Reaper. Store, Engines and Owner are required.
type Config struct {
	Store   store.Store
	Engines EngineSource
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives what the reaper does and every failure (names,
	// never secrets). Default: discard.
	Logger *slog.Logger
	// Owner identifies this replica in claims; random per process, so a
	// restarted process never mistakes an old claim for its own.
	Owner string
	// Interval is the pause between passes of Run (default 15s).
	Interval time.Duration
	// Lease is how long a claim on a due credential lasts (default 1m).
	// A replica that dies mid-pass leaves its claims to expire; another
	// replica then takes the work over.
	Lease time.Duration
	// Batch is how many due credentials one pass claims (default 100).
	Batch int
	// TerminateSessionsAtExpiry ends the sessions of expired logins so
	// they can be dropped at once. Off by default, as in Redshift: a login
	// with live sessions is disabled (NOLOGIN) and retried every BusyRetry
	// until its sessions end.
	TerminateSessionsAtExpiry bool
	// ReconcileEvery is how often each cluster is reconciled, across all
	// replicas (default 5m).
	ReconcileEvery time.Duration
	// ObservePass, when set, is told of every pass of Run: its report, how
	// long it took and its error. For metrics.
	ObservePass func(rep Report, elapsed time.Duration, err error)
	// Retention is how long dropped records are kept before they are
	// purged (default 7 days).
	Retention time.Duration

	// Parallelism bounds how many clusters are worked on at once
	// (default 4).
	Parallelism int
	// ClusterTimeout bounds the work on one cluster in one pass (default
	// Lease/2; at most Lease), so a cluster that is down or hangs does not
	// hold the pass, and the claims end after the work.
	ClusterTimeout time.Duration
	// BusyRetry is when a login that still has sessions is tried again
	// (default 30s).
	BusyRetry time.Duration
	// RetryBase and MaxBackoff shape the backoff after a failure: RetryBase
	// doubled per consecutive attempt, at most MaxBackoff (defaults 10s
	// and 5m).
	RetryBase  time.Duration
	MaxBackoff time.Duration
}

// Report says what one RunOnce did.
type Report struct {
	// Claimed is how many due credentials the expiry pass claimed.
	Claimed int
	// Dropped counts due credentials whose login role is gone (dropped now,
	// or never created / already gone); their records are now "dropped".
	Dropped int
	// Busy counts expired logins (credentials and orphans) left disabled
	// because sessions still use them; they are retried.
	Busy int
	// Failed counts credentials whose revocation failed; they are retried
	// with backoff (the record holds the error).
	Failed int
	// NotManaged counts credentials whose login name belongs to a role
	// dbiam does not manage: the role is left alone, the record closed.
	NotManaged int
	// GroupGrantsRevoked counts the (db user, group) grants revoked.
	GroupGrantsRevoked int
	// OrphansDropped counts managed login roles without a live record that
	// reconciliation dropped.
	OrphansDropped int
	// MissingRoles counts expired records whose login role was absent
	// from the catalog, marked "dropped" by reconciliation.
	MissingRoles int
	// Reconciled counts the clusters reconciled by this call.
	Reconciled int
	// Purged counts the dropped records deleted after Retention.
	Purged int
}

func (r *Report) add(o Report) {
	r.Claimed += o.Claimed
	r.Dropped += o.Dropped
	r.Busy += o.Busy
	r.Failed += o.Failed
	r.NotManaged += o.NotManaged
	r.GroupGrantsRevoked += o.GroupGrantsRevoked
	r.OrphansDropped += o.OrphansDropped
	r.MissingRoles += o.MissingRoles
	r.Reconciled += o.Reconciled
	r.Purged += o.Purged
}

// Reaper drops expired login roles, revokes group grants no credential
// needs any more, and reconciles the store with the clusters' catalogs.
// Create it with New. RunOnce and Run are safe on any number of replicas
// sharing a store; one Reaper runs one pass at a time.
type Reaper struct {
	cfg Config
	log *slog.Logger

	pass sync.Mutex // one RunOnce at a time

	mu            sync.Mutex
	lastReconcile map[string]time.Time // cluster -> last attempt by this replica
	lastPurge     time.Time
}

// New checks cfg, fills in the defaults and returns a Reaper.
func New(cfg Config) (*Reaper, error) {
	var problems []string
	if cfg.Store == nil {
		problems = append(problems, "no store")
	}
	if cfg.Engines == nil {
		problems = append(problems, "no engine source")
	}
	if cfg.Owner == "" {
		problems = append(problems, "no owner")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", cfg.Interval}, {"lease", cfg.Lease}, {"reconcile interval", cfg.ReconcileEvery},
		{"retention", cfg.Retention}, {"cluster timeout", cfg.ClusterTimeout}, {"busy retry", cfg.BusyRetry},
		{"retry base", cfg.RetryBase}, {"max backoff", cfg.MaxBackoff}} {
		if d.v < 0 {
			problems = append(problems, d.name+" is negative")
		}
	}
	if cfg.Batch < 0 || cfg.Parallelism < 0 {
		problems = append(problems, "batch and parallelism must not be negative")
	}
	setDefault(&cfg.Interval, DefaultInterval)
	setDefault(&cfg.Lease, DefaultLease)
	setDefault(&cfg.ReconcileEvery, DefaultReconcileEvery)
	setDefault(&cfg.Retention, DefaultRetention)
	setDefault(&cfg.ClusterTimeout, cfg.Lease/2)
	setDefault(&cfg.BusyRetry, DefaultBusyRetry)
	setDefault(&cfg.RetryBase, DefaultRetryBase)
	setDefault(&cfg.MaxBackoff, DefaultMaxBackoff)
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Parallelism == 0 {
		cfg.Parallelism = DefaultParallelism
	}
	if cfg.ClusterTimeout > cfg.Lease {
		problems = append(problems, fmt.Sprintf("cluster timeout %v exceeds the lease %v: claims would end while their work goes on", cfg.ClusterTimeout, cfg.Lease))
	}
	if len(problems) > 0 {
		return nil, errors.New("reaper: " + strings.Join(problems, "; "))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reaper{cfg: cfg, log: log.With("component", "reaper"), lastReconcile: make(map[string]time.Time)}, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func (r *Reaper) now() time.Time { return r.cfg.Now().UTC() }

// Run runs passes until ctx is done, then returns nil. A pass that claimed a
// full batch is followed at once by the next one; otherwise Run waits
// Interval. Errors are logged, panics recovered and logged: Run never stops
// on its own.
func (r *Reaper) Run(ctx context.Context) error {
	r.log.Info("reaper started", "owner", r.cfg.Owner, "interval", r.cfg.Interval,
		"terminate_sessions_at_expiry", r.cfg.TerminateSessionsAtExpiry)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			r.log.Info("reaper stopped", "owner", r.cfg.Owner)
			return nil
		case <-timer.C:
		}
		start := r.now()
		rep, err := r.safeRunOnce(ctx)
		if r.cfg.ObservePass != nil && ctx.Err() == nil {
			r.cfg.ObservePass(rep, r.now().Sub(start), err)
		}
		if err != nil && ctx.Err() == nil {
			r.log.Error("reaper pass", "error", err)
		}
		if rep != (Report{}) {
			r.log.Info("reaper pass", "claimed", rep.Claimed, "dropped", rep.Dropped, "busy", rep.Busy,
				"failed", rep.Failed, "not_managed", rep.NotManaged, "group_grants_revoked", rep.GroupGrantsRevoked,
				"orphans_dropped", rep.OrphansDropped, "missing_roles", rep.MissingRoles,
				"reconciled", rep.Reconciled, "purged", rep.Purged)
		}
		next := r.cfg.Interval
		if err == nil && rep.Claimed >= r.cfg.Batch {
			next = 0 // more is due: drain
		}
		timer.Reset(next)
	}
}

func (r *Reaper) safeRunOnce(ctx context.Context) (rep Report, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reaper pass panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return r.RunOnce(ctx)
}

// RunOnce runs one expiry pass (one claimed batch) and, where due,
// reconciles clusters and purges old records.
//
// Outcomes of single credentials (a busy login, a failed revocation, a
// cluster that is down) are in the Report and in the records (state,
// LastError, NextAttemptAt), not in the error. The error joins what could
// not be recorded anywhere else: the store failing, a group grant that could
// not be revoked, a reconciliation that failed, a recovered panic.
func (r *Reaper) RunOnce(ctx context.Context) (Report, error) {
	r.pass.Lock()
	defer r.pass.Unlock()
	var rep Report
	exp, err1 := r.expire(ctx)
	rep.add(exp)
	if ctx.Err() != nil {
		return rep, errors.Join(err1, ctx.Err())
	}
	rec, err2 := r.reconcile(ctx)
	rep.add(rec)
	return rep, errors.Join(err1, err2)
}

// forEachCluster runs fn for each key concurrently, at most Parallelism at
// once, each under ClusterTimeout, recovering panics.
func (r *Reaper) forEachCluster(ctx context.Context, keys []string, fn func(ctx context.Context, key string) (Report, error)) (Report, error) {
	var (
		mu   sync.Mutex
		rep  Report
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, r.cfg.Parallelism)
	)
	for _, k := range keys {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return rep, errors.Join(append(errs, ctx.Err())...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var (
				res Report
				err error
			)
			func() {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("cluster %s: panic: %v\n%s", k, p, debug.Stack())
					}
				}()
				cctx, cancel := context.WithTimeout(ctx, r.cfg.ClusterTimeout)
				defer cancel()
				res, err = fn(cctx, k)
			}()
			mu.Lock()
			defer mu.Unlock()
			rep.add(res)
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	return rep, errors.Join(errs...)
}

// lastError is the text kept in a record: bounded, valid UTF-8. Engine
// errors name roles and SQLSTATEs, never passwords (engines scrub them, and
// the reaper never holds one).
func lastError(err error) string {
	s := err.Error()
	if len(s) > MaxLastError {
		s = s[:MaxLastError]
	}
	return strings.ToValidUTF8(s, "?")
}

// backoff is the delay after the n-th consecutive failure (n >= 1).
func (r *Reaper) backoff(n int) time.Duration {
	d := r.cfg.RetryBase
	for i := 1; i < n && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.cfg.MaxBackoff)
}
