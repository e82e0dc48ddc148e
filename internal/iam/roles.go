package iam

import (
	"context"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/store"
)

// Role session duration bounds and default, in seconds (AWS's).
const (
	MinRoleSessionDuration     = 3600
	MaxRoleSessionDuration     = 43200
	DefaultRoleSessionDuration = 3600
)

// MaxTagsPerRole is AWS's quota of tags on one role.
const MaxTagsPerRole = 50

// roleXML is the wire shape of an IAM Role.
type roleXML struct {
	Path                     string               `xml:"Path"`
	RoleName                 string               `xml:"RoleName"`
	RoleID                   string               `xml:"RoleId"`
	Arn                      string               `xml:"Arn"`
	CreateDate               query.Timestamp      `xml:"CreateDate"`
	AssumeRolePolicyDocument string               `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string               `xml:"Description,omitempty"`
	MaxSessionDuration       int                  `xml:"MaxSessionDuration,omitempty"`
	PermissionsBoundary      *permissionsBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                     []Tag                `xml:"Tags>member,omitempty"`
}

// roleToXML renders r; full adds what AWS returns only for one role (tags
// and permissions boundary), not in ListRoles.
func (s *Service) roleToXML(r store.Role, full bool) roleXML {
	x := roleXML{
		Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: s.roleARN(r.Path, r.Name), CreateDate: query.Timestamp(r.CreatedAt),
		AssumeRolePolicyDocument: encodePolicyDocument(r.AssumeRolePolicyDocument),
		Description:              r.Description,
		MaxSessionDuration:       r.MaxSessionDuration,
	}
	if full {
		if r.PermissionsBoundary != "" {
			x.PermissionsBoundary = &permissionsBoundary{Type: "PermissionsBoundaryPolicy", Arn: r.PermissionsBoundary}
		}
		x.Tags = tagsFromMap(r.Tags)
	}
	return x
}

// authorizedRole loads the role (for its path, part of the ARN) and
// authorizes action on it; like authorizedUser, a missing role is reported
// only to callers allowed to act on that role name.
func (s *Service) authorizedRole(ctx context.Context, req *dispatch.Request, action, name string) (store.Role, error) {
	r, err := s.store.GetRole(ctx, name)
	if err := s.authorizeEntityLookup(ctx, req, store.KindRole, action, name, err, r.Path, r.Name); err != nil {
		return store.Role{}, err
	}
	return r, nil
}

// sessionDuration checks a role's MaxSessionDuration.
func (v *validation) sessionDuration(d int) {
	switch {
	case d < MinRoleSessionDuration:
		v.add("Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to %d", d, MinRoleSessionDuration)
	case d > MaxRoleSessionDuration:
		v.add("Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to %d", d, MaxRoleSessionDuration)
	}
}

// roleDescription checks a role description: at most 1000 characters of
// AWS's [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*.
func (v *validation) roleDescription(value string) {
	v.text("description", value, 1000)
	for _, r := range value {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r >= 0xa1 && r <= 0xff) {
			v.add("Value at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*")
			return
		}
	}
}

// checkTrustPolicy parses a role's trust policy and holds it against AWS's
// quota.
func checkTrustPolicy(doc string) error {
	p, err := parsePolicyDocument(doc, policy.Trust)
	if err != nil {
		return err
	}
	if p.Size() > MaxTrustPolicySize {
		return limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", MaxTrustPolicySize)
	}
	return nil
}

type createRoleInput struct {
	RoleName                 string  `query:"RoleName,required"`
	Path                     *string `query:"Path"`
	AssumeRolePolicyDocument string  `query:"AssumeRolePolicyDocument,required"`
	Description              *string `query:"Description"`
	MaxSessionDuration       *int    `query:"MaxSessionDuration"`
	PermissionsBoundary      *string `query:"PermissionsBoundary"`
	Tags                     []Tag   `query:"Tags,list"`
}

type roleResult struct {
	Role roleXML `xml:"Role"`
}

func (s *Service) createRole(ctx context.Context, req *dispatch.Request) (any, error) {
	var in createRoleInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	path := pathOrDefault(in.Path)
	duration := DefaultRoleSessionDuration
	if in.MaxSessionDuration != nil {
		duration = *in.MaxSessionDuration
	}
	var v validation
	v.name("roleName", in.RoleName, 64)
	v.path("path", path)
	v.sessionDuration(duration)
	if in.Description != nil {
		v.roleDescription(*in.Description)
	}
	if in.PermissionsBoundary != nil {
		v.policyARN("permissionsBoundary", *in.PermissionsBoundary)
	}
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := checkTrustPolicy(in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "iam:CreateRole", s.roleARN(path, in.RoleName)); err != nil {
		return nil, err
	}
	id, err := identity.NewUniqueID(identity.PrefixRole, s.rand)
	if err != nil {
		return nil, err
	}
	r := store.Role{
		Name: in.RoleName, Path: path, ID: id, Description: deref(in.Description),
		AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, MaxSessionDuration: duration,
		PermissionsBoundary: deref(in.PermissionsBoundary), CreatedAt: s.now().UTC(), Tags: tagsToMap(in.Tags),
	}
	if err := s.store.CreateRole(ctx, r); err != nil {
		return nil, entityError(err, "role", in.RoleName)
	}
	return &roleResult{Role: s.roleToXML(r, true)}, nil
}

type roleNameInput struct {
	RoleName string `query:"RoleName,required"`
}

// validRoleName checks a RoleName parameter.
func validRoleName(name string) error {
	return validName("roleName", name, 64)
}

func (s *Service) getRole(ctx context.Context, req *dispatch.Request) (any, error) {
	var in roleNameInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validRoleName(in.RoleName); err != nil {
		return nil, err
	}
	r, err := s.authorizedRole(ctx, req, "iam:GetRole", in.RoleName)
	if err != nil {
		return nil, err
	}
	return &roleResult{Role: s.roleToXML(r, true)}, nil
}

type listRolesResult struct {
	Roles       []roleXML `xml:"Roles>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func (s *Service) listRoles(ctx context.Context, req *dispatch.Request) (any, error) {
	l, err := s.authorizedPathListing(ctx, req, store.KindRole, "iam:ListRoles")
	if err != nil {
		return nil, err
	}
	roles, truncated, next, err := listByPath(ctx, l, s.store.ListRoles, func(r store.Role) (string, string) { return r.Path, r.Name })
	if err != nil {
		return nil, err
	}
	toXML := func(r store.Role) roleXML { return s.roleToXML(r, false) }
	return &listRolesResult{Roles: mapEach(roles, toXML), IsTruncated: truncated, Marker: next}, nil
}

