package iam

import (
	"context"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/store"
)

// userXML is the wire shape of an IAM User.
type userXML struct {
	Path                string               `xml:"Path"`
	UserName            string               `xml:"UserName"`
	UserID              string               `xml:"UserId"`
	Arn                 string               `xml:"Arn"`
	CreateDate          query.Timestamp      `xml:"CreateDate"`
	PermissionsBoundary *permissionsBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                []Tag                `xml:"Tags>member,omitempty"`
}

type permissionsBoundary struct {
	Type string `xml:"PermissionsBoundaryType"`
	Arn  string `xml:"PermissionsBoundaryArn"`
}

func (s *Service) userToXML(u store.User, withTags bool) userXML {
	x := userXML{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: s.userARN(u.Path, u.Name), CreateDate: query.Timestamp(u.CreatedAt)}
	if u.PermissionsBoundary != "" {
		x.PermissionsBoundary = &permissionsBoundary{Type: "PermissionsBoundaryPolicy", Arn: u.PermissionsBoundary}
	}
	if withTags {
		x.Tags = tagsFromMap(u.Tags)
	}
	return x
}

type createUserInput struct {
	UserName            string  `query:"UserName,required"`
	Path                *string `query:"Path"`
	PermissionsBoundary *string `query:"PermissionsBoundary"`
	Tags                []Tag   `query:"Tags,list"`
}

type userResult struct {
	User userXML `xml:"User"`
}

func (s *Service) createUser(ctx context.Context, req *dispatch.Request) (any, error) {
	var in createUserInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	path := pathOrDefault(in.Path)
	var v validation
	v.name("userName", in.UserName, 64)
	v.path("path", path)
	v.tags(in.Tags)
	if in.PermissionsBoundary != nil {
		v.policyARN("permissionsBoundary", *in.PermissionsBoundary)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "iam:CreateUser", s.userARN(path, in.UserName)); err != nil {
		return nil, err
	}
	id, err := identity.NewUniqueID(identity.PrefixUser, s.rand)
	if err != nil {
		return nil, err
	}
	u := store.User{Name: in.UserName, Path: path, ID: id, CreatedAt: s.now().UTC(), Tags: tagsToMap(in.Tags)}
	if in.PermissionsBoundary != nil {
		u.PermissionsBoundary = *in.PermissionsBoundary
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, entityError(err, "user", in.UserName)
	}
	return &userResult{User: s.userToXML(u, true)}, nil
}

type optionalUserInput struct {
	UserName *string `query:"UserName"`
}

// targetUser resolves an optional UserName: absent means the calling user.
func (s *Service) targetUser(req *dispatch.Request, name *string) (string, error) {
	if name != nil {
		var v validation
		v.name("userName", *name, 128)
		return *name, v.err()
	}
	if req.Principal.Kind != identity.KindUser {
		return "", awserr.New(awserr.ValidationError, "Must specify userName when calling with non-User credentials")
	}
	return req.Principal.Name, nil
}

func (s *Service) getUser(ctx context.Context, req *dispatch.Request) (any, error) {
	var in optionalUserInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	u, _, err := s.authorizedTargetUser(ctx, req, "iam:GetUser", in.UserName)
	if err != nil {
		return nil, err
	}
	return &userResult{User: s.userToXML(u, true)}, nil
}

// authorizedTargetUser resolves an optional UserName (see targetUser) and
// authorizes action on that user. It returns the user and the name resolved,
// as the caller gave it, for messages.
func (s *Service) authorizedTargetUser(ctx context.Context, req *dispatch.Request, action string, name *string) (store.User, string, error) {
	target, err := s.targetUser(req, name)
	if err != nil {
		return store.User{}, "", err
	}
	u, err := s.authorizedUser(ctx, req, action, target)
	return u, target, err
}

// authorizedUser loads the user (for its path, part of the ARN) and
// authorizes action on it. A missing user is reported only to callers
// allowed to act on that user name, so that names cannot be probed.
func (s *Service) authorizedUser(ctx context.Context, req *dispatch.Request, action, name string) (store.User, error) {
	u, err := s.store.GetUser(ctx, name)
	if err := s.authorizeEntityLookup(ctx, req, store.KindUser, action, name, err, u.Path, u.Name); err != nil {
		return store.User{}, err
	}
	return u, nil
}

