package iam_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

func TestUsersAndAccessKeys(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()

	out, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if aws.ToString(u.Arn) != "arn:aws:iam::123456789012:user/eng/alice" || !strings.HasPrefix(aws.ToString(u.UserId), "AIDA") || u.CreateDate == nil {
		t.Errorf("user %+v", u)
	}
	_, err = root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	wantCode(t, err, "EntityAlreadyExists")
	_, err = root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name!")})
	wantCode(t, err, "ValidationError")
	_, err = root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x"), Path: aws.String("no-slashes")})
	wantCode(t, err, "ValidationError")
	_, err = root.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")

	got, err := root.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.User.Tags) != 1 || aws.ToString(got.User.Tags[0].Value) != "data" {
		t.Errorf("tags %+v", got.User.Tags)
	}

	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	k := key.AccessKey
	if !strings.HasPrefix(aws.ToString(k.AccessKeyId), "AKIA") || len(aws.ToString(k.SecretAccessKey)) != 40 || k.Status != types.StatusTypeActive {
		t.Errorf("key %+v", k)
	}
	// The new key authenticates as alice.
	who, err := srv.STS(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != "arn:aws:iam::123456789012:user/eng/alice" || aws.ToString(who.UserId) != aws.ToString(u.UserId) {
		t.Errorf("caller %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId))
	}
	last, err := root.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
	if err != nil || last.AccessKeyLastUsed == nil || last.AccessKeyLastUsed.LastUsedDate == nil {
		t.Errorf("last used after a signed call: %+v %v", last, err)
	}
	// Without a policy alice may do nothing in IAM.
	aliceIAM := srv.IAM(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), "")
	_, err = aliceIAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	var ae smithy.APIError
	errors.As(err, &ae)
	if want := "User: arn:aws:iam::123456789012:user/eng/alice is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::123456789012:user/"; !strings.HasPrefix(ae.ErrorMessage(), want) {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	list, err := root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil || len(list.AccessKeyMetadata) != 1 {
		t.Fatalf("list keys %+v %v", list, err)
	}
	if _, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	wantCode(t, err, "LimitExceeded")

	// Deactivated keys stop working.
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = srv.STS(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")

	// A user with keys cannot be deleted.
	_, err = root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantCode(t, err, "DeleteConflict")
	keys, _ := root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	for _, m := range keys.AccessKeyMetadata {
		if _, err := root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: m.AccessKeyId}); err != nil {
			t.Fatal(err)
		}
	}
	// Rename, then delete.
	if _, err := root.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("alice"), NewUserName: aws.String("alicia"), NewPath: aws.String("/")}); err != nil {
		t.Fatal(err)
	}
	users, err := root.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 1 || aws.ToString(users.Users[0].UserName) != "alicia" || aws.ToString(users.Users[0].Path) != "/" {
		t.Fatalf("users %+v %v", users, err)
	}
	if _, err := root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alicia")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alicia")})
	wantCode(t, err, "NoSuchEntity")
	if strings.Contains(srv.Logs(), aws.ToString(k.SecretAccessKey)) {
		t.Error("the server log contains a user's secret access key")
	}
}

func TestListUsersPagination(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5"} {
		path := "/a/"
		if n == "u3" {
			path = "/b/"
		}
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n), Path: aws.String(path)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListUsersPaginator(root, &iam.ListUsersInput{PathPrefix: aws.String("/a/"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if strings.Join(names, ",") != "u1,u2,u4,u5" || pages != 2 {
		t.Errorf("names %v in %d pages", names, pages)
	}
	_, err := root.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(0)})
	wantCode(t, err, "ValidationError")
	_, err = root.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("no-leading-slash")})
	wantCode(t, err, "ValidationError")
}
