package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/secret"
)

// Config configures Run.
type Config struct {
	// Stdout receives the transcript.
	Stdout io.Writer
	// Logs receives dbiam's log (default: discarded).
	Logs io.Writer
	// Listen is dbiam's listen address (default 127.0.0.1:0).
	Listen string
	// Exit stops after the transcript; otherwise Run keeps dbiam, the
	// cluster and the IdP running until ctx is done.
	Exit bool
}

// Names used by the story.
const (
	userAlice    = "alice"
	roleSSO      = "RedshiftSSO"
	providerName = devidp.DefaultProviderName
	fedUser      = "carol"
	fedDomain    = "example.com"
)

// Run plays the story (see the package documentation) and prints it.
func Run(ctx context.Context, cfg Config) (err error) {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	t := &transcript{w: cfg.Stdout}
	t.printf("dbiam demo: IAM-governed temporary PostgreSQL logins, end to end, in one process.\n")
	t.printf("Every AWS call below is made with aws-sdk-go-v2; the equivalent AWS CLI command is shown.\n")

	t.step("Start dbiam (SQLite store, dev root credentials) and a local PostgreSQL registered as cluster \"dev\"")
	l, err := StartLocal(ctx, LocalConfig{Listen: cfg.Listen, Logs: cfg.Logs})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := l.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = cerr
		}
	}()
	c := l.Cluster
	t.result("dbiam on %s, data in %s", l.Server.URL(), l.DataDir)
	t.result("PostgreSQL on %s:%d, database %s (CONNECT revoked from PUBLIC), admin role %s (CREATEROLE, not a superuser)",
		c.Host, c.Port, c.Database, "dbiam_admin")

	s := &story{t: t, l: l, region: l.Region, account: l.AccountID}
	root := iam.NewFromConfig(l.AWSConfig(l.RootKeyID, l.RootSecret.Reveal(), ""))
	aliceKey, aliceSecret, err := s.createAlice(ctx, root)
	if err != nil {
		return err
	}
	aliceRS := redshift.NewFromConfig(l.AWSConfig(aliceKey, aliceSecret.Reveal(), ""))
	if err := s.aliceConnects(ctx, aliceRS); err != nil {
		return err
	}
	if err := s.aliceDenied(ctx, aliceRS); err != nil {
		return err
	}
	idp, fedPassword, stopIdP, err := s.federate(ctx, root)
	if err != nil {
		return err
	}
	defer stopIdP()

	if cfg.Exit {
		t.printf("\nDone. (--exit: stopping dbiam, PostgreSQL and the IdP, removing %s.)\n", l.DataDir)
		return nil
	}
	t.printf(`
Everything keeps running until Ctrl-C (then it is all removed). Try it yourself:

  export AWS_ACCESS_KEY_ID=%[1]s
  export AWS_SECRET_ACCESS_KEY=%[2]s
  export AWS_REGION=%[3]s AWS_DEFAULT_REGION=%[3]s
  export AWS_ENDPOINT_URL=%[4]s
  aws redshift get-cluster-credentials --cluster-identifier %[5]s --db-user alice --db-name %[6]s

  (alice's key; the account root's is %[7]s / %[8]s)

  psql "host=%[9]s port=%[10]d dbname=%[6]s sslmode=disable user=<DbUser>"   # password: DbPassword

The dev IdP: sign in at %[11]s/login as %[12]s / %[13]s (role %[14]s).
`, aliceKey, aliceSecret.Reveal(), l.Region, l.Server.URL(), c.Identifier, c.Database, l.RootKeyID, l.RootSecret.Reveal(),
		c.Host, c.Port, idp, fedUser, fedPassword.Reveal(), roleSSO)
	<-ctx.Done()
	t.printf("\nStopping.\n")
	return nil
}

// story holds what the steps share.
type story struct {
	t       *transcript
	l       *Local
	region  string
	account string
}

func (s *story) arn(kind, rest string) string {
	return "arn:aws:redshift:" + s.region + ":" + s.account + ":" + kind + ":" + rest
}

