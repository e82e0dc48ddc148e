package devidp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dbiam/dbiam/internal/secret"
)

// MaxUsersFileBytes caps the users file.
const MaxUsersFileBytes = 1 << 20

// User is one entry of the users file. Field names are the YAML keys.
type User struct {
	// Username is what the login form and the API take; it is also the
	// SAML NameID. 1–64 characters of [a-zA-Z0-9_+=,.@-].
	Username string `yaml:"username"`
	// Password is compared in constant time. Development only: the file
	// holds it in clear text.
	Password secret.String `yaml:"password"`
	// Roles are "roleArn,providerArn" pairs (either order), role ARNs
	// (paired with this IdP's provider ARN), or role names such as
	// "RedshiftSSO" or "team/RedshiftSSO", which expand to
	// arn:aws:iam::<account>:role/<name>,arn:aws:iam::<account>:saml-provider/<provider>.
	Roles []string `yaml:"roles"`
	// SessionName is the RoleSessionName attribute; Username if empty.
	SessionName string `yaml:"session_name"`
	// DBUser, DBGroups and AutoCreate are the Redshift attributes the
	// JDBC/ODBC/Python drivers read; omitted when empty/unset.
	DBUser     string   `yaml:"db_user"`
	DBGroups   []string `yaml:"db_groups"`
	AutoCreate *bool    `yaml:"auto_create"`
	// SessionDuration is the SessionDuration attribute (900 s to 12 h);
	// YAML takes seconds (3600) or a Go duration ("1h"). 0 omits it.
	SessionDuration Duration `yaml:"session_duration"`
	// PrincipalTags become PrincipalTag:{Key} attributes (session tags; the
	// role's trust policy must allow sts:TagSession).
	PrincipalTags map[string]string `yaml:"principal_tags"`
	// SourceIdentity is the SourceIdentity attribute (the trust policy must
	// allow sts:SetSourceIdentity); omitted when empty.
	SourceIdentity string `yaml:"source_identity"`
}

// Duration is a session duration read from YAML as an integer number of
// seconds or a Go duration string.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("session_duration must be seconds or a duration such as 1h")
	}
	if secs, err := strconv.Atoi(n.Value); err == nil {
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return errors.New("session_duration must be seconds or a duration such as 1h")
	}
	*d = Duration(v)
	return nil
}

// RolePair is one value of the Role attribute.
type RolePair struct{ RoleARN, ProviderARN string }

// String returns the attribute value "roleArn,providerArn".
func (p RolePair) String() string { return p.RoleARN + "," + p.ProviderARN }

// Same patterns as internal/saml and AWS.
var (
	usernameRe    = regexp.MustCompile(`^[a-zA-Z0-9_+=,.@-]{1,64}$`)
	sessionNameRe = regexp.MustCompile(`^[a-zA-Z_0-9+=,.@-]{2,64}$`)
	roleARNRe     = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	providerARNRe = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:saml-provider/[\w.-]{1,128}$`)
	roleNameRe    = regexp.MustCompile(`^(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	accountRe     = regexp.MustCompile(`^[0-9]{12}$`)
	providerRe    = regexp.MustCompile(`^[\w.-]{1,128}$`)
	tagKeyRe      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	tagValueRe    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
	// Redshift's documented DbUser rule, relaxed to allow upper case (the
	// drivers lowercase it themselves).
	dbUserRe  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_+.@$-]{0,126}$`)
	dbGroupRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_+.@$-]{0,126}$`)
)

// usersFile is the YAML document: either a list of users or {users: [...]}.
type usersFile struct {
	Users []User `yaml:"users"`
}

// LoadUsers reads and parses a users file (see ParseUsers).
func LoadUsers(path string) ([]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read users file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxUsersFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read users file: %w", err)
	}
	users, err := ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return users, nil
}

// ParseUsers parses a users file: a YAML mapping with a "users" list, or
// the list itself. Unknown keys are errors. It checks the syntax of every
// field (so that a bad file fails at start, not at STS), but role names are
// expanded only by New, which knows the account and provider. Error
// messages name the user and field, never a password.
func ParseUsers(data []byte) ([]User, error) {
	if len(data) > MaxUsersFileBytes {
		return nil, errors.New("the file is larger than 1 MiB")
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", yamlErr(err))
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, errors.New("the file must hold one YAML document with a users list")
	}
	doc := root.Content[0]
	var uf usersFile
	switch doc.Kind {
	case yaml.SequenceNode:
		var list []User
		if err := decodeStrict(doc, &list); err != nil {
			return nil, err
		}
		uf.Users = list
	case yaml.MappingNode:
		if err := decodeStrict(doc, &uf); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("the file must hold a users list")
	}
	if len(uf.Users) == 0 {
		return nil, errors.New("no users")
	}
	seen := map[string]bool{}
	var probs []string
	for i, u := range uf.Users {
		where := fmt.Sprintf("users[%d]", i)
		if u.Username != "" {
			where += " (" + u.Username + ")"
		}
		for _, p := range checkUser(u) {
			probs = append(probs, where+": "+p)
		}
		if seen[u.Username] {
			probs = append(probs, where+": duplicate username")
		}
		seen[u.Username] = true
	}
	if len(probs) > 0 {
		return nil, errors.New(strings.Join(probs, "; "))
	}
	return uf.Users, nil
}

