package pgdriver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dbiam/dbiam/credcache"
)

// DriverName is the conventional name to Register the driver under.
const DriverName = "dbiam"

// RedshiftAPI is the part of the Redshift API the driver calls;
// *redshift.Client implements it.
type RedshiftAPI interface {
	GetClusterCredentials(ctx context.Context, in *redshift.GetClusterCredentialsInput, optFns ...func(*redshift.Options)) (*redshift.GetClusterCredentialsOutput, error)
	DescribeClusters(ctx context.Context, in *redshift.DescribeClustersInput, optFns ...func(*redshift.Options)) (*redshift.DescribeClustersOutput, error)
}

var _ RedshiftAPI = (*redshift.Client)(nil)

// Connector opens PostgreSQL connections that log in with temporary IAM
// database credentials. It implements driver.Connector (use it with
// sql.OpenDB), offers a pgx BeforeConnect hook and pgxpool configuration,
// and opens single pgx connections. It is safe for concurrent use. Close it
// (sql.DB.Close does) to stop the credential cache's background refresh.
type Connector struct {
	s        settings
	dsn      *dsn
	hookOnly bool // made by the package-level BeforeConnect: never touches the host
	urlUser  string
	dbName   string
	profile  Hints
	api      RedshiftAPI
	cache    credcache.Cache
	logger   *slog.Logger
	driver   *Driver

	base      *pgx.ConnConfig // parsed DSN (its host is final when the DSN names one)
	resolveMu sync.Mutex
	resolved  atomic.Pointer[pgx.ConnConfig] // the DSN with the host from DescribeClusters
}

var (
	_ driver.Connector = (*Connector)(nil)
	_ io.Closer        = (*Connector)(nil)
)

// NewConnector parses dsn (see the package documentation for its
// parameters), applies the options, loads the AWS configuration and returns
// a Connector. It does not contact AWS or the database: the first
// connection fetches the credential (and the host, when the DSN names
// none).
func NewConnector(dsn string, opts ...Option) (*Connector, error) {
	return newConnector(dsn, false, opts)
}

func newConnector(dsnString string, hookOnly bool, opts []Option) (*Connector, error) {
	d, err := parseDSN(dsnString)
	if err != nil {
		return nil, err
	}
	var s settings
	if err := s.applyDSN(d); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(&s)
	}
	c := &Connector{s: s, dsn: d, hookOnly: hookOnly, logger: s.logger}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if !hookOnly {
		if c.base, err = c.parsePgx(""); err != nil {
			return nil, err
		}
	}
	switch {
	case s.dbName != nil:
		c.dbName = *s.dbName
	case !hookOnly:
		c.dbName = c.base.Database
	}
	if s.plugin == "" {
		c.urlUser = d.urlUser
	}
	if s.profile != "" {
		if c.profile, err = profileHints(s.profile); err != nil {
			return nil, err
		}
	}
	c.api = s.api
	if c.api == nil {
		if err := c.setupAWS(context.Background()); err != nil {
			return nil, err
		}
	}
	if c.s.hints == nil {
		// Without identity-provider hints the database user is known now.
		if _, err := resolveDbUser(c.connHints(), c.profile, Hints{}, c.urlUser); err != nil {
			return nil, err
		}
	}
	// The SAML provider has what it needs: keep no secret here.
	c.s.samlAssertion, c.dsn.urlPass = "", ""
	c.cache = c.newCache()
	return c, nil
}

// check validates the settings that need no I/O.
func (c *Connector) check() error {
	s, d := &c.s, c.dsn
	switch {
	case s.clusterID == "":
		return configError("no cluster: set cluster_id (or use a *.redshift.amazonaws.com host)")
	case d.urlPwSet && s.plugin == "":
		return configError("a password in the DSN conflicts with IAM authentication (with a SAML plugin, the URL's user and password are the IdP login)")
	case s.iamDuration != 0 && (s.iamDuration < 900*time.Second || s.iamDuration > 3600*time.Second):
		return configError("the IAM duration must be between 900 and 3600 seconds")
	case s.plugin != "" && s.profile != "":
		return configError("plugin_name and profile cannot be used together")
	case s.plugin != "" && (s.roleARN != "" || s.credentials != nil):
		return configError("plugin_name cannot be used with role_arn or a credentials provider")
	}
	switch s.cacheMode {
	case "":
		s.cacheMode = CacheRefreshAhead
		if c.hookOnly {
			s.cacheMode = CacheLazy // nothing could Close a background refresh
		}
	case CacheRefreshAhead, CacheLazy, CacheNone:
	default:
		return configError("unknown cache mode %q", s.cacheMode)
	}
	return nil
}