// createAlice: the root creates alice, her policy and her access key.
func (s *story) createAlice(ctx context.Context, root *iam.Client) (string, secret.String, error) {
	t, c := s.t, s.l.Cluster
	t.step("The account root creates IAM user alice, allowed credentials for database user alice only")
	t.call("aws iam create-user --user-name alice")
	u, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(userAlice)})
	if err != nil {
		return "", "", t.fail(err)
	}
	t.result("%s (UserId %s)", aws.ToString(u.User.Arn), aws.ToString(u.User.UserId))

	doc := policy(
		statement{Sid: "GetCredentialsAsAlice", Effect: "Allow", Action: "redshift:GetClusterCredentials",
			Resource: []string{s.arn("dbuser", c.Identifier+"/alice"), s.arn("dbname", c.Identifier+"/"+c.Database)}},
		statement{Sid: "CreateAliceOnFirstUse", Effect: "Allow", Action: "redshift:CreateClusterUser",
			Resource: s.arn("dbuser", c.Identifier+"/alice")},
	)
	t.call("aws iam put-user-policy --user-name alice --policy-name redshift-alice --policy-document '%s'", doc)
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(userAlice), PolicyName: aws.String("redshift-alice"), PolicyDocument: aws.String(doc)}); err != nil {
		return "", "", t.fail(err)
	}
	t.result("policy attached")

	t.call("aws iam create-access-key --user-name alice")
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(userAlice)})
	if err != nil {
		return "", "", t.fail(err)
	}
	t.result("AccessKeyId %s (the secret is shown at the end when the demo keeps running)", aws.ToString(k.AccessKey.AccessKeyId))
	return aws.ToString(k.AccessKey.AccessKeyId), secret.String(aws.ToString(k.AccessKey.SecretAccessKey)), nil
}

// aliceConnects: alice gets credentials and logs in with them.
func (s *story) aliceConnects(ctx context.Context, rs *redshift.Client) error {
	t, c := s.t, s.l.Cluster
	t.step("alice asks for temporary credentials for database user alice (created on first use)")
	t.call("aws redshift get-cluster-credentials --cluster-identifier %s --db-user alice --db-name %s --auto-create", c.Identifier, c.Database)
	out, err := rs.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(c.Identifier), DbUser: aws.String(userAlice), DbName: aws.String(c.Database), AutoCreate: aws.Bool(true),
	})
	if err != nil {
		return t.fail(err)
	}
	t.result("DbUser %s, DbPassword (%d characters, not shown), Expiration %s",
		aws.ToString(out.DbUser), len(aws.ToString(out.DbPassword)), aws.ToTime(out.Expiration).UTC().Format(time.RFC3339))

	t.step("alice connects to PostgreSQL with them")
	return s.connect(ctx, aws.ToString(out.DbUser), secret.String(aws.ToString(out.DbPassword)))
}

// connect logs in as psql would and prints who the session is.
func (s *story) connect(ctx context.Context, user string, password secret.String) error {
	t, c := s.t, s.l.Cluster
	t.call(`psql "host=%s port=%d dbname=%s user=%s sslmode=disable" -c 'select session_user, current_user'`, c.Host, c.Port, c.Database, user)
	cc, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable connect_timeout=10", c.Host, c.Port, c.Database))
	if err != nil {
		return err
	}
	cc.User, cc.Password = user, password.Reveal()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return t.fail(fmt.Errorf("connect: %w", err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var session, current string
	if err := conn.QueryRow(ctx, "SELECT session_user::text, current_user::text").Scan(&session, &current); err != nil {
		return t.fail(err)
	}
	t.result("session_user = %s, current_user = %s", session, current)
	return nil
}

// aliceDenied: alice asks for someone else.
func (s *story) aliceDenied(ctx context.Context, rs *redshift.Client) error {
	t, c := s.t, s.l.Cluster
	t.step("alice asks for credentials for database user bob: her policy does not allow it")
	t.call("aws redshift get-cluster-credentials --cluster-identifier %s --db-user bob --db-name %s", c.Identifier, c.Database)
	_, err := rs.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(c.Identifier), DbUser: aws.String("bob"), DbName: aws.String(c.Database),
	})
	return s.expectDenied(err)
}

func (s *story) expectDenied(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		if err == nil {
			err = errors.New("the request was allowed")
		}
		return s.t.fail(fmt.Errorf("want AccessDenied: %w", err))
	}
	s.t.result("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	return nil
}

