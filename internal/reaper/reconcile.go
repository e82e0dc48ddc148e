package reaper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/store"
)

// ClaimKind is the kind of the store.Claim lease that makes one replica at a
// time reconcile a cluster (the key is the cluster identifier).
const ClaimKind = "reconcile"

// liveStates are the states of records whose login role may exist.
var liveStates = []string{store.CredentialIssuing, store.CredentialActive, store.CredentialRevoking, store.CredentialFailed}

// reconcile reconciles the clusters that are due for this replica, then
// purges old dropped records if that is due.
func (r *Reaper) reconcile(ctx context.Context) (Report, error) {
	var (
		rep  Report
		errs []error
	)
	now := r.now()
	clusters, err := r.listClusters(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	byID := make(map[string]store.Cluster, len(clusters))
	var due []string
	r.mu.Lock()
	for _, c := range clusters {
		if last, ok := r.lastReconcile[c.Identifier]; ok && now.Sub(last) < r.cfg.ReconcileEvery {
			continue
		}
		r.lastReconcile[c.Identifier] = now
		byID[c.Identifier] = c
		due = append(due, c.Identifier)
	}
	purge := r.lastPurge.IsZero() || now.Sub(r.lastPurge) >= r.cfg.ReconcileEvery
	if purge {
		r.lastPurge = now
	}
	r.mu.Unlock()

	if len(due) > 0 {
		res, err := r.forEachCluster(ctx, due, func(cctx context.Context, id string) (Report, error) {
			return r.reconcileCluster(ctx, cctx, byID[id])
		})
		rep.add(res)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if purge && ctx.Err() == nil {
		n, err := r.cfg.Store.PurgeCredentials(ctx, now.Add(-r.cfg.Retention))
		rep.Purged = n
		if err != nil {
			errs = append(errs, fmt.Errorf("purge dropped credentials: %w", err))
		} else if n > 0 {
			r.log.Info("purged dropped credential records", "count", n, "dropped_before", now.Add(-r.cfg.Retention))
		}
	}
	return rep, errors.Join(errs...)
}

func (r *Reaper) listClusters(ctx context.Context) ([]store.Cluster, error) {
	var (
		all  []store.Cluster
		page = store.Page{MaxItems: store.MaxMaxItems}
	)
	for {
		cs, next, err := r.cfg.Store.ListClusters(ctx, page)
		if err != nil {
			return all, fmt.Errorf("list clusters: %w", err)
		}
		all = append(all, cs...)
		if next == "" {
			return all, nil
		}
		page.Marker = next
	}
}

// reconcileCluster compares one cluster's catalog with its records, under a
// lease that keeps other replicas off it for ReconcileEvery:
//
//	(a) managed login roles without a live record (none, or "dropped") are
//	    revoked once expired (left, and logged, until then);
//	(b) expired records in issuing/active/revoking whose login role is not
//	    in the catalog are marked dropped (MissingRoles); unexpired ones
//	    are logged;
//	(c) managed group grants no unexpired credential needs are revoked.
//
// The records are read before the catalog: a login role in the catalog was
// recorded before it was created, so one missing from the records read is
// either a true orphan or issued after that read, and then not expired.
func (r *Reaper) reconcileCluster(ctx, cctx context.Context, cluster store.Cluster) (rep Report, err error) {
	id := cluster.Identifier
	log := r.log.With("cluster", id)
	ok, err := r.cfg.Store.Claim(cctx, ClaimKind, id, r.cfg.Owner, r.now(), r.cfg.ReconcileEvery)
	if err != nil {
		return rep, fmt.Errorf("reconcile cluster %s: %w", id, err)
	}
	if !ok {
		log.Debug("another replica reconciles this cluster")
		return rep, nil
	}
	defer func() {
		if err != nil {
			// Let another replica (or this one, next time) try again
			// without waiting for the whole lease.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if rerr := r.cfg.Store.Release(rctx, ClaimKind, id, r.cfg.Owner); rerr != nil {
				log.Warn("release reconciliation lease", "error", rerr)
			}
			err = fmt.Errorf("reconcile cluster %s: %w", id, err)
		}
	}()

	eng, err := r.clusterEngine(cctx, cluster)
	if err != nil {
		return rep, err
	}
	live, err := r.cfg.Store.ListCredentialsByCluster(cctx, id, liveStates, 0)
	if err != nil {
		return rep, err
	}
	m, err := eng.ListManaged(cctx)
	if err != nil {
		return rep, err
	}
	rep.Reconciled = 1
	records := make(map[string]store.IssuedCredential, len(live))
	for _, c := range live {
		records[c.LoginRole] = c
	}
	var errs []error

	// (a) Orphan logins.
	inCatalog := make(map[string]bool, len(m.Logins))
	unknownLive := make(map[string]bool) // db users with an unexpired login we have no record of
	for _, l := range m.Logins {
		inCatalog[l.Name] = true
		if _, ok := records[l.Name]; ok {
			continue
		}
		now := r.now()
		llog := log.With("login", l.Name, "db_user", l.DbUser)
		if !l.Expired(now) {
			unknownLive[l.DbUser] = true
			llog.Warn("managed login has no credential record; left until it expires", "valid_until", l.ValidUntil)
			continue
		}
		if cctx.Err() != nil {
			break
		}
		resp, err := eng.Revoke(cctx, engine.RevokeRequest{LoginName: l.Name, Terminate: r.cfg.TerminateSessionsAtExpiry})
		switch {
		case err != nil:
			errs = append(errs, err)
			llog.Warn("revoking orphan login failed", "error", err)
		case resp.Dropped:
			rep.OrphansDropped++
			llog.Info("orphan login dropped", "sessions_terminated", resp.Terminated)
		case resp.Busy:
			rep.Busy++
			llog.Info("orphan login disabled; sessions still use it", "sessions", resp.Sessions)
		}
	}

	// (b) Records whose login role is gone.
	for _, c := range live {
		if c.State == store.CredentialFailed || inCatalog[c.LoginRole] {
			continue
		}
		now := r.now()
		if now.Before(c.ExpiresAt) {
			// A record is written before its role: a young one may still
			// be in the middle of being issued.
			if c.State != store.CredentialIssuing && now.Sub(c.CreatedAt) > time.Minute {
				log.Warn("login role of an unexpired credential is missing from the catalog (dropped by hand?)",
					"credential", c.ID, "login", c.LoginRole, "state", c.State, "expires", c.ExpiresAt)
			}
			continue
		}
		marked := false
		_, err := r.cfg.Store.UpdateCredential(ctx, c.ID, func(u store.IssuedCredential) (store.IssuedCredential, error) {
			switch u.State {
			case store.CredentialIssuing, store.CredentialActive, store.CredentialRevoking:
			default:
				return u, errLostClaim
			}
			u.State, u.DroppedAt = store.CredentialDropped, now
			u.LastError = "login role missing from the catalog at reconciliation"
			marked = true
			return u, nil
		})
		switch {
		case errors.Is(err, errLostClaim) || errors.Is(err, store.ErrNotFound):
		case err != nil:
			errs = append(errs, fmt.Errorf("update credential %s: %w", c.ID, err))
		case marked:
			rep.MissingRoles++
			log.Info("expired credential without login role marked dropped", "credential", c.ID, "login", c.LoginRole, "state", c.State)
		}
	}

	// (c) Group grants no unexpired credential needs.
	grants := make(map[string][]string)
	for _, g := range m.GroupGrants {
		grants[g.DbUser] = append(grants[g.DbUser], g.Group)
	}
	for user := range grants {
		if unknownLive[user] {
			// A live login we hold no record of acts as this user (another
			// store, or one being issued): its groups are unknown, so keep
			// every grant until it expires.
			log.Info("group grants kept: an unrecorded live login acts as the db user", "db_user", user)
			delete(grants, user)
		}
	}
	if cctx.Err() == nil {
		n, err := r.revokeUnneededGroups(cctx, eng, id, grants)
		rep.GroupGrantsRevoked += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}
