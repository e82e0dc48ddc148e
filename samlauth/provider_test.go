package samlauth_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/samlauth"
)

func TestAssertionPluginCachesUntilExpiryWindow(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	sts := newFakeSTS(t, now.Add(time.Hour))
	resp := samlauth.BuildResponse("saml2",
		samlauth.Attr{Name: samlauth.AttrRole, Values: []string{samlauth.TestProvider + "," + samlauth.TestRole1}},
		samlauth.Attr{Name: samlauth.AttrRoleSessionName, Values: []string{"alice"}},
		samlauth.Attr{Name: samlauth.AttrDbUser, Values: []string{"alice_db"}})
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginAssertion, Assertion: resp, DurationSeconds: 1800,
		STSEndpointURL: sts.srv.URL, Now: func() time.Time { return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c, err := p.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIAFAKE0001" || c.SecretAccessKey != "secret1" || c.SessionToken != "token1" || !c.CanExpire || !c.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("credentials %+v", c)
	}
	calls := sts.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d STS calls", len(calls))
	}
	got := calls[0]
	if got.Get("Action") != "AssumeRoleWithSAML" || got.Get("RoleArn") != samlauth.TestRole1 || got.Get("PrincipalArn") != samlauth.TestProvider ||
		got.Get("SAMLAssertion") != resp || got.Get("DurationSeconds") != "1800" {
		t.Errorf("STS request %v", got)
	}

	// Cached: more calls and Attributes do not reach STS.
	for range 5 {
		if c2, err := p.Retrieve(ctx); err != nil || c2 != c {
			t.Fatalf("cached Retrieve: %v", err)
		}
	}
	attrs, err := p.Attributes(ctx)
	if err != nil || attrs.DbUser != "alice_db" || attrs.RoleSessionName != "alice" {
		t.Fatalf("Attributes %+v, %v", attrs, err)
	}
	if p.Role() != (samlauth.RolePair{RoleARN: samlauth.TestRole1, ProviderARN: samlauth.TestProvider}) {
		t.Errorf("Role %v", p.Role())
	}
	clock = now.Add(time.Hour - samlauth.ExpiryWindow - time.Second)
	if _, err := p.Retrieve(ctx); err != nil || len(sts.Calls()) != 1 {
		t.Fatalf("just before the window: %d calls, %v", len(sts.Calls()), err)
	}
	// Within ExpiryWindow of the expiry: a new login.
	clock = now.Add(time.Hour - samlauth.ExpiryWindow)
	c3, err := p.Retrieve(ctx)
	if err != nil || len(sts.Calls()) != 2 || c3.AccessKeyID != "ASIAFAKE0002" {
		t.Fatalf("in the window: %d calls, %v, %v", len(sts.Calls()), c3.AccessKeyID, err)
	}
	// Invalidate forces one.
	p.Invalidate()
	if _, err := p.Retrieve(ctx); err != nil || len(sts.Calls()) != 3 {
		t.Fatalf("after Invalidate: %d calls, %v", len(sts.Calls()), err)
	}
}

