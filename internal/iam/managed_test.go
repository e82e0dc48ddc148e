package iam_test

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

const (
	testAcctARN = "arn:aws:iam::" + awstest.AccountID + ":"

	docAllowListPolicies = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListPolicies","Resource":"*"}]}`
	docDenyListPolicies  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ListPolicies","Resource":"*"}]}`
	docAllowEverything   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// wantCodeMessage is wantCode that also checks the message contains want.
func wantCodeMessage(t *testing.T, err error, code, want string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("message %q does not contain %q", ae.ErrorMessage(), want)
	}
}

func newManagedPolicy(t *testing.T, c *iam.Client, name, path, doc string) *types.Policy {
	t.Helper()
	in := &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}
	if path != "" {
		in.Path = aws.String(path)
	}
	out, err := c.CreatePolicy(t.Context(), in)
	if err != nil {
		t.Fatalf("create policy %s: %v", name, err)
	}
	return out.Policy
}

// userClient creates a user with an access key and returns an IAM client
// signed with that key.
func userWithKey(t *testing.T, srv *awstest.Server, name string, in *iam.CreateUserInput) *iam.Client {
	t.Helper()
	root := srv.RootIAM()
	if in == nil {
		in = &iam.CreateUserInput{}
	}
	in.UserName = aws.String(name)
	if _, err := root.CreateUser(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	key, err := root.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return srv.IAM(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
}

func TestCreateAndGetPolicy(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()

	out, err := root.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("ReadOnly"), Path: aws.String("/team/"), PolicyDocument: aws.String(docAllowListPolicies),
		Description: aws.String("lists policies"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := out.Policy
	wantARN := testAcctARN + "policy/team/ReadOnly"
	if aws.ToString(p.Arn) != wantARN || !strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") ||
		aws.ToString(p.DefaultVersionId) != "v1" || aws.ToString(p.Path) != "/team/" || !p.IsAttachable ||
		aws.ToInt32(p.AttachmentCount) != 0 || aws.ToInt32(p.PermissionsBoundaryUsageCount) != 0 ||
		p.CreateDate == nil || p.UpdateDate == nil || len(p.Tags) != 1 {
		t.Errorf("created policy %+v", p)
	}

	got, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(wantARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Policy.PolicyId) != aws.ToString(p.PolicyId) || aws.ToString(got.Policy.Description) != "lists policies" ||
		len(got.Policy.Tags) != 1 || aws.ToString(got.Policy.Tags[0].Value) != "test" {
		t.Errorf("got policy %+v", got.Policy)
	}
	tags, err := root.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String(wantARN)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("policy tags %+v %v", tags, err)
	}

	createCases := []struct {
		name, policyName, path, doc, description string
		code, message                            string
	}{
		{name: "duplicate name", policyName: "READONLY", doc: docAllowListPolicies, code: "EntityAlreadyExists", message: "A policy called READONLY already exists"},
		{name: "illegal name", policyName: "bad name!", doc: docAllowListPolicies, code: "ValidationError", message: "policyName"},
		{name: "name too long", policyName: strings.Repeat("n", 129), doc: docAllowListPolicies, code: "ValidationError", message: "length between 1 and 128"},
		{name: "path without slashes", policyName: "p", path: "team", doc: docAllowListPolicies, code: "ValidationError", message: "path"},
		{name: "description too long", policyName: "p", doc: docAllowListPolicies, description: strings.Repeat("d", 1001), code: "ValidationError", message: "description"},
		{name: "malformed JSON", policyName: "p", doc: `{"Version":"2012-10-17","Statement":[`, code: "MalformedPolicyDocument"},
		{name: "bad effect", policyName: "p", doc: `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, code: "MalformedPolicyDocument", message: "Effect"},
		{name: "principal in identity policy", policyName: "p", doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, code: "MalformedPolicyDocument"},
		{name: "over the size quota", policyName: "p", doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListPolicies","Resource":"arn:aws:iam::123456789012:policy/` + strings.Repeat("x", 6200) + `"}]}`, code: "LimitExceeded", message: "PolicySize: 6144"},
	}
	for _, tc := range createCases {
		t.Run("create/"+tc.name, func(t *testing.T) {
			in := &iam.CreatePolicyInput{PolicyName: aws.String(tc.policyName), PolicyDocument: aws.String(tc.doc)}
			if tc.path != "" {
				in.Path = aws.String(tc.path)
			}
			if tc.description != "" {
				in.Description = aws.String(tc.description)
			}
			_, err := root.CreatePolicy(ctx, in)
			wantCodeMessage(t, err, tc.code, tc.message)
		})
	}
	// Nothing half-written by the failures.
	list, err := root.ListPolicies(ctx, &iam.ListPoliciesInput{})
	if err != nil || len(list.Policies) != 1 {
		t.Fatalf("policies after failed creates: %+v %v", list, err)
	}

	getCases := []struct{ name, arn, code string }{
		{"unknown policy", testAcctARN + "policy/team/Nope", "NoSuchEntity"},
		{"wrong path", testAcctARN + "policy/other/ReadOnly", "NoSuchEntity"},
		{"no path", testAcctARN + "policy/ReadOnly", "NoSuchEntity"},
		{"other account", "arn:aws:iam::210987654321:policy/team/ReadOnly", "NoSuchEntity"},
		{"AWS managed policy", "arn:aws:iam::aws:policy/AdministratorAccess", "NoSuchEntity"},
		{"not a policy ARN", testAcctARN + "user/team/ReadOnly", "ValidationError"},
	}
	for _, tc := range getCases {
		t.Run("get/"+tc.name, func(t *testing.T) {
			_, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(tc.arn)})
			wantCode(t, err, tc.code)
			if tc.code == "NoSuchEntity" {
				wantCodeMessage(t, err, tc.code, "Policy "+tc.arn+" does not exist or is not attachable.")
			}
		})
	}
}

