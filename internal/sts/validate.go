package sts

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
)

// validation collects AWS ValidationError messages.
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

func onlyChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

func bounded(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// sessionName checks a RoleSessionName: [\w+=,.@-]{2,64}.
func (v *validation) sessionName(field, s string) {
	if len(s) < 2 || len(s) > 64 || !onlyChars(s, "_+=,.@-") {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", bounded(s), field)
	}
}

// externalID checks an ExternalId: [\w+=,.@:\/-]{2,1224}.
func (v *validation) externalID(s string) {
	if len(s) < 2 || len(s) > 1224 || !onlyChars(s, "_+=,.@:/-") {
		v.add("Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224")
	}
}

// sourceIdentity checks a SourceIdentity: [\w+=,.@-]{2,64}, not "aws:…".
func (v *validation) sourceIdentity(s string) {
	if len(s) < 2 || len(s) > 64 || !onlyChars(s, "_+=,.@-") || strings.HasPrefix(strings.ToLower(s), "aws:") {
		v.add("Value '%s' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64, and not begin with aws:", bounded(s))
	}
}

// tags checks session tags: at most 50, keys 1..128, values ≤256,
// transitive keys among the tags.
func (v *validation) tags(tags map[string]string, given int, transitive []string) {
	if given > maxSessionTags {
		v.add("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags)
	}
	if given != len(tags) {
		v.add("Duplicate tag keys in 'tags'")
	}
	for k, val := range tags {
		if k == "" || utf8.RuneCountInString(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			v.add("Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and not begin with aws:", bounded(k))
		}
		if utf8.RuneCountInString(val) > 256 {
			v.add("Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
	}
	for _, k := range transitive {
		if _, ok := tags[k]; !ok {
			v.add("Transitive tag key %s is not one of the session tags", bounded(k))
		}
	}
}
