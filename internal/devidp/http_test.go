package devidp_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/devidp"
)

func (f *fixture) server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f.idp.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func postForm(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirect.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var (
	textareaRe = regexp.MustCompile(`(?s)<textarea[^>]*>([^<]+)</textarea>`)
	hiddenRe   = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)
	preRe      = regexp.MustCompile(`(?s)<pre>([^<]+)</pre>`)
)

func TestMetadataEndpoint(t *testing.T) {
	f := newIdP(t)
	srv := f.server(t)
	resp, body := get(t, srv.URL+"/metadata")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("GET /metadata: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if body != string(f.idp.Metadata()) {
		t.Error("GET /metadata differs from Metadata()")
	}
	if resp, _ := get(t, srv.URL+"/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login" {
		t.Errorf("GET /: %s to %s", resp.Status, resp.Header.Get("Location"))
	}
}

func TestLoginPage(t *testing.T) {
	f := newIdP(t)
	srv := f.server(t)

	resp, body := get(t, srv.URL+"/login?role=RedshiftSSO")
	if resp.StatusCode != 200 || !strings.Contains(body, `name="password"`) || !strings.Contains(body, `value="RedshiftSSO"`) {
		t.Fatalf("GET /login: %s\n%s", resp.Status, body)
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", resp.Header)
	}

	resp, body = postForm(t, srv.URL+"/login", url.Values{"username": {"alice"}, "password": {alicePassword}, "role": {"RedshiftSSO"}})
	if resp.StatusCode != 200 {
		t.Fatalf("POST /login: %s\n%s", resp.Status, body)
	}
	m := textareaRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no SAMLResponse on the page:\n%s", body)
	}
	samlResp := html.UnescapeString(strings.TrimSpace(m[1]))
	cmds := preRe.FindAllStringSubmatch(body, -1)
	if len(cmds) != 1 {
		t.Fatalf("%d commands on the page, want 1", len(cmds))
	}
	wantCmd := "aws sts assume-role-with-saml --role-arn " + testRoleARN + " --principal-arn " + testProviderARN + " --saml-assertion " + samlResp
	if got := html.UnescapeString(cmds[0][1]); got != wantCmd {
		t.Errorf("command = %q\nwant %q", got, wantCmd)
	}
	a := f.validate(t, samlResp)
	if len(a.Roles) != 1 || a.Roles[0].RoleARN != testRoleARN {
		t.Errorf("roles = %v", a.Roles)
	}
	if strings.Contains(f.logs.String(), samlResp[:64]) {
		t.Error("the SAML response reached the log")
	}
	if !strings.Contains(f.logs.String(), "SAML response issued") {
		t.Errorf("log: %s", f.logs.String())
	}

	// Without a role: one command per role.
	_, body = postForm(t, srv.URL+"/login", url.Values{"username": {"alice"}, "password": {alicePassword}})
	if n := len(preRe.FindAllString(body, -1)); n != 2 {
		t.Errorf("%d commands for two roles", n)
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	f := newIdP(t)
	srv := f.server(t)
	cases := []struct {
		name string
		form url.Values
	}{
		{"wrong password", url.Values{"username": {"alice"}, "password": {bobPassword}}},
		{"unknown user", url.Values{"username": {alicePassword}, "password": {alicePassword}}},
		{"empty password", url.Values{"username": {"alice"}, "password": {""}}},
		{"no fields", url.Values{}},
		{"password as a query parameter only", nil},
	}
	var pageBodies, apiBodies []string
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/login", "/api/saml-response"} {
				u := srv.URL + path
				form := tt.form
				if form == nil {
					u += "?username=alice&password=" + url.QueryEscape(alicePassword)
					form = url.Values{}
				}
				resp, body := postForm(t, u, form)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("POST %s: %s, want 401", path, resp.Status)
				}
				if strings.Contains(body, "SAMLResponse\"") || strings.Contains(body, "<textarea") {
					t.Fatalf("POST %s: a response in a refusal", path)
				}
				if path == "/login" {
					if !strings.Contains(body, "Invalid username or password.") {
						t.Fatalf("page: %s", body)
					}
					pageBodies = append(pageBodies, body)
				} else {
					if body != `{"Error":"Invalid username or password."}`+"\n" {
						t.Fatalf("API: %s", body)
					}
					apiBodies = append(apiBodies, body)
				}
			}
		})
	}
	// One answer whatever was wrong.
	for _, bodies := range [][]string{pageBodies, apiBodies} {
		for _, b := range bodies {
			if b != bodies[0] {
				t.Errorf("refusals differ:\n%s\n---\n%s", b, bodies[0])
			}
		}
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "login refused") || !strings.Contains(logs, "user=alice") || !strings.Contains(logs, "(unknown user)") {
		t.Errorf("log: %s", logs)
	}
	// The fixture's cleanup checks that no password (alicePassword was also
	// typed as a username) reached the log.
}

