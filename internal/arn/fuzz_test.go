package arn

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// The reference matchers below search exhaustively (memoised recursion over
// pattern and value positions) with the same single-element primitives as
// the real ones; they check the backtracking logic, which is the subtle part.

type refKind int

const (
	refPlain refKind = iota
	refFold
	refRes
)

func refMatch(p, s string, kind refKind) bool {
	memo := make(map[[2]int]bool)
	var rec func(pi, si int) bool
	rec = func(pi, si int) bool {
		key := [2]int{pi, si}
		if v, ok := memo[key]; ok {
			return v
		}
		var r bool
		switch {
		case pi == len(p):
			r = si == len(s)
		case p[pi] == '*':
			canStep := si < len(s)
			if kind == refRes && pi+1 < len(p) && p[pi+1] != ':' && canStep && s[si] == ':' {
				canStep = false // a bounded star stops at ':'
			}
			r = rec(pi+1, si) || canStep && rec(pi, si+runeLen(s, si))
		case si == len(s):
			r = false
		case p[pi] == '?':
			r = !(kind == refRes && s[si] == ':') && rec(pi+1, si+runeLen(s, si))
		default:
			np, ns := lit(p, pi, s, si, kind == refFold)
			r = np > 0 && rec(pi+np, si+ns)
		}
		memo[key] = r
		return r
	}
	return rec(0, 0)
}

func refGlob(p, s string, fold bool) bool {
	if fold {
		return refMatch(p, s, refFold)
	}
	return refMatch(p, s, refPlain)
}

func refResource(p, s string) bool {
	if p == "*" {
		return true
	}
	return refMatch(p, s, refRes)
}

func refLike(p, v string) bool {
	if p == "*" {
		return true
	}
	pc, ok1 := cut5(p, true)
	vc, ok2 := cut5(v, false)
	if !ok1 || !ok2 {
		return false
	}
	ps, vs := 0, 0
	for i := range 5 {
		if strings.Contains(v[vs:vc[i]], ":") {
			return false
		}
		if !refGlob(p[ps:pc[i]], v[vs:vc[i]], false) {
			return false
		}
		ps, vs = pc[i]+1, vc[i]+1
	}
	return refGlob(p[ps:], v[vs:], false)
}

func hasMeta(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '*' || p[i] == '?' || p[i] == Quote {
			return true
		}
	}
	return false
}

func FuzzGlob(f *testing.F) {
	seeds := [][2]string{
		{"", ""},
		{"*", "abc"},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"a?c", "aéc"},
		{"arn:aws:redshift:us-west-2:123456789012:dbuser:*/temp_*", "arn:aws:redshift:us-west-2:123456789012:dbuser:c/temp_x"},
		{"arn:aws:iam::*", "arn:aws:iam::123456789012:role/x"},
		{"arn:*:b*c:*", "arn:x:bc:y:z"},
		{"*:a*b*:c", ":aXb:aYb:c"},
		{"a*:*b", "a:x:b"},
		{"*?*:", "a:b:"},
		{"K\xff*", "\u212a*"},
		{"ÉTÉ*", "été!"},
		{"\xc3*\xa9", "é"},
		{"*\xff?*", "a?b"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 200 || len(s) > 200 {
			return
		}
		if got, want := Glob(p, s), refGlob(p, s, false); got != want {
			t.Fatalf("Glob(%q, %q) = %v, reference %v", p, s, got, want)
		}
		if got, want := GlobFold(p, s), refGlob(p, s, true); got != want {
			t.Fatalf("GlobFold(%q, %q) = %v, reference %v", p, s, got, want)
		}
		if got, want := MatchResource(p, s), refResource(p, s); got != want {
			t.Fatalf("MatchResource(%q, %q) = %v, reference %v", p, s, got, want)
		}
		if got, want := MatchLike(p, s), refLike(p, s); got != want {
			t.Fatalf("MatchLike(%q, %q) = %v, reference %v", p, s, got, want)
		}
		if got := GlobBytes([]byte(p), s); got != Glob(p, s) {
			t.Fatalf("GlobBytes and Glob disagree on (%q, %q)", p, s)
		}
		if got := MatchResourceBytes([]byte(p), s); got != MatchResource(p, s) {
			t.Fatalf("MatchResourceBytes and MatchResource disagree on (%q, %q)", p, s)
		}
		if got := GlobFoldBytes([]byte(p), s); got != GlobFold(p, s) {
			t.Fatalf("GlobFoldBytes and GlobFold disagree on (%q, %q)", p, s)
		}
		// Independent oracles for patterns without metacharacters.
		if !hasMeta(p) {
			if Glob(p, s) != (p == s) {
				t.Fatalf("Glob(%q, %q) without wildcards is not equality", p, s)
			}
			if utf8.ValidString(p) && utf8.ValidString(s) && GlobFold(p, s) != strings.EqualFold(p, s) {
				t.Fatalf("GlobFold(%q, %q) without wildcards disagrees with strings.EqualFold", p, s)
			}
		}
		// A quoted string matches itself, literally.
		if !Glob(QuoteMeta(s), s) || !MatchResource(QuoteMeta(s), s) || !MatchLike(QuoteMeta(s), s) && strings.Count(s, ":") >= 5 && strings.HasPrefix(s, "arn:") {
			t.Fatalf("QuoteMeta(%q) does not match itself", s)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice",
		"arn:aws:s3:::bucket",
		"arn:aws:iam::aws:policy/x",
		"arn:::::",
		"arn:aws:iam::123456789012",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		if a.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, a.String())
		}
		if acct, ok := AccountOf(s); !ok || acct != a.AccountID {
			t.Fatalf("AccountOf(%q) = %q, %v; Parse says %q", s, acct, ok, a.AccountID)
		}
		if !MatchLike(QuoteMeta(s), s) || !MatchResource(QuoteMeta(s), s) {
			t.Fatalf("ARN %q does not match itself", s)
		}
	})
}

