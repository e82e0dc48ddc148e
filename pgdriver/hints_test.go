package pgdriver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshift/types"
)

func ptr[T any](v T) *T { return &v }

func TestResolveDbUser(t *testing.T) {
	tests := []struct {
		name               string
		conn, profile, idp Hints
		urlUser            string
		user               string
		groups             []string
		autoCreate         *bool
	}{
		{name: "connection first", conn: Hints{DbUser: "c"}, profile: Hints{DbUser: "p"}, idp: Hints{DbUser: "s"}, urlUser: "u", user: "c"},
		{name: "then profile", profile: Hints{DbUser: "p"}, idp: Hints{DbUser: "s"}, urlUser: "u", user: "p"},
		{name: "then SAML DbUser", idp: Hints{DbUser: "s", RoleSessionName: "r"}, urlUser: "u", user: "s"},
		{name: "then RoleSessionName", idp: Hints{RoleSessionName: "r"}, urlUser: "u", user: "r"},
		{name: "then URL user", urlUser: "u", user: "u"},
		{name: "AllowDbUserOverride: SAML first", conn: Hints{DbUser: "c"}, profile: Hints{DbUser: "p"}, idp: Hints{DbUser: "s", AllowDbUserOverride: true}, user: "s"},
		{name: "AllowDbUserOverride without a SAML user", conn: Hints{DbUser: "c"}, idp: Hints{AllowDbUserOverride: true}, user: "c"},
		{name: "groups: connection wins, sorted", conn: Hints{DbUser: "c", DbGroups: []string{"z", "a"}}, profile: Hints{DbGroups: []string{"p"}}, idp: Hints{DbGroups: []string{"s"}}, user: "c", groups: []string{"a", "z"}},
		{name: "groups: profile before SAML", conn: Hints{DbUser: "c", DbGroups: []string{}}, profile: Hints{DbGroups: []string{"p"}}, idp: Hints{DbGroups: []string{"s"}}, user: "c", groups: []string{"p"}},
		{name: "groups: SAML, lowercased by SAML", conn: Hints{DbUser: "c"}, idp: Hints{DbGroups: []string{"Analysts", "BI"}, ForceLowercase: ptr(true)}, user: "c", groups: []string{"analysts", "bi"}},
		{name: "ForceLowercase: connection false wins", conn: Hints{DbUser: "c", ForceLowercase: ptr(false)}, idp: Hints{DbGroups: []string{"Analysts"}, ForceLowercase: ptr(true)}, user: "c", groups: []string{"Analysts"}},
		{name: "AutoCreate: connection wins", conn: Hints{DbUser: "c", AutoCreate: ptr(false)}, profile: Hints{AutoCreate: ptr(true)}, user: "c", autoCreate: ptr(false)},
		{name: "AutoCreate: profile before SAML", conn: Hints{DbUser: "c"}, profile: Hints{AutoCreate: ptr(false)}, idp: Hints{AutoCreate: ptr(true)}, user: "c", autoCreate: ptr(false)},
		{name: "AutoCreate: SAML", conn: Hints{DbUser: "c"}, idp: Hints{AutoCreate: ptr(true)}, user: "c", autoCreate: ptr(true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := resolveDbUser(tt.conn, tt.profile, tt.idp, tt.urlUser)
			if err != nil {
				t.Fatal(err)
			}
			if r.DbUser != tt.user || !slices.Equal(r.DbGroups, tt.groups) || (r.AutoCreate == nil) != (tt.autoCreate == nil) ||
				(r.AutoCreate != nil && *r.AutoCreate != *tt.autoCreate) {
				t.Errorf("got %+v (AutoCreate %v)", r, r.AutoCreate)
			}
		})
	}
	if _, err := resolveDbUser(Hints{}, Hints{}, Hints{}, ""); err == nil {
		t.Error("no user: no error")
	}
}

// isolateAWS points the AWS shared files at a temporary directory and
// clears the AWS environment. It returns the paths of the config and
// credentials files (not created).
func isolateAWS(t *testing.T) (configFile, credsFile string) {
	t.Helper()
	dir := t.TempDir()
	configFile, credsFile = filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	t.Setenv("AWS_CONFIG_FILE", configFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credsFile)
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_REDSHIFT", "AWS_ENDPOINT_URL_STS"} {
		t.Setenv(k, "")
	}
	return configFile, credsFile
}