func TestPolicyVersionLifecycle(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	p := newManagedPolicy(t, root, "Versions", "", docAllowListPolicies)
	arn := p.Arn

	// The document comes back exactly as it was put, URL-encoded.
	docs := map[string]string{"v1": docAllowListPolicies}
	for i, v := range []string{"v2", "v3", "v4", "v5"} {
		doc := `{"Version": "2012-10-17", "Statement": [{"Sid": "S` + v + `", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "arn:aws:iam::123456789012:policy/a+b/*"}]}`
		out, err := root.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc), SetAsDefault: i == 0})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.PolicyVersion.VersionId) != v || out.PolicyVersion.IsDefaultVersion != (i == 0) || out.PolicyVersion.CreateDate == nil {
			t.Errorf("created version %+v", out.PolicyVersion)
		}
		docs[v] = doc
	}
	_, err := root.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(docAllowListPolicies)})
	wantCodeMessage(t, err, "LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")

	for v, want := range docs {
		out, err := root.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := url.PathUnescape(aws.ToString(out.PolicyVersion.Document))
		if err != nil || got != want {
			t.Errorf("%s document %q (%v), want %q", v, got, err, want)
		}
		if out.PolicyVersion.IsDefaultVersion != (v == "v2") {
			t.Errorf("%s IsDefaultVersion = %v", v, out.PolicyVersion.IsDefaultVersion)
		}
	}

	if _, err := root.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v4")}); err != nil {
		t.Fatal(err)
	}
	got, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	if err != nil || aws.ToString(got.Policy.DefaultVersionId) != "v4" {
		t.Fatalf("policy after set default: %+v %v", got, err)
	}
	list, err := root.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range list.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
		if v.IsDefaultVersion != (aws.ToString(v.VersionId) == "v4") {
			t.Errorf("listed %s default = %v", aws.ToString(v.VersionId), v.IsDefaultVersion)
		}
	}
	if strings.Join(ids, ",") != "v1,v2,v3,v4,v5" {
		t.Errorf("versions %v", ids)
	}
	// Paging through the versions.
	var paged []string
	pg := iam.NewListPolicyVersionsPaginator(root, &iam.ListPolicyVersionsInput{PolicyArn: arn, MaxItems: aws.Int32(2)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			paged = append(paged, aws.ToString(v.VersionId))
		}
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("paged versions %v", paged)
	}

	errCases := []struct {
		name    string
		call    func() error
		code    string
		message string
	}{
		{"delete the default version", func() error {
			_, err := root.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v4")})
			return err
		}, "DeleteConflict", "Cannot delete the default version of a policy."},
		{"get a missing version", func() error {
			_, err := root.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v9")})
			return err
		}, "NoSuchEntity", "version v9 does not exist"},
		{"malformed version id", func() error {
			_, err := root.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("version1")})
			return err
		}, "ValidationError", "versionId"},
		{"set a missing default", func() error {
			_, err := root.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v7")})
			return err
		}, "NoSuchEntity", "version v7"},
		{"version of a missing policy", func() error {
			_, err := root.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(testAcctARN + "policy/Nope"), PolicyDocument: aws.String(docAllowListPolicies)})
			return err
		}, "NoSuchEntity", "does not exist or is not attachable"},
		{"malformed new version", func() error {
			_, err := root.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(`{"Statement":"nope"}`)})
			return err
		}, "MalformedPolicyDocument", ""},
		{"delete with versions", func() error {
			_, err := root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
			return err
		}, "DeleteConflict", "This policy has more than one version. Before you delete a policy, you must delete the policy's versions."},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) { wantCodeMessage(t, tc.call(), tc.code, tc.message) })
	}

	// Delete the non-default versions; a new one gets a new number.
	for _, v := range []string{"v1", "v2", "v3", "v5"} {
		if _, err := root.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := root.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(docAllowListPolicies)})
	if err != nil || aws.ToString(out.PolicyVersion.VersionId) != "v6" {
		t.Fatalf("new version %+v %v", out, err)
	}
	if _, err := root.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v6")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	_, err = root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	wantCode(t, err, "NoSuchEntity")
}

