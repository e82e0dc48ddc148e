package sts_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

func wantCode(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae
}

const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`

// newUser creates a user with an access key and an inline policy.
func newUser(t testing.TB, srv *awstest.Server, name, policy string) (string, string) {
	t.Helper()
	ctx := t.Context()
	root := srv.RootIAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
}

func newRole(t testing.TB, srv *awstest.Server, name, trust, policy string) string {
	t.Helper()
	ctx := t.Context()
	root := srv.RootIAM()
	out, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	return aws.ToString(out.Role.RoleId)
}

func TestAssumeRole(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	keyID, secret := newUser(t, srv, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/reader"}]}`)
	roleID := newRole(t, srv, "reader", trustAccount, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser","sts:AssumeRole"],"Resource":"*"}]}`)
	alice := srv.STS(keyID, secret, "")

	out, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("alice-session")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SessionToken) == "" || time.Until(aws.ToTime(c.Expiration)) < 59*time.Minute {
		t.Errorf("credentials %+v", c)
	}
	if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::123456789012:assumed-role/reader/alice-session"; got != want {
		t.Errorf("arn %s", got)
	}
	if got := aws.ToString(out.AssumedRoleUser.AssumedRoleId); got != roleID+":alice-session" {
		t.Errorf("assumed role id %s", got)
	}
	session := srv.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	who, err := session.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != aws.ToString(out.AssumedRoleUser.Arn) || aws.ToString(who.UserId) != roleID+":alice-session" {
		t.Errorf("caller %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId))
	}
	sessionIAM := srv.IAM(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if _, err := sessionIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("role policy should allow ListUsers: %v", err)
	}
	_, err = sessionIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
	ae := wantCode(t, err, "AccessDenied")
	if !strings.Contains(ae.ErrorMessage(), "assumed-role/reader/alice-session is not authorized to perform: iam:CreateUser") {
		t.Errorf("message %s", ae.ErrorMessage())
	}

	// A session policy narrows the session.
	narrow, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("narrow"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	nc := narrow.Credentials
	narrowIAM := srv.IAM(aws.ToString(nc.AccessKeyId), aws.ToString(nc.SecretAccessKey), aws.ToString(nc.SessionToken))
	_, err = narrowIAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	if _, err := narrowIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); err != nil {
		t.Errorf("session policy and role allow GetUser: %v", err)
	}

	// Role chaining is capped at one hour.
	_, err = session.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(7200)})
	wantCode(t, err, "ValidationError")
	if _, err := session.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("chain")}); err != nil {
		t.Errorf("chaining within an hour: %v", err)
	}

	// Tampered and mismatched tokens are refused.
	tok := aws.ToString(c.SessionToken)
	flipped := tok[:len(tok)-5] + string(rune(tok[len(tok)-5]^1)) + tok[len(tok)-4:]
	_, err = srv.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), flipped).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	_, err = srv.STS(aws.ToString(nc.AccessKeyId), aws.ToString(c.SecretAccessKey), tok).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	if strings.Contains(srv.Logs(), aws.ToString(c.SecretAccessKey)) || strings.Contains(srv.Logs(), tok) {
		t.Error("the log contains a session secret or token")
	}
}

func TestAssumeRoleDenied(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	keyID, secret := newUser(t, srv, "bob", "")
	newRole(t, srv, "reader", trustAccount, "")
	newRole(t, srv, "closed", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/nobody"},"Action":"sts:AssumeRole"}]}`, "")
	bob := srv.STS(keyID, secret, "")
	tests := []struct {
		name string
		in   *sts.AssumeRoleInput
		code string
	}{
		{"no identity policy allows it", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("s1")}, "AccessDenied"},
		{"unknown role", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/nope"), RoleSessionName: aws.String("s1")}, "AccessDenied"},
		{"bad session name", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("a b")}, "ValidationError"},
		{"duration over the role maximum", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7201)}, "ValidationError"},
		{"duration under 900", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)}, "ValidationError"},
		{"malformed session policy", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("s1"), Policy: aws.String(`{"Statement":`)}, "MalformedPolicyDocument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bob.AssumeRole(ctx, tt.in)
			wantCode(t, err, tt.code)
		})
	}
	// Root may assume a role that trusts the account, but not one that names someone else.
	if _, err := srv.RootSTS().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("root")}); err != nil {
		t.Errorf("root: %v", err)
	}
	_, err := srv.RootSTS().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/closed"), RoleSessionName: aws.String("root")})
	wantCode(t, err, "AccessDenied")
}

