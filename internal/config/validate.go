package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Path is the field path ("tls.cert_file", "clusters[1].identifier") or
	// the environment variable ("DBIAM_ACCOUNT_ID"); empty when unknown.
	Path string
	// Line is the line in the YAML file, or 0.
	Line int
	// Message says what is wrong. It never contains a secret.
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Path)
	if p.Line > 0 {
		if p.Path != "" {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "(line %d)", p.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	// Source is where the problems were found: the configuration file's
	// name, "environment", or empty for a Config checked by Validate.
	Source   string
	Problems []Problem
}

// Error renders the problems one per line:
//
//	config: 2 problems:
//	  account_id: must be 12 digits, got "12"
//	  tls.cert_file: set without tls.key_file
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	if len(e.Problems) == 1 {
		b.WriteString("1 problem:")
	} else {
		fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// check adds a problem when msg is not empty.
func (ps *problems) check(path, msg string) {
	if msg != "" {
		*ps = append(*ps, Problem{Path: path, Message: msg})
	}
}

func (ps problems) err(source string) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Source: source, Problems: ps}
}

// Validate checks every field and reports all problems at once as a
// *ValidationError (nil when the configuration is usable). It does not
// touch the file system.
func (c Config) Validate() error {
	var ps problems
	ps.check("listen", checkListen(c.Listen))
	if c.MetricsListen != "" {
		ps.check("metrics_listen", checkListen(c.MetricsListen))
	}
	if host, _, err := net.SplitHostPort(c.Listen); err == nil && !isLoopback(host) && !c.TLS.Enabled() && !c.Insecure {
		ps.add("listen", "plain HTTP is only allowed on loopback, got %q; set tls.cert_file/tls.key_file or insecure: true", c.Listen)
	}
	ps.check("region", checkRegion(c.Region))
	ps.check("account_id", checkAccountID(c.AccountID))
	for i, r := range c.SigningRegions {
		ps.check(fmt.Sprintf("signing_regions[%d]", i), checkSigningRegion(r))
	}

	switch {
	case c.TLS.CertFile != "" && c.TLS.KeyFile == "":
		ps.add("tls.cert_file", "set without tls.key_file")
	case c.TLS.CertFile == "" && c.TLS.KeyFile != "":
		ps.add("tls.key_file", "set without tls.cert_file")
	}

	if c.DataDir == "" {
		ps.add("data_dir", "must not be empty")
	}

	c.validateStore(&ps)
	c.validateRoot(&ps)
	c.Bootstrap.validate(&ps)
	if c.SAML.ClockSkew < 0 || c.SAML.ClockSkew > Duration(15*time.Minute) {
		ps.add("saml.clock_skew", "must be between 0 and 15m, got %s", c.SAML.ClockSkew)
	}
	for i, r := range c.SAML.Recipients {
		if !strings.HasPrefix(r, "https://") && !strings.HasPrefix(r, "http://127.0.0.1") && !strings.HasPrefix(r, "http://localhost") {
			ps.add(fmt.Sprintf("saml.recipients[%d]", i), "must be an https:// URL (or a loopback http:// URL), got %q", r)
		}
	}
	if c.Reaper.Interval < 0 {
		ps.add("reaper.interval", "must not be negative, got %s", c.Reaper.Interval)
	}

	ps.check("log.format", checkLogFormat(c.Log.Format))
	ps.check("log.level", checkLogLevel(c.Log.Level))
	if c.ShutdownTimeout <= 0 {
		ps.add("shutdown_timeout", "must be positive, got %s", c.ShutdownTimeout)
	}

	seen := map[string]int{}
	for i, cl := range c.Clusters {
		p := fmt.Sprintf("clusters[%d]", i)
		if msg := checkClusterID(cl.Identifier); msg != "" {
			ps.add(p+".identifier", "%s", msg)
		} else if first, dup := seen[cl.Identifier]; dup {
			ps.add(p+".identifier", "duplicate cluster identifier %q (also clusters[%d])", cl.Identifier, first)
		} else {
			seen[cl.Identifier] = i
		}
		if cl.Engine != EnginePostgres {
			ps.add(p+".engine", "must be %s, got %q", EnginePostgres, cl.Engine)
		}
		if cl.Endpoint.Address == "" {
			ps.add(p+".endpoint.address", "required (the host clients connect to)")
		}
		if cl.Endpoint.Port < 1 || cl.Endpoint.Port > 65535 {
			ps.add(p+".endpoint.port", "must be 1-65535, got %d", cl.Endpoint.Port)
		}
		if cl.AdminURL == "" {
			ps.add(p+".admin_url", "required (a postgres:// URL dbiam uses to manage roles)")
		} else {
			ps.check(p+".admin_url", checkPostgresURL(cl.AdminURL))
		}
	}
	return ps.err("")
}

