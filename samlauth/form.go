package samlauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// maxPageBytes caps an IdP page or API answer.
const maxPageBytes = 1 << 20

// apiSuffix marks the development IdP's JSON API.
const apiSuffix = "/api/saml-response"

// httpClient returns the configured client with a cookie jar (login forms
// keep a session across GET and POST) and a redirect policy that never
// sends anything to a plain-http host the config would refuse.
func (p *Provider) httpClient() *http.Client {
	c := *p.cfg.HTTPClient
	if c.Jar == nil {
		c.Jar, _ = cookiejar.New(nil)
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if err := checkURL(req.URL.String(), p.cfg.InsecureHTTP); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// formLogin is PluginForm: the development IdP's API, or an HTML login form.
func (p *Provider) formLogin(ctx context.Context) (string, error) {
	u, err := url.Parse(p.cfg.IdPURL)
	if err != nil {
		return "", fmt.Errorf("%w: IdP URL", ErrConfig)
	}
	client := p.httpClient()
	if strings.HasSuffix(u.Path, apiSuffix) {
		return p.apiLogin(ctx, client, u)
	}
	return p.htmlLogin(ctx, client, u)
}

// apiLogin posts username and password to the development IdP's
// POST /api/saml-response and reads {"SAMLResponse": …}.
func (p *Provider) apiLogin(ctx context.Context, client *http.Client, u *url.URL) (string, error) {
	form := url.Values{"username": {p.cfg.Username}, "password": {p.cfg.Password}}
	body, status, _, err := p.do(ctx, client, http.MethodPost, u.String(), form)
	if err != nil {
		return "", err
	}
	var out struct {
		SAMLResponse string `json:"SAMLResponse"`
		Error        string `json:"Error"`
	}
	jsonErr := json.Unmarshal(body, &out)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "", fmt.Errorf("%w (HTTP %d from %s)", ErrLoginFailed, status, redactURL(u))
	case status != http.StatusOK:
		msg := ""
		if jsonErr == nil && out.Error != "" && len(out.Error) < 200 {
			msg = ": " + out.Error
		}
		return "", fmt.Errorf("%w: HTTP %d from %s%s", ErrNoSAMLResponse, status, redactURL(u), msg)
	case jsonErr != nil || out.SAMLResponse == "":
		return "", fmt.Errorf("%w: %s did not answer with a SAMLResponse in JSON", ErrNoSAMLResponse, redactURL(u))
	}
	return out.SAMLResponse, nil
}

// htmlLogin fetches the login page, fills in the form that has a password
// field, posts it, and reads the SAMLResponse from the page that comes back
// (and from the pages it auto-posts to, up to a few hops).
func (p *Provider) htmlLogin(ctx context.Context, client *http.Client, u *url.URL) (string, error) {
	body, status, pageURL, err := p.do(ctx, client, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	page := scanHTML(string(body))
	if resp, ok := samlResponseIn(page); ok {
		return resp, nil // already signed in (a session cookie)
	}
	form, ok := loginForm(page)
	if !ok {
		return "", fmt.Errorf("%w: no login form with a password field at %s (HTTP %d)", ErrNoSAMLResponse, redactURL(pageURL), status)
	}
	action, values, err := p.fill(form, pageURL)
	if err != nil {
		return "", err
	}
	body, status, pageURL, err = p.do(ctx, client, http.MethodPost, action.String(), values)
	if err != nil {
		return "", err
	}
	page = scanHTML(string(body))
	if resp, ok := samlResponseIn(page); ok {
		return resp, nil
	}
	if _, again := loginForm(page); again || status == http.StatusUnauthorized || status == http.StatusForbidden {
		return "", fmt.Errorf("%w (HTTP %d from %s)", ErrLoginFailed, status, redactURL(pageURL))
	}
	return "", fmt.Errorf("%w: the page at %s after the login (HTTP %d) has no SAMLResponse", ErrNoSAMLResponse, redactURL(pageURL), status)
}

// loginForm returns the first form with a password field.
func loginForm(p htmlPage) (htmlForm, bool) {
	for _, f := range p.forms {
		for _, fl := range f.fields {
			if fl.tag == "input" && fl.typ == "password" {
				return f, true
			}
		}
	}
	return htmlForm{}, false
}

// userFieldHints are substrings of the user-name field's name or id, as the
// Redshift drivers' form plugins look for (AD FS: UserName; PingFederate:
// pf.username; dbiam's development IdP: username).
var userFieldHints = []string{"user", "email", "login", "uid", "account"}

// fill builds the submission of a login form: hidden and other fields keep
// their values, the user-name field gets Username, the (first) password
// field gets Password, and the first named submit button is included. The
// action is resolved against the page URL and must be acceptable to
// checkURL; the form must POST (a password never goes into a URL).
func (p *Provider) fill(f htmlForm, pageURL *url.URL) (*url.URL, url.Values, error) {
	if f.method != "" && f.method != "post" {
		return nil, nil, fmt.Errorf("%w: the login form at %s uses %s; refusing to put a password in a URL", ErrNoSAMLResponse, redactURL(pageURL), strings.ToUpper(f.method))
	}
	action := pageURL
	if f.action != "" {
		a, err := pageURL.Parse(f.action)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: the login form's action is not a URL", ErrNoSAMLResponse)
		}
		action = a
	}
	if err := checkURL(action.String(), p.cfg.InsecureHTTP); err != nil {
		return nil, nil, fmt.Errorf("%w: login form action: %w", ErrConfig, err)
	}

	// The user-name field: a text-like input whose name or id hints at it,
	// else the first text-like input.
	userIdx := -1
	for n, fl := range f.fields {
		if fl.tag != "input" || !textLike(fl.typ) || fl.name == "" {
			continue
		}
		key := strings.ToLower(fl.name + " " + fl.id)
		for _, h := range userFieldHints {
			if strings.Contains(key, h) {
				userIdx = n
				break
			}
		}
		if userIdx >= 0 {
			break
		}
	}
	if userIdx < 0 {
		for n, fl := range f.fields {
			if fl.tag == "input" && textLike(fl.typ) && fl.name != "" {
				userIdx = n
				break
			}
		}
	}
	if userIdx < 0 {
		return nil, nil, fmt.Errorf("%w: the login form at %s has no user-name field", ErrNoSAMLResponse, redactURL(pageURL))
	}

	values := url.Values{}
	passwordSet, submitSet := false, false
	for n, fl := range f.fields {
		if fl.name == "" {
			continue
		}
		switch {
		case n == userIdx:
			values.Add(fl.name, p.cfg.Username)
		case fl.tag == "input" && fl.typ == "password":
			if !passwordSet {
				values.Add(fl.name, p.cfg.Password)
				passwordSet = true
			}
		case (fl.tag == "input" && (fl.typ == "submit" || fl.typ == "image")) || (fl.tag == "button" && fl.typ == "submit"):
			if !submitSet {
				values.Add(fl.name, fl.value)
				submitSet = true
			}
		case fl.tag == "button", fl.tag == "input" && (fl.typ == "button" || fl.typ == "reset" || fl.typ == "file"):
		case fl.tag == "input" && (fl.typ == "checkbox" || fl.typ == "radio"):
			if fl.checked {
				v := fl.value
				if v == "" {
					v = "on"
				}
				values.Add(fl.name, v)
			}
		case fl.tag == "select":
			if fl.checked {
				values.Add(fl.name, fl.value)
			}
		default:
			values.Add(fl.name, fl.value)
		}
	}
	return action, values, nil
}

func textLike(typ string) bool {
	switch typ {
	case "", "text", "email", "tel":
		return true
	}
	return false
}

// do sends one request (a form POST when form != nil) and returns the
// capped body, the status and the final URL after redirects.
func (p *Provider) do(ctx context.Context, client *http.Client, method, target string, form url.Values) ([]byte, int, *url.URL, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%w: IdP request: %w", ErrConfig, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8")
	resp, err := client.Do(req)
	if err != nil {
		// url.Error quotes the URL, which carries no secret (the password
		// is in the body).
		return nil, 0, nil, fmt.Errorf("samlauth: IdP %s %s: %w", method, redactURL(req.URL), unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("samlauth: IdP %s %s: read: %w", method, redactURL(req.URL), err)
	}
	if len(b) > maxPageBytes {
		return nil, 0, nil, fmt.Errorf("%w: the page at %s is larger than %d bytes", ErrNoSAMLResponse, redactURL(resp.Request.URL), maxPageBytes)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "" && !strings.Contains(mt, "html") && !strings.Contains(mt, "json") && !strings.HasPrefix(mt, "text/") {
			return nil, 0, nil, fmt.Errorf("%w: %s answered %s", ErrNoSAMLResponse, redactURL(resp.Request.URL), mt)
		}
	}
	return b, resp.StatusCode, resp.Request.URL, nil
}

// unwrapURLError drops *url.Error's URL (already in our message).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
