package clustercreds

import (
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/engine"
)

// FuzzNames checks the name rules against what reaches PostgreSQL: a
// DbUser, DbName or DbGroup that checkName accepts is a valid role name for
// the engine, has none of the characters that could leave a quoted
// identifier or a comment, and the login name built from it (with any
// prefix) is a valid role name of at most 63 bytes that ends with the
// credential's suffix.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"alice", "svc.reporting-pipeline@analytics.example-corporation.com", `x"; DROP ROLE postgres; --`,
		"PUBLIC", "pg_read_all_data", "аlice", strings.Repeat("a", 63), strings.Repeat("b", 64), "a:b", "a/b", ""} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, name string, lower bool) {
		if msg := checkName("DbUser", name, MaxDbUserBytes, lower); msg != "" {
			return
		}
		if err := engine.ValidateRoleName(name); err != nil {
			t.Fatalf("checkName accepted %q, the engine refuses it: %v", name, err)
		}
		if strings.ContainsAny(name, "\"'\\;:/ \t\n\x00") || strings.HasPrefix(strings.ToLower(name), "pg_") {
			t.Fatalf("checkName accepted %q", name)
		}
		for _, prefix := range []string{prefixIAM, prefixIAMCreate, prefixIAMRole} {
			login := loginName(prefix+name, "abcdefghij")
			if len(login) > maxRoleNameBytes || !strings.HasSuffix(login, ":abcdefghij") || !strings.HasPrefix(login, prefix) {
				t.Fatalf("login name %q (%d bytes) for %q", login, len(login), name)
			}
			if err := engine.ValidateRoleName(login); err != nil {
				t.Fatalf("login name %q: %v", login, err)
			}
		}
	})
}