func (c Config) validateStore(ps *problems) {
	s := c.Store
	switch s.Type {
	case StoreSQLite:
		if s.URL != "" {
			ps.add("store.url", "only used with store.type postgres, but store.type is sqlite (set store.type or DBIAM_STORE_TYPE to postgres)")
		}
		if s.URLFile != "" {
			ps.add("store.url_file", "only used with store.type postgres, but store.type is sqlite")
		}
	case StorePostgres:
		switch {
		case s.URL != "" && s.URLFile != "":
			ps.add("store.url", "set together with store.url_file; use one")
		case s.URL == "" && s.URLFile == "":
			ps.add("store.url", "required for store.type postgres (or store.url_file, or DBIAM_STORE_URL)")
		case s.URL != "":
			ps.check("store.url", checkPostgresURL(s.URL.Reveal()))
		}
	default:
		ps.add("store.type", "%s", checkStoreType(s.Type))
	}
}

func (c Config) validateRoot(ps *problems) {
	r := c.Root
	hasSecret := r.SecretAccessKey != "" || r.SecretAccessKeyFile != ""
	if r.AccessKeyID != "" {
		ps.check("root.access_key_id", checkAccessKeyID(r.AccessKeyID))
		if !hasSecret {
			ps.add("root.secret_access_key_file", "required when root.access_key_id is set (or set DBIAM_ROOT_SECRET_ACCESS_KEY)")
		}
	} else if hasSecret {
		ps.add("root.access_key_id", "required when a root secret access key is set (root.secret_access_key_file or DBIAM_ROOT_SECRET_ACCESS_KEY)")
	}
	if r.SecretAccessKey != "" {
		ps.check("root.secret_access_key", checkSecretAccessKey(r.SecretAccessKey.Reveal()))
	}
}

// Field checkers, shared by Validate and Overlay. Each returns a problem
// message, or "" when the value is fine. None echoes a secret.

func checkListen(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("must be host:port (e.g. %q), got %q", DefaultListen, s)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Sprintf("invalid host %q", host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port must be a number 0-65535, got %q", port)
	}
	return ""
}

// isLoopback reports whether host only accepts local connections:
// "localhost" or a loopback IP. An empty host, 0.0.0.0 and :: listen on
// every interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

func checkRegion(s string) string {
	if !regionRE.MatchString(s) {
		return fmt.Sprintf("must look like an AWS region (e.g. us-east-1), got %q", s)
	}
	return ""
}

func checkSigningRegion(s string) string {
	if s == AnyRegion {
		return ""
	}
	if !regionRE.MatchString(s) {
		return fmt.Sprintf("must be an AWS region (e.g. us-east-1) or %q, got %q", AnyRegion, s)
	}
	return ""
}

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

func checkAccountID(s string) string {
	if !accountIDRE.MatchString(s) {
		return fmt.Sprintf("must be 12 digits, got %q", s)
	}
	return ""
}

func checkStoreType(s string) string {
	if s != StoreSQLite && s != StorePostgres {
		return fmt.Sprintf("must be %s or %s, got %q", StoreSQLite, StorePostgres, s)
	}
	return ""
}

var accessKeyIDRE = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

func checkAccessKeyID(s string) string {
	if !accessKeyIDRE.MatchString(s) {
		if len(s) > 128 {
			return fmt.Sprintf("must be 16-128 characters of A-Z and 0-9, got %d characters", len(s))
		}
		return fmt.Sprintf("must be 16-128 characters of A-Z and 0-9 (e.g. AKIA...), got %q", s)
	}
	return ""
}

// MinSecretLen is the shortest accepted root secret access key.
const MinSecretLen = 16

func checkSecretAccessKey(s string) string {
	if len(s) < MinSecretLen {
		return fmt.Sprintf("must be at least %d characters (got %d)", MinSecretLen, len(s))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "must not contain whitespace or control characters"
	}
	return ""
}

func checkLogFormat(s string) string {
	if s != "text" && s != "json" {
		return fmt.Sprintf("must be text or json, got %q", s)
	}
	return ""
}

func checkLogLevel(s string) string {
	switch s {
	case "debug", "info", "warn", "error":
		return ""
	}
	return fmt.Sprintf("must be debug, info, warn or error, got %q", s)
}

var clusterIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

func checkClusterID(s string) string {
	if !clusterIDRE.MatchString(s) || strings.HasSuffix(s, "-") || strings.Contains(s, "--") {
		return fmt.Sprintf("must be 1-63 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen, got %q", s)
	}
	return ""
}

// checkPostgresURL checks a postgres:// URL without echoing it (it may hold
// a password).
func checkPostgresURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// url's error quotes the whole URL: never include it.
		return "not a valid URL"
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Sprintf("must be a postgres:// or postgresql:// URL, got scheme %q", u.Scheme)
	}
	return ""
}

// urlHasPassword reports whether a URL carries a password in its userinfo
// or in a password query parameter. Unparsable input counts as having one
// if it looks like user:pass@.
func urlHasPassword(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		at := strings.LastIndex(s, "@")
		return at > 0 && strings.Contains(s[:at], ":")
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	q := u.Query()
	return q.Has("password") || q.Has("sslpassword")
}

// RedactURL returns s with the password of its userinfo and any password or
// sslpassword query parameter replaced by "xxxxx", for logs and messages.
// Input that does not parse as a URL is replaced entirely.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable URL redacted]"
	}
	q := u.Query()
	changed := false
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