// federate: the dev IdP, a SAML provider, a role with the documented
// Redshift policy, a federated login and its credentials. It returns the
// IdP's URL, the federated user's password and a stop function.
func (s *story) federate(ctx context.Context, root *iam.Client) (string, secret.String, func(), error) {
	t, l, c := s.t, s.l, s.l.Cluster
	nop := func() {}
	t.step("Start the development SAML IdP (internal/devidp) with user carol, whose DbUser is carol")
	password, err := randomPassword()
	if err != nil {
		return "", "", nop, err
	}
	ln, err := devidp.Listen("127.0.0.1:0", false)
	if err != nil {
		return "", "", nop, err
	}
	base := "http://" + ln.Addr().String()
	autoCreate := true
	idp, err := devidp.New(devidp.Config{
		BaseURL: base, DataDir: filepath.Join(l.DataDir, "idp"), AccountID: l.AccountID,
		Users: []devidp.User{{
			Username: fedUser, Password: password, Roles: []string{roleSSO},
			SessionName: fedUser + "@" + fedDomain, DBUser: fedUser, AutoCreate: &autoCreate,
		}},
	})
	if err != nil {
		_ = ln.Close()
		return "", "", nop, err
	}
	idpCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = idp.Serve(idpCtx, ln)
	}()
	stop := func() { cancel(); <-served }
	fail := func(err error) (string, secret.String, func(), error) { stop(); return "", "", nop, err }
	t.result("IdP %s (entity ID %s); carol's RoleSessionName is %s@%s", base, idp.EntityID(), fedUser, fedDomain)

	t.step("The root registers the IdP and creates role RedshiftSSO that trusts it")
	t.call("aws iam create-saml-provider --name %s --saml-metadata-document file://metadata.xml   # from %s/metadata", providerName, base)
	prov, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(providerName), SAMLMetadataDocument: aws.String(string(idp.Metadata()))})
	if err != nil {
		return fail(t.fail(err))
	}
	providerARN := aws.ToString(prov.SAMLProviderArn)
	t.result("%s", providerARN)
	trust := policy(statement{
		Effect: "Allow", Principal: map[string]string{"Federated": providerARN}, Action: "sts:AssumeRoleWithSAML",
		Condition: map[string]any{"StringEquals": map[string]string{"SAML:aud": devidp.DefaultACSURL}},
	})
	t.call("aws iam create-role --role-name %s --assume-role-policy-document '%s'", roleSSO, trust)
	role, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(roleSSO), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		return fail(t.fail(err))
	}
	roleID := aws.ToString(role.Role.RoleId)
	t.result("%s (RoleId %s)", aws.ToString(role.Role.Arn), roleID)

	// The policy of the Redshift documentation: a session may only ask
	// for the database user named like its RoleSessionName.
	cond := map[string]any{"StringEquals": map[string]string{"aws:userid": roleID + ":${redshift:DbUser}@" + fedDomain}}
	doc := policy(
		statement{Sid: "GetClusterCredsStatement", Effect: "Allow", Action: "redshift:GetClusterCredentials",
			Resource:  []string{s.arn("dbuser", c.Identifier+"/${redshift:DbUser}"), s.arn("dbname", c.Identifier+"/"+c.Database)},
			Condition: cond},
		statement{Sid: "CreateClusterUserStatement", Effect: "Allow", Action: "redshift:CreateClusterUser",
			Resource: s.arn("dbuser", c.Identifier+"/${redshift:DbUser}"), Condition: cond},
	)
	t.call("aws iam put-role-policy --role-name %s --policy-name redshift-sso --policy-document '%s'", roleSSO, doc)
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roleSSO), PolicyName: aws.String("redshift-sso"), PolicyDocument: aws.String(doc)}); err != nil {
		return fail(t.fail(err))
	}
	t.result("aws:userid must be %s:<DbUser>@%s", roleID, fedDomain)

	t.step("carol signs in at the IdP and gets a signed SAML response")
	t.call("curl --data-urlencode username=carol --data-urlencode password=… %s/api/saml-response", base)
	samlResponse, err := fetchSAMLResponse(ctx, base, fedUser, password)
	if err != nil {
		return fail(t.fail(err))
	}
	dbUser, err := samlAttribute(samlResponse, devidp.AttrDbUser)
	if err != nil {
		return fail(t.fail(err))
	}
	t.result("SAMLResponse (%d bytes of base64, signed by the IdP) for role %s, attribute DbUser = %s", len(samlResponse), roleSSO, dbUser)

	t.step("carol trades it for temporary AWS credentials (unsigned call, as the SDKs make it)")
	roleARN := aws.ToString(role.Role.Arn)
	t.call("aws sts assume-role-with-saml --role-arn %s --principal-arn %s --saml-assertion <SAMLResponse>", roleARN, providerARN)
	anon := l.AWSConfig("", "", "")
	anon.Credentials = aws.AnonymousCredentials{}
	assumed, err := sts.NewFromConfig(anon).AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
		RoleArn: aws.String(roleARN), PrincipalArn: aws.String(providerARN), SAMLAssertion: aws.String(samlResponse),
	})
	if err != nil {
		return fail(t.fail(err))
	}
	cr := assumed.Credentials
	t.result("%s, AccessKeyId %s, expires %s", aws.ToString(assumed.AssumedRoleUser.Arn), aws.ToString(cr.AccessKeyId),
		aws.ToTime(cr.Expiration).UTC().Format(time.RFC3339))
	fedCfg := l.AWSConfig(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))

	t.call("aws sts get-caller-identity")
	who, err := sts.NewFromConfig(fedCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fail(t.fail(err))
	}
	t.result("UserId %s, Arn %s", aws.ToString(who.UserId), aws.ToString(who.Arn))

	t.step("carol asks for credentials for her DbUser (the response's DbUser attribute, as the Redshift drivers take it)")
	rs := redshift.NewFromConfig(fedCfg)
	t.call("aws redshift get-cluster-credentials --cluster-identifier %s --db-user %s --db-name %s --auto-create", c.Identifier, dbUser, c.Database)
	out, err := rs.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(c.Identifier), DbUser: aws.String(dbUser), DbName: aws.String(c.Database), AutoCreate: aws.Bool(true),
	})
	if err != nil {
		return fail(t.fail(err))
	}
	t.result("DbUser %s, DbPassword (%d characters, not shown), Expiration %s",
		aws.ToString(out.DbUser), len(aws.ToString(out.DbPassword)), aws.ToTime(out.Expiration).UTC().Format(time.RFC3339))
	if err := s.connect(ctx, aws.ToString(out.DbUser), secret.String(aws.ToString(out.DbPassword))); err != nil {
		return fail(err)
	}

	t.step("carol asks for alice: the aws:userid condition refuses it")
	t.call("aws redshift get-cluster-credentials --cluster-identifier %s --db-user alice --db-name %s", c.Identifier, c.Database)
	_, err = rs.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(c.Identifier), DbUser: aws.String(userAlice), DbName: aws.String(c.Database),
	})
	if err := s.expectDenied(err); err != nil {
		return fail(err)
	}
	return base, password, stop, nil
}

