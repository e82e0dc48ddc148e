package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/store"
)

// Run runs the conformance suite. newStore must return a new, empty store
// for each call (each subtest calls it once); Run closes it when the subtest
// ends.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"UserCRUD", testUserCRUD},
		{"UserNameCaseInsensitive", testUserNameCaseInsensitive},
		{"ListUsersPagination", testListUsersPagination},
		{"UserTags", testUserTags},
		{"UpdateUserAtomic", testUpdateUserAtomic},
		{"RenameUser", testRenameUser},
		{"ConcurrentUpdateUser", testConcurrentUpdateUser},
		{"AccessKeyCRUD", testAccessKeyCRUD},
		{"AccessKeyForeignKey", testAccessKeyForeignKey},
		{"SealedSecretRoundTrip", testSealedSecretRoundTrip},
		{"UpdateAccessKey", testUpdateAccessKey},
		{"ConcurrentUpdateAccessKey", testConcurrentUpdateAccessKey},
		{"RecordOnce", testRecordOnce},
		{"RecordOnceConcurrent", testRecordOnceConcurrent},
		{"PurgeReplay", testPurgeReplay},
		{"Claim", testClaim},
		{"ClaimConcurrent", testClaimConcurrent},
		{"TimePrecision", testTimePrecision},
	}
	tests = append(tests, iamTests()...)
	tests = append(tests, clusterTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// base is an arbitrary fixed "now"; the store never reads the clock.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func newUser(name string) store.User {
	return store.User{
		Name:      name,
		Path:      "/",
		ID:        "AIDA" + strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(name)) + "ID",
		CreatedAt: base,
	}
}

func newKey(id, user string, created time.Time) store.AccessKey {
	secret := make([]byte, 60)
	_, _ = rand.Read(secret)
	return store.AccessKey{
		ID:           id,
		UserName:     user,
		SealedSecret: secret,
		Status:       store.StatusActive,
		CreatedAt:    created,
	}
}

func mustCreateUser(t *testing.T, s store.Store, u store.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Name, err)
	}
}

func mustCreateKey(t *testing.T, s store.Store, k store.AccessKey) {
	t.Helper()
	if err := s.CreateAccessKey(t.Context(), k, 0); err != nil {
		t.Fatalf("CreateAccessKey(%q): %v", k.ID, err)
	}
}

func mustGetUser(t *testing.T, s store.Store, name string) store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), name)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", name, err)
	}
	return u
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// diffUser describes how got differs from want ("" when equal). Times are
// compared with Equal and must be in UTC; nil and empty tags are equal.
func diffUser(got, want store.User) string {
	var d []string
	if got.Name != want.Name {
		d = append(d, fmt.Sprintf("Name %q, want %q", got.Name, want.Name))
	}
	if got.Path != want.Path {
		d = append(d, fmt.Sprintf("Path %q, want %q", got.Path, want.Path))
	}
	if got.ID != want.ID {
		d = append(d, fmt.Sprintf("ID %q, want %q", got.ID, want.ID))
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		d = append(d, fmt.Sprintf("CreatedAt %v, want %v (UTC)", got.CreatedAt, want.CreatedAt))
	}
	if !maps.Equal(got.Tags, want.Tags) {
		d = append(d, fmt.Sprintf("Tags %v, want %v", got.Tags, want.Tags))
	}
	if got.PermissionsBoundary != want.PermissionsBoundary {
		d = append(d, fmt.Sprintf("PermissionsBoundary %q, want %q", got.PermissionsBoundary, want.PermissionsBoundary))
	}
	return strings.Join(d, "; ")
}

// diffKey is diffUser for access keys. It never prints secret bytes.
func diffKey(got, want store.AccessKey) string {
	var d []string
	if got.ID != want.ID {
		d = append(d, fmt.Sprintf("ID %q, want %q", got.ID, want.ID))
	}
	if got.UserName != want.UserName {
		d = append(d, fmt.Sprintf("UserName %q, want %q", got.UserName, want.UserName))
	}
	if !bytes.Equal(got.SealedSecret, want.SealedSecret) {
		d = append(d, fmt.Sprintf("SealedSecret differs (%d bytes, want %d)", len(got.SealedSecret), len(want.SealedSecret)))
	}
	if got.Status != want.Status {
		d = append(d, fmt.Sprintf("Status %q, want %q", got.Status, want.Status))
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		d = append(d, fmt.Sprintf("CreatedAt %v, want %v (UTC)", got.CreatedAt, want.CreatedAt))
	}
	if !got.LastUsedAt.Equal(want.LastUsedAt) || (!got.LastUsedAt.IsZero() && got.LastUsedAt.Location() != time.UTC) {
		d = append(d, fmt.Sprintf("LastUsedAt %v, want %v (UTC)", got.LastUsedAt, want.LastUsedAt))
	}
	return strings.Join(d, "; ")
}

