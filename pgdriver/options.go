package pgdriver

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dbiam/dbiam/credcache"
	"github.com/dbiam/dbiam/samlauth"
)

// CacheMode chooses how credentials are cached (DSN parameter cache).
type CacheMode string

// Cache modes.
const (
	// CacheRefreshAhead refreshes in the background at half the
	// credential's lifetime (credcache.NewRefreshAhead). The default of
	// NewConnector.
	CacheRefreshAhead CacheMode = "refresh-ahead"
	// CacheLazy refreshes when a connection finds less than 60 s left
	// (credcache.NewLazy): no background work. The default of the
	// package-level BeforeConnect.
	CacheLazy CacheMode = "lazy"
	// CacheNone fetches a credential for every connection (the Redshift
	// drivers' IAMDisableCache).
	CacheNone CacheMode = "none"
)

// Option configures a Connector. Options apply after the DSN, so they win
// over its parameters.
type Option func(*settings)

// settings is everything a Connector is configured with.
type settings struct {
	clusterID, region, endpointURL, stsEndpointURL string
	profile, roleARN, roleSessionName              string
	dbUser                                         string
	dbGroups                                       []string // nil: not given
	autoCreate, forceLowercase                     *bool
	dbName                                         *string // nil: the DSN's database
	iamDuration, stsDuration                       time.Duration
	cacheMode                                      CacheMode

	plugin, samlAssertion, idpURL, preferredRole string
	listenPort                                   int
	idpTimeout                                   time.Duration
	samlAdjust                                   []func(*samlauth.Config)

	awsConfig   *aws.Config
	credentials aws.CredentialsProvider
	hints       DbUserHints
	api         RedshiftAPI
	cacheOpts   []credcache.Option
	logger      *slog.Logger
	tlsConfig   *tls.Config
}

// WithClusterID sets the cluster identifier (DSN cluster_id).
func WithClusterID(id string) Option { return func(s *settings) { s.clusterID = id } }

// WithRegion sets the AWS region (DSN region). Without it the region comes
// from the AWS configuration (AWS_REGION, the profile's region).
func WithRegion(region string) Option { return func(s *settings) { s.region = region } }

// WithEndpointURL points the AWS clients (Redshift, and STS for role
// assumption) at a dbiam server, e.g. https://dbiam.internal:8439 (DSN
// endpoint_url). Without it the SDK's own resolution applies, including
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_REDSHIFT.
func WithEndpointURL(u string) Option { return func(s *settings) { s.endpointURL = u } }

// WithSTSEndpointURL points the STS calls the driver makes itself (role_arn,
// SAML) somewhere else than WithEndpointURL (DSN sts_endpoint_url).
func WithSTSEndpointURL(u string) Option { return func(s *settings) { s.stsEndpointURL = u } }

// WithProfile selects an AWS shared-config profile (DSN profile).
func WithProfile(name string) Option { return func(s *settings) { s.profile = name } }

// WithRoleARN assumes a role (sts:AssumeRole) with the AWS credentials
// before calling GetClusterCredentials (DSN role_arn; session name from
// role_session_name, default "dbiam-pgdriver"; duration from duration).
func WithRoleARN(arn string) Option { return func(s *settings) { s.roleARN = arn } }

// WithRoleSessionName sets the session name of WithRoleARN's AssumeRole
// (DSN role_session_name; default DefaultRoleSessionName).
func WithRoleSessionName(name string) Option { return func(s *settings) { s.roleSessionName = name } }

// WithSessionDuration sets the STS session duration of WithRoleARN and of
// the SAML plugins (DSN duration; default: STS's, one hour).
func WithSessionDuration(d time.Duration) Option { return func(s *settings) { s.stsDuration = d } }

// WithDbUser sets the database user to ask for (DSN db_user).
func WithDbUser(user string) Option { return func(s *settings) { s.dbUser = user } }

// WithDbGroups sets the database groups to join (DSN db_groups).
func WithDbGroups(groups ...string) Option {
	return func(s *settings) { s.dbGroups = append([]string{}, groups...) }
}

// WithAutoCreate asks for the database user to be created if missing (DSN
// auto_create).
func WithAutoCreate(v bool) Option { return func(s *settings) { s.autoCreate = &v } }

// WithForceLowercase lowercases the database groups (DSN force_lowercase).
func WithForceLowercase(v bool) Option { return func(s *settings) { s.forceLowercase = &v } }

// WithDbName sets the DbName the credential is restricted to (default: the
// database of the DSN; "" asks for a credential valid in every database).
func WithDbName(name string) Option { return func(s *settings) { s.dbName = &name } }

// WithIAMDuration sets the credential's lifetime, 15 minutes to 1 hour (DSN
// iam_duration, in seconds; default: the server's, 15 minutes).
func WithIAMDuration(d time.Duration) Option { return func(s *settings) { s.iamDuration = d } }

// WithCache sets the cache mode (DSN cache).
func WithCache(m CacheMode) Option { return func(s *settings) { s.cacheMode = m } }

// WithCacheOptions passes options to the credential cache (refresh margin,
// clock, rate limit …).
func WithCacheOptions(opts ...credcache.Option) Option {
	return func(s *settings) { s.cacheOpts = append(s.cacheOpts, opts...) }
}

// WithAWSConfig uses cfg instead of loading the default configuration
// (config.LoadDefaultConfig). Region, endpoint and credentials options
// still apply on top of it.
func WithAWSConfig(cfg aws.Config) Option {
	return func(s *settings) { c := cfg.Copy(); s.awsConfig = &c }
}

// WithCredentialsProvider sets the AWS credentials GetClusterCredentials is
// signed with, instead of the SDK's default chain (for example a
// *samlauth.Provider, together with WithDbUserHints(SAMLHints(p))).
func WithCredentialsProvider(p aws.CredentialsProvider) Option {
	return func(s *settings) { s.credentials = p }
}

// WithDbUserHints sets the identity-provider hints (see Hints and the
// precedence rules in the package documentation).
func WithDbUserHints(h DbUserHints) Option { return func(s *settings) { s.hints = h } }

// WithRedshiftClient replaces the Redshift API client (tests, or a client
// with custom middleware). AWS configuration options then only matter to
// the client given.
func WithRedshiftClient(api RedshiftAPI) Option { return func(s *settings) { s.api = api } }

// WithSAML adjusts the samlauth.Config built from the DSN's SAML parameters
// (plugin_name …) before the provider is created: an HTTP client, a
// browser opener, InsecureHTTP for a test IdP.
func WithSAML(adjust func(*samlauth.Config)) Option {
	return func(s *settings) { s.samlAdjust = append(s.samlAdjust, adjust) }
}

// WithTLSConfig sets the TLS configuration for the database connection,
// replacing what sslmode/sslrootcert would build.
func WithTLSConfig(cfg *tls.Config) Option { return func(s *settings) { s.tlsConfig = cfg } }

// WithLogger sets the logger (default: discard). Passwords are never
// logged.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }
