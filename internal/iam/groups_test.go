package iam_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

func groupNames(groups []types.Group) string {
	names := make([]string, 0, len(groups))
	for _, g := range groups {
		names = append(names, aws.ToString(g.GroupName))
	}
	return strings.Join(names, ",")
}

func userNames(users []types.User) string {
	names := make([]string, 0, len(users))
	for _, u := range users {
		names = append(names, aws.ToString(u.UserName))
	}
	return strings.Join(names, ",")
}

func TestGroups(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()

	out, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Devs"), Path: aws.String("/eng/")})
	if err != nil {
		t.Fatal(err)
	}
	g := out.Group
	if aws.ToString(g.Arn) != "arn:aws:iam::123456789012:group/eng/Devs" || !strings.HasPrefix(aws.ToString(g.GroupId), "AGPA") ||
		aws.ToString(g.Path) != "/eng/" || g.CreateDate == nil {
		t.Errorf("created group %+v", g)
	}
	for _, n := range []string{"alice", "bob", "carol"} {
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"carol", "alice", "bob", "alice"} { // adding twice is not an error
		if _, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("DEVS")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Group.GroupId) != aws.ToString(g.GroupId) || userNames(got.Users) != "alice,bob,carol" || got.IsTruncated {
		t.Errorf("GetGroup %+v members %s", got.Group, userNames(got.Users))
	}
	// Members page like any listing.
	var members []string
	p := iam.NewGetGroupPaginator(root, &iam.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		members = append(members, userNames(page.Users))
	}
	if strings.Join(members, "|") != "alice,bob|carol" || pages != 2 {
		t.Errorf("member pages %v", members)
	}

	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	forBob, err := root.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
	if err != nil || groupNames(forBob.Groups) != "Devs,ops" {
		t.Fatalf("groups of bob %+v %v", forBob, err)
	}
	forCarol, err := root.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("carol"), MaxItems: aws.Int32(1)})
	if err != nil || groupNames(forCarol.Groups) != "Devs" || forCarol.IsTruncated {
		t.Fatalf("groups of carol %+v %v", forCarol, err)
	}

	// A group with members cannot be deleted, and a user in a group neither.
	_, err = root.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
	wantMessage(t, err, "DeleteConflict", "members")
	_, err = root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
	wantCode(t, err, "DeleteConflict")
	if _, err := root.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("BOB")}); err != nil {
		t.Fatal(err)
	}
	// Nor one with an inline policy.
	if _, err := root.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowGetUser)}); err != nil {
		t.Fatal(err)
	}
	_, err = root.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
	wantMessage(t, err, "DeleteConflict", "inline policies")
	if _, err := root.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	forBob, err = root.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
	if err != nil || groupNames(forBob.Groups) != "Devs" {
		t.Fatalf("groups of bob after delete %+v %v", forBob, err)
	}
}

func TestGroupErrors(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	for _, n := range []string{"devs", "ops"} {
		if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		call    func() error
		code    string
		message string
	}{
		{"CreateGroup duplicate in another case", func() error {
			_, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("DEVS")})
			return err
		}, "EntityAlreadyExists", "Group with name DEVS already exists."},
		{"CreateGroup illegal name", func() error {
			_, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("dev team")})
			return err
		}, "ValidationError", "groupName"},
		{"CreateGroup name too long", func() error {
			_, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(strings.Repeat("g", 129))})
			return err
		}, "ValidationError", "between 1 and 128"},
		{"CreateGroup path too long", func() error {
			_, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g"), Path: aws.String("/" + strings.Repeat("p", 511) + "/")})
			return err
		}, "ValidationError", "between 1 and 512"},
		{"CreateGroup path without trailing slash", func() error {
			_, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g"), Path: aws.String("/eng")})
			return err
		}, "ValidationError", "path"},
		{"GetGroup no such group", func() error {
			_, err := root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", "The group with name nobody cannot be found."},
		{"GetGroup MaxItems 0", func() error {
			_, err := root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(0)})
			return err
		}, "ValidationError", "maxItems"},
		{"UpdateGroup to a taken name", func() error {
			_, err := root.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("devs"), NewGroupName: aws.String("OPS")})
			return err
		}, "EntityAlreadyExists", "Group with name OPS already exists."},
		{"UpdateGroup illegal new name", func() error {
			_, err := root.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("devs"), NewGroupName: aws.String("a:b")})
			return err
		}, "ValidationError", "newGroupName"},
		{"UpdateGroup path too long", func() error {
			_, err := root.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("devs"), NewPath: aws.String("/" + strings.Repeat("p", 511) + "/")})
			return err
		}, "ValidationError", "newPath"},
		{"UpdateGroup no such group", func() error {
			_, err := root.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("nobody"), NewGroupName: aws.String("x")})
			return err
		}, "NoSuchEntity", "The group with name nobody cannot be found."},
		{"DeleteGroup no such group", func() error {
			_, err := root.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", "The group with name nobody cannot be found."},
		{"AddUserToGroup no such user", func() error {
			_, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", "The user with name nobody cannot be found."},
		{"AddUserToGroup no such group", func() error {
			_, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nogroup"), UserName: aws.String("alice")})
			return err
		}, "NoSuchEntity", "The group with name nogroup cannot be found."},
		{"RemoveUserFromGroup not a member", func() error {
			_, err := root.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})
			return err
		}, "NoSuchEntity", "alice"},
		{"RemoveUserFromGroup no such user", func() error {
			_, err := root.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", "The user with name nobody cannot be found."},
		{"ListGroupsForUser no such user", func() error {
			_, err := root.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", "The user with name nobody cannot be found."},
		{"ListGroups relative PathPrefix", func() error {
			_, err := root.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("eng/")})
			return err
		}, "ValidationError", "pathPrefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantMessage(t, c.call(), c.code, c.message) })
	}
	list, err := root.ListGroups(ctx, &iam.ListGroupsInput{})
	if err != nil || groupNames(list.Groups) != "devs,ops" {
		t.Fatalf("groups after refused calls: %+v %v", list, err)
	}
	for _, g := range list.Groups {
		if aws.ToString(g.Path) != "/" {
			t.Errorf("group %s moved to %s", aws.ToString(g.GroupName), aws.ToString(g.Path))
		}
	}
}

func TestRenameGroupKeepsMembersAndPolicies(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	bob := keyedUser(t, srv, "bob")
	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("get"), PolicyDocument: aws.String(allowGetUser)}); err != nil {
		t.Fatal(err)
	}
	before, err := root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("readers")})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := root.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("readers"), NewGroupName: aws.String("viewers"), NewPath: aws.String("/team/")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("readers")})
	wantCode(t, err, "NoSuchEntity")
	after, err := root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("viewers")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(after.Group.Arn) != "arn:aws:iam::123456789012:group/team/viewers" || aws.ToString(after.Group.GroupId) != aws.ToString(before.Group.GroupId) ||
		userNames(after.Users) != "bob" {
		t.Errorf("renamed group %+v members %s", after.Group, userNames(after.Users))
	}
	pol, err := root.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("viewers"), PolicyName: aws.String("get")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(pol.GroupName) != "viewers" || decodeDoc(t, pol.PolicyDocument) != allowGetUser {
		t.Errorf("policy after rename %+v", pol)
	}
	// And the membership still grants the policy.
	if _, err := bob.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatalf("GetUser through the renamed group: %v", err)
	}
	forBob, err := root.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
	if err != nil || groupNames(forBob.Groups) != "viewers" {
		t.Fatalf("groups of bob %+v %v", forBob, err)
	}
}

