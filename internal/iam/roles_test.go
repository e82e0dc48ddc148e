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

const (
	trustEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	// trustSAML has whitespace, newlines and characters that need escaping.
	trustSAML = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n" +
		"    \"Principal\": {\"Federated\": \"arn:aws:iam::123456789012:saml-provider/Okta+Test\"},\n" +
		"    \"Action\": \"sts:AssumeRoleWithSAML\",\n" +
		"    \"Condition\": {\"StringEquals\": {\"SAML:aud\": \"https://signin.aws.amazon.com/saml?x=1&y=%20\"}}\n  }]\n}"
)

func TestRoles(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()

	out, err := root.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("Analyst"), Path: aws.String("/data/"), AssumeRolePolicyDocument: aws.String(trustSAML),
		Description: aws.String("Reads the warehouse"),
		Tags:        []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::123456789012:role/data/Analyst" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") ||
		r.CreateDate == nil || aws.ToInt32(r.MaxSessionDuration) != 3600 || aws.ToString(r.Description) != "Reads the warehouse" {
		t.Errorf("created role %+v", r)
	}
	if got := decodeDoc(t, r.AssumeRolePolicyDocument); got != trustSAML {
		t.Errorf("CreateRole trust policy %q", got)
	}

	got, err := root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("analyst")})
	if err != nil {
		t.Fatal(err)
	}
	g := got.Role
	if aws.ToString(g.RoleName) != "Analyst" || aws.ToString(g.RoleId) != aws.ToString(r.RoleId) || aws.ToString(g.Path) != "/data/" ||
		aws.ToInt32(g.MaxSessionDuration) != 3600 || len(g.Tags) != 1 || aws.ToString(g.Tags[0].Value) != "data" {
		t.Errorf("GetRole %+v", g)
	}
	if strings.ContainsAny(aws.ToString(g.AssumeRolePolicyDocument), " \n{\"") {
		t.Errorf("trust policy is not URL-encoded: %q", aws.ToString(g.AssumeRolePolicyDocument))
	}
	if doc := decodeDoc(t, g.AssumeRolePolicyDocument); doc != trustSAML {
		t.Errorf("GetRole trust policy:\n got %q\nwant %q", doc, trustSAML)
	}

	// UpdateRole changes what it is given and nothing else.
	if _, err := root.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("Analyst"), MaxSessionDuration: aws.Int32(43200)}); err != nil {
		t.Fatal(err)
	}
	desc, err := root.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("Analyst"), Description: aws.String("Reads everything")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.Role.Description) != "Reads everything" || aws.ToInt32(desc.Role.MaxSessionDuration) != 43200 {
		t.Errorf("UpdateRoleDescription %+v", desc.Role)
	}
	if _, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Analyst"), PolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	got, err = root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Analyst")})
	if err != nil {
		t.Fatal(err)
	}
	if decodeDoc(t, got.Role.AssumeRolePolicyDocument) != trustEC2 || aws.ToString(got.Role.Description) != "Reads everything" || aws.ToInt32(got.Role.MaxSessionDuration) != 43200 {
		t.Errorf("after updates %+v", got.Role)
	}

	// Tags.
	if _, err := root.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Analyst"), Tags: []types.Tag{
		{Key: aws.String("team"), Value: aws.String("analytics")}, {Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("Analyst"), TagKeys: []string{"env", "absent"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := root.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("Analyst")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "analytics" || tags.IsTruncated {
		t.Fatalf("tags %+v %v", tags, err)
	}
	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")}
	}
	_, err = root.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Analyst"), Tags: many})
	wantMessage(t, err, "LimitExceeded", "TagsPerRole")
	if _, err := root.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Analyst"), Tags: many[:49]}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	p := iam.NewListRoleTagsPaginator(root, &iam.ListRoleTagsInput{RoleName: aws.String("Analyst"), MaxItems: aws.Int32(20)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tag := range page.Tags {
			keys = append(keys, aws.ToString(tag.Key))
		}
	}
	if len(keys) != 50 || pages != 3 || keys[0] != "k00" || keys[49] != "team" {
		t.Errorf("%d tags in %d pages: %v", len(keys), pages, keys)
	}

	if _, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ANALYST")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Analyst")})
	wantMessage(t, err, "NoSuchEntity", "The role with name Analyst cannot be found.")
}

