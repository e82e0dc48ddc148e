package pgdriver_test

import (
	"database/sql"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/pgdriver"
)

// cluster is a dbiam server with cluster "dev" on a throwaway database.
type cluster struct {
	srv *awstest.Server
	db  database
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	db := newDatabase(t)
	cfg, _ := awstest.Cluster(t, "dev", db.admin)
	srv := awstest.Start(t, awstest.WithConfig(func(c *config.Config) {
		c.Clusters = []config.Cluster{cfg}
	}))
	return &cluster{srv: srv, db: db}
}

// dbUserPolicy allows GetClusterCredentials (with AutoCreate) for one
// database user of cluster dev in any of its databases, and
// DescribeClusters.
func dbUserPolicy(dbUser string) string {
	return `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["redshift:GetClusterCredentials","redshift:CreateClusterUser"],"Resource":["arn:aws:redshift:us-east-1:123456789012:dbuser:dev/` + dbUser + `","arn:aws:redshift:us-east-1:123456789012:dbname:dev/*"]},
 {"Effect":"Allow","Action":"redshift:DescribeClusters","Resource":"*"}]}`
}

// user creates an IAM user with policy and returns its access key.
func (c *cluster) user(t *testing.T, name, policy string) (keyID, secretKey string) {
	t.Helper()
	ctx := t.Context()
	root := c.srv.RootIAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
}

// role creates an IAM role with trust and an inline policy.
func (c *cluster) role(t *testing.T, name, trust, policy string) string {
	t.Helper()
	ctx := t.Context()
	root := c.srv.RootIAM()
	out, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Role.Arn)
}

// whoami checks session_user and current_user of a connection from db.
func whoami(t *testing.T, db *sql.DB, dbUser string) {
	t.Helper()
	var session, current string
	if err := db.QueryRowContext(t.Context(), "SELECT session_user, current_user").Scan(&session, &current); err != nil {
		t.Fatal(err)
	}
	if current != dbUser || !strings.HasPrefix(session, "IAMA:"+dbUser+":") {
		t.Fatalf("session_user %q current_user %q, want IAMA:%s:… and %s", session, current, dbUser, dbUser)
	}
}

var registerOnce sync.Once

// TestEndToEndStaticKeys: an IAM user's access key in the environment (the
// SDK's default chain), the DSN-only database/sql path, the endpoint from
// the DSN and from AWS_ENDPOINT_URL_REDSHIFT, and the options-only pgxpool
// hook.
func TestEndToEndStaticKeys(t *testing.T) {
	c := newCluster(t)
	keyID, secretKey := c.user(t, "alice", dbUserPolicy("alice"))
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	registerOnce.Do(func() { pgdriver.Register(pgdriver.DriverName) })

	dsn := fmt.Sprintf("postgres:///%s?cluster_id=dev&region=us-east-1&db_user=alice&auto_create=true&sslmode=disable", c.db.name)
	t.Run("endpoint_url", func(t *testing.T) {
		db, err := sql.Open(pgdriver.DriverName, dsn+"&endpoint_url="+url.QueryEscape(c.srv.URL()))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		whoami(t, db, "alice")
	})
	t.Run("AWS_ENDPOINT_URL_REDSHIFT", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_REDSHIFT", c.srv.URL())
		db, err := sql.Open(pgdriver.DriverName, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		whoami(t, db, "alice")
	})
	t.Run("pgxpool with the options-only hook", func(t *testing.T) {
		pc, err := pgxpool.ParseConfig(fmt.Sprintf("postgres://%s:%d/%s?sslmode=disable", c.db.host, c.db.port, c.db.name))
		if err != nil {
			t.Fatal(err)
		}
		pc.BeforeConnect = pgdriver.BeforeConnect(pgdriver.WithClusterID("dev"), pgdriver.WithRegion("us-east-1"),
			pgdriver.WithEndpointURL(c.srv.URL()), pgdriver.WithDbUser("alice"), pgdriver.WithDbName(c.db.name))
		pool, err := pgxpool.NewWithConfig(t.Context(), pc)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var current string
		if err := pool.QueryRow(t.Context(), "SELECT current_user").Scan(&current); err != nil {
			t.Fatal(err)
		}
		if current != "alice" {
			t.Fatalf("current_user %q", current)
		}
	})
}

