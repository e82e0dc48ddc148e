package devidp_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/devidp"
)

// The shipped example parses, and its users' responses validate.
func TestExampleUsersFile(t *testing.T) {
	users, err := devidp.LoadUsers("../../examples/idp-users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Username != "alice" || users[1].Username != "bob" {
		t.Fatalf("users = %v", users)
	}
	alice := users[0]
	if !slices.Equal(alice.Roles, []string{"RedshiftSSO"}) || alice.DBUser != "alice" || !slices.Equal(alice.DBGroups, []string{"analysts"}) ||
		alice.AutoCreate == nil || !*alice.AutoCreate {
		t.Errorf("alice = %+v", alice)
	}
	if time.Duration(users[1].SessionDuration) != time.Hour {
		t.Errorf("bob's session_duration = %v", time.Duration(users[1].SessionDuration))
	}
	f := newIdP(t, func(c *devidp.Config) { c.Users, c.AccountID = users, "000000000000" })
	for _, u := range []string{"alice", "bob"} {
		resp, err := f.idp.Response(u, "RedshiftSSO", f.now)
		if err != nil {
			t.Fatal(err)
		}
		v, p, _ := f.validator(t, f.now)
		p.ARN = "arn:aws:iam::000000000000:saml-provider/DevIdP"
		a, err := v.Validate(t.Context(), resp, p)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if !a.HasRole("arn:aws:iam::000000000000:role/RedshiftSSO", p.ARN) {
			t.Errorf("%s: roles %v", u, a.Roles)
		}
	}
	if !f.idp.Authenticate("alice", "alice-dev-password") || f.idp.Authenticate("alice", "bob-dev-password") {
		t.Error("Authenticate with the example passwords")
	}
}

func TestParseUsers(t *testing.T) {
	const secretPw = "s3cret-Value-never-in-errors"
	for _, tt := range []struct {
		name, yaml string
		want       string // error substring; "" = valid
	}{
		{"mapping", "users:\n- {username: al, password: p, roles: [R]}\n", ""},
		{"bare list", "- {username: al, password: p, roles: [R]}\n", ""},
		{"duration in seconds", "- {username: al, password: p, roles: [R], session_duration: 900}\n", ""},
		{"duration string", "- {username: al, password: p, roles: [R], session_duration: 12h}\n", ""},
		{"every field", `- username: al
  password: p
  roles: ["arn:aws:iam::123456789012:role/R,arn:aws:iam::123456789012:saml-provider/P", "arn:aws:iam::123456789012:role/x/Y", "path/Name"]
  session_name: al@example.com
  db_user: al
  db_groups: [g1, g2]
  auto_create: false
  session_duration: 1h
  principal_tags: {team: data}
  source_identity: al@example.com
`, ""},
		{"empty", "", "one YAML document"},
		{"no users", "users: []\n", "no users"},
		{"scalar", "hello\n", "users list"},
		{"unknown key", "- {username: al, password: p, roles: [R], group: x}\n", "field group not found"},
		{"typo in top-level key", "user:\n- {username: al}\n", "field user not found"},
		{"wrong type", "- {username: al, password: p, roles: R}\n", "cannot unmarshal"},
		{"wrong type, value hidden", "- {username: al, password: [" + secretPw + "], roles: [R]}\n", "cannot unmarshal"},
		{"missing password", "- {username: al, roles: [R]}\n", "password is required"},
		{"missing roles", "- {username: al, password: p}\n", "at least one role"},
		{"bad username", "- {username: 'a b', password: p, roles: [R]}\n", "username must be"},
		{"short session name", "- {username: a, password: p, roles: [R]}\n", "session_name"},
		{"bad role", "- {username: al, password: p, roles: ['arn:aws:s3:::bucket']}\n", "roles[0]"},
		{"two roles in a pair", "- {username: al, password: p, roles: ['arn:aws:iam::123456789012:role/A,arn:aws:iam::123456789012:role/B']}\n", "roles[0]"},
		{"duplicate", "- {username: al, password: p, roles: [R]}\n- {username: al, password: q, roles: [R]}\n", "duplicate username"},
		{"duration too short", "- {username: al, password: p, roles: [R], session_duration: 60}\n", "session_duration must be"},
		{"duration too long", "- {username: al, password: p, roles: [R], session_duration: 13h}\n", "session_duration must be"},
		{"duration garbage", "- {username: al, password: p, roles: [R], session_duration: soon}\n", "session_duration must be seconds"},
		{"bad db_user", "- {username: al, password: p, roles: [R], db_user: 'a b'}\n", "db_user"},
		{"bad db group", "- {username: al, password: p, roles: [R], db_groups: ['1x']}\n", "db_groups[0]"},
		{"aws: tag", "- {username: al, password: p, roles: [R], principal_tags: {'aws:x': y}}\n", "not a valid tag key"},
		{"tag keys equal ignoring case", "- {username: al, password: p, roles: [R], principal_tags: {Team: a, team: b}}\n", "ignoring case"},
		{"aws: source identity", "- {username: al, password: p, roles: [R], source_identity: 'aws:me'}\n", "source_identity"},
		{"password is not echoed", "- {username: 'bad user', password: " + secretPw + ", roles: [R]}\n", "username must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			users, err := devidp.ParseUsers([]byte(tt.yaml))
			if tt.want == "" {
				if err != nil || len(users) == 0 {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretPw) {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}

func TestLoadUsersFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := devidp.LoadUsers(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", devidp.MaxUsersFileBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devidp.LoadUsers(big); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("big file: %v", err)
	}
	// New loads UsersFile when Users is nil.
	good := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(good, []byte("- {username: al, password: p, roles: [R]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	idp, err := devidp.New(devidp.Config{BaseURL: testBaseURL, UsersFile: good, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if roles, _ := idp.Roles("al"); len(roles) != 1 || roles[0].String() != "arn:aws:iam::000000000000:role/R,arn:aws:iam::000000000000:saml-provider/DevIdP" {
		t.Errorf("roles = %v", roles)
	}
}

func FuzzParseUsers(f *testing.F) {
	for _, s := range []string{
		"users:\n- {username: al, password: p, roles: [R]}\n",
		"- {username: al, password: p, roles: [R], session_duration: 1h, principal_tags: {a: b}}\n",
		"- username: al\n  password: p\n  roles: ['arn:aws:iam::123456789012:role/R,arn:aws:iam::123456789012:saml-provider/P']\n",
		"users: {}\n", "- [", "&a [*a]", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := devidp.ParseUsers(data)
		if err != nil {
			return
		}
		// A file that parses builds an IdP's users without error.
		if len(users) == 0 {
			t.Fatal("no error and no users")
		}
		for _, u := range users {
			if u.Username == "" || u.Password.IsZero() || len(u.Roles) == 0 {
				t.Fatalf("incomplete user accepted: %q", u.Username)
			}
		}
	})
}
