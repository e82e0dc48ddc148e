package clustercreds_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

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

// clusterEnv is a dbiam server with one registered cluster ("dev") on a
// throwaway PostgreSQL database.
type clusterEnv struct {
	srv   *awstest.Server
	admin string // superuser URL of the cluster's database
	host  string
	port  int
	db    string
}

func newClusterEnv(t *testing.T, opts ...awstest.Option) *clusterEnv {
	t.Helper()
	admin := pgtest.New(t)
	cluster, target := awstest.Cluster(t, "dev", admin)
	env := &clusterEnv{admin: admin, host: target.Host, port: target.Port, db: target.DB}
	opts = append([]awstest.Option{awstest.WithConfig(func(c *config.Config) {
		c.Clusters = []config.Cluster{cluster}
	})}, opts...)
	env.srv = awstest.Start(t, opts...)
	return env
}

func (e *clusterEnv) user(t *testing.T, name, policy string) *redshift.Client {
	t.Helper()
	ctx := t.Context()
	root := e.srv.RootIAM()
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
	return redshift.NewFromConfig(e.srv.AWSConfig(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""))
}

// connect logs in to the cluster's database with issued credentials.
func (e *clusterEnv) connect(ctx context.Context, user, password, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("postgres://" + e.host + ":" + strconv.Itoa(e.port) + "/" + db + "?sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.User, cfg.Password = user, password
	return pgx.ConnectConfig(ctx, cfg)
}

const ownUserPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["redshift:GetClusterCredentials","redshift:CreateClusterUser"],"Resource":"arn:aws:redshift:us-east-1:123456789012:dbuser:dev/${aws:username}"},
 {"Effect":"Allow","Action":"redshift:DescribeClusters","Resource":"*"}]}`

func TestGetClusterCredentialsEndToEnd(t *testing.T) {
	env := newClusterEnv(t)
	ctx := t.Context()
	alice := env.user(t, "alice", ownUserPolicy)

	out, err := alice.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		DbUser: aws.String("alice"), ClusterIdentifier: aws.String("dev"), AutoCreate: aws.Bool(true), DbGroups: []string{}, DbName: aws.String(""),
	})
	if err != nil {
		t.Fatal(err)
	}
	login, password := aws.ToString(out.DbUser), aws.ToString(out.DbPassword)
	if !strings.HasPrefix(login, "IAMA:alice:") || len(password) < 32 {
		t.Fatalf("credentials %q", login)
	}
	if d := time.Until(aws.ToTime(out.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("default duration: expires in %s", d)
	}
	conn, err := env.connect(ctx, login, password, env.db)
	if err != nil {
		t.Fatalf("log in with issued credentials: %v", err)
	}
	var sessionUser, currentUser string
	if err := conn.QueryRow(ctx, "SELECT session_user, current_user").Scan(&sessionUser, &currentUser); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	if sessionUser != login || currentUser != "alice" {
		t.Errorf("session_user %q current_user %q", sessionUser, currentUser)
	}

	// A second credential for the same user works alongside the first.
	second, err := alice.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{DbUser: aws.String("alice"), ClusterIdentifier: aws.String("dev"), DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(second.DbUser), "IAM:alice:") {
		t.Errorf("without AutoCreate the prefix is IAM:, got %s", aws.ToString(second.DbUser))
	}
	for _, c := range [][2]string{{login, password}, {aws.ToString(second.DbUser), aws.ToString(second.DbPassword)}} {
		conn, err := env.connect(ctx, c[0], c[1], env.db)
		if err != nil {
			t.Errorf("credential %s: %v", c[0], err)
			continue
		}
		_ = conn.Close(ctx)
	}

	desc, err := alice.DescribeClusters(ctx, &redshift.DescribeClustersInput{ClusterIdentifier: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	if ep := desc.Clusters[0].Endpoint; aws.ToString(ep.Address) != env.host || aws.ToInt32(ep.Port) != int32(env.port) {
		t.Errorf("endpoint %+v", ep)
	}
	// The Redshift drivers probe custom domains first; any error makes them
	// fall back to the cluster id, and an allowed probe fails fast.
	_, err = alice.DescribeCustomDomainAssociations(ctx, &redshift.DescribeCustomDomainAssociationsInput{CustomDomainName: aws.String("db.example.com")})
	wantCode(t, err, "AccessDenied")
	_, err = redshift.NewFromConfig(env.srv.AWSConfig(awstest.RootAccessKeyID, awstest.RootSecretAccessKey, "")).DescribeCustomDomainAssociations(ctx, &redshift.DescribeCustomDomainAssociationsInput{CustomDomainName: aws.String("db.example.com")})
	wantCode(t, err, "CustomDomainAssociationNotFoundFault")

	if strings.Contains(env.srv.Logs(), password) {
		t.Error("the issued password is in the server log")
	}
}

func TestGetClusterCredentialsRefusals(t *testing.T) {
	env := newClusterEnv(t)
	ctx := t.Context()
	alice := env.user(t, "carol", ownUserPolicy)
	conn, err := pgx.Connect(ctx, env.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	countRoles := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countRoles()
	tests := []struct {
		name string
		in   *redshift.GetClusterCredentialsInput
		code string
		msg  string
	}{
		{"another user's database user", &redshift.GetClusterCredentialsInput{DbUser: aws.String("bob"), ClusterIdentifier: aws.String("dev")}, "AccessDenied",
			"User: arn:aws:iam::123456789012:user/carol is not authorized to perform: redshift:GetClusterCredentials on resource: arn:aws:redshift:us-east-1:123456789012:dbuser:dev/bob"},
		{"groups need JoinGroup", &redshift.GetClusterCredentialsInput{DbUser: aws.String("carol"), ClusterIdentifier: aws.String("dev"), DbGroups: []string{"admins"}}, "AccessDenied", "redshift:JoinGroup"},
		{"unknown cluster", &redshift.GetClusterCredentialsInput{DbUser: aws.String("alice"), ClusterIdentifier: aws.String("nope")}, "ClusterNotFound", "Cluster nope not found."},
		{"duration 899", &redshift.GetClusterCredentialsInput{DbUser: aws.String("carol"), ClusterIdentifier: aws.String("dev"), DurationSeconds: aws.Int32(899)}, "InvalidParameterValue", "between 900 and 3600"},
		{"duration 3601", &redshift.GetClusterCredentialsInput{DbUser: aws.String("carol"), ClusterIdentifier: aws.String("dev"), DurationSeconds: aws.Int32(3601)}, "InvalidParameterValue", "between 900 and 3600"},
		{"SQL in DbUser", &redshift.GetClusterCredentialsInput{DbUser: aws.String(`x"; DROP ROLE postgres; --`), ClusterIdentifier: aws.String("dev")}, "InvalidParameterValue", "must contain only"},
		{"200 characters", &redshift.GetClusterCredentialsInput{DbUser: aws.String(strings.Repeat("a", 200)), ClusterIdentifier: aws.String("dev")}, "InvalidParameterValue", "characters long"},
		{"look-alike letters", &redshift.GetClusterCredentialsInput{DbUser: aws.String("аlice"), ClusterIdentifier: aws.String("dev")}, "InvalidParameterValue", "must begin with a letter"},
		{"PUBLIC", &redshift.GetClusterCredentialsInput{DbUser: aws.String("PUBLIC"), ClusterIdentifier: aws.String("dev")}, "InvalidParameterValue", "reserved word"},
		{"upper-case group", &redshift.GetClusterCredentialsInput{DbUser: aws.String("alice"), ClusterIdentifier: aws.String("dev"), DbGroups: []string{"Admins"}}, "InvalidParameterValue", "lowercase"},
		{"custom domain", &redshift.GetClusterCredentialsInput{DbUser: aws.String("alice"), CustomDomainName: aws.String("db.example.com")}, "InvalidParameterValue", "custom domain"},
		{"no cluster", &redshift.GetClusterCredentialsInput{DbUser: aws.String("alice")}, "MissingParameter", "ClusterIdentifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := alice.GetClusterCredentials(ctx, tt.in)
			ae := wantCode(t, err, tt.code)
			if !strings.Contains(ae.ErrorMessage(), tt.msg) {
				t.Errorf("message %q lacks %q", ae.ErrorMessage(), tt.msg)
			}
		})
	}
	if after := countRoles(); after != before {
		t.Errorf("refused requests changed the roles: %d before, %d after", before, after)
	}

	// Without AutoCreate a missing user is an error that says so.
	_, err = alice.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{DbUser: aws.String("carol"), ClusterIdentifier: aws.String("dev")})
	ae := wantCode(t, err, "InvalidParameterValue")
	if !strings.Contains(ae.ErrorMessage(), "does not exist") || !strings.Contains(ae.ErrorMessage(), "AutoCreate") {
		t.Errorf("message %q", ae.ErrorMessage())
	}
}