// parsePgx parses the DSN's PostgreSQL part, with hostport in place of its
// host when not empty.
func (c *Connector) parsePgx(hostport string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(c.dsn.pgxURL(hostport, false))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.applyTLS(&cfg.Config)
	return cfg, nil
}

func (c *Connector) applyTLS(cfg *pgconn.Config) {
	if c.s.tlsConfig == nil {
		return
	}
	t := c.s.tlsConfig.Clone()
	if t.ServerName == "" && !t.InsecureSkipVerify {
		t.ServerName = cfg.Host
	}
	cfg.TLSConfig = t
	cfg.Fallbacks = nil
}

func (c *Connector) connHints() Hints {
	return Hints{DbUser: c.s.dbUser, DbGroups: c.s.dbGroups, AutoCreate: c.s.autoCreate, ForceLowercase: c.s.forceLowercase}
}

func (c *Connector) newCache() credcache.Cache {
	src := credcache.SourceFunc(c.fetch)
	opts := append([]credcache.Option{credcache.WithLogger(c.logger)}, c.s.cacheOpts...)
	switch c.s.cacheMode {
	case CacheLazy:
		return credcache.NewLazy(src, opts...)
	case CacheNone:
		return noCache{src}
	default:
		return credcache.NewRefreshAhead(src, opts...)
	}
}

// noCache fetches a credential for every connection.
type noCache struct{ src credcache.Source }

func (n noCache) Get(ctx context.Context) (credcache.Credential, error) { return n.src.Fetch(ctx) }
func (noCache) Invalidate(credcache.Credential)                         {}
func (noCache) Close() error                                            { return nil }

// fetch is the credential source: the hints, then GetClusterCredentials.
func (c *Connector) fetch(ctx context.Context) (credcache.Credential, error) {
	var idp Hints
	if c.s.hints != nil {
		h, err := c.s.hints.DbUserHints(ctx)
		if err != nil {
			return credcache.Credential{}, fmt.Errorf("pgdriver: identity provider: %w", err)
		}
		idp = h
	}
	req, err := resolveDbUser(c.connHints(), c.profile, idp, c.urlUser)
	if err != nil {
		return credcache.Credential{}, &credcache.FetchError{Err: err}
	}
	in := &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(c.s.clusterID),
		DbUser:            aws.String(req.DbUser),
		AutoCreate:        req.AutoCreate,
	}
	if len(req.DbGroups) > 0 {
		in.DbGroups = req.DbGroups
	}
	if c.dbName != "" {
		in.DbName = aws.String(c.dbName)
	}
	if c.s.iamDuration > 0 {
		in.DurationSeconds = aws.Int32(int32(c.s.iamDuration / time.Second))
	}
	out, err := c.api.GetClusterCredentials(ctx, in)
	if err != nil {
		return credcache.Credential{}, fmt.Errorf("pgdriver: GetClusterCredentials (cluster %s, DbUser %s): %w", c.s.clusterID, req.DbUser, err)
	}
	if out.DbUser == nil || out.DbPassword == nil {
		return credcache.Credential{}, &credcache.FetchError{Err: errors.New("pgdriver: GetClusterCredentials returned no DbUser or DbPassword")}
	}
	return credcache.Credential{User: *out.DbUser, Password: *out.DbPassword, Expiration: aws.ToTime(out.Expiration)}, nil
}

