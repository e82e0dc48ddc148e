package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/internal/app"
	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/sqlite"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	rootKeyID  = "AKIAROOTROOTROOT0001"
	rootSecret = "rootSecretrootSecretrootSecretrootSecret"
	accountID  = "123456789012"
)

// syncBuffer collects the server log safely across goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testServer struct {
	*app.Server
	log *syncBuffer
	cfg config.Config
}

func testConfig(t *testing.T) config.Config {
	t.Helper()
	env := map[string]string{
		"DBIAM_ROOT_ACCESS_KEY_ID":     rootKeyID,
		"DBIAM_ROOT_SECRET_ACCESS_KEY": rootSecret,
		"DBIAM_ACCOUNT_ID":             accountID,
		"DBIAM_LISTEN":                 "127.0.0.1:0",
		"DBIAM_DATA_DIR":               t.TempDir(),
		"DBIAM_LOG_LEVEL":              "debug",
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.GenerateFile(cfg.MasterKeyFile, rand.Reader, time.Now()); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startServer(t *testing.T, cfg config.Config, now func() time.Time) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	srv, err := app.Start(t.Context(), cfg, app.Options{Stderr: logs, Now: now})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if strings.Contains(logs.String(), rootSecret) {
			t.Errorf("server log contains the root secret")
		}
	})
	return &testServer{Server: srv, log: logs, cfg: cfg}
}

func stsClient(url, keyID, secretKey, token string) *sts.Client {
	return sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secretKey, token),
		Retryer:      aws.NopRetryer{},
	})
}

func TestGetCallerIdentityAsRoot(t *testing.T) {
	srv := startServer(t, testConfig(t), time.Now)
	out, err := stsClient(srv.URL(), rootKeyID, rootSecret, "").GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.Arn), "arn:aws:iam::"+accountID+":root"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if got := aws.ToString(out.Account); got != accountID {
		t.Errorf("Account = %q", got)
	}
	if got := aws.ToString(out.UserId); got != accountID {
		t.Errorf("UserId = %q", got)
	}
}

