package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

// With metrics_listen set, /metrics on that listener counts requests by
// service, action and result, times them, and counts issued credentials
// and batch sizes — with bounded labels and no secret.
func TestMetrics(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig(t)
	cfg.MetricsListen = "127.0.0.1:0"
	cluster, _ := awstest.Cluster(t, "m1", pgtest.New(t))
	cfg.Clusters = []config.Cluster{cluster}
	srv := startServer(t, cfg, time.Now)
	if srv.MetricsAddr() == "" {
		t.Fatal("no metrics listener")
	}

	root := stsClient(srv.URL(), rootKeyID, rootSecret, "")
	if _, err := root.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := stsClient(srv.URL(), rootKeyID, "wrong-secret-wrong-secret-wrong-secret00", "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch")
	rs := redshift.New(redshift.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(rootKeyID, rootSecret, ""), Retryer: aws.NopRetryer{}})
	out, err := rs.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("m1"), DbUser: aws.String("metrics_user"), AutoCreate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	// A request for an action nobody serves is counted as "unknown".
	resp, err := http.Post(srv.URL()+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=Made-Up-"+strings.Repeat("x", 50)+"&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	resp, err = http.Get("http://" + srv.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`dbiam_requests_total{action="GetCallerIdentity",code="ok",service="sts"} 1`,
		`dbiam_requests_total{action="GetClusterCredentials",code="ok",service="redshift"} 1`,
		`dbiam_requests_total{action="unknown",code="SignatureDoesNotMatch",service="unknown"} 1`,
		`dbiam_request_duration_seconds_count{action="GetClusterCredentials",service="redshift"} 1`,
		`dbiam_credentials_issued_total{cluster="m1"} 1`,
		`dbiam_credential_issue_duration_seconds_count{cluster="m1"} 1`,
		`dbiam_engine_batch_logins_count`,
		`dbiam_credentials_live 1`,
		`dbiam_credentials_expired_pending 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, secret := range []string{rootSecret, rootKeyID, aws.ToString(out.DbPassword), aws.ToString(out.DbUser), "metrics_user", "Made-Up"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
	// The API listener does not serve it.
	resp, err = http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("the API listener serves /metrics")
	}
}
