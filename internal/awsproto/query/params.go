package query

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes is the request-body limit callers apply before Parse (the
// dispatcher enforces it with http.MaxBytesReader; Parse itself does not).
//
// 512 KiB covers the largest legitimate requests even in the worst case of
// form encoding, where every byte of a value becomes a three-byte %XX escape:
// an STS AssumeRoleWithSAML with a SAMLAssertion of 100,000 base64
// characters ('+', '/' and '=' are escaped), 2,048-character RoleArn,
// PrincipalArn and session Policy, and ten 2,048-character PolicyArns is
// about 380 KB, and an IAM PutRolePolicy with a 131,072-character
// PolicyDocument is about 394 KB (TestMaxBodyBytesFitsLargestRequests).
// Typical requests are well under 16 KiB.
const MaxBodyBytes = 512 << 10

// MaxParams is the most parameters (body and URL query together) Parse
// accepts.
const MaxParams = 1000

// MaxListMembers is the most members Decode accepts in one list or map.
const MaxListMembers = 1000

// Params is a parsed Query-protocol request. Each key occurs at most once.
// The zero value is an empty parameter list.
type Params struct {
	kv []pair // sorted by key, keys unique
}

type pair struct{ key, value string }

// Parse parses an application/x-www-form-urlencoded request body together
// with the URL's raw query (for GET-style calls; pass "" when there is none)
// into Params.
//
// Parsing is strict. Every failure is an *Error with code
// MalformedQueryString: malformed percent-encoding, a key that appears twice
// (in the body, in the query, or once in each), a key or value that is not
// valid UTF-8 or contains NUL, an empty key, or more than MaxParams
// parameters. '+' decodes to a space in both the body and the query. Empty
// segments ("a=1&&b=2", a trailing '&') are skipped, and a segment without
// '=' is a key with an empty value.
func Parse(body []byte, rawQuery string) (Params, error) {
	n := countSegments(string(body)) + countSegments(rawQuery)
	if n > MaxParams {
		return Params{}, errorf(CodeMalformedQueryString,
			"The request has more than ", strconv.Itoa(MaxParams), " parameters")
	}
	kv := make([]pair, 0, n)
	var err error
	if kv, err = parseInto(kv, string(body)); err != nil {
		return Params{}, err
	}
	if kv, err = parseInto(kv, rawQuery); err != nil {
		return Params{}, err
	}
	slices.SortFunc(kv, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(kv); i++ {
		if kv[i].key == kv[i-1].key {
			return Params{}, errorf(CodeMalformedQueryString,
				"Duplicate parameter: ", clip(kv[i].key))
		}
	}
	return Params{kv: kv}, nil
}

// countSegments counts the non-empty '&'-separated segments of s.
func countSegments(s string) int {
	n := 0
	for s != "" {
		seg, rest, _ := strings.Cut(s, "&")
		if seg != "" {
			n++
		}
		s = rest
	}
	return n
}

func parseInto(kv []pair, s string) ([]pair, error) {
	for s != "" {
		var seg string
		seg, s, _ = strings.Cut(s, "&")
		if seg == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(seg, "=")
		key, ok := unescape(rawKey)
		if !ok {
			return nil, errorf(CodeMalformedQueryString,
				"Malformed percent-encoding in parameter name")
		}
		if key == "" {
			return nil, errorf(CodeMalformedQueryString, "Empty parameter name")
		}
		if !validText(key) {
			return nil, errorf(CodeMalformedQueryString,
				"Parameter name is not valid UTF-8 or contains NUL: ", clip(key))
		}
		value, ok := unescape(rawValue)
		if !ok {
			return nil, errorf(CodeMalformedQueryString,
				"Malformed percent-encoding in the value of parameter ", clip(key))
		}
		if !validText(value) {
			return nil, errorf(CodeMalformedQueryString,
				"The value of parameter ", clip(key), " is not valid UTF-8 or contains NUL")
		}
		kv = append(kv, pair{key, value})
	}
	return kv, nil
}

func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// unescape decodes form encoding: "%XX" is a byte and '+' is a space. It
// reports false for a '%' not followed by two hex digits.
func unescape(s string) (string, bool) {
	i := strings.IndexAny(s, "%+")
	if i < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// find returns the position of key in p.kv.
func (p Params) find(key string) (int, bool) {
	return slices.BinarySearchFunc(p.kv, key, func(e pair, k string) int { return strings.Compare(e.key, k) })
}

// prefixRange returns the half-open range of p.kv whose keys start with prefix.
func (p Params) prefixRange(prefix string) (lo, hi int) {
	lo, _ = p.find(prefix)
	hi = lo
	for hi < len(p.kv) && strings.HasPrefix(p.kv[hi].key, prefix) {
		hi++
	}
	return lo, hi
}

// Get returns the value of key and whether it is present. Keys are
// case-sensitive.
func (p Params) Get(key string) (string, bool) {
	if i, ok := p.find(key); ok {
		return p.kv[i].value, true
	}
	return "", false
}

// Action returns the Action parameter, or "" if it is absent.
func (p Params) Action() string {
	v, _ := p.Get("Action")
	return v
}

// Version returns the Version parameter, or "" if it is absent.
func (p Params) Version() string {
	v, _ := p.Get("Version")
	return v
}

// Len returns the number of parameters.
func (p Params) Len() int { return len(p.kv) }

// Keys returns the parameter names in sorted order, in a new slice.
func (p Params) Keys() []string {
	keys := make([]string, len(p.kv))
	for i, e := range p.kv {
		keys[i] = e.key
	}
	return keys
}
