// Package store defines where dbiam keeps its state: the Store interface that
// every backend implements, the typed records it holds (IAM users, groups,
// roles, access keys, inline and managed policies with their versions and
// attachments, SAML providers, registered database clusters and the records
// of the credentials issued for them, replay records, work leases) and the
// sentinel errors callers check with errors.Is (ErrNotFound,
// ErrAlreadyExists, ErrConflict, ErrLimitExceeded).
//
// The interface follows dex's storage design: small per-entity interfaces
// composed into Store, Create/Get/List/Delete methods, and compare-and-swap
// updaters (Update*(key, func(old) (new, error))) that read, modify and write
// one record atomically, so concurrent replicas never lose an update. Every
// backend must pass the shared conformance suite in package storetest.
// Backends live in subpackages: sqlite (embedded, the default) and postgres
// (several replicas).
//
// Rules for every backend:
//
//   - The store never reads the clock: "now" and every timestamp come from the
//     caller. Times are kept in UTC with microsecond precision (finer
//     precision is truncated) and always come back in UTC.
//   - The store does not validate names, paths or statuses against AWS rules;
//     the IAM service does that before it calls the store.
//   - An updater's fn runs inside the backend's transaction: it must be quick,
//     pure and must not call the store (that can deadlock).
//   - IAM names (users, groups, roles, managed and inline policies, SAML
//     providers) are unique case-insensitively and come back in the spelling
//     they were stored with. Relations follow renames, and nothing that is
//     still referred to can be deleted (ErrConflict, AWS's DeleteConflict):
//     the store never leaves an orphan, and every operation that writes
//     several rows is one transaction.
//   - Cluster identifiers, login role names and database user names are
//     case-sensitive (PostgreSQL's and Redshift's rules): matched exactly,
//     sorted byte-wise. Background work on credentials is claimed through
//     the store (ClaimDueCredentials), so replicas never process one record
//     at the same time.
//   - Documents (policies, trust policies, SAML metadata) are stored
//     verbatim, byte for byte; their size and syntax are the caller's to
//     check.
//
// What this package and its backends must never do: log, print or put into
// an error message a record's secret material (AccessKey.SealedSecret and
// Cluster.SealedAdminPassword are sealed, but still never logged; issued
// credentials' passwords never reach the store), or build SQL by string
// concatenation of values (all values are bind parameters).
package store
