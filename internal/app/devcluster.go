package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/localpg"
	"github.com/dbiam/dbiam/internal/secret"
)

// The dev cluster: what `serve --dev` registers.
const (
	// DevClusterID is the cluster identifier of the dev cluster.
	DevClusterID = "dev"
	// DevDatabase is its database for temporary logins (CONNECT revoked
	// from PUBLIC).
	DevDatabase = "dev"
	// DevAdminRole is the role dbiam manages logins with: LOGIN
	// CREATEROLE, not a superuser.
	DevAdminRole = "dbiam_admin"

	devPostgresDir       = "postgres"
	devAdminPasswordFile = "dev-cluster-admin-password"
	devSCRAMIterations   = 4096
)

// ErrNoPostgres is why dev mode runs without its cluster on a machine
// without PostgreSQL.
var ErrNoPostgres = errors.New("PostgreSQL binaries not found: install them (Debian/Ubuntu: apt-get install postgresql)")

// devSettings are the dev cluster's server settings: its data is kept
// across restarts, so only commits are made asynchronous (a crash loses
// the last few transactions, never consistency).
var devSettings = []string{"synchronous_commit=off", "log_min_messages=warning"}

// DevCluster describes the PostgreSQL cluster of dev mode.
type DevCluster struct {
	Identifier string // DevClusterID
	Host       string // 127.0.0.1
	Port       int
	Database   string // DevDatabase
	// AdminURL is dbiam's admin connection (DevAdminRole, database
	// DevDatabase), without the password.
	AdminURL      string
	AdminPassword secret.String
	// Dir holds the cluster's data (<data_dir>/postgres, see docs/dev.md).
	Dir string
}

// devCluster is the running dev cluster.
type devCluster struct {
	info    DevCluster
	pg      *localpg.Server
	cluster config.Cluster // registered as a config cluster
}