type updateRoleInput struct {
	RoleName           string  `query:"RoleName,required"`
	Description        *string `query:"Description"`
	MaxSessionDuration *int    `query:"MaxSessionDuration"`
}

func (s *Service) updateRole(ctx context.Context, req *dispatch.Request) (any, error) {
	var in updateRoleInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var v validation
	v.name("roleName", in.RoleName, 64)
	if in.Description != nil {
		v.roleDescription(*in.Description)
	}
	if in.MaxSessionDuration != nil {
		v.sessionDuration(*in.MaxSessionDuration)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if _, err := s.authorizedRole(ctx, req, "iam:UpdateRole", in.RoleName); err != nil {
		return nil, err
	}
	_, err := s.store.UpdateRole(ctx, in.RoleName, func(r store.Role) (store.Role, error) {
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = *in.MaxSessionDuration
		}
		return r, nil
	})
	if err != nil {
		return nil, entityError(err, "role", in.RoleName)
	}
	// Unlike UpdateUser, UpdateRole has a (empty) result element, which the
	// SDKs expect.
	return &struct{}{}, nil
}

type updateRoleDescriptionInput struct {
	RoleName    string  `query:"RoleName,required"`
	Description *string `query:"Description"`
}

func (s *Service) updateRoleDescription(ctx context.Context, req *dispatch.Request) (any, error) {
	var in updateRoleDescriptionInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Description == nil {
		// Required, but may be empty (which clears the description).
		return nil, awserr.New(awserr.MissingParameter, "The request must contain the parameter Description")
	}
	var v validation
	v.name("roleName", in.RoleName, 64)
	v.roleDescription(*in.Description)
	if err := v.err(); err != nil {
		return nil, err
	}
	if _, err := s.authorizedRole(ctx, req, "iam:UpdateRoleDescription", in.RoleName); err != nil {
		return nil, err
	}
	r, err := s.store.UpdateRole(ctx, in.RoleName, func(r store.Role) (store.Role, error) {
		r.Description = *in.Description
		return r, nil
	})
	if err != nil {
		return nil, entityError(err, "role", in.RoleName)
	}
	return &roleResult{Role: s.roleToXML(r, true)}, nil
}

