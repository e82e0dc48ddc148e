package storetest

import (
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

// iamTests are the subtests of the IAM entities: groups, roles, inline and
// managed policies, attachments, effective policies and SAML providers.
func iamTests() []struct {
	name string
	fn   func(t *testing.T, s store.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"UserPermissionsBoundary", testUserPermissionsBoundary},
		{"GroupCRUD", testGroupCRUD},
		{"ListGroupsPagination", testListGroupsPagination},
		{"GroupMembership", testGroupMembership},
		{"RoleCRUD", testRoleCRUD},
		{"ConcurrentUpdateRole", testConcurrentUpdateRole},
		{"InlinePolicies", testInlinePolicies},
		{"PrincipalKindValidation", testPrincipalKindValidation},
		{"ManagedPolicyCRUD", testManagedPolicyCRUD},
		{"ListManagedPolicies", testListManagedPolicies},
		{"PolicyTags", testPolicyTags},
		{"PolicyVersions", testPolicyVersions},
		{"ConcurrentCreatePolicyVersion", testConcurrentCreatePolicyVersion},
		{"Attachments", testAttachments},
		{"QuotasAreAtomic", testQuotasAreAtomic},
		{"DeleteConflicts", testDeleteConflicts},
		{"ConcurrentDeleteAndReference", testConcurrentDeleteAndReference},
		{"RenameCarriesRelations", testRenameCarriesRelations},
		{"EffectivePolicies", testEffectivePolicies},
		{"EffectivePoliciesOfRoleAndGroup", testEffectivePoliciesOfRoleAndGroup},
		{"SAMLProviders", testSAMLProviders},
		{"SAMLProviderLargeMetadata", testSAMLProviderLargeMetadata},
	}
}

// idOf makes a unique-looking id with prefix from a name.
func idOf(prefix, name string) string {
	return prefix + strings.ToUpper(strings.NewReplacer("-", "", "_", "", ".", "").Replace(name)) + "ID"
}

func newGroup(name string) store.Group {
	return store.Group{Name: name, Path: "/", ID: idOf("AGPA", name), CreatedAt: base}
}

const trustPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/Okta"},
    "Action": "sts:AssumeRoleWithSAML", "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]
}` + "\n\t "

func newRole(name string) store.Role {
	return store.Role{
		Name:                     name,
		Path:                     "/",
		ID:                       idOf("AROA", name),
		AssumeRolePolicyDocument: trustPolicy,
		MaxSessionDuration:       3600,
		CreatedAt:                base,
	}
}

func newPolicy(name string) store.ManagedPolicy {
	return store.ManagedPolicy{Name: name, Path: "/", ID: idOf("ANPA", name), CreatedAt: base}
}

// doc returns a distinct, valid-looking policy document.
func doc(label string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"` + label + `","Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`
}

func mustCreateGroup(t *testing.T, s store.Store, g store.Group) {
	t.Helper()
	if err := s.CreateGroup(t.Context(), g); err != nil {
		t.Fatalf("CreateGroup(%q): %v", g.Name, err)
	}
}

func mustCreateRole(t *testing.T, s store.Store, r store.Role) {
	t.Helper()
	if err := s.CreateRole(t.Context(), r); err != nil {
		t.Fatalf("CreateRole(%q): %v", r.Name, err)
	}
}

func mustCreatePolicy(t *testing.T, s store.Store, p store.ManagedPolicy, document string) {
	t.Helper()
	if err := s.CreateManagedPolicy(t.Context(), p, document); err != nil {
		t.Fatalf("CreateManagedPolicy(%q): %v", p.Name, err)
	}
}

func mustAddToGroup(t *testing.T, s store.Store, group, user string) {
	t.Helper()
	if err := s.AddUserToGroup(t.Context(), group, user, 0); err != nil {
		t.Fatalf("AddUserToGroup(%q, %q): %v", group, user, err)
	}
}

func mustPutInline(t *testing.T, s store.Store, kind store.PrincipalKind, owner, name, document string) {
	t.Helper()
	if err := s.PutInlinePolicy(t.Context(), store.InlinePolicy{Kind: kind, Owner: owner, Name: name, Document: document}); err != nil {
		t.Fatalf("PutInlinePolicy(%s %q, %q): %v", kind, owner, name, err)
	}
}

func mustAttach(t *testing.T, s store.Store, kind store.PrincipalKind, owner, policy string) {
	t.Helper()
	if err := s.AttachPolicy(t.Context(), store.Attachment{Kind: kind, Owner: owner, PolicyName: policy}, 0); err != nil {
		t.Fatalf("AttachPolicy(%s %q, %q): %v", kind, owner, policy, err)
	}
}

func mustGetPolicy(t *testing.T, s store.Store, name string) store.ManagedPolicy {
	t.Helper()
	p, err := s.GetManagedPolicy(t.Context(), name)
	if err != nil {
		t.Fatalf("GetManagedPolicy(%q): %v", name, err)
	}
	return p
}

// sameTime reports whether got equals want and is in UTC (zero times are
// equal whatever their location).
func sameTime(got, want time.Time) bool {
	if got.IsZero() && want.IsZero() {
		return true
	}
	return got.Equal(want) && got.Location() == time.UTC
}

func checkGroup(t *testing.T, what string, got, want store.Group) {
	t.Helper()
	if got.Name != want.Name || got.Path != want.Path || got.ID != want.ID || !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("%s = %+v, want %+v (times in UTC)", what, got, want)
	}
}

func checkRole(t *testing.T, what string, got, want store.Role) {
	t.Helper()
	g, w := got, want
	g.CreatedAt, w.CreatedAt, g.Tags, w.Tags = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) || !sameTime(got.CreatedAt, want.CreatedAt) || !maps.Equal(got.Tags, want.Tags) {
		t.Errorf("%s = %+v, want %+v (times in UTC)", what, got, want)
	}
}

func checkPolicy(t *testing.T, what string, got, want store.ManagedPolicy) {
	t.Helper()
	g, w := got, want
	g.CreatedAt, w.CreatedAt, g.UpdatedAt, w.UpdatedAt, g.Tags, w.Tags = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) || !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) || !maps.Equal(got.Tags, want.Tags) {
		t.Errorf("%s = %+v, want %+v (times in UTC)", what, got, want)
	}
}

func checkVersion(t *testing.T, what string, got, want store.PolicyVersion) {
	t.Helper()
	g, w := got, want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if g != w || !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("%s = %+v, want %+v (times in UTC)", what, got, want)
	}
}

