package clustercreds

import (
	"strconv"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
)

// Login-name prefixes, as Redshift returns them in DbUser.
const (
	prefixIAM       = "IAM:"  // GetClusterCredentials without AutoCreate; WithIAM for users
	prefixIAMCreate = "IAMA:" // GetClusterCredentials with AutoCreate
	prefixIAMRole   = "IAMR:" // GetClusterCredentialsWithIAM for role sessions
	// loginSuffixLen is the length of the random part that makes every
	// credential's login role unique: "<prefix><DbUser>:<suffix>".
	loginSuffixLen = 10
	// maxRoleNameBytes is PostgreSQL's identifier limit (NAMEDATALEN-1).
	maxRoleNameBytes = 63
	// MaxDbUserBytes is the longest DbUser: the database user is a
	// PostgreSQL role (Redshift allows 64 characters).
	MaxDbUserBytes = maxRoleNameBytes
)

// loginName returns the login role name of one credential:
// "<base>:<suffix>", base being the Redshift prefix and the db user. When
// that exceeds PostgreSQL's 63 bytes, base is cut to fit: the suffix keeps
// the name unique, and the login's membership, its SET role and comment,
// and dbiam's record name the whole db user. Names are ASCII (checkName),
// so cutting bytes cuts characters.
func loginName(base, suffix string) string {
	if keep := maxRoleNameBytes - 1 - len(suffix); len(base) > keep {
		base = base[:keep]
	}
	return base + ":" + suffix
}

// reservedWords are names Redshift refuses as users, groups or databases,
// and PostgreSQL's role keywords.
var reservedWords = map[string]bool{
	"public": true, "none": true, "current_user": true, "session_user": true, "current_role": true,
	"user": true, "role": true, "all": true, "select": true, "insert": true, "update": true, "delete": true,
	"table": true, "grant": true, "group": true, "default": true, "null": true, "true": true, "false": true,
}

// checkName applies Redshift's documented rules for DbUser, DbName and
// DbGroup: 1..max characters, first a letter, then letters, digits and
// _ + . @ -; no reserved word. lower restricts letters to lower case (as
// for groups). It returns a message naming the broken rule, or "".
func checkName(param, v string, max int, lower bool) string {
	if v == "" || len(v) > max {
		return param + " must be 1 to " + strconv.Itoa(max) + " characters long."
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		isLower, isUpper := c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z'
		switch {
		case isLower || (isUpper && !lower):
		case i == 0:
			if lower {
				return param + " must begin with a lowercase letter."
			}
			return param + " must begin with a letter."
		case c >= '0' && c <= '9' || strings.IndexByte("_+.@-", c) >= 0:
		case isUpper:
			return param + " must contain only lowercase letters, digits and _ + . @ -."
		default:
			return param + " must contain only letters, digits and _ + . @ - (no spaces, quotes, colons or slashes)."
		}
	}
	if reservedWords[strings.ToLower(v)] {
		return param + " must not be a reserved word (" + v + ")."
	}
	if strings.HasPrefix(strings.ToLower(v), "pg_") {
		return param + " must not begin with pg_."
	}
	return ""
}

func invalidParameter(msg string) error {
	return awserr.New(awserr.InvalidParameterValue, "%s", msg)
}