type listUsersResult struct {
	Users       []userXML `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func (s *Service) listUsers(ctx context.Context, req *dispatch.Request) (any, error) {
	l, err := s.authorizedPathListing(ctx, req, store.KindUser, "iam:ListUsers")
	if err != nil {
		return nil, err
	}
	users, truncated, next, err := listByPath(ctx, l, s.store.ListUsers, func(u store.User) (string, string) { return u.Path, u.Name })
	if err != nil {
		return nil, err
	}
	toXML := func(u store.User) userXML { return s.userToXML(u, false) }
	return &listUsersResult{Users: mapEach(users, toXML), IsTruncated: truncated, Marker: next}, nil
}

type updateUserInput struct {
	UserName    string  `query:"UserName,required"`
	NewPath     *string `query:"NewPath"`
	NewUserName *string `query:"NewUserName"`
}

func (s *Service) updateUser(ctx context.Context, req *dispatch.Request) (any, error) {
	var in updateUserInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var v validation
	v.name("userName", in.UserName, 128)
	if in.NewPath != nil {
		v.path("newPath", *in.NewPath)
	}
	if in.NewUserName != nil {
		v.name("newUserName", *in.NewUserName, 64)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	u, err := s.authorizedUser(ctx, req, "iam:UpdateUser", in.UserName)
	if err != nil {
		return nil, err
	}
	newName, newPath, err := s.authorizeRename(ctx, req, store.KindUser, "iam:UpdateUser", u.Name, u.Path, in.NewUserName, in.NewPath)
	if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateUser(ctx, in.UserName, func(u store.User) (store.User, error) {
		u.Name, u.Path = newName, newPath
		return u, nil
	})
	return nil, renameError(err, store.KindUser, in.UserName, newName)
}

type userNameInput struct {
	UserName string `query:"UserName,required"`
}

func (s *Service) deleteUser(ctx context.Context, req *dispatch.Request) (any, error) {
	var in userNameInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.authorizedUser(ctx, req, "iam:DeleteUser", in.UserName); err != nil {
		return nil, err
	}
	return nil, entityError(s.store.DeleteUser(ctx, in.UserName), "user", in.UserName)
}

type tagUserInput struct {
	UserName string `query:"UserName,required"`
	Tags     []Tag  `query:"Tags,list,required"`
}

func (s *Service) tagUser(ctx context.Context, req *dispatch.Request) (any, error) {
	var in tagUserInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if _, err := s.authorizedUser(ctx, req, "iam:TagUser", in.UserName); err != nil {
		return nil, err
	}
	_, err := s.store.UpdateUser(ctx, in.UserName, func(u store.User) (store.User, error) {
		err := addTags(&u.Tags, in.Tags, "TagsPerUser", maxTagsPerResource)
		return u, err
	})
	return nil, entityError(err, "user", in.UserName)
}

type untagUserInput struct {
	UserName string   `query:"UserName,required"`
	TagKeys  []string `query:"TagKeys,list,required"`
}

func (s *Service) untagUser(ctx context.Context, req *dispatch.Request) (any, error) {
	var in untagUserInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.authorizedUser(ctx, req, "iam:UntagUser", in.UserName); err != nil {
		return nil, err
	}
	_, err := s.store.UpdateUser(ctx, in.UserName, func(u store.User) (store.User, error) {
		removeTags(u.Tags, in.TagKeys)
		return u, nil
	})
	return nil, entityError(err, "user", in.UserName)
}

type listTagsResult struct {
	Tags        []Tag `xml:"Tags>member"`
	IsTruncated bool  `xml:"IsTruncated"`
}

func (s *Service) listUserTags(ctx context.Context, req *dispatch.Request) (any, error) {
	var in struct {
		UserName string  `query:"UserName,required"`
		Marker   *string `query:"Marker"`
		MaxItems *int    `query:"MaxItems"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	u, err := s.authorizedUser(ctx, req, "iam:ListUserTags", in.UserName)
	if err != nil {
		return nil, err
	}
	return &listTagsResult{Tags: tagsFromMap(u.Tags)}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// maxItems validates the MaxItems parameter (1..1000, default 100).
func maxItems(p *int) (int, error) {
	if p == nil {
		return store.DefaultMaxItems, nil
	}
	if *p < 1 || *p > 1000 {
		return 0, awserr.New(awserr.ValidationError, "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *p)
	}
	return *p, nil
}
