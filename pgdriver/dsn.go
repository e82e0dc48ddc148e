package pgdriver

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrConfig is wrapped by every error about the DSN or the options.
var ErrConfig = errors.New("pgdriver: invalid configuration")

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// The IAM parameters of a DSN, by canonical name. Names match ignoring case,
// "_" and "-", so the Redshift JDBC spellings (ClusterID, DbUser, AutoCreate,
// IAMDuration, EndpointUrl …) work too.
const (
	keyClusterID          = "cluster_id"
	keyRegion             = "region"
	keyEndpointURL        = "endpoint_url"
	keySTSEndpointURL     = "sts_endpoint_url"
	keyDbUser             = "db_user"
	keyDbGroups           = "db_groups"
	keyAutoCreate         = "auto_create"
	keyForceLowercase     = "force_lowercase"
	keyIAMDuration        = "iam_duration"
	keyDuration           = "duration"
	keyProfile            = "profile"
	keyRoleARN            = "role_arn"
	keyRoleSessionName    = "role_session_name"
	keyCache              = "cache"
	keyIAMDisableCache    = "iam_disable_cache"
	keyPluginName         = "plugin_name"
	keySAMLAssertion      = "saml_assertion"
	keyIdPURL             = "idp_url"
	keyPreferredRole      = "preferred_role"
	keyListenPort         = "listen_port"
	keyIdPResponseTimeout = "idp_response_timeout"
)

// iamKeys maps a normalized parameter name to its canonical name (a
// read-only table).
var iamKeys = func() map[string]string {
	m := map[string]string{"loginurl": keyIdPURL} // the Redshift browser plugin's name
	for _, k := range []string{keyClusterID, keyRegion, keyEndpointURL, keySTSEndpointURL, keyDbUser, keyDbGroups,
		keyAutoCreate, keyForceLowercase, keyIAMDuration, keyDuration, keyProfile, keyRoleARN, keyRoleSessionName,
		keyCache, keyIAMDisableCache, keyPluginName, keySAMLAssertion, keyIdPURL, keyPreferredRole, keyListenPort,
		keyIdPResponseTimeout} {
		m[normalizeKey(k)] = k
	}
	return m
}()

func normalizeKey(k string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(k))
}

// redshiftHost matches a Redshift cluster endpoint: <cluster>.<id>.<region>.redshift.amazonaws.com.
var redshiftHost = regexp.MustCompile(`^([^.]+)\.[^.]+\.([^.]+)\.redshift(-dev)?\.amazonaws\.com(\.cn)?$`)

// dsn is a parsed DSN: the IAM parameters, and the rest for pgx.
type dsn struct {
	scheme   string
	hostport string // "" when the URL names no host
	hostKey  bool   // the query has a host parameter
	path     string
	query    url.Values // pgx's parameters only
	urlUser  string
	urlPass  string
	urlPwSet bool
	iam      map[string]string // canonical name -> value
}

// parseDSN splits a postgres:// URL into pgx's part and the IAM parameters.
// An empty DSN is an empty URL.
func parseDSN(s string) (*dsn, error) {
	d := &dsn{scheme: "postgres", query: url.Values{}, iam: map[string]string{}}
	if s == "" {
		return d, nil
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "postgres" && scheme != "postgresql") {
		return nil, configError("the DSN must be a postgres:// or postgresql:// URL")
	}
	d.scheme = scheme
	rest, _, _ = strings.Cut(rest, "#")
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo := authority[:i]
		authority = authority[i+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		var err error
		if d.urlUser, err = url.PathUnescape(user); err != nil {
			return nil, configError("the user name in the URL: %v", err)
		}
		if hasPass {
			if d.urlPass, err = url.PathUnescape(pass); err != nil {
				return nil, configError("the password in the URL is not URL-encoded correctly")
			}
			d.urlPwSet = true
		}
	}
	d.hostport = authority
	d.path = path
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, configError("the query of the URL: %v", err)
	}
	for k, vs := range q {
		canon, isIAM := iamKeys[normalizeKey(k)]
		if !isIAM {
			d.query[k] = vs
			if strings.EqualFold(k, "host") {
				d.hostKey = true
			}
			continue
		}
		if _, dup := d.iam[canon]; dup || len(vs) != 1 {
			return nil, configError("parameter %s is given more than once", canon)
		}
		d.iam[canon] = vs[0]
	}
	// libpq also takes the user and password as parameters.
	if d.urlUser == "" {
		d.urlUser = d.query.Get("user")
	}
	if !d.urlPwSet && d.query.Has("password") {
		d.urlPass, d.urlPwSet = d.query.Get("password"), true
	}
	return d, nil
}

