package reaper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/store"
)

// errLostClaim stops an update whose claim another worker has taken over.
var errLostClaim = errors.New("claim lost")

// expire claims one batch of due credentials and revokes their logins,
// cluster by cluster.
func (r *Reaper) expire(ctx context.Context) (Report, error) {
	claimed, err := r.cfg.Store.ClaimDueCredentials(ctx, r.now(), r.cfg.Owner, r.cfg.Lease, r.cfg.Batch)
	if err != nil {
		return Report{}, fmt.Errorf("claim due credentials: %w", err)
	}
	rep := Report{Claimed: len(claimed)}
	if len(claimed) == 0 {
		return rep, nil
	}
	byCluster := make(map[string][]store.IssuedCredential)
	var ids []string
	for _, c := range claimed {
		if _, ok := byCluster[c.Cluster]; !ok {
			ids = append(ids, c.Cluster)
		}
		byCluster[c.Cluster] = append(byCluster[c.Cluster], c)
	}
	res, err := r.forEachCluster(ctx, ids, func(cctx context.Context, id string) (Report, error) {
		return r.expireCluster(ctx, cctx, id, byCluster[id])
	})
	rep.add(res)
	return rep, err
}

// expireCluster revokes the logins of one cluster's claimed credentials.
// Database calls use cctx (bounded by ClusterTimeout); store writes use ctx,
// so a cluster that timed out still gets its records' backoff written.
func (r *Reaper) expireCluster(ctx, cctx context.Context, id string, creds []store.IssuedCredential) (Report, error) {
	var (
		rep  Report
		errs []error
	)
	log := r.log.With("cluster", id)
	eng, err := r.engine(cctx, id)
	if err != nil {
		log.Warn("cluster unavailable; its expired credentials are retried later", "credentials", len(creds), "error", err)
		for _, c := range creds {
			if ctx.Err() != nil {
				break
			}
			rep.Failed++
			if werr := r.recordFailure(ctx, c, err); werr != nil {
				errs = append(errs, werr)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return rep, fmt.Errorf("expire credentials on cluster %s: %w", id, err)
		}
		return rep, nil
	}

	revoked := make(map[string][]string) // db user -> groups of its credentials that expired
	for _, c := range creds {
		if ctx.Err() != nil {
			break // shutting down: the claims end with their lease
		}
		if !r.now().Before(c.NextAttemptAt) {
			log.Debug("claim ended before its turn; left to the next claimer", "credential", c.ID)
			continue
		}
		clog := log.With("credential", c.ID, "login", c.LoginRole, "db_user", c.DbUser)
		resp, err := eng.Revoke(cctx, engine.RevokeRequest{LoginName: c.LoginRole, Terminate: r.cfg.TerminateSessionsAtExpiry})
		switch {
		case err == nil && (resp.Dropped || resp.NotFound):
			rep.Dropped++
			revoked[c.DbUser] = append(revoked[c.DbUser], c.Groups...)
			now := r.now()
			err = r.update(ctx, c, func(u *store.IssuedCredential) {
				u.State, u.DroppedAt, u.NextAttemptAt = store.CredentialDropped, now, now
			})
			clog.Info("expired login dropped", "found", !resp.NotFound, "sessions_terminated", resp.Terminated)
		case err == nil && resp.Busy:
			rep.Busy++
			revoked[c.DbUser] = append(revoked[c.DbUser], c.Groups...)
			next := r.now().Add(r.cfg.BusyRetry)
			err = r.update(ctx, c, func(u *store.IssuedCredential) {
				u.State, u.NextAttemptAt = store.CredentialRevoking, next
			})
			level := slog.LevelInfo
			if c.State == store.CredentialRevoking {
				level = slog.LevelDebug // said when it first happened
			}
			clog.Log(cctx, level, "expired login disabled; sessions still use it", "sessions", resp.Sessions, "retry_at", next)
		case errors.Is(err, engine.ErrNotManaged), errors.Is(err, engine.ErrInvalidName):
			// The name belongs to a role dbiam did not create (for example
			// Issue failed with ErrLoginExists), or could never have been
			// created: nothing of ours to remove, and never theirs.
			rep.NotManaged++
			cause := err
			now := r.now()
			err = r.update(ctx, c, func(u *store.IssuedCredential) {
				u.State, u.DroppedAt, u.NextAttemptAt = store.CredentialDropped, now, now
				u.LastError = lastError(fmt.Errorf("left alone: %w", cause))
			})
			clog.Warn("credential's login name is not a role dbiam manages; left alone and record closed", "error", cause)
		default:
			if err == nil {
				err = fmt.Errorf("revoke login %q: engine reported no outcome", c.LoginRole)
			}
			rep.Failed++
			cause := err
			err = r.recordFailure(ctx, c, cause)
			clog.Warn("revoking expired login failed; retried with backoff", "attempts", c.Attempts+1, "error", cause)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}

	if ctx.Err() == nil {
		n, err := r.revokeUnneededGroups(cctx, eng, id, revoked)
		rep.GroupGrantsRevoked += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("expire credentials on cluster %s: %w", id, err)
	}
	return rep, nil
}

// engine returns the engine of cluster id.
func (r *Reaper) engine(ctx context.Context, id string) (engine.Engine, error) {
	c, err := r.cfg.Store.GetCluster(ctx, id)
	if err == nil {
		var eng engine.Engine
		if eng, err = r.clusterEngine(ctx, c); err == nil {
			return eng, nil
		}
	}
	return nil, fmt.Errorf("cluster %s: %w", id, err)
}

func (r *Reaper) clusterEngine(ctx context.Context, c store.Cluster) (engine.Engine, error) {
	eng, err := r.cfg.Engines.Engine(ctx, c)
	if err == nil && eng == nil {
		err = errors.New("no engine")
	}
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	return eng, nil
}

// revokeUnneededGroups revokes, for each db user, the groups of its expired
// credentials that no unexpired credential still needs. The engine revokes
// only grants dbiam made.
func (r *Reaper) revokeUnneededGroups(ctx context.Context, eng engine.Engine, cluster string, candidates map[string][]string) (int, error) {
	var (
		n    int
		errs []error
	)
	for _, user := range sortedKeys(candidates) {
		groups := candidates[user]
		if len(groups) == 0 {
			continue
		}
		needed, err := r.cfg.Store.ActiveGroups(ctx, cluster, user, r.now())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		revoke := minus(groups, needed)
		if len(revoke) == 0 {
			continue
		}
		// The engine calls back, holding off new credentials of this user
		// that ask for groups, for the groups still needed: a credential
		// recorded since the read above keeps its groups.
		stillNeeded := func(ctx context.Context) ([]string, error) {
			return r.cfg.Store.ActiveGroups(ctx, cluster, user, r.now())
		}
		if err := eng.RevokeGroups(ctx, user, revoke, stillNeeded); err != nil {
			errs = append(errs, err)
			r.log.Warn("revoking group grants failed; reconciliation retries", "cluster", cluster, "db_user", user, "groups", revoke, "error", err)
			continue
		}
		n += len(revoke)
		r.log.Info("group grants revoked", "cluster", cluster, "db_user", user, "groups", revoke)
	}
	return n, errors.Join(errs...)
}

// update writes a claimed record through fn if this worker still holds the
// claim: same owner, same lease, not dropped meanwhile. Otherwise it does
// nothing.
func (r *Reaper) update(ctx context.Context, claimed store.IssuedCredential, fn func(*store.IssuedCredential)) error {
	_, err := r.cfg.Store.UpdateCredential(ctx, claimed.ID, func(c store.IssuedCredential) (store.IssuedCredential, error) {
		if c.ClaimOwner != r.cfg.Owner || !c.NextAttemptAt.Equal(claimed.NextAttemptAt) || c.State == store.CredentialDropped {
			return c, errLostClaim
		}
		fn(&c)
		return c, nil
	})
	if errors.Is(err, errLostClaim) || errors.Is(err, store.ErrNotFound) {
		r.log.Debug("claim lost; update skipped", "cluster", claimed.Cluster, "credential", claimed.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("update credential %s: %w", claimed.ID, err)
	}
	return nil
}

// recordFailure counts an attempt, keeps the error and backs off.
func (r *Reaper) recordFailure(ctx context.Context, c store.IssuedCredential, cause error) error {
	next := r.now().Add(r.backoff(c.Attempts + 1))
	return r.update(ctx, c, func(u *store.IssuedCredential) {
		u.Attempts++
		u.LastError = lastError(cause)
		u.NextAttemptAt = next
	})
}

// minus returns the distinct elements of a not in b, sorted.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
