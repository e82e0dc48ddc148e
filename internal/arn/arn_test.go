package arn

import (
	"errors"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ARN
		err  string
	}{
		{name: "redshift dbuser", in: "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice",
			want: ARN{"aws", "redshift", "us-west-2", "123456789012", "dbuser:examplecluster/alice"}},
		{name: "iam role with path", in: "arn:aws:iam::123456789012:role/path/Admin",
			want: ARN{"aws", "iam", "", "123456789012", "role/path/Admin"}},
		{name: "s3 bucket without account", in: "arn:aws:s3:::bucket/key:with:colons",
			want: ARN{"aws", "s3", "", "", "bucket/key:with:colons"}},
		{name: "aws managed policy", in: "arn:aws:iam::aws:policy/AdministratorAccess",
			want: ARN{"aws", "iam", "", "aws", "policy/AdministratorAccess"}},
		{name: "saml provider", in: "arn:aws-us-gov:iam::123456789012:saml-provider/Okta",
			want: ARN{"aws-us-gov", "iam", "", "123456789012", "saml-provider/Okta"}},
		{name: "assumed role", in: "arn:aws:sts::123456789012:assumed-role/R/alice@example.com",
			want: ARN{"aws", "sts", "", "123456789012", "assumed-role/R/alice@example.com"}},
		{name: "empty", in: "", err: "6 colon-separated parts"},
		{name: "five parts", in: "arn:aws:iam::123456789012", err: "6 colon-separated parts"},
		{name: "wrong prefix", in: "ARN:aws:iam::123456789012:root", err: `"arn:"`},
		{name: "empty partition", in: "arn::iam::123456789012:root", err: "partition"},
		{name: "upper-case service", in: "arn:aws:IAM::123456789012:root", err: "service"},
		{name: "empty service", in: "arn:aws:::123456789012:root", err: "service"},
		{name: "bad region", in: "arn:aws:ec2:us_east_1:123456789012:instance/i", err: "region"},
		{name: "bad account", in: "arn:aws:iam::12345678901x:root", err: "account"},
		{name: "empty resource", in: "arn:aws:iam::123456789012:", err: "empty resource"},
		{name: "space in resource", in: "arn:aws:iam::123456789012:user/a b", err: "space"},
		{name: "control in resource", in: "arn:aws:iam::123456789012:user/a\x00", err: "control"},
		{name: "invalid utf-8", in: "arn:aws:iam::123456789012:user/\xff", err: "UTF-8"},
		{name: "too long", in: "arn:aws:s3:::" + strings.Repeat("a", MaxLength), err: "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) error = %v, want containing %q", tt.in, err, tt.err)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v is not ErrMalformed", err)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T is not *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestResourceType(t *testing.T) {
	tests := []struct{ res, typ, id string }{
		{"dbuser:examplecluster/alice", "dbuser", "examplecluster/alice"},
		{"role/path/name", "role", "path/name"},
		{"bucket", "", "bucket"},
		{"cluster:examplecluster", "cluster", "examplecluster"},
	}
	for _, tt := range tests {
		typ, id := ARN{Resource: tt.res}.ResourceType()
		if typ != tt.typ || id != tt.id {
			t.Errorf("ResourceType(%q) = %q, %q; want %q, %q", tt.res, typ, id, tt.typ, tt.id)
		}
	}
}