func BenchmarkMatchResource(b *testing.B) {
	p := "arn:aws:redshift:us-west-2:123456789012:dbuser:*/temp_*"
	v := "arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/temp_alice"
	b.ReportAllocs()
	for b.Loop() {
		if !MatchResource(p, v) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkGlobPathological(b *testing.B) {
	p := strings.Repeat("a*", 20) + "b"
	s := strings.Repeat("a", 200)
	b.ReportAllocs()
	for b.Loop() {
		if Glob(p, s) {
			b.Fatal("match")
		}
	}
}

// TestMatchersAgainstReference runs the reference comparison of FuzzGlob
// on a seeded sample of short strings over a small alphabet, where the
// backtracking cases are dense, so plain `go test` covers them too.
func TestMatchersAgainstReference(t *testing.T) {
	pat := []string{"a", "b", ":", "/", "*", "*", "?", "é", "\xff", "A"}
	val := []string{"a", "b", ":", "/", "é", "*", "A", "?"}
	r := rand.New(rand.NewPCG(11, 12))
	gen := func(alpha []string, n int) string {
		var b strings.Builder
		for range r.IntN(n + 1) {
			b.WriteString(alpha[r.IntN(len(alpha))])
		}
		return b.String()
	}
	for i := range 30000 {
		p, s := gen(pat, 8), gen(val, 10)
		if i%3 == 0 { // long literal runs exercise the run search (and Rabin-Karp for bytes)
			var b strings.Builder
			for range 1 + r.IntN(4) {
				b.WriteString(gen([]string{"a", "b", ":", "a"}, 24))
				b.WriteString([]string{"*", "?", "*?", "*"}[r.IntN(4)])
			}
			p = b.String()[:b.Len()-r.IntN(2)]
			s = gen([]string{"a", "b", ":", "a", "a"}, 90)
		}
		if got, want := GlobBytes([]byte(p), s), Glob(p, s); got != want {
			t.Fatalf("GlobBytes(%q, %q) = %v, Glob %v", p, s, got, want)
		}
		if got, want := MatchResourceBytes([]byte(p), s), MatchResource(p, s); got != want {
			t.Fatalf("MatchResourceBytes(%q, %q) = %v, MatchResource %v", p, s, got, want)
		}
		if got, want := Glob(p, s), refGlob(p, s, false); got != want {
			t.Fatalf("Glob(%q, %q) = %v, reference %v", p, s, got, want)
		}
		if got, want := GlobFold(p, s), refGlob(p, s, true); got != want {
			t.Fatalf("GlobFold(%q, %q) = %v, reference %v", p, s, got, want)
		}
		if got, want := MatchResource(p, s), refResource(p, s); got != want {
			t.Fatalf("MatchResource(%q, %q) = %v, reference %v", p, s, got, want)
		}
		lp, ls := "arn:"+p+":x:*:"+p+":"+p, "arn:"+s+":x:y:"+s+":"+s
		if got, want := MatchLike(lp, ls), refLike(lp, ls); got != want {
			t.Fatalf("MatchLike(%q, %q) = %v, reference %v", lp, ls, got, want)
		}
	}
}