func TestProfileHints(t *testing.T) {
	configFile, credsFile := isolateAWS(t)
	write(t, configFile, `
# comment
[default]
dbuser = nobody

[profile analyst]
region = us-east-1
dbuser = bob   # inline comment
DbGroups = Analysts, bi
s3 =
  max_concurrent_requests = 2
  dbuser = nested-is-ignored
autocreate = true

[profile   other]
dbuser = other
`)
	write(t, credsFile, `
[analyst]
aws_access_key_id = AKIA
force_lowercase = true
`)
	h, err := profileHints("analyst")
	if err != nil {
		t.Fatal(err)
	}
	if h.DbUser != "bob" || !slices.Equal(h.DbGroups, []string{"Analysts", "bi"}) || !*h.AutoCreate || !*h.ForceLowercase {
		t.Errorf("hints %+v", h)
	}
	if h, err := profileHints("other"); err != nil || h.DbUser != "other" {
		t.Errorf("spaces in the section name: %+v %v", h, err)
	}
	if h, err := profileHints("default"); err != nil || h.DbUser != "nobody" {
		t.Errorf("default: %+v %v", h, err)
	}
	if h, err := profileHints("missing"); err != nil || h.DbUser != "" {
		t.Errorf("missing: %+v %v", h, err)
	}
	write(t, credsFile, "[bad]\nautocreate = perhaps\n")
	if _, err := profileHints("bad"); err == nil {
		t.Error("a bad boolean: no error")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fakeAPI records requests and answers with a fixed credential.
type fakeAPI struct {
	mu       sync.Mutex
	gcc      []*redshift.GetClusterCredentialsInput
	describe int
}

func (f *fakeAPI) GetClusterCredentials(_ context.Context, in *redshift.GetClusterCredentialsInput, _ ...func(*redshift.Options)) (*redshift.GetClusterCredentialsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gcc = append(f.gcc, in)
	return &redshift.GetClusterCredentialsOutput{DbUser: aws.String("IAM:" + aws.ToString(in.DbUser)), DbPassword: aws.String("pw"), Expiration: aws.Time(time.Now().Add(15 * time.Minute))}, nil
}

func (f *fakeAPI) DescribeClusters(context.Context, *redshift.DescribeClustersInput, ...func(*redshift.Options)) (*redshift.DescribeClustersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describe++
	return &redshift.DescribeClustersOutput{Clusters: []types.Cluster{{Endpoint: &types.Endpoint{Address: aws.String("10.1.2.3"), Port: aws.Int32(5439)}}}}, nil
}

func (f *fakeAPI) last() *redshift.GetClusterCredentialsInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gcc[len(f.gcc)-1]
}

// TestRequest checks what GetClusterCredentials is asked for, from the DSN,
// options, the profile and identity-provider hints together.
func TestRequest(t *testing.T) {
	configFile, _ := isolateAWS(t)
	write(t, configFile, "[profile analyst]\ndbuser = bob\ndbgroups = Team\nforcelowercase = true\n")
	saml := DbUserHintsFunc(func(context.Context) (Hints, error) {
		return Hints{DbUser: "saml_user", DbGroups: []string{"SAML"}, AutoCreate: ptr(true), AllowDbUserOverride: true}, nil
	})
	tests := []struct {
		name string
		dsn  string
		opts []Option
		want redshift.GetClusterCredentialsInput
	}{
		{"DSN", "postgres://h/sales?cluster_id=dev&db_user=alice&db_groups=b,a&auto_create=true&iam_duration=1200", nil,
			redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("dev"), DbUser: aws.String("alice"), DbGroups: []string{"a", "b"}, AutoCreate: aws.Bool(true), DbName: aws.String("sales"), DurationSeconds: aws.Int32(1200)}},
		{"URL user, no database", "postgres://carol@h?cluster_id=dev", nil,
			redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("dev"), DbUser: aws.String("carol")}},
		{"user parameter", "postgres://h/sales?cluster_id=dev&user=dave", nil,
			redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("dev"), DbUser: aws.String("dave"), DbName: aws.String("sales")}},
		{"options win over the DSN", "postgres://h/sales?cluster_id=dev&db_user=alice", []Option{WithClusterID("prod"), WithDbUser("dan"), WithDbName(""), WithAutoCreate(false), WithIAMDuration(time.Hour)},
			redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("prod"), DbUser: aws.String("dan"), AutoCreate: aws.Bool(false), DurationSeconds: aws.Int32(3600)}},
		{"profile keys", "postgres://h/sales?cluster_id=dev&profile=analyst", nil,
			redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("dev"), DbUser: aws.String("bob"), DbGroups: []string{"team"}, DbName: aws.String("sales")}},
		{"SAML hints with AllowDbUserOverride", "postgres://h/sales?cluster_id=dev&db_user=alice", []Option{WithDbUserHints(saml)},
			redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("dev"), DbUser: aws.String("saml_user"), DbGroups: []string{"SAML"}, AutoCreate: aws.Bool(true), DbName: aws.String("sales")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{}
			c, err := NewConnector(tt.dsn, append([]Option{WithRedshiftClient(api)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cred, err := c.cache.Get(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := api.last()
			if cred.User != "IAM:"+aws.ToString(got.DbUser) ||
				aws.ToString(got.ClusterIdentifier) != aws.ToString(tt.want.ClusterIdentifier) || aws.ToString(got.DbUser) != aws.ToString(tt.want.DbUser) ||
				!slices.Equal(got.DbGroups, tt.want.DbGroups) || !eqPtr(got.AutoCreate, tt.want.AutoCreate) || !eqPtr(got.DbName, tt.want.DbName) ||
				!eqPtr(got.DurationSeconds, tt.want.DurationSeconds) || got.CustomDomainName != nil {
				t.Errorf("request %s", describe(got))
			}
		})
	}
}

func eqPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func describe(in *redshift.GetClusterCredentialsInput) string {
	str := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var auto, dur any
	if in.AutoCreate != nil {
		auto = *in.AutoCreate
	}
	if in.DurationSeconds != nil {
		dur = *in.DurationSeconds
	}
	return fmt.Sprintf("cluster=%v user=%v db=%v autocreate=%v duration=%v groups=%q",
		str(in.ClusterIdentifier), str(in.DbUser), str(in.DbName), auto, dur, in.DbGroups)
}

func TestDescribeClustersOnce(t *testing.T) {
	api := &fakeAPI{}
	c, err := NewConnector("postgres:///sales?cluster_id=dev&db_user=a&connect_timeout=7", WithRedshiftClient(api))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		cfg, err := c.connConfig(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Host != "10.1.2.3" || cfg.Port != 5439 || cfg.Database != "sales" || cfg.ConnectTimeout != 7*time.Second {
			t.Fatalf("config host %s port %d db %s timeout %s", cfg.Host, cfg.Port, cfg.Database, cfg.ConnectTimeout)
		}
	}
	if api.describe != 1 {
		t.Errorf("%d DescribeClusters calls", api.describe)
	}
}