func TestAttachUserPolicyAndDeleteConflicts(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	p := newManagedPolicy(t, root, "Lister", "/ops/", docAllowListPolicies)
	other := newManagedPolicy(t, root, "Other", "", docAllowListPolicies)
	for _, n := range []string{"bob", "amy"} {
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(n), PolicyArn: p.Arn}); err != nil {
			t.Fatal(err)
		}
	}
	// Attaching again is not an error.
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: other.Arn}); err != nil {
		t.Fatal(err)
	}

	attached, err := root.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range attached.AttachedPolicies {
		names = append(names, aws.ToString(a.PolicyName)+"="+aws.ToString(a.PolicyArn))
	}
	if strings.Join(names, ",") != "Lister="+testAcctARN+"policy/ops/Lister,Other="+testAcctARN+"policy/Other" {
		t.Errorf("attached %v", names)
	}
	filtered, err := root.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob"), PathPrefix: aws.String("/ops/")})
	if err != nil || len(filtered.AttachedPolicies) != 1 {
		t.Errorf("attached under /ops/: %+v %v", filtered, err)
	}
	firstPage, err := root.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob"), MaxItems: aws.Int32(1)})
	if err != nil || len(firstPage.AttachedPolicies) != 1 || !firstPage.IsTruncated {
		t.Fatalf("first page %+v %v", firstPage, err)
	}
	second, err := root.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob"), MaxItems: aws.Int32(1), Marker: firstPage.Marker})
	if err != nil || len(second.AttachedPolicies) != 1 || second.IsTruncated || aws.ToString(second.AttachedPolicies[0].PolicyName) != "Other" {
		t.Fatalf("second page %+v %v", second, err)
	}

	got, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Arn})
	if err != nil || aws.ToInt32(got.Policy.AttachmentCount) != 2 {
		t.Fatalf("attachment count %+v %v", got, err)
	}
	ents, err := root.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn})
	if err != nil || len(ents.PolicyUsers) != 2 || aws.ToString(ents.PolicyUsers[0].UserName) != "amy" ||
		!strings.HasPrefix(aws.ToString(ents.PolicyUsers[0].UserId), "AIDA") || len(ents.PolicyGroups)+len(ents.PolicyRoles) != 0 {
		t.Fatalf("entities %+v %v", ents, err)
	}
	onlyRoles, err := root.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn, EntityFilter: types.EntityTypeRole})
	if err != nil || len(onlyRoles.PolicyUsers) != 0 {
		t.Fatalf("role entities %+v %v", onlyRoles, err)
	}

	errCases := []struct {
		name    string
		call    func() error
		code    string
		message string
	}{
		{"attach to a missing user", func() error {
			_, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: p.Arn})
			return err
		}, "NoSuchEntity", "The user with name nobody cannot be found."},
		{"attach a missing policy", func() error {
			_, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(testAcctARN + "policy/Nope")})
			return err
		}, "NoSuchEntity", "Policy " + testAcctARN + "policy/Nope does not exist or is not attachable."},
		{"attach an AWS managed policy", func() error {
			_, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}, "NoSuchEntity", "does not exist or is not attachable"},
		{"attach with a bad ARN", func() error {
			_, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("Lister")})
			return err
		}, "ValidationError", "policyArn"},
		{"detach what is not attached", func() error {
			_, err := root.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("amy"), PolicyArn: other.Arn})
			return err
		}, "NoSuchEntity", "Policy " + aws.ToString(other.Arn) + " was not found."},
		{"list for a missing user", func() error {
			_, err := root.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", "nobody"},
		{"delete an attached policy", func() error {
			_, err := root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})
			return err
		}, "DeleteConflict", "Cannot delete a policy attached to entities."},
		{"delete a user with attached policies", func() error {
			_, err := root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("amy")})
			return err
		}, "DeleteConflict", ""},
		{"list entities of a missing policy", func() error {
			_, err := root.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(testAcctARN + "policy/Nope")})
			return err
		}, "NoSuchEntity", ""},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) { wantCodeMessage(t, tc.call(), tc.code, tc.message) })
	}

	// The quota of attached policies per user.
	for i := 0; i < 8; i++ {
		extra := newManagedPolicy(t, root, "Extra"+string(rune('A'+i)), "", docAllowListPolicies)
		if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: extra.Arn}); err != nil {
			t.Fatal(err)
		}
	}
	eleventh := newManagedPolicy(t, root, "Eleventh", "", docAllowListPolicies)
	_, err = root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: eleventh.Arn})
	wantCodeMessage(t, err, "LimitExceeded", "PoliciesPerUser: 10")

	// Detach everywhere, then the policy can be deleted.
	for _, n := range []string{"bob", "amy"} {
		if _, err := root.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(n), PolicyArn: p.Arn}); err != nil {
			t.Fatal(err)
		}
	}
	ents, err = root.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn})
	if err != nil || len(ents.PolicyUsers) != 0 {
		t.Fatalf("entities after detach %+v %v", ents, err)
	}
	if _, err := root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})
	wantCode(t, err, "NoSuchEntity")
}