func TestAccountOf(t *testing.T) {
	tests := []struct {
		in, acct string
		ok       bool
	}{
		{"arn:aws:redshift:us-west-2:123456789012:dbuser:c/u", "123456789012", true},
		{"arn:aws:s3:::b", "", true},
		{"*", "", false},
		{"arn:aws:iam::1", "", false},
		{"foo:aws:iam::1:x", "", false},
	}
	for _, tt := range tests {
		acct, ok := AccountOf(tt.in)
		if acct != tt.acct || ok != tt.ok {
			t.Errorf("AccountOf(%q) = %q, %v; want %q, %v", tt.in, acct, ok, tt.acct, tt.ok)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"a*", "a", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*c", "abc", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true}, // ? is one rune, not one byte
		{"??", "é", false},
		{"*/temp_*", "examplecluster/temp_x", true},
		{"a*a*a*a*b", strings.Repeat("a", 64), false},
		{"a*a*a*a*b", strings.Repeat("a", 64) + "b", true},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"x", "X", false},
		{"\xff*", "*", true},    // quoted star is literal
		{"\xff*", "a", false},   // … and not a wildcard
		{"a\xff?", "a?", true},  // quoted question mark
		{"a\xff?", "ab", false}, // … literal only
		{"\xff", "\xff", true},  // a trailing quote byte is itself
	}
	for _, tt := range tests {
		if got := Glob(tt.p, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
		if got := GlobBytes([]byte(tt.p), tt.s); got != tt.want {
			t.Errorf("GlobBytes(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

func TestGlobFold(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"redshift:getclustercredentials", "redshift:GetClusterCredentials", true},
		{"redshift:get*", "REDSHIFT:GetClusterCredentials", true},
		{"redshift:get?lustercredentials", "redshift:GetClusterCredentials", true},
		{"sts:assumerole", "sts:AssumeRoleWithSAML", false},
		{"k", "\u212a", true}, // Kelvin sign folds to k
		{"straße", "STRASSE", false},
		{"ÉTÉ", "été", true},
		{"\xc0", "\xc1", false}, // invalid bytes are compared exactly
		{"\xc0", "\xc0", true},
	}
	for _, tt := range tests {
		if got := GlobFold(tt.p, tt.s); got != tt.want {
			t.Errorf("GlobFold(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
		if got := GlobFoldBytes([]byte(tt.p), tt.s); got != tt.want {
			t.Errorf("GlobFoldBytes(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

func TestMatchLike(t *testing.T) {
	const v = "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice"
	tests := []struct {
		name, p, v string
		want       bool
	}{
		{"exact", v, v, true},
		{"star alone", "*", v, true},
		{"star alone non-arn", "*", "not an arn", true},
		{"region wildcard", "arn:aws:redshift:*:123456789012:dbuser:examplecluster/alice", v, true},
		{"resource star spans colon and slash", "arn:aws:redshift:us-west-2:123456789012:*", v, true},
		{"resource star inside", "arn:aws:redshift:us-west-2:123456789012:dbuser:*/alice", v, true},
		{"resource star crosses colon", "arn:aws:redshift:us-west-2:123456789012:*/alice", v, true},
		{"account question marks", "arn:aws:redshift:us-west-2:????????????:dbuser:*", v, true},
		{"component star does not cross colon", "arn:aws:*:123456789012:dbuser:examplecluster/alice", v, false},
		{"five-part pattern", "arn:aws:redshift:us-west-2:*", v, false},
		{"value not an arn", "arn:aws:*:*:*:*", "user/alice", false},
		{"case-sensitive", "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/Alice", v, false},
		{"other service", "arn:aws:iam::*:*", v, false},
		{"role path wildcard", "arn:aws:iam::123456789012:role/*", "arn:aws:iam::123456789012:role/a/b", true},
		{"quoted star literal", "arn:aws:iam::123456789012:user/\xff*", "arn:aws:iam::123456789012:user/*", true},
		{"quoted star not wildcard", "arn:aws:iam::123456789012:user/\xff*", "arn:aws:iam::123456789012:user/bob", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchLike(tt.p, tt.v); got != tt.want {
				t.Errorf("MatchLike(%q, %q) = %v, want %v", tt.p, tt.v, got, tt.want)
			}
			if got := MatchLikeBytes([]byte(tt.p), tt.v); got != tt.want {
				t.Errorf("MatchLikeBytes(%q, %q) = %v, want %v", tt.p, tt.v, got, tt.want)
			}
		})
	}
}

func TestMatchResource(t *testing.T) {
	tests := []struct {
		name, p, v string
		want       bool
	}{
		// Redshift management guide examples (spec §3.3 a, b).
		{"a: single user", "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/temp_creds_user",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/temp_creds_user", true},
		{"a: other user", "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/temp_creds_user",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/temp_creds_user2", false},
		{"b: temp_ users on any cluster", "arn:aws:redshift:us-west-2:123456789012:dbuser:*/temp_*",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:othercluster/temp_bob", true},
		{"b: not temp_", "arn:aws:redshift:us-west-2:123456789012:dbuser:*/temp_*",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:othercluster/bob", false},
		{"b: inner star stays in its segment", "arn:aws:redshift:us-west-2:123456789012:dbuser:*/temp_*",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:a:b/temp_x", false},
		{"c: star", "*", "arn:aws:redshift:us-west-2:123456789012:dbgroup:examplecluster/g", true},
		{"star matches request star", "*", "*", true},
		{"arn does not match request star", "arn:aws:redshift:*:*:*", "*", false},
		// IAM Resource element page.
		{"users under a path", "arn:aws:iam::123456789012:user/accounting/*",
			"arn:aws:iam::123456789012:user/accounting/bob", true},
		{"case-sensitive user name", "arn:aws:iam::123456789012:user/Bob", "arn:aws:iam::123456789012:user/bob", false},
		{"s3 star spans slashes", "arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1/2/test/3/object.jpg", true},
		{"s3 star spans slashes negative", "arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1-test/object.jpg", false},
		{"trailing star of a segment crosses colons", "arn:aws:iam::*", "arn:aws:iam::123456789012:role/x", true},
		{"segment-final star before colon", "arn:aws:redshift:*:123456789012:dbuser:c/u",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:c/u", true},
		{"question mark is one char", "arn:aws:iam::12345678901?:root", "arn:aws:iam::123456789012:root", true},
		{"question mark is not a colon", "arn:aws:iam:?123456789012:root", "arn:aws:iam::123456789012:root", false},
		{"bounded star before literal", "arn:aws:redshift:us-*-2:123456789012:dbuser:c/u",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:c/u", true},
		{"bounded star cannot reach across", "arn:aws:*-2:123456789012:dbuser:c/u",
			"arn:aws:redshift:us-west-2:123456789012:dbuser:c/u", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchResource(tt.p, tt.v); got != tt.want {
				t.Errorf("MatchResource(%q, %q) = %v, want %v", tt.p, tt.v, got, tt.want)
			}
			if got := MatchResourceBytes([]byte(tt.p), tt.v); got != tt.want {
				t.Errorf("MatchResourceBytes(%q, %q) = %v, want %v", tt.p, tt.v, got, tt.want)
			}
			if got := refResource(tt.p, tt.v); got != tt.want {
				t.Errorf("reference(%q, %q) = %v, want %v (test table bug?)", tt.p, tt.v, got, tt.want)
			}
		})
	}
}

func TestQuoteMeta(t *testing.T) {
	for _, s := range []string{"", "plain", "a*b?c", "\xff", "${*}", "*?\xff*"} {
		q := QuoteMeta(s)
		if !Glob(q, s) {
			t.Errorf("Glob(QuoteMeta(%q)=%q, %q) = false", s, q, s)
		}
		if s != "" && Glob(q, s+"x") {
			t.Errorf("QuoteMeta(%q) matches a longer string", s)
		}
		if strings.ContainsAny(s, "*?") && Glob(q, strings.NewReplacer("*", "Z", "?", "Y").Replace(s)) {
			t.Errorf("QuoteMeta(%q) still has live wildcards", s)
		}
	}
}

// TestNoAllocs: the matchers are on the authorization hot path.
func TestNoAllocs(t *testing.T) {
	p := []byte("arn:aws:redshift:us-west-2:123456789012:dbuser:*/temp_*")
	v := "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/temp_alice"
	ps := string(p)
	n := testing.AllocsPerRun(100, func() {
		_ = MatchResourceBytes(p, v)
		_ = MatchResource(ps, v)
		_ = GlobBytes(p, v)
		_ = MatchLikeBytes(p, v)
		_ = GlobFold("redshift:get*", "redshift:GetClusterCredentials")
		_, _ = AccountOf(v)
	})
	if n != 0 {
		t.Fatalf("matchers allocate %v times per run", n)
	}
}

// TestLinearTime: a pathological pattern against a long value finishes
// quickly (an exponential matcher would not finish at all).
func TestLinearTime(t *testing.T) {
	p := strings.Repeat("a*", 200) + "b"
	s := strings.Repeat("a", 2000)
	if Glob(p, s) || GlobFold(p, s) || MatchResource(p, s) || MatchLike("arn:"+p+":x:x:x:x", "arn:"+s+":x:x:x:x") {
		t.Fatal("pathological pattern matched")
	}
	// A long literal run after a star, against a long value: the run is
	// searched for, not re-compared at every position.
	long := "*" + strings.Repeat("a", 5000) + "b"
	value := strings.Repeat("a", 100000)
	if Glob(long, value) || MatchResource(long, value) || GlobBytes([]byte(long), value) || MatchResourceBytes([]byte(long), value) {
		t.Fatal("long-run pattern matched")
	}
	p2 := "arn:" + strings.Repeat("a*", 100) + ":" + strings.Repeat("*a", 100) + "*:b"
	s2 := "arn:" + strings.Repeat("a", 1000) + ":" + strings.Repeat("a:", 500)
	if MatchResource(p2, s2) {
		t.Fatal("pathological resource pattern matched")
	}
}

// TestStdlibOnly enforces the package rule: non-test files import only the
// standard library.
func TestStdlibOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s; arn may import only the standard library", name, path)
			}
			switch path {
			case "os", "io/ioutil", "net/http", "time", "math/rand", "math/rand/v2", "crypto/rand", "unsafe":
				t.Errorf("%s imports %s; arn does no I/O, reads no clock and uses no randomness", name, path)
			}
		}
	}
}
