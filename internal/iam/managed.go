package iam

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/store"
)

// managedPolicyAndSAMLActions serves managed policies, their versions and
// attachments, and SAML providers.
func (s *Service) managedPolicyAndSAMLActions() map[string]dispatch.Handler {
	return map[string]dispatch.Handler{
		// Managed policies (managed_policies.go).
		"CreatePolicy":   s.createPolicy,
		"GetPolicy":      s.getPolicy,
		"ListPolicies":   s.listPolicies,
		"DeletePolicy":   s.deletePolicy,
		"ListPolicyTags": s.listPolicyTags,
		"TagPolicy":      s.tagPolicy,
		"UntagPolicy":    s.untagPolicy,
		// Versions (managed_versions.go).
		"CreatePolicyVersion":     s.createPolicyVersion,
		"GetPolicyVersion":        s.getPolicyVersion,
		"ListPolicyVersions":      s.listPolicyVersions,
		"DeletePolicyVersion":     s.deletePolicyVersion,
		"SetDefaultPolicyVersion": s.setDefaultPolicyVersion,
		// Attachments (managed_attach.go).
		"AttachUserPolicy":          s.attachHandler(store.KindUser, true),
		"DetachUserPolicy":          s.attachHandler(store.KindUser, false),
		"ListAttachedUserPolicies":  s.listAttachedHandler(store.KindUser),
		"AttachGroupPolicy":         s.attachHandler(store.KindGroup, true),
		"DetachGroupPolicy":         s.attachHandler(store.KindGroup, false),
		"ListAttachedGroupPolicies": s.listAttachedHandler(store.KindGroup),
		"AttachRolePolicy":          s.attachHandler(store.KindRole, true),
		"DetachRolePolicy":          s.attachHandler(store.KindRole, false),
		"ListAttachedRolePolicies":  s.listAttachedHandler(store.KindRole),
		"ListEntitiesForPolicy":     s.listEntitiesForPolicy,
		// SAML providers (samlproviders.go).
		"CreateSAMLProvider":   s.createSAMLProvider,
		"GetSAMLProvider":      s.getSAMLProvider,
		"ListSAMLProviders":    s.listSAMLProviders,
		"UpdateSAMLProvider":   s.updateSAMLProvider,
		"DeleteSAMLProvider":   s.deleteSAMLProvider,
		"TagSAMLProvider":      s.tagSAMLProvider,
		"UntagSAMLProvider":    s.untagSAMLProvider,
		"ListSAMLProviderTags": s.listSAMLProviderTags,
	}
}

// pageAfter returns the page of items (sorted by key, ascending) that
// follows marker, at most max long, and the marker of the next page ("" when
// this page is the last). The marker is the key of the last item returned,
// so a page stays correct when items before it come and go.
func pageAfter[T any](items []T, key func(T) string, marker string, max int) ([]T, string) {
	start := 0
	if marker != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > marker })
	}
	items = items[start:]
	if len(items) <= max {
		return items, ""
	}
	items = items[:max]
	return items, key(items[max-1])
}

// enum checks that value is one of allowed, AWS style.
func (v *validation) enum(field, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", quoted(value), field, strings.Join(allowed, ", "))
}

// versionID checks a policy version id: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?.
func (v *validation) versionID(field, value string) {
	if !validVersionID(value) {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?", quoted(value), field)
	}
}

func validVersionID(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] < '1' || s[1] > '9' {
		return false
	}
	i := 2
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	for _, c := range []byte(s[i+1:]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// arnLength checks the length AWS's model allows for an ARN parameter.
func (v *validation) arnLength(field, value string) {
	if len(value) < 20 || len(value) > 2048 {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length between 20 and 2048", quoted(value), field)
	}
}

// versionKey orders version ids numerically ("v2" before "v10") for paging.
func versionKey(id string) string {
	var n int
	if _, err := fmt.Sscanf(id, "v%d", &n); err != nil {
		return id
	}
	return fmt.Sprintf("%012d", n)
}
