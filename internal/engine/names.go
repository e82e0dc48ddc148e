package engine

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the longest role or database name, in bytes: PostgreSQL's
// NAMEDATALEN-1. PostgreSQL silently truncates longer names, which would let
// two different names collide, so engines refuse them instead.
const MaxNameLength = 63

// reservedRoleNames cannot be role names: PostgreSQL reserves them or gives
// them a special meaning in GRANT and SET ROLE. Compared case-insensitively,
// so a quoted "PUBLIC" is refused too (it would be a distinct role that
// reads like the pseudo-role).
var reservedRoleNames = [...]string{"public", "none", "current_user", "session_user", "current_role"}

// ValidateRoleName checks a role name (login, database user or group)
// against the rules every engine enforces before a name reaches SQL, even
// quoted:
//
//   - 1 to 63 bytes of valid UTF-8;
//   - no control or format characters (NUL, C0/C1 controls, DEL, zero-width
//     and bidirectional marks), no whitespace other than an inner space;
//   - none of the quoting characters " ' and \ (PostgreSQL would accept them
//     inside a quoted identifier, but they break tools and invite mistakes);
//   - not starting with "pg_" (reserved by PostgreSQL) and not public, none,
//     current_user, session_user or current_role, case-insensitively.
//
// Other Unicode letters are allowed: quoting is exact, so "аlice" with a
// Cyrillic а is simply a different role from "alice". The error wraps
// ErrInvalidName.
func ValidateRoleName(name string) error {
	if err := validateName("role", name); err != nil {
		return err
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "pg_") {
		return fmt.Errorf("%w: role name %q starts with pg_, which PostgreSQL reserves", ErrInvalidName, name)
	}
	for _, r := range reservedRoleNames {
		if lower == r {
			return fmt.Errorf("%w: role name %q is reserved", ErrInvalidName, name)
		}
	}
	return nil
}

// ValidateDatabaseName checks a database name with the character and length
// rules of ValidateRoleName. The error wraps ErrInvalidName.
func ValidateDatabaseName(name string) error {
	return validateName("database", name)
}

func validateName(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty %s name", ErrInvalidName, kind)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: %s name is %d bytes long, the limit is %d", ErrInvalidName, kind, len(name), MaxNameLength)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s name %q is not valid UTF-8", ErrInvalidName, kind, name)
	}
	for i, r := range name {
		switch {
		case r == ' ':
			if i == 0 || i == len(name)-1 {
				return fmt.Errorf("%w: %s name %q starts or ends with a space", ErrInvalidName, kind, name)
			}
		case r == '"' || r == '\'' || r == '\\':
			return fmt.Errorf("%w: %s name %q contains the quoting character %q", ErrInvalidName, kind, name, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) ||
			unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) || unicode.Is(unicode.Co, r) ||
			r == utf8.RuneError:
			return fmt.Errorf("%w: %s name %q contains the control, format or space character %U", ErrInvalidName, kind, name, r)
		}
	}
	return nil
}

// ValidatePassword checks a caller-generated password: printable ASCII
// (so SASLprep leaves it unchanged and every client derives the same SCRAM
// keys), MinPasswordLength to MaxPasswordLength characters. The error wraps
// ErrInvalidRequest and never contains the password.
func ValidatePassword(p Secret) error {
	s := p.Reveal()
	if len(s) < MinPasswordLength || len(s) > MaxPasswordLength {
		return fmt.Errorf("%w: password must be %d to %d characters, got %d", ErrInvalidRequest, MinPasswordLength, MaxPasswordLength, len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return fmt.Errorf("%w: password must be printable ASCII without spaces (character %d is not)", ErrInvalidRequest, i+1)
		}
	}
	return nil
}

// ValidateComment checks an attribution comment: at most MaxCommentLength
// bytes of valid UTF-8 without control characters. The error wraps
// ErrInvalidRequest.
func ValidateComment(c string) error {
	if len(c) > MaxCommentLength {
		return fmt.Errorf("%w: comment is %d bytes long, the limit is %d", ErrInvalidRequest, len(c), MaxCommentLength)
	}
	if !utf8.ValidString(c) {
		return fmt.Errorf("%w: comment is not valid UTF-8", ErrInvalidRequest)
	}
	for _, r := range c {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: comment contains the control character %U", ErrInvalidRequest, r)
		}
	}
	return nil
}

// Validate checks every field of the request against the rules all engines
// share: names (ValidateRoleName, ValidateDatabaseName), password
// (ValidatePassword), comment (ValidateComment), a ValidUntil after now,
// and a login name different from DbUser and the groups. Engines call it
// before touching the database; it returns the first problem found.
func (r IssueRequest) Validate(now time.Time) error {
	if err := ValidateRoleName(r.LoginName); err != nil {
		return fmt.Errorf("login name: %w", err)
	}
	if err := ValidateRoleName(r.DbUser); err != nil {
		return fmt.Errorf("db user: %w", err)
	}
	if r.DbName != "" {
		if err := ValidateDatabaseName(r.DbName); err != nil {
			return fmt.Errorf("db name: %w", err)
		}
	}
	if r.LoginName == r.DbUser {
		return fmt.Errorf("login name: %w: it equals the db user %q", ErrInvalidName, r.DbUser)
	}
	for _, g := range r.Groups {
		if err := ValidateRoleName(g); err != nil {
			return fmt.Errorf("group: %w", err)
		}
		if g == r.DbUser || g == r.LoginName {
			return fmt.Errorf("group: %w: group %q equals the db user or the login name", ErrInvalidName, g)
		}
	}
	if err := ValidatePassword(r.Password); err != nil {
		return err
	}
	if err := ValidateComment(r.Comment); err != nil {
		return err
	}
	if r.ValidUntil.IsZero() {
		return fmt.Errorf("%w: valid until is not set", ErrInvalidRequest)
	}
	if !r.ValidUntil.After(now) {
		return fmt.Errorf("%w: valid until %s is not in the future", ErrInvalidRequest, r.ValidUntil.UTC().Format(time.RFC3339))
	}
	return nil
}
