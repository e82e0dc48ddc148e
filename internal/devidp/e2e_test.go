package devidp_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

// TestFederationEndToEnd: a dbiam server, the dev IdP on a loopback
// listener, the provider registered from GET /metadata, a role trusting it,
// a response from POST /api/saml-response, AssumeRoleWithSAML (unsigned),
// then GetCallerIdentity with the temporary credentials.
func TestFederationEndToEnd(t *testing.T) {
	srv := awstest.Start(t)
	ctx := t.Context()

	// The IdP on 127.0.0.1:0; its base URL (and so its entity ID) follows
	// the port it got.
	ln, err := devidp.Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	hs.Listener.Close()
	hs.Listener = ln
	idp, err := devidp.New(devidp.Config{
		BaseURL: "http://" + ln.Addr().String(), Users: testUsers(), DataDir: t.TempDir(), AccountID: awstest.AccountID,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = idp.Handler()
	hs.Start()
	t.Cleanup(hs.Close)

	_, metadata := get(t, hs.URL+"/metadata")
	root := srv.RootIAM()
	prov, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("DevIdP"), SAMLMetadataDocument: aws.String(metadata)})
	if err != nil {
		t.Fatalf("CreateSAMLProvider: %v", err)
	}
	providerARN := aws.ToString(prov.SAMLProviderArn)
	if providerARN != testProviderARN {
		t.Fatalf("provider ARN %s, want %s", providerARN, testProviderARN)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("RedshiftSSO"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatalf("CreateRole: %v", err)
	}

	// bob: no session tags or source identity, which this trust policy
	// does not allow; alice carries both.
	resp, body := postForm(t, hs.URL+"/api/saml-response", url.Values{"username": {"bob"}, "password": {bobPassword}, "role": {"RedshiftSSO"}})
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/saml-response: %s %s", resp.Status, body)
	}
	var out struct {
		SAMLResponse string
		Roles        []string
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Roles) != 1 || out.Roles[0] != testRoleARN+","+providerARN {
		t.Fatalf("Roles = %v", out.Roles)
	}

	assumed, err := srv.AnonymousSTS().AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
		RoleArn: aws.String(testRoleARN), PrincipalArn: aws.String(providerARN), SAMLAssertion: aws.String(out.SAMLResponse),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithSAML: %v", err)
	}
	if got := aws.ToString(assumed.AssumedRoleUser.Arn); got != "arn:aws:sts::123456789012:assumed-role/RedshiftSSO/bob.builder" {
		t.Errorf("AssumedRoleUser.Arn = %s", got)
	}
	if aws.ToString(assumed.Issuer) != idp.EntityID() || aws.ToString(assumed.Audience) != devidp.DefaultACSURL ||
		aws.ToString(assumed.Subject) != "bob" || aws.ToString(assumed.SubjectType) != "persistent" {
		t.Errorf("Issuer %q Audience %q Subject %q SubjectType %q", aws.ToString(assumed.Issuer), aws.ToString(assumed.Audience),
			aws.ToString(assumed.Subject), aws.ToString(assumed.SubjectType))
	}
	c := assumed.Credentials
	who, err := srv.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := aws.ToString(who.Arn); got != "arn:aws:sts::123456789012:assumed-role/RedshiftSSO/bob.builder" {
		t.Errorf("GetCallerIdentity Arn = %s", got)
	}

	// alice carries session tags and a source identity, which need
	// sts:TagSession and sts:SetSourceIdentity in the trust policy: refused
	// first, accepted once the trust policy allows them.
	_, body = postForm(t, hs.URL+"/api/saml-response", url.Values{"username": {"alice"}, "password": {alicePassword}, "role": {"RedshiftSSO"}})
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	_, err = srv.AnonymousSTS().AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
		RoleArn: aws.String(testRoleARN), PrincipalArn: aws.String(providerARN), SAMLAssertion: aws.String(out.SAMLResponse),
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("alice without sts:TagSession in the trust policy: %v, want AccessDenied", err)
	}
	trustAll := strings.Replace(trust, `"Action":"sts:AssumeRoleWithSAML"`, `"Action":["sts:AssumeRoleWithSAML","sts:TagSession","sts:SetSourceIdentity"]`, 1)
	if _, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("RedshiftSSO"), PolicyDocument: aws.String(trustAll)}); err != nil {
		t.Fatal(err)
	}
	_, body = postForm(t, hs.URL+"/api/saml-response", url.Values{"username": {"alice"}, "password": {alicePassword}, "role": {"RedshiftSSO"}})
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	assumed, err = srv.AnonymousSTS().AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
		RoleArn: aws.String(testRoleARN), PrincipalArn: aws.String(providerARN), SAMLAssertion: aws.String(out.SAMLResponse),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithSAML (alice): %v", err)
	}
	if aws.ToString(assumed.SourceIdentity) != "alice@example.com" {
		t.Errorf("SourceIdentity = %q", aws.ToString(assumed.SourceIdentity))
	}
	c = assumed.Credentials
	who, err = srv.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity (alice): %v", err)
	}
	if got := aws.ToString(who.Arn); got != "arn:aws:sts::123456789012:assumed-role/RedshiftSSO/alice" {
		t.Errorf("GetCallerIdentity Arn = %s", got)
	}

	// The same response a second time is a replay.
	if _, err := srv.AnonymousSTS().AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
		RoleArn: aws.String(testRoleARN), PrincipalArn: aws.String(providerARN), SAMLAssertion: aws.String(out.SAMLResponse),
	}); err == nil {
		t.Error("a replayed response was accepted")
	}
	if strings.Contains(srv.Logs(), out.SAMLResponse[:64]) {
		t.Error("the SAML response reached the server log")
	}
}
