package samlauth

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// adfsPage is shaped like AD FS's IdpInitiatedSignOn form.
const adfsPage = `<!DOCTYPE html>
<html><head><title>Sign In</title>
<script>var x = "<form><input type=password name=fake></form>";</script>
<style>input[type=password]{}</style></head>
<body>
<!-- <form action="/commented"><input type="password" name="no"></form> -->
<form method="post" id="loginForm" autocomplete="off" novalidate="novalidate" action="/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&amp;client-request-id=42">
  <input id="userNameInput" name="UserName" type="email" value="" tabindex="1" class="text fullWidth" spellcheck="false" placeholder="someone@example.com" autocomplete="off"/>
  <input id="passwordInput" name="Password" type="password" tabindex="2" class="text fullWidth" placeholder="Password" autocomplete="off"/>
  <input id="kmsiInput" type="checkbox" name="Kmsi" value="true" tabindex="3"/>
  <input id="remember" type=checkbox name=Remember checked>
  <select name="Lang"><option value="en">English</option><option value="fr" selected>Français</option></select>
  <input type='hidden' name='AuthMethod' value='FormsAuthentication'/>
  <input type="hidden" name="Quoted" value="a&quot;b&amp;c">
  <input type="reset" name="Reset" value="Reset">
  <span id="submitButton" class="submit" tabindex="4" role="button">Sign in</span>
  <input type="submit" name="Submit" value="Sign in">
  <button name="Other" value="no">Other</button>
</form>
<form action="/search"><input name="q"></form>
</body></html>`

func TestScanHTMLAndFillADFS(t *testing.T) {
	page := scanHTML(adfsPage)
	if len(page.forms) != 2 {
		t.Fatalf("%d forms, want 2 (comment and script skipped)", len(page.forms))
	}
	f, ok := loginForm(page)
	if !ok {
		t.Fatal("no login form")
	}
	p := &Provider{cfg: Config{Username: "alice@example.com", Password: "pw"}}
	pageURL, _ := url.Parse("https://adfs.example.com/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices")
	action, values, err := p.fill(f, pageURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := action.String(); got != "https://adfs.example.com/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&client-request-id=42" {
		t.Errorf("action %s", got)
	}
	want := url.Values{
		"UserName": {"alice@example.com"}, "Password": {"pw"}, "AuthMethod": {"FormsAuthentication"},
		"Remember": {"on"}, "Lang": {"fr"}, "Quoted": {`a"b&c`}, "Submit": {"Sign in"},
	}
	if !reflect.DeepEqual(values, want) {
		t.Errorf("values\n got %v\nwant %v", values, want)
	}
}

func TestFillPingStyleAndFallbacks(t *testing.T) {
	ping := `<form method="POST" action="https://sso.example.com/idp/SSO.ping"><input type="text" name="pf.username" id="username">` +
		`<input type="password" name="pf.pass"><input type="hidden" name="pf.ok" value="clicked"><input type="hidden" name="pf.cancel" value=""></form>`
	p := &Provider{cfg: Config{Username: "bob", Password: "pw"}}
	base, _ := url.Parse("https://sso.example.com/idp/startSSO.ping?PartnerSpId=urn:amazon:webservices")
	f, _ := loginForm(scanHTML(ping))
	_, v, err := p.fill(f, base)
	if err != nil {
		t.Fatal(err)
	}
	if v.Get("pf.username") != "bob" || v.Get("pf.pass") != "pw" || v.Get("pf.ok") != "clicked" || !v.Has("pf.cancel") {
		t.Errorf("values %v", v)
	}

	// No hint in the names: the first text field is the user name.
	plain := `<form method=post><input name="a1" type="text"><input name="a2" type="password"></form>`
	f, _ = loginForm(scanHTML(plain))
	action, v, err := p.fill(f, base)
	if err != nil || v.Get("a1") != "bob" || action.String() != base.String() {
		t.Errorf("fallback: %v %v %v", action, v, err)
	}

	// GET forms would put the password in a URL.
	get := `<form method="get" action="/login"><input name="user"><input type="password" name="pw"></form>`
	f, _ = loginForm(scanHTML(get))
	if _, _, err := p.fill(f, base); err == nil || !strings.Contains(err.Error(), "GET") {
		t.Errorf("GET form: %v", err)
	}

	// An http action from an https page is refused.
	down := `<form method="post" action="http://sso.example.com/login"><input name="user"><input type="password" name="pw"></form>`
	f, _ = loginForm(scanHTML(down))
	if _, _, err := p.fill(f, base); err == nil {
		t.Error("an http form action on a remote host was accepted")
	}
}

func TestSAMLResponseIn(t *testing.T) {
	resp := BuildResponse("saml", Attr{AttrRoleSessionName, []string{"x"}})
	for _, tc := range []struct {
		name, page string
		ok         bool
	}{
		{"post binding", `<form method="post" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="` + resp + `"><input type=hidden name=RelayState value=""></form>`, true},
		{"dev IdP result textarea", `<h2>SAMLResponse (base64)</h2><textarea rows="12" readonly>` + resp + "\n</textarea>", true},
		{"textarea with markup-looking text", `<textarea><b>not</b></textarea><textarea>` + resp + `</textarea>`, true},
		{"named but not a response", `<input name="SAMLResponse" value="aGVsbG8=">`, false},
		{"nothing", `<p>hello</p>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := samlResponseIn(scanHTML(tc.page))
			if ok != tc.ok || (ok && got != resp) {
				t.Errorf("samlResponseIn = %.20q…, %v; want ok=%v", got, ok, tc.ok)
			}
		})
	}
}

func FuzzScanHTML(f *testing.F) {
	f.Add(adfsPage)
	f.Add(`<textarea>` + BuildResponse("") + `</textarea>`)
	f.Add(`<form><input name='x' value="y`)
	f.Add(`<select name=s><option value=1><option selected value=2></select>`)
	f.Add("<")
	f.Fuzz(func(t *testing.T, s string) {
		page := scanHTML(s)
		if page.inputs > maxFields {
			t.Fatalf("%d fields", page.inputs)
		}
		_, _ = samlResponseIn(page)
		if form, ok := loginForm(page); ok {
			p := &Provider{cfg: Config{Username: "u", Password: "p"}}
			base, _ := url.Parse("https://idp.example.com/login")
			_, _, _ = p.fill(form, base)
		}
	})
}