// TestEndToEndAssumedRoleProfile: a shared-config profile with role_arn and
// source_profile (the SDK calls sts:AssumeRole on the dbiam server); the
// profile also names the database user (dbuser), as the Redshift drivers
// read it. Then the same role through the role_arn DSN parameter.
func TestEndToEndAssumedRoleProfile(t *testing.T) {
	c := newCluster(t)
	keyID, secretKey := c.user(t, "base", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/analyst"}]}`)
	roleARN := c.role(t, "analyst", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`, dbUserPolicy("bob"))

	dir := t.TempDir()
	configFile, credsFile := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(credsFile, "[base]\naws_access_key_id = "+keyID+"\naws_secret_access_key = "+secretKey+"\n")
	write(configFile, "[profile base]\nregion = us-east-1\n\n[profile analyst]\nrole_arn = "+roleARN+"\nsource_profile = base\nregion = us-east-1\ndbuser = bob\nautocreate = true\n")
	t.Setenv("AWS_CONFIG_FILE", configFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credsFile)

	for name, dsn := range map[string]string{
		"profile":  fmt.Sprintf("postgres:///%s?cluster_id=dev&profile=analyst&sslmode=disable", c.db.name),
		"role_arn": fmt.Sprintf("postgres:///%s?cluster_id=dev&profile=base&role_arn=%s&role_session_name=bob-laptop&db_user=bob&auto_create=true&sslmode=disable", c.db.name, roleARN),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := pgdriver.NewConnector(dsn, pgdriver.WithEndpointURL(c.srv.URL()))
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(conn)
			defer db.Close()
			whoami(t, db, "bob")
		})
	}
	if !strings.Contains(c.srv.Logs(), "AssumeRole") {
		t.Error("the server log shows no AssumeRole")
	}
}

// TestEndToEndSAMLForm: plugin_name=saml-form logs in at the development
// IdP's HTML form (user and password from the URL, as the Redshift drivers
// take UID/PWD), assumes the role with AssumeRoleWithSAML on the dbiam
// server, and takes the database user from the SAML DbUser attribute.
func TestEndToEndSAMLForm(t *testing.T) {
	c := newCluster(t)
	ctx := t.Context()
	const password = "carol-Passw0rd-never-logged"
	ln, err := devidp.Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	hs.Listener.Close()
	hs.Listener = ln
	idp, err := devidp.New(devidp.Config{
		BaseURL: "http://" + ln.Addr().String(), DataDir: t.TempDir(), AccountID: awstest.AccountID,
		Users: []devidp.User{{Username: "carol", Password: secret.String(password), Roles: []string{"RedshiftSSO"}, DBUser: "carol_db", AutoCreate: aws.Bool(true)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = idp.Handler()
	hs.Start()
	t.Cleanup(hs.Close)

	prov, err := c.srv.RootIAM().CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("DevIdP"), SAMLMetadataDocument: aws.String(string(idp.Metadata()))})
	if err != nil {
		t.Fatal(err)
	}
	c.role(t, "RedshiftSSO", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+aws.ToString(prov.SAMLProviderArn)+`"},`+
		`"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`, dbUserPolicy("carol_db"))

	dsn := (&url.URL{Scheme: "postgres", User: url.UserPassword("carol", password), Host: "", Path: "/" + c.db.name, RawQuery: url.Values{
		"cluster_id": {"dev"}, "region": {"us-east-1"}, "endpoint_url": {c.srv.URL()}, "sslmode": {"disable"},
		"plugin_name": {"saml-form"}, "idp_url": {hs.URL + "/login"},
	}.Encode()}).String()
	conn, err := pgdriver.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	whoami(t, db, "carol_db")
	if strings.Contains(c.srv.Logs(), password) {
		t.Error("the IdP password is in the server log")
	}
}
