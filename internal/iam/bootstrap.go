package iam

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/store"
)

// BootstrapReport lists what ApplyBootstrap changed, one line per change
// ("created user alice", "updated inline policy user/alice/read", …).
type BootstrapReport struct {
	Changes []string
}

// resolvedInline is an inline policy read from the bootstrap file.
type resolvedInline map[string]string // policy name -> document

// ApplyBootstrap converges the store to the entities declared in b,
// idempotently: a second run with the same file changes nothing. Every
// document, name and reference is checked before the first write, so a bad
// file changes nothing. Entities the file does not name are never touched;
// for the ones it names, their inline policies, attached managed policies
// and (for users) group memberships become exactly what the file lists.
func (s *Service) ApplyBootstrap(ctx context.Context, b config.Bootstrap, baseDir string) (BootstrapReport, error) {
	plan, err := s.planBootstrap(ctx, b, baseDir)
	if err != nil {
		return BootstrapReport{}, err
	}
	var r BootstrapReport
	steps := []func(context.Context, *bootstrapPlan, *BootstrapReport) error{
		s.applyManagedPolicies, s.applyGroups, s.applyUsers, s.applyRoles, s.applySAMLProviders,
	}
	for _, step := range steps {
		if err := step(ctx, plan, &r); err != nil {
			return r, err
		}
	}
	return r, nil
}

type bootstrapPlan struct {
	b        config.Bootstrap
	policies map[string]string // managed policy name -> document
	inline   map[string]resolvedInline
	trust    map[string]string // role name -> trust policy
	saml     map[string]samlPlan
}

type samlPlan struct {
	metadata   string
	validUntil time.Time
}

func inlineKey(kind store.PrincipalKind, owner string) string { return string(kind) + "/" + owner }

