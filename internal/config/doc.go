// Package config is dbiam's server configuration: a typed YAML file, an
// environment overlay (DBIAM_*), defaults, and a Validate that reports every
// problem at once with its field path.
//
// The order is: Default(), then the YAML file (Load), then the environment
// (Overlay, called by Load), then command-line flags (set by the caller on
// the returned Config), then Validate. Values derived from others (the
// SQLite path and master key file under data_dir, the accepted SigV4
// regions) are computed by methods at use time, so a later --data-dir or
// --region still moves them.
//
// Secrets are never accepted inline in the file: the root secret access key
// comes from DBIAM_ROOT_SECRET_ACCESS_KEY or root.secret_access_key_file,
// the PostgreSQL store URL's password from DBIAM_STORE_URL or
// store.url_file, a cluster admin password from admin_password_file. Load
// and Validate do not read or stat those files; RootSecret, StoreURL and
// Cluster.AdminURLWithPassword read them when the caller needs the value.
//
// This package must never put a secret into an error or a string it
// returns: secret values are held as secret.String, URLs are echoed only
// with their password redacted (RedactURL), and secret files' contents are
// never quoted. It does no logging and reads the environment only through
// the getenv function it is given.
package config