func TestAssertionPluginConcurrentRetrieveLogsInOnce(t *testing.T) {
	sts := newFakeSTS(t, time.Now().Add(time.Hour))
	resp := samlauth.BuildResponse("", samlauth.Attr{Name: samlauth.AttrRole, Values: []string{samlauth.TestRole1 + "," + samlauth.TestProvider}})
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{Plugin: samlauth.PluginAssertion, Assertion: resp, STSEndpointURL: sts.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := p.Retrieve(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(sts.Calls()); n != 1 {
		t.Errorf("%d STS calls, want 1", n)
	}
}

func TestAssertionPluginErrors(t *testing.T) {
	sts := newFakeSTS(t, time.Now().Add(time.Hour))
	two := samlauth.BuildResponse("saml2", samlauth.Attr{Name: samlauth.AttrRole, Values: []string{
		samlauth.TestRole1 + "," + samlauth.TestProvider, samlauth.TestRole2 + "," + samlauth.TestProvider}})
	newP := func(cfg samlauth.Config) *samlauth.Provider {
		t.Helper()
		cfg.Plugin, cfg.STSEndpointURL = samlauth.PluginAssertion, sts.srv.URL
		p, err := samlauth.NewCredentialsProvider(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, err := newP(samlauth.Config{Assertion: two}).Retrieve(t.Context())
	if !errors.Is(err, samlauth.ErrSeveralRoles) || !strings.Contains(err.Error(), samlauth.TestRole2) {
		t.Errorf("several roles: %v", err)
	}
	_, err = newP(samlauth.Config{Assertion: two, PreferredRole: "arn:aws:iam::123456789012:role/Nope"}).Retrieve(t.Context())
	if !errors.Is(err, samlauth.ErrPreferredRoleNotFound) {
		t.Errorf("preferred not found: %v", err)
	}
	_, err = newP(samlauth.Config{Assertion: samlauth.BuildResponse("")}).Retrieve(t.Context())
	if !errors.Is(err, samlauth.ErrNoRole) {
		t.Errorf("no role: %v", err)
	}
	if n := len(sts.Calls()); n != 0 {
		t.Fatalf("%d STS calls for refused responses", n)
	}
	p := newP(samlauth.Config{Assertion: two, PreferredRole: samlauth.TestRole2})
	if _, err := p.Retrieve(t.Context()); err != nil || sts.Calls()[0].Get("RoleArn") != samlauth.TestRole2 {
		t.Fatalf("preferred role: %v", err)
	}
	if sts.Calls()[0].Has("DurationSeconds") {
		t.Error("DurationSeconds sent though not configured")
	}

	sts.fail = "InvalidIdentityToken"
	_, err = newP(samlauth.Config{Assertion: two, PreferredRole: samlauth.TestRole1}).Retrieve(t.Context())
	var ae smithy.APIError
	if !errors.Is(err, samlauth.ErrAssumeRole) || !errors.As(err, &ae) || ae.ErrorCode() != "InvalidIdentityToken" {
		t.Errorf("STS error: %v", err)
	}
	noSecrets(t, "the error", err.Error(), two[:40])
}

func TestFormPluginDevIdP(t *testing.T) {
	idp, idpURL := startIdP(t, idpUsers())
	for _, path := range []string{"/login", "/api/saml-response"} {
		t.Run(path, func(t *testing.T) {
			sts := newFakeSTS(t, time.Now().Add(time.Hour))
			newP := func(user, pw, preferred string) *samlauth.Provider {
				p, err := samlauth.NewCredentialsProvider(samlauth.Config{
					Plugin: samlauth.PluginForm, IdPURL: idpURL + path, Username: user, Password: pw,
					PreferredRole: preferred, STSEndpointURL: sts.srv.URL,
				})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			p := newP("carol", carolPassword, "")
			if _, err := p.Retrieve(t.Context()); err != nil {
				t.Fatal(err)
			}
			a, err := p.Attributes(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if a.DbUser != "carol_db" || a.RoleSessionName != "carol" || len(a.DbGroups) != 1 || a.DbGroups[0] != "Analysts" ||
				a.AutoCreate == nil || !*a.AutoCreate || len(a.Roles) != 1 || a.Roles[0].RoleARN != roleARN || a.Roles[0].ProviderARN != idp.ProviderARN() {
				t.Errorf("attributes %+v", a)
			}
			if c := sts.Calls(); len(c) != 1 || c[0].Get("RoleArn") != roleARN || c[0].Get("PrincipalArn") != providerARN {
				t.Errorf("STS calls %v", c)
			}

			_, err = newP("carol", "wrong-password", "").Retrieve(t.Context())
			if !errors.Is(err, samlauth.ErrLoginFailed) {
				t.Errorf("wrong password: %v", err)
			}
			_, err = newP("nobody", "wrong-password", "").Retrieve(t.Context())
			if !errors.Is(err, samlauth.ErrLoginFailed) {
				t.Errorf("unknown user: %v", err)
			}
			_, err = newP("dave", davePassword, "").Retrieve(t.Context())
			if !errors.Is(err, samlauth.ErrSeveralRoles) || !strings.Contains(err.Error(), roleARN) || !strings.Contains(err.Error(), adminRoleARN) {
				t.Errorf("dave without a preferred role: %v", err)
			}
			if _, err := newP("dave", davePassword, adminRoleARN).Retrieve(t.Context()); err != nil {
				t.Errorf("dave with a preferred role: %v", err)
			}
			if c := sts.Calls(); len(c) != 2 || c[1].Get("RoleArn") != adminRoleARN {
				t.Errorf("STS calls %v", c)
			}
			noSecrets(t, "an error", err.Error(), carolPassword, davePassword)
		})
	}
}

// genericIdP is an AD FS-like IdP: GET sets a session cookie and serves a
// form with a CSRF token; POST checks cookie, token and password, then
// redirects (303) to a page that auto-posts the SAMLResponse to AWS.
type genericIdP struct {
	resp  string
	posts atomic.Int32
}

func (g *genericIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/adfs/ls/IdpInitiatedSignOn.aspx":
		http.SetCookie(w, &http.Cookie{Name: "MSISSession", Value: "s3ss10n", Path: "/"})
		io.WriteString(w, `<html><body><form method="post" id="loginForm" action="/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices">
<input id="userNameInput" name="UserName" type="email" value="">
<input id="passwordInput" name="Password" type="password">
<input type="hidden" name="csrf" value="tok&amp;en">
<input type="hidden" name="AuthMethod" value="FormsAuthentication">
<span id="submitButton" role="button">Sign in</span>
</form></body></html>`)
	case r.Method == http.MethodPost && r.URL.Path == "/adfs/ls/IdpInitiatedSignOn.aspx":
		g.posts.Add(1)
		c, err := r.Cookie("MSISSession")
		if err != nil || c.Value != "s3ss10n" || r.ParseForm() != nil || r.PostForm.Get("csrf") != "tok&en" ||
			r.URL.Query().Get("loginToRp") != "urn:amazon:webservices" || r.PostForm.Get("AuthMethod") != "FormsAuthentication" {
			http.Error(w, "bad session", 400)
			return
		}
		if r.PostForm.Get("UserName") != "alice@example.com" || r.PostForm.Get("Password") != "adfs-Passw0rd" {
			w.WriteHeader(http.StatusOK) // AD FS shows the form again with an error
			io.WriteString(w, `<form method="post"><p>Incorrect user ID or password.</p><input name="UserName"><input name="Password" type="password"></form>`)
			return
		}
		http.Redirect(w, r, "/adfs/ls/done", http.StatusSeeOther)
	case r.Method == http.MethodGet && r.URL.Path == "/adfs/ls/done":
		io.WriteString(w, `<html><body onload="document.forms[0].submit()"><form method="POST" name="hiddenform" action="https://signin.aws.amazon.com:443/saml">
<input type="hidden" name="SAMLResponse" value="`+g.resp+`" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form></body></html>`)
	default:
		http.NotFound(w, r)
	}
}

func TestFormPluginGenericHTMLForm(t *testing.T) {
	resp := samlauth.BuildResponse("", samlauth.Attr{Name: samlauth.AttrRole, Values: []string{samlauth.TestRole1 + "," + samlauth.TestProvider}},
		samlauth.Attr{Name: samlauth.AttrRoleSessionName, Values: []string{"alice@example.com"}})
	g := &genericIdP{resp: resp}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	sts := newFakeSTS(t, time.Now().Add(time.Hour))
	newP := func(pw string) *samlauth.Provider {
		p, err := samlauth.NewCredentialsProvider(samlauth.Config{
			Plugin: samlauth.PluginForm, IdPURL: srv.URL + "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices",
			Username: "alice@example.com", Password: pw, STSEndpointURL: sts.srv.URL,
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := newP("adfs-Passw0rd").Retrieve(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c := sts.Calls(); len(c) != 1 || c[0].Get("SAMLAssertion") != resp {
		t.Fatalf("STS calls: %d", len(c))
	}
	_, err := newP("wrong").Retrieve(t.Context())
	if !errors.Is(err, samlauth.ErrLoginFailed) {
		t.Errorf("wrong password: %v", err)
	}
	if g.posts.Load() != 2 {
		t.Errorf("%d posts", g.posts.Load())
	}

	// A page without a login form.
	p, _ := samlauth.NewCredentialsProvider(samlauth.Config{Plugin: samlauth.PluginForm, IdPURL: srv.URL + "/adfs/ls/done-not", Username: "u", Password: "p"})
	if _, err := p.Retrieve(t.Context()); !errors.Is(err, samlauth.ErrNoSAMLResponse) {
		t.Errorf("no form: %v", err)
	}
}

func TestFormPluginRefusesRedirectToPlainHTTP(t *testing.T) {
	// An https IdP (httptest TLS) that redirects the login POST with 307 to
	// a plain-http host would resend the password: refused.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://idp.example.com/steal", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginForm, IdPURL: srv.URL + "/api/saml-response", Username: "u", Password: "p", HTTPClient: srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Retrieve(t.Context())
	if err == nil || !strings.Contains(err.Error(), "redirect refused") {
		t.Errorf("err = %v", err)
	}
}

// postingBrowser is an OpenBrowser that does what a browser would after
// the user signs in: post a SAMLResponse to the acs URL. It first checks
// that the listener refuses a GET and a POST without a response.
func postingBrowser(t *testing.T, resp string, page chan<- string) func(string) error {
	return func(u string) error {
		parsed, err := url.Parse(u)
		if err != nil {
			return err
		}
		acs := parsed.Query().Get("acs")
		if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/saml$`).MatchString(acs) {
			t.Errorf("acs %q", acs)
		}
		if r, err := http.Get(acs); err != nil || r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET acs: %v %v", r, err)
		} else {
			r.Body.Close()
		}
		if r, err := http.PostForm(acs, url.Values{"RelayState": {"x"}}); err != nil || r.StatusCode != http.StatusBadRequest {
			t.Errorf("POST without SAMLResponse: %v %v", r, err)
		} else {
			r.Body.Close()
		}
		if r, err := http.PostForm(acs, url.Values{"SAMLResponse": {"bm90IGEgcmVzcG9uc2U="}}); err != nil || r.StatusCode != http.StatusBadRequest {
			t.Errorf("POST with junk: %v %v", r, err)
		} else {
			r.Body.Close()
		}
		r, err := http.PostForm(acs, url.Values{"SAMLResponse": {resp}})
		if err != nil {
			return err
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		page <- string(b)
		return nil
	}
}

func TestBrowserPluginReceivesOnePost(t *testing.T) {
	sts := newFakeSTS(t, time.Now().Add(time.Hour))
	resp := samlauth.BuildResponse("saml2", samlauth.Attr{Name: samlauth.AttrRole, Values: []string{samlauth.TestRole1 + "," + samlauth.TestProvider}},
		samlauth.Attr{Name: samlauth.AttrDbUser, Values: []string{"eve"}})
	pages := make(chan string, 1)
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginBrowser, IdPURL: "https://idp.example.com/sso?app=aws", ListenAddr: "127.0.0.1:0",
		OpenBrowser: postingBrowser(t, resp, pages), STSEndpointURL: sts.srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Retrieve(t.Context()); err != nil {
		t.Fatal(err)
	}
	if page := <-pages; !strings.Contains(page, "You may close this window") {
		t.Errorf("page %q", page)
	}
	if a, _ := p.Attributes(t.Context()); a.DbUser != "eve" {
		t.Errorf("attributes %+v", a)
	}
	if c := sts.Calls(); len(c) != 1 || c[0].Get("SAMLAssertion") != resp {
		t.Errorf("STS calls %d", len(c))
	}
}

// TestBrowserPluginDevIdPWithoutBrowser walks the development IdP's
// ?acs= flow with an HTTP client standing in for the browser: GET the
// login page, POST the form, then post the auto-submitting form's
// SAMLResponse to the listener.
func TestBrowserPluginDevIdPWithoutBrowser(t *testing.T) {
	_, idpURL := startIdP(t, idpUsers())
	sts := newFakeSTS(t, time.Now().Add(time.Hour))
	open := func(u string) error {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		parsed, _ := url.Parse(u)
		acs := parsed.Query().Get("acs")
		r, err := c.Get(u)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if !strings.Contains(string(b), `name="acs" value="`+acs+`"`) {
			t.Errorf("the login page does not carry acs")
		}
		r, err = c.PostForm(idpURL+"/login", url.Values{"username": {"carol"}, "password": {carolPassword}, "acs": {acs}})
		if err != nil {
			return err
		}
		b, _ = io.ReadAll(r.Body)
		r.Body.Close()
		m := regexp.MustCompile(`<form method="post" action="([^"]+)" id="saml">\s*<input type="hidden" name="SAMLResponse" value="([^"]+)">`).FindStringSubmatch(string(b))
		if m == nil {
			return fmt.Errorf("no auto-post form in %q", b)
		}
		r, err = c.PostForm(strings.ReplaceAll(m[1], "&#43;", "+"), url.Values{"SAMLResponse": {strings.ReplaceAll(m[2], "&#43;", "+")}})
		if err != nil {
			return err
		}
		r.Body.Close()
		return nil
	}
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginBrowser, IdPURL: idpURL + "/login", ListenAddr: "127.0.0.1:0", OpenBrowser: open, STSEndpointURL: sts.srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Retrieve(t.Context()); err != nil {
		t.Fatal(err)
	}
	if a, _ := p.Attributes(t.Context()); a.DbUser != "carol_db" {
		t.Errorf("attributes %+v", a)
	}
}

func TestBrowserPluginTimeout(t *testing.T) {
	// Hold a port to check that the listener is released after the timeout.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	opened := make(chan string, 1)
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginBrowser, IdPURL: "https://idp.example.com/sso", ListenAddr: addr, Timeout: 300 * time.Millisecond,
		OpenBrowser: func(u string) error { opened <- u; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Retrieve(t.Context())
	if !errors.Is(err, samlauth.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	if u := <-opened; u != "https://idp.example.com/sso?acs=http%3A%2F%2F"+strings.ReplaceAll(addr, ":", "%3A")+"%2Fsaml" {
		t.Errorf("opened %s", u)
	}
	if !strings.Contains(err.Error(), "https://idp.example.com/sso?acs=") {
		t.Errorf("the error does not say where to sign in: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the listener was not released: %v", err)
	}
	ln.Close()

	// A browser that cannot be opened fails at once.
	p, _ = samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginBrowser, IdPURL: "https://idp.example.com/sso", ListenAddr: "127.0.0.1:0",
		OpenBrowser: func(string) error { return errors.New("no display") },
	})
	if _, err := p.Retrieve(t.Context()); err == nil || !strings.Contains(err.Error(), "no display") {
		t.Errorf("open failure: %v", err)
	}
}

var _ aws.CredentialsProvider = (*samlauth.Provider)(nil)
