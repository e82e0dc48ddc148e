package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/sqlite"
)

// BenchmarkRequestReads measures the reads of one signed, authorized
// request in sequence: the access key, its user, the user's effective
// policies (2 inline and 2 managed policies of its own, as many in each of
// its 3 groups), and, separately, the role read of AssumeRole.
func BenchmarkRequestReads(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "dbiam.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	must(s.CreateUser(ctx, store.User{Name: "alice", Path: "/", ID: "AIDAALICE", CreatedAt: at}))
	must(s.CreateAccessKey(ctx, store.AccessKey{ID: "AKIAALICE", UserName: "alice", SealedSecret: []byte("sealed"), Status: store.StatusActive, CreatedAt: at}, 0))
	must(s.CreateRole(ctx, store.Role{Name: "deployer", Path: "/", ID: "AROADEPLOYER", AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[]}`, MaxSessionDuration: 3600, CreatedAt: at}))
	type owner struct {
		kind store.PrincipalKind
		name string
	}
	owners := []owner{{store.KindUser, "alice"}, {store.KindRole, "deployer"}}
	for g := range 3 {
		name := fmt.Sprintf("group-%d", g)
		must(s.CreateGroup(ctx, store.Group{Name: name, Path: "/", ID: "AGPA" + name, CreatedAt: at}))
		must(s.AddUserToGroup(ctx, name, "alice", 0))
		owners = append(owners, owner{store.KindGroup, name})
	}
	for i, o := range owners {
		for j := range 2 {
			label := fmt.Sprintf("%d-%d", i, j)
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b-` + label + `/*"}]}`
			must(s.PutInlinePolicy(ctx, store.InlinePolicy{Kind: o.kind, Owner: o.name, Name: "inline-" + label, Document: doc}))
			must(s.CreateManagedPolicy(ctx, store.ManagedPolicy{Name: "managed-" + label, Path: "/", ID: "ANPA" + label, CreatedAt: at}, doc))
			must(s.AttachPolicy(ctx, store.Attachment{Kind: o.kind, Owner: o.name, PolicyName: "managed-" + label}, 0))
		}
	}

	b.Run("KeyUserEffective", func(b *testing.B) {
		for b.Loop() {
			k, err := s.GetAccessKey(ctx, "AKIAALICE")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.GetUser(ctx, k.UserName); err != nil {
				b.Fatal(err)
			}
			ps, err := s.EffectivePolicies(ctx, store.KindUser, k.UserName)
			if err != nil || len(ps) != 16 {
				b.Fatalf("EffectivePolicies = %d policies, %v; want 16", len(ps), err)
			}
		}
	})
	b.Run("KeyUserEffectiveParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k, err := s.GetAccessKey(ctx, "AKIAALICE")
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := s.GetUser(ctx, k.UserName); err != nil {
					b.Error(err)
					return
				}
				if _, err := s.EffectivePolicies(ctx, store.KindUser, k.UserName); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("GetUser", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetUser(ctx, "alice"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetRole", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetRole(ctx, "deployer"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EffectivePoliciesRole", func(b *testing.B) {
		for b.Loop() {
			ps, err := s.EffectivePolicies(ctx, store.KindRole, "deployer")
			if err != nil || len(ps) != 4 {
				b.Fatalf("EffectivePolicies = %d policies, %v; want 4", len(ps), err)
			}
		}
	})
	b.Run("GetManagedPolicy", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetManagedPolicy(ctx, "managed-0-0"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetPolicyVersion", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetPolicyVersion(ctx, "managed-0-0", "v1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListAttachedPolicies", func(b *testing.B) {
		for b.Loop() {
			if ps, err := s.ListAttachedPolicies(ctx, store.KindUser, "alice"); err != nil || len(ps) != 2 {
				b.Fatal(len(ps), err)
			}
		}
	})
	b.Run("GetUserNotFound", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetUser(ctx, "nobody"); err == nil {
				b.Fatal("found nobody")
			}
		}
	})
}
