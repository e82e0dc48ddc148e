package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dbiam/dbiam/internal/app"
	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/secret"
)

// LocalConfig configures StartLocal.
type LocalConfig struct {
	// Listen is dbiam's listen address (default 127.0.0.1:0: a free port).
	Listen string
	// Logs receives the server log (default: discarded).
	Logs io.Writer
	// LogLevel of the server log (default "info").
	LogLevel string
}

// Local is an in-process dbiam in dev mode (SQLite store, generated root
// credentials) with its local PostgreSQL cluster "dev", all in a temporary
// data dir that Close removes.
type Local struct {
	Server    *app.Server
	Cluster   app.DevCluster
	Region    string
	AccountID string
	RootKeyID string
	// RootSecret is the account root's secret access key.
	RootSecret secret.String
	DataDir    string
}

// StartLocal starts dbiam and its dev cluster. It fails when the dev
// cluster cannot run (no PostgreSQL binaries: app.ErrNoPostgres).
func StartLocal(ctx context.Context, lc LocalConfig) (*Local, error) {
	if lc.Listen == "" {
		lc.Listen = "127.0.0.1:0"
	}
	if lc.LogLevel == "" {
		lc.LogLevel = "info"
	}
	dir, err := os.MkdirTemp("", "dbiam-demo-")
	if err != nil {
		return nil, err
	}
	// Searchable (not listable) by others, so that as root the OS user
	// postgres can reach the cluster inside; the files stay mode 0600.
	if err := os.Chmod(dir, 0o711); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cfg.Listen = lc.Listen
	cfg.Log.Level = lc.LogLevel
	cfg.SetDataDir(dir)
	srv, err := app.Start(ctx, cfg, app.Options{Dev: true, Stderr: lc.Logs})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	l := &Local{Server: srv, Region: cfg.Region, AccountID: cfg.AccountID, DataDir: dir}
	if l.Cluster, err = srv.DevCluster(); err != nil {
		_ = l.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("a local PostgreSQL is needed: %w", err)
	}
	l.RootKeyID, l.RootSecret = srv.RootCredentials()
	return l, nil
}

// AWSConfig is an SDK config for the local server with static credentials
// and no retries.
func (l *Local) AWSConfig(keyID, secretKey, token string) aws.Config {
	return AWSConfig(l.Server.URL(), l.Region, keyID, secretKey, token)
}

// AWSConfig is an SDK config for a dbiam endpoint with static credentials
// and no retries (so that a throttled or denied call shows as it is).
func AWSConfig(endpoint, region, keyID, secretKey, token string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secretKey, token),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// Close shuts dbiam and the cluster down and removes the data dir.
func (l *Local) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := l.Server.Shutdown(ctx)
	return errors.Join(err, os.RemoveAll(l.DataDir))
}
