package samlauth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	carolPassword = "carol-Passw0rd-never-logged"
	davePassword  = "dave-Passw0rd-never-logged"
	roleARN       = "arn:aws:iam::" + awstest.AccountID + ":role/RedshiftSSO"
	adminRoleARN  = "arn:aws:iam::" + awstest.AccountID + ":role/Admin"
	providerARN   = "arn:aws:iam::" + awstest.AccountID + ":saml-provider/DevIdP"
)

func ptr[T any](v T) *T { return &v }

// idpUsers: carol has one role and Redshift attributes; dave has two roles.
func idpUsers() []devidp.User {
	return []devidp.User{
		{Username: "carol", Password: secret.String(carolPassword), Roles: []string{"RedshiftSSO"},
			DBUser: "carol_db", DBGroups: []string{"Analysts"}, AutoCreate: ptr(true)},
		{Username: "dave", Password: secret.String(davePassword), Roles: []string{"RedshiftSSO", "Admin"}},
	}
}

// startIdP serves the development IdP on a loopback port.
func startIdP(t *testing.T, users []devidp.User) (*devidp.IdP, string) {
	t.Helper()
	ln, err := devidp.Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	hs.Listener.Close()
	hs.Listener = ln
	idp, err := devidp.New(devidp.Config{
		BaseURL: "http://" + ln.Addr().String(), Users: users, DataDir: t.TempDir(), AccountID: awstest.AccountID,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = idp.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return idp, hs.URL
}

// fakeSTS answers AssumeRoleWithSAML like STS and counts the calls. It
// fails a request that is signed.
type fakeSTS struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []url.Values
	expires time.Time
	fail    string // error code to answer with
}

func newFakeSTS(t *testing.T, expires time.Time) *fakeSTS {
	f := &fakeSTS{t: t, expires: expires}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSTS) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	if r.Header.Get("Authorization") != "" {
		f.t.Errorf("AssumeRoleWithSAML was signed")
	}
	f.mu.Lock()
	f.calls = append(f.calls, r.PostForm)
	n, fail, exp := len(f.calls), f.fail, f.expires
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if fail != "" {
		w.WriteHeader(400)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>refused</Message></Error><RequestId>r</RequestId></ErrorResponse>`, fail)
		return
	}
	fmt.Fprintf(w, `<AssumeRoleWithSAMLResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithSAMLResult>
<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:alice</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/R/alice</Arn></AssumedRoleUser>
<Credentials><AccessKeyId>ASIAFAKE%04d</AccessKeyId><SecretAccessKey>secret%d</SecretAccessKey><SessionToken>token%d</SessionToken><Expiration>%s</Expiration></Credentials>
</AssumeRoleWithSAMLResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithSAMLResponse>`, n, n, n, exp.UTC().Format(time.RFC3339))
}

func (f *fakeSTS) Calls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.calls...)
}

// noSecrets fails the test if any secret appears in s.
func noSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s contains a secret (%.6s…)", what, sec)
		}
	}
}
