package localpg

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbiam/dbiam/internal/secret"
)

// Defaults and file names.
const (
	// DefaultSuperuser is the superuser initdb creates.
	DefaultSuperuser = "postgres"
	// DataSubdir is the data directory (PGDATA) inside Config.Dir.
	DataSubdir = "data"
	// LogFile is the server log inside Config.Dir.
	LogFile = "postgres.log"
	// PasswordFile keeps the generated superuser password inside
	// Config.Dir (mode 0600) when Config.Password is empty.
	PasswordFile = "superuser-password"

	startupWait = 60 * time.Second
	stopWait    = 15 * time.Second
	portRetries = 4
)

// Errors of Start. Check with errors.Is.
var (
	// ErrNotInstalled: no initdb and postgres on this machine.
	ErrNotInstalled = errors.New("PostgreSQL binaries not found (initdb and postgres not on PATH or in /usr/lib/postgresql/*/bin)")
	// ErrNoOSUser: running as root and there is no OS user "postgres" to
	// run PostgreSQL as.
	ErrNoOSUser = errors.New("no OS user to run PostgreSQL as")
	// ErrUnreachable: the OS user that runs PostgreSQL cannot reach
	// Config.Dir (a directory above it is not searchable by that user).
	ErrUnreachable = errors.New("the PostgreSQL directory is not reachable by the OS user that runs PostgreSQL")
)

// Config configures Start. Only Dir is required.
type Config struct {
	// Dir holds the data directory (Dir/data), the server log and the
	// generated superuser password. It is created (mode 0700) if missing;
	// a cluster already in Dir/data is reused.
	Dir string
	// BinDir holds initdb and postgres; empty means FindBinDir.
	BinDir string
	// Port is the TCP port to listen on (127.0.0.1). 0 means the port of
	// the previous start if it is free, else one the kernel picks. A
	// Port given and taken is an error.
	Port int
	// Superuser is the superuser initdb creates (DefaultSuperuser). It
	// only matters when the cluster is initialized.
	Superuser string
	// Password is the superuser's password. When empty, Start generates
	// one at initdb and keeps it in Dir/PasswordFile. When given for an
	// existing cluster, it must be the one the cluster was created with.
	Password secret.String
	// SocketDir is where postgres puts its Unix socket (local connections
	// are trusted); empty means TCP only.
	SocketDir string
	// Settings are extra server settings, "name=value", passed with -c
	// (after listen_addresses and unix_socket_directories).
	Settings []string
	// Locale is initdb's --locale (default "C").
	Locale string
}

// Server is a running PostgreSQL server started by Start.
type Server struct {
	dir       string
	dataDir   string
	port      int
	superuser string
	password  secret.String
	cmd       *exec.Cmd
	done      chan struct{} // closed when postgres exited
	stopOnce  sync.Once
	stopErr   error
}

// Start initializes the cluster in cfg.Dir if needed and starts it (see the
// package documentation). The caller must call Stop.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("localpg: Dir is required")
	}
	if cfg.Superuser == "" {
		cfg.Superuser = DefaultSuperuser
	}
	if cfg.Locale == "" {
		cfg.Locale = "C"
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	bin := cfg.BinDir
	if bin == "" {
		if bin = FindBinDir(); bin == "" {
			return nil, ErrNotInstalled
		}
	}
	run, err := runAs()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("localpg: create %s: %w", dir, err)
	}
	if err := run.own(dir); err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	if err := run.reachable(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, DataSubdir)
	password := cfg.Password
	if Initialized(data) {
		if password.IsZero() {
			b, err := os.ReadFile(filepath.Join(dir, PasswordFile))
			if err != nil {
				return nil, fmt.Errorf("localpg: the cluster in %s exists but its superuser password is unknown: %w", data, err)
			}
			password = secret.String(strings.TrimSpace(string(b)))
		}
	} else {
		if password.IsZero() {
			password = secret.String(randomHex(24))
			if err := writePrivate(filepath.Join(dir, PasswordFile), password.Reveal()+"\n"); err != nil {
				return nil, fmt.Errorf("localpg: keep superuser password: %w", err)
			}
		}
		if err := initdb(bin, run, dir, data, cfg.Superuser, cfg.Locale, password); err != nil {
			return nil, err
		}
	}
	s := &Server{dir: dir, dataDir: data, superuser: cfg.Superuser, password: password}

	if cfg.Port != 0 {
		return s, s.launch(ctx, bin, run, cfg, cfg.Port)
	}
	// The previous port first, then ports the kernel picks. Another
	// process may take a port between our probe and postgres' bind: try a
	// few.
	port := previousPort(data)
	if port != 0 && !portFree(port) {
		port = 0
	}
	for attempt := 0; ; attempt++ {
		if port == 0 {
			if port, err = FreePort(); err != nil {
				return nil, fmt.Errorf("start postgres: %w", err)
			}
		}
		err := s.launch(ctx, bin, run, cfg, port)
		if err == nil {
			return s, nil
		}
		if attempt < portRetries && errors.Is(err, errPortTaken) {
			port = 0
			continue
		}
		return nil, err
	}
}

