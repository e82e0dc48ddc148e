package sqlite

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dbiam/dbiam/internal/store"
)

func cached(s *Store) int {
	n := 0
	s.stmts.m.Range(func(any, any) bool { n++; return true })
	return n
}

// seed gives alice an access key, a group, and an inline and a managed
// policy on alice, her group and a role.
func seed(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	for _, err := range []error{
		s.CreateUser(ctx, store.User{Name: "Alice", Path: "/", ID: "AIDAALICE"}),
		s.CreateAccessKey(ctx, store.AccessKey{ID: "AKIAALICE", UserName: "alice", SealedSecret: []byte("sealed"), Status: store.StatusActive}, 0),
		s.CreateGroup(ctx, store.Group{Name: "Devs", Path: "/", ID: "AGPADEVS"}),
		s.AddUserToGroup(ctx, "devs", "alice", 0),
		s.CreateRole(ctx, store.Role{Name: "Deployer", Path: "/", ID: "AROADEPLOYER", AssumeRolePolicyDocument: "{}", MaxSessionDuration: 3600}),
		s.CreateManagedPolicy(ctx, store.ManagedPolicy{Name: "Shared", Path: "/", ID: "ANPASHARED"}, `{"v":1}`),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []struct {
		kind store.PrincipalKind
		name string
	}{{store.KindUser, "alice"}, {store.KindGroup, "devs"}, {store.KindRole, "deployer"}} {
		if err := s.PutInlinePolicy(ctx, store.InlinePolicy{Kind: o.kind, Owner: o.name, Name: "own", Document: `{"own":"` + o.name + `"}`}); err != nil {
			t.Fatal(err)
		}
		if err := s.AttachPolicy(ctx, store.Attachment{Kind: o.kind, Owner: o.name, PolicyName: "shared"}, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// reads runs the prepared reads of every kind once and checks what they
// return.
func reads(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	if k, err := s.GetAccessKey(ctx, "AKIAALICE"); err != nil || k.UserName != "Alice" {
		t.Errorf("GetAccessKey = %+v, %v", k, err)
	}
	if u, err := s.GetUser(ctx, "ALICE"); err != nil || u.Name != "Alice" {
		t.Errorf("GetUser = %+v, %v", u, err)
	}
	if _, err := s.GetUser(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser(bob) = %v, want ErrNotFound", err)
	}
	if r, err := s.GetRole(ctx, "deployer"); err != nil || r.Name != "Deployer" {
		t.Errorf("GetRole = %+v, %v", r, err)
	}
	for kind, want := range map[store.PrincipalKind]int{store.KindUser: 4, store.KindGroup: 2, store.KindRole: 2} {
		name := map[store.PrincipalKind]string{store.KindUser: "alice", store.KindGroup: "devs", store.KindRole: "deployer"}[kind]
		if ps, err := s.EffectivePolicies(ctx, kind, name); err != nil || len(ps) != want {
			t.Errorf("EffectivePolicies(%s %s) = %d policies, %v; want %d", kind, name, len(ps), err, want)
		}
		if ps, err := s.ListAttachedPolicies(ctx, kind, name); err != nil || len(ps) != 1 || ps[0].AttachmentCount != 3 {
			t.Errorf("ListAttachedPolicies(%s %s) = %+v, %v", kind, name, ps, err)
		}
		if ps, err := s.ListInlinePolicies(ctx, kind, name); err != nil || len(ps) != 1 {
			t.Errorf("ListInlinePolicies(%s %s) = %+v, %v", kind, name, ps, err)
		}
		if _, err := s.EffectivePolicies(ctx, kind, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EffectivePolicies(%s nobody) = %v, want ErrNotFound", kind, err)
		}
	}
	if v, err := s.GetPolicyVersion(ctx, "shared", "v1"); err != nil || v.Document != `{"v":1}` {
		t.Errorf("GetPolicyVersion = %+v, %v", v, err)
	}
}

// The reads prepare one statement per SQL text, the kind-dependent ones one
// per kind, and reuse them: running them again prepares nothing more.
// Close closes them all, and reads then fail as they did before there were
// prepared statements.
func TestPreparedReadsAreReused(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "dbiam.db"))
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	reads(t, s)
	n := cached(s)
	// GetAccessKey, GetUser, GetRole, GetPolicyVersion and 3 kinds of
	// EffectivePolicies, ListAttachedPolicies and ListInlinePolicies.
	if want := 4 + 3*3; n != want {
		t.Errorf("%d statements prepared, want %d", n, want)
	}
	for range 3 {
		reads(t, s)
	}
	if got := cached(s); got != n {
		t.Errorf("%d statements prepared after more reads, want still %d", got, n)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := cached(s); got != 0 {
		t.Errorf("%d statements left after Close", got)
	}
	if _, err := s.GetUser(t.Context(), "alice"); err == nil || !strings.Contains(err.Error(), "sql: database is closed") {
		t.Errorf("GetUser after Close = %v, want sql: database is closed", err)
	}
	if _, err := s.EffectivePolicies(t.Context(), store.KindUser, "alice"); err == nil || !strings.Contains(err.Error(), "sql: database is closed") {
		t.Errorf("EffectivePolicies after Close = %v, want sql: database is closed", err)
	}
	if got := cached(s); got != 0 {
		t.Errorf("%d statements prepared after Close", got)
	}
}

// Many readers using the reads for the first time at once prepare each
// statement once and all get right answers (run with -race).
func TestPreparedReadsConcurrentFirstUse(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "dbiam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed(t, s)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			for range 5 {
				reads(t, s)
			}
		})
	}
	wg.Wait()
	if got, want := cached(s), 4+3*3; got != want {
		t.Errorf("%d statements prepared, want %d", got, want)
	}
}

