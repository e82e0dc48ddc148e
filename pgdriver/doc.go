// Package pgdriver connects to PostgreSQL with temporary IAM database
// credentials from dbiam (or Amazon Redshift's GetClusterCredentials), the
// way the Redshift JDBC/ODBC/Python drivers do with `jdbc:redshift:iam://`:
// it signs GetClusterCredentials with the caller's AWS credentials, logs in
// with the returned user name and password, and reuses that credential for
// every connection until shortly before it expires.
//
// It is built on pgx. Three ways in:
//
//   - database/sql: sql.OpenDB(connector) with a Connector from
//     NewConnector, or Register(DriverName) once and then
//     sql.Open(DriverName, dsn).
//   - pgxpool: Connector.PoolConfig, or Connector.BeforeConnect as
//     pgxpool.Config.BeforeConnect, or the package-level BeforeConnect
//     configured by options alone.
//   - a single pgx connection: Connector.ConnectPgx.
//
// # DSN
//
// A PostgreSQL URL with IAM parameters added:
//
//	postgres://[host[:port]]/dbname?cluster_id=dev&db_user=alice[&…]
//
// Every parameter that is not an IAM parameter goes to pgx unchanged
// (sslmode, sslrootcert, connect_timeout, application_name, pool_* for
// PoolConfig …). IAM parameter names match ignoring case, "_" and "-", so
// the Redshift JDBC spellings work too (ClusterID, DbUser, AutoCreate,
// IAMDuration, EndpointUrl …):
//
//	cluster_id            cluster identifier (required, or taken from a
//	                      <cluster>.<x>.<region>.redshift.amazonaws.com host)
//	region                AWS region (default: AWS_REGION or the profile's)
//	endpoint_url          base URL of the AWS APIs (Redshift, and STS for
//	                      role_arn and profiles that assume a role), e.g. the
//	                      dbiam server https://dbiam.internal:8439
//	sts_endpoint_url      STS only, for role_arn and SAML (default: endpoint_url)
//	db_user               database user (DbUser)
//	db_groups             comma-separated database groups (DbGroups)
//	auto_create           create the database user if missing (true/false)
//	force_lowercase       lowercase the groups
//	iam_duration          credential lifetime in seconds, 900–3600
//	                      (default: the server's, 900)
//	profile               AWS shared-config profile; its dbuser, dbgroups,
//	                      autocreate and forcelowercase keys are read too
//	role_arn              role to assume with the AWS credentials first
//	role_session_name     its session name (default dbiam-pgdriver)
//	duration              STS session duration in seconds for role_arn and
//	                      SAML, 900–43200 (as the drivers' duration)
//	cache                 refresh-ahead (default), lazy or none
//	iam_disable_cache     true is cache=none
//	plugin_name           saml-assertion, saml-form or saml-browser
//	saml_assertion        base64 SAMLResponse (saml-assertion)
//	idp_url (login_url)   the IdP's login URL (saml-form, saml-browser)
//	preferred_role        role ARN to pick from the SAML response
//	listen_port           saml-browser's loopback port (default 7890)
//	idp_response_timeout  saml-browser's timeout in seconds (default 120)
//
// The host may be left out (postgres:///dbname?cluster_id=dev…): the
// driver then asks DescribeClusters once for the cluster's address and port.
// A host without a port means 5432. The URL's path is the database and is
// sent as DbName. A user name in the URL is the database user when nothing
// else names one; with a SAML plugin, the URL's user and password are the
// IdP login instead (saml-form). Otherwise a password in the DSN is an
// error. Keyword/value DSNs ("host=… dbname=…") are not supported.
//
// # AWS credentials
//
// GetClusterCredentials is signed with the credentials of aws-sdk-go-v2's
// standard chain (config.LoadDefaultConfig): environment variables, the
// shared config and credentials files, profiles with role_arn and
// source_profile, credential_process, SSO, web identity, container and
// instance roles. The profile parameter selects a profile; AWS_PROFILE works
// as usual. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_REDSHIFT / _STS are
// honoured by the SDK when endpoint_url is not given. WithCredentialsProvider
// and WithAWSConfig replace the chain. role_arn assumes a role on top of it.
// plugin_name logs in at a SAML identity provider with package samlauth and
// uses the role it assumes with AssumeRoleWithSAML.
//
// # The database user
//
// The Redshift drivers' precedence (JDBC's IamHelper): DbUser is the DSN's
// db_user, else the profile's dbuser, else the SAML DbUser attribute (else
// the SAML RoleSessionName), else the URL's user; when the SAML response
// sets AllowDbUserOverride=true the SAML user comes first. AutoCreate and
// ForceLowercase: DSN, else profile, else SAML. DbGroups: the first
// non-empty list of DSN, profile and SAML, lowercased with ForceLowercase,
// sent sorted. Any source of such hints can be plugged in with
// WithDbUserHints.
//
// # Caching
//
// One credential serves every connection of a Connector until shortly before
// it expires (package credcache). By default the credential is refreshed in
// the background after half its lifetime; cache=lazy refreshes when a
// connection finds less than 60 s left, with no background work; cache=none
// fetches one per connection. Concurrent connections share one fetch. When
// the database refuses a login (SQLSTATE 28P01 or 28000) the credential is
// invalidated and the connection is retried once with a new one (pgxpool
// cannot retry inside a connect: there the failed attempt returns its error
// and the next attempt uses a new credential).
//
// # TLS
//
// TLS to the database is on by default: without sslmode in the DSN the
// driver uses sslmode=require, or sslmode=verify-full when sslrootcert is
// given (PGSSLMODE is not consulted). sslmode=disable and the other libpq
// modes are honoured when given explicitly. WithTLSConfig replaces it all.
//
// # Errors
//
// Configuration problems wrap ErrConfig and are returned by NewConnector.
// A failed credential fetch wraps a *credcache.FetchError, whose Temporary
// field says whether retrying may help (throttling, server errors) or not
// (access denied, unknown cluster). A refused login is a *pgconn.PgError
// (IsAuthFailure).
//
// # What it must never do
//
// Import dbiam's internal packages; log or return a password; register
// itself with database/sql without being asked.
package pgdriver
