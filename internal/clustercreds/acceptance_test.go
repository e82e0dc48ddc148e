package clustercreds_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

// TestPasswordRefusedAfterExpiration runs dbiam's clock 898 seconds behind
// the database's, so that a 900-second credential expires two seconds
// later in real time (the signature still verifies: 898 s is inside the
// 15-minute skew).
func TestPasswordRefusedAfterExpiration(t *testing.T) {
	var offset atomic.Int64
	offset.Store(int64(-898 * time.Second))
	env := newClusterEnv(t, awstest.WithNow(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }))
	ctx := t.Context()
	dave := env.user(t, "dave", strings.ReplaceAll(ownUserPolicy, "alice", "dave"))
	out, err := dave.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{DbUser: aws.String("dave"), ClusterIdentifier: aws.String("dev"), AutoCreate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := env.connect(ctx, aws.ToString(out.DbUser), aws.ToString(out.DbPassword), env.db)
	if err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	_ = conn.Close(ctx)
	time.Sleep(time.Until(aws.ToTime(out.Expiration)) + 500*time.Millisecond)
	if _, err := env.connect(ctx, aws.ToString(out.DbUser), aws.ToString(out.DbPassword), env.db); err == nil {
		t.Fatal("the database accepted the password after Expiration")
	} else if !strings.Contains(err.Error(), "28P01") && !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("unexpected refusal: %v", err)
	}
}

func TestDbNameAndGroups(t *testing.T) {
	env := newClusterEnv(t)
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, env.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	other := env.db + "_other"
	for _, sql := range []string{
		"CREATE DATABASE " + other,
		"REVOKE CONNECT ON DATABASE " + env.db + " FROM PUBLIC",
		"REVOKE CONNECT ON DATABASE " + other + " FROM PUBLIC",
		"CREATE ROLE erin_readers NOLOGIN",
		"CREATE TABLE secrets (v text)",
		"INSERT INTO secrets VALUES ('only for readers')",
		"GRANT SELECT ON secrets TO erin_readers",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() { _, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+other+" WITH (FORCE)") })
	erin := env.user(t, "erin", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":["redshift:GetClusterCredentials","redshift:CreateClusterUser"],"Resource":[
	    "arn:aws:redshift:us-east-1:123456789012:dbuser:dev/erin","arn:aws:redshift:us-east-1:123456789012:dbname:dev/`+env.db+`"]},
	  {"Effect":"Allow","Action":"redshift:JoinGroup","Resource":"arn:aws:redshift:us-east-1:123456789012:dbgroup:dev/erin_readers"}]}`)

	// Restricted to one database.
	out, err := erin.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{DbUser: aws.String("erin"), ClusterIdentifier: aws.String("dev"),
		DbName: aws.String(env.db), AutoCreate: aws.Bool(true), DbGroups: []string{"erin_readers"}})
	if err != nil {
		t.Fatal(err)
	}
	user, pw := aws.ToString(out.DbUser), aws.ToString(out.DbPassword)
	conn, err := env.connect(ctx, user, pw, env.db)
	if err != nil {
		t.Fatalf("the granted database: %v", err)
	}
	var v string
	if err := conn.QueryRow(ctx, "SELECT v FROM secrets").Scan(&v); err != nil || v != "only for readers" {
		t.Errorf("group privilege: %q %v", v, err)
	}
	_ = conn.Close(ctx)
	if _, err := env.connect(ctx, user, pw, other); err == nil {
		t.Error("a DbName-restricted credential connected to another database")
	}
	// Another database is a separate resource in the policy.
	_, err = erin.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{DbUser: aws.String("erin"), ClusterIdentifier: aws.String("dev"), DbName: aws.String(other)})
	wantCode(t, err, "AccessDenied")
	// Unknown groups are refused before anything is written.
	_, err = erin.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{DbUser: aws.String("erin"), ClusterIdentifier: aws.String("dev"), DbName: aws.String(env.db), DbGroups: []string{"nosuchgroup"}})
	wantCode(t, err, "AccessDenied")
}