func checkSAML(t *testing.T, what string, got, want store.SAMLProvider) {
	t.Helper()
	var d []string
	if got.Name != want.Name {
		d = append(d, fmt.Sprintf("Name %q, want %q", got.Name, want.Name))
	}
	if got.MetadataDocument != want.MetadataDocument {
		d = append(d, fmt.Sprintf("MetadataDocument differs (%d bytes, want %d; first difference at byte %d)",
			len(got.MetadataDocument), len(want.MetadataDocument), firstDiff(got.MetadataDocument, want.MetadataDocument)))
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		d = append(d, fmt.Sprintf("CreatedAt %v, want %v (UTC)", got.CreatedAt, want.CreatedAt))
	}
	if !sameTime(got.ValidUntil, want.ValidUntil) || got.ValidUntil.IsZero() != want.ValidUntil.IsZero() {
		d = append(d, fmt.Sprintf("ValidUntil %v, want %v (UTC)", got.ValidUntil, want.ValidUntil))
	}
	if !maps.Equal(got.Tags, want.Tags) {
		d = append(d, fmt.Sprintf("Tags %v, want %v", got.Tags, want.Tags))
	}
	if len(d) > 0 {
		t.Errorf("%s: %s", what, strings.Join(d, "; "))
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func names[T any](items []T, name func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

func groupName(g store.Group) string          { return g.Name }
func userName(u store.User) string            { return u.Name }
func policyName(p store.ManagedPolicy) string { return p.Name }

func wantNames(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func testUserPermissionsBoundary(t *testing.T, s store.Store) {
	ctx := t.Context()
	const boundary = "arn:aws:iam::123456789012:policy/Boundary"
	u := newUser("alice")
	u.PermissionsBoundary = boundary
	mustCreateUser(t, s, u)
	checkUser(t, "GetUser", mustGetUser(t, s, "alice"), u)
	plain := newUser("bob")
	mustCreateUser(t, s, plain)
	checkUser(t, "user without a boundary", mustGetUser(t, s, "bob"), plain)

	got, err := s.UpdateUser(ctx, "alice", func(u store.User) (store.User, error) {
		u.PermissionsBoundary = ""
		return u, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u.PermissionsBoundary = ""
	checkUser(t, "UpdateUser removing the boundary", got, u)
	checkUser(t, "GetUser after update", mustGetUser(t, s, "alice"), u)
	if _, err := s.UpdateUser(ctx, "bob", func(u store.User) (store.User, error) {
		u.PermissionsBoundary = boundary
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	users, _, err := s.ListUsers(ctx, store.Page{})
	if err != nil || len(users) != 2 {
		t.Fatalf("ListUsers = %v, %v", users, err)
	}
	plain.PermissionsBoundary = boundary
	checkUser(t, "listed user", users[1], plain)
}

func testGroupCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetGroup(ctx, "devs")
	wantErr(t, "GetGroup on an empty store", err, store.ErrNotFound)

	g := newGroup("Devs")
	g.Path = "/engineering/"
	mustCreateGroup(t, s, g)
	for _, name := range []string{"Devs", "devs", "DEVS"} {
		got, err := s.GetGroup(ctx, name)
		if err != nil {
			t.Fatalf("GetGroup(%q): %v", name, err)
		}
		checkGroup(t, "GetGroup("+name+")", got, g)
	}

	other := newGroup("dEVS")
	other.ID = "AGPAOTHER"
	wantErr(t, "CreateGroup differing only in case", s.CreateGroup(ctx, other), store.ErrAlreadyExists)
	dupID := newGroup("ops")
	dupID.ID = g.ID
	wantErr(t, "CreateGroup with a taken ID", s.CreateGroup(ctx, dupID), store.ErrAlreadyExists)
	_, err = s.GetGroup(ctx, "ops")
	wantErr(t, "GetGroup after a refused create", err, store.ErrNotFound)

	// A group and a user (or role) may share a name.
	mustCreateUser(t, s, newUser("devs"))
	mustCreateRole(t, s, newRole("devs"))

	errAbort := errors.New("abort")
	_, err = s.UpdateGroup(ctx, "devs", func(g store.Group) (store.Group, error) {
		g.Path = "/changed/"
		return g, errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateGroup with a failing fn: %v, want the fn's error", err)
	}
	_, err = s.UpdateGroup(ctx, "nobody", func(g store.Group) (store.Group, error) {
		t.Error("UpdateGroup called fn for a missing group")
		return g, nil
	})
	wantErr(t, "UpdateGroup(nobody)", err, store.ErrNotFound)

	updated, err := s.UpdateGroup(ctx, "DEVS", func(old store.Group) (store.Group, error) {
		checkGroup(t, "fn argument", old, g)
		old.Path = "/new/"
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g.Path = "/new/"
	checkGroup(t, "UpdateGroup result", updated, g)
	got, err := s.GetGroup(ctx, "devs")
	if err != nil {
		t.Fatal(err)
	}
	checkGroup(t, "GetGroup after UpdateGroup", got, g)

	mustCreateGroup(t, s, newGroup("ops"))
	_, err = s.UpdateGroup(ctx, "ops", func(g store.Group) (store.Group, error) {
		g.Name = "DEVS"
		return g, nil
	})
	wantErr(t, "rename onto a taken group name", err, store.ErrAlreadyExists)

	if err := s.DeleteGroup(ctx, "devs"); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err = s.GetGroup(ctx, "devs")
	wantErr(t, "GetGroup after DeleteGroup", err, store.ErrNotFound)
	wantErr(t, "DeleteGroup twice", s.DeleteGroup(ctx, "devs"), store.ErrNotFound)
	// The user and the role of the same name are untouched.
	mustGetUser(t, s, "devs")
	if _, err := s.GetRole(ctx, "devs"); err != nil {
		t.Errorf("GetRole after deleting the group of the same name: %v", err)
	}
}

func testListGroupsPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	groups, marker, err := s.ListGroups(ctx, store.Page{})
	if err != nil || len(groups) != 0 || marker != "" {
		t.Fatalf("ListGroups on an empty store = %v, %q, %v", groups, marker, err)
	}
	var want []string
	for i := range 12 {
		name := fmt.Sprintf("group-%02d", 11-i)
		if i%2 == 0 {
			name = strings.ToUpper(name)
		}
		mustCreateGroup(t, s, newGroup(name))
		want = append(want, name)
	}
	slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, size := range []int{1, 5, 12, 13} {
		var got []string
		page := store.Page{MaxItems: size}
		for calls := 0; ; calls++ {
			if calls > len(want) {
				t.Fatalf("MaxItems %d: pagination does not end", size)
			}
			gs, next, err := s.ListGroups(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(gs) > size || (next != "" && len(gs) != size) {
				t.Fatalf("ListGroups(%+v) returned %d groups, marker %q", page, len(gs), next)
			}
			got = append(got, names(gs, groupName)...)
			if next == "" {
				break
			}
			page.Marker = next
		}
		wantNames(t, fmt.Sprintf("MaxItems %d: groups", size), got, want)
	}
}

func testGroupMembership(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateGroup(t, s, newGroup("devs"))
	mustCreateGroup(t, s, newGroup("Admins"))
	mustCreateGroup(t, s, newGroup("ops"))
	alice := newUser("alice")
	mustCreateUser(t, s, alice)
	bob := newUser("Bob")
	bob.Tags = map[string]string{"team": "core"}
	mustCreateUser(t, s, bob)

	wantErr(t, "AddUserToGroup of a missing user", s.AddUserToGroup(ctx, "devs", "ghost", 0), store.ErrNotFound)
	wantErr(t, "AddUserToGroup to a missing group", s.AddUserToGroup(ctx, "ghosts", "alice", 0), store.ErrNotFound)

	groups, err := s.ListGroupsForUser(ctx, "alice")
	if err != nil || groups == nil || len(groups) != 0 {
		t.Fatalf("ListGroupsForUser of a user in no group = %#v, %v; want an empty list", groups, err)
	}
	members, err := s.ListGroupMembers(ctx, "devs")
	if err != nil || members == nil || len(members) != 0 {
		t.Fatalf("ListGroupMembers of an empty group = %#v, %v; want an empty list", members, err)
	}

	mustAddToGroup(t, s, "devs", "alice")
	mustAddToGroup(t, s, "DEVS", "ALICE") // again, other spelling: no error, no duplicate
	mustAddToGroup(t, s, "devs", "alice")
	mustAddToGroup(t, s, "admins", "alice")
	mustAddToGroup(t, s, "devs", "bob")

	groups, err = s.ListGroupsForUser(ctx, "ALICE")
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ListGroupsForUser(alice)", names(groups, groupName), []string{"Admins", "devs"})
	checkGroup(t, "listed group", groups[0], newGroup("Admins"))
	members, err = s.ListGroupMembers(ctx, "Devs")
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ListGroupMembers(devs)", names(members, userName), []string{"alice", "Bob"})
	checkUser(t, "listed member", members[1], bob)

	_, err = s.ListGroupsForUser(ctx, "ghost")
	wantErr(t, "ListGroupsForUser of a missing user", err, store.ErrNotFound)
	_, err = s.ListGroupMembers(ctx, "ghosts")
	wantErr(t, "ListGroupMembers of a missing group", err, store.ErrNotFound)

	if err := s.RemoveUserFromGroup(ctx, "DEVS", "Alice"); err != nil {
		t.Fatalf("RemoveUserFromGroup: %v", err)
	}
	wantErr(t, "RemoveUserFromGroup twice", s.RemoveUserFromGroup(ctx, "devs", "alice"), store.ErrNotFound)
	wantErr(t, "RemoveUserFromGroup of a non-member", s.RemoveUserFromGroup(ctx, "ops", "alice"), store.ErrNotFound)
	wantErr(t, "RemoveUserFromGroup of a missing user", s.RemoveUserFromGroup(ctx, "devs", "ghost"), store.ErrNotFound)
	wantErr(t, "RemoveUserFromGroup from a missing group", s.RemoveUserFromGroup(ctx, "ghosts", "alice"), store.ErrNotFound)
	groups, err = s.ListGroupsForUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ListGroupsForUser after removal", names(groups, groupName), []string{"Admins"})
	members, err = s.ListGroupMembers(ctx, "devs")
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ListGroupMembers after removal", names(members, userName), []string{"Bob"})
}

func testRoleCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetRole(ctx, "deployer")
	wantErr(t, "GetRole on an empty store", err, store.ErrNotFound)

	r := newRole("Deployer")
	r.Path = "/service-role/"
	r.Description = "Deploys things — ünïcode and \"quotes\""
	r.MaxSessionDuration = 43200
	r.PermissionsBoundary = "arn:aws:iam::123456789012:policy/Boundary"
	r.Tags = map[string]string{"team": "platform", "empty": ""}
	mustCreateRole(t, s, r)
	for _, name := range []string{"Deployer", "deployer", "DEPLOYER"} {
		got, err := s.GetRole(ctx, name)
		if err != nil {
			t.Fatalf("GetRole(%q): %v", name, err)
		}
		checkRole(t, "GetRole("+name+")", got, r)
	}
	plain := newRole("plain")
	mustCreateRole(t, s, plain)
	got, err := s.GetRole(ctx, "plain")
	if err != nil {
		t.Fatal(err)
	}
	checkRole(t, "role with defaults", got, plain)
	if got.Tags != nil {
		t.Errorf("role created without tags has Tags %#v, want nil", got.Tags)
	}

	other := newRole("DEPLOYER")
	other.ID = "AROAOTHER"
	wantErr(t, "CreateRole differing only in case", s.CreateRole(ctx, other), store.ErrAlreadyExists)
	dupID := newRole("other")
	dupID.ID = r.ID
	wantErr(t, "CreateRole with a taken ID", s.CreateRole(ctx, dupID), store.ErrAlreadyExists)

	var want []string
	for i := range 7 {
		name := fmt.Sprintf("role-%d", 6-i)
		mustCreateRole(t, s, newRole(name))
		want = append(want, name)
	}
	want = append(want, "Deployer", "plain")
	slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	var listed []string
	page := store.Page{MaxItems: 4}
	for calls := 0; ; calls++ {
		if calls > len(want) {
			t.Fatal("ListRoles: pagination does not end")
		}
		roles, next, err := s.ListRoles(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range roles {
			listed = append(listed, role.Name)
			if role.Name == "Deployer" {
				checkRole(t, "listed role", role, r)
			}
		}
		if next == "" {
			break
		}
		page.Marker = next
	}
	wantNames(t, "ListRoles", listed, want)

	errAbort := errors.New("abort")
	if _, err := s.UpdateRole(ctx, "deployer", func(r store.Role) (store.Role, error) {
		r.Description = "changed"
		return r, errAbort
	}); !errors.Is(err, errAbort) {
		t.Fatalf("UpdateRole with a failing fn: %v", err)
	}
	_, err = s.UpdateRole(ctx, "nobody", func(r store.Role) (store.Role, error) { return r, nil })
	wantErr(t, "UpdateRole(nobody)", err, store.ErrNotFound)
	_, err = s.UpdateRole(ctx, "plain", func(r store.Role) (store.Role, error) {
		r.Name = "deployer"
		return r, nil
	})
	wantErr(t, "rename onto a taken role name", err, store.ErrAlreadyExists)

	newTrust := `{"Version":"2012-10-17","Statement":[]}`
	updated, err := s.UpdateRole(ctx, "DEPLOYER", func(old store.Role) (store.Role, error) {
		checkRole(t, "fn argument", old, r)
		old.AssumeRolePolicyDocument = newTrust
		old.MaxSessionDuration = 7200
		old.Description = ""
		old.PermissionsBoundary = ""
		delete(old.Tags, "team")
		old.Tags["new"] = "tag"
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.AssumeRolePolicyDocument = newTrust
	r.MaxSessionDuration = 7200
	r.Description = ""
	r.PermissionsBoundary = ""
	r.Tags = map[string]string{"empty": "", "new": "tag"}
	checkRole(t, "UpdateRole result", updated, r)
	got, err = s.GetRole(ctx, "deployer")
	if err != nil {
		t.Fatal(err)
	}
	checkRole(t, "GetRole after UpdateRole", got, r)

	if err := s.DeleteRole(ctx, "Deployer"); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	_, err = s.GetRole(ctx, "deployer")
	wantErr(t, "GetRole after DeleteRole", err, store.ErrNotFound)
	wantErr(t, "DeleteRole twice", s.DeleteRole(ctx, "deployer"), store.ErrNotFound)
}

func testConcurrentUpdateRole(t *testing.T, s store.Store) {
	const workers, increments = 8, 25
	r := newRole("counter")
	r.Tags = map[string]string{"n": "0"}
	mustCreateRole(t, s, r)

	// Each update increments a counter tag and appends to the description;
	// a lost update shows as a smaller count or a shorter description.
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range workers {
		wg.Go(func() {
			for range increments {
				_, err := s.UpdateRole(t.Context(), "counter", func(r store.Role) (store.Role, error) {
					n, err := strconv.Atoi(r.Tags["n"])
					if err != nil {
						return r, err
					}
					r.Tags["n"] = strconv.Itoa(n + 1)
					r.Description += strconv.Itoa(w)
					return r, nil
				})
				if err != nil {
					t.Errorf("concurrent UpdateRole: %v", err)
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
	got, err := s.GetRole(t.Context(), "counter")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(workers * increments); got.Tags["n"] != want || len(got.Description) != workers*increments {
		t.Errorf("counter = %s, description of %d bytes after %d updates: updates were lost", got.Tags["n"], len(got.Description), workers*increments)
	}
	for w := range workers {
		if c := strings.Count(got.Description, strconv.Itoa(w)); c != increments {
			t.Errorf("worker %d's updates: %d in the description, want %d", w, c, increments)
		}
	}
}

func testInlinePolicies(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("Alice"))
	mustCreateGroup(t, s, newGroup("Devs"))
	mustCreateRole(t, s, newRole("Deployer"))

	for _, kind := range []store.PrincipalKind{store.KindUser, store.KindGroup, store.KindRole} {
		wantErr(t, fmt.Sprintf("PutInlinePolicy on a missing %s", kind),
			s.PutInlinePolicy(ctx, store.InlinePolicy{Kind: kind, Owner: "ghost", Name: "p", Document: doc("x")}), store.ErrNotFound)
		_, err := s.ListInlinePolicies(ctx, kind, "ghost")
		wantErr(t, fmt.Sprintf("ListInlinePolicies of a missing %s", kind), err, store.ErrNotFound)
		_, err = s.GetInlinePolicy(ctx, kind, "ghost", "p")
		wantErr(t, fmt.Sprintf("GetInlinePolicy of a missing %s", kind), err, store.ErrNotFound)
	}

	ps, err := s.ListInlinePolicies(ctx, store.KindUser, "alice")
	if err != nil || ps == nil || len(ps) != 0 {
		t.Fatalf("ListInlinePolicies of a user without policies = %#v, %v; want an empty list", ps, err)
	}

	// The same policy name on each kind of owner: independent policies.
	// Documents are stored verbatim, whitespace and all.
	verbatim := "{\n  \"Version\": \"2012-10-17\",\r\n\t\"Statement\": []  }\n"
	mustPutInline(t, s, store.KindUser, "alice", "ReadOnly", verbatim)
	mustPutInline(t, s, store.KindGroup, "devs", "ReadOnly", doc("group"))
	mustPutInline(t, s, store.KindRole, "deployer", "ReadOnly", doc("role"))
	mustPutInline(t, s, store.KindUser, "ALICE", "zeta", doc("zeta"))
	mustPutInline(t, s, store.KindUser, "alice", "Alpha", doc("alpha"))

	for _, tc := range []struct {
		kind        store.PrincipalKind
		owner, want string
		document    string
	}{
		{store.KindUser, "alice", "Alice", verbatim},
		{store.KindGroup, "DEVS", "Devs", doc("group")},
		{store.KindRole, "Deployer", "Deployer", doc("role")},
	} {
		got, err := s.GetInlinePolicy(ctx, tc.kind, tc.owner, "readonly")
		if err != nil {
			t.Fatalf("GetInlinePolicy(%s %q): %v", tc.kind, tc.owner, err)
		}
		want := store.InlinePolicy{Kind: tc.kind, Owner: tc.want, Name: "ReadOnly", Document: tc.document}
		if got != want {
			t.Errorf("GetInlinePolicy(%s %q) = %+v, want %+v", tc.kind, tc.owner, got, want)
		}
	}
	_, err = s.GetInlinePolicy(ctx, store.KindUser, "alice", "nope")
	wantErr(t, "GetInlinePolicy of a missing policy", err, store.ErrNotFound)

	ps, err = s.ListInlinePolicies(ctx, store.KindUser, "ALICE")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.InlinePolicy{
		{Kind: store.KindUser, Owner: "Alice", Name: "Alpha", Document: doc("alpha")},
		{Kind: store.KindUser, Owner: "Alice", Name: "ReadOnly", Document: verbatim},
		{Kind: store.KindUser, Owner: "Alice", Name: "zeta", Document: doc("zeta")},
	}
	if !slices.Equal(ps, want) {
		t.Errorf("ListInlinePolicies = %+v, want %+v", ps, want)
	}

	// Putting under an existing name (in any case) replaces document and
	// spelling: still one policy.
	mustPutInline(t, s, store.KindUser, "alice", "READONLY", doc("replaced"))
	got, err := s.GetInlinePolicy(ctx, store.KindUser, "alice", "ReadOnly")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "READONLY" || got.Document != doc("replaced") {
		t.Errorf("after replacing: %+v", got)
	}
	if ps, err := s.ListInlinePolicies(ctx, store.KindUser, "alice"); err != nil || len(ps) != 3 {
		t.Errorf("ListInlinePolicies after replacing = %d policies, %v; want 3", len(ps), err)
	}
	// The group's and the role's policies of the same name are untouched.
	if got, err := s.GetInlinePolicy(ctx, store.KindGroup, "devs", "ReadOnly"); err != nil || got.Document != doc("group") {
		t.Errorf("group's policy after replacing the user's: %+v, %v", got, err)
	}

	if err := s.DeleteInlinePolicy(ctx, store.KindUser, "Alice", "readonly"); err != nil {
		t.Fatalf("DeleteInlinePolicy: %v", err)
	}
	wantErr(t, "DeleteInlinePolicy twice", s.DeleteInlinePolicy(ctx, store.KindUser, "alice", "ReadOnly"), store.ErrNotFound)
	wantErr(t, "DeleteInlinePolicy of a missing owner", s.DeleteInlinePolicy(ctx, store.KindRole, "ghost", "ReadOnly"), store.ErrNotFound)
	_, err = s.GetInlinePolicy(ctx, store.KindUser, "alice", "ReadOnly")
	wantErr(t, "GetInlinePolicy after delete", err, store.ErrNotFound)
	if got, err := s.GetInlinePolicy(ctx, store.KindRole, "deployer", "ReadOnly"); err != nil || got.Document != doc("role") {
		t.Errorf("role's policy after deleting the user's: %+v, %v", got, err)
	}
}

func testPrincipalKindValidation(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("alice"))
	mustCreatePolicy(t, s, newPolicy("p"), doc("p"))
	const bad = store.PrincipalKind("users; DROP TABLE users")
	// A bad kind is a programming error, not a missing record.
	notSentinel := func(what string, err error) {
		t.Helper()
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("%s with kind %q: %v, want a non-sentinel error", what, bad, err)
		}
	}
	notSentinel("PutInlinePolicy", s.PutInlinePolicy(ctx, store.InlinePolicy{Kind: bad, Owner: "alice", Name: "x", Document: "{}"}))
	_, err := s.GetInlinePolicy(ctx, bad, "alice", "x")
	notSentinel("GetInlinePolicy", err)
	_, err = s.ListInlinePolicies(ctx, bad, "alice")
	notSentinel("ListInlinePolicies", err)
	notSentinel("DeleteInlinePolicy", s.DeleteInlinePolicy(ctx, bad, "alice", "x"))
	notSentinel("AttachPolicy", s.AttachPolicy(ctx, store.Attachment{Kind: bad, Owner: "alice", PolicyName: "p"}, 0))
	notSentinel("DetachPolicy", s.DetachPolicy(ctx, store.Attachment{Kind: bad, Owner: "alice", PolicyName: "p"}))
	_, err = s.ListAttachedPolicies(ctx, bad, "alice")
	notSentinel("ListAttachedPolicies", err)
	_, err = s.EffectivePolicies(ctx, bad, "alice")
	notSentinel("EffectivePolicies", err)
	mustGetUser(t, s, "alice")
}

func testManagedPolicyCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetManagedPolicy(ctx, "admin")
	wantErr(t, "GetManagedPolicy on an empty store", err, store.ErrNotFound)

	p := newPolicy("Admin")
	p.Path = "/org/"
	p.Description = "Everything"
	p.Tags = map[string]string{"owner": "sec"}
	p.DefaultVersionID = "v7" // ignored: a new policy starts at v1
	p.AttachmentCount = 3     // ignored: computed
	document := doc("admin") + "\n"
	mustCreatePolicy(t, s, p, document)
	p.DefaultVersionID = "v1"
	p.AttachmentCount = 0
	p.UpdatedAt = p.CreatedAt // zero UpdatedAt means CreatedAt
	for _, name := range []string{"Admin", "admin", "ADMIN"} {
		checkPolicy(t, "GetManagedPolicy("+name+")", mustGetPolicy(t, s, name), p)
	}
	v, err := s.GetPolicyVersion(ctx, "admin", "v1")
	if err != nil {
		t.Fatal(err)
	}
	checkVersion(t, "v1", v, store.PolicyVersion{PolicyName: "Admin", VersionID: "v1", Document: document, IsDefault: true, CreatedAt: base})

	// An explicit UpdatedAt is kept.
	q := newPolicy("other")
	q.UpdatedAt = base.Add(time.Hour)
	mustCreatePolicy(t, s, q, doc("other"))
	q.DefaultVersionID = "v1"
	checkPolicy(t, "policy with an explicit UpdatedAt", mustGetPolicy(t, s, "other"), q)

	// Refused creates write nothing: no policy, no stray version.
	dup := newPolicy("ADMIN")
	dup.ID = "ANPAOTHER"
	wantErr(t, "CreateManagedPolicy differing only in case", s.CreateManagedPolicy(ctx, dup, doc("dup")), store.ErrAlreadyExists)
	dupID := newPolicy("third")
	dupID.ID = p.ID
	wantErr(t, "CreateManagedPolicy with a taken ID", s.CreateManagedPolicy(ctx, dupID, doc("dup")), store.ErrAlreadyExists)
	_, err = s.GetManagedPolicy(ctx, "third")
	wantErr(t, "GetManagedPolicy after a refused create", err, store.ErrNotFound)
	vs, err := s.ListPolicyVersions(ctx, "admin")
	if err != nil || len(vs) != 1 || vs[0].Document != document {
		t.Errorf("versions after refused creates = %+v, %v; want v1 only", vs, err)
	}
	dupID.ID = "ANPATHIRD"
	mustCreatePolicy(t, s, dupID, doc("third"))

	if err := s.DeleteManagedPolicy(ctx, "ADMIN"); err != nil {
		t.Fatalf("DeleteManagedPolicy: %v", err)
	}
	_, err = s.GetManagedPolicy(ctx, "admin")
	wantErr(t, "GetManagedPolicy after delete", err, store.ErrNotFound)
	_, err = s.GetPolicyVersion(ctx, "admin", "v1")
	wantErr(t, "GetPolicyVersion after delete", err, store.ErrNotFound)
	_, err = s.ListPolicyVersions(ctx, "admin")
	wantErr(t, "ListPolicyVersions after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteManagedPolicy twice", s.DeleteManagedPolicy(ctx, "admin"), store.ErrNotFound)

	// The name is free again, and the new policy starts over at v1.
	mustCreatePolicy(t, s, p, doc("again"))
	if got := mustGetPolicy(t, s, "admin"); got.DefaultVersionID != "v1" {
		t.Errorf("recreated policy DefaultVersionID = %q, want v1", got.DefaultVersionID)
	}
}

func testListManagedPolicies(t *testing.T, s store.Store) {
	ctx := t.Context()
	ps, marker, err := s.ListManagedPolicies(ctx, store.Page{}, false)
	if err != nil || len(ps) != 0 || marker != "" {
		t.Fatalf("ListManagedPolicies on an empty store = %v, %q, %v", ps, marker, err)
	}
	mustCreateUser(t, s, newUser("alice"))
	var all, attached []string
	for i := range 9 {
		name := fmt.Sprintf("Policy-%d", 8-i)
		mustCreatePolicy(t, s, newPolicy(name), doc(name))
		all = append(all, name)
		if i%3 == 0 {
			mustAttach(t, s, store.KindUser, "alice", name)
			attached = append(attached, name)
		}
	}
	slices.Sort(all)
	slices.Sort(attached)
	list := func(onlyAttached bool, size int) []string {
		var got []string
		page := store.Page{MaxItems: size}
		for calls := 0; ; calls++ {
			if calls > len(all) {
				t.Fatalf("ListManagedPolicies(%v, %d): pagination does not end", onlyAttached, size)
			}
			ps, next, err := s.ListManagedPolicies(ctx, page, onlyAttached)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) > size || (next != "" && len(ps) != size) {
				t.Fatalf("ListManagedPolicies(%+v, %v) returned %d policies, marker %q", page, onlyAttached, len(ps), next)
			}
			for _, p := range ps {
				if want := 0; slices.Contains(attached, p.Name) {
					want = 1
					if p.AttachmentCount != want {
						t.Errorf("listed %s: AttachmentCount %d, want %d", p.Name, p.AttachmentCount, want)
					}
				} else if p.AttachmentCount != want {
					t.Errorf("listed %s: AttachmentCount %d, want %d", p.Name, p.AttachmentCount, want)
				}
				got = append(got, p.Name)
			}
			if next == "" {
				return got
			}
			page.Marker = next
		}
	}
	for _, size := range []int{1, 2, 4, 100} {
		wantNames(t, fmt.Sprintf("all policies, MaxItems %d", size), list(false, size), all)
		wantNames(t, fmt.Sprintf("attached policies, MaxItems %d", size), list(true, size), attached)
	}
}

func testPolicyVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreatePolicy(t, s, newPolicy("Admin"), doc("v1"))
	at := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }

	_, err := s.CreatePolicyVersion(ctx, "ghost", doc("x"), false, at(1))
	wantErr(t, "CreatePolicyVersion of a missing policy", err, store.ErrNotFound)

	// v2..v5; v3 becomes the default.
	for n := 2; n <= store.MaxPolicyVersions; n++ {
		v, err := s.CreatePolicyVersion(ctx, "ADMIN", doc(fmt.Sprintf("v%d", n)), n == 3, at(n))
		if err != nil {
			t.Fatalf("CreatePolicyVersion #%d: %v", n, err)
		}
		checkVersion(t, fmt.Sprintf("CreatePolicyVersion #%d", n), v, store.PolicyVersion{
			PolicyName: "Admin", VersionID: fmt.Sprintf("v%d", n), Document: doc(fmt.Sprintf("v%d", n)), IsDefault: n == 3, CreatedAt: at(n),
		})
	}
	p := mustGetPolicy(t, s, "admin")
	if p.DefaultVersionID != "v3" || !sameTime(p.UpdatedAt, at(5)) || !sameTime(p.CreatedAt, base) {
		t.Errorf("policy after creating versions: DefaultVersionID %q, UpdatedAt %v, CreatedAt %v; want v3, %v, %v",
			p.DefaultVersionID, p.UpdatedAt, p.CreatedAt, at(5), base)
	}
	checkDefaults := func(what, want string, ids ...string) {
		t.Helper()
		vs, err := s.ListPolicyVersions(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		defaults := 0
		for _, v := range vs {
			got = append(got, v.VersionID)
			if v.IsDefault {
				defaults++
				if v.VersionID != want {
					t.Errorf("%s: default is %s, want %s", what, v.VersionID, want)
				}
			}
		}
		wantNames(t, what+": versions", got, ids)
		if defaults != 1 {
			t.Errorf("%s: %d versions are the default, want exactly 1", what, defaults)
		}
		if p := mustGetPolicy(t, s, "admin"); p.DefaultVersionID != want {
			t.Errorf("%s: DefaultVersionID %q, want %q", what, p.DefaultVersionID, want)
		}
	}
	checkDefaults("after v2..v5", "v3", "v1", "v2", "v3", "v4", "v5")

	// A sixth version exceeds the limit, and nothing is written.
	_, err = s.CreatePolicyVersion(ctx, "admin", doc("v6"), true, at(6))
	wantErr(t, "CreatePolicyVersion beyond the limit", err, store.ErrLimitExceeded)
	checkDefaults("after the refused sixth version", "v3", "v1", "v2", "v3", "v4", "v5")
	if p := mustGetPolicy(t, s, "admin"); !sameTime(p.UpdatedAt, at(5)) {
		t.Errorf("the refused version moved UpdatedAt to %v", p.UpdatedAt)
	}

	// The default version cannot be deleted; other versions can, and their
	// ids are never reused.
	wantErr(t, "DeletePolicyVersion of the default", s.DeletePolicyVersion(ctx, "admin", "v3"), store.ErrConflict)
	if err := s.DeletePolicyVersion(ctx, "Admin", "v5"); err != nil {
		t.Fatalf("DeletePolicyVersion(v5): %v", err)
	}
	wantErr(t, "DeletePolicyVersion twice", s.DeletePolicyVersion(ctx, "admin", "v5"), store.ErrNotFound)
	_, err = s.GetPolicyVersion(ctx, "admin", "v5")
	wantErr(t, "GetPolicyVersion of a deleted version", err, store.ErrNotFound)
	v, err := s.CreatePolicyVersion(ctx, "admin", doc("v6"), false, at(6))
	if err != nil {
		t.Fatal(err)
	}
	if v.VersionID != "v6" {
		t.Errorf("version created after deleting v5 is %s, want v6 (ids are never reused)", v.VersionID)
	}
	if err := s.DeletePolicyVersion(ctx, "admin", "v6"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePolicyVersion(ctx, "admin", "v4"); err != nil {
		t.Fatal(err)
	}
	v, err = s.CreatePolicyVersion(ctx, "admin", doc("v7"), false, at(7))
	if err != nil || v.VersionID != "v7" {
		t.Fatalf("version after deleting the highest = %+v, %v; want v7", v, err)
	}
	checkDefaults("after deletes", "v3", "v1", "v2", "v3", "v7")

	// SetDefaultPolicyVersion flips the default: exactly one version is it.
	if err := s.SetDefaultPolicyVersion(ctx, "ADMIN", "v1", at(8)); err != nil {
		t.Fatalf("SetDefaultPolicyVersion: %v", err)
	}
	checkDefaults("after SetDefaultPolicyVersion(v1)", "v1", "v1", "v2", "v3", "v7")
	if p := mustGetPolicy(t, s, "admin"); !sameTime(p.UpdatedAt, at(8)) {
		t.Errorf("UpdatedAt after SetDefaultPolicyVersion = %v, want %v", p.UpdatedAt, at(8))
	}
	if err := s.SetDefaultPolicyVersion(ctx, "admin", "v1", at(9)); err != nil {
		t.Fatalf("SetDefaultPolicyVersion to the current default: %v", err)
	}
	if p := mustGetPolicy(t, s, "admin"); !sameTime(p.UpdatedAt, at(8)) {
		t.Errorf("setting the current default again moved UpdatedAt to %v", p.UpdatedAt)
	}
	v, err = s.GetPolicyVersion(ctx, "admin", "v3")
	if err != nil {
		t.Fatal(err)
	}
	checkVersion(t, "former default", v, store.PolicyVersion{PolicyName: "Admin", VersionID: "v3", Document: doc("v3"), CreatedAt: at(3)})
	// The former default can go now; the new one cannot.
	if err := s.DeletePolicyVersion(ctx, "admin", "v3"); err != nil {
		t.Fatalf("DeletePolicyVersion of the former default: %v", err)
	}
	wantErr(t, "DeletePolicyVersion of the new default", s.DeletePolicyVersion(ctx, "admin", "v1"), store.ErrConflict)

	// Creating with setDefault makes the new version the default.
	v, err = s.CreatePolicyVersion(ctx, "admin", doc("v8"), true, at(10))
	if err != nil || !v.IsDefault || v.VersionID != "v8" {
		t.Fatalf("CreatePolicyVersion(setDefault) = %+v, %v", v, err)
	}
	checkDefaults("after CreatePolicyVersion(setDefault)", "v8", "v1", "v2", "v7", "v8")

	// Missing and malformed version ids do not exist.
	for _, id := range []string{"v9", "v0", "v3", "V1", "v01", "1", "", "v", "v1x", "v-1", "v99999999999999999999"} {
		_, err := s.GetPolicyVersion(ctx, "admin", id)
		wantErr(t, fmt.Sprintf("GetPolicyVersion(%q)", id), err, store.ErrNotFound)
		wantErr(t, fmt.Sprintf("SetDefaultPolicyVersion(%q)", id), s.SetDefaultPolicyVersion(ctx, "admin", id, at(11)), store.ErrNotFound)
		wantErr(t, fmt.Sprintf("DeletePolicyVersion(%q)", id), s.DeletePolicyVersion(ctx, "admin", id), store.ErrNotFound)
	}
	checkDefaults("after refused changes", "v8", "v1", "v2", "v7", "v8")
	_, err = s.GetPolicyVersion(ctx, "ghost", "v1")
	wantErr(t, "GetPolicyVersion of a missing policy", err, store.ErrNotFound)
	_, err = s.ListPolicyVersions(ctx, "ghost")
	wantErr(t, "ListPolicyVersions of a missing policy", err, store.ErrNotFound)
	wantErr(t, "SetDefaultPolicyVersion of a missing policy", s.SetDefaultPolicyVersion(ctx, "ghost", "v1", at(11)), store.ErrNotFound)
	wantErr(t, "DeletePolicyVersion of a missing policy", s.DeletePolicyVersion(ctx, "ghost", "v1"), store.ErrNotFound)
}

// Concurrent CreatePolicyVersion calls must neither exceed the limit nor
// hand out one id twice.
func testConcurrentCreatePolicyVersion(t *testing.T, s store.Store) {
	mustCreatePolicy(t, s, newPolicy("p"), doc("v1"))
	const workers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	limited := 0
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			v, err := s.CreatePolicyVersion(t.Context(), "p", doc(strconv.Itoa(i)), i%2 == 0, base.Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, store.ErrLimitExceeded):
				limited++
			case err != nil:
				t.Errorf("CreatePolicyVersion: %v", err)
			default:
				ids = append(ids, v.VersionID)
			}
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(ids)
	if want := []string{"v2", "v3", "v4", "v5"}; !slices.Equal(ids, want) || limited != workers-len(want) {
		t.Errorf("concurrent creates got ids %v and %d limit errors; want %v and %d", ids, limited, want, workers-len(want))
	}
	vs, err := s.ListPolicyVersions(t.Context(), "p")
	if err != nil || len(vs) != store.MaxPolicyVersions {
		t.Errorf("ListPolicyVersions = %d versions, %v; want %d", len(vs), err, store.MaxPolicyVersions)
	}
}

func testAttachments(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("Alice"))
	mustCreateUser(t, s, newUser("bob"))
	mustCreateGroup(t, s, newGroup("Devs"))
	mustCreateRole(t, s, newRole("Deployer"))
	admin := newPolicy("Admin")
	mustCreatePolicy(t, s, admin, doc("admin"))
	mustCreatePolicy(t, s, newPolicy("audit"), doc("audit"))

	for _, a := range []store.Attachment{
		{Kind: store.KindUser, Owner: "ghost", PolicyName: "admin"},
		{Kind: store.KindGroup, Owner: "ghost", PolicyName: "admin"},
		{Kind: store.KindRole, Owner: "ghost", PolicyName: "admin"},
		{Kind: store.KindUser, Owner: "alice", PolicyName: "ghost"},
	} {
		wantErr(t, fmt.Sprintf("AttachPolicy(%+v)", a), s.AttachPolicy(ctx, a, 0), store.ErrNotFound)
	}
	ents, err := s.ListEntitiesForPolicy(ctx, "admin")
	if err != nil || ents == nil || len(ents) != 0 {
		t.Fatalf("ListEntitiesForPolicy of an unattached policy = %#v, %v; want an empty list", ents, err)
	}
	_, err = s.ListEntitiesForPolicy(ctx, "ghost")
	wantErr(t, "ListEntitiesForPolicy of a missing policy", err, store.ErrNotFound)
	ps, err := s.ListAttachedPolicies(ctx, store.KindUser, "alice")
	if err != nil || ps == nil || len(ps) != 0 {
		t.Fatalf("ListAttachedPolicies of a user with none = %#v, %v; want an empty list", ps, err)
	}

	mustAttach(t, s, store.KindRole, "deployer", "admin")
	mustAttach(t, s, store.KindUser, "bob", "admin")
	mustAttach(t, s, store.KindGroup, "DEVS", "Admin")
	mustAttach(t, s, store.KindUser, "alice", "ADMIN")
	mustAttach(t, s, store.KindUser, "ALICE", "admin") // again: idempotent
	mustAttach(t, s, store.KindUser, "alice", "audit")

	admin.DefaultVersionID = "v1"
	admin.UpdatedAt = admin.CreatedAt
	admin.AttachmentCount = 4
	checkPolicy(t, "GetManagedPolicy after attaching", mustGetPolicy(t, s, "admin"), admin)
	ents, err = s.ListEntitiesForPolicy(ctx, "ADMIN")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Attachment{
		{Kind: store.KindUser, Owner: "Alice", PolicyName: "Admin"},
		{Kind: store.KindUser, Owner: "bob", PolicyName: "Admin"},
		{Kind: store.KindGroup, Owner: "Devs", PolicyName: "Admin"},
		{Kind: store.KindRole, Owner: "Deployer", PolicyName: "Admin"},
	}
	if !slices.Equal(ents, want) {
		t.Errorf("ListEntitiesForPolicy = %+v, want %+v", ents, want)
	}
	ps, err = s.ListAttachedPolicies(ctx, store.KindUser, "alice")
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "ListAttachedPolicies(alice)", names(ps, policyName), []string{"Admin", "audit"})
	if len(ps) == 2 {
		checkPolicy(t, "attached policy", ps[0], admin)
	}
	for _, kind := range []store.PrincipalKind{store.KindGroup, store.KindRole} {
		ps, err := s.ListAttachedPolicies(ctx, kind, map[store.PrincipalKind]string{store.KindGroup: "devs", store.KindRole: "deployer"}[kind])
		if err != nil {
			t.Fatal(err)
		}
		wantNames(t, fmt.Sprintf("ListAttachedPolicies(%s)", kind), names(ps, policyName), []string{"Admin"})
		_, err = s.ListAttachedPolicies(ctx, kind, "ghost")
		wantErr(t, fmt.Sprintf("ListAttachedPolicies of a missing %s", kind), err, store.ErrNotFound)
	}

	if err := s.DetachPolicy(ctx, store.Attachment{Kind: store.KindUser, Owner: "ALICE", PolicyName: "admin"}); err != nil {
		t.Fatalf("DetachPolicy: %v", err)
	}
	wantErr(t, "DetachPolicy twice", s.DetachPolicy(ctx, store.Attachment{Kind: store.KindUser, Owner: "alice", PolicyName: "admin"}), store.ErrNotFound)
	wantErr(t, "DetachPolicy of a policy attached to another kind",
		s.DetachPolicy(ctx, store.Attachment{Kind: store.KindRole, Owner: "bob", PolicyName: "admin"}), store.ErrNotFound)
	wantErr(t, "DetachPolicy of a missing policy",
		s.DetachPolicy(ctx, store.Attachment{Kind: store.KindUser, Owner: "alice", PolicyName: "ghost"}), store.ErrNotFound)
	if got := mustGetPolicy(t, s, "admin").AttachmentCount; got != 3 {
		t.Errorf("AttachmentCount after detaching = %d, want 3", got)
	}
	ents, err = s.ListEntitiesForPolicy(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ents, want[1:]) {
		t.Errorf("ListEntitiesForPolicy after detaching = %+v, want %+v", ents, want[1:])
	}
}

func testDeleteConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreatePolicy(t, s, newPolicy("p"), doc("p"))
	mustCreateGroup(t, s, newGroup("other"))

	type cause struct {
		name        string
		add, remove func(t *testing.T)
	}
	check := func(what string, create func(t *testing.T), del func() error, exists func() error, causes []cause) {
		t.Helper()
		for _, c := range causes {
			create(t)
			c.add(t)
			wantErr(t, fmt.Sprintf("delete %s with %s", what, c.name), del(), store.ErrConflict)
			if err := exists(); err != nil {
				t.Fatalf("%s after a refused delete (%s): %v", what, c.name, err)
			}
			c.remove(t)
			if err := del(); err != nil {
				t.Fatalf("delete %s after removing %s: %v", what, c.name, err)
			}
			if err := exists(); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s after delete: %v, want ErrNotFound", what, err)
			}
		}
		// Every cause at once: still a conflict, and each must go.
		create(t)
		for _, c := range causes {
			c.add(t)
		}
		for i, c := range causes {
			wantErr(t, fmt.Sprintf("delete %s with %d causes left", what, len(causes)-i), del(), store.ErrConflict)
			c.remove(t)
		}
		if err := del(); err != nil {
			t.Fatalf("delete %s after removing every cause: %v", what, err)
		}
	}
	fail := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// Users: access keys, group memberships, inline policies, attached
	// policies.
	check("user",
		func(t *testing.T) { mustCreateUser(t, s, newUser("alice")) },
		func() error { return s.DeleteUser(ctx, "alice") },
		func() error { _, err := s.GetUser(ctx, "alice"); return err },
		[]cause{
			{"an access key",
				func(t *testing.T) { mustCreateKey(t, s, newKey("AKIAALICE", "alice", base)) },
				func(t *testing.T) { fail(t, s.DeleteAccessKey(ctx, "AKIAALICE")) }},
			{"a group membership",
				func(t *testing.T) { mustAddToGroup(t, s, "other", "alice") },
				func(t *testing.T) { fail(t, s.RemoveUserFromGroup(ctx, "other", "alice")) }},
			{"an inline policy",
				func(t *testing.T) { mustPutInline(t, s, store.KindUser, "alice", "inline", doc("i")) },
				func(t *testing.T) { fail(t, s.DeleteInlinePolicy(ctx, store.KindUser, "alice", "inline")) }},
			{"an attached policy",
				func(t *testing.T) { mustAttach(t, s, store.KindUser, "alice", "p") },
				func(t *testing.T) {
					fail(t, s.DetachPolicy(ctx, store.Attachment{Kind: store.KindUser, Owner: "alice", PolicyName: "p"}))
				}},
		})

	// Groups: members, inline policies, attached policies.
	mustCreateUser(t, s, newUser("bob"))
	check("group",
		func(t *testing.T) { mustCreateGroup(t, s, newGroup("devs")) },
		func() error { return s.DeleteGroup(ctx, "devs") },
		func() error { _, err := s.GetGroup(ctx, "devs"); return err },
		[]cause{
			{"a member",
				func(t *testing.T) { mustAddToGroup(t, s, "devs", "bob") },
				func(t *testing.T) { fail(t, s.RemoveUserFromGroup(ctx, "devs", "bob")) }},
			{"an inline policy",
				func(t *testing.T) { mustPutInline(t, s, store.KindGroup, "devs", "inline", doc("i")) },
				func(t *testing.T) { fail(t, s.DeleteInlinePolicy(ctx, store.KindGroup, "devs", "inline")) }},
			{"an attached policy",
				func(t *testing.T) { mustAttach(t, s, store.KindGroup, "devs", "p") },
				func(t *testing.T) {
					fail(t, s.DetachPolicy(ctx, store.Attachment{Kind: store.KindGroup, Owner: "devs", PolicyName: "p"}))
				}},
		})

	// Roles: inline policies, attached policies.
	check("role",
		func(t *testing.T) { mustCreateRole(t, s, newRole("deployer")) },
		func() error { return s.DeleteRole(ctx, "deployer") },
		func() error { _, err := s.GetRole(ctx, "deployer"); return err },
		[]cause{
			{"an inline policy",
				func(t *testing.T) { mustPutInline(t, s, store.KindRole, "deployer", "inline", doc("i")) },
				func(t *testing.T) { fail(t, s.DeleteInlinePolicy(ctx, store.KindRole, "deployer", "inline")) }},
			{"an attached policy",
				func(t *testing.T) { mustAttach(t, s, store.KindRole, "deployer", "p") },
				func(t *testing.T) {
					fail(t, s.DetachPolicy(ctx, store.Attachment{Kind: store.KindRole, Owner: "deployer", PolicyName: "p"}))
				}},
		})

	// Managed policies: attachments (to each kind), non-default versions.
	mustCreateRole(t, s, newRole("r"))
	check("policy",
		func(t *testing.T) { mustCreatePolicy(t, s, newPolicy("doomed"), doc("d")) },
		func() error { return s.DeleteManagedPolicy(ctx, "doomed") },
		func() error { _, err := s.GetManagedPolicy(ctx, "doomed"); return err },
		[]cause{
			{"a user attachment",
				func(t *testing.T) { mustAttach(t, s, store.KindUser, "bob", "doomed") },
				func(t *testing.T) {
					fail(t, s.DetachPolicy(ctx, store.Attachment{Kind: store.KindUser, Owner: "bob", PolicyName: "doomed"}))
				}},
			{"a group attachment",
				func(t *testing.T) { mustAttach(t, s, store.KindGroup, "other", "doomed") },
				func(t *testing.T) {
					fail(t, s.DetachPolicy(ctx, store.Attachment{Kind: store.KindGroup, Owner: "other", PolicyName: "doomed"}))
				}},
			{"a role attachment",
				func(t *testing.T) { mustAttach(t, s, store.KindRole, "r", "doomed") },
				func(t *testing.T) {
					fail(t, s.DetachPolicy(ctx, store.Attachment{Kind: store.KindRole, Owner: "r", PolicyName: "doomed"}))
				}},
			{"a non-default version",
				func(t *testing.T) {
					if _, err := s.CreatePolicyVersion(ctx, "doomed", doc("v2"), false, base); err != nil {
						t.Fatal(err)
					}
				},
				func(t *testing.T) {
					vs, err := s.ListPolicyVersions(ctx, "doomed")
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range vs {
						if !v.IsDefault {
							fail(t, s.DeletePolicyVersion(ctx, "doomed", v.VersionID))
						}
					}
				}},
		})

	// The error names the cause.
	mustCreateUser(t, s, newUser("carol"))
	mustAddToGroup(t, s, "other", "carol")
	err := s.DeleteUser(ctx, "carol")
	wantErr(t, "DeleteUser with a membership", err, store.ErrConflict)
	if !strings.Contains(err.Error(), "group") {
		t.Errorf("DeleteUser conflict %q does not name the group membership", err)
	}
}

// A delete racing with a new reference to the record must end one of two
// ways: the delete wins and the reference is refused (ErrNotFound), or the
// reference wins and the delete is refused (ErrConflict). Never both
// succeeding, which would leave an orphan.
func testConcurrentDeleteAndReference(t *testing.T, s store.Store) {
	ctx := t.Context()
	const rounds = 20
	race := func(what string, setup func(i int), del, ref func(i int) error, referenced func(i int) bool) {
		t.Helper()
		deleted, refused := 0, 0
		for i := range rounds {
			setup(i)
			var delErr, refErr error
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() { <-start; delErr = del(i) })
			wg.Go(func() { <-start; refErr = ref(i) })
			close(start)
			wg.Wait()
			switch {
			case delErr == nil && errors.Is(refErr, store.ErrNotFound):
				deleted++
				if referenced(i) {
					t.Errorf("%s round %d: deleted, yet the reference exists", what, i)
				}
			case errors.Is(delErr, store.ErrConflict) && refErr == nil:
				refused++
				if !referenced(i) {
					t.Errorf("%s round %d: delete refused, yet the reference is missing", what, i)
				}
			default:
				t.Fatalf("%s round %d: delete: %v; reference: %v", what, i, delErr, refErr)
			}
		}
		t.Logf("%s: delete won %d times, the reference %d times", what, deleted, refused)
	}

	mustCreateUser(t, s, newUser("holder"))
	mustCreateGroup(t, s, newGroup("holders"))
	race("policy vs attach",
		func(i int) { mustCreatePolicy(t, s, newPolicy(fmt.Sprintf("p%d", i)), doc("p")) },
		func(i int) error { return s.DeleteManagedPolicy(ctx, fmt.Sprintf("p%d", i)) },
		func(i int) error {
			return s.AttachPolicy(ctx, store.Attachment{Kind: store.KindUser, Owner: "holder", PolicyName: fmt.Sprintf("p%d", i)}, 0)
		},
		func(i int) bool {
			ps, err := s.ListAttachedPolicies(ctx, store.KindUser, "holder")
			if err != nil {
				t.Fatal(err)
			}
			return slices.Contains(names(ps, policyName), fmt.Sprintf("p%d", i))
		})
	race("user vs group membership",
		func(i int) { mustCreateUser(t, s, newUser(fmt.Sprintf("u%d", i))) },
		func(i int) error { return s.DeleteUser(ctx, fmt.Sprintf("u%d", i)) },
		func(i int) error { return s.AddUserToGroup(ctx, "holders", fmt.Sprintf("u%d", i), 0) },
		func(i int) bool {
			us, err := s.ListGroupMembers(ctx, "holders")
			if err != nil {
				t.Fatal(err)
			}
			return slices.Contains(names(us, userName), fmt.Sprintf("u%d", i))
		})
	race("role vs inline policy",
		func(i int) { mustCreateRole(t, s, newRole(fmt.Sprintf("r%d", i))) },
		func(i int) error { return s.DeleteRole(ctx, fmt.Sprintf("r%d", i)) },
		func(i int) error {
			return s.PutInlinePolicy(ctx, store.InlinePolicy{Kind: store.KindRole, Owner: fmt.Sprintf("r%d", i), Name: "x", Document: doc("x")})
		},
		func(i int) bool {
			_, err := s.GetInlinePolicy(ctx, store.KindRole, fmt.Sprintf("r%d", i), "x")
			return err == nil
		})
}

func testRenameCarriesRelations(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("bob"))
	mustCreateGroup(t, s, newGroup("devs"))
	mustCreateRole(t, s, newRole("deployer"))
	mustCreatePolicy(t, s, newPolicy("p"), doc("p"))
	mustAddToGroup(t, s, "devs", "bob")
	for _, o := range []struct {
		kind  store.PrincipalKind
		owner string
	}{{store.KindUser, "bob"}, {store.KindGroup, "devs"}, {store.KindRole, "deployer"}} {
		mustPutInline(t, s, o.kind, o.owner, "inline", doc(string(o.kind)))
		mustAttach(t, s, o.kind, o.owner, "p")
	}

	if _, err := s.UpdateUser(ctx, "bob", func(u store.User) (store.User, error) { u.Name = "Robert"; return u, nil }); err != nil {
		t.Fatalf("rename user: %v", err)
	}
	if _, err := s.UpdateGroup(ctx, "devs", func(g store.Group) (store.Group, error) { g.Name = "Developers"; return g, nil }); err != nil {
		t.Fatalf("rename group: %v", err)
	}
	if _, err := s.UpdateRole(ctx, "deployer", func(r store.Role) (store.Role, error) { r.Name = "Shipper"; return r, nil }); err != nil {
		t.Fatalf("rename role: %v", err)
	}

	members, err := s.ListGroupMembers(ctx, "developers")
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "members of the renamed group", names(members, userName), []string{"Robert"})
	groups, err := s.ListGroupsForUser(ctx, "robert")
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, "groups of the renamed user", names(groups, groupName), []string{"Developers"})

	for _, o := range []struct {
		kind             store.PrincipalKind
		oldName, newName string
	}{{store.KindUser, "bob", "Robert"}, {store.KindGroup, "devs", "Developers"}, {store.KindRole, "deployer", "Shipper"}} {
		ip, err := s.GetInlinePolicy(ctx, o.kind, strings.ToUpper(o.newName), "inline")
		if err != nil {
			t.Fatalf("inline policy of the renamed %s: %v", o.kind, err)
		}
		if want := (store.InlinePolicy{Kind: o.kind, Owner: o.newName, Name: "inline", Document: doc(string(o.kind))}); ip != want {
			t.Errorf("inline policy of the renamed %s = %+v, want %+v", o.kind, ip, want)
		}
		ps, err := s.ListAttachedPolicies(ctx, o.kind, o.newName)
		if err != nil {
			t.Fatal(err)
		}
		wantNames(t, fmt.Sprintf("policies attached to the renamed %s", o.kind), names(ps, policyName), []string{"p"})
		_, err = s.ListInlinePolicies(ctx, o.kind, o.oldName)
		wantErr(t, fmt.Sprintf("ListInlinePolicies(old %s name)", o.kind), err, store.ErrNotFound)
		_, err = s.ListAttachedPolicies(ctx, o.kind, o.oldName)
		wantErr(t, fmt.Sprintf("ListAttachedPolicies(old %s name)", o.kind), err, store.ErrNotFound)
	}
	ents, err := s.ListEntitiesForPolicy(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Attachment{
		{Kind: store.KindUser, Owner: "Robert", PolicyName: "p"},
		{Kind: store.KindGroup, Owner: "Developers", PolicyName: "p"},
		{Kind: store.KindRole, Owner: "Shipper", PolicyName: "p"},
	}
	if !slices.Equal(ents, want) {
		t.Errorf("ListEntitiesForPolicy after renames = %+v, want %+v", ents, want)
	}
	eff, err := s.EffectivePolicies(ctx, store.KindUser, "robert")
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, e := range eff {
		sources = append(sources, e.Source)
	}
	wantNames(t, "effective policies of the renamed user", sources, []string{
		"user/Robert/inline/inline", "user/Robert/managed/p@v1",
		"group/Developers/inline/inline", "group/Developers/managed/p@v1",
	})

	// The old names are free, and new principals under them start empty.
	mustCreateUser(t, s, store.User{Name: "bob", Path: "/", ID: "AIDANEWBOB", CreatedAt: base})
	mustCreateGroup(t, s, store.Group{Name: "devs", Path: "/", ID: "AGPANEWDEVS", CreatedAt: base})
	mustCreateRole(t, s, store.Role{Name: "deployer", Path: "/", ID: "AROANEWDEPLOYER", AssumeRolePolicyDocument: "{}", MaxSessionDuration: 3600, CreatedAt: base})
	if eff, err := s.EffectivePolicies(ctx, store.KindUser, "bob"); err != nil || len(eff) != 0 {
		t.Errorf("effective policies of a new user under an old name = %+v, %v; want none", eff, err)
	}
	if m, err := s.ListGroupMembers(ctx, "devs"); err != nil || len(m) != 0 {
		t.Errorf("members of a new group under an old name = %+v, %v; want none", m, err)
	}
	if eff, err := s.EffectivePolicies(ctx, store.KindRole, "deployer"); err != nil || len(eff) != 0 {
		t.Errorf("effective policies of a new role under an old name = %+v, %v; want none", eff, err)
	}
	// Deleting the renamed ones works once their relations are gone.
	wantErr(t, "DeleteUser(renamed, still a member)", s.DeleteUser(ctx, "robert"), store.ErrConflict)
}

func testEffectivePolicies(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.EffectivePolicies(ctx, store.KindUser, "alice")
	wantErr(t, "EffectivePolicies of a missing user", err, store.ErrNotFound)

	mustCreateUser(t, s, newUser("alice"))
	eff, err := s.EffectivePolicies(ctx, store.KindUser, "alice")
	if err != nil || eff == nil || len(eff) != 0 {
		t.Fatalf("EffectivePolicies of a user without policies = %#v, %v; want an empty list", eff, err)
	}

	mustCreateUser(t, s, newUser("bob"))
	mustCreateGroup(t, s, newGroup("Devs"))
	mustCreateGroup(t, s, newGroup("admins"))
	mustCreateGroup(t, s, newGroup("unrelated"))
	mustCreateRole(t, s, newRole("alice")) // same name, other kind: not alice's
	mustAddToGroup(t, s, "devs", "alice")
	mustAddToGroup(t, s, "admins", "alice")
	mustAddToGroup(t, s, "unrelated", "bob")
	mustAddToGroup(t, s, "devs", "bob")

	mustCreatePolicy(t, s, newPolicy("ReadAll"), doc("read-v1"))
	mustCreatePolicy(t, s, newPolicy("Admin"), doc("admin-v1"))
	mustCreatePolicy(t, s, newPolicy("Billing"), doc("billing-v1"))
	mustCreatePolicy(t, s, newPolicy("NotAttachedToAlice"), doc("unused"))
	// ReadAll's default becomes v2; a later non-default v3 must not show.
	if _, err := s.CreatePolicyVersion(ctx, "readall", doc("read-v2"), true, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePolicyVersion(ctx, "readall", doc("read-v3"), false, base); err != nil {
		t.Fatal(err)
	}

	mustPutInline(t, s, store.KindUser, "alice", "Self", doc("alice-self"))
	mustPutInline(t, s, store.KindUser, "alice", "a-first", doc("alice-first"))
	mustAttach(t, s, store.KindUser, "alice", "ReadAll")
	mustPutInline(t, s, store.KindGroup, "devs", "DevTools", doc("devs-tools"))
	mustAttach(t, s, store.KindGroup, "devs", "readall") // also via the user: listed twice, once per source
	mustAttach(t, s, store.KindGroup, "devs", "billing")
	mustAttach(t, s, store.KindGroup, "admins", "admin")
	// Not alice's: bob's, the unrelated group's, the same-named role's.
	mustPutInline(t, s, store.KindUser, "bob", "Bob", doc("bob"))
	mustAttach(t, s, store.KindUser, "bob", "NotAttachedToAlice")
	mustPutInline(t, s, store.KindGroup, "unrelated", "X", doc("unrelated"))
	mustAttach(t, s, store.KindGroup, "unrelated", "NotAttachedToAlice")
	mustPutInline(t, s, store.KindRole, "alice", "RoleOnly", doc("role"))
	mustAttach(t, s, store.KindRole, "alice", "NotAttachedToAlice")

	want := []store.EffectivePolicy{
		{Source: "user/alice/inline/a-first", Kind: store.KindUser, Owner: "alice", PolicyName: "a-first", Document: doc("alice-first")},
		{Source: "user/alice/inline/Self", Kind: store.KindUser, Owner: "alice", PolicyName: "Self", Document: doc("alice-self")},
		{Source: "user/alice/managed/ReadAll@v2", Kind: store.KindUser, Owner: "alice", PolicyName: "ReadAll", Managed: true, VersionID: "v2", Document: doc("read-v2")},
		{Source: "group/admins/managed/Admin@v1", Kind: store.KindGroup, Owner: "admins", PolicyName: "Admin", Managed: true, VersionID: "v1", Document: doc("admin-v1")},
		{Source: "group/Devs/inline/DevTools", Kind: store.KindGroup, Owner: "Devs", PolicyName: "DevTools", Document: doc("devs-tools")},
		{Source: "group/Devs/managed/Billing@v1", Kind: store.KindGroup, Owner: "Devs", PolicyName: "Billing", Managed: true, VersionID: "v1", Document: doc("billing-v1")},
		{Source: "group/Devs/managed/ReadAll@v2", Kind: store.KindGroup, Owner: "Devs", PolicyName: "ReadAll", Managed: true, VersionID: "v2", Document: doc("read-v2")},
	}
	checkEffective := func(what string, want []store.EffectivePolicy) {
		t.Helper()
		got, err := s.EffectivePolicies(ctx, store.KindUser, "ALICE")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %d policies:\n%s\nwant %d:\n%s", what, len(got), effectiveList(got), len(want), effectiveList(want))
		}
	}
	checkEffective("EffectivePolicies(alice)", want)

	// A change of default version shows at once, as does leaving a group.
	if err := s.SetDefaultPolicyVersion(ctx, "readall", "v3", base); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUserFromGroup(ctx, "admins", "alice"); err != nil {
		t.Fatal(err)
	}
	want = slices.Delete(want, 3, 4)
	for i := range want {
		if want[i].PolicyName == "ReadAll" {
			want[i].VersionID = "v3"
			want[i].Document = doc("read-v3")
			want[i].Source = strings.Replace(want[i].Source, "@v2", "@v3", 1)
		}
	}
	checkEffective("EffectivePolicies(alice) after changes", want)
}

func effectiveList(ps []store.EffectivePolicy) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %+v\n", p)
	}
	return b.String()
}

func testEffectivePoliciesOfRoleAndGroup(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, kind := range []store.PrincipalKind{store.KindRole, store.KindGroup} {
		_, err := s.EffectivePolicies(ctx, kind, "x")
		wantErr(t, fmt.Sprintf("EffectivePolicies of a missing %s", kind), err, store.ErrNotFound)
	}
	mustCreateRole(t, s, newRole("Deployer"))
	mustCreateGroup(t, s, newGroup("deployer")) // same name, other kind
	mustCreateUser(t, s, newUser("deployer"))
	mustAddToGroup(t, s, "deployer", "deployer")
	mustCreatePolicy(t, s, newPolicy("Ship"), doc("ship"))
	mustCreatePolicy(t, s, newPolicy("GroupOnly"), doc("group"))
	mustPutInline(t, s, store.KindRole, "deployer", "Trusty", doc("role-inline"))
	mustAttach(t, s, store.KindRole, "deployer", "ship")
	mustPutInline(t, s, store.KindGroup, "deployer", "G", doc("group-inline"))
	mustAttach(t, s, store.KindGroup, "deployer", "grouponly")

	got, err := s.EffectivePolicies(ctx, store.KindRole, "DEPLOYER")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.EffectivePolicy{
		{Source: "role/Deployer/inline/Trusty", Kind: store.KindRole, Owner: "Deployer", PolicyName: "Trusty", Document: doc("role-inline")},
		{Source: "role/Deployer/managed/Ship@v1", Kind: store.KindRole, Owner: "Deployer", PolicyName: "Ship", Managed: true, VersionID: "v1", Document: doc("ship")},
	}
	if !slices.Equal(got, want) {
		t.Errorf("EffectivePolicies(role) =\n%swant\n%s", effectiveList(got), effectiveList(want))
	}
	got, err = s.EffectivePolicies(ctx, store.KindGroup, "deployer")
	if err != nil {
		t.Fatal(err)
	}
	want = []store.EffectivePolicy{
		{Source: "group/deployer/inline/G", Kind: store.KindGroup, Owner: "deployer", PolicyName: "G", Document: doc("group-inline")},
		{Source: "group/deployer/managed/GroupOnly@v1", Kind: store.KindGroup, Owner: "deployer", PolicyName: "GroupOnly", Managed: true, VersionID: "v1", Document: doc("group")},
	}
	if !slices.Equal(got, want) {
		t.Errorf("EffectivePolicies(group) =\n%swant\n%s", effectiveList(got), effectiveList(want))
	}
	// The user gets its group's policies, not the same-named role's.
	got, err = s.EffectivePolicies(ctx, store.KindUser, "deployer")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("EffectivePolicies(user) =\n%swant\n%s", effectiveList(got), effectiveList(want))
	}
}

func testSAMLProviders(t *testing.T, s store.Store) {
	ctx := t.Context()
	ps, err := s.ListSAMLProviders(ctx)
	if err != nil || ps == nil || len(ps) != 0 {
		t.Fatalf("ListSAMLProviders on an empty store = %#v, %v; want an empty list", ps, err)
	}
	_, err = s.GetSAMLProvider(ctx, "okta")
	wantErr(t, "GetSAMLProvider on an empty store", err, store.ErrNotFound)

	okta := store.SAMLProvider{
		Name:             "Okta",
		MetadataDocument: `<?xml version="1.0"?><EntityDescriptor entityID="http://www.okta.com/x"/>`,
		CreatedAt:        base,
		ValidUntil:       time.Date(2125, 3, 14, 0, 0, 0, 123456789, time.FixedZone("X", 3600)),
		Tags:             map[string]string{"env": "prod"},
	}
	adfs := store.SAMLProvider{Name: "adfs", MetadataDocument: "<EntityDescriptor/>", CreatedAt: base.Add(time.Hour)}
	for _, p := range []store.SAMLProvider{okta, adfs} {
		if err := s.CreateSAMLProvider(ctx, p); err != nil {
			t.Fatalf("CreateSAMLProvider(%q): %v", p.Name, err)
		}
	}
	okta.ValidUntil = okta.ValidUntil.Truncate(time.Microsecond)
	dup := adfs
	dup.Name = "ADFS"
	wantErr(t, "CreateSAMLProvider differing only in case", s.CreateSAMLProvider(ctx, dup), store.ErrAlreadyExists)

	for _, name := range []string{"Okta", "okta", "OKTA"} {
		got, err := s.GetSAMLProvider(ctx, name)
		if err != nil {
			t.Fatalf("GetSAMLProvider(%q): %v", name, err)
		}
		checkSAML(t, "GetSAMLProvider("+name+")", got, okta)
	}
	got, err := s.GetSAMLProvider(ctx, "adfs")
	if err != nil {
		t.Fatal(err)
	}
	checkSAML(t, "provider without expiry or tags", got, adfs)
	if got.Tags != nil || !got.ValidUntil.IsZero() {
		t.Errorf("provider without expiry or tags: ValidUntil %v, Tags %#v; want zero, nil", got.ValidUntil, got.Tags)
	}
	ps, err = s.ListSAMLProviders(ctx)
	if err != nil || len(ps) != 2 {
		t.Fatalf("ListSAMLProviders = %d, %v; want 2", len(ps), err)
	}
	checkSAML(t, "ListSAMLProviders[0]", ps[0], adfs)
	checkSAML(t, "ListSAMLProviders[1]", ps[1], okta)

	errAbort := errors.New("abort")
	if _, err := s.UpdateSAMLProvider(ctx, "okta", func(p store.SAMLProvider) (store.SAMLProvider, error) {
		p.MetadataDocument = "changed"
		return p, errAbort
	}); !errors.Is(err, errAbort) {
		t.Fatalf("UpdateSAMLProvider with a failing fn: %v", err)
	}
	_, err = s.UpdateSAMLProvider(ctx, "ghost", func(p store.SAMLProvider) (store.SAMLProvider, error) { return p, nil })
	wantErr(t, "UpdateSAMLProvider(ghost)", err, store.ErrNotFound)
	_, err = s.UpdateSAMLProvider(ctx, "adfs", func(p store.SAMLProvider) (store.SAMLProvider, error) {
		p.Name = "OKTA"
		return p, nil
	})
	wantErr(t, "rename onto a taken provider name", err, store.ErrAlreadyExists)

	updated, err := s.UpdateSAMLProvider(ctx, "OKTA", func(p store.SAMLProvider) (store.SAMLProvider, error) {
		checkSAML(t, "fn argument", p, okta)
		p.MetadataDocument = "<EntityDescriptor rotated='yes'/>"
		p.ValidUntil = time.Time{}
		p.Tags = nil
		return p, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	okta.MetadataDocument = "<EntityDescriptor rotated='yes'/>"
	okta.ValidUntil = time.Time{}
	okta.Tags = nil
	checkSAML(t, "UpdateSAMLProvider result", updated, okta)
	got, err = s.GetSAMLProvider(ctx, "okta")
	if err != nil {
		t.Fatal(err)
	}
	checkSAML(t, "GetSAMLProvider after update", got, okta)

	if err := s.DeleteSAMLProvider(ctx, "OKTA"); err != nil {
		t.Fatalf("DeleteSAMLProvider: %v", err)
	}
	_, err = s.GetSAMLProvider(ctx, "okta")
	wantErr(t, "GetSAMLProvider after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteSAMLProvider twice", s.DeleteSAMLProvider(ctx, "okta"), store.ErrNotFound)
	if ps, err := s.ListSAMLProviders(ctx); err != nil || len(ps) != 1 || ps[0].Name != "adfs" {
		t.Errorf("ListSAMLProviders after delete = %+v, %v", ps, err)
	}
}

// largeMetadata returns a SAML metadata document of at least size bytes
// with what real ones have: CRLF and LF line ends, tabs, trailing spaces,
// non-ASCII text, entities and long base64 lines.
func largeMetadata(size int) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n")
	b.WriteString("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"https://idp.example.com/saml?a=1&amp;b=2\">\n")
	b.WriteString("\t<md:Organization><md:OrganizationName xml:lang=\"de\">Bücher &amp; Söhne — 株式会社 ✓</md:OrganizationName></md:Organization>  \n")
	for i := 0; b.Len() < size; i++ {
		b.WriteString("\t<md:KeyDescriptor use=\"signing\"><ds:X509Certificate>")
		for j := range 12 {
			fmt.Fprintf(&b, "MIIC%04d%04dQWxhZGRpbjpvcGVuIHNlc2FtZQ+/=%s", i, j, strings.Repeat("A", 40))
		}
		b.WriteString("</ds:X509Certificate></md:KeyDescriptor> \t\r\n")
	}
	b.WriteString("</md:EntityDescriptor>\n\n")
	return b.String()
}

func testSAMLProviderLargeMetadata(t *testing.T, s store.Store) {
	ctx := t.Context()
	metadata := largeMetadata(100 << 10)
	if len(metadata) < 100<<10 {
		t.Fatalf("test metadata is only %d bytes", len(metadata))
	}
	p := store.SAMLProvider{Name: "big", MetadataDocument: metadata, CreatedAt: base, ValidUntil: base.AddDate(1, 0, 0)}
	if err := s.CreateSAMLProvider(ctx, p); err != nil {
		t.Fatalf("CreateSAMLProvider with %d bytes of metadata: %v", len(metadata), err)
	}
	got, err := s.GetSAMLProvider(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	checkSAML(t, "large metadata round trip", got, p)

	// And through an update and a listing.
	bigger := metadata + strings.Repeat("<!-- pad ✓ -->\r\n", 1000)
	if _, err := s.UpdateSAMLProvider(ctx, "big", func(p store.SAMLProvider) (store.SAMLProvider, error) {
		p.MetadataDocument = bigger
		return p, nil
	}); err != nil {
		t.Fatal(err)
	}
	p.MetadataDocument = bigger
	ps, err := s.ListSAMLProviders(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatalf("ListSAMLProviders = %d, %v", len(ps), err)
	}
	checkSAML(t, "large metadata after update, listed", ps[0], p)
}

func testPolicyTags(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPolicy("Tagged")
	p.Tags = map[string]string{"team": "data"}
	mustCreatePolicy(t, s, p, doc("tagged"))
	set := func(tags map[string]string) func(map[string]string) (map[string]string, error) {
		return func(map[string]string) (map[string]string, error) { return tags, nil }
	}
	var seen map[string]string
	err := s.UpdatePolicyTags(ctx, "TAGGED", func(cur map[string]string) (map[string]string, error) {
		seen = cur
		return map[string]string{"team": "data", "env": "prod"}, nil
	})
	if err != nil {
		t.Fatalf("UpdatePolicyTags: %v", err)
	}
	if !maps.Equal(seen, map[string]string{"team": "data"}) {
		t.Errorf("fn saw %v, want the current tags", seen)
	}
	got, err := s.GetManagedPolicy(ctx, "Tagged")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got.Tags, map[string]string{"team": "data", "env": "prod"}) || !got.UpdatedAt.Equal(p.CreatedAt) {
		t.Errorf("after UpdatePolicyTags: tags %v, UpdatedAt %v", got.Tags, got.UpdatedAt)
	}
	// An error from fn changes nothing.
	boom := errors.New("boom")
	if err := s.UpdatePolicyTags(ctx, "Tagged", func(map[string]string) (map[string]string, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
	if got, _ := s.GetManagedPolicy(ctx, "Tagged"); len(got.Tags) != 2 {
		t.Errorf("a failed update changed the tags: %v", got.Tags)
	}
	// All removed.
	if err := s.UpdatePolicyTags(ctx, "Tagged", set(nil)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetManagedPolicy(ctx, "Tagged"); len(got.Tags) != 0 {
		t.Errorf("tags left: %v", got.Tags)
	}
	wantErr(t, "UpdatePolicyTags of a missing policy", s.UpdatePolicyTags(ctx, "ghost", set(nil)), store.ErrNotFound)
}

// testQuotasAreAtomic races more requests than a quota allows: exactly the
// quota succeed, the others get ErrLimitExceeded, and repeating a
// membership or attachment that exists is still not an error.
func testQuotasAreAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, newUser("quota"))
	mustCreateRole(t, s, newRole("quota-role"))
	race := func(what string, n, limit int, op func(i int) error) []int {
		t.Helper()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = op(i)
			}()
		}
		wg.Wait()
		var ok []int
		for i, err := range errs {
			switch {
			case err == nil:
				ok = append(ok, i)
			case !errors.Is(err, store.ErrLimitExceeded):
				t.Errorf("%s %d: %v, want nil or ErrLimitExceeded", what, i, err)
			}
		}
		if len(ok) != limit {
			t.Errorf("%s: %d of %d succeeded, want exactly %d", what, len(ok), n, limit)
		}
		return ok
	}

	race("CreateAccessKey", 8, 2, func(i int) error {
		return s.CreateAccessKey(ctx, newKey(fmt.Sprintf("AKIAQUOTA%03d", i), "quota", base), 2)
	})
	if keys, err := s.ListAccessKeys(ctx, "quota"); err != nil || len(keys) != 2 {
		t.Errorf("keys after the race: %d, %v", len(keys), err)
	}
	if err := s.CreateAccessKey(ctx, newKey("AKIAQUOTANOLIMIT", "quota", base), 0); err != nil {
		t.Errorf("CreateAccessKey without a limit: %v", err)
	}

	for i := range 12 {
		mustCreateGroup(t, s, newGroup(fmt.Sprintf("quota-g%02d", i)))
		mustCreatePolicy(t, s, newPolicy(fmt.Sprintf("quota-p%02d", i)), doc(fmt.Sprintf("q%d", i)))
	}
	joined := race("AddUserToGroup", 12, 10, func(i int) error {
		return s.AddUserToGroup(ctx, fmt.Sprintf("quota-g%02d", i), "quota", 10)
	})
	if groups, err := s.ListGroupsForUser(ctx, "quota"); err != nil || len(groups) != 10 {
		t.Errorf("groups after the race: %d, %v", len(groups), err)
	}
	if len(joined) > 0 {
		if err := s.AddUserToGroup(ctx, fmt.Sprintf("quota-g%02d", joined[0]), "quota", 10); err != nil {
			t.Errorf("adding an existing member at the quota: %v", err)
		}
	}
	attached := race("AttachPolicy", 12, 10, func(i int) error {
		return s.AttachPolicy(ctx, store.Attachment{Kind: store.KindRole, Owner: "quota-role", PolicyName: fmt.Sprintf("quota-p%02d", i)}, 10)
	})
	if ps, err := s.ListAttachedPolicies(ctx, store.KindRole, "quota-role"); err != nil || len(ps) != 10 {
		t.Errorf("attached policies after the race: %d, %v", len(ps), err)
	}
	if len(attached) > 0 {
		a := store.Attachment{Kind: store.KindRole, Owner: "quota-role", PolicyName: fmt.Sprintf("quota-p%02d", attached[0])}
		if err := s.AttachPolicy(ctx, a, 10); err != nil {
			t.Errorf("attaching an attached policy at the quota: %v", err)
		}
	}
	wantErr(t, "AttachPolicy to a missing owner", s.AttachPolicy(ctx, store.Attachment{Kind: store.KindRole, Owner: "ghost", PolicyName: "quota-p00"}, 10), store.ErrNotFound)
	wantErr(t, "AddUserToGroup of a missing user", s.AddUserToGroup(ctx, "quota-g00", "ghost", 10), store.ErrNotFound)
	wantErr(t, "AddUserToGroup to a missing group", s.AddUserToGroup(ctx, "ghost", "quota", 10), store.ErrNotFound)
	wantErr(t, "CreateAccessKey for a missing user", s.CreateAccessKey(ctx, newKey("AKIAQUOTAGHOST", "ghost", base), 2), store.ErrNotFound)
}
