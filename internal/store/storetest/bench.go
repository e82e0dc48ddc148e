package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dbiam/dbiam/internal/store"
)

// Benchmark measures the store's hot paths on s, which must be empty: the
// read of a user's effective policies that every authorized request makes,
// and the access key lookup that authenticates it.
func Benchmark(b *testing.B, s store.Store) {
	ctx := b.Context()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	// A user with 2 inline and 2 managed policies, in 3 groups with as many.
	must(s.CreateUser(ctx, store.User{Name: "alice", Path: "/", ID: "AIDAALICE", CreatedAt: base}))
	must(s.CreateAccessKey(ctx, store.AccessKey{ID: "AKIAALICE", UserName: "alice", SealedSecret: []byte("sealed"), Status: store.StatusActive, CreatedAt: base}, 0))
	owners := []struct {
		kind store.PrincipalKind
		name string
	}{{store.KindUser, "alice"}}
	for g := range 3 {
		name := fmt.Sprintf("group-%d", g)
		must(s.CreateGroup(ctx, store.Group{Name: name, Path: "/", ID: "AGPA" + name, CreatedAt: base}))
		must(s.AddUserToGroup(ctx, name, "alice", 0))
		owners = append(owners, struct {
			kind store.PrincipalKind
			name string
		}{store.KindGroup, name})
	}
	for i, o := range owners {
		for j := range 2 {
			label := fmt.Sprintf("%d-%d", i, j)
			must(s.PutInlinePolicy(ctx, store.InlinePolicy{Kind: o.kind, Owner: o.name, Name: "inline-" + label, Document: doc(label)}))
			must(s.CreateManagedPolicy(ctx, store.ManagedPolicy{Name: "managed-" + label, Path: "/", ID: "ANPA" + label, CreatedAt: base}, doc(label)))
			must(s.AttachPolicy(ctx, store.Attachment{Kind: o.kind, Owner: o.name, PolicyName: "managed-" + label}, 0))
		}
	}

	b.Run("EffectivePolicies", func(b *testing.B) {
		for b.Loop() {
			ps, err := s.EffectivePolicies(ctx, store.KindUser, "alice")
			if err != nil || len(ps) != 16 {
				b.Fatalf("EffectivePolicies = %d policies, %v; want 16", len(ps), err)
			}
		}
	})
	runs := 0
	b.Run("CreateCredential", func(b *testing.B) {
		// The one write of every GetClusterCredentials.
		if err := s.CreateCluster(ctx, newCluster("bench")); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			b.Fatal(err)
		}
		runs++
		n := 0
		for b.Loop() {
			n++
			c := newCredential(fmt.Sprintf("cred-%d-%09d", runs, n), "bench", "alice", base)
			c.DbName, c.Groups = "dev", []string{"readers"}
			must(s.CreateCredential(ctx, c))
		}
	})
	b.Run("GetAccessKey", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetAccessKey(ctx, "AKIAALICE"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
