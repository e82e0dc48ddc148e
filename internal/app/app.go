package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/audit"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/sigv4"
	"github.com/dbiam/dbiam/internal/clustercreds"
	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/engine"
	pgengine "github.com/dbiam/dbiam/internal/engine/postgres"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/metrics"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/postgres"
	"github.com/dbiam/dbiam/internal/store/sqlite"
	"github.com/dbiam/dbiam/internal/sts"
)

// policyCacheEntries bounds the parsed-policy cache shared by all requests.
const policyCacheEntries = 4096

// Options are the inputs of Start and Run besides the config.
type Options struct {
	// Dev runs with development conveniences: a generated master key and
	// root credentials kept in the data dir, and a banner on Stdout with the
	// credentials and commands to try.
	Dev    bool
	Getenv func(string) string // nil -> os.Getenv
	Stdout io.Writer           // the dev banner; nil -> io.Discard
	Stderr io.Writer           // logs; nil -> io.Discard
	Now    func() time.Time    // nil -> time.Now
	Rand   io.Reader           // nil -> crypto/rand
}

// Server is a running dbiam server.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	store    store.Store
	http     *http.Server
	listener net.Listener
	done     chan error
	root     rootCredentials
	tls      bool
	engines  *clustercreds.Engines
	redshift *clustercreds.Service
	dev      *devCluster // dev mode's local PostgreSQL, if it runs
	devErr   error       // why dev mode runs without it

	stopReaper func()
	reaperDone chan struct{}

	metrics     *metrics.Metrics
	metricsHTTP *http.Server // nil without metrics_listen
	metricsLn   net.Listener
}

type rootCredentials struct {
	AccessKeyID     string        `json:"access_key_id"`
	SecretAccessKey secret.String `json:"-"`
}