func TestAttachGroupAndRolePolicies(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	p := newManagedPolicy(t, root, "Shared", "", docAllowListPolicies)
	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/eng/")}); err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidAction" {
			t.Skip("CreateGroup is not served yet")
		}
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("zed")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ops"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("zed"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}

	g, err := root.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")})
	if err != nil || len(g.AttachedPolicies) != 1 || aws.ToString(g.AttachedPolicies[0].PolicyArn) != aws.ToString(p.Arn) {
		t.Errorf("group policies %+v %v", g, err)
	}
	r, err := root.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("ops")})
	if err != nil || len(r.AttachedPolicies) != 1 {
		t.Errorf("role policies %+v %v", r, err)
	}

	filters := []struct {
		name                 string
		in                   iam.ListEntitiesForPolicyInput
		users, groups, roles int
	}{
		{"all", iam.ListEntitiesForPolicyInput{}, 1, 1, 1},
		{"groups", iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeGroup}, 0, 1, 0},
		{"roles", iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeRole}, 0, 0, 1},
		{"path prefix", iam.ListEntitiesForPolicyInput{PathPrefix: aws.String("/eng/")}, 0, 1, 0},
		{"boundaries only", iam.ListEntitiesForPolicyInput{PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}, 0, 0, 0},
	}
	for _, tc := range filters {
		t.Run("entities/"+tc.name, func(t *testing.T) {
			in := tc.in
			in.PolicyArn = p.Arn
			out, err := root.ListEntitiesForPolicy(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.PolicyUsers) != tc.users || len(out.PolicyGroups) != tc.groups || len(out.PolicyRoles) != tc.roles {
				t.Errorf("users %+v groups %+v roles %+v", out.PolicyUsers, out.PolicyGroups, out.PolicyRoles)
			}
			if tc.groups == 1 && (aws.ToString(out.PolicyGroups[0].GroupName) != "devs" || !strings.HasPrefix(aws.ToString(out.PolicyGroups[0].GroupId), "AGPA")) {
				t.Errorf("group %+v", out.PolicyGroups[0])
			}
			if tc.roles == 1 && !strings.HasPrefix(aws.ToString(out.PolicyRoles[0].RoleId), "AROA") {
				t.Errorf("role %+v", out.PolicyRoles[0])
			}
		})
	}
	// Paging through users, groups and roles, one at a time.
	var seen []string
	pg := iam.NewListEntitiesForPolicyPaginator(root, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn, MaxItems: aws.Int32(1)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.PolicyUsers {
			seen = append(seen, "user/"+aws.ToString(u.UserName))
		}
		for _, g := range out.PolicyGroups {
			seen = append(seen, "group/"+aws.ToString(g.GroupName))
		}
		for _, r := range out.PolicyRoles {
			seen = append(seen, "role/"+aws.ToString(r.RoleName))
		}
	}
	if strings.Join(seen, ",") != "user/zed,group/devs,role/ops" {
		t.Errorf("paged entities %v", seen)
	}

	_, err = root.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("nogroup"), PolicyArn: p.Arn})
	wantCodeMessage(t, err, "NoSuchEntity", "The group with name nogroup cannot be found.")
	_, err = root.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("norole"), PolicyArn: p.Arn})
	wantCodeMessage(t, err, "NoSuchEntity", "The role with name norole cannot be found.")
	_, err = root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ops")})
	wantCode(t, err, "DeleteConflict")

	if _, err := root.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ops"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = root.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ops"), PolicyArn: p.Arn})
	wantCodeMessage(t, err, "NoSuchEntity", "was not found")
	got, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Arn})
	if err != nil || aws.ToInt32(got.Policy.AttachmentCount) != 1 {
		t.Fatalf("attachment count after detaching %+v %v", got, err)
	}
}

