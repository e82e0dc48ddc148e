package arn

import (
	"unicode"
	"unicode/utf8"
)

// Quote is the byte that, inside a pattern, makes the byte after it literal.
// It never occurs in valid UTF-8.
const Quote byte = 0xFF

// text is what a pattern may be: a string, or bytes built in a buffer.
type text interface{ ~string | ~[]byte }

// QuoteMeta returns s with every '*', '?' and Quote byte quoted, so that the
// result, used as a pattern, matches exactly s.
func QuoteMeta(s string) string {
	if !needsQuote(s) {
		return s
	}
	return string(AppendQuoted(make([]byte, 0, len(s)+4), s))
}

func needsQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '*' || c == '?' || c == Quote {
			return true
		}
	}
	return false
}

// AppendQuoted appends s to dst with every '*', '?' and Quote byte quoted.
func AppendQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '*' || c == '?' || c == Quote {
			dst = append(dst, Quote)
		}
		dst = append(dst, s[i])
	}
	return dst
}

// Glob reports whether s matches pattern, where '*' matches any run of
// characters (including none) and '?' exactly one character. Case-sensitive.
func Glob(pattern, s string) bool { return glob(pattern, s, false) }

// GlobFold is Glob with Unicode simple case folding (as strings.EqualFold).
func GlobFold(pattern, s string) bool { return glob(pattern, s, true) }

// GlobBytes is Glob for a pattern held in a byte slice.
func GlobBytes(pattern []byte, s string) bool { return glob(pattern, s, false) }

// GlobFoldBytes is GlobFold for a pattern held in a byte slice.
func GlobFoldBytes(pattern []byte, s string) bool { return glob(pattern, s, true) }

// MatchLike implements the ArnLike (and ArnEquals, which AWS documents with
// the same wildcard semantics) condition operators; see the package
// documentation. Both pattern and value must have at least six
// colon-separated parts, except that the pattern "*" matches any value.
// Case-sensitive.
func MatchLike(pattern, value string) bool { return matchLike(pattern, value) }

// MatchLikeBytes is MatchLike for a pattern held in a byte slice.
func MatchLikeBytes(pattern []byte, value string) bool { return matchLike(pattern, value) }

// MatchResource implements matching of a policy's Resource/NotResource entry
// against a request's resource; see the package documentation.
// Case-sensitive.
func MatchResource(pattern, value string) bool { return matchResource(pattern, value) }

// MatchResourceBytes is MatchResource for a pattern held in a byte slice.
func MatchResourceBytes(pattern []byte, value string) bool { return matchResource(pattern, value) }

// runeLen is the length of the rune starting at s[i] (1 for invalid UTF-8).
func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// decodeAt decodes the rune at p[i] without converting p.
func decodeAt[P text](p P, i int) (rune, int) {
	var buf [utf8.UTFMax]byte
	n := 0
	for ; n < len(buf) && i+n < len(p); n++ {
		buf[n] = p[i+n]
	}
	return utf8.DecodeRune(buf[:n])
}