func TestCreateRoleErrors(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("taken"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole",` +
		`"Condition":{"StringEquals":{"sts:ExternalId":"` + strings.Repeat("x", 2048) + `"}}}]}`
	cases := []struct {
		name    string
		in      iam.CreateRoleInput
		code    string
		message string
	}{
		{"duplicate name in another case", iam.CreateRoleInput{RoleName: aws.String("TAKEN")}, "EntityAlreadyExists", "Role with name TAKEN already exists."},
		{"illegal name", iam.CreateRoleInput{RoleName: aws.String("no spaces")}, "ValidationError", "roleName"},
		{"name too long", iam.CreateRoleInput{RoleName: aws.String(strings.Repeat("r", 65))}, "ValidationError", "between 1 and 64"},
		{"path too long", iam.CreateRoleInput{RoleName: aws.String("r"), Path: aws.String("/" + strings.Repeat("p", 511) + "/")}, "ValidationError", "between 1 and 512"},
		{"path without slashes", iam.CreateRoleInput{RoleName: aws.String("r"), Path: aws.String("data")}, "ValidationError", "path"},
		{"session too short", iam.CreateRoleInput{RoleName: aws.String("r"), MaxSessionDuration: aws.Int32(3599)}, "ValidationError", "greater than or equal to 3600"},
		{"session too long", iam.CreateRoleInput{RoleName: aws.String("r"), MaxSessionDuration: aws.Int32(43201)}, "ValidationError", "less than or equal to 43200"},
		{"description too long", iam.CreateRoleInput{RoleName: aws.String("r"), Description: aws.String(strings.Repeat("d", 1001))}, "ValidationError", "description"},
		{"bad permissions boundary", iam.CreateRoleInput{RoleName: aws.String("r"), PermissionsBoundary: aws.String("not-an-arn")}, "ValidationError", "permissionsBoundary"},
		{"broken JSON", iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":`)}, "MalformedPolicyDocument", ""},
		{"resource in a trust policy", iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}`)},
			"MalformedPolicyDocument", "Resource"},
		{"no principal in a trust policy", iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)}, "MalformedPolicyDocument", ""},
		{"lower-case effect", iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"allow","Principal":"*","Action":"sts:AssumeRole"}]}`)}, "MalformedPolicyDocument", "Effect"},
		{"trust policy over the quota", iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(big)}, "LimitExceeded", "ACLSizePerRole: 2048"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in.AssumeRolePolicyDocument == nil {
				in.AssumeRolePolicyDocument = aws.String(trustEC2)
			}
			_, err := root.CreateRole(ctx, &in)
			wantMessage(t, err, c.code, c.message)
		})
	}
	// None of them was written.
	list, err := root.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(list.Roles) != 1 {
		t.Fatalf("roles after refused creates: %+v %v", list, err)
	}
	if decodeDoc(t, list.Roles[0].AssumeRolePolicyDocument) != trustEC2 || aws.ToInt32(list.Roles[0].MaxSessionDuration) != 3600 {
		t.Errorf("ListRoles member %+v", list.Roles[0])
	}
}