func TestListPolicies(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	for _, n := range []string{"p1", "p2", "p3", "p4", "p5"} {
		path := "/a/"
		if n == "p3" {
			path = "/b/"
		}
		newManagedPolicy(t, root, n, path, docAllowListPolicies)
	}
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(testAcctARN + "policy/a/p2")}); err != nil {
		t.Fatal(err)
	}

	names := func(in *iam.ListPoliciesInput) string {
		t.Helper()
		var got []string
		pg := iam.NewListPoliciesPaginator(root, in)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Policies {
				got = append(got, aws.ToString(p.PolicyName))
				if p.Description != nil || len(p.Tags) != 0 {
					t.Errorf("ListPolicies returned details: %+v", p)
				}
			}
		}
		return strings.Join(got, ",")
	}
	cases := []struct {
		name string
		in   iam.ListPoliciesInput
		want string
	}{
		{"all", iam.ListPoliciesInput{}, "p1,p2,p3,p4,p5"},
		{"local", iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}, "p1,p2,p3,p4,p5"},
		{"AWS managed", iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws}, ""},
		{"path prefix, paged", iam.ListPoliciesInput{PathPrefix: aws.String("/a/"), MaxItems: aws.Int32(2)}, "p1,p2,p4,p5"},
		{"only attached", iam.ListPoliciesInput{OnlyAttached: true}, "p2"},
		{"only attached as boundary", iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if got := names(&in); got != tc.want {
				t.Errorf("policies %q, want %q", got, tc.want)
			}
		})
	}
	_, err := root.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Everything"})
	wantCodeMessage(t, err, "ValidationError", "scope")
	_, err = root.ListPolicies(ctx, &iam.ListPoliciesInput{MaxItems: aws.Int32(1001)})
	wantCode(t, err, "ValidationError")
}

