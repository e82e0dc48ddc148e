package reaper_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/engine/postgres"
)

// Environment of the helper process of TestSIGKILLDuringIssuance.
const (
	envCrashChild  = "DBIAM_REAPER_CRASH_CHILD"
	envCrashURL    = "DBIAM_REAPER_CRASH_URL"
	envCrashMarker = "DBIAM_REAPER_CRASH_MARKER"
	envCrashStore  = "DBIAM_REAPER_CRASH_STORE"
	envCrashPrefix = "DBIAM_REAPER_CRASH_PREFIX"
	envCrashUsers  = "DBIAM_REAPER_CRASH_USERS" // user:group,user:
)

// TestSIGKILLDuringIssuance is the acceptance line "kill dbiam with SIGKILL
// in the middle of a burst of issuance, restart: the reaper leaves no
// orphan login roles once everything has expired". A helper process issues
// credentials as clustercreds does (record "issuing", DDL, record
// "active") from several goroutines into the same SQLite file and cluster,
// and is killed with SIGKILL mid-burst; a new reaper then cleans up.
func TestSIGKILLDuringIssuance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a helper process")
	}
	v := newEnv(t)
	alice, bob, g := v.name("alice"), v.name("bob"), v.name("g")
	v.createRole(alice, "NOLOGIN")
	v.createRole(bob, "NOLOGIN")
	v.createRole(g, "NOLOGIN")

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envCrashChild+"=1", envCrashURL+"="+v.admin, envCrashMarker+"="+v.marker, envCrashStore+"="+v.dbPath,
		envCrashPrefix+"="+v.prefix, envCrashUsers+"="+alice+":"+g+","+bob+":")
	cmd.Stderr = t.Output()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	issued := make(chan string, 1024)
	go func() {
		defer close(issued)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if login, ok := strings.CutPrefix(sc.Text(), "issued "); ok {
				issued <- login
			}
		}
	}()
	const before = 40
	n := 0
	timeout := time.After(2 * time.Minute)
	for n < before {
		select {
		case _, ok := <-issued:
			if !ok {
				t.Fatalf("the helper process ended after %d credentials: %v", n, cmd.Wait())
			}
			n++
		case <-timeout:
			_ = cmd.Process.Kill()
			t.Fatalf("the helper process issued only %d credentials in 2 minutes", n)
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for range issued { // drain
	}

	// What the kill left behind.
	all, err := v.store.ListCredentialsByCluster(t.Context(), clusterID, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, c := range all {
		states[c.State]++
	}
	t.Logf("after SIGKILL: %d records %v, %d managed logins in the catalog", len(all), states, len(v.managedLogins()))

	// Restart: a new reaper, once everything has expired.
	v.clock.Set(time.Now().UTC().Add(5 * time.Minute))
	r := v.reaper("after-restart", nil, nil)
	rep := v.runOnce(r)
	if rep.Reconciled != 1 {
		t.Errorf("Reconciled = %d, want 1", rep.Reconciled)
	}
	if left := v.managedLogins(); len(left) != 0 {
		t.Errorf("orphan login roles left: %q", left)
	}
	if left := v.liveRecords(clusterID); len(left) != 0 {
		t.Errorf("%d records not dropped, first %+v", len(left), left[0])
	}
	if v.isMember(alice, g) {
		t.Errorf("alice keeps group %s", g)
	}
}

// TestCrashChild is the helper process of TestSIGKILLDuringIssuance: it
// issues credentials until it is killed (or, as a safeguard, for a minute).
func TestCrashChild(t *testing.T) {
	if os.Getenv(envCrashChild) != "1" {
		t.Skip("helper process of TestSIGKILLDuringIssuance")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := postgres.New(postgres.Config{URL: os.Getenv(envCrashURL), MarkerRole: os.Getenv(envCrashMarker)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	v := &env{t: t, prefix: os.Getenv(envCrashPrefix), store: openStore(t, os.Getenv(envCrashStore))}
	type user struct {
		name   string
		groups []string
	}
	var users []user
	for _, u := range strings.Split(os.Getenv(envCrashUsers), ",") {
		name, group, _ := strings.Cut(u, ":")
		var groups []string
		if group != "" {
			groups = []string{group}
		}
		users = append(users, user{name, groups})
	}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				u := users[(w+i)%len(users)]
				c, err := v.issue(ctx, eng, clusterID, u.name, u.groups, time.Now().Add(time.Minute), issueComplete)
				if err != nil {
					if ctx.Err() == nil {
						fmt.Fprintf(os.Stderr, "crash child: issue: %v\n", err)
					}
					continue
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "issued %s\n", c.login)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
