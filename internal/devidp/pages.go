package devidp

import "html/template"

type loginPage struct {
	ACS, Role, Error string
}

type resultPage struct {
	User, SAMLResponse, Expires, Validity string
	Commands                              []command
}

type command struct{ Pair, Text string }

type postPage struct {
	ACS, SAMLResponse, Nonce string
}

type errorPage struct{ Title, Message string }

// pages are the HTML pages; html/template escapes every value.
var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.}} · dbiam dev IdP</title>
<style>
body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#222}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem .75rem;border-radius:4px}
.err{background:#f8d7da;border:1px solid #d9a1a7;padding:.5rem .75rem;border-radius:4px}
label{display:block;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:20rem;padding:.3rem}
textarea,pre{width:100%;box-sizing:border-box;font-family:ui-monospace,monospace;font-size:.8rem}
pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5rem;border-radius:4px}
button{margin-top:1rem;padding:.4rem 1.2rem}
</style></head><body>
<p class="warn">dbiam <strong>development</strong> identity provider: passwords come from a local file. Never use it for real accounts.</p>
{{end}}

{{define "login"}}{{template "head" "Sign in"}}
<h1>Sign in</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<label for="role">Role (optional: a role name or ARN; empty lists all your roles)</label><input type="text" id="role" name="role" value="{{.Role}}">
{{if .ACS}}<input type="hidden" name="acs" value="{{.ACS}}"><p>The signed response will be posted to <code>{{.ACS}}</code>.</p>{{end}}
<button type="submit">Sign in</button>
</form>
</body></html>
{{end}}

{{define "result"}}{{template "head" "SAML response"}}
<h1>Signed in as {{.User}}</h1>
<p>The SAML response below is signed for AWS (<code>https://signin.aws.amazon.com/saml</code>). It is valid for {{.Validity}}, until {{.Expires}}, and dbiam accepts it <strong>once</strong>: sign in again for another call.</p>
<h2>Trade it for credentials</h2>
<p>With <code>AWS_ENDPOINT_URL</code> set to your dbiam server (the <code>dbiam serve --dev</code> banner prints it). The call is unsigned, so no credentials are needed.</p>
{{range .Commands}}<h3>{{.Pair}}</h3><pre>{{.Text}}</pre>
{{end}}
<h2>SAMLResponse (base64)</h2>
<textarea rows="12" readonly>{{.SAMLResponse}}</textarea>
<p><a href="/login">Sign in again</a></p>
</body></html>
{{end}}

{{define "post"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Continue · dbiam dev IdP</title></head><body>
<form method="post" action="{{.ACS}}" id="saml">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
<noscript><p>JavaScript is off: press the button to send the response to {{.ACS}}.</p></noscript>
<button type="submit">Continue</button>
</form>
<script nonce="{{.Nonce}}">document.getElementById("saml").submit();</script>
</body></html>
{{end}}

{{define "error"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
<p class="err" role="alert">{{.Message}}</p>
<p><a href="/login">Back to sign in</a></p>
</body></html>
{{end}}
`))
