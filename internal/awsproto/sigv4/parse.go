package sigv4

import (
	"strings"
	"time"
)

// Protocol constants.
const (
	algorithmHMAC = "AWS4-HMAC-SHA256"
	algorithmV4A  = "AWS4-ECDSA-P256-SHA256"
	scopeTerm     = "aws4_request"
	amzDateLayout = "20060102T150405Z"
	// maxExpires is the longest lifetime of a presigned request (7 days).
	maxExpires = 604800
	// maxNameLen bounds access key ids, regions and services.
	maxNameLen = 128
)

// authParams is what an Authorization header or a presigned query carries.
type authParams struct {
	accessKeyID string
	scopeDate   string // yyyymmdd
	region      string
	service     string
	// signedHeaders is the raw, validated list ("host;x-amz-date").
	signedHeaders string
	signature     [32]byte
}

// parseAuthorization parses an "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…" header value. It is strict: unknown or repeated fields, a
// malformed scope, an unsorted header list or a signature that is not 64
// lowercase hex digits are all IncompleteSignature.
func parseAuthorization(h string) (authParams, *Error) {
	var p authParams
	alg, rest, _ := strings.Cut(h, " ")
	switch {
	case alg == algorithmHMAC:
	case alg == algorithmV4A:
		return p, newError(IncompleteSignature, msgSigV4A)
	case alg == "AWS":
		return p, newError(IncompleteSignature, msgSigV2)
	case strings.HasPrefix(alg, "AWS"):
		return p, newError(IncompleteSignature, "Unsupported AWS 'algorithm': '"+echo(alg)+"'")
	default:
		// Never echo an unknown scheme: it may be a bearer token or a password.
		return p, newError(IncompleteSignature, msgNotSigV4)
	}

	var credential, signedHeaders, signature string
	var haveCred, haveSH, haveSig bool
	for field := range strings.SplitSeq(rest, ",") {
		field = strings.Trim(field, " ")
		k, val, ok := strings.Cut(field, "=")
		if !ok || k == "" {
			return p, authzError("Authorization header requires each component to be of the form 'key=value'. ", h)
		}
		var seen *bool
		switch k {
		case "Credential":
			seen, credential = &haveCred, val
		case "SignedHeaders":
			seen, signedHeaders = &haveSH, val
		case "Signature":
			seen, signature = &haveSig, val
		default:
			return p, authzError("Authorization header has an unknown component '"+echo(k)+"'. ", h)
		}
		if *seen {
			return p, authzError("Authorization header has a repeated '"+k+"' component. ", h)
		}
		*seen = true
	}
	if !haveCred || !haveSH || !haveSig {
		var msg strings.Builder
		if !haveCred {
			msg.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if !haveSig {
			msg.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		if !haveSH {
			msg.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		return p, authzError(msg.String(), h)
	}

	if e := parseCredential(credential, &p); e != nil {
		return p, e
	}
	if e := checkSignedHeaders(signedHeaders); e != nil {
		return p, e
	}
	p.signedHeaders = signedHeaders
	if !decodeSignature(signature, &p.signature) {
		return p, authzError("Signature must be 64 lowercase hexadecimal characters. ", h)
	}
	return p, nil
}

// authzError appends the Authorization header to msg the way AWS does, with
// the signature left out.
func authzError(msg, h string) *Error {
	return newError(IncompleteSignature, msg+"Authorization="+echo(redactSignature(h)))
}

// redactSignature drops the value of every Signature component.
func redactSignature(h string) string {
	const key = "Signature="
	var b strings.Builder
	for {
		i := strings.Index(h, key)
		if i < 0 {
			b.WriteString(h)
			return b.String()
		}
		b.WriteString(h[:i+len(key)])
		b.WriteString("[omitted]")
		h = h[i+len(key):]
		end := strings.IndexByte(h, ',')
		if end < 0 {
			return b.String()
		}
		h = h[end:]
	}
}

// parseCredential parses "AKID/yyyymmdd/region/service/aws4_request" into p.
// Region and service are only checked for shape here; Verifier.checkScope
// applies the policy.
func parseCredential(c string, p *authParams) *Error {
	if strings.Count(c, "/") != 4 {
		return newError(IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, "+
			"e.g. keyid/date/region/service/term, got '"+echo(c)+"'")
	}
	akid, rest, _ := strings.Cut(c, "/")
	date, rest, _ := strings.Cut(rest, "/")
	region, rest, _ := strings.Cut(rest, "/")
	service, term, _ := strings.Cut(rest, "/")
	if term != scopeTerm {
		return newError(IncompleteSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+echo(term)+"'. ")
	}
	if len(date) != 8 || !allDigits(date) {
		return newError(IncompleteSignature, "Credential should be scoped to a date in the format yyyyMMdd, not '"+echo(date)+"'. ")
	}
	if akid == "" {
		return newError(IncompleteSignature, "Credential must contain an access key id, got '"+echo(c)+"'")
	}
	if service == "" {
		return newError(IncompleteSignature, "Credential should be scoped to a service, got '"+echo(c)+"'")
	}
	p.accessKeyID, p.scopeDate, p.region, p.service = akid, date, region, service
	return nil
}

// validAccessKeyID reports whether s could be an access key id: 1 to 128
// characters of [A-Za-z0-9_] (AWS documents [\w]+).
func validAccessKeyID(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validScopeName reports whether s looks like a region or service name:
// non-empty [a-z0-9-]+, at most 128 bytes.
func validScopeName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkSignedHeaders validates a SignedHeaders list: non-empty, lowercase
// header-name tokens, strictly ascending (sorted, no duplicates), containing
// "host".
func checkSignedHeaders(s string) *Error {
	if s == "" {
		return newError(IncompleteSignature, "SignedHeaders must not be empty.")
	}
	prev := ""
	host := false
	for name := range strings.SplitSeq(s, ";") {
		if !validSignedHeaderName(name) {
			return newError(IncompleteSignature, "SignedHeaders must be a semicolon-separated list of lowercase header names, got '"+echo(s)+"'.")
		}
		if prev != "" && name <= prev {
			return newError(IncompleteSignature, "SignedHeaders must be sorted and must not contain duplicates, got '"+echo(s)+"'.")
		}
		prev = name
		if name == "host" {
			host = true
		}
	}
	if !host {
		return newError(IncompleteSignature, "SignedHeaders must include 'host', got '"+echo(s)+"'.")
	}
	return nil
}

// validSignedHeaderName reports whether name is a non-empty RFC 9110 token
// without uppercase letters.
func validSignedHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// signedHeaderList splits a validated SignedHeaders value.
func signedHeaderList(s string) []string {
	out := make([]string, 0, strings.Count(s, ";")+1)
	for name := range strings.SplitSeq(s, ";") {
		out = append(out, name)
	}
	return out
}

// decodeSignature decodes exactly 64 lowercase hex digits.
func decodeSignature(s string, dst *[32]byte) bool {
	if len(s) != 64 {
		return false
	}
	for i := range 32 {
		hi, ok1 := lowerHexVal(s[2*i])
		lo, ok2 := lowerHexVal(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func lowerHexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseAmzDate parses the ISO 8601 basic format "20060102T150405Z" strictly:
// exactly 16 bytes, all fields in range.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' || !allDigits(s[:8]) || !allDigits(s[9:15]) {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, mo, d := num(0, 4), num(4, 6), num(6, 8)
	h, mi, sec := num(9, 11), num(11, 13), num(13, 15)
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	// time.Date normalises out-of-range fields (month 13, second 60); a
	// round trip rejects them.
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, false
	}
	return t, true
}

// parseHTTPDate parses a Date header in the RFC 1123 form HTTP uses
// ("Mon, 02 Jan 2006 15:04:05 GMT").
func parseHTTPDate(s string) (time.Time, bool) {
	t, err := time.Parse("Mon, 02 Jan 2006 15:04:05 GMT", s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func formatAmzDate(t time.Time) string { return t.UTC().Format(amzDateLayout) }

// parseExpires parses X-Amz-Expires: a decimal number of seconds, 1…604800.
func parseExpires(s string) (int64, *Error) {
	if s == "" || len(s) > 7 || !allDigits(s) {
		return 0, newError(IncompleteSignature, "X-Amz-Expires should be a number")
	}
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if n < 1 {
		return 0, newError(IncompleteSignature, "X-Amz-Expires must be at least 1")
	}
	if n > maxExpires {
		return 0, newError(IncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	return n, nil
}
