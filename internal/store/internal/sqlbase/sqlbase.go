package sqlbase

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/store"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int    // from the file name: 0001_init.sql -> 1
	Name    string // the file name
	SQL     string
}

// LoadMigrations reads dir/*.sql from fsys. File names must look like
// NNNN_description.sql; versions must be unique and start at 1 without gaps.
// The result is sorted by version.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("load migrations: bad file name %q (want NNNN_name.sql)", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load migrations: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("load migrations: %s: version %d, want %d (duplicate or gap)", m.Name, m.Version, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("load migrations: none in %q", dir)
	}
	return ms, nil
}

// NameKey is the unique key of a case-insensitive name.
func NameKey(name string) string { return strings.ToLower(name) }

// EncodeTags encodes tags as a JSON object ("{}" when empty).
func EncodeTags(tags map[string]string) (string, error) {
	if len(tags) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return "", fmt.Errorf("encode tags: %w", err)
	}
	return string(b), nil
}

// DecodeTags decodes what EncodeTags produced; no tags give nil.
func DecodeTags(s string) (map[string]string, error) {
	var tags map[string]string
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// Time normalizes t the way the stores keep it: UTC, truncated to the
// microsecond.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CheckKeyUpdate verifies that an access key updater changed only what it
// may change (SealedSecret, Status, LastUsedAt).
func CheckKeyUpdate(old, updated store.AccessKey) error {
	switch {
	case updated.ID != old.ID:
		return fmt.Errorf("update access key %q: the ID cannot change", old.ID)
	case NameKey(updated.UserName) != NameKey(old.UserName):
		return fmt.Errorf("update access key %q: the user name cannot change", old.ID)
	case !Time(updated.CreatedAt).Equal(Time(old.CreatedAt)):
		return fmt.Errorf("update access key %q: the creation time cannot change", old.ID)
	}
	return nil
}

// Secret returns b, or an empty non-nil slice for nil, so that a NOT NULL
// column accepts it.
func Secret(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Owner describes where the principals of one kind live: the table of the
// users, groups or roles, and the column of inline_policies,
// policy_attachments (and group_members, for users) that refers to it. Both
// are constants: SQL built from them never contains a value.
type Owner struct {
	Kind   store.PrincipalKind
	Table  string // users, groups, roles
	Column string // user_key, group_key, role_key
}

// OwnerOf returns the Owner of kind, or an error for an unknown kind.
func OwnerOf(kind store.PrincipalKind) (Owner, error) {
	switch kind {
	case store.KindUser:
		return Owner{kind, "users", "user_key"}, nil
	case store.KindGroup:
		return Owner{kind, "groups", "group_key"}, nil
	case store.KindRole:
		return Owner{kind, "roles", "role_key"}, nil
	}
	return Owner{}, fmt.Errorf("unknown principal kind %q (want user, group or role)", kind)
}

// VersionID formats a policy version number: 3 -> "v3".
func VersionID(n int) string { return "v" + strconv.Itoa(n) }

// ParseVersionID parses what VersionID produced; anything else (including
// "v0", "V3" and "v03") is not a version id.
func ParseVersionID(id string) (int, bool) {
	digits, ok := strings.CutPrefix(id, "v")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// EffectiveSource formats store.EffectivePolicy.Source.
func EffectiveSource(kind store.PrincipalKind, owner, policy string, managed bool, versionID string) string {
	if managed {
		return string(kind) + "/" + owner + "/managed/" + policy + "@" + versionID
	}
	return string(kind) + "/" + owner + "/inline/" + policy
}

// DeleteConflict is the error of deleting a record that is still
// referenced: causes are what still refers to it ("access keys", "group
// members", …), named in the message.
func DeleteConflict(what, name string, causes []string) error {
	return fmt.Errorf("delete %s %q: the %s still has %s: %w", what, name, what, strings.Join(causes, ", "), store.ErrConflict)
}

// Causes returns the names whose flag is set, in order.
func Causes(flags []bool, names []string) []string {
	var out []string
	for i, f := range flags {
		if f {
			out = append(out, names[i])
		}
	}
	return out
}

// EffectiveSQL returns the one statement that reads the effective policies
// of a principal of kind o (see store.PolicyStore.EffectivePolicies). param
// is the backend's spelling of the first bind parameter ("?1", "$1"), which
// is the principal's name key; it is the only parameter.
//
// Each row is (part, owner_key, owner, managed, policy_key, policy, version,
// document): part 0 is a marker row that exists exactly when the principal
// does (it carries no policy), part 1 the principal's own policies, part 2
// (users only) its groups' policies. managed is 0 or 1; version is 0 for
// inline policies. The rows come in the order EffectivePolicies promises.
// The tables and columns spliced in are constants of o.
func EffectiveSQL(o Owner, param string) string {
	own := func(part, from, ownerCol, where string) string {
		return `SELECT ` + part + `, o.name_key, o.name, 0, p.name_key, p.name, 0, p.document
		 FROM ` + from + `
		 JOIN inline_policies p ON p.` + ownerCol + ` = o.name_key
		 WHERE ` + where + `
		 UNION ALL
		 SELECT ` + part + `, o.name_key, o.name, 1, mp.name_key, mp.name, v.version, v.document
		 FROM ` + from + `
		 JOIN policy_attachments a ON a.` + ownerCol + ` = o.name_key
		 JOIN managed_policies mp ON mp.name_key = a.policy_key
		 JOIN policy_versions v ON v.policy_key = mp.name_key AND v.version = mp.default_version
		 WHERE ` + where
	}
	q := `SELECT 0, o.name_key, o.name, 0, '', '', 0, '' FROM ` + o.Table + ` o WHERE o.name_key = ` + param + `
		 UNION ALL
		 ` + own("1", o.Table+` o`, o.Column, `o.name_key = `+param)
	if o.Kind == store.KindUser {
		q += `
		 UNION ALL
		 ` + own("2", `group_members m JOIN groups o ON o.name_key = m.group_key`, "group_key", `m.user_key = `+param)
	}
	return q + `
		 ORDER BY 1, 2, 4, 5`
}

// EffectiveRow turns one row of EffectiveSQL (part > 0) into the policy it
// describes; kind is the principal's kind.
func EffectiveRow(kind store.PrincipalKind, part int, owner string, managed int, policy string, version int, document string) store.EffectivePolicy {
	if part == 2 {
		kind = store.KindGroup
	}
	e := store.EffectivePolicy{
		Kind:       kind,
		Owner:      owner,
		PolicyName: policy,
		Managed:    managed != 0,
		Document:   document,
	}
	if e.Managed {
		e.VersionID = VersionID(version)
	}
	e.Source = EffectiveSource(e.Kind, e.Owner, e.PolicyName, e.Managed, e.VersionID)
	return e
}