// A DbUser of 63 bytes, PostgreSQL's limit for the role itself, gets a
// login whose name is cut to fit (the random suffix keeps it unique) and
// acts as the whole user; 64 bytes are refused.
func TestLongDbUser(t *testing.T) {
	env := newClusterEnv(t)
	ctx := t.Context()
	long := "svc." + strings.Repeat("x", 40) + "@example-corp.io" // 60 bytes
	long += strings.Repeat("z", 63-len(long))
	client := redshift.NewFromConfig(env.srv.AWSConfig(awstest.RootAccessKeyID, awstest.RootSecretAccessKey, ""))
	var logins []string
	for range 2 {
		out, err := client.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
			DbUser: aws.String(long), ClusterIdentifier: aws.String("dev"), AutoCreate: aws.Bool(true), DbName: aws.String(env.db)})
		if err != nil {
			t.Fatal(err)
		}
		login := aws.ToString(out.DbUser)
		if len(login) > 63 || !strings.HasPrefix(login, "IAMA:svc.") {
			t.Fatalf("login name %q (%d bytes)", login, len(login))
		}
		conn, err := env.connect(ctx, login, aws.ToString(out.DbPassword), env.db)
		if err != nil {
			t.Fatalf("log in as %q: %v", login, err)
		}
		var sessionUser, currentUser string
		if err := conn.QueryRow(ctx, "SELECT session_user, current_user").Scan(&sessionUser, &currentUser); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close(ctx)
		if sessionUser != login || currentUser != long {
			t.Errorf("session_user %q current_user %q, want %q and %q", sessionUser, currentUser, login, long)
		}
		logins = append(logins, login)
	}
	if logins[0] == logins[1] {
		t.Errorf("two credentials share the login %q", logins[0])
	}
	_, err := client.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		DbUser: aws.String(long + "z"), ClusterIdentifier: aws.String("dev"), AutoCreate: aws.Bool(true)})
	if ae := wantCode(t, err, "InvalidParameterValue"); !strings.Contains(ae.ErrorMessage(), "1 to 63") {
		t.Errorf("message %q", ae.ErrorMessage())
	}
}
