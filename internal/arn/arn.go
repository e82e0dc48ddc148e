package arn

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxLength is the longest ARN Parse accepts, in bytes (IAM's limit for a
// resource ARN is 2048 characters).
const MaxLength = 2048

// ARN is a parsed Amazon Resource Name:
//
//	arn:<Partition>:<Service>:<Region>:<AccountID>:<Resource>
//
// Resource is everything after the fifth colon and may itself contain ':'
// and '/' (e.g. "dbuser:examplecluster/alice").
type ARN struct {
	Partition string // "aws", "aws-cn", "aws-us-gov", …
	Service   string // "iam", "sts", "redshift", …
	Region    string // empty for global services
	AccountID string // 12 digits, "aws" for AWS-managed policies, or empty (S3)
	Resource  string
}

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("malformed ARN")

// Error describes why a string is not an ARN.
type Error struct {
	Input  string // the input, cut to 64 bytes
	Reason string
}

func (e *Error) Error() string {
	return "parse arn " + quoteShort(e.Input) + ": " + e.Reason
}

// Unwrap lets errors.Is(err, ErrMalformed) succeed.
func (e *Error) Unwrap() error { return ErrMalformed }

func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			const hex = "0123456789abcdef"
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Parse parses s strictly: it must start with "arn:", have at least six
// colon-separated parts (the sixth, the resource, may contain more colons), a
// non-empty partition and service made of lower-case letters, digits and
// '-', a region of the same characters (or empty), an account that is empty,
// all digits or "aws", and a non-empty resource. Control characters and
// spaces are rejected everywhere, and so are invalid UTF-8 and ARNs longer
// than MaxLength.
func Parse(s string) (ARN, error) {
	fail := func(reason string) (ARN, error) { return ARN{}, &Error{Input: s, Reason: reason} }
	if len(s) > MaxLength {
		return fail("longer than 2048 bytes")
	}
	if !utf8.ValidString(s) {
		return fail("not valid UTF-8")
	}
	var parts [5]string
	rest := s
	for i := range parts {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return fail("want 6 colon-separated parts (arn:partition:service:region:account:resource)")
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	if parts[0] != "arn" {
		return fail(`must start with "arn:"`)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: rest}
	switch {
	case a.Partition == "" || !isLowerToken(a.Partition):
		return fail("invalid partition")
	case a.Service == "" || !isLowerToken(a.Service):
		return fail("invalid service")
	case !isLowerToken(a.Region):
		return fail("invalid region")
	case !validAccount(a.AccountID):
		return fail("invalid account id")
	case a.Resource == "":
		return fail("empty resource")
	}
	for i := 0; i < len(a.Resource); i++ {
		if c := a.Resource[i]; c <= ' ' || c == 0x7f {
			return fail("control character or space in resource")
		}
	}
	return a, nil
}

func isLowerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validAccount(s string) bool {
	if s == "" || s == "aws" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the ARN as arn:partition:service:region:account:resource.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// ResourceType splits the resource at its first ':' or '/':
// "dbuser:examplecluster/alice" gives ("dbuser", "examplecluster/alice"),
// "role/path/name" gives ("role", "path/name"), and a resource with neither
// separator (an S3 bucket) gives ("", resource).
func (a ARN) ResourceType() (typ, id string) {
	i := strings.IndexAny(a.Resource, ":/")
	if i < 0 {
		return "", a.Resource
	}
	return a.Resource[:i], a.Resource[i+1:]
}

// AccountOf returns the account component of s if s has the shape of an ARN
// (at least six colon-separated parts starting with "arn"), without
// validating or allocating; ok is false otherwise.
func AccountOf(s string) (account string, ok bool) {
	var cuts [5]int
	n := 0
	for i := 0; i < len(s) && n < 5; i++ {
		if s[i] == ':' {
			cuts[n] = i
			n++
		}
	}
	if n < 5 || s[:cuts[0]] != "arn" {
		return "", false
	}
	return s[cuts[3]+1 : cuts[4]], true
}
