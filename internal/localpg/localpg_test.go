package localpg_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/localpg"
)

// tempDir returns a directory the OS user running PostgreSQL can reach
// (t.TempDir's parents are mode 0700, which keeps out the user "postgres"
// when the tests run as root).
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil { // search only
		t.Fatal(err)
	}
	return dir
}

func requirePostgres(t *testing.T) {
	t.Helper()
	reason := ""
	if localpg.FindBinDir() == "" {
		reason = localpg.ErrNotInstalled.Error()
	} else if err := localpg.CheckOSUser(); err != nil {
		reason = err.Error()
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no PostgreSQL: %s (CI=true, so this fails instead of skipping)", reason)
	}
	t.Skipf("no PostgreSQL, skipping: %s", reason)
}

func start(t *testing.T, cfg localpg.Config) *localpg.Server {
	t.Helper()
	srv, err := localpg.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

func query(t *testing.T, url, sql string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var out string
	if err := conn.QueryRow(t.Context(), sql).Scan(&out); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func TestStartKeepsDataAndPortAcrossRestarts(t *testing.T) {
	requirePostgres(t)
	dir := filepath.Join(tempDir(t), "pg")
	srv := start(t, localpg.Config{Dir: dir})
	if got := query(t, srv.URL(), "SELECT current_setting('listen_addresses')"); got != "127.0.0.1" {
		t.Errorf("listen_addresses = %q", got)
	}
	if got := query(t, srv.URL(), "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"); got != "true" {
		t.Errorf("the URL is not a superuser's: rolsuper = %s", got)
	}
	if os.Geteuid() == 0 {
		if got := query(t, srv.URL(), "SELECT current_setting('data_directory')"); got != srv.DataDir() {
			t.Errorf("data_directory = %s, want %s", got, srv.DataDir())
		}
	}
	pw, err := os.ReadFile(filepath.Join(dir, localpg.PasswordFile))
	if err != nil || strings.TrimSpace(string(pw)) != srv.Password().Reveal() {
		t.Fatalf("generated password not kept in %s: %v", localpg.PasswordFile, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, localpg.PasswordFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode: %v %v", fi.Mode(), err)
	}
	conn, err := pgx.Connect(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(t.Context())
	port := srv.Port()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Done():
	default:
		t.Fatal("Stop returned before postgres exited")
	}

	again := start(t, localpg.Config{Dir: dir})
	if again.Port() != port {
		t.Errorf("restart listens on %d, want the previous port %d", again.Port(), port)
	}
	if got := query(t, again.URL(), "SELECT x::text FROM kept"); got != "42" {
		t.Errorf("data not kept across restarts: %s", got)
	}
}

func TestStartRefusesWrongPassword(t *testing.T) {
	requirePostgres(t)
	srv := start(t, localpg.Config{Dir: filepath.Join(tempDir(t), "pg")})
	u := strings.Replace(srv.URL(), srv.Password().Reveal(), "wrong", 1)
	if conn, err := pgx.Connect(t.Context(), u); err == nil {
		_ = conn.Close(t.Context())
		t.Fatal("connected over TCP with a wrong password")
	}
}

func TestStartTakesAnotherPortWhenThePreviousIsBusy(t *testing.T) {
	requirePostgres(t)
	dir := filepath.Join(tempDir(t), "pg")
	first := start(t, localpg.Config{Dir: dir})
	port := first.Port()
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	// Another server on the old port.
	other := start(t, localpg.Config{Dir: filepath.Join(tempDir(t), "other"), Port: port})
	if other.Port() != port {
		t.Fatalf("other server on %d, want %d", other.Port(), port)
	}
	again := start(t, localpg.Config{Dir: dir})
	if again.Port() == port {
		t.Fatalf("restart took the busy port %d", port)
	}
}

func TestReachable(t *testing.T) {
	if os.Geteuid() != 0 {
		if err := localpg.Reachable(t.TempDir()); err != nil {
			t.Errorf("as ourselves every directory of ours is reachable: %v", err)
		}
		return
	}
	if err := localpg.CheckOSUser(); err != nil {
		t.Skip(err)
	}
	closed := tempDir(t)
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	err := localpg.Reachable(filepath.Join(closed, "pg"))
	if !errors.Is(err, localpg.ErrUnreachable) || !strings.Contains(err.Error(), closed) {
		t.Errorf("Reachable under a 0700 root directory = %v, want ErrUnreachable naming %s", err, closed)
	}
	if err := os.Chmod(closed, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := localpg.Reachable(filepath.Join(closed, "pg")); err != nil {
		t.Errorf("Reachable under a 0711 directory: %v", err)
	}
	if _, err := localpg.Start(t.Context(), localpg.Config{Dir: filepath.Join(t.TempDir(), "pg")}); !errors.Is(err, localpg.ErrUnreachable) {
		t.Errorf("Start under t.TempDir (mode 0700) = %v, want ErrUnreachable", err)
	}
}

// TestMain doubles as the helper process of TestServerDiesWithItsParent.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LOCALPG_TEST_HELPER_DIR"); dir != "" {
		srv, err := localpg.Start(context.Background(), localpg.Config{Dir: dir})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("port:", srv.Port())
		select {} // until killed
	}
	os.Exit(m.Run())
}

func TestServerDiesWithItsParent(t *testing.T) {
	requirePostgres(t)
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signals are Linux only")
	}
	dir := filepath.Join(tempDir(t), "pg")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOCALPG_TEST_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "port: ")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper: %q %v", line, err)
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatalf("the helper's server does not listen: %v", err)
	} else {
		_ = c.Close()
	}
	_ = cmd.Process.Kill() // SIGKILL: no chance to stop the server itself
	_ = cmd.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			localpg.KillStale(filepath.Join(dir, localpg.DataSubdir))
			t.Fatal("the server outlived its parent by 15 seconds")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The data survives: a new server on the directory starts.
	srv := start(t, localpg.Config{Dir: dir})
	if got := query(t, srv.URL(), "SELECT 'ok'"); got != "ok" {
		t.Errorf("restart after the parent died: %s", got)
	}
}
