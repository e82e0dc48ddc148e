package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/store"
)

// MaxGroupsPerUser is AWS's quota of groups an IAM user can be a member of.
const MaxGroupsPerUser = 10

// groupXML is the wire shape of an IAM Group.
type groupXML struct {
	Path       string          `xml:"Path"`
	GroupName  string          `xml:"GroupName"`
	GroupID    string          `xml:"GroupId"`
	Arn        string          `xml:"Arn"`
	CreateDate query.Timestamp `xml:"CreateDate"`
}

func (s *Service) groupToXML(g store.Group) groupXML {
	return groupXML{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: s.groupARN(g.Path, g.Name), CreateDate: query.Timestamp(g.CreatedAt)}
}

// authorizedGroup loads the group (for its path, part of the ARN) and
// authorizes action on it; like authorizedUser, a missing group is reported
// only to callers allowed to act on that group name.
func (s *Service) authorizedGroup(ctx context.Context, req *dispatch.Request, action, name string) (store.Group, error) {
	g, err := s.store.GetGroup(ctx, name)
	if err := s.authorizeEntityLookup(ctx, req, store.KindGroup, action, name, err, g.Path, g.Name); err != nil {
		return store.Group{}, err
	}
	return g, nil
}

type createGroupInput struct {
	GroupName string  `query:"GroupName,required"`
	Path      *string `query:"Path"`
}

type groupResult struct {
	Group groupXML `xml:"Group"`
}

func (s *Service) createGroup(ctx context.Context, req *dispatch.Request) (any, error) {
	var in createGroupInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	path := pathOrDefault(in.Path)
	var v validation
	v.name("groupName", in.GroupName, 128)
	v.path("path", path)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "iam:CreateGroup", s.groupARN(path, in.GroupName)); err != nil {
		return nil, err
	}
	id, err := identity.NewUniqueID(identity.PrefixGroup, s.rand)
	if err != nil {
		return nil, err
	}
	g := store.Group{Name: in.GroupName, Path: path, ID: id, CreatedAt: s.now().UTC()}
	if err := s.store.CreateGroup(ctx, g); err != nil {
		return nil, entityError(err, "group", in.GroupName)
	}
	return &groupResult{Group: s.groupToXML(g)}, nil
}

type getGroupInput struct {
	GroupName string  `query:"GroupName,required"`
	Marker    *string `query:"Marker"`
	MaxItems  *int    `query:"MaxItems"`
}