// planBootstrap resolves files and validates everything, before any write.
func (s *Service) planBootstrap(ctx context.Context, b config.Bootstrap, baseDir string) (*bootstrapPlan, error) {
	p := &bootstrapPlan{b: b, policies: map[string]string{}, inline: map[string]resolvedInline{}, trust: map[string]string{}, saml: map[string]samlPlan{}}
	var problems []string
	fail := func(where string, err error) { problems = append(problems, where+": "+err.Error()) }
	doc := func(where string, d config.PolicyDocument, kind policy.PolicyKind, max int) string {
		text, err := d.Resolve(baseDir)
		if err != nil {
			fail(where, err)
			return ""
		}
		if err := checkPolicyDocument(text, kind, max); err != nil {
			fail(where, err)
		}
		return text
	}
	names := func(where string, check func(*validation)) {
		var v validation
		check(&v)
		if err := v.err(); err != nil {
			fail(where, err)
		}
	}
	inline := func(where string, kind store.PrincipalKind, owner string, docs map[string]config.PolicyDocument, max int) {
		res := resolvedInline{}
		for _, name := range slices.Sorted(maps.Keys(docs)) {
			names(where+".policies."+name, func(v *validation) { v.name("policyName", name, 128) })
			res[name] = doc(where+".policies."+name, docs[name], policy.Identity, max)
		}
		p.inline[inlineKey(kind, owner)] = res
	}
	declared := map[string]bool{}
	for i, mp := range b.Policies {
		where := fmt.Sprintf("bootstrap.policies[%d]", i)
		names(where, func(v *validation) { v.name("policyName", mp.Name, 128); v.path("path", pathOr(mp.Path)) })
		p.policies[mp.Name] = doc(where+".document", mp.Document, policy.Identity, MaxManagedPolicySize)
		declared[strings.ToLower(mp.Name)] = true
	}
	refs := func(where string, list []string) {
		if len(list) > MaxManagedPoliciesPerEntity {
			fail(where, fmt.Errorf("%d managed policies: AWS's quota is %d per user, group or role", len(list), MaxManagedPoliciesPerEntity))
		}
		for _, ref := range list {
			name := s.managedPolicyName(ref)
			if declared[strings.ToLower(name)] {
				continue
			}
			if _, err := s.store.GetManagedPolicy(ctx, name); err != nil {
				fail(where, fmt.Errorf("managed policy %q is neither declared in bootstrap.policies nor stored", ref))
			}
		}
	}
	groups := map[string]bool{}
	for i, g := range b.Groups {
		where := fmt.Sprintf("bootstrap.groups[%d]", i)
		names(where, func(v *validation) { v.name("groupName", g.Name, 128); v.path("path", pathOr(g.Path)) })
		inline(where, store.KindGroup, g.Name, g.Policies, MaxGroupInlinePolicySize)
		refs(where+".managed_policies", g.ManagedPolicies)
		groups[strings.ToLower(g.Name)] = true
	}
	for i, u := range b.Users {
		where := fmt.Sprintf("bootstrap.users[%d]", i)
		names(where, func(v *validation) {
			v.name("userName", u.Name, 64)
			v.path("path", pathOr(u.Path))
			v.tags(tagList(u.Tags))
			if u.PermissionsBoundary != "" {
				v.policyARN("permissionsBoundary", u.PermissionsBoundary)
			}
		})
		inline(where, store.KindUser, u.Name, u.Policies, MaxUserInlinePolicySize)
		refs(where+".managed_policies", u.ManagedPolicies)
		if len(u.Groups) > MaxGroupsPerUser {
			fail(where+".groups", fmt.Errorf("%d groups: AWS's quota is %d per user", len(u.Groups), MaxGroupsPerUser))
		}
		for _, g := range u.Groups {
			if groups[strings.ToLower(g)] {
				continue
			}
			if _, err := s.store.GetGroup(ctx, g); err != nil {
				fail(where+".groups", fmt.Errorf("group %q is neither declared in bootstrap.groups nor stored", g))
			}
		}
	}
	for i, r := range b.Roles {
		where := fmt.Sprintf("bootstrap.roles[%d]", i)
		names(where, func(v *validation) {
			v.name("roleName", r.Name, 64)
			v.path("path", pathOr(r.Path))
			v.text("description", r.Description, 1000)
			v.tags(tagList(r.Tags))
			if d := r.MaxSessionDuration; d != 0 && (d < 3600 || d > 43200) {
				v.add("Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", d)
			}
			if r.PermissionsBoundary != "" {
				v.policyARN("permissionsBoundary", r.PermissionsBoundary)
			}
		})
		p.trust[r.Name] = doc(where+".trust_policy", r.TrustPolicy, policy.Trust, MaxTrustPolicySize)
		inline(where, store.KindRole, r.Name, r.Policies, MaxRoleInlinePolicySize)
		refs(where+".managed_policies", r.ManagedPolicies)
	}
	for i, sp := range b.SAMLProviders {
		where := fmt.Sprintf("bootstrap.saml_providers[%d]", i)
		names(where, func(v *validation) { v.samlProviderName("name", sp.Name) })
		text, err := config.PolicyDocument{File: sp.MetadataFile}.Resolve(baseDir)
		if err != nil {
			fail(where+".metadata_file", err)
			continue
		}
		validUntil, err := parseSAMLMetadata(text, s.now())
		if err != nil {
			fail(where+".metadata_file", err)
			continue
		}
		p.saml[sp.Name] = samlPlan{metadata: text, validUntil: validUntil}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("bootstrap: %d problems, nothing applied:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return p, nil
}

func pathOr(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func tagList(m map[string]string) []Tag {
	tags := make([]Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		tags = append(tags, Tag{Key: k, Value: m[k]})
	}
	return tags
}

// managedPolicyName accepts a policy name or one of our policy ARNs.
func (s *Service) managedPolicyName(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref[strings.LastIndexByte(ref, '/')+1:]
	}
	return ref
}

func (s *Service) applyManagedPolicies(ctx context.Context, p *bootstrapPlan, r *BootstrapReport) error {
	for _, mp := range p.b.Policies {
		doc := p.policies[mp.Name]
		cur, err := s.store.GetManagedPolicy(ctx, mp.Name)
		if errors.Is(err, store.ErrNotFound) {
			id, err := identity.NewUniqueID(identity.PrefixPolicy, s.rand)
			if err != nil {
				return err
			}
			now := s.now().UTC()
			if err := s.store.CreateManagedPolicy(ctx, store.ManagedPolicy{Name: mp.Name, Path: pathOr(mp.Path), ID: id, Description: mp.Description, DefaultVersionID: "v1", CreatedAt: now, UpdatedAt: now}, doc); err != nil {
				return fmt.Errorf("bootstrap: create managed policy %s: %w", mp.Name, err)
			}
			r.Changes = append(r.Changes, "created managed policy "+mp.Name)
			continue
		}
		if err != nil {
			return fmt.Errorf("bootstrap: read managed policy %s: %w", mp.Name, err)
		}
		if cur.Path != pathOr(mp.Path) {
			return fmt.Errorf("bootstrap: managed policy %s has path %s; a managed policy's path cannot change (delete it first)", mp.Name, cur.Path)
		}
		def, err := s.store.GetPolicyVersion(ctx, cur.Name, cur.DefaultVersionID)
		if err != nil {
			return fmt.Errorf("bootstrap: read managed policy %s: %w", mp.Name, err)
		}
		if def.Document == doc {
			continue
		}
		versions, err := s.store.ListPolicyVersions(ctx, cur.Name)
		if err != nil {
			return fmt.Errorf("bootstrap: list versions of %s: %w", mp.Name, err)
		}
		if len(versions) >= store.MaxPolicyVersions {
			// Make room: drop the oldest non-default version.
			for _, v := range versions {
				if !v.IsDefault {
					if err := s.store.DeletePolicyVersion(ctx, cur.Name, v.VersionID); err != nil {
						return fmt.Errorf("bootstrap: delete version %s of %s: %w", v.VersionID, mp.Name, err)
					}
					break
				}
			}
		}
		v, err := s.store.CreatePolicyVersion(ctx, cur.Name, doc, true, s.now().UTC())
		if err != nil {
			return fmt.Errorf("bootstrap: new version of %s: %w", mp.Name, err)
		}
		r.Changes = append(r.Changes, "updated managed policy "+mp.Name+" to "+v.VersionID)
	}
	return nil
}

func (s *Service) applyGroups(ctx context.Context, p *bootstrapPlan, r *BootstrapReport) error {
	for _, g := range p.b.Groups {
		cur, err := s.store.GetGroup(ctx, g.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			id, err := identity.NewUniqueID(identity.PrefixGroup, s.rand)
			if err != nil {
				return err
			}
			if err := s.store.CreateGroup(ctx, store.Group{Name: g.Name, Path: pathOr(g.Path), ID: id, CreatedAt: s.now().UTC()}); err != nil {
				return fmt.Errorf("bootstrap: create group %s: %w", g.Name, err)
			}
			r.Changes = append(r.Changes, "created group "+g.Name)
		case err != nil:
			return fmt.Errorf("bootstrap: read group %s: %w", g.Name, err)
		case cur.Path != pathOr(g.Path):
			if _, err := s.store.UpdateGroup(ctx, g.Name, func(x store.Group) (store.Group, error) { x.Path = pathOr(g.Path); return x, nil }); err != nil {
				return fmt.Errorf("bootstrap: update group %s: %w", g.Name, err)
			}
			r.Changes = append(r.Changes, "updated group "+g.Name)
		}
		if err := s.convergePolicies(ctx, p, store.KindGroup, g.Name, g.ManagedPolicies, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) applyUsers(ctx context.Context, p *bootstrapPlan, r *BootstrapReport) error {
	for _, u := range p.b.Users {
		want := func(x store.User) store.User {
			x.Path, x.PermissionsBoundary, x.Tags = pathOr(u.Path), u.PermissionsBoundary, nilIfEmpty(u.Tags)
			return x
		}
		cur, err := s.store.GetUser(ctx, u.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			id, err := identity.NewUniqueID(identity.PrefixUser, s.rand)
			if err != nil {
				return err
			}
			if err := s.store.CreateUser(ctx, want(store.User{Name: u.Name, ID: id, CreatedAt: s.now().UTC()})); err != nil {
				return fmt.Errorf("bootstrap: create user %s: %w", u.Name, err)
			}
			r.Changes = append(r.Changes, "created user "+u.Name)
		case err != nil:
			return fmt.Errorf("bootstrap: read user %s: %w", u.Name, err)
		case !sameUser(cur, want(cur)):
			if _, err := s.store.UpdateUser(ctx, u.Name, func(x store.User) (store.User, error) { return want(x), nil }); err != nil {
				return fmt.Errorf("bootstrap: update user %s: %w", u.Name, err)
			}
			r.Changes = append(r.Changes, "updated user "+u.Name)
		}
		if err := s.convergePolicies(ctx, p, store.KindUser, u.Name, u.ManagedPolicies, r); err != nil {
			return err
		}
		if err := s.convergeGroups(ctx, u, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) applyRoles(ctx context.Context, p *bootstrapPlan, r *BootstrapReport) error {
	for _, role := range p.b.Roles {
		maxSession := role.MaxSessionDuration
		if maxSession == 0 {
			maxSession = 3600
		}
		want := func(x store.Role) store.Role {
			x.Path, x.Description, x.AssumeRolePolicyDocument = pathOr(role.Path), role.Description, p.trust[role.Name]
			x.MaxSessionDuration, x.PermissionsBoundary, x.Tags = maxSession, role.PermissionsBoundary, nilIfEmpty(role.Tags)
			return x
		}
		cur, err := s.store.GetRole(ctx, role.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			id, err := identity.NewUniqueID(identity.PrefixRole, s.rand)
			if err != nil {
				return err
			}
			if err := s.store.CreateRole(ctx, want(store.Role{Name: role.Name, ID: id, CreatedAt: s.now().UTC()})); err != nil {
				return fmt.Errorf("bootstrap: create role %s: %w", role.Name, err)
			}
			r.Changes = append(r.Changes, "created role "+role.Name)
		case err != nil:
			return fmt.Errorf("bootstrap: read role %s: %w", role.Name, err)
		case !sameRole(cur, want(cur)):
			if _, err := s.store.UpdateRole(ctx, role.Name, func(x store.Role) (store.Role, error) { return want(x), nil }); err != nil {
				return fmt.Errorf("bootstrap: update role %s: %w", role.Name, err)
			}
			r.Changes = append(r.Changes, "updated role "+role.Name)
		}
		if err := s.convergePolicies(ctx, p, store.KindRole, role.Name, role.ManagedPolicies, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) applySAMLProviders(ctx context.Context, p *bootstrapPlan, r *BootstrapReport) error {
	for _, sp := range p.b.SAMLProviders {
		want := p.saml[sp.Name]
		cur, err := s.store.GetSAMLProvider(ctx, sp.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			now := s.now().UTC()
			if err := s.store.CreateSAMLProvider(ctx, store.SAMLProvider{Name: sp.Name, MetadataDocument: want.metadata, CreatedAt: now, ValidUntil: want.validUntil}); err != nil {
				return fmt.Errorf("bootstrap: create SAML provider %s: %w", sp.Name, err)
			}
			r.Changes = append(r.Changes, "created SAML provider "+sp.Name)
		case err != nil:
			return fmt.Errorf("bootstrap: read SAML provider %s: %w", sp.Name, err)
		case cur.MetadataDocument != want.metadata:
			_, err := s.store.UpdateSAMLProvider(ctx, sp.Name, func(x store.SAMLProvider) (store.SAMLProvider, error) {
				x.MetadataDocument, x.ValidUntil = want.metadata, want.validUntil
				return x, nil
			})
			if err != nil {
				return fmt.Errorf("bootstrap: update SAML provider %s: %w", sp.Name, err)
			}
			r.Changes = append(r.Changes, "updated SAML provider "+sp.Name)
		}
	}
	return nil
}

// convergePolicies makes the owner's inline policies and managed policy
// attachments exactly those of the file.
func (s *Service) convergePolicies(ctx context.Context, p *bootstrapPlan, kind store.PrincipalKind, owner string, managed []string, r *BootstrapReport) error {
	want := p.inline[inlineKey(kind, owner)]
	have, err := s.store.ListInlinePolicies(ctx, kind, owner)
	if err != nil {
		return fmt.Errorf("bootstrap: list inline policies of %s %s: %w", kind, owner, err)
	}
	haveDocs := map[string]string{}
	for _, ip := range have {
		haveDocs[strings.ToLower(ip.Name)] = ip.Document
		if _, keep := lookupFold(want, ip.Name); !keep {
			if err := s.store.DeleteInlinePolicy(ctx, kind, owner, ip.Name); err != nil {
				return fmt.Errorf("bootstrap: delete inline policy %s of %s %s: %w", ip.Name, kind, owner, err)
			}
			r.Changes = append(r.Changes, fmt.Sprintf("deleted inline policy %s/%s/%s", kind, owner, ip.Name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if doc, ok := haveDocs[strings.ToLower(name)]; ok && doc == want[name] {
			continue
		}
		if err := s.store.PutInlinePolicy(ctx, store.InlinePolicy{Kind: kind, Owner: owner, Name: name, Document: want[name]}); err != nil {
			return fmt.Errorf("bootstrap: put inline policy %s of %s %s: %w", name, kind, owner, err)
		}
		r.Changes = append(r.Changes, fmt.Sprintf("put inline policy %s/%s/%s", kind, owner, name))
	}

	wantManaged := map[string]string{} // lower-cased name -> name as written
	for _, ref := range managed {
		name := s.managedPolicyName(ref)
		wantManaged[strings.ToLower(name)] = name
	}
	attached, err := s.store.ListAttachedPolicies(ctx, kind, owner)
	if err != nil {
		return fmt.Errorf("bootstrap: list attached policies of %s %s: %w", kind, owner, err)
	}
	for _, mp := range attached {
		key := strings.ToLower(mp.Name)
		if _, ok := wantManaged[key]; ok {
			delete(wantManaged, key)
			continue
		}
		if err := s.store.DetachPolicy(ctx, store.Attachment{Kind: kind, Owner: owner, PolicyName: mp.Name}); err != nil {
			return fmt.Errorf("bootstrap: detach %s from %s %s: %w", mp.Name, kind, owner, err)
		}
		r.Changes = append(r.Changes, fmt.Sprintf("detached %s from %s/%s", mp.Name, kind, owner))
	}
	for _, key := range slices.Sorted(maps.Keys(wantManaged)) {
		name := wantManaged[key]
		if err := s.store.AttachPolicy(ctx, store.Attachment{Kind: kind, Owner: owner, PolicyName: name}, MaxManagedPoliciesPerEntity); err != nil {
			return fmt.Errorf("bootstrap: attach %s to %s %s: %w", name, kind, owner, err)
		}
		r.Changes = append(r.Changes, fmt.Sprintf("attached %s to %s/%s", name, kind, owner))
	}
	return nil
}

func (s *Service) convergeGroups(ctx context.Context, u config.BootstrapUser, r *BootstrapReport) error {
	want := map[string]string{}
	for _, g := range u.Groups {
		want[strings.ToLower(g)] = g
	}
	have, err := s.store.ListGroupsForUser(ctx, u.Name)
	if err != nil {
		return fmt.Errorf("bootstrap: list groups of user %s: %w", u.Name, err)
	}
	for _, g := range have {
		key := strings.ToLower(g.Name)
		if _, ok := want[key]; ok {
			delete(want, key)
			continue
		}
		if err := s.store.RemoveUserFromGroup(ctx, g.Name, u.Name); err != nil {
			return fmt.Errorf("bootstrap: remove user %s from group %s: %w", u.Name, g.Name, err)
		}
		r.Changes = append(r.Changes, fmt.Sprintf("removed user %s from group %s", u.Name, g.Name))
	}
	for _, key := range slices.Sorted(maps.Keys(want)) {
		if err := s.store.AddUserToGroup(ctx, want[key], u.Name, MaxGroupsPerUser); err != nil {
			return fmt.Errorf("bootstrap: add user %s to group %s: %w", u.Name, want[key], err)
		}
		r.Changes = append(r.Changes, fmt.Sprintf("added user %s to group %s", u.Name, want[key]))
	}
	return nil
}

func lookupFold(m resolvedInline, name string) (string, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func sameUser(a, b store.User) bool {
	return a.Path == b.Path && a.PermissionsBoundary == b.PermissionsBoundary && maps.Equal(a.Tags, b.Tags)
}

func sameRole(a, b store.Role) bool {
	return a.Path == b.Path && a.Description == b.Description && a.AssumeRolePolicyDocument == b.AssumeRolePolicyDocument &&
		a.MaxSessionDuration == b.MaxSessionDuration && a.PermissionsBoundary == b.PermissionsBoundary && maps.Equal(a.Tags, b.Tags)
}
