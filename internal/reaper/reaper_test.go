package reaper_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/reaper"
	"github.com/dbiam/dbiam/internal/store"
)

func TestExpiry(t *testing.T) {
	v := newEnv(t)
	user := v.name("alice")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	var expired []cred
	for i := range 3 {
		expired = append(expired, v.mustIssue(user, nil, base.Add(time.Minute+time.Duration(i)*time.Second)))
	}
	live := v.mustIssue(user, nil, base.Add(10*time.Minute))
	r := v.reaper("r1", nil, nil)

	// Nothing is due before the expiry.
	v.clock.Set(base.Add(30 * time.Second))
	if rep := v.runOnce(r); rep.Claimed != 0 || rep.Dropped != 0 || rep.OrphansDropped != 0 {
		t.Fatalf("before expiry: %+v", rep)
	}
	for _, c := range append(expired, live) {
		if !v.roleExists(c.login) {
			t.Fatalf("login %s dropped before its expiry", c.login)
		}
	}

	now := base.Add(2 * time.Minute)
	v.clock.Set(now)
	rep := v.runOnce(r)
	if rep.Claimed != 3 || rep.Dropped != 3 || rep.Busy != 0 || rep.Failed != 0 {
		t.Errorf("report = %+v, want 3 claimed and dropped", rep)
	}
	for _, c := range expired {
		if v.roleExists(c.login) {
			t.Errorf("expired login %s still exists", c.login)
		}
		rec := v.record(c.id)
		if rec.State != store.CredentialDropped || !rec.DroppedAt.Equal(now.Truncate(time.Microsecond)) || rec.ClaimOwner != "r1" {
			t.Errorf("record %s = state %q, dropped at %v, owner %q", c.id, rec.State, rec.DroppedAt, rec.ClaimOwner)
		}
	}
	if !v.roleExists(live.login) || v.record(live.id).State != store.CredentialActive {
		t.Errorf("the unexpired credential was touched")
	}
	// The db user itself is never dropped.
	if !v.roleExists(user) {
		t.Errorf("db user %s was dropped", user)
	}
}

func TestBusySessionWaitsForItsEnd(t *testing.T) {
	v := newEnv(t)
	user := v.name("bob")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	c := v.mustIssue(user, nil, base.Add(time.Minute))
	conn, err := v.connect(c)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	defer conn.Close(context.Background())
	r := v.reaper("r1", nil, nil)

	now := base.Add(2 * time.Minute)
	v.clock.Set(now)
	rep := v.runOnce(r)
	if rep.Busy != 1 || rep.Dropped != 0 {
		t.Fatalf("report = %+v, want 1 busy", rep)
	}
	rec := v.record(c.id)
	if rec.State != store.CredentialRevoking || !rec.NextAttemptAt.Equal(now.Add(reaper.DefaultBusyRetry).Truncate(time.Microsecond)) || rec.Attempts != 0 {
		t.Errorf("record = state %q, next attempt %v, attempts %d; want revoking at now+30s", rec.State, rec.NextAttemptAt, rec.Attempts)
	}
	if !v.roleExists(c.login) || v.canLogin(c.login) {
		t.Errorf("busy login: exists %v, can log in %v; want disabled, not dropped", v.roleExists(c.login), v.canLogin(c.login))
	}
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err != nil {
		t.Errorf("the live session broke: %v", err)
	}
	// Not retried before BusyRetry.
	v.clock.Set(now.Add(10 * time.Second))
	if rep := v.runOnce(r); rep.Claimed != 0 {
		t.Errorf("retried before BusyRetry: %+v", rep)
	}
	// Still busy after it: retried, still disabled.
	v.clock.Set(now.Add(31 * time.Second))
	if rep := v.runOnce(r); rep.Claimed != 1 || rep.Busy != 1 {
		t.Errorf("second attempt with the session alive: %+v", rep)
	}
	// The session ends; the next attempt drops the login.
	conn.Close(t.Context())
	waitNoSessions(t, v, c.login)
	v.clock.Set(now.Add(2 * time.Minute))
	if rep := v.runOnce(r); rep.Dropped != 1 {
		t.Errorf("after the session ended: %+v", rep)
	}
	if v.roleExists(c.login) || v.record(c.id).State != store.CredentialDropped {
		t.Errorf("login not dropped after its session ended")
	}
}

