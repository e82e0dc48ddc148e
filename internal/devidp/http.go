package devidp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxFormBytes caps a POSTed form (login page and API).
const MaxFormBytes = 16 << 10

// Handler returns the IdP's HTTP handler:
//
//	GET  /metadata           IdP metadata XML (application/samlmetadata+xml)
//	GET  /login              login form; ?acs=<loopback URL> posts the response there, ?role= preselects a role
//	POST /login              username, password[, role, acs]: the response page (or the auto-posting form)
//	POST /api/saml-response  username, password[, role] → JSON {"SAMLResponse": "…", "Roles": ["roleArn,providerArn", …]}
//	GET  /                   redirects to /login
func (i *IdP) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", i.serveMetadata)
	mux.HandleFunc("GET /login", i.serveLoginForm)
	mux.HandleFunc("POST /login", i.serveLogin)
	mux.HandleFunc("POST /api/saml-response", i.serveAPI)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	return mux
}

func (i *IdP) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(i.metadata)
}

// securityHeaders are set on every HTML page; csp varies per page.
func securityHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
}

const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (i *IdP) render(w http.ResponseWriter, status int, name string, data any) {
	securityHeaders(w, pageCSP)
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		i.log.Warn("render page", "page", name, "error", err)
	}
}

func (i *IdP) renderError(w http.ResponseWriter, status int, msg string) {
	i.render(w, status, "error", errorPage{Title: http.StatusText(status), Message: msg})
}

func (i *IdP) serveLoginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	acs := q.Get("acs")
	if acs != "" && !loopbackURL(acs) {
		i.renderError(w, http.StatusBadRequest, "The acs parameter must be an http(s) URL on a loopback address (127.0.0.1, [::1] or localhost).")
		return
	}
	i.render(w, http.StatusOK, "login", loginPage{ACS: acs, Role: q.Get("role")})
}

// readForm parses a bounded urlencoded POST body.
func readForm(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return errors.New("send the fields as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errors.New("the form could not be read (at most 16 KiB)")
	}
	return nil
}

func (i *IdP) serveLogin(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r); err != nil {
		i.renderError(w, http.StatusBadRequest, err.Error())
		return
	}
	acs := r.PostForm.Get("acs")
	if acs != "" && !loopbackURL(acs) {
		i.renderError(w, http.StatusBadRequest, "The acs parameter must be an http(s) URL on a loopback address (127.0.0.1, [::1] or localhost).")
		return
	}
	u, pairs, status, msg := i.login(r, "page")
	if u == nil {
		if status == http.StatusUnauthorized {
			i.render(w, status, "login", loginPage{ACS: acs, Role: r.PostForm.Get("role"), Error: msg})
			return
		}
		i.renderError(w, status, msg)
		return
	}
	now := i.cfg.Now()
	resp, err := i.response(u, pairs, now)
	if err != nil {
		i.log.Error("build SAML response", "user", u.Username, "error", err)
		i.renderError(w, http.StatusInternalServerError, "The SAML response could not be built; see the IdP log.")
		return
	}
	if acs != "" {
		nonce := i.nonce()
		// No form-action: the target is the checked loopback URL, and CSP
		// host sources cannot name [::1].
		securityHeaders(w, "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
		if err := pages.ExecuteTemplate(w, "post", postPage{ACS: acs, SAMLResponse: resp, Nonce: nonce}); err != nil {
			i.log.Warn("render page", "page", "post", "error", err)
		}
		return
	}
	page := resultPage{User: u.Username, SAMLResponse: resp, Expires: now.Add(i.cfg.Validity).UTC().Format(time.RFC3339), Validity: i.cfg.Validity.String()}
	for _, p := range pairs {
		page.Commands = append(page.Commands, command{Pair: p.String(), Text: cliCommand(p, resp)})
	}
	i.render(w, http.StatusOK, "result", page)
}

// cliCommand is the ready-to-paste AWS CLI call for one role pair.
func cliCommand(p RolePair, resp string) string {
	return "aws sts assume-role-with-saml --role-arn " + p.RoleARN + " --principal-arn " + p.ProviderARN + " --saml-assertion " + resp
}

// apiResponse is the JSON body of POST /api/saml-response.
type apiResponse struct {
	SAMLResponse string   `json:"SAMLResponse"`
	Roles        []string `json:"Roles"`
}

type apiError struct {
	Error string `json:"Error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (i *IdP) serveAPI(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	u, pairs, status, msg := i.login(r, "api")
	if u == nil {
		writeJSON(w, status, apiError{Error: msg})
		return
	}
	resp, err := i.response(u, pairs, i.cfg.Now())
	if err != nil {
		i.log.Error("build SAML response", "user", u.Username, "error", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "the SAML response could not be built; see the IdP log"})
		return
	}
	out := apiResponse{SAMLResponse: resp, Roles: make([]string, len(pairs))}
	for n, p := range pairs {
		out.Roles[n] = p.String()
	}
	writeJSON(w, http.StatusOK, out)
}

// msgBadLogin is the one answer to a wrong username or password.
const msgBadLogin = "Invalid username or password."

// login checks the form's username and password and picks the roles. On
// failure u is nil and status/msg are what to answer. It logs the outcome
// without the password, and the username only if it exists.
func (i *IdP) login(r *http.Request, via string) (u *user, pairs []RolePair, status int, msg string) {
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	if !i.Authenticate(username, password) {
		who := "(unknown user)"
		if _, ok := i.users[username]; ok {
			who = username
		}
		i.log.Info("login refused", "via", via, "user", who, "remote", r.RemoteAddr)
		return nil, nil, http.StatusUnauthorized, msgBadLogin
	}
	u = i.users[username]
	pairs, err := u.choose(r.PostForm.Get("role"))
	if err != nil {
		i.log.Info("login refused: unknown role", "via", via, "user", username)
		return nil, nil, http.StatusBadRequest, "The user has no such role."
	}
	i.log.Info("SAML response issued", "via", via, "user", username, "roles", len(pairs), "remote", r.RemoteAddr)
	return u, pairs, 0, ""
}

// loopbackURL reports whether s is an absolute http(s) URL whose host is a
// loopback IP address or "localhost", without user info or fragment.
func loopbackURL(s string) bool {
	if len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// nonce returns a fresh CSP script nonce.
func (i *IdP) nonce() string {
	var b [16]byte
	_, _ = io.ReadFull(i.cfg.Rand, b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