// Run starts the server and blocks until ctx is cancelled, then shuts down
// gracefully within the configured shutdown timeout.
func Run(ctx context.Context, cfg config.Config, opts Options) error {
	srv, err := Start(ctx, cfg, opts)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-srv.done:
		_ = srv.close()
		return fmt.Errorf("serve http: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout.Duration())
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// Start validates cfg, opens the store and keyring, and starts serving. The
// caller must call Shutdown.
func Start(ctx context.Context, cfg config.Config, opts Options) (*Server, error) {
	opts = withDefaults(opts)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger, err := newLogger(cfg.Log, opts.Stderr)
	if err != nil {
		return nil, err
	}
	if opts.Dev {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	kr, err := loadKeyring(cfg, opts)
	if err != nil {
		return nil, err
	}
	root, err := loadRoot(cfg, opts)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	srv := &Server{cfg: cfg, log: logger, store: st, root: root, done: make(chan error, 1), metrics: metrics.New()}
	srv.metrics.WatchCredentials(func(ctx context.Context) (int, int, error) {
		c, err := st.CountCredentials(ctx, opts.Now())
		return c.Live, c.Expired, err
	}, opts.Now)
	if opts.Dev {
		srv.dev, srv.devErr = startDevCluster(ctx, cfg, opts.Rand)
		if srv.devErr != nil {
			logger.Warn("dev mode runs without the dev cluster", "reason", srv.devErr.Error())
		}
	}
	if err := srv.start(ctx, opts, kr); err != nil {
		_ = st.Close()
		_ = srv.stopDevCluster()
		return nil, err
	}
	logger.Info("dbiam serving", "addr", srv.listener.Addr().String(), "tls", srv.tls,
		"store", cfg.Store.Type, "region", cfg.Region, "account_id", cfg.AccountID, "keyring_primary", kr.PrimaryID())
	if opts.Dev {
		srv.printDevBanner(opts.Stdout)
	}
	return srv, nil
}

func withDefaults(o Options) Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

func (s *Server) start(ctx context.Context, opts Options, kr *keyring.Keyring) error {
	authz := &iam.PolicyAuthorizer{Store: s.store, Cache: policy.NewCache(policyCacheEntries), Logger: s.log}
	tokens := &sts.Tokens{Keyring: kr}
	samlValidator, err := saml.NewValidator(saml.Config{Now: opts.Now, Replay: s.store,
		Recipients: s.cfg.SAML.Recipients, Audiences: s.cfg.SAML.Audiences, ClockSkew: s.cfg.SAML.ClockSkew.Duration()})
	if err != nil {
		return err
	}
	stsSvc, err := sts.New(sts.Config{Store: s.store, Tokens: tokens, SAML: samlValidator, Authorizer: authz,
		AccountID: s.cfg.AccountID, Now: opts.Now, Rand: opts.Rand, Logger: s.log})
	if err != nil {
		return err
	}
	iamSvc, err := iam.New(iam.Config{Store: s.store, Keyring: kr, AccountID: s.cfg.AccountID, Now: opts.Now, Rand: opts.Rand, Authorizer: authz})
	if err != nil {
		return err
	}
	if err := s.applyBootstrap(ctx, iamSvc, opts); err != nil {
		return err
	}
	s.engines = clustercreds.NewEngines(s.openPostgresEngine, kr)
	redshiftSvc, err := clustercreds.New(clustercreds.Config{Store: s.store, Engines: s.engines, Keyring: kr, Authorizer: authz,
		AccountID: s.cfg.AccountID, Now: opts.Now, Rand: opts.Rand, Logger: s.log,
		ObserveIssue: s.metrics.ObserveIssue, ForgetCluster: s.metrics.ForgetCluster})
	if err != nil {
		return err
	}
	clusters := s.cfg.Clusters
	if s.dev != nil {
		// The dev cluster goes through the same path as the config's.
		clusters = append(slices.Clone(clusters), s.dev.cluster)
	}
	redshiftSvc.SyncConfigClusters(ctx, clusters)
	s.redshift = redshiftSvc
	if err := s.startReaper(ctx, opts); err != nil {
		return err
	}
	services := []*dispatch.Service{stsSvc.Descriptor(), iamSvc.Descriptor(), redshiftSvc.Descriptor()}
	served := make(map[string]bool, len(services))
	for _, svc := range services {
		served[svc.Name] = true
	}
	verifier := &sigv4.Verifier{
		Lookup: &credentialResolver{
			accountID:  s.cfg.AccountID,
			rootKeyID:  s.root.AccessKeyID,
			rootSecret: s.root.SecretAccessKey,
			accessKeys: s.store,
			users:      s.store,
			keyring:    kr,
			tokens:     tokens,
			now:        opts.Now,
			log:        s.log,
		},
		Now:          opts.Now,
		AllowRegion:  regionPolicy(s.cfg.SigningRegions),
		AllowService: func(name string) bool { return served[name] },
	}
	d, err := dispatch.New(dispatch.Config{
		Verifier:      verifier,
		DefaultRegion: s.cfg.Region,
		Now:           opts.Now,
		Rand:          opts.Rand,
		Logger:        s.log,
		Audit:         audit.LogSink{Logger: s.log},
		Observer:      s.metrics,
	}, services...)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("/", d)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	if s.cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		s.tls = true
	}
	s.listener = ln
	if err := s.startMetrics(); err != nil {
		_ = ln.Close()
		return err
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.done <- err
		}
	}()
	return nil
}

// startMetrics serves /metrics on metrics_listen, when set.
func (s *Server) startMetrics() error {
	if s.cfg.MetricsListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("listen on %s (metrics_listen): %w", s.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	s.metricsLn = ln
	s.metricsHTTP = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.metricsHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.done <- fmt.Errorf("metrics: %w", err)
		}
	}()
	return nil
}