// hasHost reports whether the DSN names the database host.
func (d *dsn) hasHost() bool { return d.hostport != "" || d.hostKey }

// firstHost returns the first host name of the DSN ("" if none).
func (d *dsn) firstHost() string {
	h := d.hostport
	if h == "" {
		h = d.query.Get("host")
	}
	h, _, _ = strings.Cut(h, ",")
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		h = h[:i]
	}
	return h
}

// pgxURL returns the URL pgx parses: no user information and no IAM
// parameters, hostport in place of the DSN's authority when given, and
// sslmode defaulted (require, or verify-full with sslrootcert). pgxpool's
// pool_* parameters are kept only for a pool.
func (d *dsn) pgxURL(hostport string, pool bool) string {
	q := url.Values{}
	for k, vs := range d.query {
		if !pool && strings.HasPrefix(strings.ToLower(k), "pool_") {
			continue
		}
		q[k] = vs
	}
	if hostport != "" {
		q.Del("host")
		q.Del("port")
	} else {
		hostport = d.hostport
	}
	q.Del("user")
	q.Del("password")
	if !q.Has("sslmode") {
		if q.Get("sslrootcert") != "" {
			q.Set("sslmode", "verify-full")
		} else {
			q.Set("sslmode", "require")
		}
	}
	return d.scheme + "://" + hostport + d.path + "?" + q.Encode()
}

// applyDSN copies the DSN's IAM parameters into s.
func (s *settings) applyDSN(d *dsn) error {
	str := func(key string, dst *string) {
		if v, ok := d.iam[key]; ok {
			*dst = v
		}
	}
	boolean := func(key string, dst **bool) error {
		v, ok := d.iam[key]
		if !ok {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return configError("%s=%q is not a boolean", key, v)
		}
		*dst = &b
		return nil
	}
	seconds := func(key string, lo, hi int, dst *time.Duration) error {
		v, ok := d.iam[key]
		if !ok {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return configError("%s=%q must be a number of seconds from %d to %d", key, v, lo, hi)
		}
		*dst = time.Duration(n) * time.Second
		return nil
	}
	str(keyClusterID, &s.clusterID)
	str(keyRegion, &s.region)
	str(keyEndpointURL, &s.endpointURL)
	str(keySTSEndpointURL, &s.stsEndpointURL)
	str(keyDbUser, &s.dbUser)
	str(keyProfile, &s.profile)
	str(keyRoleARN, &s.roleARN)
	str(keyRoleSessionName, &s.roleSessionName)
	str(keyPluginName, &s.plugin)
	str(keySAMLAssertion, &s.samlAssertion)
	str(keyIdPURL, &s.idpURL)
	str(keyPreferredRole, &s.preferredRole)
	if v, ok := d.iam[keyDbGroups]; ok {
		s.dbGroups = splitGroups(v)
	}
	if err := errors.Join(
		boolean(keyAutoCreate, &s.autoCreate),
		boolean(keyForceLowercase, &s.forceLowercase),
		seconds(keyIAMDuration, 900, 3600, &s.iamDuration),
		seconds(keyDuration, 900, 43200, &s.stsDuration),
		seconds(keyIdPResponseTimeout, 1, 3600, &s.idpTimeout),
	); err != nil {
		return err
	}
	if v, ok := d.iam[keyListenPort]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return configError("%s=%q is not a port", keyListenPort, v)
		}
		s.listenPort = n
	}
	if v, ok := d.iam[keyCache]; ok {
		m := CacheMode(strings.ToLower(v))
		if !slices.Contains([]CacheMode{CacheRefreshAhead, CacheLazy, CacheNone}, m) {
			return configError("cache=%q: use refresh-ahead, lazy or none", v)
		}
		s.cacheMode = m
	}
	var disable *bool
	if err := boolean(keyIAMDisableCache, &disable); err != nil {
		return err
	}
	if disable != nil && *disable {
		s.cacheMode = CacheNone
	}
	if m := redshiftHost.FindStringSubmatch(strings.ToLower(d.firstHost())); m != nil {
		if s.clusterID == "" {
			s.clusterID = m[1]
		}
		if s.region == "" {
			s.region = m[2]
		}
	}
	return nil
}

// splitGroups splits a comma-separated list, trimming spaces and dropping
// empty entries.
func splitGroups(v string) []string {
	groups := []string{}
	for g := range strings.SplitSeq(v, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	return groups
}
