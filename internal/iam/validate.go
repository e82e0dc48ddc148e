package iam

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
)

// validation collects the "1 validation error detected: …" messages AWS
// returns as ValidationError.
type validation struct{ problems []string }

func (v *validation) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validation) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	noun := "error"
	if len(v.problems) > 1 {
		noun = "errors"
	}
	return awserr.New(awserr.ValidationError, "%d validation %s detected: %s", len(v.problems), noun, strings.Join(v.problems, "; "))
}

// validName checks a single entity name parameter (see validation.name).
func validName(field, value string, max int) error {
	var v validation
	v.name(field, value, max)
	return v.err()
}

// validTags checks a single tag list parameter (see validation.tags).
func validTags(tags []Tag) error {
	var v validation
	v.tags(tags)
	return v.err()
}

// quoted bounds and sanitizes a client value echoed in a message.
func quoted(s string) string {
	const max = 128
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// isNameChar reports whether c is in AWS's [\w+=,.@-].
func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("_+=,.@-", c) >= 0
}

// name checks an entity name: 1..max characters of [\w+=,.@-].
func (v *validation) name(field, value string, max int) {
	if value == "" || len(value) > max {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and %d", quoted(value), field, max)
		return
	}
	for i := 0; i < len(value); i++ {
		if !isNameChar(value[i]) {
			v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", quoted(value), field)
			return
		}
	}
}

// path checks an IAM path: "/" or "/" + printable ASCII + "/", at most 512.
func (v *validation) path(field, value string) {
	if value == "" || len(value) > 512 {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 512", quoted(value), field)
		return
	}
	ok := value == "/" || (len(value) >= 2 && value[0] == '/' && value[len(value)-1] == '/')
	for i := 0; ok && i < len(value); i++ {
		ok = value[i] >= 0x21 && value[i] <= 0x7e
	}
	if !ok {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", quoted(value), field)
	}
}

// text checks free text (descriptions): at most max runes of valid UTF-8.
func (v *validation) text(field, value string, max int) {
	if !utf8.ValidString(value) || utf8.RuneCountInString(value) > max {
		v.add("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", field, max)
	}
}

// tags checks a tag list: keys 1..128, values 0..256, at most 50, unique keys.
func (v *validation) tags(tags []Tag) {
	if len(tags) > 50 {
		v.add("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
		return
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 || !utf8.ValidString(t.Key) || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			v.add("Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and must not start with aws:", quoted(t.Key), i+1)
		}
		if utf8.RuneCountInString(t.Value) > 256 || !utf8.ValidString(t.Value) {
			v.add("Value at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", i+1)
		}
		if seen[strings.ToLower(t.Key)] {
			v.add("Duplicate tag key '%s'", quoted(t.Key))
		}
		seen[strings.ToLower(t.Key)] = true
	}
}

func pathOrDefault(p *string) string {
	if p == nil || *p == "" {
		return "/"
	}
	return *p
}

// policyARN checks a managed policy ARN of this partition.
func (v *validation) policyARN(field, value string) {
	if len(value) < 20 || len(value) > 2048 || !strings.HasPrefix(value, "arn:aws:iam::") || !strings.Contains(value, ":policy/") {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must be a managed policy ARN (arn:aws:iam::<account>:policy/<path><name>)", quoted(value), field)
	}
}
