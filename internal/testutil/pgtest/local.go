package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/localpg"
	"github.com/dbiam/dbiam/internal/secret"
)

const (
	dirPattern = "dbiam-pgtest-"
	ownerFile  = "owner.pid" // pid of the test binary that owns a directory
)

// settings make the throwaway server fast: nothing it holds needs to
// survive a crash.
var settings = []string{
	"fsync=off",
	"synchronous_commit=off",
	"full_page_writes=off",
	"wal_level=minimal",
	"max_wal_senders=0",
	"max_wal_size=1GB",
	"checkpoint_timeout=30min",
	"autovacuum=off",
	"jit=off",
	"max_connections=200",
	"shared_buffers=64MB",
	"max_parallel_workers_per_gather=0",
	"log_min_messages=warning",
	"log_min_error_statement=panic",
	"logging_collector=off",
}

// cluster is a PostgreSQL server started by this test binary (see
// internal/localpg, which runs it).
type cluster struct {
	dir string // temporary directory: data/, the log, the socket
	url string // superuser URL over TCP
	srv *localpg.Server
}

// startLocal starts a throwaway server. It returns a skip reason (and no
// error) when there are no PostgreSQL binaries to run.
func startLocal() (*cluster, string, error) {
	bin := localpg.FindBinDir()
	if bin == "" {
		return nil, "set " + EnvURL + " or install PostgreSQL (initdb and postgres not found on PATH or in /usr/lib/postgresql/*/bin)", nil
	}
	if err := localpg.CheckOSUser(); err != nil {
		if errors.Is(err, localpg.ErrNoOSUser) {
			return nil, err.Error(), nil
		}
		return nil, "", err
	}
	sweepStale()
	c, err := startCluster(bin)
	return c, "", err
}

func startCluster(bin string) (c *cluster, err error) {
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	socketDir := dir
	if len(dir)+len("/.s.PGSQL.65535") >= 100 { // sun_path is 108 bytes; keep a margin
		socketDir = "" // TCP only
	}
	srv, err := localpg.Start(context.Background(), localpg.Config{
		Dir:       dir,
		BinDir:    bin,
		Superuser: "postgres",
		Password:  secret.String(randomHex(16)),
		SocketDir: socketDir,
		Settings:  settings,
	})
	if err != nil {
		return nil, err
	}
	return &cluster{dir: dir, url: srv.URL(), srv: srv}, nil
}

// stop shuts the server down (fast shutdown, then SIGKILL) and removes its
// directory.
func (c *cluster) stop() error {
	return errors.Join(c.srv.Stop(), os.RemoveAll(c.dir))
}

// sweepStale removes the directories (and stops the servers) that test
// binaries which died without calling Main left behind.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			// Just created by another binary (owner file not written yet),
			// or not ours: leave it alone unless it is old.
			if fi, err := os.Stat(dir); err != nil || time.Since(fi.ModTime()) < time.Hour {
				continue
			}
		} else if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || localpg.ProcessAlive(pid) {
			continue
		}
		// The parent-death signal normally stopped its server already.
		localpg.KillStale(filepath.Join(dir, localpg.DataSubdir))
		_ = os.RemoveAll(dir)
	}
}
