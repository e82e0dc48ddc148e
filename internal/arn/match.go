package arn

import (
	"strings"
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
//
// (Not inlined, so that callers see that pattern does not escape: the
// generic instantiation behind it has no escape summary across packages.)
//
//go:noinline
func GlobBytes(pattern []byte, s string) bool { return glob(pattern, s, false) }

// GlobFoldBytes is GlobFold for a pattern held in a byte slice.
//
// (Not inlined, so that callers see that pattern does not escape: the
// generic instantiation behind it has no escape summary across packages.)
//
//go:noinline
func GlobFoldBytes(pattern []byte, s string) bool { return glob(pattern, s, true) }

// MatchLike implements the ArnLike (and ArnEquals, which AWS documents with
// the same wildcard semantics) condition operators; see the package
// documentation. Both pattern and value must have at least six
// colon-separated parts, except that the pattern "*" matches any value.
// Case-sensitive.
func MatchLike(pattern, value string) bool { return matchLike(pattern, value) }

// MatchLikeBytes is MatchLike for a pattern held in a byte slice.
//
// (Not inlined, so that callers see that pattern does not escape: the
// generic instantiation behind it has no escape summary across packages.)
//
//go:noinline
func MatchLikeBytes(pattern []byte, value string) bool { return matchLike(pattern, value) }

// MatchResource implements matching of a policy's Resource/NotResource entry
// against a request's resource; see the package documentation.
// Case-sensitive.
func MatchResource(pattern, value string) bool { return matchResource(pattern, value) }

// MatchResourceBytes is MatchResource for a pattern held in a byte slice.
//
// (Not inlined, so that callers see that pattern does not escape: the
// generic instantiation behind it has no escape summary across packages.)
//
//go:noinline
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
// revisited. Backtracking jumps straight to the next occurrence of the
// literal run that follows the star (strings.Index), so typical and
// "a*a*a*…b" patterns cost O(len(p)+len(s)); the worst case, a star followed
// by a long run that keeps almost matching and then a '?', stays
// O(len(p)·len(s)).
func glob[P text](p P, s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS, starEnd := -1, 0, 0
	for {
		if pi < len(p) {
			c := p[pi]
			if c == '*' {
				if pi+1 == len(p) {
					return true // a trailing star matches the rest
				}
				starP, starS = pi+1, si
				starEnd = starP
				if !fold {
					starEnd = litRun(p, starP)
				}
				pi++
				continue
			}
			if si < len(s) {
				d := s[si]
				switch {
				case c == d && c != '?' && c != Quote && (c < utf8.RuneSelf || !fold):
					pi, si = pi+1, si+1
					// Consume the rest of an equal literal run in a tight loop.
					for pi < len(p) && si < len(s) {
						c = p[pi]
						if c != s[si] || c == '*' || c == '?' || c == Quote || fold && c >= utf8.RuneSelf {
							break
						}
						pi, si = pi+1, si+1
					}
					continue
				case c == '?':
					si += runeLen(s, si)
					pi++
					continue
				case fold && c < utf8.RuneSelf && d < utf8.RuneSelf && c != Quote:
					if lowerASCII(c) == lowerASCII(d) {
						pi++
						si++
						continue
					}
				default:
					if np, ns := lit(p, pi, s, si, fold); np > 0 {
						pi += np
						si += ns
						continue
					}
				}
			}
		} else if si == len(s) {
			return true
		}
		if starP < 0 || starS >= len(s) {
			return false
		}
		starS += runeLen(s, starS)
		if starS < len(s) {
			if starEnd > starP {
				j := indexRun(s[starS:], p, starP, starEnd)
				if j < 0 {
					return false
				}
				starS += j
			} else if c := p[starP]; skippable(c, fold) {
				j := strings.IndexByte(s[starS:], c)
				if j < 0 {
					return false
				}
				starS += j
			}
		}
		pi, si = starP, starS
	}
}

// skippable reports whether a pattern byte is a literal that can only match
// the same byte of the value, at a position a star can stop at: ASCII, not a
// wildcard or the quote byte, and (when folding) not a letter.
func skippable(c byte, fold bool) bool {
	if c >= utf8.RuneSelf || c == '*' || c == '?' {
		return false
	}
	return !fold || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
}

// litRun returns the end of the run of plain literal bytes (anything but
// '*', '?' and Quote) that starts at p[i], or i when there is none or it
// does not start with an ASCII byte: an ASCII byte found in a value is
// always at a position a star can stop at, whatever precedes it.
func litRun[P text](p P, i int) int {
	if i >= len(p) || p[i] >= utf8.RuneSelf || p[i] == '*' || p[i] == '?' {
		return i
	}
	j := i
	for j < len(p) && p[j] != '*' && p[j] != '?' && p[j] != Quote {
		j++
	}
	return j
}

// indexRun returns the index of the first occurrence of p[i:j] in s, or -1.
func indexRun[P text](s string, p P, i, j int) int {
	if ps, ok := any(p).(string); ok {
		return strings.Index(s, ps[i:j])
	}
	n := j - i
	if n > 16 {
		return rabinKarp(s, p, i, j)
	}
	first := p[i]
	for k := 0; ; k++ {
		x := strings.IndexByte(s[k:], first)
		if x < 0 {
			return -1
		}
		k += x
		if len(s)-k < n {
			return -1
		}
		if equalAt(s, k, p, i, n) {
			return k
		}
	}
}

func equalAt[P text](s string, k int, p P, i, n int) bool {
	for m := 0; m < n; m++ {
		if s[k+m] != p[i+m] {
			return false
		}
	}
	return true
}

// rabinKarp finds p[i:j] in s with a rolling hash: O(len(s)+n) expected.
func rabinKarp[P text](s string, p P, i, j int) int {
	const prime = 16777619
	n := j - i
	if len(s) < n {
		return -1
	}
	var want, pow uint32 = 0, 1
	for m := 0; m < n; m++ {
		want = want*prime + uint32(p[i+m])
		pow *= prime
	}
	var h uint32
	for m := 0; m < n; m++ {
		h = h*prime + uint32(s[m])
	}
	for k := 0; ; k++ {
		if h == want && equalAt(s, k, p, i, n) {
			return k
		}
		if k+n >= len(s) {
			return -1
		}
		h = h*prime + uint32(s[k+n]) - pow*uint32(s[k])
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
// bounded star can absorb anything an earlier one could. Backtracking jumps
// to the next occurrence of the literal run after the star, as in glob.
func matchResource[P text](p P, s string) bool {
	if len(p) == 1 && p[0] == '*' {
		return true
	}
	pi, si := 0, 0
	spanP, spanS, spanEnd := -1, 0, 0
	boundP, boundS, boundEnd := -1, 0, 0
	for {
		if pi < len(p) {
			c := p[pi]
			if c == '*' {
				if pi+1 == len(p) {
					return true // a trailing star spans the rest
				}
				if p[pi+1] == ':' {
					spanP, spanS, spanEnd = pi+1, si, litRun(p, pi+1)
					boundP = -1
				} else {
					boundP, boundS, boundEnd = pi+1, si, litRun(p, pi+1)
				}
				pi++
				continue
			}
			if si < len(s) {
				d := s[si]
				switch {
				case c == d && c != '?' && c != Quote:
					pi, si = pi+1, si+1
					for pi < len(p) && si < len(s) {
						c = p[pi]
						if c != s[si] || c == '*' || c == '?' || c == Quote {
							break
						}
						pi, si = pi+1, si+1
					}
					continue
				case c == '?':
					if d != ':' {
						si += runeLen(s, si)
						pi++
						continue
					}
				case c == Quote:
					if np, ns := lit(p, pi, s, si, false); np > 0 {
						pi += np
						si += ns
						continue
					}
				}
			}
		} else if si == len(s) {
			return true
		}
		if boundP >= 0 && boundS < len(s) && s[boundS] != ':' {
			boundS += runeLen(s, boundS)
			if boundEnd > boundP && boundS < len(s) {
				// Jump to the next occurrence of the run, unless a ':'
				// comes first (the bounded star cannot get past it).
				rest := s[boundS:]
				j := indexRun(rest, p, boundP, boundEnd)
				k := strings.IndexByte(rest, ':')
				switch {
				case j >= 0 && (k < 0 || j < k):
					boundS += j
				case k >= 0:
					boundS += k
				default:
					boundS = len(s)
				}
			}
			pi, si = boundP, boundS
			continue
		}
		if spanP >= 0 && spanS < len(s) {
			spanS += runeLen(s, spanS)
			if spanEnd > spanP && spanS < len(s) {
				j := indexRun(s[spanS:], p, spanP, spanEnd)
				if j < 0 {
					return false
				}
				spanS += j
			}
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