func TestUpdateRoleErrors(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trustEC2),
		MaxSessionDuration: aws.Int32(7200), Description: aws.String("before")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"UpdateRole session too short", func() error {
			_, err := root.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("app"), MaxSessionDuration: aws.Int32(60), Description: aws.String("after")})
			return err
		}, "ValidationError"},
		{"UpdateRole session too long", func() error {
			_, err := root.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("app"), MaxSessionDuration: aws.Int32(50000)})
			return err
		}, "ValidationError"},
		{"UpdateRole no such role", func() error {
			_, err := root.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("ghost"), Description: aws.String("x")})
			return err
		}, "NoSuchEntity"},
		{"UpdateRoleDescription too long", func() error {
			_, err := root.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("app"), Description: aws.String(strings.Repeat("x", 1001))})
			return err
		}, "ValidationError"},
		{"UpdateRoleDescription no such role", func() error {
			_, err := root.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("ghost"), Description: aws.String("x")})
			return err
		}, "NoSuchEntity"},
		{"UpdateAssumeRolePolicy broken JSON", func() error {
			_, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("app"), PolicyDocument: aws.String(`{`)})
			return err
		}, "MalformedPolicyDocument"},
		{"UpdateAssumeRolePolicy with an identity policy", func() error {
			_, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("app"), PolicyDocument: aws.String(allowGetUser)})
			return err
		}, "MalformedPolicyDocument"},
		{"UpdateAssumeRolePolicy no such role", func() error {
			_, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ghost"), PolicyDocument: aws.String(trustEC2)})
			return err
		}, "NoSuchEntity"},
		{"TagRole reserved prefix", func() error {
			_, err := root.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("app"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
			return err
		}, "ValidationError"},
		{"TagRole no such role", func() error {
			_, err := root.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("ghost"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "NoSuchEntity"},
		{"UntagRole no such role", func() error {
			_, err := root.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("ghost"), TagKeys: []string{"k"}})
			return err
		}, "NoSuchEntity"},
		{"ListRoleTags no such role", func() error {
			_, err := root.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("ghost")})
			return err
		}, "NoSuchEntity"},
		{"DeleteRole no such role", func() error {
			_, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ghost")})
			return err
		}, "NoSuchEntity"},
		{"GetRole illegal name", func() error {
			_, err := root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("a/b")})
			return err
		}, "ValidationError"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, c.call(), c.code) })
	}
	// Nothing changed.
	got, err := root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.Role.MaxSessionDuration) != 7200 || aws.ToString(got.Role.Description) != "before" ||
		decodeDoc(t, got.Role.AssumeRolePolicyDocument) != trustEC2 || len(got.Role.Tags) != 0 {
		t.Errorf("role after refused updates %+v", got.Role)
	}
	// An empty description clears it.
	if _, err := root.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("app"), Description: aws.String("")}); err != nil {
		t.Fatal(err)
	}
	got, err = root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	if err != nil || got.Role.Description != nil {
		t.Errorf("description after clearing: %v %v", aws.ToString(got.Role.Description), err)
	}
}

func TestDeleteRoleWithPolicy(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read"), PolicyDocument: aws.String(allowGetUser)}); err != nil {
		t.Fatal(err)
	}
	_, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")})
	wantMessage(t, err, "DeleteConflict", "inline policies")
	if _, err := root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")}); err != nil {
		t.Fatalf("the role is gone after a refused delete: %v", err)
	}
	if _, err := root.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	wantCode(t, err, "NoSuchEntity")
}

func TestListRolesPagination(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	for _, n := range []string{"r1", "r2", "r3", "r4", "r5"} {
		path := "/svc/"
		if n == "r2" {
			path = "/other/"
		}
		if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trustEC2),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListRolesPaginator(root, &iam.ListRolesInput{PathPrefix: aws.String("/svc/"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
			if len(r.Tags) != 0 || r.PermissionsBoundary != nil {
				t.Errorf("ListRoles returns tags or a boundary: %+v", r)
			}
		}
	}
	if strings.Join(names, ",") != "r1,r3,r4,r5" || pages != 2 {
		t.Errorf("names %v in %d pages", names, pages)
	}
	for _, c := range []struct {
		name string
		in   iam.ListRolesInput
	}{
		{"MaxItems 0", iam.ListRolesInput{MaxItems: aws.Int32(0)}},
		{"MaxItems 1001", iam.ListRolesInput{MaxItems: aws.Int32(1001)}},
		{"relative PathPrefix", iam.ListRolesInput{PathPrefix: aws.String("svc/")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := root.ListRoles(ctx, &c.in)
			wantCode(t, err, "ValidationError")
		})
	}
}

func TestRoleActionsAuthorizeOnRoleARN(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	bob := keyedUser(t, srv, "bob")
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateRole","iam:GetRole","iam:DeleteRole"],"Resource":"arn:aws:iam::123456789012:role/svc/*"}]}`
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("svc"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), Path: aws.String("/svc/"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatalf("CreateRole under /svc/: %v", err)
	}
	_, err := bob.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	wantMessage(t, err, "AccessDenied", "iam:CreateRole on resource: arn:aws:iam::123456789012:role/admin")
	_, err = root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("admin")})
	wantCode(t, err, "NoSuchEntity") // the refused create wrote nothing

	if _, err := bob.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("worker")}); err != nil {
		t.Fatalf("GetRole under /svc/: %v", err)
	}
	_, err = bob.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("worker"), MaxSessionDuration: aws.Int32(7200)})
	wantMessage(t, err, "AccessDenied", "iam:UpdateRole on resource: arn:aws:iam::123456789012:role/svc/worker")
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("root-only"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("root-only")})
	wantMessage(t, err, "AccessDenied", "on resource: arn:aws:iam::123456789012:role/root-only")
	if _, err := bob.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("worker")}); err != nil {
		t.Fatal(err)
	}
}
