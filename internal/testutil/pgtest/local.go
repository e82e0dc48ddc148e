package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

const (
	superuser   = "postgres"
	dirPattern  = "dbiam-pgtest-"
	ownerFile   = "owner.pid" // pid of the test binary that owns a directory
	logFile     = "postgres.log"
	startupWait = 60 * time.Second
	stopWait    = 15 * time.Second
)

// cluster is a PostgreSQL server started by this test binary.
type cluster struct {
	dir  string // temporary directory: data/, the log, the socket
	url  string // superuser URL over TCP
	cmd  *exec.Cmd
	done chan struct{} // closed when postgres exited
}

// startLocal starts a throwaway server. It returns a skip reason (and no
// error) when there are no PostgreSQL binaries to run.
func startLocal() (*cluster, string, error) {
	bin := findBinDir()
	if bin == "" {
		return nil, "set " + EnvURL + " or install PostgreSQL (initdb and postgres not found on PATH or in /usr/lib/postgresql/*/bin)", nil
	}
	run, skip, err := runAs()
	if skip != "" || err != nil {
		return nil, skip, err
	}
	sweepStale()
	c, err := startCluster(bin, run)
	return c, "", err
}

// findBinDir returns the directory holding initdb and postgres: the one of
// initdb on PATH (symlinks resolved), else the highest versioned directory
// of the usual packages.
func findBinDir() string {
	ok := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real)
		}
		if ok(filepath.Dir(p)) {
			return filepath.Dir(p)
		}
	}
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin"} {
		dirs, _ := filepath.Glob(pattern)
		sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
		for _, d := range dirs {
			if ok(d) {
				return d
			}
		}
	}
	if ok("/usr/local/pgsql/bin") {
		return "/usr/local/pgsql/bin"
	}
	return ""
}

// version extracts the major version from a path like
// /usr/lib/postgresql/15/bin or /usr/pgsql-16/bin.
func version(dir string) float64 {
	for _, part := range strings.FieldsFunc(dir, func(r rune) bool { return r == '/' || r == '-' || r == '@' }) {
		if v, err := strconv.ParseFloat(part, 64); err == nil {
			return v
		}
	}
	return 0
}

func startCluster(bin string, run runner) (c *cluster, err error) {
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
	if err := run.own(dir); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}

	password := randomHex(16)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := run.own(pwfile); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	data := filepath.Join(dir, "data")
	initdb := run.command(filepath.Join(bin, "initdb"),
		"--pgdata="+data, "--username="+superuser, "--pwfile="+pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.Env = childEnv()
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	_ = os.Remove(pwfile)

	// Another process may take the port between our probe and postgres'
	// bind; try a few ports.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
		c, err := launch(bin, run, dir, data, port, password)
		if err == nil {
			return c, nil
		}
		if attempt < 4 && errors.Is(err, errPortTaken) {
			continue
		}
		return nil, err
	}
}

var errPortTaken = errors.New("port taken")

func launch(bin string, run runner, dir, data string, port int, password string) (*cluster, error) {
	logPath := filepath.Join(dir, logFile)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	defer logf.Close() // the child has its own descriptor

	socketDir := dir
	if len(dir)+len("/.s.PGSQL.65535") >= 100 { // sun_path is 108 bytes; keep a margin
		socketDir = "" // TCP only
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port)}
	for _, kv := range []string{
		"listen_addresses=127.0.0.1",
		"unix_socket_directories=" + socketDir,
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
	} {
		args = append(args, "-c", kv)
	}
	cmd := run.command(filepath.Join(bin, "postgres"), args...)
	setParentDeathSignal(cmd)
	cmd.Dir = dir
	cmd.Env = childEnv()
	cmd.Stdout = logf
	cmd.Stderr = logf

	c := &cluster{
		dir: dir,
		url: (&url.URL{
			Scheme:   "postgres",
			User:     url.UserPassword(superuser, password),
			Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			Path:     "/postgres",
			RawQuery: "sslmode=disable",
		}).String(),
		cmd:  cmd,
		done: make(chan struct{}),
	}

	// The parent-death signal (Linux) is tied to the thread that forks, not
	// to the process: fork from a goroutine locked to its thread and keep it
	// there until postgres exits, so the signal comes only when the test
	// binary itself exits.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(c.done)
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}

	if err := c.waitReady(); err != nil {
		_ = c.kill()
		log := tail(logPath)
		if strings.Contains(log, "could not bind") || strings.Contains(log, "Address already in use") {
			return nil, fmt.Errorf("%w: %d", errPortTaken, port)
		}
		return nil, fmt.Errorf("start postgres: %w\n%s", err, log)
	}
	return c, nil
}

// waitReady polls until the server accepts a password login over TCP.
func (c *cluster) waitReady() error {
	deadline := time.Now().Add(startupWait)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return errors.New("postgres exited during startup")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgconn.Connect(ctx, c.url)
		if err == nil {
			err = conn.Close(ctx)
			cancel()
			return err
		}
		cancel()
		last = err
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready after %v: %w", startupWait, last)
}

// stop shuts the server down (fast shutdown, then SIGKILL) and removes its
// directory.
func (c *cluster) stop() error {
	var err error
	if sigErr := signalProcess(c.cmd.Process, sigFastShutdown); sigErr == nil {
		select {
		case <-c.done:
		case <-time.After(stopWait):
			err = fmt.Errorf("postgres did not stop within %v; killed", stopWait)
			_ = c.kill()
		}
	} else {
		_ = c.kill()
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

func (c *cluster) kill() error {
	err := c.cmd.Process.Kill()
	<-c.done
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is our environment without PG* variables, which would steer
// initdb and postgres (PGDATA, PGPORT, …), and with the C locale.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LANG=C")
}

// tail returns the end of the log file at path.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	const max = 4096
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
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
		} else if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || processAlive(pid) {
			continue
		}
		stopStalePostmaster(dir)
		_ = os.RemoveAll(dir)
	}
}

// stopStalePostmaster kills the postmaster recorded in dir/data if it still
// runs (the parent-death signal normally took care of it).
func stopStalePostmaster(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || !isPostmasterOf(pid, filepath.Join(dir, "data")) {
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