func waitNoSessions(t *testing.T, v *env, login string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for v.queryBool(`SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = $1)`, login) {
		if time.Now().After(deadline) {
			t.Fatalf("sessions of %s did not end", login)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTerminateSessionsAtExpiry(t *testing.T) {
	v := newEnv(t)
	user := v.name("carol")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	c := v.mustIssue(user, nil, base.Add(time.Minute))
	conn, err := v.connect(c)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	defer conn.Close(context.Background())
	r := v.reaper("r1", nil, func(c *reaper.Config) { c.TerminateSessionsAtExpiry = true })
	v.clock.Set(base.Add(2 * time.Minute))
	if rep := v.runOnce(r); rep.Dropped != 1 || rep.Busy != 0 {
		t.Fatalf("report = %+v, want 1 dropped", rep)
	}
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err == nil {
		t.Errorf("the session of the expired login survived")
	}
	if v.roleExists(c.login) || v.record(c.id).State != store.CredentialDropped {
		t.Errorf("login not dropped")
	}
}

func TestGroupGrantsFollowUnexpiredCredentials(t *testing.T) {
	v := newEnv(t)
	user, g, h := v.name("alice"), v.name("g"), v.name("h")
	v.createRole(user, "NOLOGIN")
	v.createRole(g, "NOLOGIN")
	v.createRole(h, "NOLOGIN")
	v.exec("GRANT " + h + " TO " + user) // by hand: never dbiam's to revoke
	base := time.Now().UTC()
	first := v.mustIssue(user, []string{g, h}, base.Add(time.Minute))
	second := v.mustIssue(user, []string{g}, base.Add(3*time.Minute))
	if !v.isMember(user, g) {
		t.Fatal("issue did not grant the group")
	}
	r := v.reaper("r1", nil, nil)

	v.clock.Set(base.Add(2 * time.Minute))
	rep := v.runOnce(r)
	if rep.Dropped != 1 || v.roleExists(first.login) {
		t.Fatalf("first credential not dropped: %+v", rep)
	}
	if !v.isMember(user, g) {
		t.Errorf("alice lost g while her second credential still needs it")
	}
	if !v.isMember(user, h) {
		t.Errorf("alice lost h, granted by hand")
	}

	v.clock.Set(base.Add(4 * time.Minute))
	rep = v.runOnce(r)
	if rep.Dropped != 1 || v.roleExists(second.login) {
		t.Fatalf("second credential not dropped: %+v", rep)
	}
	if rep.GroupGrantsRevoked != 1 {
		t.Errorf("GroupGrantsRevoked = %d, want 1", rep.GroupGrantsRevoked)
	}
	if v.isMember(user, g) {
		t.Errorf("alice keeps g after every credential that asked for it expired")
	}
	if !v.isMember(user, h) {
		t.Errorf("alice lost h, granted by hand")
	}
	m, err := v.eng.ListManaged(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.GroupGrants) != 0 || len(m.Logins) != 0 {
		t.Errorf("still managed: %+v", m)
	}
}

// TestCrashDuringIssuance simulates a crash at every point of a burst of
// issuance (the acceptance line: kill dbiam in the middle of a burst,
// restart: no orphan login roles once everything has expired).
func TestCrashDuringIssuance(t *testing.T) {
	v := newEnv(t)
	alice, bob, g := v.name("alice"), v.name("bob"), v.name("g")
	v.createRole(alice, "NOLOGIN")
	v.createRole(bob, "NOLOGIN")
	v.createRole(g, "NOLOGIN")
	base := time.Now().UTC()
	modes := []issueMode{issueComplete, crashBeforeDDL, crashAfterDDL, noRecord, issueFailsGroup}
	const perMode = 6
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		issued = map[issueMode][]cred{}
		errs   []error
	)
	for i := range perMode * len(modes) {
		wg.Go(func() {
			mode := modes[i%len(modes)]
			user, groups := alice, []string{g}
			if i%2 == 1 {
				user, groups = bob, nil
			}
			c, err := v.issue(t.Context(), v.eng, clusterID, user, groups, base.Add(time.Minute+time.Duration(i)*time.Millisecond), mode)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			issued[mode] = append(issued[mode], c)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := len(v.managedLogins()); n != 3*perMode {
		t.Fatalf("%d managed logins before the reaper, want %d", n, 3*perMode)
	}
	if !v.isMember(alice, g) {
		t.Fatal("alice was not granted g")
	}

	// Restart: a new reaper (new owner), the clock past every expiry,
	// reconciliation due.
	v.clock.Set(base.Add(5 * time.Minute))
	r := v.reaper("restarted", nil, nil)
	rep := v.runOnce(r)
	if want := 4 * perMode; rep.Dropped != want {
		t.Errorf("Dropped = %d, want %d (every recorded credential)", rep.Dropped, want)
	}
	if rep.OrphansDropped != perMode {
		t.Errorf("OrphansDropped = %d, want %d (the logins whose record was lost)", rep.OrphansDropped, perMode)
	}
	if rep.Reconciled != 1 {
		t.Errorf("Reconciled = %d, want 1", rep.Reconciled)
	}
	if left := v.managedLogins(); len(left) != 0 {
		t.Errorf("managed logins left in the catalog: %q", left)
	}
	if left := v.liveRecords(clusterID); len(left) != 0 {
		t.Errorf("%d records not dropped, first %+v", len(left), left[0])
	}
	if v.isMember(alice, g) {
		t.Errorf("alice keeps g")
	}
	for _, c := range issued[crashBeforeDDL] {
		if rec := v.record(c.id); rec.State != store.CredentialDropped {
			t.Errorf("crashed-before-DDL record %s: state %q", c.id, rec.State)
		}
	}
	// A second pass finds nothing left to do.
	if rep := v.runOnce(r); rep != (reaper.Report{}) {
		t.Errorf("second pass: %+v", rep)
	}
}

// TestNeverTouchesUnmanagedRoles: a record naming a role that dbiam does
// not manage (Issue failed with ErrLoginExists) and an unexpired orphan
// are both left alone.
func TestNeverTouchesUnmanagedRoles(t *testing.T) {
	v := newEnv(t)
	user := v.name("dave")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	// A role created by hand with the name a credential was issued under.
	handMade := "IAM:" + user + ":handmade"
	v.createRole(handMade, "LOGIN")
	rec := store.IssuedCredential{
		ID: "cred-handmade", Cluster: clusterID, LoginRole: handMade, DbUser: user, CreatedAt: base,
		ExpiresAt: base.Add(time.Minute), State: store.CredentialFailed, NextAttemptAt: base,
		LastError: "login role already exists",
	}
	if err := v.store.CreateCredential(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	// An orphan (no record) that has not expired yet.
	orphan, err := v.issue(t.Context(), v.eng, clusterID, user, nil, base.Add(10*time.Minute), noRecord)
	if err != nil {
		t.Fatal(err)
	}
	r := v.reaper("r1", nil, nil)
	v.clock.Set(base.Add(2 * time.Minute))
	rep := v.runOnce(r)
	if rep.NotManaged != 1 || rep.OrphansDropped != 0 {
		t.Errorf("report = %+v, want 1 not managed, no orphan dropped", rep)
	}
	if !v.roleExists(handMade) || !v.canLogin(handMade) {
		t.Errorf("the hand-made role was touched")
	}
	if got := v.record(rec.ID); got.State != store.CredentialDropped || !strings.Contains(got.LastError, "not managed") {
		t.Errorf("record = state %q, last error %q", got.State, got.LastError)
	}
	if !v.roleExists(orphan.login) || !v.canLogin(orphan.login) {
		t.Errorf("the unexpired orphan was touched")
	}
	// Once it expired (and reconciliation is due again) it goes.
	v.clock.Set(base.Add(20 * time.Minute))
	if rep := v.runOnce(r); rep.OrphansDropped != 1 || v.roleExists(orphan.login) {
		t.Errorf("expired orphan: %+v, exists %v", rep, v.roleExists(orphan.login))
	}
	if !v.roleExists(handMade) {
		t.Errorf("the hand-made role was dropped")
	}
}

// TestMissingRoleMarkedDropped: an expired record whose role was removed
// behind dbiam's back (and is not due yet, so the expiry pass does not see
// it) is closed by reconciliation.
func TestMissingRoleMarkedDropped(t *testing.T) {
	v := newEnv(t)
	user := v.name("erin")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	c := v.mustIssue(user, nil, base.Add(time.Minute))
	live := v.mustIssue(user, nil, base.Add(10*time.Minute))
	v.exec(`DROP ROLE "` + c.login + `"`)
	v.exec(`DROP ROLE "` + live.login + `"`)
	// In backoff: not due for the expiry pass.
	if _, err := v.store.UpdateCredential(t.Context(), c.id, func(r store.IssuedCredential) (store.IssuedCredential, error) {
		r.NextAttemptAt = base.Add(time.Hour)
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	r := v.reaper("r1", nil, nil)
	v.clock.Set(base.Add(2 * time.Minute))
	rep := v.runOnce(r)
	if rep.MissingRoles != 1 || rep.Claimed != 0 {
		t.Errorf("report = %+v, want 1 missing role", rep)
	}
	if got := v.record(c.id); got.State != store.CredentialDropped {
		t.Errorf("record state %q, want dropped", got.State)
	}
	if got := v.record(live.id); got.State != store.CredentialActive {
		t.Errorf("unexpired record state %q, want active (only logged)", got.State)
	}
}

func TestTwoReplicasRevokeEachCredentialOnce(t *testing.T) {
	v := newEnv(t)
	users := []string{v.name("u1"), v.name("u2"), v.name("u3")}
	g := v.name("g")
	v.createRole(g, "NOLOGIN")
	for _, u := range users {
		v.createRole(u, "NOLOGIN")
	}
	base := time.Now().UTC()
	var creds []cred
	for i := range 24 {
		creds = append(creds, v.mustIssue(users[i%3], []string{g}, base.Add(time.Minute)))
	}
	counting := newCountingEngine(v.eng)
	src := v.engines(counting)
	v.clock.Set(base.Add(2 * time.Minute))
	small := func(c *reaper.Config) { c.Batch = 3 }
	replicas := []*reaper.Reaper{v.reaper("replica-a", src, small), v.reaper("replica-b", src, small)}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		total   reaper.Report
		errs    []error
		perRepl = make([]int, 2)
	)
	for i, r := range replicas {
		wg.Go(func() {
			for {
				rep, err := r.RunOnce(t.Context())
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				perRepl[i] += rep.Dropped
				total.Claimed += rep.Claimed
				total.Dropped += rep.Dropped
				total.OrphansDropped += rep.OrphansDropped
				total.Reconciled += rep.Reconciled
				mu.Unlock()
				if err != nil || rep.Claimed == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("dropped per replica: %v; total %+v", perRepl, total)
	if total.Dropped != len(creds) || total.Claimed != len(creds) || total.OrphansDropped != 0 {
		t.Errorf("total = %+v, want %d claimed and dropped", total, len(creds))
	}
	if total.Reconciled != 1 {
		t.Errorf("the cluster was reconciled %d times, want once", total.Reconciled)
	}
	counting.mu.Lock()
	defer counting.mu.Unlock()
	for _, c := range creds {
		if n := counting.revokes[c.login]; n != 1 {
			t.Errorf("login %s revoked %d times, want once", c.login, n)
		}
		if v.record(c.id).State != store.CredentialDropped {
			t.Errorf("record %s not dropped", c.id)
		}
	}
	if len(counting.revokes) != len(creds) {
		t.Errorf("Revoke called for %d logins, want %d", len(counting.revokes), len(creds))
	}
	if left := v.managedLogins(); len(left) != 0 {
		t.Errorf("managed logins left: %q", left)
	}
	for _, u := range users {
		if v.isMember(u, g) {
			t.Errorf("%s keeps g", u)
		}
	}
}

func TestClusterDownDoesNotStallOthers(t *testing.T) {
	tests := []struct {
		name   string
		engine func(real engine.Engine) (engine.Engine, error)
		errIs  string
	}{
		{"factory fails", func(engine.Engine) (engine.Engine, error) {
			return nil, errors.New("dial tcp 10.0.0.1:5432: connect: connection refused")
		}, "connection refused"},
		{"engine hangs", func(real engine.Engine) (engine.Engine, error) {
			return blockingEngine{real}, nil
		}, "deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			v.addCluster("down")
			user := v.name("frank")
			v.createRole(user, "NOLOGIN")
			base := time.Now().UTC()
			var up, down []cred
			for range 3 {
				up = append(up, v.mustIssue(user, nil, base.Add(time.Minute)))
				c, err := v.issue(t.Context(), v.eng, "down", user, nil, base.Add(time.Minute), crashBeforeDDL)
				if err != nil {
					t.Fatal(err)
				}
				down = append(down, c)
			}
			src := reaper.EngineSourceFunc(func(_ context.Context, c store.Cluster) (engine.Engine, error) {
				if c.Identifier == "down" {
					return tc.engine(v.eng)
				}
				return v.eng, nil
			})
			r := v.reaper("r1", src, func(c *reaper.Config) { c.ClusterTimeout = 500 * time.Millisecond })
			now := base.Add(2 * time.Minute)
			v.clock.Set(now)
			start := time.Now()
			rep, err := r.RunOnce(t.Context())
			elapsed := time.Since(start)
			t.Logf("report %+v, error %v, %v", rep, err, elapsed)
			// The down cluster's reconciliation fails, and says so.
			if err == nil || !strings.Contains(err.Error(), "down") {
				t.Errorf("RunOnce error = %v, want the down cluster's reconciliation failure", err)
			}
			if elapsed > 10*time.Second {
				t.Errorf("the pass took %v", elapsed)
			}
			if rep.Dropped != 3 || rep.Failed != 3 {
				t.Errorf("report = %+v, want 3 dropped, 3 failed", rep)
			}
			for _, c := range up {
				if v.roleExists(c.login) || v.record(c.id).State != store.CredentialDropped {
					t.Errorf("credential %s of the cluster that is up was not dropped", c.id)
				}
			}
			for _, c := range down {
				rec := v.record(c.id)
				want := now.Add(reaper.DefaultRetryBase).Truncate(time.Microsecond)
				if rec.State != store.CredentialIssuing || rec.Attempts != 1 || !rec.NextAttemptAt.Equal(want) ||
					!strings.Contains(rec.LastError, tc.errIs) {
					t.Errorf("record of the down cluster = state %q, attempts %d, next %v (want %v), last error %q",
						rec.State, rec.Attempts, rec.NextAttemptAt, want, rec.LastError)
				}
			}
			// Backoff doubles: the next failure waits 2×RetryBase.
			now = now.Add(reaper.DefaultRetryBase)
			v.clock.Set(now)
			rep, _ = r.RunOnce(t.Context())
			if rep.Failed != 3 {
				t.Errorf("second pass: %+v", rep)
			}
			for _, c := range down {
				rec := v.record(c.id)
				if want := now.Add(2 * reaper.DefaultRetryBase).Truncate(time.Microsecond); rec.Attempts != 2 || !rec.NextAttemptAt.Equal(want) {
					t.Errorf("after the second failure: attempts %d, next %v, want 2, %v", rec.Attempts, rec.NextAttemptAt, want)
				}
			}
		})
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	v := newEnv(t)
	user := v.name("gina")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	c := v.mustIssue(user, nil, base.Add(time.Minute))
	v.clock.Set(base.Add(2 * time.Minute))
	r := v.reaper("r1", nil, func(c *reaper.Config) { c.Interval = 20 * time.Millisecond })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for v.record(c.id).State != store.CredentialDropped {
		if time.Now().After(deadline) {
			t.Fatal("Run did not drop the expired login")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancellation", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after cancellation")
	}
}

func TestPanicsAreRecovered(t *testing.T) {
	v := newEnv(t)
	user := v.name("hank")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	v.mustIssue(user, nil, base.Add(time.Minute))
	v.clock.Set(base.Add(2 * time.Minute))
	src := reaper.EngineSourceFunc(func(context.Context, store.Cluster) (engine.Engine, error) { panic("boom") })
	r := v.reaper("r1", src, nil)
	_, err := r.RunOnce(t.Context())
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("RunOnce = %v, want the recovered panic", err)
	}
}

func TestPurgeAfterRetention(t *testing.T) {
	v := newEnv(t)
	user := v.name("ivan")
	v.createRole(user, "NOLOGIN")
	base := time.Now().UTC()
	c := v.mustIssue(user, nil, base.Add(time.Minute))
	r := v.reaper("r1", nil, nil)
	v.clock.Set(base.Add(2 * time.Minute))
	v.runOnce(r)
	v.clock.Set(base.Add(reaper.DefaultRetention + time.Hour))
	if rep := v.runOnce(r); rep.Purged != 1 {
		t.Errorf("Purged = %d, want 1", rep.Purged)
	}
	if _, err := v.store.GetCredential(t.Context(), c.id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purged record: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	src := reaper.EngineSourceFunc(func(context.Context, store.Cluster) (engine.Engine, error) { return nil, nil })
	tests := []struct {
		name string
		cfg  reaper.Config
		want string
	}{
		{"empty", reaper.Config{}, "no store; no engine source; no owner"},
		{"negative", reaper.Config{Store: nilStore{}, Engines: src, Owner: "o", Lease: -time.Second}, "lease is negative"},
		{"timeout over lease", reaper.Config{Store: nilStore{}, Engines: src, Owner: "o", Lease: time.Second, ClusterTimeout: time.Minute}, "exceeds the lease"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reaper.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, err := reaper.New(reaper.Config{Store: nilStore{}, Engines: src, Owner: "o"}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}

// nilStore satisfies store.Store for config checks only.
type nilStore struct{ store.Store }
