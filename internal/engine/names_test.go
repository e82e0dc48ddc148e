package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestValidateRoleName(t *testing.T) {
	for name, tc := range map[string]struct {
		in string
		ok bool
	}{
		"plain":              {"alice", true},
		"redshift prefix":    {"IAM:alice", true},
		"redshift auto":      {"IAMA:alice:7f3a", true},
		"mixed case":         {"Alice.Smith@example.com", true},
		"63 bytes":           {strings.Repeat("a", 63), true},
		"inner space":        {"jane doe", true},
		"cyrillic a":         {"\u0430lice", true}, // a distinct role: quoting is exact
		"semicolon dashes":   {"a;b--c", true},
		"empty":              {"", false},
		"64 bytes":           {strings.Repeat("a", 64), false},
		"200 chars":          {strings.Repeat("x", 200), false},
		"multibyte over 63":  {strings.Repeat("é", 32), false}, // 64 bytes
		"injection":          {`x"; DROP ROLE postgres; --`, false},
		"single quote":       {"o'brien", false},
		"backslash":          {`a\b`, false},
		"nul":                {"a\x00b", false},
		"newline":            {"a\nb", false},
		"tab":                {"a\tb", false},
		"del":                {"a\x7fb", false},
		"c1 control":         {"a\u0085b", false},
		"zero width joiner":  {"al\u200dice", false},
		"bidi override":      {"al\u202eice", false},
		"bom":                {"\ufeffalice", false},
		"nbsp":               {"a\u00a0b", false},
		"line separator":     {"a\u2028b", false},
		"leading space":      {" alice", false},
		"trailing space":     {"alice ", false},
		"invalid utf8":       {"a\xffb", false},
		"pg prefix":          {"pg_foo", false},
		"PG prefix":          {"PG_foo", false},
		"public":             {"public", false},
		"PUBLIC":             {"PUBLIC", false},
		"none":               {"None", false},
		"current_user":       {"CURRENT_USER", false},
		"session_user":       {"session_user", false},
		"current_role":       {"current_role", false},
		"publicity":          {"publicity", true},
		"private use":        {"a\ue000b", false},
		"replacement char":   {"a\ufffdb", false},
		"prefix pg no under": {"pgadmin", true},
	} {
		t.Run(name, func(t *testing.T) {
			err := ValidateRoleName(tc.in)
			if tc.ok && err != nil {
				t.Fatalf("ValidateRoleName(%q) = %v, want ok", tc.in, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidName) {
				t.Fatalf("ValidateRoleName(%q) = %v, want ErrInvalidName", tc.in, err)
			}
		})
	}
}

func TestValidateDatabaseName(t *testing.T) {
	for _, ok := range []string{"dev", "public", "pg_like_is_fine_for_databases", "analytics-2"} {
		if err := ValidateDatabaseName(ok); err != nil {
			t.Errorf("ValidateDatabaseName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("d", 64), `a"b`, "a\x00", "a\nb"} {
		if err := ValidateDatabaseName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateDatabaseName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

func FuzzValidateRoleName(f *testing.F) {
	for _, s := range []string{"alice", "IAM:alice", `x"; DROP ROLE postgres; --`, "pg_x", "PUBLIC", "a\x00", "\u0430lice", strings.Repeat("é", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateRoleName(s) != nil {
			return
		}
		// Everything accepted is short, valid UTF-8, printable and free of
		// quoting characters.
		if len(s) == 0 || len(s) > MaxNameLength || !utf8.ValidString(s) {
			t.Fatalf("accepted %q", s)
		}
		if strings.ContainsAny(s, "\"'\\\x00") || strings.HasPrefix(strings.ToLower(s), "pg_") {
			t.Fatalf("accepted %q", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}

func validRequest() IssueRequest {
	return IssueRequest{
		LoginName:  "IAM:alice:1",
		DbUser:     "alice",
		Groups:     []string{"readers"},
		Password:   Secret(strings.Repeat("p", 43)),
		ValidUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Comment:    "arn:aws:iam::123456789012:user/alice",
	}
}

func TestIssueRequestValidate(t *testing.T) {
	now := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		mutate func(*IssueRequest)
		want   error
	}{
		"ok":                 {func(*IssueRequest) {}, nil},
		"db name":            {func(r *IssueRequest) { r.DbName = "dev" }, nil},
		"bad login":          {func(r *IssueRequest) { r.LoginName = "pg_x" }, ErrInvalidName},
		"bad user":           {func(r *IssueRequest) { r.DbUser = `x"; DROP ROLE postgres; --` }, ErrInvalidName},
		"bad db":             {func(r *IssueRequest) { r.DbName = "a\x00" }, ErrInvalidName},
		"bad group":          {func(r *IssueRequest) { r.Groups = []string{"public"} }, ErrInvalidName},
		"group is user":      {func(r *IssueRequest) { r.Groups = []string{"alice"} }, ErrInvalidName},
		"login is user":      {func(r *IssueRequest) { r.LoginName = "alice" }, ErrInvalidName},
		"short password":     {func(r *IssueRequest) { r.Password = "short" }, ErrInvalidRequest},
		"long password":      {func(r *IssueRequest) { r.Password = Secret(strings.Repeat("p", 1025)) }, ErrInvalidRequest},
		"non-ascii password": {func(r *IssueRequest) { r.Password = Secret(strings.Repeat("é", 20)) }, ErrInvalidRequest},
		"space password":     {func(r *IssueRequest) { r.Password = Secret(strings.Repeat("p", 40) + " ") }, ErrInvalidRequest},
		"no expiry":          {func(r *IssueRequest) { r.ValidUntil = time.Time{} }, ErrInvalidRequest},
		"past expiry":        {func(r *IssueRequest) { r.ValidUntil = now }, ErrInvalidRequest},
		"comment control":    {func(r *IssueRequest) { r.Comment = "a\nb" }, ErrInvalidRequest},
		"comment too long":   {func(r *IssueRequest) { r.Comment = strings.Repeat("c", MaxCommentLength+1) }, ErrInvalidRequest},
	} {
		t.Run(name, func(t *testing.T) {
			r := validRequest()
			tc.mutate(&r)
			err := r.Validate(now)
			if tc.want == nil && err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), r.Password.Reveal()) {
				t.Fatalf("error %q contains the password", err)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	r := validRequest()
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), r.Password.String()} {
		if strings.Contains(s, r.Password.Reveal()) {
			t.Fatalf("formatted request contains the password: %s", s)
		}
	}
	if r.Password.String() != "[redacted]" {
		t.Fatalf("String() = %q", r.Password.String())
	}
}

func TestCapabilitiesProblems(t *testing.T) {
	good := Capabilities{
		ServerVersion: "15.4", ServerVersionNum: 150004, User: "dbiam",
		CreateRole: true, CanTerminate: true, CanSuppressLogs: true,
		Databases: []DatabaseInfo{
			{Name: "dev", AllowConnections: true, CanGrantConnect: true},
			{Name: "template0", IsTemplate: true, PublicConnect: true},
		},
	}
	if p := good.Problems(); len(p) != 0 || !good.CanIssue() {
		t.Fatalf("Problems = %q, CanIssue = %v", p, good.CanIssue())
	}
	bad := Capabilities{
		ServerVersion: "14.9", ServerVersionNum: 140009, User: "weak",
		Databases: []DatabaseInfo{
			{Name: "open", AllowConnections: true, PublicConnect: true},
			{Name: "closed", AllowConnections: true},
		},
	}
	p := strings.Join(bad.Problems(), "\n")
	for _, want := range []string{"older than PostgreSQL 15", "neither SUPERUSER nor CREATEROLE", "pg_signal_backend", "statement logging", "PUBLIC holds CONNECT on database open", "cannot grant CONNECT on database closed"} {
		if !strings.Contains(p, want) {
			t.Errorf("Problems lacks %q:\n%s", want, p)
		}
	}
	if bad.CanIssue() {
		t.Error("CanIssue = true")
	}
}

func TestManagedLoginExpired(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		l    ManagedLogin
		want bool
	}{
		"live":      {ManagedLogin{ValidUntil: now.Add(time.Second)}, false},
		"at expiry": {ManagedLogin{ValidUntil: now}, true},
		"past":      {ManagedLogin{ValidUntil: now.Add(-time.Second)}, true},
		"no expiry": {ManagedLogin{}, true},
		"disabled":  {ManagedLogin{ValidUntil: now.Add(time.Hour), Disabled: true}, true},
	} {
		if got := tc.l.Expired(now); got != tc.want {
			t.Errorf("%s: Expired = %v", name, got)
		}
	}
}