// MetricsAddr is the address of the metrics listener ("" without one).
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// applyBootstrap applies the config's bootstrap section, one replica at a
// time (a lease in the store), before the server accepts requests.
func (s *Server) applyBootstrap(ctx context.Context, svc *iam.Service, opts Options) error {
	b := s.cfg.Bootstrap
	if len(b.Policies)+len(b.Groups)+len(b.Users)+len(b.Roles)+len(b.SAMLProviders) == 0 {
		return nil
	}
	var id [8]byte
	if _, err := io.ReadFull(opts.Rand, id[:]); err != nil {
		return fmt.Errorf("bootstrap: lease owner id: %w", err)
	}
	owner := fmt.Sprintf("%x", id)
	deadline := opts.Now().Add(2 * time.Minute)
	for {
		ok, err := s.store.Claim(ctx, "bootstrap", "apply", owner, opts.Now(), time.Minute)
		if err != nil {
			return fmt.Errorf("bootstrap: claim lease: %w", err)
		}
		if ok {
			break
		}
		if opts.Now().After(deadline) {
			return errors.New("bootstrap: another replica has been applying the bootstrap section for over 2 minutes")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer func() { _ = s.store.Release(context.WithoutCancel(ctx), "bootstrap", "apply", owner) }()
	report, err := svc.ApplyBootstrap(ctx, b, s.cfg.BaseDir)
	for _, c := range report.Changes {
		s.log.Info("bootstrap", "change", c)
	}
	if err != nil {
		return err
	}
	s.log.Info("bootstrap applied", "changes", len(report.Changes))
	return nil
}

// waitReaper stops the reaper and waits for its pass to end.
func (s *Server) waitReaper() {
	if s.stopReaper != nil {
		s.stopReaper()
		<-s.reaperDone
		s.stopReaper = nil
	}
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL is the endpoint URL clients use (http:// or https://).
func (s *Server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.Addr()
}

// Shutdown stops accepting requests, waits for in-flight ones until ctx
// ends, and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	s.log.Info("dbiam shutting down")
	err := s.http.Shutdown(ctx)
	if s.metricsHTTP != nil {
		_ = s.metricsHTTP.Shutdown(ctx)
	}
	s.waitReaper()
	if s.engines != nil {
		_ = s.engines.Close()
	}
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	if derr := s.stopDevCluster(); derr != nil && err == nil {
		err = derr
	}
	return err
}

func (s *Server) close() error {
	err := s.http.Close()
	if s.metricsHTTP != nil {
		_ = s.metricsHTTP.Close()
	}
	s.waitReaper()
	if s.engines != nil {
		_ = s.engines.Close()
	}
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if derr := s.stopDevCluster(); derr != nil && err == nil {
		err = derr
	}
	return err
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("health check failed", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "store": "unreachable"})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

func regionPolicy(regions []string) func(string) bool {
	allowed := make(map[string]bool, len(regions))
	for _, r := range regions {
		if r == "*" {
			return nil // sigv4's default: any well-formed region
		}
		allowed[r] = true
	}
	return func(r string) bool { return allowed[r] }
}

func newLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", c.Level, err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch c.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want json or text", c.Format)
	}
}

func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	switch cfg.Store.Type {
	case "sqlite":
		if err := os.MkdirAll(filepath.Dir(cfg.Store.Path), 0o700); err != nil {
			return nil, fmt.Errorf("create store directory: %w", err)
		}
		st, err := sqlite.Open(ctx, cfg.Store.Path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store %s: %w", cfg.Store.Path, err)
		}
		return st, nil
	case "postgres":
		url, err := cfg.StoreURL()
		if err != nil {
			return nil, err
		}
		st, err := postgres.Open(ctx, url.Reveal())
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("store.type %q: want sqlite or postgres", cfg.Store.Type)
	}
}

// loadKeyring reads the master keys: DBIAM_MASTER_KEY, else the
// master_key_file (generated on first start in dev mode).
func loadKeyring(cfg config.Config, opts Options) (*keyring.Keyring, error) {
	if v := opts.Getenv("DBIAM_MASTER_KEY"); v != "" {
		kr, err := keyring.ParseKeys(v)
		if err != nil {
			return nil, fmt.Errorf("DBIAM_MASTER_KEY: %w", err)
		}
		return kr, nil
	}
	path := cfg.MasterKeyFile
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if !opts.Dev {
			return nil, fmt.Errorf("master key file %s does not exist: create it with `dbiam keyring generate --file %s` or set DBIAM_MASTER_KEY", path, path)
		}
		if err := keyring.GenerateFile(path, opts.Rand, opts.Now()); err != nil {
			return nil, fmt.Errorf("generate dev master key: %w", err)
		}
	}
	kr, err := keyring.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load master key file: %w", err)
	}
	return kr, nil
}

