package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/app"
	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/localpg"
)

// requireLocalPostgres skips the test when this machine cannot run
// PostgreSQL (it fails instead when CI=true), as pgtest does.
func requireLocalPostgres(t *testing.T) {
	t.Helper()
	reason := ""
	if localpg.FindBinDir() == "" {
		reason = app.ErrNoPostgres.Error()
	} else if err := localpg.CheckOSUser(); err != nil {
		reason = err.Error()
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no PostgreSQL: %s (CI=true, so this fails instead of skipping)", reason)
	}
	t.Skipf("no PostgreSQL, skipping: %s", reason)
}

// devDataDir is a directory the OS user postgres can search, for a data
// dir (t.TempDir's are mode 0700: as root the dev cluster would then live
// under /var/tmp, and outlive the test).
func devDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dbiam-app-dev-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil { // search only
		t.Fatal(err)
	}
	return dir
}

func startDev(t *testing.T, dataDir string) (*app.Server, string) {
	t.Helper()
	cfg, err := config.Load("", func(k string) string {
		return map[string]string{"DBIAM_LISTEN": "127.0.0.1:0", "DBIAM_DATA_DIR": dataDir}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	logs := &syncBuffer{}
	srv, err := app.Start(t.Context(), cfg, app.Options{Dev: true, Stdout: &out, Stderr: logs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // a second Shutdown is harmless
	})
	if _, err := srv.DevCluster(); err != nil {
		t.Fatalf("no dev cluster: %v\n%s", err, logs.String())
	}
	return srv, out.String()
}

func redshiftClient(url, keyID, secretKey string) *redshift.Client {
	return redshift.New(redshift.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secretKey, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// login gets credentials for dbUser on the dev cluster as root and connects
// with them as psql would (TCP, password), returning session_user and
// current_user.
func login(t *testing.T, srv *app.Server, dbUser string, autoCreate bool) (session, current string) {
	t.Helper()
	keyID, secretKey := srv.RootCredentials()
	dc, err := srv.DevCluster()
	if err != nil {
		t.Fatal(err)
	}
	out, err := redshiftClient(srv.URL(), keyID, secretKey.Reveal()).GetClusterCredentials(t.Context(), &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(app.DevClusterID), DbUser: aws.String(dbUser), DbName: aws.String(app.DevDatabase),
		AutoCreate: aws.Bool(autoCreate),
	})
	if err != nil {
		t.Fatalf("GetClusterCredentials: %v", err)
	}
	cc, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable", dc.Host, dc.Port, dc.Database))
	if err != nil {
		t.Fatal(err)
	}
	cc.User, cc.Password = aws.ToString(out.DbUser), aws.ToString(out.DbPassword)
	conn, err := pgx.ConnectConfig(t.Context(), cc)
	if err != nil {
		t.Fatalf("connect with the credentials: %v", err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), "SELECT session_user::text, current_user::text").Scan(&session, &current); err != nil {
		t.Fatal(err)
	}
	return session, current
}

func TestDevModeRegistersALocalCluster(t *testing.T) {
	requireLocalPostgres(t)
	dataDir := devDataDir(t)
	srv, banner := startDev(t, dataDir)
	dc, _ := srv.DevCluster()

	for _, want := range []string{
		"aws redshift get-cluster-credentials --cluster-identifier dev --db-user alice --auto-create --db-name dev",
		`--query '[DbUser,DbPassword]' --output text | awk '{print "export PGUSER="$1" PGPASSWORD="$2}')"`,
		fmt.Sprintf(`psql "host=127.0.0.1 port=%d dbname=dev sslmode=disable" -c 'select session_user, current_user'`, dc.Port),
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	keyID, secretKey := srv.RootCredentials()
	desc, err := redshiftClient(srv.URL(), keyID, secretKey.Reveal()).DescribeClusters(t.Context(), &redshift.DescribeClustersInput{ClusterIdentifier: aws.String("dev")})
	if err != nil {
		t.Fatalf("DescribeClusters: %v", err)
	}
	if len(desc.Clusters) != 1 || desc.Clusters[0].Endpoint == nil || aws.ToString(desc.Clusters[0].Endpoint.Address) != "127.0.0.1" ||
		aws.ToInt32(desc.Clusters[0].Endpoint.Port) != int32(dc.Port) || aws.ToString(desc.Clusters[0].DBName) != "dev" {
		t.Errorf("DescribeClusters: %+v", desc.Clusters)
	}

	session, current := login(t, srv, "alice", true)
	if current != "alice" || !strings.HasPrefix(session, "IAMA:alice:") {
		t.Errorf("session_user %q current_user %q, want IAMA:alice:… and alice", session, current)
	}

	// The admin role is not a superuser, and PUBLIC cannot connect.
	admin, err := pgx.Connect(t.Context(), strings.Replace(dc.AdminURL, "dbiam_admin@", "dbiam_admin:"+dc.AdminPassword.Reveal()+"@", 1))
	if err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	var super, publicConnect bool
	if err := admin.QueryRow(t.Context(), `SELECT rolsuper, has_database_privilege('public', 'dev', 'CONNECT')
		FROM pg_roles WHERE rolname = current_user`).Scan(&super, &publicConnect); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close(t.Context())
	if super || publicConnect {
		t.Errorf("admin superuser %v, PUBLIC CONNECT on dev %v; want false, false", super, publicConnect)
	}

	// Restart: the same data (alice exists without AutoCreate) and, as it
	// is free, the same port.
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(dc.Host, strconv.Itoa(dc.Port)), 2*time.Second); err == nil {
		_ = c.Close()
		t.Fatal("the dev PostgreSQL still listens after Shutdown")
	}
	again, _ := startDev(t, dataDir)
	dc2, _ := again.DevCluster()
	if dc2.Port != dc.Port || dc2.Dir != dc.Dir {
		t.Errorf("restart: port %d dir %s, want %d %s", dc2.Port, dc2.Dir, dc.Port, dc.Dir)
	}
	if _, current := login(t, again, "alice", false); current != "alice" {
		t.Errorf("after restart current_user = %q", current)
	}
}
