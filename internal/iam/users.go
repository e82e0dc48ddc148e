package iam

import (
	"context"
	"errors"
	"sort"
	"strings"

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
	name, err := s.targetUser(req, in.UserName)
	if err != nil {
		return nil, err
	}
	u, err := s.authorizedUser(ctx, req, "iam:GetUser", name)
	if err != nil {
		return nil, err
	}
	return &userResult{User: s.userToXML(u, true)}, nil
}

// authorizedUser loads the user (for its path, part of the ARN) and
// authorizes action on it. A missing user is reported only to callers
// allowed to act on that user name, so that names cannot be probed.
func (s *Service) authorizedUser(ctx context.Context, req *dispatch.Request, action, name string) (store.User, error) {
	u, err := s.store.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if aerr := s.authz.Authorize(ctx, req, action, s.userARN("/", name)); aerr != nil {
			return store.User{}, aerr
		}
		return store.User{}, entityError(err, "user", name)
	}
	if err != nil {
		return store.User{}, err
	}
	if err := s.authz.Authorize(ctx, req, action, s.userARN(u.Path, u.Name)); err != nil {
		return store.User{}, err
	}
	return u, nil
}

type listUsersInput struct {
	PathPrefix *string `query:"PathPrefix"`
	Marker     *string `query:"Marker"`
	MaxItems   *int    `query:"MaxItems"`
}

type listUsersResult struct {
	Users       []userXML `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func (s *Service) listUsers(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listUsersInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	prefix := pathOrDefault(in.PathPrefix)
	max, err := maxItems(in.MaxItems)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "iam:ListUsers", s.userARN(prefix, "")); err != nil {
		return nil, err
	}
	var res listUsersResult
	marker := deref(in.Marker)
	for {
		page, next, err := s.store.ListUsers(ctx, store.Page{Marker: marker, MaxItems: max})
		if err != nil {
			return nil, err
		}
		for _, u := range page {
			if !strings.HasPrefix(u.Path, prefix) {
				continue
			}
			if len(res.Users) == max {
				// More matching users remain: resume from the previous one.
				res.IsTruncated, res.Marker = true, marker
				return &res, nil
			}
			res.Users = append(res.Users, s.userToXML(u, false))
			marker = strings.ToLower(u.Name)
		}
		if next == "" {
			return &res, nil
		}
		marker = next
	}
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
	newName, newPath := u.Name, u.Path
	if in.NewUserName != nil {
		newName = *in.NewUserName
	}
	if in.NewPath != nil {
		newPath = *in.NewPath
	}
	if newName != u.Name || newPath != u.Path {
		// AWS requires permission on the new identity too.
		if err := s.authz.Authorize(ctx, req, "iam:UpdateUser", s.userARN(newPath, newName)); err != nil {
			return nil, err
		}
	}
	_, err = s.store.UpdateUser(ctx, in.UserName, func(u store.User) (store.User, error) {
		u.Name, u.Path = newName, newPath
		return u, nil
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return nil, entityError(err, "user", newName)
	}
	return nil, entityError(err, "user", in.UserName)
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
	var v validation
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	if _, err := s.authorizedUser(ctx, req, "iam:TagUser", in.UserName); err != nil {
		return nil, err
	}
	_, err := s.store.UpdateUser(ctx, in.UserName, func(u store.User) (store.User, error) {
		merged := make(map[string]string, len(u.Tags)+len(in.Tags))
		for k, val := range u.Tags {
			merged[k] = val
		}
		for _, t := range in.Tags {
			merged[t.Key] = t.Value
		}
		if len(merged) > 50 {
			return u, limitExceeded("Cannot exceed quota for TagsPerUser: 50")
		}
		u.Tags = merged
		return u, nil
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
		for _, k := range in.TagKeys {
			delete(u.Tags, k)
		}
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

func sortTags(tags []Tag) {
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
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