// decodeStrict decodes n into v, refusing unknown keys.
func decodeStrict(n *yaml.Node, v any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return fmt.Errorf("parse YAML: %w", err)
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("parse YAML: %w", yamlErr(err))
	}
	return nil
}

// yamlErr keeps yaml's line-numbered messages but drops quoted input
// values, which could be a password.
func yamlErr(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var out []string
		for _, e := range te.Errors {
			out = append(out, redactQuoted(e))
		}
		return errors.New(strings.Join(out, "; "))
	}
	return errors.New(redactQuoted(err.Error()))
}

var quotedRe = regexp.MustCompile("`[^`]*`")

func redactQuoted(s string) string { return quotedRe.ReplaceAllString(s, "`…`") }

// checkUser returns the problems of one user's fields.
func checkUser(u User) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if !usernameRe.MatchString(u.Username) {
		add("username must be 1-64 characters of [a-zA-Z0-9_+=,.@-]")
	}
	if u.Password.IsZero() {
		add("password is required")
	}
	if len(u.Roles) == 0 {
		add("roles: at least one role is required")
	}
	for j, r := range u.Roles {
		if _, ok := parseRole(r, "000000000000", "p"); !ok {
			add("roles[%d]: want a role name, a role ARN or a \"roleArn,providerArn\" pair", j)
		}
	}
	sn := u.SessionName
	if sn == "" {
		sn = u.Username
	}
	if !sessionNameRe.MatchString(sn) {
		add("session_name (default: username) must match [a-zA-Z_0-9+=,.@-]{2,64}")
	}
	if u.DBUser != "" && !dbUserRe.MatchString(u.DBUser) {
		add("db_user must begin with a letter or _ and hold up to 127 letters, digits and _+.@$-")
	}
	for j, g := range u.DBGroups {
		if !dbGroupRe.MatchString(g) {
			add("db_groups[%d] must begin with a letter or _ and hold up to 127 letters, digits and _+.@$-", j)
		}
	}
	if d := time.Duration(u.SessionDuration); d != 0 && (d < 900*time.Second || d > 12*time.Hour || d%time.Second != 0) {
		add("session_duration must be whole seconds between 900 (15m) and 43200 (12h)")
	}
	if len(u.PrincipalTags) > 50 {
		add("principal_tags: at most 50 tags")
	}
	lower := map[string]bool{}
	for _, k := range sortedKeys(u.PrincipalTags) {
		switch {
		case !tagKeyRe.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:"):
			add("principal_tags: key %q is not a valid tag key", k)
		case lower[strings.ToLower(k)]:
			add("principal_tags: key %q repeats another key ignoring case", k)
		case !tagValueRe.MatchString(u.PrincipalTags[k]):
			add("principal_tags: the value of %q is not a valid tag value", k)
		}
		lower[strings.ToLower(k)] = true
	}
	if s := u.SourceIdentity; s != "" && (!sessionNameRe.MatchString(s) || strings.HasPrefix(strings.ToLower(s), "aws:")) {
		add("source_identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with aws:")
	}
	return probs
}

// parseRole expands one roles entry.
func parseRole(s, account, provider string) (RolePair, bool) {
	providerARN := "arn:aws:iam::" + account + ":saml-provider/" + provider
	if l, r, ok := strings.Cut(s, ",arn:"); ok {
		l, r = strings.TrimSpace(l), "arn:"+strings.TrimSpace(r)
		switch {
		case roleARNRe.MatchString(l) && providerARNRe.MatchString(r):
			return RolePair{RoleARN: l, ProviderARN: r}, true
		case providerARNRe.MatchString(l) && roleARNRe.MatchString(r):
			return RolePair{RoleARN: r, ProviderARN: l}, true
		}
		return RolePair{}, false
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "arn:") {
		if !roleARNRe.MatchString(s) {
			return RolePair{}, false
		}
		return RolePair{RoleARN: s, ProviderARN: providerARN}, true
	}
	if !roleNameRe.MatchString(s) {
		return RolePair{}, false
	}
	return RolePair{RoleARN: "arn:aws:iam::" + account + ":role/" + s, ProviderARN: providerARN}, true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