// devRootFile holds generated root credentials in dev mode so that they stay
// the same across restarts.
const devRootFile = "dev-root-credentials"

func loadRoot(cfg config.Config, opts Options) (rootCredentials, error) {
	sec, err := cfg.RootSecret()
	if err != nil {
		return rootCredentials{}, err
	}
	if cfg.Root.AccessKeyID != "" {
		return rootCredentials{AccessKeyID: cfg.Root.AccessKeyID, SecretAccessKey: sec}, nil
	}
	if !opts.Dev {
		return rootCredentials{}, errors.New("no root credentials: set DBIAM_ROOT_ACCESS_KEY_ID and DBIAM_ROOT_SECRET_ACCESS_KEY (or root.access_key_id and root.secret_access_key_file), or use --dev")
	}
	return devRoot(filepath.Join(cfg.DataDir, devRootFile), opts.Rand)
}

// devRoot loads or creates "<id> <secret>" in path (mode 0600).
func devRoot(path string, rnd io.Reader) (rootCredentials, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		id, sec, ok := strings.Cut(strings.TrimSpace(string(data)), " ")
		if !ok || id == "" || sec == "" {
			return rootCredentials{}, fmt.Errorf("dev root credentials file %s is malformed; delete it to generate new ones", path)
		}
		return rootCredentials{AccessKeyID: id, SecretAccessKey: secret.String(sec)}, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return rootCredentials{}, fmt.Errorf("read dev root credentials: %w", err)
	}
	id, err := identity.NewAccessKeyID(identity.PrefixAccessKey, rnd)
	if err != nil {
		return rootCredentials{}, err
	}
	sec, err := identity.NewSecretAccessKey(rnd)
	if err != nil {
		return rootCredentials{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return rootCredentials{}, fmt.Errorf("create dev root credentials: %w", err)
	}
	if _, err := fmt.Fprintf(f, "%s %s\n", id, sec.Reveal()); err != nil {
		_ = f.Close()
		return rootCredentials{}, fmt.Errorf("write dev root credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return rootCredentials{}, fmt.Errorf("write dev root credentials: %w", err)
	}
	return rootCredentials{AccessKeyID: id, SecretAccessKey: sec}, nil
}

func (s *Server) printDevBanner(w io.Writer) {
	fmt.Fprintf(w, `
dbiam is running in DEV mode on %[1]s (data in %[2]s).
Dev root credentials (kept in %[3]s; never use --dev in production):

  export AWS_ACCESS_KEY_ID=%[4]s
  export AWS_SECRET_ACCESS_KEY=%[5]s
  export AWS_REGION=%[6]s AWS_DEFAULT_REGION=%[6]s
  export AWS_ENDPOINT_URL=%[1]s

Then try:

  aws sts get-caller-identity

`, s.URL(), s.cfg.DataDir, filepath.Join(s.cfg.DataDir, devRootFile), s.root.AccessKeyID, s.root.SecretAccessKey.Reveal(), s.cfg.Region)
	s.printDevClusterBanner(w)
}

// openPostgresEngine opens the PostgreSQL engine of a registered cluster.
func (s *Server) openPostgresEngine(_ context.Context, c store.Cluster, adminPassword secret.String) (engine.Engine, error) {
	if c.Engine != "" && c.Engine != config.EnginePostgres {
		return nil, fmt.Errorf("cluster %s: engine %q is not supported", c.Identifier, c.Engine)
	}
	return pgengine.New(pgengine.Config{URL: c.AdminURL, Password: adminPassword, ObserveBatch: s.metrics.ObserveBatch})
}
