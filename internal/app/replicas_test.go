package app_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

// Two replicas on one PostgreSQL store and one master key behave as one
// service: what one writes the other sees at once (no cache), session tokens
// sealed by one open on the other, and both issue working database
// credentials for the same cluster at the same time.
func TestTwoReplicasShareOnePostgresStore(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig(t)
	cfg.Store.Type = "postgres"
	cfg.Store.URL = secret.String(pgtest.New(t))
	target := pgtest.New(t) // the cluster the replicas issue logins on
	cluster, tgt := awstest.Cluster(t, "shared", target)
	cfg.Clusters = []config.Cluster{cluster}

	a := startServer(t, cfg, time.Now)
	b := startServer(t, cfg, time.Now)
	iamOn := func(srv *testServer, id, key, token string) *awsiam.Client {
		return awsiam.New(awsiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
			Credentials: credentials.NewStaticCredentialsProvider(id, key, token), Retryer: aws.NopRetryer{}})
	}
	redshiftOn := func(srv *testServer, id, key, token string) *redshift.Client {
		return redshift.New(redshift.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
			Credentials: credentials.NewStaticCredentialsProvider(id, key, token), Retryer: aws.NopRetryer{}})
	}

	// Written on A...
	rootA := iamOn(a, rootKeyID, rootSecret, "")
	if _, err := rootA.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":["redshift:GetClusterCredentials","redshift:CreateClusterUser"],"Resource":"arn:aws:redshift:us-east-1:` + accountID + `:dbuser:shared/alice"},
	 {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	if _, err := rootA.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("db"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	k, err := rootA.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	keyID, keySecret := aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
	// ...is used on B.
	who, err := stsClient(b.URL(), keyID, keySecret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.HasSuffix(aws.ToString(who.Arn), ":user/alice") {
		t.Fatalf("alice's key on replica B: %v, %v", who, err)
	}

	// A role session sealed by A opens on B.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountID + `:user/alice"},"Action":"sts:AssumeRole"}]}`
	if _, err := rootA.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("Reader"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	as, err := stsClient(a.URL(), keyID, keySecret, "").AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + accountID + ":role/Reader"), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	c := as.Credentials
	who, err = stsClient(b.URL(), aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.Contains(aws.ToString(who.Arn), ":assumed-role/Reader/s1") {
		t.Fatalf("A's role session on replica B: %v, %v", who, err)
	}

	// Both replicas issue credentials for the same user at once; every one
	// logs in.
	type cred struct{ user, password string }
	var (
		mu    sync.Mutex
		creds []cred
		wg    sync.WaitGroup
		errs  = make(chan error, 16)
	)
	for i := range 16 {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := redshiftOn(srv, keyID, keySecret, "").GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
				ClusterIdentifier: aws.String("shared"), DbUser: aws.String("alice"), AutoCreate: aws.Bool(true)})
			if err != nil {
				errs <- fmt.Errorf("replica %d: %w", i%2, err)
				return
			}
			mu.Lock()
			creds = append(creds, cred{aws.ToString(out.DbUser), aws.ToString(out.DbPassword)})
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range creds {
		cc, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s:%d/%s?sslmode=disable", tgt.Host, tgt.Port, tgt.DB))
		if err != nil {
			t.Fatal(err)
		}
		cc.User, cc.Password = c.user, c.password
		conn, err := pgx.ConnectConfig(ctx, cc)
		if err != nil {
			t.Errorf("log in as %s: %v", c.user, err)
			continue
		}
		var user string
		if err := conn.QueryRow(ctx, "SELECT current_user::text").Scan(&user); err != nil || user != "alice" {
			t.Errorf("%s: current_user %q, %v", c.user, user, err)
		}
		conn.Close(ctx)
	}

	// A policy removed on B is enforced on A at once; a key deleted on A is
	// refused on B at once.
	if _, err := iamOn(b, rootKeyID, rootSecret, "").DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("db")}); err != nil {
		t.Fatal(err)
	}
	_, err = redshiftOn(a, keyID, keySecret, "").GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String("shared"), DbUser: aws.String("alice")})
	wantAPIError(t, err, "AccessDenied")
	if _, err := rootA.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	_, err = stsClient(b.URL(), keyID, keySecret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId")
}