// startDevCluster starts (initializing on first use) the dev mode's local
// PostgreSQL, makes sure it has the database and admin role dbiam needs, and
// returns the cluster to register.
func startDevCluster(ctx context.Context, cfg config.Config, rnd io.Reader) (*devCluster, error) {
	for _, c := range cfg.Clusters {
		if c.Identifier == DevClusterID {
			return nil, fmt.Errorf("the config already defines a cluster named %s", DevClusterID)
		}
	}
	if localpg.FindBinDir() == "" {
		return nil, ErrNoPostgres
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	dir, err := devPostgresPath(dataDir)
	if err != nil {
		return nil, err
	}
	pg, err := localpg.Start(ctx, localpg.Config{Dir: dir, Settings: devSettings})
	if err != nil {
		return nil, fmt.Errorf("start the dev PostgreSQL in %s: %w", dir, err)
	}
	dc, err := setupDevCluster(ctx, pg, filepath.Join(dataDir, devAdminPasswordFile), rnd)
	if err != nil {
		_ = pg.Stop()
		return nil, err
	}
	return dc, nil
}

// devPostgresPath is <data_dir>/postgres. As root, PostgreSQL runs as the
// OS user "postgres", which must be able to reach it: the data dir (mode
// 0700) is opened for search (0711: its files stay private); when a
// directory above it keeps that user out (a data dir under /root, or in a
// mktemp directory), there is no dev cluster and the error says why and
// what to do. (The cluster is never put anywhere else: it would outlive the
// data dir unseen.)
func devPostgresPath(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, devPostgresDir)
	if os.Geteuid() != 0 {
		return dir, nil
	}
	if err := localpg.Reachable(filepath.Dir(dataDir)); err != nil {
		return "", fmt.Errorf("%w; use a --data-dir that the OS user postgres can reach (for example under /var/lib or /srv), or run dbiam as another user", err)
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o011 != 0o011 {
		if err := os.Chmod(dataDir, fi.Mode().Perm()|0o011); err != nil {
			return "", fmt.Errorf("open the data dir for search by the OS user postgres: %w", err)
		}
	}
	return dir, localpg.Reachable(dir)
}

// setupDevCluster creates, idempotently, what the dev cluster needs: the
// database DevDatabase with CONNECT revoked from PUBLIC (and on the
// maintenance databases too, so that DbName restrictions hold everywhere),
// and DevAdminRole with CREATEROLE, pg_signal_backend, SET on the logging
// parameters and CONNECT WITH GRANT OPTION. Its password is generated once
// and kept in passwordFile (mode 0600); only its SCRAM verifier is sent.
func setupDevCluster(ctx context.Context, pg *localpg.Server, passwordFile string, rnd io.Reader) (*devCluster, error) {
	password, err := devAdminPassword(passwordFile, rnd)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		return nil, fmt.Errorf("dev cluster: connect as superuser: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var version int
	var hasRole, hasDB bool
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int,
		EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1), EXISTS (SELECT 1 FROM pg_database WHERE datname = $2)`,
		DevAdminRole, DevDatabase).Scan(&version, &hasRole, &hasDB); err != nil {
		return nil, fmt.Errorf("dev cluster: %w", err)
	}
	salt := make([]byte, engine.SCRAMSaltLength)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, err
	}
	verifier := engine.SCRAMVerifier(password.Reveal(), salt, devSCRAMIterations)
	if !engine.IsSCRAMVerifier(verifier) {
		return nil, errors.New("dev cluster: malformed SCRAM verifier")
	}
	admin, db := pgx.Identifier{DevAdminRole}.Sanitize(), pgx.Identifier{DevDatabase}.Sanitize()
	verb := "CREATE"
	if hasRole {
		verb = "ALTER"
	}
	stmts := []string{
		// The verifier is not a secret the way the password is, but keep
		// it out of any statement log all the same.
		"SET log_statement = 'none'",
		verb + " ROLE " + admin + " LOGIN CREATEROLE NOSUPERUSER PASSWORD '" + verifier + "'",
		"RESET log_statement",
		"GRANT pg_signal_backend TO " + admin,
	}
	if version >= 150000 {
		stmts = append(stmts, "GRANT SET ON PARAMETER log_statement, log_min_error_statement, log_min_duration_statement, "+
			"log_min_duration_sample, log_transaction_sample_rate, debug_print_parse, debug_print_rewritten, debug_print_plan TO "+admin)
	}
	if !hasDB {
		stmts = append(stmts, "CREATE DATABASE "+db)
	}
	for _, d := range []string{db, "postgres", "template1"} {
		stmts = append(stmts, "REVOKE CONNECT ON DATABASE "+d+" FROM PUBLIC")
	}
	stmts = append(stmts, "GRANT CONNECT ON DATABASE "+db+", postgres TO "+admin+" WITH GRANT OPTION")
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			msg := strings.ReplaceAll(err.Error(), verifier, "[verifier]")
			return nil, fmt.Errorf("dev cluster: set up: %s", msg)
		}
	}

	adminURL := (&url.URL{
		Scheme:   "postgres",
		User:     url.User(DevAdminRole),
		Host:     net.JoinHostPort(pg.Host(), strconv.Itoa(pg.Port())),
		Path:     "/" + DevDatabase,
		RawQuery: "sslmode=disable",
	}).String()
	return &devCluster{
		info: DevCluster{Identifier: DevClusterID, Host: pg.Host(), Port: pg.Port(), Database: DevDatabase,
			AdminURL: adminURL, AdminPassword: password, Dir: pg.Dir()},
		pg: pg,
		cluster: config.Cluster{Identifier: DevClusterID, Engine: config.EnginePostgres,
			Endpoint: config.Endpoint{Address: pg.Host(), Port: pg.Port()},
			AdminURL: adminURL, AdminPasswordFile: passwordFile},
	}, nil
}

// devAdminPassword reads the admin password from path, creating it (256
// random bits, mode 0600) on first use.
func devAdminPassword(path string, rnd io.Reader) (secret.String, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if pw := strings.TrimSpace(string(b)); pw != "" {
			return secret.String(pw), nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("dev cluster admin password: %w", err)
	}
	var raw [32]byte
	if _, err := io.ReadFull(rnd, raw[:]); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("dev cluster admin password: %w", err)
	}
	if _, err := f.WriteString(pw + "\n"); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("dev cluster admin password: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("dev cluster admin password: %w", err)
	}
	return secret.String(pw), nil
}

// DevCluster returns the dev cluster when the server runs in dev mode with
// one, else the reason there is none.
func (s *Server) DevCluster() (DevCluster, error) {
	if s.dev == nil {
		if s.devErr != nil {
			return DevCluster{}, s.devErr
		}
		return DevCluster{}, errors.New("no dev cluster: the server does not run in dev mode")
	}
	return s.dev.info, nil
}

// RootCredentials returns the account root's access key (from the config,
// or generated in dev mode).
func (s *Server) RootCredentials() (accessKeyID string, secretAccessKey secret.String) {
	return s.root.AccessKeyID, s.root.SecretAccessKey
}

func (s *Server) stopDevCluster() error {
	if s.dev == nil {
		return nil
	}
	if err := s.dev.pg.Stop(); err != nil {
		return fmt.Errorf("stop the dev PostgreSQL: %w", err)
	}
	return nil
}

func (s *Server) printDevClusterBanner(w io.Writer) {
	if s.dev == nil {
		if s.devErr != nil {
			fmt.Fprintf(w, "No dev cluster: %v.\n\n", s.devErr)
		}
		return
	}
	d := s.dev.info
	get := "aws redshift get-cluster-credentials --cluster-identifier " + d.Identifier + " --db-user alice --auto-create --db-name " + d.Database
	fmt.Fprintf(w, `Dev PostgreSQL cluster %[1]q on %[2]s:%[3]d (database %[4]s; data in %[5]s).
Temporary credentials for database user alice (as root everything is allowed):

  %[6]s

and a psql session with them:

  eval "$(%[6]s --query '[DbUser,DbPassword]' --output text | awk '{print "export PGUSER="$1" PGPASSWORD="$2}')"
  psql "host=%[2]s port=%[3]d dbname=%[4]s sslmode=disable" -c 'select session_user, current_user'

`, d.Identifier, d.Host, d.Port, d.Database, d.Dir, get)
}
