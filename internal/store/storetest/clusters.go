package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/store"
)

// clusterTests are the subtests of registered clusters and issued
// credentials.
func clusterTests() []struct {
	name string
	fn   func(t *testing.T, s store.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ClusterCRUD", testClusterCRUD},
		{"ListClustersPagination", testListClustersPagination},
		{"UpdateCluster", testUpdateCluster},
		{"ConcurrentUpdateCluster", testConcurrentUpdateCluster},
		{"DeleteClusterConflict", testDeleteClusterConflict},
		{"ConcurrentDeleteClusterAndCredential", testConcurrentDeleteClusterAndCredential},
		{"CredentialCRUD", testCredentialCRUD},
		{"CredentialLoginRoleUnique", testCredentialLoginRoleUnique},
		{"UpdateCredential", testUpdateCredential},
		{"ConcurrentUpdateCredential", testConcurrentUpdateCredential},
		{"ListCredentialsByCluster", testListCredentialsByCluster},
		{"DueCredentials", testDueCredentials},
		{"ClaimDueCredentials", testClaimDueCredentials},
		{"ClaimDueCredentialsConcurrent", testClaimDueCredentialsConcurrent},
		{"ActiveGroups", testActiveGroups},
		{"PurgeCredentials", testPurgeCredentials},
		{"CountCredentials", testCountCredentials},
	}
}

func newCluster(id string) store.Cluster {
	return store.Cluster{
		Identifier:          id,
		Engine:              "postgres",
		Address:             id + ".db.example.com",
		Port:                5432,
		AdminURL:            "postgres://dbiam_admin@" + id + ".db.example.com:5432/postgres?sslmode=verify-full",
		SealedAdminPassword: []byte("sealed:" + id),
		DefaultDatabase:     "dev",
		Source:              "config",
		CreatedAt:           base,
		UpdatedAt:           base,
	}
}

// newCredential returns an active credential of cluster for dbUser, created
// at created and expiring an hour later, with the reaper's first attempt at
// the expiry.
func newCredential(id, cluster, dbUser string, created time.Time) store.IssuedCredential {
	return store.IssuedCredential{
		ID:            id,
		Cluster:       cluster,
		LoginRole:     "IAM:" + dbUser + ":" + id,
		DbUser:        dbUser,
		Principal:     "arn:aws:iam::123456789012:user/" + dbUser,
		RequestID:     "req-" + id,
		CreatedAt:     created,
		ExpiresAt:     created.Add(time.Hour),
		State:         store.CredentialActive,
		NextAttemptAt: created.Add(time.Hour),
	}
}

func mustCreateCluster(t *testing.T, s store.Store, c store.Cluster) {
	t.Helper()
	if err := s.CreateCluster(t.Context(), c); err != nil {
		t.Fatalf("CreateCluster(%q): %v", c.Identifier, err)
	}
}

func mustCreateCredential(t *testing.T, s store.Store, c store.IssuedCredential) {
	t.Helper()
	if err := s.CreateCredential(t.Context(), c); err != nil {
		t.Fatalf("CreateCredential(%q): %v", c.ID, err)
	}
}

func mustGetCluster(t *testing.T, s store.Store, id string) store.Cluster {
	t.Helper()
	c, err := s.GetCluster(t.Context(), id)
	if err != nil {
		t.Fatalf("GetCluster(%q): %v", id, err)
	}
	return c
}

func mustGetCredential(t *testing.T, s store.Store, id string) store.IssuedCredential {
	t.Helper()
	c, err := s.GetCredential(t.Context(), id)
	if err != nil {
		t.Fatalf("GetCredential(%q): %v", id, err)
	}
	return c
}