func TestListGroupsPagination(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	for _, n := range []string{"g1", "g2", "g3", "g4", "g5"} {
		path := "/a/"
		if n == "g3" {
			path = "/b/"
		}
		if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(n), Path: aws.String(path)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListGroupsPaginator(root, &iam.ListGroupsInput{PathPrefix: aws.String("/a/"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		names = append(names, groupNames(out.Groups))
	}
	if strings.Join(names, "|") != "g1,g2|g4,g5" || pages != 2 {
		t.Errorf("pages %v", names)
	}
	_, err := root.ListGroups(ctx, &iam.ListGroupsInput{MaxItems: aws.Int32(1001)})
	wantCode(t, err, "ValidationError")
}

func TestGroupsPerUserQuota(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("joiner")}); err != nil {
		t.Fatal(err)
	}
	for i := range 11 {
		name := fmt.Sprintf("g%02d", i)
		if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		_, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("joiner")})
		if i < 10 && err != nil {
			t.Fatalf("group %d: %v", i+1, err)
		}
		if i == 10 {
			wantMessage(t, err, "LimitExceeded", "GroupsPerUser: 10")
		}
	}
	// Adding again to a group the user is in stays fine at the quota.
	if _, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g00"), UserName: aws.String("joiner")}); err != nil {
		t.Fatal(err)
	}
}

func TestGroupActionsAuthorizeOnGroupARN(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	bob := keyedUser(t, srv, "bob")
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ name, path string }{{"eng-devs", "/eng/"}, {"admins", "/"}} {
		if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g.name), Path: aws.String(g.path)}); err != nil {
			t.Fatal(err)
		}
	}
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:AddUserToGroup","iam:GetGroup"],"Resource":"arn:aws:iam::123456789012:group/eng/*"}]}`
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("eng"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("eng-devs"), UserName: aws.String("carol")}); err != nil {
		t.Fatalf("AddUserToGroup under /eng/: %v", err)
	}
	_, err := bob.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("bob")})
	wantMessage(t, err, "AccessDenied", "iam:AddUserToGroup on resource: arn:aws:iam::123456789012:group/admins")
	_, err = bob.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("eng-devs"), UserName: aws.String("carol")})
	wantMessage(t, err, "AccessDenied", "iam:RemoveUserFromGroup on resource: arn:aws:iam::123456789012:group/eng/eng-devs")
	got, err := bob.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("eng-devs")})
	if err != nil || userNames(got.Users) != "carol" {
		t.Fatalf("GetGroup %+v %v", got, err)
	}
	admins, err := root.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("admins")})
	if err != nil || len(admins.Users) != 0 {
		t.Fatalf("the refused AddUserToGroup wrote something: %+v %v", admins, err)
	}
	_, err = bob.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("new"), Path: aws.String("/eng/")})
	wantMessage(t, err, "AccessDenied", "iam:CreateGroup on resource: arn:aws:iam::123456789012:group/eng/new")
}