func TestAPI(t *testing.T) {
	f := newIdP(t)
	srv := f.server(t)
	for _, tt := range []struct {
		name, user, pw, role string
		roles                []string
	}{
		{"every role", "alice", alicePassword, "", []string{testRoleARN + "," + testProviderARN, "arn:aws:iam::123456789012:role/team/Admin," + testProviderARN}},
		{"one role by ARN", "bob", bobPassword, testRoleARN, []string{testRoleARN + "," + testProviderARN}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postForm(t, srv.URL+"/api/saml-response", url.Values{"username": {tt.user}, "password": {tt.pw}, "role": {tt.role}})
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s %v: %s", resp.Status, resp.Header, body)
			}
			var out struct {
				SAMLResponse string
				Roles        []string
			}
			dec := json.NewDecoder(strings.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&out); err != nil {
				t.Fatal(err)
			}
			if strings.Join(out.Roles, " ") != strings.Join(tt.roles, " ") {
				t.Errorf("Roles = %v, want %v", out.Roles, tt.roles)
			}
			a := f.validate(t, out.SAMLResponse)
			if len(a.Roles) != len(tt.roles) {
				t.Errorf("assertion roles %v", a.Roles)
			}
		})
	}
}

func TestAPIBadRequests(t *testing.T) {
	f := newIdP(t)
	srv := f.server(t)
	u := srv.URL + "/api/saml-response"
	post := func(ct string, body io.Reader) (*http.Response, string) {
		resp, err := http.Post(u, ct, body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, tt := range []struct {
		name   string
		do     func() (*http.Response, string)
		status int
		want   string
	}{
		{"JSON body", func() (*http.Response, string) {
			return post("application/json", strings.NewReader(`{"username":"alice"}`))
		}, 400, "application/x-www-form-urlencoded"},
		{"body over the limit", func() (*http.Response, string) {
			return post("application/x-www-form-urlencoded", bytes.NewReader(append([]byte("username=alice&password="), bytes.Repeat([]byte("x"), devidp.MaxFormBytes)...)))
		}, 400, "at most 16 KiB"},
		{"unknown role", func() (*http.Response, string) {
			return postForm(t, u, url.Values{"username": {"alice"}, "password": {alicePassword}, "role": {"Builder"}})
		}, 400, "no such role"},
		{"GET", func() (*http.Response, string) { return get(t, u) }, 405, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.do()
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%s %q, want %d %q", resp.Status, body, tt.status, tt.want)
			}
		})
	}
}

func TestLoopbackACS(t *testing.T) {
	f := newIdP(t)
	srv := f.server(t)
	for _, acs := range []string{
		"http://127.0.0.1:7890/redshift/",
		"http://localhost:7890/redshift/",
		"http://[::1]:7890/",
		"https://127.0.0.2/saml",
	} {
		t.Run("accepted "+acs, func(t *testing.T) {
			resp, body := get(t, srv.URL+"/login?acs="+url.QueryEscape(acs))
			if resp.StatusCode != 200 || !strings.Contains(body, `name="acs" value="`) {
				t.Fatalf("GET /login: %s", resp.Status)
			}
			resp, body = postForm(t, srv.URL+"/login", url.Values{"username": {"alice"}, "password": {alicePassword}, "acs": {acs}})
			if resp.StatusCode != 200 {
				t.Fatalf("POST /login: %s %s", resp.Status, body)
			}
			if !strings.Contains(body, `action="`+html.EscapeString(acs)+`"`) && !strings.Contains(body, `action="`+acs+`"`) {
				t.Fatalf("the form does not post to %s:\n%s", acs, body)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(body, `<script nonce="`) {
				t.Errorf("CSP %q", csp)
			}
			m := hiddenRe.FindStringSubmatch(body)
			if m == nil {
				t.Fatal("no SAMLResponse field")
			}
			// The Recipient stays AWS's, so dbiam accepts it by default.
			if a := f.validate(t, html.UnescapeString(m[1])); a.Recipient != devidp.DefaultACSURL {
				t.Errorf("Recipient = %s", a.Recipient)
			}
		})
	}
	for _, acs := range []string{
		"https://evil.example.com/saml",
		"http://10.0.0.1/saml",
		"http://127.0.0.1.evil.example/saml",
		"http://localhost.evil.example/",
		"http://user@127.0.0.1/saml",
		"http://evil.example@127.0.0.1/saml",
		"javascript:alert(1)",
		"//127.0.0.1/saml",
		"/saml",
		"ftp://127.0.0.1/",
		"http://127.0.0.1/saml#frag",
		"http://0.0.0.0/saml",
		"http://[::ffff:8.8.8.8]/",
	} {
		t.Run("refused "+acs, func(t *testing.T) {
			if resp, _ := get(t, srv.URL+"/login?acs="+url.QueryEscape(acs)); resp.StatusCode != 400 {
				t.Errorf("GET /login: %s", resp.Status)
			}
			resp, body := postForm(t, srv.URL+"/login", url.Values{"username": {"alice"}, "password": {alicePassword}, "acs": {acs}})
			if resp.StatusCode != 400 || strings.Contains(body, "SAMLResponse") {
				t.Errorf("POST /login: %s", resp.Status)
			}
		})
	}
}