// fetchSAMLResponse posts the login form to the IdP's API, as a script
// would.
func fetchSAMLResponse(ctx context.Context, base, user string, password secret.String) (string, error) {
	form := url.Values{"username": {user}, "password": {password.Reveal()}, "role": {roleSSO}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/saml-response", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("IdP: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		SAMLResponse string
		Error        string
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("IdP: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || out.SAMLResponse == "" {
		return "", fmt.Errorf("IdP: %s: %s", resp.Status, out.Error)
	}
	return out.SAMLResponse, nil
}

// samlAttribute reads one attribute's first value from a base64 SAML
// response, as the Redshift drivers read DbUser (the signature was checked
// by dbiam's AssumeRoleWithSAML, not here).
func samlAttribute(b64, name string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("SAML response: %w", err)
	}
	var doc struct {
		Attributes []struct {
			Name   string   `xml:"Name,attr"`
			Values []string `xml:"AttributeValue"`
		} `xml:"Assertion>AttributeStatement>Attribute"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("SAML response: %w", err)
	}
	for _, a := range doc.Attributes {
		if a.Name == name && len(a.Values) > 0 {
			return strings.TrimSpace(a.Values[0]), nil
		}
	}
	return "", fmt.Errorf("SAML response: no attribute %s", name)
}

func randomPassword() (secret.String, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return secret.String(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

// policyDoc and statement print policies in the usual key order.
type policyDoc struct {
	Version   string
	Statement []statement
}

type statement struct {
	Sid       string `json:",omitempty"`
	Effect    string
	Principal any `json:",omitempty"`
	Action    any
	Resource  any `json:",omitempty"`
	Condition any `json:",omitempty"`
}

func policy(stmts ...statement) string {
	return mustJSON(policyDoc{Version: "2012-10-17", Statement: stmts})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps and strings of ours
	}
	return string(b)
}

// transcript prints the story: numbered steps, the calls, their results.
type transcript struct {
	w io.Writer
	n int
}

func (t *transcript) printf(format string, args ...any) { fmt.Fprintf(t.w, format, args...) }

func (t *transcript) step(title string) {
	t.n++
	fmt.Fprintf(t.w, "\n%d. %s\n", t.n, title)
}

func (t *transcript) call(format string, args ...any) {
	fmt.Fprintf(t.w, "   $ %s\n", fmt.Sprintf(format, args...))
}

func (t *transcript) result(format string, args ...any) {
	fmt.Fprintf(t.w, "   → %s\n", fmt.Sprintf(format, args...))
}

// fail prints an unexpected error as the step's result and returns it.
func (t *transcript) fail(err error) error {
	fmt.Fprintf(t.w, "   ✗ %v\n", err)
	return fmt.Errorf("demo step %d: %w", t.n, err)
}