func TestGetCallerIdentityAsIAMUser(t *testing.T) {
	cfg := testConfig(t)
	// Put a user and its access key in the store as the IAM API will.
	ctx := t.Context()
	kr, err := keyring.LoadFile(cfg.MasterKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := st.CreateUser(ctx, store.User{Name: "alice", Path: "/eng/", ID: "AIDAALICEALICEALICE1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const keyID, keySecret = "AKIAALICEALICEALICE1", "aliceSecretaliceSecretaliceSecretaliceS"
	sealed, err := kr.Seal([]byte(keySecret), iam.AccessKeySecretAAD(keyID))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.AccessKey{
		{ID: keyID, UserName: "alice", SealedSecret: sealed, Status: "Active", CreatedAt: now},
		{ID: "AKIAINACTIVEINACTIVE", UserName: "alice", SealedSecret: sealed, Status: "Inactive", CreatedAt: now},
		// Sealed for another key id: the AAD binding must refuse it.
		{ID: "AKIASWAPPEDSWAPPED01", UserName: "alice", SealedSecret: sealed, Status: "Active", CreatedAt: now},
	} {
		if err := st.CreateAccessKey(ctx, k, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	srv := startServer(t, cfg, time.Now)
	out, err := stsClient(srv.URL(), keyID, keySecret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.Arn), "arn:aws:iam::"+accountID+":user/eng/alice"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if got := aws.ToString(out.UserId); got != "AIDAALICEALICEALICE1" {
		t.Errorf("UserId = %q", got)
	}

	_, err = stsClient(srv.URL(), "AKIAINACTIVEINACTIVE", keySecret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId")
	_, err = stsClient(srv.URL(), "AKIASWAPPEDSWAPPED01", keySecret, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InternalFailure")
	if strings.Contains(srv.log.String(), keySecret) {
		t.Error("server log contains a user's secret key")
	}
}

func TestAuthenticationFailures(t *testing.T) {
	srv := startServer(t, testConfig(t), time.Now)
	late := startServer(t, testConfig(t), func() time.Time { return time.Now().Add(20 * time.Minute) })
	early := startServer(t, testConfig(t), func() time.Time { return time.Now().Add(-20 * time.Minute) })
	tests := []struct {
		name     string
		client   *sts.Client
		wantCode string
		wantMsg  string
	}{
		{"wrong secret", stsClient(srv.URL(), rootKeyID, "wrong"+rootSecret[5:], ""), "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"unknown key", stsClient(srv.URL(), "AKIAUNKNOWNUNKNOWN12", rootSecret, ""), "InvalidClientTokenId", "The security token included in the request is invalid"},
		{"root key with a session token", stsClient(srv.URL(), rootKeyID, rootSecret, "token"), "InvalidClientTokenId", ""},
		{"request dated 20 minutes ago", stsClient(late.URL(), rootKeyID, rootSecret, ""), "RequestExpired", "Signature expired"},
		{"request dated 20 minutes ahead", stsClient(early.URL(), rootKeyID, rootSecret, ""), "RequestExpired", "Signature not yet current"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			ae := wantAPIError(t, err, tt.wantCode)
			if ae != nil && !strings.Contains(ae.ErrorMessage(), tt.wantMsg) {
				t.Errorf("message %q does not contain %q", ae.ErrorMessage(), tt.wantMsg)
			}
			if ae != nil && strings.Contains(ae.ErrorMessage(), rootSecret) {
				t.Error("error message contains the secret")
			}
		})
	}
}

func TestRawHTTP(t *testing.T) {
	srv := startServer(t, testConfig(t), time.Now)
	post := func(t *testing.T, body string, header map[string]string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	tests := []struct {
		name       string
		body       string
		header     map[string]string
		wantStatus int
		wantCode   string
	}{
		{"unsigned", "Action=GetCallerIdentity&Version=2011-06-15", nil, 403, "MissingAuthenticationToken"},
		{"garbage authorization", "Action=GetCallerIdentity&Version=2011-06-15", map[string]string{"Authorization": "AWS4-HMAC-SHA256 garbage"}, 400, "IncompleteSignature"},
		{"sigv2", "Action=GetCallerIdentity&Version=2011-06-15", map[string]string{"Authorization": "AWS AKIAXX:abc"}, 400, "IncompleteSignature"},
		{"oversized body", "Action=GetCallerIdentity&Version=2011-06-15&X=" + strings.Repeat("a", 1<<20), nil, 413, "RequestEntityTooLarge"},
		{"malformed form", "Action=%zz", nil, 404, "MalformedQueryString"},
		{"unsigned unknown action", "Action=Nope&Version=2011-06-15", nil, 403, "MissingAuthenticationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, h := post(t, tt.body, tt.header)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", status, tt.wantStatus, body)
			}
			if !strings.Contains(body, "<Code>"+tt.wantCode+"</Code>") {
				t.Errorf("body %s lacks code %s", body, tt.wantCode)
			}
			if id := h.Get("x-amzn-RequestId"); id == "" || !strings.Contains(body, "<RequestId>"+id+"</RequestId>") {
				t.Errorf("request id header %q not echoed in body %s", id, body)
			}
		})
	}

	t.Run("healthz", func(t *testing.T) {
		resp, err := http.Get(srv.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok"`) {
			t.Errorf("healthz = %d %s", resp.StatusCode, b)
		}
	})
}

func TestPostgresStore(t *testing.T) {
	cfg := testConfig(t)
	cfg.Store.Type = "postgres"
	cfg.Store.URL = secret.String(pgtest.New(t))
	srv := startServer(t, cfg, time.Now)
	out, err := stsClient(srv.URL(), rootKeyID, rootSecret, "").GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(out.Arn), ":root") {
		t.Errorf("Arn = %q", aws.ToString(out.Arn))
	}
}

func TestDevModeGeneratesAndKeepsCredentials(t *testing.T) {
	dir := devDataDir(t) // where the dev cluster, if PostgreSQL is installed, may live
	cfg, err := config.Load("", func(k string) string {
		return map[string]string{"DBIAM_LISTEN": "127.0.0.1:0", "DBIAM_DATA_DIR": filepath.Join(dir, "data")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var banners [2]string
	for i := range banners {
		var out bytes.Buffer
		srv, err := app.Start(t.Context(), cfg, app.Options{Dev: true, Stdout: &out})
		if err != nil {
			t.Fatal(err)
		}
		banners[i] = out.String()
		keyID, secretKey := bannerValue(t, banners[i], "AWS_ACCESS_KEY_ID"), bannerValue(t, banners[i], "AWS_SECRET_ACCESS_KEY")
		if got := bannerValue(t, banners[i], "AWS_ENDPOINT_URL"); got != srv.URL() {
			t.Errorf("banner endpoint %q, server %q", got, srv.URL())
		}
		if _, err := stsClient(srv.URL(), keyID, secretKey, "").GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Errorf("banner credentials do not work: %v", err)
		}
		if err := srv.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := bannerValue(t, banners[0], "AWS_SECRET_ACCESS_KEY"), bannerValue(t, banners[1], "AWS_SECRET_ACCESS_KEY"); a != b {
		t.Error("dev root credentials changed across restarts")
	}
}

func bannerValue(t *testing.T, banner, name string) string {
	t.Helper()
	for _, line := range strings.Split(banner, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export "+name+"="); ok {
			return v
		}
	}
	t.Fatalf("banner has no %s:\n%s", name, banner)
	return ""
}

func wantAPIError(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("error = %v, want API error %s", err, code)
		return nil
	}
	if ae.ErrorCode() != code {
		t.Errorf("code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae
}

func TestServeAppliesBootstrap(t *testing.T) {
	cfg := testConfig(t)
	cfg.Bootstrap = config.Bootstrap{Users: []config.BootstrapUser{{Name: "bootstrapped", Path: "/svc/"}}}
	srv := startServer(t, cfg, time.Now)
	iamClient := awsiam.New(awsiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(rootKeyID, rootSecret, ""), Retryer: aws.NopRetryer{}})
	out, err := iamClient.GetUser(t.Context(), &awsiam.GetUserInput{UserName: aws.String("bootstrapped")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.User.Arn); got != "arn:aws:iam::"+accountID+":user/svc/bootstrapped" {
		t.Errorf("Arn = %s", got)
	}
	if !strings.Contains(srv.log.String(), `change="created user bootstrapped"`) {
		t.Errorf("bootstrap change not logged:\n%s", srv.log.String())
	}
	// A restart with the same file changes nothing.
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	again := startServer(t, cfg, time.Now)
	if strings.Contains(again.log.String(), "bootstrap change") || !strings.Contains(again.log.String(), "changes=0") {
		t.Errorf("second start:\n%s", again.log.String())
	}
}
