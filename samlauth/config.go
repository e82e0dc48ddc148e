package samlauth

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Plugin names (Config.Plugin).
const (
	// PluginAssertion takes a base64 SAMLResponse given directly, like the
	// Redshift drivers' BasicSamlCredentialsProvider.
	PluginAssertion = "saml-assertion"
	// PluginForm posts a user name and password to the IdP: its HTML login
	// form (AD FS, PingFederate, dbiam's development IdP at /login), or the
	// development IdP's POST /api/saml-response.
	PluginForm = "saml-form"
	// PluginBrowser opens the system browser at the IdP and receives the
	// response on a one-shot loopback listener.
	PluginBrowser = "saml-browser"
)

// Defaults.
const (
	// DefaultListenAddr is saml-browser's listener: the Redshift drivers'
	// default port.
	DefaultListenAddr = "127.0.0.1:7890"
	// DefaultTimeout is how long saml-browser waits for the response.
	DefaultTimeout = 2 * time.Minute
	// DefaultRegion signs nothing (AssumeRoleWithSAML is unsigned) but the
	// SDK needs one to resolve the STS endpoint.
	DefaultRegion = "us-east-1"
	// ExpiryWindow: cached STS credentials are renewed this long before
	// they expire, as the Redshift drivers do.
	ExpiryWindow = 60 * time.Second
	// ACSPath is the path of saml-browser's listener in the acs URL.
	ACSPath = "/saml"
)

// Config configures a Provider. Zero values take the defaults noted.
type Config struct {
	// Plugin is PluginAssertion, PluginForm or PluginBrowser.
	Plugin string
	// Assertion is the base64 SAMLResponse for PluginAssertion. A response
	// is usually accepted once and for a few minutes only.
	Assertion string
	// IdPURL is the IdP's login URL (PluginForm and PluginBrowser), e.g.
	// the development IdP's http://127.0.0.1:8440/login. For PluginForm a
	// URL ending in /api/saml-response uses the development IdP's API;
	// any other URL is fetched as an HTML login form. Plain http is
	// refused except on loopback hosts (see InsecureHTTP).
	IdPURL string
	// Username and Password are the IdP login of PluginForm.
	Username, Password string
	// PreferredRole is the exact role ARN to assume. Without it the
	// response must list exactly one role.
	PreferredRole string
	// DurationSeconds is passed to AssumeRoleWithSAML when > 0 (900–43200).
	DurationSeconds int

	// STS is the client AssumeRoleWithSAML is called with (unsigned, with
	// aws.AnonymousCredentials). If nil, one is built from Region (or
	// DefaultRegion), STSEndpointURL and HTTPClient.
	STS            *sts.Client
	Region         string
	STSEndpointURL string

	// ListenAddr is saml-browser's one-shot listener (DefaultListenAddr); a
	// loopback address. The browser is sent to IdPURL?acs=http://<addr>/saml
	// (the development IdP posts the response there; configure other IdPs
	// to post to that URL). Port 0 picks a free port.
	ListenAddr string
	// OpenBrowser opens url in a browser (saml-browser). The default runs
	// xdg-open, open or rundll32, depending on the OS. It runs in its own
	// goroutine and should return once the browser is started: an error
	// ends the login at once, and the plugin does not wait for it after the
	// response has arrived.
	OpenBrowser func(url string) error
	// Timeout bounds the wait for saml-browser's response (DefaultTimeout).
	Timeout time.Duration

	// HTTPClient talks to the IdP (and to STS when STS is nil). The default
	// has a 30 s timeout. PluginForm adds a cookie jar when it has none.
	HTTPClient *http.Client
	// InsecureHTTP allows plain-http IdP URLs and form actions on
	// non-loopback hosts. Never with real passwords.
	InsecureHTTP bool
	// Now is the clock for the credential cache (time.Now).
	Now func() time.Time
}

// String describes the config without its secrets.
func (c Config) String() string {
	return fmt.Sprintf("samlauth.Config{Plugin: %q, IdPURL: %q, Username: %q, Password: %s, Assertion: %s, PreferredRole: %q}",
		c.Plugin, c.IdPURL, c.Username, redacted(c.Password), redacted(c.Assertion), c.PreferredRole)
}

// GoString is String, so that %#v redacts too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("plugin", c.Plugin), slog.String("idp_url", c.IdPURL),
		slog.String("username", c.Username), slog.String("preferred_role", c.PreferredRole))
}

var _ slog.LogValuer = Config{}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// withDefaults checks c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch c.Plugin {
	case PluginAssertion:
		if strings.TrimSpace(c.Assertion) == "" {
			return bad("%s needs the SAML assertion", c.Plugin)
		}
	case PluginForm:
		if c.IdPURL == "" || c.Username == "" || c.Password == "" {
			return bad("%s needs the IdP URL, a user name and a password", c.Plugin)
		}
	case PluginBrowser:
		if c.IdPURL == "" {
			return bad("%s needs the IdP URL", c.Plugin)
		}
	case "":
		return bad("no plugin: use %s, %s or %s", PluginAssertion, PluginForm, PluginBrowser)
	default:
		return bad("unknown plugin %q: use %s, %s or %s", c.Plugin, PluginAssertion, PluginForm, PluginBrowser)
	}
	if c.IdPURL != "" {
		if err := checkURL(c.IdPURL, c.InsecureHTTP); err != nil {
			return bad("IdP URL: %v", err)
		}
	}
	if c.DurationSeconds != 0 && (c.DurationSeconds < 900 || c.DurationSeconds > 43200) {
		return bad("DurationSeconds must be between 900 and 43200")
	}
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	if c.Plugin == PluginBrowser {
		if err := checkLoopbackAddr(c.ListenAddr); err != nil {
			return bad("listen address: %v", err)
		}
	}
	if c.Timeout < 0 {
		return bad("negative timeout")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.OpenBrowser == nil {
		c.OpenBrowser = openSystemBrowser
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// checkURL accepts an absolute http(s) URL without user info; plain http
// only on a loopback host unless insecure.
func checkURL(s string, insecure bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("%q is not an absolute http(s) URL", redactURL(u))
	case u.User != nil:
		return fmt.Errorf("user information in the URL is not allowed")
	case u.Scheme == "http" && !insecure && !isLoopbackHost(u.Hostname()):
		return fmt.Errorf("plain http to %s would send the password unencrypted; use https", u.Host)
	}
	return nil
}

// redactURL drops the query and user info from u for messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("%s is not a loopback address (127.0.0.1, [::1] or localhost)", addr)
	}
	return nil
}
