package pgdriver

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Hints are database-user settings that come with an identity rather than
// with the connection: the Redshift attributes of a SAML assertion, or the
// dbuser/dbgroups/autocreate/forcelowercase keys of an AWS profile. Zero
// values mean "not given".
type Hints struct {
	// DbUser is the database user (SAML: the Redshift DbUser attribute).
	DbUser string
	// RoleSessionName is used as the database user when DbUser is empty
	// (SAML: AWS's RoleSessionName attribute).
	RoleSessionName string
	DbGroups        []string
	AutoCreate      *bool
	ForceLowercase  *bool
	// AllowDbUserOverride makes these hints' user win over the connection's
	// db_user (SAML: Redshift's AllowDbUserOverride attribute).
	AllowDbUserOverride bool
}

// user returns the hinted database user: DbUser, else RoleSessionName.
func (h Hints) user() string {
	if h.DbUser != "" {
		return h.DbUser
	}
	return h.RoleSessionName
}

// DbUserHints supplies identity-provider hints (typically the attributes of
// the SAML response behind the AWS credentials). It is asked before every
// GetClusterCredentials call, so it may return fresh attributes after a new
// login.
type DbUserHints interface {
	DbUserHints(ctx context.Context) (Hints, error)
}

// DbUserHintsFunc adapts a function to DbUserHints.
type DbUserHintsFunc func(ctx context.Context) (Hints, error)

// DbUserHints calls f.
func (f DbUserHintsFunc) DbUserHints(ctx context.Context) (Hints, error) { return f(ctx) }

var _ DbUserHints = DbUserHintsFunc(nil)

// dbUserRequest is what GetClusterCredentials is asked for.
type dbUserRequest struct {
	DbUser     string
	DbGroups   []string // sorted, as the Redshift drivers send them
	AutoCreate *bool
}

// resolveDbUser applies the Redshift drivers' precedence (JDBC IamHelper)
// to the connection's settings (DSN and options), the profile's keys and
// the identity provider's hints:
//
//   - DbUser: the connection's db_user, else the profile's dbuser, else the
//     IdP's DbUser (else its RoleSessionName), else urlUser. When the IdP
//     sets AllowDbUserOverride, the IdP's user comes first.
//   - AutoCreate, ForceLowercase: the connection's, else the profile's,
//     else the IdP's.
//   - DbGroups: the first non-empty list of the connection, the profile and
//     the IdP; lowercased when ForceLowercase is true; sorted.
func resolveDbUser(conn, profile, idp Hints, urlUser string) (dbUserRequest, error) {
	users := []string{conn.DbUser, profile.DbUser, idp.user(), urlUser}
	if idp.AllowDbUserOverride {
		users = []string{idp.user(), conn.DbUser, profile.DbUser, urlUser}
	}
	var r dbUserRequest
	for _, u := range users {
		if u != "" {
			r.DbUser = u
			break
		}
	}
	if r.DbUser == "" {
		return r, configError("no database user: set db_user in the DSN (or a user name in the URL), dbuser in the AWS profile, or the DbUser attribute at the identity provider")
	}
	r.AutoCreate = firstBool(conn.AutoCreate, profile.AutoCreate, idp.AutoCreate)
	lower := firstBool(conn.ForceLowercase, profile.ForceLowercase, idp.ForceLowercase)
	for _, g := range [][]string{conn.DbGroups, profile.DbGroups, idp.DbGroups} {
		if len(g) > 0 {
			r.DbGroups = slices.Clone(g)
			break
		}
	}
	if lower != nil && *lower {
		for i, g := range r.DbGroups {
			r.DbGroups[i] = strings.ToLower(g)
		}
	}
	slices.Sort(r.DbGroups)
	r.DbGroups = slices.Compact(r.DbGroups)
	return r, nil
}

func firstBool(bs ...*bool) *bool {
	for _, b := range bs {
		if b != nil {
			v := *b
			return &v
		}
	}
	return nil
}

// profileHints reads the Redshift driver keys of an AWS profile (dbuser,
// dbgroups, autocreate, forcelowercase; "_" allowed, as in db_user) from
// the shared config file ([profile NAME], or [default]) and the shared
// credentials file ([NAME]); the credentials file wins where both set a
// key. Missing files give no hints.
func profileHints(profile string) (Hints, error) {
	home, _ := os.UserHomeDir()
	configFile := os.Getenv("AWS_CONFIG_FILE")
	if configFile == "" {
		configFile = filepath.Join(home, ".aws", "config")
	}
	credsFile := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credsFile == "" {
		credsFile = filepath.Join(home, ".aws", "credentials")
	}
	keys := map[string]string{}
	sections := []string{"profile " + profile}
	if profile == "default" {
		sections = append(sections, "default")
	}
	for _, f := range []struct {
		path     string
		sections []string
	}{{configFile, sections}, {credsFile, []string{profile}}} {
		if err := readINISection(f.path, f.sections, keys); err != nil {
			return Hints{}, err
		}
	}
	var h Hints
	h.DbUser = keys["dbuser"]
	if v, ok := keys["dbgroups"]; ok {
		h.DbGroups = splitGroups(v)
	}
	for k, dst := range map[string]**bool{"autocreate": &h.AutoCreate, "forcelowercase": &h.ForceLowercase} {
		if v, ok := keys[k]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Hints{}, configError("AWS profile %s: %s=%q is not a boolean", profile, k, v)
			}
			*dst = &b
		}
	}
	return h, nil
}

// readINISection adds the keys of the named sections of an AWS shared
// config or credentials file to keys (names normalized: lower case, no "_").
// Indented lines (sub-sections such as s3 = …) and comments are skipped.
func readINISection(path string, sections []string, keys map[string]string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			name := strings.TrimSpace(strings.Trim(line, "[]"))
			name = strings.Join(strings.Fields(name), " ")
			in = slices.Contains(sections, name)
			continue
		case !in || raw[0] == ' ' || raw[0] == '\t':
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		keys[normalizeKey(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return sc.Err()
}