func TestUserGetsAccessFromManagedPolicy(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	carol := userWithKey(t, srv, "carol", nil)

	_, err := carol.ListPolicies(ctx, &iam.ListPoliciesInput{})
	wantCodeMessage(t, err, "AccessDenied", "User: "+testAcctARN+"user/carol is not authorized to perform: iam:ListPolicies on resource: *")

	p := newManagedPolicy(t, root, "CarolLists", "", docAllowListPolicies)
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.ListPolicies(ctx, &iam.ListPoliciesInput{}); err != nil {
		t.Fatalf("carol with the policy attached: %v", err)
	}
	// Only what the policy allows.
	_, err = carol.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Arn})
	wantCode(t, err, "AccessDenied")

	// A new default version that denies.
	if _, err := root.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(docDenyListPolicies), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	_, err = carol.ListPolicies(ctx, &iam.ListPoliciesInput{})
	wantCodeMessage(t, err, "AccessDenied", "with an explicit deny")

	// Back to v1, then detach: implicit deny again.
	if _, err := root.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.ListPolicies(ctx, &iam.ListPoliciesInput{}); err != nil {
		t.Fatalf("carol after restoring v1: %v", err)
	}
	if _, err := root.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = carol.ListPolicies(ctx, &iam.ListPoliciesInput{})
	wantCode(t, err, "AccessDenied")
	var ae smithy.APIError
	errors.As(err, &ae)
	if strings.Contains(ae.ErrorMessage(), "explicit deny") {
		t.Errorf("after detach the deny is implicit, got %q", ae.ErrorMessage())
	}

	// A caller without permission cannot probe for policies either.
	_, err = carol.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(testAcctARN + "policy/DoesNotExist")})
	wantCode(t, err, "AccessDenied")
	_, err = carol.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: p.Arn})
	wantCodeMessage(t, err, "AccessDenied", "iam:AttachUserPolicy on resource: "+testAcctARN+"user/carol")
}