type getGroupResult struct {
	Group       groupXML  `xml:"Group"`
	Users       []userXML `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func (s *Service) getGroup(ctx context.Context, req *dispatch.Request) (any, error) {
	var in getGroupInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	marker, max, err := pageParams(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if err := validName("groupName", in.GroupName, 128); err != nil {
		return nil, err
	}
	g, err := s.authorizedGroup(ctx, req, "iam:GetGroup", in.GroupName)
	if err != nil {
		return nil, err
	}
	members, err := s.store.ListGroupMembers(ctx, g.Name)
	if err != nil {
		return nil, entityError(err, "group", in.GroupName)
	}
	page, truncated, next := paginate(members, func(u store.User) string { return strings.ToLower(u.Name) }, marker, max)
	toXML := func(u store.User) userXML { return s.userToXML(u, false) }
	return &getGroupResult{Group: s.groupToXML(g), Users: mapEach(page, toXML), IsTruncated: truncated, Marker: next}, nil
}

type listGroupsResult struct {
	Groups      []groupXML `xml:"Groups>member"`
	IsTruncated bool       `xml:"IsTruncated"`
	Marker      string     `xml:"Marker,omitempty"`
}

func (s *Service) listGroups(ctx context.Context, req *dispatch.Request) (any, error) {
	l, err := s.authorizedPathListing(ctx, req, store.KindGroup, "iam:ListGroups")
	if err != nil {
		return nil, err
	}
	groups, truncated, next, err := listByPath(ctx, l, s.store.ListGroups, func(g store.Group) (string, string) { return g.Path, g.Name })
	if err != nil {
		return nil, err
	}
	return &listGroupsResult{Groups: mapEach(groups, s.groupToXML), IsTruncated: truncated, Marker: next}, nil
}

type updateGroupInput struct {
	GroupName    string  `query:"GroupName,required"`
	NewGroupName *string `query:"NewGroupName"`
	NewPath      *string `query:"NewPath"`
}

func (s *Service) updateGroup(ctx context.Context, req *dispatch.Request) (any, error) {
	var in updateGroupInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var v validation
	v.name("groupName", in.GroupName, 128)
	if in.NewGroupName != nil {
		v.name("newGroupName", *in.NewGroupName, 128)
	}
	if in.NewPath != nil {
		v.path("newPath", *in.NewPath)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := s.authorizedGroup(ctx, req, "iam:UpdateGroup", in.GroupName)
	if err != nil {
		return nil, err
	}
	newName, newPath, err := s.authorizeRename(ctx, req, store.KindGroup, "iam:UpdateGroup", g.Name, g.Path, in.NewGroupName, in.NewPath)
	if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateGroup(ctx, in.GroupName, func(g store.Group) (store.Group, error) {
		g.Name, g.Path = newName, newPath
		return g, nil
	})
	return nil, renameError(err, store.KindGroup, in.GroupName, newName)
}

type groupNameInput struct {
	GroupName string `query:"GroupName,required"`
}

func (s *Service) deleteGroup(ctx context.Context, req *dispatch.Request) (any, error) {
	var in groupNameInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validName("groupName", in.GroupName, 128); err != nil {
		return nil, err
	}
	if _, err := s.authorizedGroup(ctx, req, "iam:DeleteGroup", in.GroupName); err != nil {
		return nil, err
	}
	return nil, entityError(s.store.DeleteGroup(ctx, in.GroupName), "group", in.GroupName)
}

type groupMemberInput struct {
	GroupName string `query:"GroupName,required"`
	UserName  string `query:"UserName,required"`
}

// membership validates a group membership request and authorizes action on
// the group (as AWS does: the resource of AddUserToGroup and
// RemoveUserFromGroup is the group). It returns the group and the user.
func (s *Service) membership(ctx context.Context, req *dispatch.Request, action string) (store.Group, store.User, error) {
	var in groupMemberInput
	if err := req.Decode(&in); err != nil {
		return store.Group{}, store.User{}, err
	}
	var v validation
	v.name("groupName", in.GroupName, 128)
	v.name("userName", in.UserName, 128)
	if err := v.err(); err != nil {
		return store.Group{}, store.User{}, err
	}
	g, err := s.authorizedGroup(ctx, req, action, in.GroupName)
	if err != nil {
		return store.Group{}, store.User{}, err
	}
	u, err := s.store.GetUser(ctx, in.UserName)
	if err != nil {
		return store.Group{}, store.User{}, entityError(err, "user", in.UserName)
	}
	return g, u, nil
}

// missingMember tells which of the group and the user of a membership
// change that failed with ErrNotFound no longer exists, or returns nil if
// both still do.
func (s *Service) missingMember(ctx context.Context, g store.Group, u store.User) error {
	if _, err := s.store.GetUser(ctx, u.Name); errors.Is(err, store.ErrNotFound) {
		return entityError(err, "user", u.Name)
	}
	if _, err := s.store.GetGroup(ctx, g.Name); errors.Is(err, store.ErrNotFound) {
		return entityError(err, "group", g.Name)
	}
	return nil
}

func (s *Service) addUserToGroup(ctx context.Context, req *dispatch.Request) (any, error) {
	g, u, err := s.membership(ctx, req, "iam:AddUserToGroup")
	if err != nil {
		return nil, err
	}
	groups, err := s.store.ListGroupsForUser(ctx, u.Name)
	if err != nil {
		return nil, entityError(err, "user", u.Name)
	}
	member := false
	for _, mg := range groups {
		member = member || strings.EqualFold(mg.Name, g.Name)
	}
	if !member && len(groups) >= MaxGroupsPerUser {
		return nil, limitExceeded("Cannot exceed quota for GroupsPerUser: %d", MaxGroupsPerUser)
	}
	err = s.store.AddUserToGroup(ctx, g.Name, u.Name, MaxGroupsPerUser)
	if errors.Is(err, store.ErrLimitExceeded) { // joined another group meanwhile
		return nil, limitExceeded("Cannot exceed quota for GroupsPerUser: %d", MaxGroupsPerUser)
	}
	if errors.Is(err, store.ErrNotFound) {
		if merr := s.missingMember(ctx, g, u); merr != nil {
			return nil, merr
		}
		return nil, entityError(err, "group", g.Name)
	}
	return nil, err
}

func (s *Service) removeUserFromGroup(ctx context.Context, req *dispatch.Request) (any, error) {
	g, u, err := s.membership(ctx, req, "iam:RemoveUserFromGroup")
	if err != nil {
		return nil, err
	}
	err = s.store.RemoveUserFromGroup(ctx, g.Name, u.Name)
	if errors.Is(err, store.ErrNotFound) {
		if merr := s.missingMember(ctx, g, u); merr != nil {
			return nil, merr
		}
		// Both exist: the user is not a member.
		return nil, noSuchEntity("The user with name %s is not a member of the group %s.", u.Name, g.Name)
	}
	return nil, err
}

type listGroupsForUserInput struct {
	UserName string  `query:"UserName,required"`
	Marker   *string `query:"Marker"`
	MaxItems *int    `query:"MaxItems"`
}

func (s *Service) listGroupsForUser(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listGroupsForUserInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	marker, max, err := pageParams(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if err := validName("userName", in.UserName, 128); err != nil {
		return nil, err
	}
	u, err := s.authorizedUser(ctx, req, "iam:ListGroupsForUser", in.UserName)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.ListGroupsForUser(ctx, u.Name)
	if err != nil {
		return nil, entityError(err, "user", in.UserName)
	}
	page, truncated, next := paginate(groups, func(g store.Group) string { return strings.ToLower(g.Name) }, marker, max)
	return &listGroupsResult{Groups: mapEach(page, s.groupToXML), IsTruncated: truncated, Marker: next}, nil
}