// noOSUserError is ErrNoOSUser with its reason as the whole message.
type noOSUserError struct{ reason string }

func (e *noOSUserError) Error() string        { return e.reason }
func (e *noOSUserError) Is(target error) bool { return target == ErrNoOSUser }

// Initialized reports whether dataDir holds a PostgreSQL cluster.
func Initialized(dataDir string) bool {
	fi, err := os.Stat(filepath.Join(dataDir, "PG_VERSION"))
	return err == nil && !fi.IsDir()
}

func initdb(bin string, run runner, dir, data, superuser, locale string, password secret.String) error {
	// A data directory without PG_VERSION is the leftover of an initdb
	// that did not finish: nothing to keep.
	if err := os.RemoveAll(data); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := writePrivate(pwfile, password.Reveal()+"\n"); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	defer os.Remove(pwfile)
	if err := run.own(pwfile); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	cmd := run.command(filepath.Join(bin, "initdb"),
		"--pgdata="+data, "--username="+superuser, "--pwfile="+pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"--encoding=UTF8", "--locale="+locale, "--no-sync", "--no-instructions")
	cmd.Dir = dir
	cmd.Env = childEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

var errPortTaken = errors.New("port taken")

func (s *Server) launch(ctx context.Context, bin string, run runner, cfg Config, port int) error {
	logPath := filepath.Join(s.dir, LogFile)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	var offset int64
	if fi, err := logf.Stat(); err == nil {
		offset = fi.Size()
	}

	args := []string{"-D", s.dataDir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + cfg.SocketDir,
	}
	for _, kv := range cfg.Settings {
		args = append(args, "-c", kv)
	}
	cmd := run.command(filepath.Join(bin, "postgres"), args...)
	setParentDeathSignal(cmd)
	cmd.Dir = s.dir
	cmd.Env = childEnv()
	cmd.Stdout = logf
	cmd.Stderr = logf

	s.port = port
	s.cmd = cmd
	s.done = make(chan struct{})

	// The parent-death signal (Linux) is tied to the thread that forks, not
	// to the process: fork from a goroutine locked to its thread and keep it
	// there until postgres exits, so the signal comes only when the calling
	// process itself exits.
	started := make(chan error, 1)
	done := s.done
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}

	if err := s.waitReady(ctx); err != nil {
		_ = s.Kill()
		log := tailFrom(logPath, offset)
		if strings.Contains(log, "could not bind") || strings.Contains(log, "Address already in use") {
			return fmt.Errorf("%w: %d", errPortTaken, port)
		}
		return fmt.Errorf("start postgres: %w\n%s", err, log)
	}
	return nil
}

// waitReady polls until the superuser can log in over TCP.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(startupWait)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("postgres exited during startup")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgconn.Connect(cctx, s.URL())
		if err == nil {
			err = conn.Close(cctx)
			cancel()
			return err
		}
		cancel()
		last = scrub(err, s.password)
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready after %v: %w", startupWait, last)
}