func TestPermissionsBoundary(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	boundary := newManagedPolicy(t, root, "OnlyListPolicies", "/boundaries/", docAllowListPolicies)
	admin := newManagedPolicy(t, root, "Admin", "", docAllowEverything)
	dave := userWithKey(t, srv, "dave", &iam.CreateUserInput{PermissionsBoundary: boundary.Arn})
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dave"), PolicyArn: admin.Arn}); err != nil {
		t.Fatal(err)
	}

	if _, err := dave.ListPolicies(ctx, &iam.ListPoliciesInput{}); err != nil {
		t.Fatalf("dave may list policies within his boundary: %v", err)
	}
	_, err := dave.ListUsers(ctx, &iam.ListUsersInput{})
	wantCodeMessage(t, err, "AccessDenied", "iam:ListUsers")

	got, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: boundary.Arn})
	if err != nil || aws.ToInt32(got.Policy.PermissionsBoundaryUsageCount) != 1 || aws.ToInt32(got.Policy.AttachmentCount) != 0 {
		t.Fatalf("boundary policy %+v %v", got, err)
	}
	ents, err := root.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: boundary.Arn, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary})
	if err != nil || len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != "dave" {
		t.Fatalf("boundary entities %+v %v", ents, err)
	}
	attachedOnly, err := root.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: boundary.Arn, PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy})
	if err != nil || len(attachedOnly.PolicyUsers) != 0 {
		t.Fatalf("permissions-policy entities %+v %v", attachedOnly, err)
	}
	list, err := root.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary})
	if err != nil || len(list.Policies) != 1 || aws.ToString(list.Policies[0].PolicyName) != "OnlyListPolicies" {
		t.Fatalf("boundary policies %+v %v", list, err)
	}

	// Deleting the boundary would lock dave out of everything: refused.
	_, err = root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: boundary.Arn})
	wantCodeMessage(t, err, "DeleteConflict", "user/dave")
}

func TestTagAndUntagPolicy(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	p := newManagedPolicy(t, root, "Tagged", "/team/", docAllowListPolicies)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	keys := func() string {
		out, err := root.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: p.Arn})
		if err != nil {
			t.Fatal(err)
		}
		var kv []string
		for _, t := range out.Tags {
			kv = append(kv, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
		}
		return strings.Join(kv, ",")
	}

	if _, err := root.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: p.Arn, Tags: []types.Tag{tag("team", "data"), tag("env", "test")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: p.Arn, Tags: []types.Tag{tag("env", "prod")}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(); got != "env=prod,team=data" {
		t.Errorf("tags after TagPolicy: %s", got)
	}
	got, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Arn})
	if err != nil || len(got.Policy.Tags) != 2 {
		t.Errorf("GetPolicy tags: %+v, %v", got, err)
	}
	if _, err := root.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: p.Arn, TagKeys: []string{"env", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(); got != "team=data" {
		t.Errorf("tags after UntagPolicy: %s", got)
	}

	// Quota, validation, missing policy: nothing changes.
	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = tag(fmt.Sprintf("k%02d", i), "v")
	}
	_, err = root.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: p.Arn, Tags: many})
	wantCodeMessage(t, err, "LimitExceeded", "TagsPerPolicy: 50")
	_, err = root.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: p.Arn, Tags: []types.Tag{tag("aws:reserved", "x")}})
	wantCode(t, err, "ValidationError")
	if got := keys(); got != "team=data" {
		t.Errorf("refused TagPolicy changed the tags: %s", got)
	}
	_, err = root.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(testAcctARN + "policy/team/Ghost"), Tags: []types.Tag{tag("a", "b")}})
	wantCodeMessage(t, err, "NoSuchEntity", "does not exist")
	_, err = root.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(testAcctARN + "policy/Tagged"), TagKeys: []string{"team"}}) // wrong path
	wantCode(t, err, "NoSuchEntity")

	// Authorized on the policy ARN, and not probe-able.
	dave := userWithKey(t, srv, "dave", nil)
	_, err = dave.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: p.Arn, Tags: []types.Tag{tag("a", "b")}})
	wantCodeMessage(t, err, "AccessDenied", "iam:TagPolicy on resource: "+aws.ToString(p.Arn))
	_, err = dave.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(testAcctARN + "policy/Ghost"), TagKeys: []string{"a"}})
	wantCode(t, err, "AccessDenied")
	if got := keys(); got != "team=data" {
		t.Errorf("denied calls changed the tags: %s", got)
	}
}
