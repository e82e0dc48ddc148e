package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// queryPair is one name=value pair of the URL query, percent-decoded.
type queryPair struct {
	key, value string
}

// parseQuery splits a raw URL query on '&' and percent-decodes each name and
// value ('+' is a space, as in every AWS SDK's form encoding). Empty pieces
// are skipped. ok is false if any escape is malformed; the pairs that decoded
// are still returned, so callers can tell whether authentication was
// attempted.
func parseQuery(raw string) (pairs []queryPair, ok bool) {
	ok = true
	if raw == "" {
		return nil, true
	}
	pairs = make([]queryPair, 0, strings.Count(raw, "&")+1)
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		dk, ok1 := unescape(k)
		dv, ok2 := unescape(v)
		if !ok1 || !ok2 {
			ok = false
			continue
		}
		pairs = append(pairs, queryPair{dk, dv})
	}
	return pairs, ok
}

// unescape decodes %XX escapes and '+'. It does not allocate when s has
// neither.
func unescape(s string) (string, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '+' {
			n++
		}
	}
	if n == 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := hexVal(s[i+1])
			lo, ok2 := hexVal(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, hi<<4|lo)
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func hexVal(c byte) (byte, bool) {
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

// unreserved reports whether c is in the RFC 3986 unreserved set that SigV4
// leaves alone: A-Z a-z 0-9 - _ . ~
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// escape percent-encodes every byte outside the unreserved set (and outside
// '/' when keepSlash), with uppercase hex. It does not allocate when nothing
// needs escaping.
func escape(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && !(keepSlash && c == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	return string(appendEscaped(make([]byte, 0, len(s)+2*n), s, keepSlash))
}

func appendEscaped(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// appendCanonicalQuery appends the canonical query string: every pair
// re-encoded, sorted by encoded name then encoded value, joined with '&'.
// When presigned, X-Amz-Signature is left out.
func appendCanonicalQuery(dst []byte, pairs []queryPair, presigned bool) []byte {
	if len(pairs) == 0 {
		return dst
	}
	enc := make([]queryPair, 0, len(pairs))
	for _, p := range pairs {
		if presigned && p.key == paramSignature {
			continue
		}
		enc = append(enc, queryPair{escape(p.key, false), escape(p.value, false)})
	}
	slices.SortFunc(enc, func(a, b queryPair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range enc {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.key...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst
}

// wirePath returns the path as the client sent it, still percent-encoded.
// Go keeps the exact form in URL.RawPath whenever it differs from the default
// encoding of URL.Path (e.g. raw UTF-8 on the request line).
func wirePath(r *http.Request) string {
	u := r.URL
	if u.Opaque != "" {
		// "//host/path" or "path": the same rule as the AWS SDK.
		o := u.Opaque
		if i := strings.IndexByte(o, '?'); i >= 0 {
			o = o[:i]
		}
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return "/"
	}
	if u.RawPath != "" {
		if p, ok := unescapePath(u.RawPath); ok && p == u.Path {
			return u.RawPath
		}
	}
	return u.EscapedPath()
}

// unescapePath decodes %XX escapes only ('+' is literal in a path).
func unescapePath(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := hexVal(s[i+1])
		lo, ok2 := hexVal(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

// appendCanonicalURI appends the canonical URI of a non-S3 service: the wire
// path with dot segments and empty segments removed (RFC 3986 5.2.4, plus
// AWS's collapsing of "//"), then percent-encoded again — so an escape sent
// by the client is encoded twice, as the SigV4 specification requires.
func appendCanonicalURI(dst []byte, p string) []byte {
	if p == "" || p == "/" {
		return append(dst, '/')
	}
	if needsNormalizing(p) {
		p = normalizePath(p)
	}
	return appendEscaped(dst, p, true)
}

func needsNormalizing(p string) bool {
	return p[0] != '/' || strings.Contains(p, "//") || strings.Contains(p, "/./") ||
		strings.Contains(p, "/../") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
}

func normalizePath(p string) string {
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	last := segs[len(segs)-1]
	if len(out) == 0 {
		return "/"
	}
	n := "/" + strings.Join(out, "/")
	if last == "" || last == "." || last == ".." {
		n += "/"
	}
	return n
}

// appendHeaderValue appends v trimmed, with runs of spaces collapsed to one.
func appendHeaderValue(dst []byte, v string) []byte {
	v = trimASCIISpace(v)
	prevSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		dst = append(dst, c)
	}
	return dst
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimASCIISpace(s string) string {
	for len(s) > 0 && isASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// appendCanonicalHeaders appends "name:value\n" for every signed header:
// each value trimmed with runs of spaces collapsed, several values joined
// with ','. It takes Go's request parsing into account: Host lives in
// r.Host (or r.URL.Host for a request built in-process), Transfer-Encoding
// in r.TransferEncoding, and Content-Length may only be in r.ContentLength.
// It returns the name of the first signed header absent from the request.
func appendCanonicalHeaders(dst []byte, r *http.Request, signed string) ([]byte, string) {
	var keyBuf [64]byte
	for rest := signed; rest != ""; {
		name := rest
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			name, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		dst = append(dst, name...)
		dst = append(dst, ':')
		switch name {
		case "host":
			h := r.Host
			if h == "" && r.URL != nil {
				h = r.URL.Host
			}
			if h == "" {
				return dst, name
			}
			dst = appendHeaderValue(dst, h)
		case "content-length":
			if vals := r.Header["Content-Length"]; len(vals) > 0 {
				dst = appendHeaderValues(dst, vals)
			} else if r.ContentLength > 0 {
				dst = strconv.AppendInt(dst, r.ContentLength, 10)
			} else {
				return dst, name
			}
		case "transfer-encoding":
			vals := r.Header["Transfer-Encoding"]
			if len(vals) == 0 {
				vals = r.TransferEncoding
			}
			if len(vals) == 0 {
				return dst, name
			}
			dst = appendHeaderValues(dst, vals)
		default:
			var vals []string
			if len(name) <= len(keyBuf) {
				key := keyBuf[:len(name)]
				canonicalKey(key, name)
				vals = r.Header[string(key)] // no allocation for a map index
			} else {
				vals = r.Header[http.CanonicalHeaderKey(name)]
			}
			if len(vals) == 0 {
				return dst, name
			}
			dst = appendHeaderValues(dst, vals)
		}
		dst = append(dst, '\n')
	}
	return dst, ""
}

func appendHeaderValues(dst []byte, vals []string) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendHeaderValue(dst, v)
	}
	return dst
}

// canonicalKey writes the MIME canonical form of a lowercase token name
// ("x-amz-date" -> "X-Amz-Date") into buf, which has len(name) bytes. It
// matches textproto.CanonicalMIMEHeaderKey for the names
// validSignedHeaderName accepts.
func canonicalKey(buf []byte, name string) {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
		upper = c == '-'
	}
}

// hmacSHA256 returns HMAC-SHA256(key, msg) (RFC 2104). It is crypto/hmac
// without the allocations: a signature takes five HMACs, and hmac.New
// allocates two digests each time. It does not allocate for keys of up to
// 64 bytes and messages of up to 256 bytes. TestHMACMatchesCryptoHMAC holds
// it to crypto/hmac.
func hmacSHA256(key, msg []byte) [sha256.Size]byte {
	const blockSize = 64 // sha256.BlockSize
	var k [blockSize]byte
	if len(key) > blockSize {
		sum := sha256.Sum256(key)
		copy(k[:], sum[:])
	} else {
		copy(k[:], key)
	}
	var stack [blockSize + 256]byte
	var in []byte
	if n := blockSize + len(msg); n <= len(stack) {
		in = stack[:n]
	} else {
		in = make([]byte, n)
	}
	for i, c := range k {
		in[i] = c ^ 0x36
	}
	copy(in[blockSize:], msg)
	inner := sha256.Sum256(in)
	var out [blockSize + sha256.Size]byte
	for i, c := range k {
		out[i] = c ^ 0x5c
	}
	copy(out[blockSize:], inner[:])
	clear(k[:])
	clear(in[:blockSize])
	return sha256.Sum256(out[:])
}

// signature computes the SigV4 signature of stringToSign. The signing key is
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func signature(secret string, p *authParams, stringToSign []byte) [sha256.Size]byte {
	var kbuf [4 + 128]byte
	k0 := append(append(kbuf[:0], "AWS4"...), secret...)
	var sbuf [maxNameLen]byte
	k := hmacSHA256(k0, append(sbuf[:0], p.scopeDate...))
	clear(k0)
	k = hmacSHA256(k[:], append(sbuf[:0], p.region...))
	k = hmacSHA256(k[:], append(sbuf[:0], p.service...))
	k = hmacSHA256(k[:], append(sbuf[:0], scopeTerm...))
	return hmacSHA256(k[:], stringToSign)
}

// appendStringToSign appends the SigV4 string to sign.
func appendStringToSign(dst []byte, t time.Time, p *authParams, canonicalHash *[32]byte) []byte {
	dst = append(dst, algorithmHMAC...)
	dst = append(dst, '\n')
	dst = t.UTC().AppendFormat(dst, amzDateLayout)
	dst = append(dst, '\n')
	dst = append(dst, p.scopeDate...)
	dst = append(dst, '/')
	dst = append(dst, p.region...)
	dst = append(dst, '/')
	dst = append(dst, p.service...)
	dst = append(dst, '/')
	dst = append(dst, scopeTerm...)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, canonicalHash[:])
}
