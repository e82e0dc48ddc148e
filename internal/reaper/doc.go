// Package reaper removes what expired credentials leave in the databases:
// it drops the per-credential login roles once no session uses them,
// revokes the group grants no unexpired credential needs any more, and
// reconciles each cluster's catalog with the store in both directions, so a
// crash (or a lost store) never leaks a login (architecture decision 8).
//
// # Expiry pass
//
// Each pass claims a batch of due credentials (store.ClaimDueCredentials:
// expired, NextAttemptAt reached, state issuing, active, revoking or failed),
// so replicas sharing a store never work on the same record. Claimed
// credentials are grouped by cluster; clusters are worked on concurrently
// (Config.Parallelism) and each under Config.ClusterTimeout, so a cluster
// that is down or hangs does not hold up the others. Per credential the
// engine's Revoke (disable, then drop; with TerminateSessionsAtExpiry, end
// the sessions first) decides the new state:
//
//   - dropped, or not found (a record written before a crash that came
//     before the DDL, or an issuance that failed): "dropped", DroppedAt set;
//   - busy (sessions still use the login, now disabled with NOLOGIN):
//     "revoking", tried again after Config.BusyRetry;
//   - the name is a role dbiam does not manage: the role is left alone and
//     the record closed ("dropped", with LastError saying why);
//   - an error: Attempts+1, LastError, NextAttemptAt after an exponential
//     backoff (RetryBase doubled per attempt, at most MaxBackoff), state
//     kept.
//
// Every write goes through store.UpdateCredential and first checks that the
// claim still belongs to this worker (ClaimOwner and the lease's
// NextAttemptAt unchanged, record not dropped meanwhile); if not, the write
// is skipped. Then, for each db user whose credentials expired (dropped or
// busy), the groups those credentials asked for and that no unexpired
// credential of the user still asks for (store.ActiveGroups) are revoked:
// group membership lasts as long as an unexpired credential asked for it.
//
// # Reconciliation
//
// At most every Config.ReconcileEvery per cluster, across replicas (a
// store.Claim lease of kind ClaimKind held for ReconcileEvery and released
// only on failure), the reaper reads the cluster's live records, then its
// catalog (engine.ListManaged), and:
//
//   - revokes managed login roles that have no live record and are expired
//     (an unexpired one is logged and left until it expires);
//   - marks "dropped" the expired issuing/active/revoking records whose
//     login role is not in the catalog (an unexpired one is logged);
//   - revokes managed group grants that no unexpired credential needs,
//     except for a db user that an unrecorded live login acts as.
//
// It then purges dropped records older than Config.Retention.
//
// # What it must never do
//
// The reaper never drops a role it does not manage: it removes logins only
// through engine.Revoke, which refuses roles the cluster's marker role does
// not hold (engine.ErrNotManaged), and it revokes a login only once it is
// expired. It never revokes a membership it did not grant: it removes group
// grants only through engine.RevokeGroups, which revokes only the wrapper
// memberships dbiam granted. It never holds, logs or stores a password.
//
// A group is revoked only after the store, read again while the engine
// holds off new credentials of the same db user that ask for groups, shows
// that no unexpired credential needs it (engine.Engine.RevokeGroups'
// stillNeeded). Credentials are recorded before their login is issued, so a
// credential issued at the same moment either is seen by that read (the
// group stays) or waits for the revocation and grants the group again.
package reaper