func TestGetSessionToken(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	keyID, secret := newUser(t, srv, "carol", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`)
	out, err := srv.STS(keyID, secret, "").GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if d := time.Until(aws.ToTime(c.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("expires in %s", d)
	}
	session := srv.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	who, err := session.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::123456789012:user/carol" {
		t.Fatalf("caller %v %v", who, err)
	}
	// The session acts with the user's policies.
	sessionIAM := srv.IAM(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if _, err := sessionIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")}); err != nil {
		t.Errorf("GetUser: %v", err)
	}
	_, err = sessionIAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	_, err = session.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantCode(t, err, "AccessDenied")
	_, err = srv.STS(keyID, secret, "").GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)})
	wantCode(t, err, "ValidationError")
	// Without its token a temporary key is unknown.
	_, err = srv.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
}

func TestAssumeRoleWithSAML(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()
	root := srv.RootIAM()
	idp := samltest.New(t, "https://idp.example.com/metadata")
	if _, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(samltest.ProviderName), SAMLMetadataDocument: aws.String(string(idp.Metadata()))}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + samltest.DefaultProviderARN + `"},
	  "Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	roleID := newRole(t, srv, "RedshiftSSO", trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*",
	  "Condition":{"StringLike":{"aws:userid":"*:alice@example.com"}}}]}`)
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("someone")}); err != nil {
		t.Fatal(err)
	}
	anon := srv.AnonymousSTS()
	resp := idp.Response(t, samltest.ResponseOptions{})
	out, err := anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(samltest.DefaultRoleARN), PrincipalArn: aws.String(samltest.DefaultProviderARN), SAMLAssertion: aws.String(resp)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::123456789012:assumed-role/RedshiftSSO/alice@example.com" {
		t.Errorf("arn %s", got)
	}
	if aws.ToString(out.Issuer) != "https://idp.example.com/metadata" || aws.ToString(out.Audience) != samltest.DefaultRecipient ||
		aws.ToString(out.Subject) != samltest.DefaultNameID || aws.ToString(out.SubjectType) != "persistent" || aws.ToString(out.NameQualifier) == "" {
		t.Errorf("result %+v", out)
	}
	c := out.Credentials
	who, err := srv.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.UserId) != roleID+":alice@example.com" {
		t.Errorf("user id %s", aws.ToString(who.UserId))
	}
	// aws:userid = <role id>:<session name> in policy evaluation.
	sessionIAM := srv.IAM(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if _, err := sessionIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("someone")}); err != nil {
		t.Errorf("aws:userid condition: %v", err)
	}
	// The same response again is a replay.
	_, err = anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(samltest.DefaultRoleARN), PrincipalArn: aws.String(samltest.DefaultProviderARN), SAMLAssertion: aws.String(resp)})
	wantCode(t, err, "InvalidIdentityToken")

	tests := []struct {
		name string
		in   *sts.AssumeRoleWithSAMLInput
		code string
	}{
		{"unknown provider", &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(samltest.DefaultRoleARN), PrincipalArn: aws.String("arn:aws:iam::123456789012:saml-provider/Other"),
			SAMLAssertion: aws.String(idp.Response(t, samltest.ResponseOptions{}))}, "InvalidIdentityToken"},
		{"role not in the assertion", &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/Other"), PrincipalArn: aws.String(samltest.DefaultProviderARN),
			SAMLAssertion: aws.String(idp.Response(t, samltest.ResponseOptions{}))}, "AccessDenied"},
		{"trust policy condition fails", &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(samltest.DefaultRoleARN), PrincipalArn: aws.String(samltest.DefaultProviderARN),
			SAMLAssertion: aws.String(idp.Response(t, samltest.ResponseOptions{Recipient: "https://us-west-2.signin.aws.amazon.com/saml"}))}, "AccessDenied"},
		{"signed by another key", &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(samltest.DefaultRoleARN), PrincipalArn: aws.String(samltest.DefaultProviderARN),
			SAMLAssertion: aws.String(samltest.New(t, "https://idp.example.com/metadata", samltest.WithKeyIndex(1)).Response(t, samltest.ResponseOptions{}))}, "InvalidIdentityToken"},
		{"duration over the role maximum", &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(samltest.DefaultRoleARN), PrincipalArn: aws.String(samltest.DefaultProviderARN),
			SAMLAssertion: aws.String(idp.Response(t, samltest.ResponseOptions{})), DurationSeconds: aws.Int32(7201)}, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := anon.AssumeRoleWithSAML(ctx, tt.in)
			wantCode(t, err, tt.code)
		})
	}
	if strings.Contains(srv.Logs(), resp) {
		t.Error("the SAML response reached the log")
	}
}