// URL is the superuser's URL for the database "postgres", over TCP with the
// password and sslmode=disable. It contains the password: never log it.
func (s *Server) URL() string { return s.DatabaseURL("postgres") }

// DatabaseURL is the superuser's URL for database db (see URL).
func (s *Server) DatabaseURL(db string) string {
	return (&url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.superuser, s.password.Reveal()),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}).String()
}

// Host is the address the server listens on: always 127.0.0.1.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// Dir is the server's directory (Config.Dir, absolute).
func (s *Server) Dir() string { return s.dir }

// DataDir is the data directory (PGDATA).
func (s *Server) DataDir() string { return s.dataDir }

// LogPath is the server log file.
func (s *Server) LogPath() string { return filepath.Join(s.dir, LogFile) }

// Superuser is the superuser's name.
func (s *Server) Superuser() string { return s.superuser }

// Password is the superuser's password.
func (s *Server) Password() secret.String { return s.password }

// Done is closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop shuts the server down (fast shutdown: sessions are ended, data is
// kept), killing it if it is not gone within 15 seconds. It is safe to call
// more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if sigErr := signalProcess(s.cmd.Process, sigFastShutdown); sigErr == nil {
			select {
			case <-s.done:
			case <-time.After(stopWait):
				s.stopErr = fmt.Errorf("postgres did not stop within %v; killed", stopWait)
				_ = s.Kill()
			}
		} else {
			_ = s.Kill()
		}
	})
	return s.stopErr
}

// Kill ends the server at once (SIGKILL) and waits until it has exited.
func (s *Server) Kill() error {
	err := s.cmd.Process.Kill()
	<-s.done
	return err
}

// FindBinDir returns the directory holding initdb and postgres: the one of
// initdb on PATH (symlinks resolved), else the highest versioned directory
// of the usual packages; "" if there is none.
func FindBinDir() string {
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

// CheckOSUser reports whether PostgreSQL can be run by this process: nil,
// or ErrNoOSUser (wrapped, with the reason) when running as root without an
// OS user "postgres".
func CheckOSUser() error {
	_, err := runAs()
	return err
}

// Reachable reports whether the OS user that runs PostgreSQL (ourselves,
// or "postgres" when we are root) can search every existing directory on
// the way to path: nil, or an error wrapping ErrUnreachable that names the
// first directory in the way.
func Reachable(path string) error {
	run, err := runAs()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return run.reachable(abs)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// previousPort reads the port of the last start from postmaster.opts, which
// postgres writes with its command line ("... "-p" "5433" ...").
func previousPort(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.opts"))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	for i := 0; i+1 < len(fields); i++ {
		if strings.Trim(fields[i], `"`) == "-p" {
			if p, err := strconv.Atoi(strings.Trim(fields[i+1], `"`)); err == nil && p > 0 && p < 65536 {
				return p
			}
		}
	}
	return 0
}

// ProcessAlive reports whether a process with this pid exists (always true
// where that cannot be checked).
func ProcessAlive(pid int) bool { return processAlive(pid) }

// KillStale kills the postmaster recorded in dataDir/postmaster.pid if it
// still runs on that data directory (a server whose parent died without the
// parent-death signal reaching it). It does nothing otherwise.
func KillStale(dataDir string) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || !isPostmasterOf(pid, dataDir) {
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
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

// tailFrom returns the end of what was written to the log at path after
// offset.
func tailFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 4096
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	if fi.Size()-offset > max {
		offset = fi.Size() - max
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(bufio.NewReader(f))
	return string(b)
}

func writePrivate(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// scrub removes the password from an error's text (pgconn errors do not
// carry it, but a connection string might be quoted).
func scrub(err error, password secret.String) error {
	if err == nil || password.IsZero() || !strings.Contains(err.Error(), password.Reveal()) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password.Reveal(), secret.Redacted))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
