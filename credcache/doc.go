// Package credcache keeps a temporary database login (a user name, a
// password and an expiry, as GetClusterCredentials returns them) ready for
// the many connections that share it, and fetches a new one shortly before
// the old one expires.
//
// A [Source] fetches credentials; a [Cache] hands them out. There are two
// caches behind the same small interface:
//
//   - [NewRefreshAhead] refreshes in the background once a fraction of the
//     credential's lifetime has passed (half, by default), so a caller almost
//     never waits for a fetch. If a refresh fails it keeps serving the old
//     credential while that is still valid and retries with backoff.
//   - [NewLazy] starts no background work: a caller that finds the credential
//     about to expire (less than the refresh margin, 60 seconds by default,
//     left — the margin the Redshift drivers use) fetches a new one. Use it
//     where background work is throttled (serverless functions, CPU-limited
//     containers) or not wanted.
//
// Both share one fetch among concurrent callers, rate-limit fetches (two
// back to back, then one per [WithMinRefreshInterval]), and support a forced
// refresh: after the database refused a login, [Cache.Invalidate] drops the
// credential that was refused (only if it is still the current one, so many
// connections failing at once cause one fetch).
//
// Fetch failures come back as a [*FetchError] that says whether a retry may
// succeed ([IsTemporary]: throttling, server errors, network trouble) or not
// (access denied, invalid parameters).
//
// A [Credential] never prints its password: fmt verbs, JSON and slog all show
// "[redacted]". The package imports only the standard library, takes its
// time from an injectable [Clock] and leaves no goroutine or timer behind
// after [Cache.Close].
package credcache
