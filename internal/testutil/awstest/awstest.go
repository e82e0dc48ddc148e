package awstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dbiam/dbiam/internal/app"
	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/keyring"
)

// Root credentials and account of every test server.
const (
	RootAccessKeyID     = "AKIAROOTROOTROOT0001"
	RootSecretAccessKey = "rootSecretrootSecretrootSecretrootSecret"
	AccountID           = "123456789012"
	Region              = "us-east-1"
)

// Server is a running dbiam server for one test.
type Server struct {
	*app.Server
	Config config.Config
	logs   *syncBuffer
}

// Setup is what an Option may change before the server starts.
type Setup struct {
	Config *config.Config
	Now    func() time.Time
}

// Option changes the setup before the server starts.
type Option func(*Setup)

// WithConfig changes the config.
func WithConfig(fn func(*config.Config)) Option { return func(s *Setup) { fn(s.Config) } }

// WithNow gives the server a clock of the test's.
func WithNow(now func() time.Time) Option { return func(s *Setup) { s.Now = now } }

// Start starts a server with a fresh SQLite store and master key, stopped at
// test cleanup. At cleanup it also fails the test if the server log contains
// the root secret.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	env := map[string]string{
		"DBIAM_ROOT_ACCESS_KEY_ID":     RootAccessKeyID,
		"DBIAM_ROOT_SECRET_ACCESS_KEY": RootSecretAccessKey,
		"DBIAM_ACCOUNT_ID":             AccountID,
		"DBIAM_REGION":                 Region,
		"DBIAM_LISTEN":                 "127.0.0.1:0",
		"DBIAM_DATA_DIR":               t.TempDir(),
		"DBIAM_LOG_LEVEL":              "debug",
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	setup := Setup{Config: &cfg, Now: time.Now}
	for _, o := range opts {
		o(&setup)
	}
	if err := keyring.GenerateFile(cfg.MasterKeyFile, rand.Reader, time.Now()); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := app.Start(context.Background(), cfg, app.Options{Stderr: logs, Now: setup.Now})
	if err != nil {
		t.Fatalf("start dbiam: %v", err)
	}
	s := &Server{Server: srv, Config: cfg, logs: logs}
	t.Cleanup(func() {
		// Graceful shutdown is tested in internal/app and by the CLI
		// end-to-end script; here a client connection still busy when the
		// test ends (load, benchmarks) must not fail the test.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("shutdown dbiam: %v", err)
		}
		if strings.Contains(logs.String(), RootSecretAccessKey) {
			t.Error("the server log contains the root secret access key")
		}
	})
	return s
}

// AnonymousSTS returns an STS client that does not sign, as AWS SDKs call
// AssumeRoleWithSAML.
func (s *Server) AnonymousSTS() *sts.Client {
	cfg := s.AWSConfig("", "", "")
	cfg.Credentials = aws.AnonymousCredentials{}
	return sts.NewFromConfig(cfg)
}

// Logs returns everything the server logged so far (including audit events).
func (s *Server) Logs() string { return s.logs.String() }

// AWSConfig returns an aws.Config for the server with static credentials and
// no retries.
func (s *Server) AWSConfig(accessKeyID, secretAccessKey, sessionToken string) aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, sessionToken),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// IAM returns an IAM client with the given credentials.
func (s *Server) IAM(accessKeyID, secretAccessKey, sessionToken string) *iam.Client {
	return iam.NewFromConfig(s.AWSConfig(accessKeyID, secretAccessKey, sessionToken))
}

// STS returns an STS client with the given credentials.
func (s *Server) STS(accessKeyID, secretAccessKey, sessionToken string) *sts.Client {
	return sts.NewFromConfig(s.AWSConfig(accessKeyID, secretAccessKey, sessionToken))
}

// RootIAM returns an IAM client signed by the account root.
func (s *Server) RootIAM() *iam.Client { return s.IAM(RootAccessKeyID, RootSecretAccessKey, "") }

// RootSTS returns an STS client signed by the account root.
func (s *Server) RootSTS() *sts.Client { return s.STS(RootAccessKeyID, RootSecretAccessKey, "") }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