func checkUser(t *testing.T, what string, got, want store.User) {
	t.Helper()
	if d := diffUser(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

func checkKey(t *testing.T, what string, got, want store.AccessKey) {
	t.Helper()
	if d := diffKey(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testUserCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetUser(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser on an empty store: %v, want ErrNotFound", err)
	}
	alice := newUser("alice")
	alice.Path = "/engineering/"
	mustCreateUser(t, s, alice)
	checkUser(t, "GetUser", mustGetUser(t, s, "alice"), alice)

	wantErr(t, "CreateUser with a taken name", s.CreateUser(ctx, alice), store.ErrAlreadyExists)
	dupID := newUser("bob")
	dupID.ID = alice.ID
	wantErr(t, "CreateUser with a taken ID", s.CreateUser(ctx, dupID), store.ErrAlreadyExists)
	if _, err := s.GetUser(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed CreateUser left a user behind: %v", err)
	}

	_, err := s.GetUser(ctx, "nobody")
	wantErr(t, "GetUser(nobody)", err, store.ErrNotFound)
	if !strings.Contains(err.Error(), "nobody") {
		t.Errorf("error %q does not name the user", err)
	}

	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = s.GetUser(ctx, "alice")
	wantErr(t, "GetUser after DeleteUser", err, store.ErrNotFound)
	wantErr(t, "DeleteUser twice", s.DeleteUser(ctx, "alice"), store.ErrNotFound)

	// The name is free again.
	mustCreateUser(t, s, alice)
}

func testUserNameCaseInsensitive(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("Alice")
	mustCreateUser(t, s, u)
	other := newUser("aLICE")
	other.ID = "AIDAOTHER"
	wantErr(t, "CreateUser differing only in case", s.CreateUser(ctx, other), store.ErrAlreadyExists)
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		checkUser(t, "GetUser("+name+")", mustGetUser(t, s, name), u) // keeps the original spelling
	}
	if err := s.DeleteUser(ctx, "ALICE"); err != nil {
		t.Fatalf("DeleteUser(ALICE): %v", err)
	}
	_, err := s.GetUser(ctx, "Alice")
	wantErr(t, "GetUser after DeleteUser", err, store.ErrNotFound)
}

func testListUsersPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	users, marker, err := s.ListUsers(ctx, store.Page{})
	if err != nil || len(users) != 0 || marker != "" {
		t.Fatalf("ListUsers on an empty store = %d users, marker %q, %v", len(users), marker, err)
	}

	var want []string
	for i := range 25 {
		name := fmt.Sprintf("user-%02d", i)
		if i%3 == 0 {
			name = strings.ToUpper(name) // mixed case must sort case-insensitively
		}
		u := newUser(name)
		u.ID = fmt.Sprintf("AIDA%04d", i)
		want = append(want, name)
		mustCreateUser(t, s, u)
	}
	// Created in another order than the listing's.
	for _, name := range []string{"zed", "_first", "Mid"} {
		mustCreateUser(t, s, newUser(name))
		want = append(want, name)
	}
	slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })

	for _, size := range []int{1, 7, 10, 27, 28} {
		var got []string
		page := store.Page{MaxItems: size}
		for calls := 0; ; calls++ {
			if calls > len(want) {
				t.Fatalf("MaxItems %d: pagination does not end", size)
			}
			users, next, err := s.ListUsers(ctx, page)
			if err != nil {
				t.Fatalf("ListUsers(%+v): %v", page, err)
			}
			if len(users) > size {
				t.Fatalf("ListUsers(%+v) returned %d users", page, len(users))
			}
			if next != "" && len(users) != size {
				t.Fatalf("ListUsers(%+v) returned a short page (%d) with a marker", page, len(users))
			}
			for _, u := range users {
				got = append(got, u.Name)
			}
			if next == "" {
				break
			}
			page.Marker = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("MaxItems %d: listed %v, want %v", size, got, want)
		}
	}

	// MaxItems 0 means 100: everything in one page.
	users, marker, err = s.ListUsers(ctx, store.Page{})
	if err != nil || len(users) != len(want) || marker != "" {
		t.Errorf("ListUsers(default page) = %d users, marker %q, %v; want %d, \"\"", len(users), marker, err, len(want))
	}
	checkUser(t, "listed user", users[0], newUser("_first"))

	// A marker stays valid when the user it came from is deleted.
	first, next, err := s.ListUsers(ctx, store.Page{MaxItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, first[1].Name); err != nil {
		t.Fatal(err)
	}
	rest, _, err := s.ListUsers(ctx, store.Page{Marker: next, MaxItems: 1})
	if err != nil || len(rest) != 1 || rest[0].Name != want[2] {
		t.Errorf("page after a deleted marker user = %v, %v; want [%s]", rest, err, want[2])
	}
}

