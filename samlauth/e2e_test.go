package samlauth_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
	"github.com/dbiam/dbiam/samlauth"
)

// federation is a dbiam server with cluster "dev" on a throwaway
// PostgreSQL database, the development IdP registered as provider DevIdP,
// and role RedshiftSSO trusting it with a policy for GetClusterCredentials.
type federation struct {
	srv    *awstest.Server
	idp    *devidp.IdP
	idpURL string
	admin  string // superuser URL of the cluster's database
	host   string
	port   int
	db     string
}

const ssoRolePolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["redshift:GetClusterCredentials","redshift:CreateClusterUser"],"Resource":"arn:aws:redshift:us-east-1:123456789012:dbuser:dev/*"},
 {"Effect":"Allow","Action":"redshift:JoinGroup","Resource":"arn:aws:redshift:us-east-1:123456789012:dbgroup:dev/readers"},
 {"Effect":"Allow","Action":"redshift:DescribeClusters","Resource":"*"}]}`

func newFederation(t *testing.T, users []devidp.User) *federation {
	t.Helper()
	ctx := t.Context()
	f := &federation{admin: pgtest.New(t)}
	cluster, target := awstest.Cluster(t, "dev", f.admin)
	f.host, f.port, f.db = target.Host, target.Port, target.DB
	f.srv = awstest.Start(t, awstest.WithConfig(func(c *config.Config) {
		c.Clusters = []config.Cluster{cluster}
	}))
	f.idp, f.idpURL = startIdP(t, users)

	root := f.srv.RootIAM()
	if _, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("DevIdP"), SAMLMetadataDocument: aws.String(string(f.idp.Metadata()))}); err != nil {
		t.Fatalf("CreateSAMLProvider: %v", err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	for _, name := range []string{"RedshiftSSO", "Admin"} {
		if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatalf("CreateRole: %v", err)
		}
	}
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("RedshiftSSO"), PolicyName: aws.String("redshift"), PolicyDocument: aws.String(ssoRolePolicy)}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE ROLE readers NOLOGIN"); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	return f
}

// awsConfig is an SDK config for the server with creds as credentials.
func (f *federation) awsConfig(creds aws.CredentialsProvider) aws.Config {
	cfg := f.srv.AWSConfig("", "", "")
	cfg.Credentials = aws.NewCredentialsCache(creds, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = samlauth.ExpiryWindow })
	return cfg
}

// checkFederatedLogin: GetCallerIdentity shows the assumed role; the SAML
// attributes choose DbUser/DbGroups/AutoCreate for GetClusterCredentials,
// and the issued credentials log in as that DbUser.
func (f *federation) checkFederatedLogin(t *testing.T, p *samlauth.Provider, session, wantDbUser string) {
	t.Helper()
	ctx := t.Context()
	cfg := f.awsConfig(p)
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got, want := aws.ToString(who.Arn), "arn:aws:sts::"+awstest.AccountID+":assumed-role/RedshiftSSO/"+session; got != want {
		t.Errorf("GetCallerIdentity Arn = %s, want %s", got, want)
	}
	attrs, err := p.Attributes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opts := attrs.Resolve(samlauth.DbOptions{})
	if opts.DbUser != wantDbUser {
		t.Fatalf("resolved DbUser %q, want %q", opts.DbUser, wantDbUser)
	}
	out, err := redshift.NewFromConfig(cfg).GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String("dev"), DbUser: aws.String(opts.DbUser), DbGroups: opts.DbGroups, AutoCreate: opts.AutoCreate,
	})
	if err != nil {
		t.Fatalf("GetClusterCredentials: %v", err)
	}
	pc, err := pgx.ParseConfig("postgres://" + f.host + ":" + strconv.Itoa(f.port) + "/" + f.db + "?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	pc.User, pc.Password = aws.ToString(out.DbUser), aws.ToString(out.DbPassword)
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		t.Fatalf("log in as %s: %v", pc.User, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var current string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != wantDbUser {
		t.Errorf("current_user = %q, want %q", current, wantDbUser)
	}
}

// frank: one role, Redshift attributes with an existing group.
func e2eUsers() []devidp.User {
	u := idpUsers()
	u[0].DBGroups = []string{"readers"}
	return u
}

func TestFormPluginEndToEnd(t *testing.T) {
	f := newFederation(t, e2eUsers())
	for _, path := range []string{"/login", "/api/saml-response"} {
		t.Run(path, func(t *testing.T) {
			p, err := samlauth.NewCredentialsProvider(samlauth.Config{
				Plugin: samlauth.PluginForm, IdPURL: f.idpURL + path, Username: "carol", Password: carolPassword,
				Region: awstest.Region, STSEndpointURL: f.srv.URL(),
			})
			if err != nil {
				t.Fatal(err)
			}
			f.checkFederatedLogin(t, p, "carol", "carol_db")
		})
	}
	// dave has two roles: the preferred one is assumed.
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginForm, IdPURL: f.idpURL + "/api/saml-response", Username: "dave", Password: davePassword,
		PreferredRole: adminRoleARN, STS: f.srv.AnonymousSTS(),
	})
	if err != nil {
		t.Fatal(err)
	}
	who, err := sts.NewFromConfig(f.awsConfig(p)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil || !strings.HasSuffix(aws.ToString(who.Arn), ":assumed-role/Admin/dave") {
		t.Fatalf("dave: %v %v", who, err)
	}
	noSecrets(t, "the server log", f.srv.Logs(), carolPassword, davePassword)
}

// TestAssertionPluginEndToEnd: a response fetched by hand, given directly.
func TestAssertionPluginEndToEnd(t *testing.T) {
	f := newFederation(t, e2eUsers())
	resp, err := f.idp.Response("carol", "", nowUTC())
	if err != nil {
		t.Fatal(err)
	}
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{Plugin: samlauth.PluginAssertion, Assertion: resp, STS: f.srv.AnonymousSTS(), DurationSeconds: 900})
	if err != nil {
		t.Fatal(err)
	}
	f.checkFederatedLogin(t, p, "carol", "carol_db")
	noSecrets(t, "the server log", f.srv.Logs(), resp[:64])
}