// connConfig returns the parsed DSN with its host: the DSN's, or the
// cluster endpoint from DescribeClusters (asked once; a failure is not
// cached).
func (c *Connector) connConfig(ctx context.Context) (*pgx.ConnConfig, error) {
	if c.dsn.hasHost() {
		return c.base, nil
	}
	if cfg := c.resolved.Load(); cfg != nil {
		return cfg, nil
	}
	c.resolveMu.Lock()
	defer c.resolveMu.Unlock()
	if cfg := c.resolved.Load(); cfg != nil {
		return cfg, nil
	}
	out, err := c.api.DescribeClusters(ctx, &redshift.DescribeClustersInput{ClusterIdentifier: aws.String(c.s.clusterID)})
	if err != nil {
		return nil, fmt.Errorf("pgdriver: DescribeClusters (cluster %s): %w", c.s.clusterID, err)
	}
	if len(out.Clusters) == 0 || out.Clusters[0].Endpoint == nil || aws.ToString(out.Clusters[0].Endpoint.Address) == "" {
		return nil, fmt.Errorf("pgdriver: DescribeClusters (cluster %s): no endpoint address", c.s.clusterID)
	}
	ep := out.Clusters[0].Endpoint
	port := int(aws.ToInt32(ep.Port))
	if port == 0 {
		port = 5432
	}
	cfg, err := c.parsePgx(net.JoinHostPort(aws.ToString(ep.Address), strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	c.logger.Info("pgdriver: resolved cluster endpoint", "cluster", c.s.clusterID, "host", cfg.Host, "port", cfg.Port)
	c.resolved.Store(cfg)
	return cfg, nil
}

// IsAuthFailure reports whether err is PostgreSQL refusing a login:
// SQLSTATE 28P01 (invalid_password) or 28000
// (invalid_authorization_specification).
func IsAuthFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && isAuthCode(pgErr.Code)
}

func isAuthCode(code string) bool { return code == "28P01" || code == "28000" }

// withCredential runs connect with the credential set in a copy of the
// connection config; when the login is refused it invalidates the
// credential and tries once more with a new one.
func (c *Connector) withCredential(ctx context.Context, connect func(*pgx.ConnConfig) error) error {
	base, err := c.connConfig(ctx)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		cred, err := c.cache.Get(ctx)
		if err != nil {
			return fmt.Errorf("pgdriver: get database credentials: %w", err)
		}
		cfg := *base // shallow: pgx.ConnectConfig copies it again
		cfg.User, cfg.Password = cred.User, cred.Password
		err = connect(&cfg)
		if err == nil {
			return nil
		}
		if attempt == 1 && IsAuthFailure(err) {
			c.logger.Info("pgdriver: login refused, fetching a new credential", "user", cred.User, "error", err)
			c.cache.Invalidate(cred)
			continue
		}
		return fmt.Errorf("pgdriver: connect as %s: %w", cred.User, err)
	}
}

// Connect opens a connection for database/sql (driver.Connector).
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	var conn driver.Conn
	err := c.withCredential(ctx, func(cfg *pgx.ConnConfig) error {
		var err error
		conn, err = stdlib.GetConnector(*cfg).Connect(ctx)
		return err
	})
	return conn, err
}

// ConnectPgx opens a single pgx connection, retrying once with a new
// credential if the login is refused.
func (c *Connector) ConnectPgx(ctx context.Context) (*pgx.Conn, error) {
	var conn *pgx.Conn
	err := c.withCredential(ctx, func(cfg *pgx.ConnConfig) error {
		var err error
		conn, err = pgx.ConnectConfig(ctx, cfg)
		return err
	})
	return conn, err
}

// BeforeConnect is a pgx/pgxpool BeforeConnect hook: it sets the
// credential's user and password in cfg (and the cluster's host and port
// when the DSN names none). pgxpool cannot retry a refused login, so the
// hook invalidates the credential when the server refuses it: that
// connection attempt fails, the next one uses a new credential.
func (c *Connector) BeforeConnect(ctx context.Context, cfg *pgx.ConnConfig) error {
	if !c.hookOnly && !c.dsn.hasHost() {
		r, err := c.connConfig(ctx)
		if err != nil {
			return err
		}
		cfg.Host, cfg.Port, cfg.TLSConfig, cfg.Fallbacks = r.Host, r.Port, r.TLSConfig, r.Fallbacks
	}
	cred, err := c.cache.Get(ctx)
	if err != nil {
		return fmt.Errorf("pgdriver: get database credentials: %w", err)
	}
	cfg.User, cfg.Password = cred.User, cred.Password
	next := cfg.OnPgError
	cfg.OnPgError = func(pc *pgconn.PgConn, e *pgconn.PgError) bool {
		if isAuthCode(e.Code) {
			c.logger.Info("pgdriver: login refused, dropping the credential", "user", cred.User, "error", e)
			c.cache.Invalidate(cred)
		}
		if next != nil {
			return next(pc, e)
		}
		return e.Severity != "FATAL"
	}
	return nil
}