// lit tries to match the literal element at p[pi] against s[si] and returns
// how many pattern and value bytes it consumed (0, 0 on mismatch). A Quote
// byte followed by another byte is that byte, literally.
func lit[P text](p P, pi int, s string, si int, fold bool) (int, int) {
	c := p[pi]
	if c == Quote && pi+1 < len(p) {
		if p[pi+1] == s[si] {
			return 2, 1
		}
		return 0, 0
	}
	d := s[si]
	if c == d {
		if c < utf8.RuneSelf || !fold {
			return 1, 1
		}
	} else if !fold {
		return 0, 0
	}
	if c < utf8.RuneSelf && d < utf8.RuneSelf {
		if lowerASCII(c) == lowerASCII(d) {
			return 1, 1
		}
		return 0, 0
	}
	// Non-ASCII, case-insensitive: compare whole runes.
	r1, n1 := decodeAt(p, pi)
	r2, n2 := utf8.DecodeRuneInString(s[si:])
	if r1 == utf8.RuneError && n1 <= 1 || r2 == utf8.RuneError && n2 <= 1 {
		if c == d {
			return 1, 1
		}
		return 0, 0
	}
	if equalFoldRune(r1, r2) {
		return n1, n2
	}
	return 0, 0
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFoldRune reports whether r1 and r2 are equal under simple folding,
// as strings.EqualFold does for a single rune.
func equalFoldRune(r1, r2 rune) bool {
	if r1 == r2 {
		return true
	}
	if r2 < r1 {
		r1, r2 = r2, r1
	}
	if r2 < utf8.RuneSelf {
		return 'A' <= r1 && r1 <= 'Z' && r2 == r1+'a'-'A'
	}
	r := unicode.SimpleFold(r1)
	for r != r1 && r < r2 {
		r = unicode.SimpleFold(r)
	}
	return r == r2
}

// glob is the classic greedy matcher with a single backtrack point (the
// last '*'): when a later '*' is reached, earlier ones never need to be
// revisited, so the cost is O(len(p)·len(s)) at worst.
func glob[P text](p P, s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for {
		if pi < len(p) {
			c := p[pi]
			if c == '*' {
				starP, starS = pi+1, si
				pi++
				continue
			}
			if si < len(s) {
				if c == '?' {
					si += runeLen(s, si)
					pi++
					continue
				}
				if np, ns := lit(p, pi, s, si, fold); np > 0 {
					pi += np
					si += ns
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starP < 0 || starS >= len(s) {
			return false
		}
		starS += runeLen(s, starS)
		pi, si = starP, starS
	}
}

// matchResource is glob with AWS's segment rules for Resource elements: a
// '*' followed by ':' or at the end of the pattern ("spanning") matches any
// run; any other '*' ("bounded") matches a run without ':'; '?' matches one
// character other than ':'.
//
// Two backtrack points suffice: the last spanning star, and the last bounded
// star after it. A bounded star never needs revisiting once a pattern ':' has
// been matched after it (that ':' is pinned to the first ':' in the value
// after the star's start), and within one colon-free segment the last
// bounded star can absorb anything an earlier one could.
func matchResource[P text](p P, s string) bool {
	if len(p) == 1 && p[0] == '*' {
		return true
	}
	pi, si := 0, 0
	spanP, spanS := -1, 0
	boundP, boundS := -1, 0
	for {
		if pi < len(p) {
			c := p[pi]
			if c == '*' {
				if pi+1 == len(p) || p[pi+1] == ':' {
					spanP, spanS = pi+1, si
					boundP = -1
				} else {
					boundP, boundS = pi+1, si
				}
				pi++
				continue
			}
			if si < len(s) {
				if c == '?' {
					if s[si] != ':' {
						si += runeLen(s, si)
						pi++
						continue
					}
				} else if np, ns := lit(p, pi, s, si, false); np > 0 {
					pi += np
					si += ns
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if boundP >= 0 && boundS < len(s) && s[boundS] != ':' {
			boundS += runeLen(s, boundS)
			pi, si = boundP, boundS
			continue
		}
		if spanP >= 0 && spanS < len(s) {
			spanS += runeLen(s, spanS)
			pi, si = spanP, spanS
			boundP = -1
			continue
		}
		return false
	}
}

// cut5 returns the offsets of the first five unquoted ':' in x (pattern
// quoting is honoured when quoted is true); ok is false if there are fewer.
func cut5[P text](x P, quoted bool) (cuts [5]int, ok bool) {
	n := 0
	for i := 0; i < len(x) && n < 5; i++ {
		switch x[i] {
		case ':':
			cuts[n] = i
			n++
		case Quote:
			if quoted {
				i++
			}
		}
	}
	return cuts, n == 5
}

func matchLike[P text](p P, v string) bool {
	if len(p) == 1 && p[0] == '*' {
		return true
	}
	pc, ok := cut5(p, true)
	if !ok {
		return false
	}
	vc, ok := cut5(v, false)
	if !ok {
		return false
	}
	ps, vs := 0, 0
	for i := range 5 {
		if !glob(p[ps:pc[i]], v[vs:vc[i]], false) {
			return false
		}
		ps, vs = pc[i]+1, vc[i]+1
	}
	return glob(p[ps:], v[vs:], false)
}
