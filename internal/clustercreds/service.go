package clustercreds

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/store"
)

// API version and XML namespace of the Redshift API.
const (
	Version   = "2012-12-01"
	Namespace = "http://redshift.amazonaws.com/doc/2012-12-01/"
)

// Duration limits of temporary database credentials, in seconds.
const (
	MinDurationSeconds     = 900
	MaxDurationSeconds     = 3600
	DefaultDurationSeconds = 900
)

// Config holds the service's dependencies.
type Config struct {
	Store      store.Store
	Engines    *Engines
	Keyring    *keyring.Keyring
	Authorizer *iam.PolicyAuthorizer
	AccountID  string
	Now        func() time.Time
	Rand       io.Reader
	Logger     *slog.Logger
	// RateLimit bounds GetClusterCredentials calls per principal and
	// second (0: DefaultRateLimit); Burst is the bucket size.
	RateLimit float64
	Burst     int
	// ObserveIssue, when set, is told of every issuance that reached the
	// database: the cluster, the time to record the credential and create
	// its login, and the error (nil on success). For metrics.
	ObserveIssue func(cluster string, elapsed time.Duration, err error)
	// ForgetCluster, when set, is told of every cluster deregistered here,
	// so that its metrics series go too.
	ForgetCluster func(cluster string)
}

// Default per-principal rate of credential requests.
const (
	DefaultRateLimit = 50
	DefaultBurst     = 100
)

// Service serves the Redshift credentials API.
type Service struct {
	store   store.Store
	engines *Engines
	keyring *keyring.Keyring
	authz   *iam.PolicyAuthorizer
	account string
	now     func() time.Time
	rand    io.Reader
	log     *slog.Logger
	limiter *limiter
	observe func(cluster string, elapsed time.Duration, err error)
	forget  func(cluster string)
}

// New returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Engines == nil || cfg.Keyring == nil || cfg.Authorizer == nil || cfg.AccountID == "" || cfg.Now == nil || cfg.Rand == nil || cfg.Logger == nil {
		return nil, errors.New("clustercreds: store, engines, keyring, authorizer, account, clock, rand and logger are required")
	}
	rate, burst := cfg.RateLimit, cfg.Burst
	if rate <= 0 {
		rate = DefaultRateLimit
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return &Service{
		store: cfg.Store, engines: cfg.Engines, keyring: cfg.Keyring, authz: cfg.Authorizer, account: cfg.AccountID,
		now: cfg.Now, rand: cfg.Rand, log: cfg.Logger, limiter: newLimiter(rate, burst, 10000),
		observe: cfg.ObserveIssue, forget: cfg.ForgetCluster,
	}, nil
}

// Descriptor describes the service to the dispatcher.
func (s *Service) Descriptor() *dispatch.Service {
	return &dispatch.Service{
		Name:      "redshift",
		Version:   Version,
		Namespace: Namespace,
		Actions: map[string]dispatch.Action{
			"GetClusterCredentials":            {Handler: s.getClusterCredentials},
			"GetClusterCredentialsWithIAM":     {Handler: s.getClusterCredentialsWithIAM},
			"DescribeClusters":                 {Handler: s.describeClusters},
			"DescribeCustomDomainAssociations": {Handler: s.describeCustomDomainAssociations},
			"RegisterCluster":                  {Handler: s.registerCluster},
			"DeregisterCluster":                {Handler: s.deregisterCluster},
		},
	}
}

// resourceARN returns arn:aws:redshift:<region>:<account>:<kind>:<rest>,
// in the region the caller signed for (as Redshift uses the caller's
// region and account).
func (s *Service) resourceARN(region, kind, rest string) string {
	return "arn:aws:redshift:" + region + ":" + s.account + ":" + kind + ":" + rest
}