// PoolConfig returns a pgxpool configuration for the DSN (pool_* parameters
// included) with BeforeConnect set.
func (c *Connector) PoolConfig() (*pgxpool.Config, error) {
	if c.hookOnly {
		return nil, configError("PoolConfig needs a Connector from NewConnector")
	}
	pc, err := pgxpool.ParseConfig(c.dsn.pgxURL("", true))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.applyTLS(&pc.ConnConfig.Config)
	pc.BeforeConnect = c.BeforeConnect
	return pc, nil
}

// Driver returns the Driver the Connector belongs to (driver.Connector).
func (c *Connector) Driver() driver.Driver {
	if c.driver != nil {
		return c.driver
	}
	return &Driver{}
}

// Close stops the credential cache. sql.DB.Close calls it.
func (c *Connector) Close() error { return c.cache.Close() }

// String describes the Connector without its secrets (a SAML assertion,
// an IdP password).
func (c *Connector) String() string {
	host := "(DescribeClusters)"
	if c.dsn.hasHost() {
		host = c.dsn.firstHost()
	}
	return fmt.Sprintf("pgdriver.Connector{cluster: %q, region: %q, host: %q, database: %q, db_user: %q, profile: %q, role_arn: %q, plugin: %q, cache: %s}",
		c.s.clusterID, c.s.region, host, c.dbName, c.s.dbUser, c.s.profile, c.s.roleARN, c.s.plugin, c.s.cacheMode)
}

// GoString is String, so that %#v hides the secrets too.
func (c *Connector) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Connector) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// BeforeConnect returns a pgx/pgxpool BeforeConnect hook configured by
// options alone (WithClusterID, WithDbUser, WithEndpointURL …): it sets the
// user and password of each connection and leaves everything else (host,
// port, TLS, database) to the config it is given. Without WithDbName the
// credential is not restricted to a database. As nothing can close it, its
// cache is lazy (no background work) unless WithCache says otherwise.
// Configuration errors are returned by every call of the hook; use
// NewConnector to see them at once.
func BeforeConnect(opts ...Option) func(context.Context, *pgx.ConnConfig) error {
	c, err := newConnector("", true, opts)
	if err != nil {
		return func(context.Context, *pgx.ConnConfig) error { return err }
	}
	return c.BeforeConnect
}

// Driver is a database/sql driver whose DSNs are those of NewConnector.
type Driver struct {
	opts []Option

	mu    sync.Mutex
	byDSN map[string]*Connector // for Open, which has no connector to keep
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.DriverContext = (*Driver)(nil)
)

// NewDriver returns a Driver that applies opts to every connector.
func NewDriver(opts ...Option) *Driver { return &Driver{opts: opts} }

// Register registers a Driver (with opts applied to every DSN) with
// database/sql under name, usually DriverName. Like sql.Register it panics
// if the name is taken. Nothing is registered unless you call it.
//
//	pgdriver.Register(pgdriver.DriverName)
//	db, err := sql.Open(pgdriver.DriverName, "postgres:///dev?cluster_id=dev&db_user=alice")
func Register(name string, opts ...Option) { sql.Register(name, NewDriver(opts...)) }

// OpenConnector returns NewConnector(dsn, opts...) (driver.DriverContext);
// sql.Open uses it.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	c, err := NewConnector(dsn, d.opts...)
	if err != nil {
		return nil, err
	}
	c.driver = d
	return c, nil
}

// Open opens a connection without a connector (driver.Driver); database/sql
// does not use it. Connectors are kept per DSN with a lazy cache.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	d.mu.Lock()
	c, ok := d.byDSN[dsn]
	if !ok {
		var err error
		lazy := func(s *settings) {
			if s.cacheMode == "" || s.cacheMode == CacheRefreshAhead {
				s.cacheMode = CacheLazy
			}
		}
		c, err = NewConnector(dsn, append(append([]Option{}, d.opts...), lazy)...)
		if err != nil {
			d.mu.Unlock()
			return nil, err
		}
		c.driver = d
		if d.byDSN == nil {
			d.byDSN = map[string]*Connector{}
		}
		d.byDSN[dsn] = c
	}
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return c.Connect(ctx)
}