func (s *Service) deleteRole(ctx context.Context, req *dispatch.Request) (any, error) {
	var in roleNameInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validRoleName(in.RoleName); err != nil {
		return nil, err
	}
	if _, err := s.authorizedRole(ctx, req, "iam:DeleteRole", in.RoleName); err != nil {
		return nil, err
	}
	return nil, entityError(s.store.DeleteRole(ctx, in.RoleName), "role", in.RoleName)
}

type updateAssumeRolePolicyInput struct {
	RoleName       string `query:"RoleName,required"`
	PolicyDocument string `query:"PolicyDocument,required"`
}

func (s *Service) updateAssumeRolePolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in updateAssumeRolePolicyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validRoleName(in.RoleName); err != nil {
		return nil, err
	}
	if err := checkTrustPolicy(in.PolicyDocument); err != nil {
		return nil, err
	}
	if _, err := s.authorizedRole(ctx, req, "iam:UpdateAssumeRolePolicy", in.RoleName); err != nil {
		return nil, err
	}
	_, err := s.store.UpdateRole(ctx, in.RoleName, func(r store.Role) (store.Role, error) {
		r.AssumeRolePolicyDocument = in.PolicyDocument
		return r, nil
	})
	return nil, entityError(err, "role", in.RoleName)
}

type tagRoleInput struct {
	RoleName string `query:"RoleName,required"`
	Tags     []Tag  `query:"Tags,list,required"`
}

func (s *Service) tagRole(ctx context.Context, req *dispatch.Request) (any, error) {
	var in tagRoleInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var v validation
	v.name("roleName", in.RoleName, 64)
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	if _, err := s.authorizedRole(ctx, req, "iam:TagRole", in.RoleName); err != nil {
		return nil, err
	}
	_, err := s.store.UpdateRole(ctx, in.RoleName, func(r store.Role) (store.Role, error) {
		err := addTags(&r.Tags, in.Tags, "TagsPerRole", MaxTagsPerRole)
		return r, err
	})
	return nil, entityError(err, "role", in.RoleName)
}

type untagRoleInput struct {
	RoleName string   `query:"RoleName,required"`
	TagKeys  []string `query:"TagKeys,list,required"`
}

func (s *Service) untagRole(ctx context.Context, req *dispatch.Request) (any, error) {
	var in untagRoleInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validRoleName(in.RoleName); err != nil {
		return nil, err
	}
	if _, err := s.authorizedRole(ctx, req, "iam:UntagRole", in.RoleName); err != nil {
		return nil, err
	}
	_, err := s.store.UpdateRole(ctx, in.RoleName, func(r store.Role) (store.Role, error) {
		removeTags(r.Tags, in.TagKeys)
		return r, nil
	})
	return nil, entityError(err, "role", in.RoleName)
}

type listRoleTagsInput struct {
	RoleName string  `query:"RoleName,required"`
	Marker   *string `query:"Marker"`
	MaxItems *int    `query:"MaxItems"`
}

func (s *Service) listRoleTags(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listRoleTagsInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	marker, max, err := pageParams(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if err := validRoleName(in.RoleName); err != nil {
		return nil, err
	}
	r, err := s.authorizedRole(ctx, req, "iam:ListRoleTags", in.RoleName)
	if err != nil {
		return nil, err
	}
	return tagPage(r.Tags, marker, max), nil
}