func testUserTags(t *testing.T, s store.Store) {
	tags := map[string]string{
		"team":         "platform",
		"empty":        "",
		"Unicode-ключ": "значение ✓",
		"quotes":       `"a" 'b' \c`,
		"aws:spaces":   " leading and trailing ",
	}
	u := newUser("tagged")
	u.Tags = maps.Clone(tags)
	mustCreateUser(t, s, u)
	checkUser(t, "GetUser", mustGetUser(t, s, "tagged"), u)

	plain := newUser("plain")
	mustCreateUser(t, s, plain)
	if got := mustGetUser(t, s, "plain"); len(got.Tags) != 0 {
		t.Errorf("user created without tags has %v", got.Tags)
	}

	updated, err := s.UpdateUser(t.Context(), "tagged", func(u store.User) (store.User, error) {
		delete(u.Tags, "team")
		u.Tags["new"] = "value"
		return u, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	delete(tags, "team")
	tags["new"] = "value"
	u.Tags = tags
	checkUser(t, "UpdateUser result", updated, u)
	checkUser(t, "GetUser after UpdateUser", mustGetUser(t, s, "tagged"), u)
}

func testUpdateUserAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("alice")
	u.Tags = map[string]string{"k": "v"}
	mustCreateUser(t, s, u)

	errAbort := errors.New("abort")
	_, err := s.UpdateUser(ctx, "alice", func(old store.User) (store.User, error) {
		old.Path = "/changed/"
		old.Tags["k"] = "changed"
		return old, errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateUser with a failing fn: %v, want the fn's error", err)
	}
	checkUser(t, "user after an aborted update", mustGetUser(t, s, "alice"), u)

	called := false
	_, err = s.UpdateUser(ctx, "nobody", func(old store.User) (store.User, error) {
		called = true
		return old, nil
	})
	wantErr(t, "UpdateUser(nobody)", err, store.ErrNotFound)
	if called {
		t.Error("UpdateUser called fn for a missing user")
	}

	got, err := s.UpdateUser(ctx, "ALICE", func(old store.User) (store.User, error) {
		checkUser(t, "fn argument", old, u)
		old.Path = "/new/"
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/new/"
	checkUser(t, "UpdateUser result", got, u)
	checkUser(t, "GetUser after UpdateUser", mustGetUser(t, s, "alice"), u)

	// Taking another user's ID is refused, and nothing is written.
	bob := newUser("bob")
	mustCreateUser(t, s, bob)
	_, err = s.UpdateUser(ctx, "alice", func(old store.User) (store.User, error) {
		old.ID = bob.ID
		old.Path = "/should-not-stick/"
		return old, nil
	})
	wantErr(t, "UpdateUser to a taken ID", err, store.ErrAlreadyExists)
	checkUser(t, "user after a refused update", mustGetUser(t, s, "alice"), u)
}

func testRenameUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	bob := newUser("bob")
	mustCreateUser(t, s, bob)
	mustCreateUser(t, s, newUser("carol"))
	key := newKey("AKIABOB1", "bob", base)
	mustCreateKey(t, s, key)

	renamed, err := s.UpdateUser(ctx, "bob", func(u store.User) (store.User, error) {
		u.Name = "Robert"
		return u, nil
	})
	if err != nil {
		t.Fatalf("rename: %v", err)
	}
	bob.Name = "Robert"
	checkUser(t, "rename result", renamed, bob)
	_, err = s.GetUser(ctx, "bob")
	wantErr(t, "GetUser(old name)", err, store.ErrNotFound)
	checkUser(t, "GetUser(new name)", mustGetUser(t, s, "robert"), bob)

	// The user's keys follow the rename.
	key.UserName = "Robert"
	k, err := s.GetAccessKey(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkKey(t, "key after rename", k, key)
	keys, err := s.ListAccessKeys(ctx, "ROBERT")
	if err != nil || len(keys) != 1 {
		t.Fatalf("ListAccessKeys(new name) = %v, %v", keys, err)
	}
	_, err = s.ListAccessKeys(ctx, "bob")
	wantErr(t, "ListAccessKeys(old name)", err, store.ErrNotFound)

	// Renaming onto another user (in any case) is refused, nothing changes.
	_, err = s.UpdateUser(ctx, "robert", func(u store.User) (store.User, error) {
		u.Name = "CAROL"
		u.Path = "/should-not-stick/"
		return u, nil
	})
	wantErr(t, "rename onto a taken name", err, store.ErrAlreadyExists)
	checkUser(t, "user after refused rename", mustGetUser(t, s, "robert"), bob)

	// Changing only the case is a rename too.
	if _, err := s.UpdateUser(ctx, "robert", func(u store.User) (store.User, error) {
		u.Name = "ROBERT"
		return u, nil
	}); err != nil {
		t.Fatalf("case-only rename: %v", err)
	}
	if got := mustGetUser(t, s, "Robert"); got.Name != "ROBERT" {
		t.Errorf("after case-only rename, Name = %q", got.Name)
	}

	// The old name is free for a new user.
	newBob := newUser("bob")
	newBob.ID = "AIDANEWBOB"
	mustCreateUser(t, s, newBob)
}

func testConcurrentUpdateUser(t *testing.T, s store.Store) {
	const workers, increments = 8, 25
	u := newUser("counter")
	u.Tags = map[string]string{"n": "0"}
	mustCreateUser(t, s, u)

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range increments {
				_, err := s.UpdateUser(t.Context(), "counter", func(u store.User) (store.User, error) {
					n, err := strconv.Atoi(u.Tags["n"])
					if err != nil {
						return u, err
					}
					u.Tags["n"] = strconv.Itoa(n + 1)
					return u, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent UpdateUser: %v", err)
	}
	if got, want := mustGetUser(t, s, "counter").Tags["n"], strconv.Itoa(workers*increments); got != want {
		t.Errorf("counter = %s after %d increments: updates were lost", got, workers*increments)
	}
}

func testAccessKeyCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("Alice"))
	mustCreateUser(t, s, newUser("bob"))

	keys, err := s.ListAccessKeys(ctx, "alice")
	if err != nil || len(keys) != 0 {
		t.Fatalf("ListAccessKeys of a user without keys = %v, %v; want none", keys, err)
	}

	// Created out of order; listed by CreatedAt, then ID.
	k2 := newKey("AKIAB", "alice", base.Add(time.Second))
	k1 := newKey("AKIAZ", "alice", base)
	k3 := newKey("AKIAA", "ALICE", base.Add(time.Second))
	k3.Status = store.StatusInactive
	k3.LastUsedAt = base.Add(time.Hour)
	kb := newKey("AKIABOB", "bob", base)
	for _, k := range []store.AccessKey{k2, k1, k3, kb} {
		mustCreateKey(t, s, k)
	}
	for _, k := range []*store.AccessKey{&k1, &k2, &k3} {
		k.UserName = "Alice" // the user's spelling, whatever the key was created with
	}

	got, err := s.GetAccessKey(ctx, "AKIAA")
	if err != nil {
		t.Fatal(err)
	}
	checkKey(t, "GetAccessKey", got, k3)

	keys, err = s.ListAccessKeys(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AccessKey{k1, k3, k2}
	if len(keys) != len(want) {
		t.Fatalf("ListAccessKeys returned %d keys, want %d", len(keys), len(want))
	}
	for i := range want {
		checkKey(t, fmt.Sprintf("ListAccessKeys[%d]", i), keys[i], want[i])
	}

	dup := newKey("AKIAB", "bob", base)
	wantErr(t, "CreateAccessKey with a taken ID", s.CreateAccessKey(ctx, dup, 0), store.ErrAlreadyExists)
	_, err = s.GetAccessKey(ctx, "AKIANOPE")
	wantErr(t, "GetAccessKey(missing)", err, store.ErrNotFound)

	if err := s.DeleteAccessKey(ctx, "AKIAB"); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	_, err = s.GetAccessKey(ctx, "AKIAB")
	wantErr(t, "GetAccessKey after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteAccessKey twice", s.DeleteAccessKey(ctx, "AKIAB"), store.ErrNotFound)
	if keys, err := s.ListAccessKeys(ctx, "alice"); err != nil || len(keys) != 2 {
		t.Errorf("ListAccessKeys after delete = %d keys, %v; want 2", len(keys), err)
	}
}

func testAccessKeyForeignKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	wantErr(t, "CreateAccessKey for a missing user",
		s.CreateAccessKey(ctx, newKey("AKIAORPHAN", "ghost", base), 0), store.ErrNotFound)
	_, err := s.GetAccessKey(ctx, "AKIAORPHAN")
	wantErr(t, "GetAccessKey of the refused key", err, store.ErrNotFound)
	_, err = s.ListAccessKeys(ctx, "ghost")
	wantErr(t, "ListAccessKeys for a missing user", err, store.ErrNotFound)

	mustCreateUser(t, s, newUser("alice"))
	mustCreateKey(t, s, newKey("AKIA1", "alice", base))
	mustCreateKey(t, s, newKey("AKIA2", "alice", base))
	wantErr(t, "DeleteUser with access keys", s.DeleteUser(ctx, "alice"), store.ErrConflict)
	mustGetUser(t, s, "alice")
	if err := s.DeleteAccessKey(ctx, "AKIA1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteUser with one access key left", s.DeleteUser(ctx, "alice"), store.ErrConflict)
	if err := s.DeleteAccessKey(ctx, "AKIA2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatalf("DeleteUser without keys: %v", err)
	}
}

func testSealedSecretRoundTrip(t *testing.T, s store.Store) {
	mustCreateUser(t, s, newUser("alice"))
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	random := make([]byte, 4096)
	_, _ = rand.Read(random)
	cases := map[string][]byte{
		"every byte value": all,
		"zeros":            make([]byte, 32),
		"random 4 KiB":     random,
		"one byte":         {0xff},
		"empty":            {},
	}
	i := 0
	for name, secret := range cases {
		i++
		k := newKey(fmt.Sprintf("AKIASECRET%d", i), "alice", base)
		k.SealedSecret = bytes.Clone(secret)
		mustCreateKey(t, s, k)
		got, err := s.GetAccessKey(t.Context(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.SealedSecret, secret) || got.SealedSecret == nil {
			t.Errorf("%s: sealed secret changed in the store (%d bytes back, want %d)", name, len(got.SealedSecret), len(secret))
		}
	}
}

func testUpdateAccessKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("Alice"))
	k := newKey("AKIA1", "alice", base)
	mustCreateKey(t, s, k)
	k.UserName = "Alice"

	errAbort := errors.New("abort")
	_, err := s.UpdateAccessKey(ctx, k.ID, func(old store.AccessKey) (store.AccessKey, error) {
		old.Status = store.StatusInactive
		return old, errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateAccessKey with a failing fn: %v", err)
	}
	got, err := s.GetAccessKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkKey(t, "key after an aborted update", got, k)

	_, err = s.UpdateAccessKey(ctx, "AKIANOPE", func(old store.AccessKey) (store.AccessKey, error) { return old, nil })
	wantErr(t, "UpdateAccessKey(missing)", err, store.ErrNotFound)

	// ID, owner and creation time are immutable: changing them is an error
	// and nothing is written.
	mustCreateUser(t, s, newUser("bob"))
	for name, change := range map[string]func(*store.AccessKey){
		"ID":        func(k *store.AccessKey) { k.ID = "AKIAOTHER" },
		"UserName":  func(k *store.AccessKey) { k.UserName = "bob" },
		"CreatedAt": func(k *store.AccessKey) { k.CreatedAt = k.CreatedAt.Add(time.Hour) },
	} {
		_, err := s.UpdateAccessKey(ctx, k.ID, func(old store.AccessKey) (store.AccessKey, error) {
			old.Status = store.StatusInactive
			change(&old)
			return old, nil
		})
		if err == nil {
			t.Errorf("UpdateAccessKey changing %s succeeded", name)
		}
		got, err := s.GetAccessKey(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkKey(t, "key after refused change of "+name, got, k)
	}

	newSecret := []byte("resealed under a new keyring key")
	used := base.Add(90 * time.Minute).Add(123456789 * time.Nanosecond)
	updated, err := s.UpdateAccessKey(ctx, k.ID, func(old store.AccessKey) (store.AccessKey, error) {
		checkKey(t, "fn argument", old, k)
		old.Status = store.StatusInactive
		old.LastUsedAt = used
		old.SealedSecret = bytes.Clone(newSecret)
		old.UserName = "ALICE" // same user, other spelling: not a change
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	k.Status = store.StatusInactive
	k.LastUsedAt = used.Truncate(time.Microsecond)
	k.SealedSecret = newSecret
	checkKey(t, "UpdateAccessKey result", updated, k)
	got, err = s.GetAccessKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkKey(t, "GetAccessKey after update", got, k)

	// LastUsedAt back to zero means never used.
	updated, err = s.UpdateAccessKey(ctx, k.ID, func(old store.AccessKey) (store.AccessKey, error) {
		old.LastUsedAt = time.Time{}
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !updated.LastUsedAt.IsZero() {
		t.Errorf("LastUsedAt = %v, want zero", updated.LastUsedAt)
	}
	if got, err := s.GetAccessKey(ctx, k.ID); err != nil || !got.LastUsedAt.IsZero() {
		t.Errorf("GetAccessKey LastUsedAt = %v, %v; want zero", got.LastUsedAt, err)
	}
}

func testConcurrentUpdateAccessKey(t *testing.T, s store.Store) {
	const workers, increments = 8, 25
	mustCreateUser(t, s, newUser("alice"))
	k := newKey("AKIACOUNT", "alice", base)
	k.LastUsedAt = base
	mustCreateKey(t, s, k)

	// Each update moves LastUsedAt one second on; a lost update shows as a
	// smaller total.
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range workers {
		wg.Go(func() {
			for range increments {
				if _, err := s.UpdateAccessKey(t.Context(), k.ID, func(k store.AccessKey) (store.AccessKey, error) {
					k.LastUsedAt = k.LastUsedAt.Add(time.Second)
					return k, nil
				}); err != nil {
					t.Errorf("concurrent UpdateAccessKey: %v", err)
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
	got, err := s.GetAccessKey(t.Context(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := base.Add(workers * increments * time.Second).Truncate(time.Microsecond); !got.LastUsedAt.Equal(want) {
		t.Errorf("LastUsedAt = %v, want %v: updates were lost", got.LastUsedAt, want)
	}
}

func recordOnce(t *testing.T, s store.Store, ns, id string, expires, now time.Time) bool {
	t.Helper()
	ok, err := s.RecordOnce(t.Context(), ns, id, expires, now)
	if err != nil {
		t.Fatalf("RecordOnce(%s, %s): %v", ns, id, err)
	}
	return ok
}

func testRecordOnce(t *testing.T, s store.Store) {
	now := base
	exp := now.Add(5 * time.Minute)
	if !recordOnce(t, s, "saml", "id-1", exp, now) {
		t.Fatal("first RecordOnce = false, want true")
	}
	if recordOnce(t, s, "saml", "id-1", exp, now) {
		t.Fatal("second RecordOnce = true, want false (replay)")
	}
	if recordOnce(t, s, "saml", "id-1", exp.Add(time.Hour), now.Add(time.Minute)) {
		t.Fatal("RecordOnce with a later expiry while the record is live = true")
	}
	if recordOnce(t, s, "saml", "id-1", exp.Add(time.Hour), exp.Add(-time.Microsecond)) {
		t.Fatal("RecordOnce one microsecond before expiry = true")
	}
	// Namespaces and ids are independent.
	if !recordOnce(t, s, "nonce", "id-1", exp, now) {
		t.Fatal("same id in another namespace = false, want true")
	}
	if !recordOnce(t, s, "saml", "id-2", exp, now) {
		t.Fatal("another id = false, want true")
	}
	// At expiry the record is gone: recording again succeeds, once.
	later := exp.Add(10 * time.Minute)
	if !recordOnce(t, s, "saml", "id-1", later, exp) {
		t.Fatal("RecordOnce at expiry = false, want true")
	}
	if recordOnce(t, s, "saml", "id-1", later, exp.Add(time.Minute)) {
		t.Fatal("RecordOnce of the renewed record = true, want false")
	}
}

func testRecordOnceConcurrent(t *testing.T, s store.Store) {
	const workers = 16
	for round, ns := range []string{"fresh", "expired"} {
		if round == 1 {
			// An expired record with the same key must be replaced by exactly
			// one of the racers too.
			if !recordOnce(t, s, ns, "assertion", base, base.Add(-time.Minute)) {
				t.Fatal("setup RecordOnce = false")
			}
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range workers {
			wg.Go(func() {
				<-start
				ok, err := s.RecordOnce(t.Context(), ns, "assertion", base.Add(time.Hour), base)
				if err != nil {
					t.Errorf("RecordOnce: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Errorf("%s: %d of %d concurrent RecordOnce calls returned true, want exactly 1", ns, n, workers)
		}
	}
}

func testPurgeReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	n, err := s.PurgeReplay(ctx, base)
	if err != nil || n != 0 {
		t.Fatalf("PurgeReplay on an empty store = %d, %v", n, err)
	}
	for i := range 3 {
		recordOnce(t, s, "saml", fmt.Sprintf("old-%d", i), base.Add(time.Duration(i)*time.Minute), base.Add(-time.Hour))
	}
	for i := range 2 {
		recordOnce(t, s, "nonce", fmt.Sprintf("live-%d", i), base.Add(time.Hour), base.Add(-time.Hour))
	}
	// Expired at now means expires_at <= now: old-0..old-2 expire at base,
	// base+1m and base+2m.
	now := base.Add(2 * time.Minute)
	if n, err := s.PurgeReplay(ctx, now); err != nil || n != 3 {
		t.Fatalf("PurgeReplay = %d, %v; want 3", n, err)
	}
	if n, err := s.PurgeReplay(ctx, now); err != nil || n != 0 {
		t.Fatalf("second PurgeReplay = %d, %v; want 0", n, err)
	}
	if recordOnce(t, s, "nonce", "live-0", base.Add(2*time.Hour), now) {
		t.Error("PurgeReplay removed a live record")
	}
	if !recordOnce(t, s, "saml", "old-0", base.Add(2*time.Hour), now) {
		t.Error("a purged record still blocks")
	}
}

func claim(t *testing.T, s store.Store, kind, key, owner string, now time.Time, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.Claim(t.Context(), kind, key, owner, now, ttl)
	if err != nil {
		t.Fatalf("Claim(%s/%s, %s): %v", kind, key, owner, err)
	}
	return ok
}

func testClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	const ttl = time.Minute
	now := base
	if !claim(t, s, "reap", "role-1", "a", now, ttl) {
		t.Fatal("Claim of a free lease = false")
	}
	if claim(t, s, "reap", "role-1", "b", now.Add(30*time.Second), ttl) {
		t.Fatal("Claim of a held lease by another owner = true")
	}
	// Renewal by the holder extends the lease.
	if !claim(t, s, "reap", "role-1", "a", now.Add(50*time.Second), ttl) {
		t.Fatal("renewal by the holder = false")
	}
	if claim(t, s, "reap", "role-1", "b", now.Add(70*time.Second), ttl) {
		t.Fatal("Claim by another owner before the renewed lease expired = true")
	}
	// Other kinds and keys are independent.
	if !claim(t, s, "reap", "role-2", "b", now, ttl) || !claim(t, s, "other", "role-1", "b", now, ttl) {
		t.Fatal("Claim of an independent lease = false")
	}
	// After expiry (expiry <= now) another owner takes it.
	if !claim(t, s, "reap", "role-1", "b", now.Add(50*time.Second+ttl), ttl) {
		t.Fatal("Claim of an expired lease = false")
	}
	if claim(t, s, "reap", "role-1", "a", now.Add(50*time.Second+ttl), ttl) {
		t.Fatal("the previous holder took the lease back")
	}

	// Release by someone who does not hold the lease changes nothing.
	if err := s.Release(ctx, "reap", "role-1", "a"); err != nil {
		t.Fatalf("Release by a non-holder: %v", err)
	}
	if claim(t, s, "reap", "role-1", "c", now.Add(2*ttl), ttl) {
		t.Fatal("Release by a non-holder freed the lease")
	}
	if err := s.Release(ctx, "reap", "role-1", "b"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if !claim(t, s, "reap", "role-1", "c", now.Add(2*ttl), ttl) {
		t.Fatal("Claim after Release = false")
	}
	if err := s.Release(ctx, "reap", "never-claimed", "a"); err != nil {
		t.Fatalf("Release of a lease nobody holds: %v", err)
	}
	if _, err := s.Claim(ctx, "reap", "role-3", "a", now, 0); err == nil {
		t.Error("Claim with ttl 0 succeeded")
	}
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	const workers = 16
	for round := range 2 {
		now := base.Add(time.Duration(round) * time.Hour) // round 1 races for the expired lease of round 0
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		start := make(chan struct{})
		for i := range workers {
			owner := fmt.Sprintf("replica-%d-%d", round, i)
			wg.Go(func() {
				<-start
				ok, err := s.Claim(t.Context(), "reap", "role-1", owner, now, time.Minute)
				if err != nil {
					t.Errorf("Claim: %v", err)
				}
				if ok {
					mu.Lock()
					winners = append(winners, owner)
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: %d of %d concurrent claimers won (%v), want exactly 1", round, len(winners), workers, winners)
		}
		if !claim(t, s, "reap", "role-1", winners[0], now.Add(time.Second), time.Minute) {
			t.Errorf("round %d: the winner cannot renew", round)
		}
	}
}

func testTimePrecision(t *testing.T, s store.Store) {
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2024, 2, 29, 23, 59, 58, 123456789, zone)
	wantCreated := time.Date(2024, 2, 29, 18, 29, 58, 123456000, time.UTC)

	u := newUser("precise")
	u.CreatedAt = created
	mustCreateUser(t, s, u)
	got := mustGetUser(t, s, "precise")
	if !got.CreatedAt.Equal(wantCreated) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("user CreatedAt = %v, want %v in UTC (microseconds kept, the rest truncated)", got.CreatedAt, wantCreated)
	}
	users, _, err := s.ListUsers(ctx, store.Page{})
	if err != nil || len(users) != 1 || !users[0].CreatedAt.Equal(wantCreated) || users[0].CreatedAt.Location() != time.UTC {
		t.Errorf("listed CreatedAt = %v, %v", users, err)
	}

	k := newKey("AKIATIME", "precise", created)
	k.LastUsedAt = created.Add(time.Hour)
	mustCreateKey(t, s, k)
	for _, get := range []func() (store.AccessKey, error){
		func() (store.AccessKey, error) { return s.GetAccessKey(ctx, k.ID) },
		func() (store.AccessKey, error) {
			ks, err := s.ListAccessKeys(ctx, "precise")
			if err != nil || len(ks) != 1 {
				return store.AccessKey{}, fmt.Errorf("ListAccessKeys = %d keys, %v", len(ks), err)
			}
			return ks[0], nil
		},
	} {
		gk, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if !gk.CreatedAt.Equal(wantCreated) || gk.CreatedAt.Location() != time.UTC {
			t.Errorf("key CreatedAt = %v, want %v in UTC", gk.CreatedAt, wantCreated)
		}
		if want := wantCreated.Add(time.Hour); !gk.LastUsedAt.Equal(want) || gk.LastUsedAt.Location() != time.UTC {
			t.Errorf("key LastUsedAt = %v, want %v in UTC", gk.LastUsedAt, want)
		}
	}

	// Expiry comparisons work at microsecond resolution.
	exp := time.Date(2030, 1, 1, 0, 0, 0, 1000, zone)
	if !recordOnce(t, s, "p", "x", exp, exp.Add(-time.Hour)) {
		t.Fatal("RecordOnce = false")
	}
	if recordOnce(t, s, "p", "x", exp.Add(time.Hour), exp.Add(-time.Microsecond)) {
		t.Error("the record expired a microsecond early")
	}
	if !recordOnce(t, s, "p", "x", exp.Add(time.Hour), exp) {
		t.Error("the record did not expire at its expiry")
	}
}
