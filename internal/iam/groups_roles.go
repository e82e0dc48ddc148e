package iam

import (
	"context"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/store"
)

// groupAndRoleActions serves groups, group membership, roles, trust
// policies, role tags and inline policies of users, groups and roles.
func (s *Service) groupAndRoleActions() map[string]dispatch.Handler {
	return map[string]dispatch.Handler{
		// groups.go
		"CreateGroup":         s.createGroup,
		"GetGroup":            s.getGroup,
		"ListGroups":          s.listGroups,
		"UpdateGroup":         s.updateGroup,
		"DeleteGroup":         s.deleteGroup,
		"AddUserToGroup":      s.addUserToGroup,
		"RemoveUserFromGroup": s.removeUserFromGroup,
		"ListGroupsForUser":   s.listGroupsForUser,

		// roles.go
		"CreateRole":             s.createRole,
		"GetRole":                s.getRole,
		"ListRoles":              s.listRoles,
		"UpdateRole":             s.updateRole,
		"UpdateRoleDescription":  s.updateRoleDescription,
		"DeleteRole":             s.deleteRole,
		"UpdateAssumeRolePolicy": s.updateAssumeRolePolicy,
		"TagRole":                s.tagRole,
		"UntagRole":              s.untagRole,
		"ListRoleTags":           s.listRoleTags,

		// inline.go
		"PutUserPolicy":     s.putInlinePolicy(s.userPolicies(), decodePutUserPolicy),
		"GetUserPolicy":     s.getInlinePolicy(s.userPolicies(), decodeUserPolicyName),
		"ListUserPolicies":  s.listInlinePolicies(s.userPolicies(), decodeListUserPolicies),
		"DeleteUserPolicy":  s.deleteInlinePolicy(s.userPolicies(), decodeUserPolicyName),
		"PutGroupPolicy":    s.putInlinePolicy(s.groupPolicies(), decodePutGroupPolicy),
		"GetGroupPolicy":    s.getInlinePolicy(s.groupPolicies(), decodeGroupPolicyName),
		"ListGroupPolicies": s.listInlinePolicies(s.groupPolicies(), decodeListGroupPolicies),
		"DeleteGroupPolicy": s.deleteInlinePolicy(s.groupPolicies(), decodeGroupPolicyName),
		"PutRolePolicy":     s.putInlinePolicy(s.rolePolicies(), decodePutRolePolicy),
		"GetRolePolicy":     s.getInlinePolicy(s.rolePolicies(), decodeRolePolicyName),
		"ListRolePolicies":  s.listInlinePolicies(s.rolePolicies(), decodeListRolePolicies),
		"DeleteRolePolicy":  s.deleteInlinePolicy(s.rolePolicies(), decodeRolePolicyName),
	}
}

// listInput is the input of the List* actions that filter by path.
type listInput struct {
	PathPrefix *string `query:"PathPrefix"`
	Marker     *string `query:"Marker"`
	MaxItems   *int    `query:"MaxItems"`
}

// pathPrefix validates a PathPrefix parameter: "/" followed by
// printable ASCII, at most 512 characters.
func (v *validation) pathPrefix(value string) {
	if len(value) > 512 {
		v.add("Value '%s' at 'pathPrefix' failed to satisfy constraint: Member must have length between 1 and 512", quoted(value))
		return
	}
	ok := strings.HasPrefix(value, "/")
	for i := 0; ok && i < len(value); i++ {
		ok = value[i] >= 0x21 && value[i] <= 0x7f
	}
	if !ok {
		v.add("Value '%s' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*", quoted(value))
	}
}

// pathListing is the validated PathPrefix, Marker and MaxItems of a
// List{Users,Groups,Roles} request.
type pathListing struct {
	prefix, marker string
	max            int
}

// authorizedPathListing decodes and validates a ListGroups or ListRoles
// request and authorizes action on the path prefix of kind's entities.
func (s *Service) authorizedPathListing(ctx context.Context, req *dispatch.Request, kind store.PrincipalKind, action string) (pathListing, error) {
	var in listInput
	if err := req.Decode(&in); err != nil {
		return pathListing{}, err
	}
	prefix := pathOrDefault(in.PathPrefix)
	max, err := maxItems(in.MaxItems)
	if err != nil {
		return pathListing{}, err
	}
	var v validation
	v.pathPrefix(prefix)
	if err := v.err(); err != nil {
		return pathListing{}, err
	}
	if err := s.authz.Authorize(ctx, req, action, s.entityARN(kind, prefix, "")); err != nil {
		return pathListing{}, err
	}
	return pathListing{prefix: prefix, marker: deref(in.Marker), max: max}, nil
}

// listByPath pages through a store listing sorted by lower-cased name and
// keeps the entities whose path starts with the prefix: at most l.max of
// them, after l.marker. The marker it returns is the lower-cased name of the
// last entity returned.
func listByPath[T any](ctx context.Context, l pathListing,
	list func(context.Context, store.Page) ([]T, string, error), pathName func(T) (string, string),
) (items []T, truncated bool, next string, err error) {
	marker := l.marker
	for {
		page, more, err := list(ctx, store.Page{Marker: marker, MaxItems: l.max})
		if err != nil {
			return nil, false, "", err
		}
		for _, e := range page {
			path, name := pathName(e)
			if !strings.HasPrefix(path, l.prefix) {
				continue
			}
			if len(items) == l.max {
				// More matching entities remain: resume after the last one.
				return items, true, marker, nil
			}
			items = append(items, e)
			marker = strings.ToLower(name)
		}
		if more == "" {
			return items, false, "", nil
		}
		marker = more
	}
}

// paginate returns one page of a complete listing sorted by key: the items
// whose key sorts after marker, at most max of them, whether more remain
// and the marker of the next page.
func paginate[T any](all []T, key func(T) string, marker string, max int) (page []T, truncated bool, next string) {
	start := 0
	if marker != "" {
		for start < len(all) && key(all[start]) <= marker {
			start++
		}
	}
	rest := all[start:]
	if len(rest) <= max {
		return rest, false, ""
	}
	page = rest[:max]
	return page, true, key(page[max-1])
}

// mapEach returns f applied to every item, as a non-nil slice.
func mapEach[T, R any](items []T, f func(T) R) []R {
	out := make([]R, 0, len(items))
	for _, item := range items {
		out = append(out, f(item))
	}
	return out
}

// pageParams validates Marker and MaxItems of an in-memory listing.
func pageParams(marker *string, max *int) (string, int, error) {
	n, err := maxItems(max)
	return deref(marker), n, err
}

// parsePolicyDocument parses doc like checkPolicyDocument but without the
// size limit, and returns the policy: callers hold its Size against AWS's
// quotas themselves, since AWS answers an oversized document with
// LimitExceeded, not MalformedPolicyDocument.
func parsePolicyDocument(doc string, kind policy.PolicyKind) (*policy.Policy, error) {
	p, err := policy.ParseWithOptions([]byte(doc), policy.ParseOptions{Kind: kind, MaxSize: -1})
	if err == nil {
		return p, nil
	}
	// The rejection, mapped the same way as everywhere else.
	if merr := checkPolicyDocument(doc, kind, -1); merr != nil {
		return nil, merr
	}
	return nil, malformedPolicy("The policy document is malformed.")
}
