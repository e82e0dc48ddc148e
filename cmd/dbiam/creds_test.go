package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
	"github.com/dbiam/dbiam/samlauth"
	"github.com/dbiam/dbiam/samlauth/browsertest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	cliCarolPassword = "carol-CLI-Passw0rd-never-shown"
	cliProviderARN   = "arn:aws:iam::" + awstest.AccountID + ":saml-provider/DevIdP"
)

// cliEnv is a dbiam server with cluster "dev" on a throwaway database, an
// IAM user alice whose keys are in profile "cli" of a temporary AWS config,
// and the development IdP (user carol, role RedshiftSSO, DbUser carol_db).
type cliEnv struct {
	srv          *awstest.Server
	host, db     string
	port         int
	idpURL       string
	idp          *devidp.IdP
	aliceKey     string
	aliceSecret  string
	configDir    string
	getenvValues map[string]string
}

const cliPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["redshift:GetClusterCredentials","redshift:CreateClusterUser"],"Resource":[
   "arn:aws:redshift:us-east-1:123456789012:dbuser:dev/*","arn:aws:redshift:us-east-1:123456789012:dbname:dev/*"]},
 {"Effect":"Allow","Action":"redshift:DescribeClusters","Resource":"*"}]}`

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	ctx := t.Context()
	admin := pgtest.New(t)
	cluster, target := awstest.Cluster(t, "dev", admin)
	e := &cliEnv{host: target.Host, port: target.Port, db: target.DB, getenvValues: map[string]string{}}
	e.srv = awstest.Start(t, awstest.WithConfig(func(c *config.Config) {
		c.Clusters = []config.Cluster{cluster}
	}))
	root := e.srv.RootIAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p"), PolicyDocument: aws.String(cliPolicy)}); err != nil {
		t.Fatal(err)
	}
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	e.aliceKey, e.aliceSecret = aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)

	// The IdP, registered, and a role trusting it.
	ln, err := devidp.Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	hs.Listener.Close()
	hs.Listener = ln
	e.idp, err = devidp.New(devidp.Config{BaseURL: "http://" + ln.Addr().String(), DataDir: t.TempDir(), AccountID: awstest.AccountID,
		Users: []devidp.User{{Username: "carol", Password: secret.String(cliCarolPassword), Roles: []string{"RedshiftSSO"}, DBUser: "carol_db", AutoCreate: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = e.idp.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	e.idpURL = hs.URL
	if _, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("DevIdP"), SAMLMetadataDocument: aws.String(string(e.idp.Metadata()))}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + cliProviderARN + `"},` +
		`"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("RedshiftSSO"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("RedshiftSSO"), PolicyName: aws.String("p"), PolicyDocument: aws.String(cliPolicy)}); err != nil {
		t.Fatal(err)
	}

	// AWS config files: profile cli has alice's keys and the endpoint;
	// profile sso has only a region (SAML provides the credentials).
	e.configDir = t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(e.configDir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("AWS_CONFIG_FILE", write("config", "[profile cli]\nregion = us-east-1\nendpoint_url = "+e.srv.URL()+"\n\n[profile sso]\nregion = us-east-1\n"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", write("credentials", "[cli]\naws_access_key_id = "+e.aliceKey+"\naws_secret_access_key = "+e.aliceSecret+"\n"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_REDSHIFT", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return e
}

func (e *cliEnv) deps() credsDeps {
	d := defaultCredsDeps()
	d.getenv = func(k string) string { return e.getenvValues[k] }
	d.promptPassword = func(string) (string, error) { return "", errors.New("test: no terminal") }
	d.exec = func(string, []string, []string) error { return errors.New("test: exec not expected") }
	return d
}

func runCLI(t *testing.T, deps credsDeps, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := &cobra.Command{Use: "dbiam", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newCredsCommandWith(deps), newConnectCommandWith(deps))
	var o, e bytes.Buffer
	root.SetOut(&o)
	root.SetErr(&e)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return o.String(), e.String(), err
}

// login connects with the credentials and returns current_user.
func (e *cliEnv) login(t *testing.T, user, password, db string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://" + e.host + ":" + strconv.Itoa(e.port) + "/" + db + "?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = user, password
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("log in as %s: %v", user, err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var cu string
	if err := conn.QueryRow(t.Context(), "SELECT current_user").Scan(&cu); err != nil {
		t.Fatal(err)
	}
	return cu
}

func TestCredsFormats(t *testing.T) {
	e := newCLIEnv(t)
	base := []string{"creds", "--profile", "cli", "--cluster-id", "dev", "--db-user", "alice", "--auto-create", "--db-name", e.db}

	out, _, err := runCLI(t, e.deps(), "", base...)
	if err != nil {
		t.Fatal(err)
	}
	var c dbCredentials
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if !strings.HasPrefix(c.DbUser, "IAMA:alice") || c.DbPassword == "" || c.Host != e.host || c.Port != e.port || c.Database != e.db || c.SSLMode != "prefer" {
		t.Errorf("credentials %+v", c)
	}
	if d := time.Until(c.Expiration); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("expires in %s", d)
	}
	if got := e.login(t, c.DbUser, c.DbPassword, c.Database); got != "alice" {
		t.Errorf("current_user %q", got)
	}

	// env: what a shell gets with set -a; eval.
	out, _, err = runCLI(t, e.deps(), "", append(base, "--format", "env", "--duration", "30m")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"PGUSER=", "PGPASSWORD=", "PGHOST=", "PGPORT=", "PGDATABASE=", "PGSSLMODE="} {
		if !strings.Contains(out, "\n"+k) && !strings.HasPrefix(out, k) {
			t.Errorf("no %s line in %q", k, out)
		}
	}
	sh := exec.Command("sh", "-c", `set -a; eval "$1"; set +a; printf '%s\n%s\n%s\n%s\n%s\n%s' "$PGUSER" "$PGPASSWORD" "$PGHOST" "$PGPORT" "$PGDATABASE" "$PGSSLMODE"`, "sh", out)
	sh.Env = []string{"PATH=" + os.Getenv("PATH")}
	vals, err := sh.Output()
	if err != nil {
		t.Fatal(err)
	}
	v := strings.Split(string(vals), "\n")
	if len(v) != 6 || v[2] != e.host || v[3] != strconv.Itoa(e.port) || v[4] != e.db || v[5] != "prefer" {
		t.Fatalf("sh saw %q", v)
	}
	if got := e.login(t, v[0], v[1], v[4]); got != "alice" {
		t.Errorf("current_user %q", got)
	}

	// pgpass: a line libpq reads; check it with psql when it is here.
	out, _, err = runCLI(t, e.deps(), "", append(base, "--format", "pgpass")...)
	if err != nil {
		t.Fatal(err)
	}
	fields := splitPgpass(strings.TrimSuffix(out, "\n"))
	if len(fields) != 5 || fields[0] != e.host || fields[1] != strconv.Itoa(e.port) || fields[2] != e.db || !strings.HasPrefix(fields[3], "IAMA:alice") {
		t.Fatalf("pgpass %q", fields)
	}
	if got := e.login(t, fields[3], fields[4], fields[2]); got != "alice" {
		t.Errorf("current_user %q", got)
	}
	if psql, err := exec.LookPath("psql"); err == nil {
		pgpass := filepath.Join(t.TempDir(), "pgpass")
		if err := os.WriteFile(pgpass, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(psql, "-X", "-At", "-c", "select current_user", "host="+e.host+" port="+strconv.Itoa(e.port)+" dbname="+e.db+" user="+fields[3]+" sslmode=disable")
		cmd.Env = []string{"PGPASSFILE=" + pgpass, "PATH=" + os.Getenv("PATH")}
		if b, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "alice" {
			t.Errorf("psql with the .pgpass line: %v %s", err, b)
		}
	}

	// Errors.
	if _, _, err := runCLI(t, e.deps(), "", "creds", "--profile", "cli", "--db-user", "alice"); err == nil || !strings.Contains(err.Error(), "--cluster-id") {
		t.Errorf("no cluster id: %v", err)
	}
	if _, _, err := runCLI(t, e.deps(), "", "creds", "--profile", "cli", "--cluster-id", "dev"); err == nil || !strings.Contains(err.Error(), "--db-user") {
		t.Errorf("no db user: %v", err)
	}
	if _, _, err := runCLI(t, e.deps(), "", append(base, "--format", "yaml")...); err == nil {
		t.Error("--format yaml accepted")
	}
}

// splitPgpass splits a .pgpass line on unescaped colons and unescapes.
func splitPgpass(line string) []string {
	var (
		out []string
		cur strings.Builder
	)
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case line[i] == ':':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(out, cur.String())
}

func TestQuotingAndEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"IAMA:alice:x1": "IAMA:alice:x1", "5432": "5432", "": "''", "a b": "'a b'",
		`p'w$"x\y` + "`z": `'p'\''w$"x\y` + "`z'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("sh read %s as %q (%v)", shellQuote(in), out, err)
		}
	}
	if got := pgpassEscape(`a:b\c`); got != `a\:b\\c` {
		t.Errorf("pgpassEscape = %s", got)
	}
	if got := splitPgpass(pgpassEscape(`a:b\c`) + ":" + pgpassEscape(`:`)); len(got) != 2 || got[0] != `a:b\c` || got[1] != ":" {
		t.Errorf("round trip %q", got)
	}
	for in, want := range map[string]int32{"900": 900, "15m": 900, "1h": 3600, "3600s": 3600} {
		if got, err := parseSeconds(in); err != nil || got != want {
			t.Errorf("parseSeconds(%s) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-5", "1.5s", "abc", "13h"} {
		if _, err := parseSeconds(in); err == nil {
			t.Errorf("parseSeconds(%s) accepted", in)
		}
	}
	for _, tc := range []struct {
		f    credsFlags
		env  string
		host string
		want string
	}{
		{credsFlags{}, "", "127.0.0.1", "prefer"},
		{credsFlags{}, "", "db.example.com", "require"},
		{credsFlags{sslRootCert: "/ca.pem"}, "", "db.example.com", "verify-full"},
		{credsFlags{}, "verify-ca", "db.example.com", "verify-ca"},
		{credsFlags{sslMode: "disable"}, "verify-ca", "db.example.com", "disable"},
	} {
		if got := sslModeFor(&tc.f, tc.host, func(string) string { return tc.env }); got != tc.want {
			t.Errorf("sslModeFor(%+v, %s, env %s) = %s, want %s", tc.f, tc.host, tc.env, got, tc.want)
		}
	}
}

// TestConnectPsql: dbiam connect runs psql with the credentials in its
// environment; the test drives psql through its stdin.
func TestConnectPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("psql not found (CI=true)")
		}
		t.Skip("psql not found")
	}
	e := newCLIEnv(t)
	var (
		gotPath       string
		gotArgv, gotE []string
		psqlOut       []byte
	)
	deps := e.deps()
	deps.environ = func() []string {
		return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PGPASSWORD=stale", "PGUSER=someone-else",
			"DBIAM_IDP_PASSWORD=idp-secret", "LANG=C"}
	}
	deps.exec = func(path string, argv, env []string) error {
		gotPath, gotArgv, gotE = path, argv, env
		cmd := exec.Command(path, argv[1:]...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader("SELECT current_user;\n\\q\n")
		var err error
		psqlOut, err = cmd.CombinedOutput()
		return err
	}
	_, _, err = runCLI(t, deps, "", "connect", "--profile", "cli", "--cluster-id", "dev", "--db-user", "alice", "--auto-create",
		"--db-name", e.db, "--", "-X", "-v", "ON_ERROR_STOP=1")
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, psqlOut)
	}
	if !strings.Contains(string(psqlOut), "current_user") || !strings.Contains(string(psqlOut), " alice\n") {
		t.Errorf("psql printed:\n%s", psqlOut)
	}
	if gotPath != psql || strings.Join(gotArgv, " ") != "psql -X -v ON_ERROR_STOP=1" {
		t.Errorf("exec %s %q", gotPath, gotArgv)
	}
	env := map[string]string{}
	for _, kv := range gotE {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := env[k]; dup {
			t.Errorf("%s set twice", k)
		}
		env[k] = v
	}
	password := env["PGPASSWORD"]
	if password == "" || password == "stale" || !strings.HasPrefix(env["PGUSER"], "IAMA:alice") || env["PGHOST"] != e.host ||
		env["PGPORT"] != strconv.Itoa(e.port) || env["PGDATABASE"] != e.db || env["PGSSLMODE"] != "prefer" {
		t.Errorf("psql environment %v", env)
	}
	if _, ok := env["DBIAM_IDP_PASSWORD"]; ok {
		t.Error("psql inherited DBIAM_IDP_PASSWORD")
	}
	for _, a := range gotArgv {
		if strings.Contains(a, password) {
			t.Errorf("the password is on psql's command line: %q", gotArgv)
		}
	}
	if strings.Contains(e.srv.Logs(), password) {
		t.Error("the password reached the server log")
	}
}

func TestConnectWithoutPsql(t *testing.T) {
	deps := defaultCredsDeps()
	deps.lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	deps.exec = func(string, []string, []string) error { t.Error("exec called"); return nil }
	_, _, err := runCLI(t, deps, "", "connect", "--cluster-id", "dev", "--db-user", "alice")
	if err == nil || !strings.Contains(err.Error(), "postgresql-client") || !strings.Contains(err.Error(), "--psql") {
		t.Errorf("err = %v", err)
	}
	_, _, err = runCLI(t, deps, "", "connect", "--psql", filepath.Join(t.TempDir(), "nope"), "--cluster-id", "dev", "--db-user", "alice")
	if err == nil || !strings.Contains(err.Error(), "postgresql-client") {
		t.Errorf("--psql missing file: %v", err)
	}
}

// TestCredsSAMLForm: no AWS credentials at all; saml-form against the
// development IdP; DbUser from the SAML attribute, or --db-user.
func TestCredsSAMLForm(t *testing.T) {
	e := newCLIEnv(t)
	e.getenvValues[envIdPPassword] = cliCarolPassword
	args := []string{"creds", "--profile", "sso", "--endpoint-url", e.srv.URL(), "--cluster-id", "dev", "--db-name", e.db,
		"--plugin", "saml-form", "--idp-url", e.idpURL + "/login", "--user", "carol"}
	out, stderr, err := runCLI(t, e.deps(), "", args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var c dbCredentials
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.DbUser, "IAMA:carol_db") { // AutoCreate=true from the attribute
		t.Fatalf("DbUser %s", c.DbUser)
	}
	if got := e.login(t, c.DbUser, c.DbPassword, c.Database); got != "carol_db" {
		t.Errorf("current_user %q", got)
	}
	// --db-user wins over the attribute (no AllowDbUserOverride); the
	// attribute's AutoCreate=true still applies, unless --auto-create=false.
	out, _, err = runCLI(t, e.deps(), "", append(args, "--db-user", "carol_other")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || !strings.HasPrefix(c.DbUser, "IAMA:carol_other") {
		t.Errorf("with --db-user: %s, %v", c.DbUser, err)
	}
	out, _, err = runCLI(t, e.deps(), "", append(args, "--db-user", "carol_other", "--auto-create=false")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || !strings.HasPrefix(c.DbUser, "IAM:carol_other") {
		t.Errorf("with --auto-create=false: %s, %v", c.DbUser, err)
	}

	// The password from the prompt when the variable is not set.
	delete(e.getenvValues, envIdPPassword)
	deps := e.deps()
	var prompted string
	deps.promptPassword = func(p string) (string, error) { prompted = p; return cliCarolPassword, nil }
	if _, _, err := runCLI(t, deps, "", args...); err != nil || !strings.Contains(prompted, "carol") {
		t.Errorf("prompt %q: %v", prompted, err)
	}
	// No variable, no terminal: a clear error.
	if _, _, err := runCLI(t, e.deps(), "", args...); err == nil || !strings.Contains(err.Error(), "no terminal") {
		t.Errorf("no password: %v", err)
	}
	// A wrong password.
	e.getenvValues[envIdPPassword] = "wrong"
	_, _, err = runCLI(t, e.deps(), "", args...)
	if !errors.Is(err, samlauth.ErrLoginFailed) {
		t.Errorf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), cliCarolPassword) || strings.Contains(e.srv.Logs(), cliCarolPassword) {
		t.Error("the IdP password leaked")
	}
}

func TestCredsSAMLAssertionFromStdin(t *testing.T) {
	e := newCLIEnv(t)
	resp, err := e.idp.Response("carol", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, e.deps(), resp+"\n", "creds", "--profile", "sso", "--endpoint-url", e.srv.URL(), "--cluster-id", "dev",
		"--plugin", "saml-assertion", "--saml-assertion-file", "-", "--format", "env")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "PGUSER=IAMA:carol_db:") {
		t.Errorf("output %q", out)
	}
}

// TestCredsSAMLBrowserChromium: `dbiam creds --plugin saml-browser` with
// a real headless Chromium completing the development IdP's login form.
func TestCredsSAMLBrowserChromium(t *testing.T) {
	path := browsertest.DefaultPath
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no chromium at %s (CI=true)", path)
		}
		t.Skipf("no chromium at %s", path)
	}
	e := newCLIEnv(t)
	chrome := &browsertest.Chromium{Path: path, Fields: []browsertest.Field{{Selector: "#username", Value: "carol"}, {Selector: "#password", Value: cliCarolPassword}}}
	done := make(chan error, 1)
	deps := e.deps()
	deps.openBrowser = func(u string) error {
		err := chrome.OpenBrowser(u)
		done <- err
		return err
	}
	out, stderr, err := runCLI(t, deps, "", "creds", "--profile", "sso", "--endpoint-url", e.srv.URL(), "--cluster-id", "dev", "--db-name", e.db,
		"--plugin", "saml-browser", "--idp-url", e.idpURL+"/login", "--listen", "127.0.0.1:0", "--login-timeout", "90s")
	if err != nil {
		t.Fatalf("%v\n%s\nvisited %v", err, stderr, chrome.Visited())
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "Opening the browser") {
		t.Errorf("stderr %q", stderr)
	}
	var c dbCredentials
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if got := e.login(t, c.DbUser, c.DbPassword, c.Database); got != "carol_db" {
		t.Errorf("current_user %q", got)
	}
	if !strings.Contains(chrome.Text(), "You may close this window") {
		t.Errorf("the browser ended on %q (visited %v)", chrome.Text(), chrome.Visited())
	}
}