// Prepared reads see what is committed after they were prepared, by this
// store or another one on the same file, and survive a schema change made
// by another connection (SQLite prepares them again).
func TestPreparedReadsSeeChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbiam.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := t.Context()
	seed(t, s)
	reads(t, s)

	if _, err := other.UpdateUser(ctx, "alice", func(u store.User) (store.User, error) {
		u.Name = "Alicia"
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutInlinePolicy(ctx, store.InlinePolicy{Kind: store.KindGroup, Owner: "devs", Name: "more", Document: "{}"}); err != nil {
		t.Fatal(err)
	}
	if k, err := s.GetAccessKey(ctx, "AKIAALICE"); err != nil || k.UserName != "Alicia" {
		t.Errorf("GetAccessKey after rename = %+v, %v", k, err)
	}
	if _, err := s.GetUser(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser(old name) = %v, want ErrNotFound", err)
	}
	if ps, err := s.EffectivePolicies(ctx, store.KindUser, "alicia"); err != nil || len(ps) != 5 {
		t.Errorf("EffectivePolicies after changes = %d policies, %v; want 5", len(ps), err)
	}

	// A later release adding an index (or a column) while this one runs.
	if _, err := other.w.ExecContext(ctx, `CREATE INDEX users_by_path ON users (path)`); err != nil {
		t.Fatal(err)
	}
	if _, err := other.w.ExecContext(ctx, `ALTER TABLE roles ADD COLUMN extra TEXT NOT NULL DEFAULT ''`); err != nil {
		t.Fatal(err)
	}
	if u, err := s.GetUser(ctx, "alicia"); err != nil || u.Name != "Alicia" {
		t.Errorf("GetUser after schema change = %+v, %v", u, err)
	}
	if r, err := s.GetRole(ctx, "deployer"); err != nil || r.Name != "Deployer" {
		t.Errorf("GetRole after schema change = %+v, %v", r, err)
	}
	if ps, err := s.EffectivePolicies(ctx, store.KindUser, "alicia"); err != nil || len(ps) != 5 {
		t.Errorf("EffectivePolicies after schema change = %d policies, %v; want 5", len(ps), err)
	}
}