// isSentinel reports whether err is one of the store's sentinel errors.
func isSentinel(err error) bool {
	for _, s := range []error{store.ErrNotFound, store.ErrAlreadyExists, store.ErrConflict, store.ErrLimitExceeded} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// stored is t the way the store keeps it: UTC, truncated to the microsecond.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// diffCluster describes how got differs from want ("" when equal). It never
// prints the sealed password.
func diffCluster(got, want store.Cluster) string {
	var d []string
	g, w := got, want
	g.SealedAdminPassword, w.SealedAdminPassword = nil, nil
	g.CreatedAt, w.CreatedAt, g.UpdatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.Tags, w.Tags = nil, nil
	if !reflect.DeepEqual(g, w) {
		d = append(d, fmt.Sprintf("%+v, want %+v", g, w))
	}
	if !bytes.Equal(got.SealedAdminPassword, want.SealedAdminPassword) || got.SealedAdminPassword == nil {
		d = append(d, fmt.Sprintf("SealedAdminPassword differs (%d bytes, want %d, non-nil)", len(got.SealedAdminPassword), len(want.SealedAdminPassword)))
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		d = append(d, fmt.Sprintf("CreatedAt %v, want %v (UTC)", got.CreatedAt, want.CreatedAt))
	}
	if !sameTime(got.UpdatedAt, want.UpdatedAt) {
		d = append(d, fmt.Sprintf("UpdatedAt %v, want %v (UTC)", got.UpdatedAt, want.UpdatedAt))
	}
	if !maps.Equal(got.Tags, want.Tags) {
		d = append(d, fmt.Sprintf("Tags %v, want %v", got.Tags, want.Tags))
	}
	return strings.Join(d, "; ")
}

func checkCluster(t *testing.T, what string, got, want store.Cluster) {
	t.Helper()
	if d := diffCluster(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

// diffCredential describes how got differs from want ("" when equal).
func diffCredential(got, want store.IssuedCredential) string {
	var d []string
	g, w := got, want
	for _, c := range []*store.IssuedCredential{&g, &w} {
		c.CreatedAt, c.ExpiresAt, c.NextAttemptAt, c.DroppedAt, c.Groups = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil
	}
	if !reflect.DeepEqual(g, w) {
		d = append(d, fmt.Sprintf("%+v, want %+v", g, w))
	}
	if !slices.Equal(got.Groups, want.Groups) {
		d = append(d, fmt.Sprintf("Groups %q, want %q", got.Groups, want.Groups))
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"NextAttemptAt", got.NextAttemptAt, want.NextAttemptAt},
		{"DroppedAt", got.DroppedAt, want.DroppedAt},
	} {
		if !sameTime(tm.got, tm.want) || tm.got.IsZero() != tm.want.IsZero() {
			d = append(d, fmt.Sprintf("%s %v, want %v (UTC)", tm.name, tm.got, tm.want))
		}
	}
	return strings.Join(d, "; ")
}

func checkCredential(t *testing.T, what string, got, want store.IssuedCredential) {
	t.Helper()
	if d := diffCredential(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

func credentialIDs(cs []store.IssuedCredential) []string {
	return names(cs, func(c store.IssuedCredential) string { return c.ID })
}

func testClusterCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetCluster(ctx, "dev")
	wantErr(t, "GetCluster on an empty store", err, store.ErrNotFound)
	if !strings.Contains(err.Error(), `"dev"`) {
		t.Errorf("error %q does not name the cluster", err)
	}

	zone := time.FixedZone("UTC-7", -7*3600)
	c := newCluster("dev")
	c.Port = 65535
	c.Source = "api"
	c.Capabilities = "{\n  \"createrole\": true,\t\"version\": \"15.4\", \"connect_revoked\": [\"dev\"] }\n"
	c.CreatedAt = time.Date(2025, 1, 2, 3, 4, 5, 678901234, zone)
	c.UpdatedAt = c.CreatedAt.Add(time.Minute)
	c.Tags = map[string]string{"env": "dev", "empty": "", "ünï": "çødé"}
	mustCreateCluster(t, s, c)
	want := c
	want.CreatedAt, want.UpdatedAt = stored(c.CreatedAt), stored(c.UpdatedAt)
	checkCluster(t, "GetCluster", mustGetCluster(t, s, "dev"), want)

	// Identifiers are case-sensitive: "Dev" is another cluster.
	_, err = s.GetCluster(ctx, "DEV")
	wantErr(t, "GetCluster in another case", err, store.ErrNotFound)
	other := newCluster("Dev")
	other.SealedAdminPassword = nil
	other.UpdatedAt = time.Time{}
	mustCreateCluster(t, s, other)
	got := mustGetCluster(t, s, "Dev")
	if got.SealedAdminPassword == nil || len(got.SealedAdminPassword) != 0 {
		t.Errorf("cluster without a password: SealedAdminPassword = %d bytes (nil: %t), want empty and non-nil", len(got.SealedAdminPassword), got.SealedAdminPassword == nil)
	}
	other.SealedAdminPassword = []byte{}
	other.UpdatedAt = other.CreatedAt // zero UpdatedAt at creation means CreatedAt
	checkCluster(t, "cluster with defaults", got, other)
	if got.Tags != nil {
		t.Errorf("cluster created without tags has Tags %#v, want nil", got.Tags)
	}

	dup := newCluster("dev")
	dup.Address = "elsewhere"
	wantErr(t, "CreateCluster with a taken identifier", s.CreateCluster(ctx, dup), store.ErrAlreadyExists)
	checkCluster(t, "cluster after a refused create", mustGetCluster(t, s, "dev"), want)

	if err := s.DeleteCluster(ctx, "dev"); err != nil {
		t.Fatalf("DeleteCluster: %v", err)
	}
	_, err = s.GetCluster(ctx, "dev")
	wantErr(t, "GetCluster after DeleteCluster", err, store.ErrNotFound)
	wantErr(t, "DeleteCluster twice", s.DeleteCluster(ctx, "dev"), store.ErrNotFound)
	mustGetCluster(t, s, "Dev") // the other one stays
	mustCreateCluster(t, s, c)  // the identifier is free again
}

func testListClustersPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	cs, marker, err := s.ListClusters(ctx, store.Page{})
	if err != nil || len(cs) != 0 || marker != "" {
		t.Fatalf("ListClusters on an empty store = %d clusters, marker %q, %v", len(cs), marker, err)
	}
	var want []string
	for i := range 20 {
		id := fmt.Sprintf("cluster-%02d", 19-i)
		if i%4 == 0 {
			id = strings.ToUpper(id) // byte-wise: upper case sorts first
		}
		want = append(want, id)
		mustCreateCluster(t, s, newCluster(id))
	}
	for _, id := range []string{"zeta", "Zeta", "_x", "a"} {
		want = append(want, id)
		mustCreateCluster(t, s, newCluster(id))
	}
	slices.Sort(want)
	for _, size := range []int{1, 5, 23, 24, 25} {
		var got []string
		page := store.Page{MaxItems: size}
		for calls := 0; ; calls++ {
			if calls > len(want) {
				t.Fatalf("MaxItems %d: pagination does not end", size)
			}
			cs, next, err := s.ListClusters(ctx, page)
			if err != nil {
				t.Fatalf("ListClusters(%+v): %v", page, err)
			}
			if len(cs) > size || (next != "" && len(cs) != size) {
				t.Fatalf("ListClusters(%+v) returned %d clusters with marker %q", page, len(cs), next)
			}
			for _, c := range cs {
				got = append(got, c.Identifier)
			}
			if next == "" {
				break
			}
			page.Marker = next
		}
		wantNames(t, fmt.Sprintf("ListClusters, MaxItems %d", size), got, want)
	}
	cs, marker, err = s.ListClusters(ctx, store.Page{})
	if err != nil || len(cs) != len(want) || marker != "" {
		t.Fatalf("ListClusters(default page) = %d clusters, marker %q, %v", len(cs), marker, err)
	}
	checkCluster(t, "listed cluster", cs[slices.Index(want, "a")], newCluster("a"))

	// A marker stays valid when the cluster it came from is deleted.
	first, next, err := s.ListClusters(ctx, store.Page{MaxItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCluster(ctx, first[1].Identifier); err != nil {
		t.Fatal(err)
	}
	rest, _, err := s.ListClusters(ctx, store.Page{Marker: next, MaxItems: 1})
	if err != nil || len(rest) != 1 || rest[0].Identifier != want[2] {
		t.Errorf("page after a deleted marker cluster = %v, %v; want [%s]", rest, err, want[2])
	}
}

func testUpdateCluster(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCluster("dev")
	c.Tags = map[string]string{"k": "v"}
	mustCreateCluster(t, s, c)

	errAbort := errors.New("abort")
	if _, err := s.UpdateCluster(ctx, "dev", func(old store.Cluster) (store.Cluster, error) {
		old.Port = 1
		old.Tags["k"] = "changed"
		return old, errAbort
	}); !errors.Is(err, errAbort) {
		t.Fatalf("UpdateCluster with a failing fn: %v, want the fn's error", err)
	}
	checkCluster(t, "cluster after an aborted update", mustGetCluster(t, s, "dev"), c)

	called := false
	_, err := s.UpdateCluster(ctx, "nope", func(old store.Cluster) (store.Cluster, error) {
		called = true
		return old, nil
	})
	wantErr(t, "UpdateCluster(nope)", err, store.ErrNotFound)
	if called {
		t.Error("UpdateCluster called fn for a missing cluster")
	}
	_, err = s.UpdateCluster(ctx, "DEV", func(old store.Cluster) (store.Cluster, error) { return old, nil })
	wantErr(t, "UpdateCluster in another case", err, store.ErrNotFound)

	// The identifier is immutable: changing it (even its case) is an error
	// and nothing is written.
	for _, id := range []string{"prod", "DEV"} {
		_, err = s.UpdateCluster(ctx, "dev", func(old store.Cluster) (store.Cluster, error) {
			old.Identifier = id
			old.Address = "should-not-stick"
			return old, nil
		})
		if err == nil || isSentinel(err) {
			t.Errorf("UpdateCluster changing the identifier to %q: %v, want a non-sentinel error", id, err)
		}
		checkCluster(t, "cluster after a refused identifier change", mustGetCluster(t, s, "dev"), c)
	}
	if _, err := s.GetCluster(ctx, "prod"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused identifier change created a cluster: %v", err)
	}

	updatedAt := base.Add(36*time.Hour + 999*time.Nanosecond)
	got, err := s.UpdateCluster(ctx, "dev", func(old store.Cluster) (store.Cluster, error) {
		checkCluster(t, "fn argument", old, c)
		old.Address = "10.0.0.7"
		old.Port = 6543
		old.AdminURL = "postgres://admin@10.0.0.7:6543/postgres"
		old.SealedAdminPassword = []byte{0, 1, 2, 0xff}
		old.DefaultDatabase = "postgres"
		old.Source = "api"
		old.Capabilities = `{"createrole":false}`
		old.UpdatedAt = updatedAt
		delete(old.Tags, "k")
		old.Tags["new"] = "tag"
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Address, c.Port, c.AdminURL = "10.0.0.7", 6543, "postgres://admin@10.0.0.7:6543/postgres"
	c.SealedAdminPassword = []byte{0, 1, 2, 0xff}
	c.DefaultDatabase, c.Source, c.Capabilities = "postgres", "api", `{"createrole":false}`
	c.UpdatedAt = stored(updatedAt)
	c.Tags = map[string]string{"new": "tag"}
	checkCluster(t, "UpdateCluster result", got, c)
	checkCluster(t, "GetCluster after UpdateCluster", mustGetCluster(t, s, "dev"), c)

	// Clearing the password and the tags.
	got, err = s.UpdateCluster(ctx, "dev", func(old store.Cluster) (store.Cluster, error) {
		old.SealedAdminPassword = nil
		old.Tags = nil
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.SealedAdminPassword, c.Tags = []byte{}, nil
	checkCluster(t, "cluster with password and tags cleared", got, c)
}

func testConcurrentUpdateCluster(t *testing.T, s store.Store) {
	const workers, increments = 8, 25
	c := newCluster("counter")
	c.Tags = map[string]string{"n": "0"}
	mustCreateCluster(t, s, c)

	// Each update increments a counter tag, the port, and appends to the
	// capabilities; a lost update shows as a smaller count.
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range workers {
		wg.Go(func() {
			for range increments {
				_, err := s.UpdateCluster(t.Context(), "counter", func(c store.Cluster) (store.Cluster, error) {
					n, err := strconv.Atoi(c.Tags["n"])
					if err != nil {
						return c, err
					}
					c.Tags["n"] = strconv.Itoa(n + 1)
					c.Port++
					c.Capabilities += strconv.Itoa(w)
					return c, nil
				})
				if err != nil {
					t.Errorf("concurrent UpdateCluster: %v", err)
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return
	}
	got := mustGetCluster(t, s, "counter")
	if want := workers * increments; got.Tags["n"] != strconv.Itoa(want) || got.Port != c.Port+want || len(got.Capabilities) != want {
		t.Errorf("after %d updates: counter %s, port %d, capabilities of %d bytes: updates were lost", want, got.Tags["n"], got.Port-c.Port, len(got.Capabilities))
	}
	for w := range workers {
		if n := strings.Count(got.Capabilities, strconv.Itoa(w)); n != increments {
			t.Errorf("worker %d's updates: %d, want %d", w, n, increments)
		}
	}
}

func testDeleteClusterConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateCluster(t, s, newCluster("dev"))
	mustCreateCluster(t, s, newCluster("other"))
	states := []string{store.CredentialIssuing, store.CredentialActive, store.CredentialRevoking, store.CredentialFailed}
	var ids []string
	for i, state := range states {
		c := newCredential(fmt.Sprintf("cred-%d", i), "dev", "alice", base.Add(time.Duration(i)*time.Minute))
		c.State = state
		c.ExpiresAt = base.Add(-time.Hour) // long expired: still refused until dropped
		mustCreateCredential(t, s, c)
		ids = append(ids, c.ID)
	}
	keep := newCredential("other-cred", "other", "alice", base)
	keep.State, keep.DroppedAt = store.CredentialDropped, base
	mustCreateCredential(t, s, keep)

	for i, id := range ids {
		err := s.DeleteCluster(ctx, "dev")
		wantErr(t, fmt.Sprintf("DeleteCluster with %d credentials not dropped", len(ids)-i), err, store.ErrConflict)
		if !strings.Contains(err.Error(), `"dev"`) || !strings.Contains(err.Error(), strconv.Itoa(len(ids)-i)+" credential") {
			t.Errorf("conflict error %q does not name the cluster and the number of credentials", err)
		}
		mustGetCluster(t, s, "dev")
		if _, err := s.UpdateCredential(ctx, id, func(c store.IssuedCredential) (store.IssuedCredential, error) {
			c.State, c.DroppedAt = store.CredentialDropped, base
			return c, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteCluster(ctx, "dev"); err != nil {
		t.Fatalf("DeleteCluster once every credential is dropped: %v", err)
	}
	_, err := s.GetCluster(ctx, "dev")
	wantErr(t, "GetCluster after delete", err, store.ErrNotFound)
	for _, id := range ids {
		_, err := s.GetCredential(ctx, id)
		wantErr(t, "GetCredential of a deleted cluster's dropped credential", err, store.ErrNotFound)
	}
	checkCredential(t, "another cluster's credential", mustGetCredential(t, s, keep.ID), keep)

	// A cluster registered again under the same identifier starts afresh.
	mustCreateCluster(t, s, newCluster("dev"))
	if cs, err := s.ListCredentialsByCluster(ctx, "dev", nil, 0); err != nil || len(cs) != 0 {
		t.Errorf("credentials of the re-registered cluster = %v, %v; want none", credentialIDs(cs), err)
	}
	mustCreateCredential(t, s, newCredential(ids[0], "dev", "alice", base))
}

func testConcurrentDeleteClusterAndCredential(t *testing.T, s store.Store) {
	ctx := t.Context()
	const rounds = 20
	deleted, refused := 0, 0
	for i := range rounds {
		id := fmt.Sprintf("c%d", i)
		mustCreateCluster(t, s, newCluster(id))
		var delErr, createErr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() { <-start; delErr = s.DeleteCluster(ctx, id) })
		wg.Go(func() { <-start; createErr = s.CreateCredential(ctx, newCredential("cred-"+id, id, "alice", base)) })
		close(start)
		wg.Wait()
		_, getErr := s.GetCredential(ctx, "cred-"+id)
		switch {
		case delErr == nil && errors.Is(createErr, store.ErrNotFound):
			deleted++
			if getErr == nil {
				t.Errorf("round %d: cluster deleted, yet its credential exists", i)
			}
		case errors.Is(delErr, store.ErrConflict) && createErr == nil:
			refused++
			if getErr != nil {
				t.Errorf("round %d: delete refused, yet the credential is missing: %v", i, getErr)
			}
			mustGetCluster(t, s, id)
		default:
			t.Fatalf("round %d: delete: %v; create credential: %v", i, delErr, createErr)
		}
	}
	t.Logf("delete won %d times, the credential %d times", deleted, refused)
}

func testCredentialCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetCredential(ctx, "cred-1")
	wantErr(t, "GetCredential on an empty store", err, store.ErrNotFound)
	if !strings.Contains(err.Error(), "cred-1") {
		t.Errorf("error %q does not name the credential", err)
	}
	wantErr(t, "CreateCredential for a missing cluster",
		s.CreateCredential(ctx, newCredential("cred-1", "ghost", "alice", base)), store.ErrNotFound)
	_, err = s.GetCredential(ctx, "cred-1")
	wantErr(t, "GetCredential of the refused credential", err, store.ErrNotFound)

	mustCreateCluster(t, s, newCluster("dev"))
	wantErr(t, "CreateCredential for a cluster in another case",
		s.CreateCredential(ctx, newCredential("cred-1", "DEV", "alice", base)), store.ErrNotFound)

	zone := time.FixedZone("UTC+9", 9*3600)
	created := time.Date(2025, 6, 30, 23, 59, 59, 999999999, zone)
	full := store.IssuedCredential{
		ID:            "cred-1",
		Cluster:       "dev",
		LoginRole:     "IAMA:alice@example.com:7f3a",
		DbUser:        "alice@example.com",
		DbName:        "analytics",
		Groups:        []string{"readers", "Writers", "ünïcode group", "readers"},
		AutoCreate:    true,
		Principal:     "arn:aws:sts::123456789012:assumed-role/Analyst/alice@example.com",
		RequestID:     "5b5d5e2c-6f7a-4a6e-9a1b-0c1d2e3f4a5b",
		CreatedAt:     created,
		ExpiresAt:     created.Add(15 * time.Minute),
		State:         store.CredentialIssuing,
		Attempts:      2,
		NextAttemptAt: created.Add(20*time.Minute + 1),
		LastError:     `connect: "refused"`,
		DroppedAt:     created.Add(time.Hour + 1),
		ClaimOwner:    "replica-1",
	}
	mustCreateCredential(t, s, full)
	want := full
	want.CreatedAt, want.ExpiresAt, want.NextAttemptAt, want.DroppedAt = stored(full.CreatedAt), stored(full.ExpiresAt), stored(full.NextAttemptAt), stored(full.DroppedAt)
	checkCredential(t, "GetCredential", mustGetCredential(t, s, "cred-1"), want)

	minimal := newCredential("cred-2", "dev", "bob", base)
	mustCreateCredential(t, s, minimal)
	got := mustGetCredential(t, s, "cred-2")
	checkCredential(t, "credential with defaults", got, minimal)
	if got.Groups != nil || !got.DroppedAt.IsZero() {
		t.Errorf("credential without groups and not dropped: Groups %#v, DroppedAt %v; want nil and zero", got.Groups, got.DroppedAt)
	}
	empty := newCredential("cred-3", "dev", "bob", base)
	empty.Groups = []string{}
	mustCreateCredential(t, s, empty)
	if got := mustGetCredential(t, s, "cred-3"); got.Groups != nil {
		t.Errorf("credential with an empty group list: Groups %#v, want nil", got.Groups)
	}

	dupID := newCredential("cred-1", "dev", "carol", base)
	wantErr(t, "CreateCredential with a taken ID", s.CreateCredential(ctx, dupID), store.ErrAlreadyExists)
	checkCredential(t, "credential after a refused create", mustGetCredential(t, s, "cred-1"), want)

	for _, state := range []string{"", "Active", "expired", "dropped "} {
		c := newCredential("cred-bad", "dev", "alice", base)
		c.State = state
		if err := s.CreateCredential(ctx, c); err == nil || isSentinel(err) {
			t.Errorf("CreateCredential with state %q: %v, want a non-sentinel error", state, err)
		}
	}
	_, err = s.GetCredential(ctx, "cred-bad")
	wantErr(t, "GetCredential of a credential refused for its state", err, store.ErrNotFound)
}

func testCredentialLoginRoleUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateCluster(t, s, newCluster("dev"))
	mustCreateCluster(t, s, newCluster("prod"))
	a := newCredential("a", "dev", "alice", base)
	a.LoginRole = "IAM:alice:1"
	mustCreateCredential(t, s, a)

	b := newCredential("b", "dev", "bob", base)
	b.LoginRole = a.LoginRole
	wantErr(t, "CreateCredential with a login role taken on the cluster", s.CreateCredential(ctx, b), store.ErrAlreadyExists)
	_, err := s.GetCredential(ctx, "b")
	wantErr(t, "GetCredential of the refused credential", err, store.ErrNotFound)

	// Dropped or not, the pair stays taken while the record exists.
	if _, err := s.UpdateCredential(ctx, "a", func(c store.IssuedCredential) (store.IssuedCredential, error) {
		c.State, c.DroppedAt = store.CredentialDropped, base
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateCredential with a login role of a dropped credential", s.CreateCredential(ctx, b), store.ErrAlreadyExists)

	// The same name on another cluster, or in another case, is another role.
	b.Cluster = "prod"
	mustCreateCredential(t, s, b)
	c := newCredential("c", "dev", "alice", base)
	c.LoginRole = "iam:alice:1"
	mustCreateCredential(t, s, c)
}

func testUpdateCredential(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateCluster(t, s, newCluster("dev"))
	mustCreateCluster(t, s, newCluster("prod"))
	c := newCredential("cred-1", "dev", "alice", base)
	c.State = store.CredentialIssuing
	c.Groups = []string{"readers"}
	mustCreateCredential(t, s, c)

	errAbort := errors.New("abort")
	if _, err := s.UpdateCredential(ctx, c.ID, func(old store.IssuedCredential) (store.IssuedCredential, error) {
		old.State = store.CredentialActive
		old.Groups[0] = "changed"
		return old, errAbort
	}); !errors.Is(err, errAbort) {
		t.Fatalf("UpdateCredential with a failing fn: %v, want the fn's error", err)
	}
	checkCredential(t, "credential after an aborted update", mustGetCredential(t, s, c.ID), c)

	called := false
	_, err := s.UpdateCredential(ctx, "nope", func(old store.IssuedCredential) (store.IssuedCredential, error) {
		called = true
		return old, nil
	})
	wantErr(t, "UpdateCredential(nope)", err, store.ErrNotFound)
	if called {
		t.Error("UpdateCredential called fn for a missing credential")
	}

	for name, change := range map[string]func(*store.IssuedCredential){
		"ID":            func(c *store.IssuedCredential) { c.ID = "cred-2" },
		"Cluster":       func(c *store.IssuedCredential) { c.Cluster = "prod" },
		"LoginRole":     func(c *store.IssuedCredential) { c.LoginRole = "IAM:other" },
		"DbUser":        func(c *store.IssuedCredential) { c.DbUser = "Alice" },
		"CreatedAt":     func(c *store.IssuedCredential) { c.CreatedAt = c.CreatedAt.Add(time.Microsecond) },
		"unknown State": func(c *store.IssuedCredential) { c.State = "gone" },
	} {
		_, err := s.UpdateCredential(ctx, c.ID, func(old store.IssuedCredential) (store.IssuedCredential, error) {
			old.LastError = "should not stick"
			change(&old)
			return old, nil
		})
		if err == nil || isSentinel(err) {
			t.Errorf("UpdateCredential changing %s: %v, want a non-sentinel error", name, err)
		}
		checkCredential(t, "credential after a refused change of "+name, mustGetCredential(t, s, c.ID), c)
	}
	if _, err := s.GetCredential(ctx, "cred-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused ID change created a credential: %v", err)
	}

	zone := time.FixedZone("UTC-3", -3*3600)
	next := time.Date(2025, 3, 14, 20, 0, 0, 123456789, zone)
	dropped := next.Add(time.Minute)
	got, err := s.UpdateCredential(ctx, c.ID, func(old store.IssuedCredential) (store.IssuedCredential, error) {
		checkCredential(t, "fn argument", old, c)
		old.DbName = "dev"
		old.Groups = []string{"b", "a"}
		old.AutoCreate = true
		old.Principal = "arn:aws:iam::123456789012:user/alice2"
		old.RequestID = "req-2"
		old.ExpiresAt = old.ExpiresAt.Add(-time.Minute)
		old.State = store.CredentialDropped
		old.Attempts = 3
		old.NextAttemptAt = next
		old.LastError = "session still open"
		old.DroppedAt = dropped
		old.ClaimOwner = "replica-2"
		old.CreatedAt = old.CreatedAt.Add(time.Nanosecond) // below the store's precision: no change
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.DbName, c.Groups, c.AutoCreate = "dev", []string{"b", "a"}, true
	c.Principal, c.RequestID = "arn:aws:iam::123456789012:user/alice2", "req-2"
	c.ExpiresAt = c.ExpiresAt.Add(-time.Minute)
	c.State, c.Attempts, c.NextAttemptAt, c.LastError = store.CredentialDropped, 3, stored(next), "session still open"
	c.DroppedAt, c.ClaimOwner = stored(dropped), "replica-2"
	checkCredential(t, "UpdateCredential result", got, c)
	checkCredential(t, "GetCredential after UpdateCredential", mustGetCredential(t, s, c.ID), c)

	// Back to no groups, not dropped, unclaimed.
	got, err = s.UpdateCredential(ctx, c.ID, func(old store.IssuedCredential) (store.IssuedCredential, error) {
		old.Groups, old.DroppedAt, old.ClaimOwner, old.State = nil, time.Time{}, "", store.CredentialRevoking
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Groups, c.DroppedAt, c.ClaimOwner, c.State = nil, time.Time{}, "", store.CredentialRevoking
	checkCredential(t, "credential after clearing", got, c)
	checkCredential(t, "GetCredential after clearing", mustGetCredential(t, s, c.ID), c)
}

func testConcurrentUpdateCredential(t *testing.T, s store.Store) {
	const workers, increments = 8, 25
	mustCreateCluster(t, s, newCluster("dev"))
	c := newCredential("cred", "dev", "alice", base)
	mustCreateCredential(t, s, c)

	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range workers {
		wg.Go(func() {
			for range increments {
				if _, err := s.UpdateCredential(t.Context(), c.ID, func(c store.IssuedCredential) (store.IssuedCredential, error) {
					c.Attempts++
					c.NextAttemptAt = c.NextAttemptAt.Add(time.Second)
					c.LastError += strconv.Itoa(w)
					return c, nil
				}); err != nil {
					t.Errorf("concurrent UpdateCredential: %v", err)
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return
	}
	got := mustGetCredential(t, s, c.ID)
	const n = workers * increments
	if got.Attempts != n || !got.NextAttemptAt.Equal(c.NextAttemptAt.Add(n*time.Second)) || len(got.LastError) != n {
		t.Errorf("after %d updates: Attempts %d, NextAttemptAt %v, LastError of %d bytes: updates were lost", n, got.Attempts, got.NextAttemptAt, len(got.LastError))
	}
}

func testListCredentialsByCluster(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.ListCredentialsByCluster(ctx, "ghost", nil, 0)
	wantErr(t, "ListCredentialsByCluster of a missing cluster", err, store.ErrNotFound)
	mustCreateCluster(t, s, newCluster("dev"))
	mustCreateCluster(t, s, newCluster("other"))
	cs, err := s.ListCredentialsByCluster(ctx, "dev", nil, 0)
	if err != nil || cs == nil || len(cs) != 0 {
		t.Fatalf("ListCredentialsByCluster without credentials = %#v, %v; want empty, non-nil", cs, err)
	}

	// Created out of order; "b" and "a" share a creation time (then by ID).
	states := map[string]string{}
	var all []string
	for i, id := range []string{"e", "b", "a", "d", "c", "f"} {
		created := base.Add(time.Duration(5-i) * time.Minute)
		if id == "a" {
			created = base.Add(4 * time.Minute) // same as "b"
		}
		c := newCredential(id, "dev", "alice", created)
		c.State = []string{store.CredentialActive, store.CredentialDropped, store.CredentialIssuing,
			store.CredentialFailed, store.CredentialRevoking, store.CredentialActive}[i]
		states[id] = c.State
		mustCreateCredential(t, s, c)
	}
	mustCreateCredential(t, s, newCredential("other-1", "other", "alice", base))
	all = []string{"f", "c", "d", "a", "b", "e"}

	for _, tc := range []struct {
		states []string
		limit  int
		want   []string
	}{
		{nil, 0, all},
		{[]string{}, 0, all},
		{nil, -1, all},
		{nil, 3, all[:3]},
		{nil, 100, all},
		{[]string{store.CredentialActive}, 0, []string{"f", "e"}},
		{[]string{store.CredentialActive}, 1, []string{"f"}},
		{[]string{store.CredentialIssuing, store.CredentialRevoking, store.CredentialFailed}, 0, []string{"c", "d", "a"}},
		{[]string{store.CredentialDropped}, 0, []string{"b"}},
		{[]string{"unknown"}, 0, []string{}},
	} {
		cs, err := s.ListCredentialsByCluster(ctx, "dev", tc.states, tc.limit)
		if err != nil {
			t.Fatalf("ListCredentialsByCluster(%v, %d): %v", tc.states, tc.limit, err)
		}
		if got := credentialIDs(cs); !slices.Equal(got, tc.want) || cs == nil {
			t.Errorf("ListCredentialsByCluster(%v, %d) = %v, want %v", tc.states, tc.limit, got, tc.want)
		}
		for _, c := range cs {
			if c.State != states[c.ID] || c.Cluster != "dev" {
				t.Errorf("listed credential %s: state %q, cluster %q", c.ID, c.State, c.Cluster)
			}
		}
	}
	cs, err = s.ListCredentialsByCluster(ctx, "dev", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := newCredential("f", "dev", "alice", base)
	checkCredential(t, "listed credential", cs[0], want)
}

// dueFixture registers cluster "dev" and creates, at now, due and not-due
// credentials; it returns the ids of the due ones, oldest first.
func dueFixture(t *testing.T, s store.Store, now time.Time, due int) []string {
	t.Helper()
	mustCreateCluster(t, s, newCluster("dev"))
	states := []string{store.CredentialActive, store.CredentialIssuing, store.CredentialRevoking, store.CredentialFailed}
	var ids []string
	for i := range due {
		id := fmt.Sprintf("due-%02d", i)
		c := newCredential(id, "dev", fmt.Sprintf("user%d", i%3), now.Add(-2*time.Hour+time.Duration(i)*time.Second))
		c.State = states[i%len(states)]
		c.ExpiresAt = now.Add(-time.Duration(due-i) * time.Second)
		c.NextAttemptAt = c.ExpiresAt
		switch i % 5 {
		case 0:
			c.ExpiresAt = now // expired at now: due
		case 1:
			c.NextAttemptAt = now // backoff ends at now: due
		case 2:
			c.NextAttemptAt = time.Time{} // never set: due
		}
		mustCreateCredential(t, s, c)
		ids = append(ids, id)
	}
	notDue := map[string]func(*store.IssuedCredential){
		"not-expired":       func(c *store.IssuedCredential) { c.ExpiresAt = now.Add(time.Microsecond) },
		"backing-off":       func(c *store.IssuedCredential) { c.NextAttemptAt = now.Add(time.Microsecond) },
		"dropped":           func(c *store.IssuedCredential) { c.State, c.DroppedAt = store.CredentialDropped, now.Add(-time.Hour) },
		"live":              func(c *store.IssuedCredential) { c.ExpiresAt, c.NextAttemptAt = now.Add(time.Hour), now.Add(time.Hour) },
		"issuing-not-yet":   func(c *store.IssuedCredential) { c.State, c.ExpiresAt = store.CredentialIssuing, now.Add(24*time.Hour) },
		"failed-backed-off": func(c *store.IssuedCredential) { c.State, c.NextAttemptAt = store.CredentialFailed, now.Add(time.Hour) },
	}
	for id, change := range notDue {
		c := newCredential(id, "dev", "alice", now.Add(-3*time.Hour)) // older than every due one
		c.ExpiresAt, c.NextAttemptAt = now.Add(-time.Hour), now.Add(-time.Hour)
		change(&c)
		mustCreateCredential(t, s, c)
	}
	return ids
}

func testDueCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := base
	cs, err := s.DueCredentials(ctx, now, 0)
	if err != nil || cs == nil || len(cs) != 0 {
		t.Fatalf("DueCredentials on an empty store = %#v, %v; want empty, non-nil", cs, err)
	}
	ids := dueFixture(t, s, now, 12)
	cs, err = s.DueCredentials(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "DueCredentials", credentialIDs(cs), ids)
	cs, err = s.DueCredentials(ctx, now, 5)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "DueCredentials(limit 5)", credentialIDs(cs), ids[:5])
	// Reading does not claim.
	for _, c := range cs {
		if c.ClaimOwner != "" {
			t.Errorf("DueCredentials claimed %s for %q", c.ID, c.ClaimOwner)
		}
	}
	cs, err = s.DueCredentials(ctx, now.Add(-time.Hour-time.Microsecond), 0)
	if err != nil || len(cs) != 0 {
		t.Errorf("DueCredentials before anything expired = %v, %v; want none", credentialIDs(cs), err)
	}
}

func testClaimDueCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := base
	const lease = 2 * time.Minute
	if _, err := s.ClaimDueCredentials(ctx, now, "a", 0, 10); err == nil {
		t.Error("ClaimDueCredentials with lease 0 succeeded")
	}
	if _, err := s.ClaimDueCredentials(ctx, now, "", lease, 10); err == nil {
		t.Error("ClaimDueCredentials with an empty owner succeeded")
	}
	cs, err := s.ClaimDueCredentials(ctx, now, "a", lease, 10)
	if err != nil || cs == nil || len(cs) != 0 {
		t.Fatalf("ClaimDueCredentials on an empty store = %#v, %v; want empty, non-nil", cs, err)
	}
	ids := dueFixture(t, s, now, 12)
	before := map[string]store.IssuedCredential{}
	for _, id := range ids {
		before[id] = mustGetCredential(t, s, id)
	}

	// The oldest first, at most limit; only NextAttemptAt and ClaimOwner
	// change.
	claimed, err := s.ClaimDueCredentials(ctx, now, "a", lease, 5)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "first claim", credentialIDs(claimed), ids[:5])
	for _, c := range claimed {
		want := before[c.ID]
		want.NextAttemptAt, want.ClaimOwner = stored(now.Add(lease)), "a"
		checkCredential(t, "claimed credential", c, want)
		checkCredential(t, "claimed credential read back", mustGetCredential(t, s, c.ID), want)
	}
	// Claimed rows are not due, for anybody, until the lease ends.
	claimed, err = s.ClaimDueCredentials(ctx, now, "b", lease, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "second claim (no limit)", credentialIDs(claimed), ids[5:])
	if cs, err := s.ClaimDueCredentials(ctx, now, "c", lease, 0); err != nil || len(cs) != 0 {
		t.Errorf("claim within the lease = %v, %v; want none", credentialIDs(cs), err)
	}
	// A microsecond before the lease ends, only the two credentials that
	// were not due at now yet are.
	if cs, err := s.DueCredentials(ctx, now.Add(lease-time.Microsecond), 0); err != nil {
		t.Fatal(err)
	} else {
		wantNames(t, "due within the lease", credentialIDs(cs), []string{"backing-off", "not-expired"})
	}

	// The worker finishes some: a dropped or backed-off credential is not
	// due when the lease ends; the others (the worker died) are.
	end := now.Add(lease)
	if _, err := s.UpdateCredential(ctx, ids[0], func(c store.IssuedCredential) (store.IssuedCredential, error) {
		c.State, c.DroppedAt, c.ClaimOwner = store.CredentialDropped, now.Add(time.Second), ""
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateCredential(ctx, ids[1], func(c store.IssuedCredential) (store.IssuedCredential, error) {
		c.Attempts++
		c.NextAttemptAt, c.LastError = end.Add(time.Minute), "cluster unreachable"
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	// At the end of the lease, "not-expired" and "backing-off" (due at
	// now+1µs) are due as well; they are older than every other.
	wantAgain := append([]string{"backing-off", "not-expired"}, ids[2:]...)
	cs, err = s.DueCredentials(ctx, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "due when the lease ended", credentialIDs(cs), wantAgain)
	claimed, err = s.ClaimDueCredentials(ctx, end, "c", lease, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "claim when the lease ended", credentialIDs(claimed), wantAgain)
	for _, c := range claimed {
		if c.ClaimOwner != "c" || !c.NextAttemptAt.Equal(stored(end.Add(lease))) {
			t.Errorf("reclaimed %s: owner %q, NextAttemptAt %v", c.ID, c.ClaimOwner, c.NextAttemptAt)
		}
	}
	cs, err = s.ClaimDueCredentials(ctx, end.Add(time.Minute), "d", lease, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "claim when the backoff ended", credentialIDs(cs), ids[1:2])
}

func testClaimDueCredentialsConcurrent(t *testing.T, s store.Store) {
	const (
		due     = 50
		workers = 8 // two replicas with four goroutines each
		batch   = 3
		lease   = time.Minute
		rounds  = 3
	)
	ids := dueFixture(t, s, base, due)
	for round := range rounds {
		// Every round starts when the previous round's leases ended, so the
		// same rows are due again.
		now := base.Add(time.Duration(round) * lease)
		var mu sync.Mutex
		claims := map[string][]string{} // id -> owners that claimed it
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range workers {
			owner := fmt.Sprintf("replica-%c", 'a'+w%2)
			wg.Go(func() {
				<-start
				for calls := 0; calls <= due; calls++ {
					cs, err := s.ClaimDueCredentials(t.Context(), now, owner, lease, batch)
					if err != nil {
						t.Errorf("ClaimDueCredentials: %v", err)
						return
					}
					if len(cs) == 0 {
						return
					}
					if len(cs) > batch {
						t.Errorf("ClaimDueCredentials(limit %d) returned %d", batch, len(cs))
					}
					if !slices.IsSortedFunc(cs, func(a, b store.IssuedCredential) int { return strings.Compare(a.ID, b.ID) }) {
						t.Errorf("claimed out of order: %v", credentialIDs(cs))
					}
					mu.Lock()
					for _, c := range cs {
						claims[c.ID] = append(claims[c.ID], owner)
						if c.ClaimOwner != owner || !c.NextAttemptAt.Equal(stored(now.Add(lease))) {
							t.Errorf("%s claimed by %s comes back with owner %q, NextAttemptAt %v", c.ID, owner, c.ClaimOwner, c.NextAttemptAt)
						}
					}
					mu.Unlock()
				}
				t.Errorf("%s: claims do not end", owner)
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
		if len(claims) != due {
			t.Errorf("round %d: %d of %d due credentials claimed", round, len(claims), due)
		}
		for id, owners := range claims {
			if !slices.Contains(ids, id) {
				t.Errorf("round %d: %s is not due, yet %v claimed it", round, id, owners)
			} else if len(owners) != 1 {
				t.Errorf("round %d: %s claimed %d times within one lease (%v)", round, id, len(owners), owners)
			}
		}
		if cs, err := s.ClaimDueCredentials(t.Context(), now, "late", lease, 0); err != nil || len(cs) != 0 {
			t.Errorf("round %d: a claim after everything was claimed = %v, %v", round, credentialIDs(cs), err)
		}
		// The boundary rows of the fixture become due with the first
		// lease's end; drop them so that every round races for the same 50.
		if round == 0 {
			for _, id := range []string{"not-expired", "backing-off"} {
				if _, err := s.UpdateCredential(t.Context(), id, func(c store.IssuedCredential) (store.IssuedCredential, error) {
					c.State, c.DroppedAt = store.CredentialDropped, now
					return c, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func testActiveGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := base
	groups, err := s.ActiveGroups(ctx, "dev", "alice", now)
	if err != nil || groups == nil || len(groups) != 0 {
		t.Fatalf("ActiveGroups on an empty store = %#v, %v; want empty, non-nil", groups, err)
	}
	mustCreateCluster(t, s, newCluster("dev"))
	mustCreateCluster(t, s, newCluster("prod"))
	add := func(id, cluster, user, state string, expires time.Time, groups ...string) {
		t.Helper()
		c := newCredential(id, cluster, user, now.Add(-time.Hour))
		c.State, c.ExpiresAt, c.Groups = state, expires, groups
		if state == store.CredentialDropped {
			c.DroppedAt = now
		}
		mustCreateCredential(t, s, c)
	}
	later := now.Add(10 * time.Minute)
	add("a", "dev", "alice", store.CredentialActive, later, "readers", "writers")
	add("b", "dev", "alice", store.CredentialIssuing, later, "writers", "Writers", "ünï")
	add("c", "dev", "alice", store.CredentialRevoking, later, "ops")
	add("d", "dev", "alice", store.CredentialFailed, later, "failed-but-unexpired")
	add("e", "dev", "alice", store.CredentialActive, now, "expired-at-now")
	add("f", "dev", "alice", store.CredentialActive, now.Add(-time.Minute), "expired")
	add("g", "dev", "alice", store.CredentialDropped, later, "dropped-early")
	add("h", "dev", "bob", store.CredentialActive, later, "bobs")
	add("i", "dev", "Alice", store.CredentialActive, later, "other-case-user")
	add("j", "prod", "alice", store.CredentialActive, later, "prod-only")
	add("k", "dev", "alice", store.CredentialActive, later) // no groups

	want := []string{"Writers", "failed-but-unexpired", "ops", "readers", "writers", "ünï"}
	groups, err = s.ActiveGroups(ctx, "dev", "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ActiveGroups", groups, want)
	groups, err = s.ActiveGroups(ctx, "dev", "alice", now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ActiveGroups a minute earlier", groups, []string{"Writers", "expired-at-now", "failed-but-unexpired", "ops", "readers", "writers", "ünï"})
	groups, err = s.ActiveGroups(ctx, "dev", "alice", later)
	if err != nil || len(groups) != 0 || groups == nil {
		t.Errorf("ActiveGroups once everything expired = %#v, %v; want empty, non-nil", groups, err)
	}
	groups, err = s.ActiveGroups(ctx, "ghost", "alice", now)
	if err != nil || len(groups) != 0 || groups == nil {
		t.Errorf("ActiveGroups of an unknown cluster = %#v, %v; want empty, non-nil", groups, err)
	}

	// Dropping a credential ends its groups' need even before expiry.
	if _, err := s.UpdateCredential(ctx, "a", func(c store.IssuedCredential) (store.IssuedCredential, error) {
		c.State, c.DroppedAt = store.CredentialDropped, now
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	groups, err = s.ActiveGroups(ctx, "dev", "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ActiveGroups after a drop", groups, []string{"Writers", "failed-but-unexpired", "ops", "writers", "ünï"})
}

func testPurgeCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n, err := s.PurgeCredentials(ctx, base); err != nil || n != 0 {
		t.Fatalf("PurgeCredentials on an empty store = %d, %v", n, err)
	}
	mustCreateCluster(t, s, newCluster("dev"))
	cutoff := base
	add := func(id, state string, dropped time.Time) {
		t.Helper()
		c := newCredential(id, "dev", "alice", base.Add(-48*time.Hour))
		c.State, c.DroppedAt = state, dropped
		mustCreateCredential(t, s, c)
	}
	add("old-1", store.CredentialDropped, cutoff.Add(-24*time.Hour))
	add("old-2", store.CredentialDropped, cutoff.Add(-time.Microsecond))
	add("at-cutoff", store.CredentialDropped, cutoff)
	add("recent", store.CredentialDropped, cutoff.Add(time.Hour))
	add("no-time", store.CredentialDropped, time.Time{})
	add("failed", store.CredentialFailed, cutoff.Add(-24*time.Hour))
	add("active", store.CredentialActive, time.Time{})
	if n, err := s.PurgeCredentials(ctx, cutoff); err != nil || n != 2 {
		t.Fatalf("PurgeCredentials = %d, %v; want 2", n, err)
	}
	if n, err := s.PurgeCredentials(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("second PurgeCredentials = %d, %v; want 0", n, err)
	}
	for _, id := range []string{"old-1", "old-2"} {
		_, err := s.GetCredential(ctx, id)
		wantErr(t, "GetCredential of a purged record", err, store.ErrNotFound)
	}
	cs, err := s.ListCredentialsByCluster(ctx, "dev", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := credentialIDs(cs)
	slices.Sort(got)
	wantNames(t, "records left", got, []string{"active", "at-cutoff", "failed", "no-time", "recent"})
	// The login role of a purged record is free again.
	c := newCredential("again", "dev", "alice", base)
	c.LoginRole = "IAM:alice:old-1"
	mustCreateCredential(t, s, c)
}

func testCountCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	if c, err := s.CountCredentials(ctx, base); err != nil || c != (store.CredentialCounts{}) {
		t.Fatalf("CountCredentials on an empty store = %+v, %v", c, err)
	}
	mustCreateCluster(t, s, newCluster("counted"))
	now := base.Add(90 * time.Minute)
	for i, c := range []struct {
		created time.Time
		state   string
	}{
		{base, store.CredentialActive},                       // expired at now
		{base, store.CredentialFailed},                       // expired
		{base, store.CredentialRevoking},                     // expired
		{base, store.CredentialDropped},                      // history: not counted
		{base.Add(time.Hour), store.CredentialActive},        // live until base+2h
		{base.Add(time.Hour), store.CredentialIssuing},       // live
		{base.Add(30 * time.Minute), store.CredentialActive}, // expires exactly at now: expired
		{base.Add(time.Hour), store.CredentialFailed},        // never handed out, not expired: neither
	} {
		cred := newCredential(fmt.Sprintf("cred-count-%d", i), "counted", "alice", c.created)
		cred.State = c.state
		if c.state == store.CredentialDropped {
			cred.DroppedAt = c.created
		}
		mustCreateCredential(t, s, cred)
	}
	c, err := s.CountCredentials(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if c != (store.CredentialCounts{Live: 2, Expired: 4}) {
		t.Errorf("CountCredentials = %+v, want 2 live and 4 expired", c)
	}
}
