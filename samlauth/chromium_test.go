package samlauth_test

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/samlauth"
	"github.com/dbiam/dbiam/samlauth/browsertest"
)

func nowUTC() time.Time { return time.Now().UTC() }

// requireChromium skips the test when Debian's chromium is not installed,
// except in CI (CI=true), where .ci/run installs it and the test must run.
func requireChromium(t *testing.T) string {
	t.Helper()
	path := browsertest.DefaultPath
	if p := os.Getenv("DBIAM_TEST_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no chromium at %s (CI=true, so this fails instead of skipping): install it with apt-get install chromium", path)
		}
		t.Skipf("no chromium at %s, skipping the real-browser test (apt-get install chromium)", path)
	}
	return path
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBrowserPluginChromium: saml-browser with a real headless Chromium.
// The browser opens the development IdP's login page (with ?acs= pointing
// at the plugin's one-shot listener), the test types the user name and
// password into the form and clicks "Sign in", the IdP's page auto-posts
// the signed response to the listener, and the plugin trades it with
// dbiam's STS; then GetClusterCredentials and a PostgreSQL login as the
// SAML DbUser.
func TestBrowserPluginChromium(t *testing.T) {
	path := requireChromium(t)
	f := newFederation(t, e2eUsers())
	stderr := &lockedBuffer{}
	chrome := &browsertest.Chromium{
		Path: path,
		Fields: []browsertest.Field{
			{Selector: "#username", Value: "carol"},
			{Selector: "#password", Value: carolPassword},
		},
		Submit:  "button[type=submit]",
		Timeout: 90 * time.Second,
		Stderr:  stderr,
	}
	var opened string
	browserDone := make(chan error, 1)
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginBrowser, IdPURL: f.idpURL + "/login", ListenAddr: "127.0.0.1:0", Timeout: 2 * time.Minute,
		// The plugin does not wait for OpenBrowser once the response is
		// in; the test does, to check the page the browser ended on.
		OpenBrowser: func(u string) error {
			opened = u
			err := chrome.OpenBrowser(u)
			browserDone <- err
			return err
		},
		STSEndpointURL: f.srv.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Retrieve(t.Context()); err != nil {
		t.Fatalf("Retrieve: %v\nvisited: %v\nchromium stderr:\n%s", err, chrome.Visited(), stderr.String())
	}
	took := time.Since(start)
	select {
	case err := <-browserDone:
		if err != nil {
			t.Fatalf("browser: %v\nchromium stderr:\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the browser did not finish")
	}
	t.Logf("browser login took %s; pages: %v", took.Round(time.Millisecond), chrome.Visited())
	if !strings.Contains(chrome.Text(), "You may close this window") {
		t.Errorf("the browser ended on %q", chrome.Text())
	}
	if !strings.HasPrefix(opened, f.idpURL+"/login?acs=http%3A%2F%2F127.0.0.1%3A") {
		t.Errorf("opened %s", opened)
	}
	visited := chrome.Visited()
	if len(visited) < 2 || !strings.HasPrefix(visited[0], f.idpURL+"/login") || !strings.HasSuffix(visited[len(visited)-1], samlauth.ACSPath) {
		t.Errorf("pages visited: %v", visited)
	}
	f.checkFederatedLogin(t, p, "carol", "carol_db")
	noSecrets(t, "the server log", f.srv.Logs(), carolPassword)
	noSecrets(t, "chromium's stderr", stderr.String(), carolPassword)
}
