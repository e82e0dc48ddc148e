package iam_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/sqlite"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

func newBootstrapService(t *testing.T) (*iam.Service, store.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/dbiam.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var k keyring.Key
	k.ID = "test"
	kr, err := keyring.New(k)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := iam.New(iam.Config{Store: st, Keyring: kr, AccountID: "123456789012", Now: time.Now, Rand: rand.Reader, Authorizer: &iam.PolicyAuthorizer{Store: st}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

const readUsers = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`

func bootstrapSpec(readersDoc string) config.Bootstrap {
	return config.Bootstrap{
		Policies: []config.BootstrapPolicy{{Name: "ReadUsers", Document: config.PolicyDocument{JSON: readUsers}}},
		Groups: []config.BootstrapGroup{{Name: "readers", ManagedPolicies: []string{"ReadUsers"},
			Policies: map[string]config.PolicyDocument{"inline": {JSON: readersDoc}}}},
		Users: []config.BootstrapUser{{Name: "alice", Path: "/eng/", Groups: []string{"readers"}, Tags: map[string]string{"team": "data"}}},
		Roles: []config.BootstrapRole{{Name: "analyst", TrustPolicy: config.PolicyDocument{JSON: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`},
			ManagedPolicies: []string{"arn:aws:iam::123456789012:policy/ReadUsers"}}},
	}
}

func TestBootstrapIsIdempotentAndConverges(t *testing.T) {
	svc, st := newBootstrapService(t)
	ctx := t.Context()
	first, err := svc.ApplyBootstrap(ctx, bootstrapSpec(readUsers), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"created managed policy ReadUsers", "created group readers", "put inline policy group/readers/inline",
		"attached ReadUsers to group/readers", "created user alice", "added user alice to group readers", "created role analyst", "attached ReadUsers to role/analyst"}
	if strings.Join(first.Changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("first run changes:\n%s", strings.Join(first.Changes, "\n"))
	}
	alice, err := st.GetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}

	again, err := svc.ApplyBootstrap(ctx, bootstrapSpec(readUsers), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Changes) != 0 {
		t.Errorf("second run changed %v", again.Changes)
	}
	if u, _ := st.GetUser(ctx, "alice"); u.ID != alice.ID {
		t.Error("re-applying recreated the user")
	}

	// A changed file converges: new inline document, user out of the group,
	// changed managed policy document.
	changed := bootstrapSpec(strings.Replace(readUsers, "iam:ListUsers", "iam:GetUser", 1))
	changed.Users[0].Groups = nil
	changed.Policies[0].Document.JSON = strings.Replace(readUsers, "iam:ListUsers", "iam:ListGroups", 1)
	third, err := svc.ApplyBootstrap(ctx, changed, "")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"updated managed policy ReadUsers to v2", "put inline policy group/readers/inline", "removed user alice from group readers"}
	if strings.Join(third.Changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("converging changes:\n%s", strings.Join(third.Changes, "\n"))
	}
	if groups, _ := st.ListGroupsForUser(ctx, "alice"); len(groups) != 0 {
		t.Errorf("alice still in %v", groups)
	}
}

func TestBootstrapRejectsBadFileBeforeWriting(t *testing.T) {
	svc, st := newBootstrapService(t)
	ctx := t.Context()
	bad := bootstrapSpec(`{"Version":"2012-10-17","Statement":[{"effect":"Allow"}]}`)
	bad.Users = append(bad.Users, config.BootstrapUser{Name: "bad name!"})
	bad.Users[0].Groups = []string{"nosuchgroup"}
	_, err := svc.ApplyBootstrap(ctx, bad, "")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"nothing applied", "bootstrap.groups[0].policies.inline", "effect", "bootstrap.users[1]", `group "nosuchgroup"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if users, _, _ := st.ListUsers(ctx, store.Page{}); len(users) != 0 {
		t.Errorf("a bad file wrote users: %v", users)
	}
	if _, err := st.GetManagedPolicy(ctx, "ReadUsers"); err == nil {
		t.Error("a bad file wrote a managed policy")
	}
}

// AWS's quotas on groups per user and managed policies per entity are
// checked with the rest, before anything is written.
func TestBootstrapRejectsOverQuotaBeforeWriting(t *testing.T) {
	svc, st := newBootstrapService(t)
	ctx := t.Context()
	spec := bootstrapSpec(readUsers)
	for i := range 11 {
		name := "g" + string(rune('a'+i))
		spec.Groups = append(spec.Groups, config.BootstrapGroup{Name: name})
		spec.Users[0].Groups = append(spec.Users[0].Groups, name)
	}
	for range 10 {
		spec.Roles[0].ManagedPolicies = append(spec.Roles[0].ManagedPolicies, "ReadUsers")
	}
	_, err := svc.ApplyBootstrap(ctx, spec, "")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"nothing applied", "bootstrap.users[0].groups: 12 groups: AWS's quota is 10", "bootstrap.roles[0].managed_policies: 11 managed policies"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if users, _, _ := st.ListUsers(ctx, store.Page{}); len(users) != 0 {
		t.Errorf("an over-quota file wrote users: %v", users)
	}
}

func TestBootstrapSAMLProvider(t *testing.T) {
	svc, st := newBootstrapService(t)
	ctx := t.Context()
	dir := t.TempDir()
	idp := samltest.New(t, "https://idp.example.com/metadata")
	if err := os.WriteFile(filepath.Join(dir, "idp.xml"), idp.Metadata(), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := config.Bootstrap{SAMLProviders: []config.BootstrapSAMLProvider{{Name: "Corp", MetadataFile: "idp.xml"}}}
	r, err := svc.ApplyBootstrap(ctx, spec, dir)
	if err != nil || len(r.Changes) != 1 {
		t.Fatalf("changes %v, %v", r.Changes, err)
	}
	p, err := st.GetSAMLProvider(ctx, "Corp")
	if err != nil || p.MetadataDocument != string(idp.Metadata()) {
		t.Fatalf("provider %+v, %v", p, err)
	}
	if r, err := svc.ApplyBootstrap(ctx, spec, dir); err != nil || len(r.Changes) != 0 {
		t.Errorf("second run: %v, %v", r.Changes, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.xml"), []byte("<not-metadata/>"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec.SAMLProviders = append(spec.SAMLProviders, config.BootstrapSAMLProvider{Name: "Bad", MetadataFile: "bad.xml"})
	if _, err := svc.ApplyBootstrap(ctx, spec, dir); err == nil || !strings.Contains(err.Error(), "bootstrap.saml_providers[1].metadata_file") {
		t.Errorf("bad metadata: %v", err)
	}
}
