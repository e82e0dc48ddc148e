package policylint

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dbiam/dbiam/internal/arn"
	"github.com/dbiam/dbiam/internal/policy"
)

// Severity of a finding.
type Severity string

// Severities: an Error makes the policy unusable (it does not parse);
// a Warning is worth a look before attaching it.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one remark about a policy.
type Finding struct {
	Severity Severity
	Where    string // "Statement[1] (Sid ReadOnly)", or "" for the document
	Message  string
}

func (f Finding) String() string {
	if f.Where == "" {
		return string(f.Severity) + ": " + f.Message
	}
	return string(f.Severity) + ": " + f.Where + ": " + f.Message
}

// Check parses doc as a policy of kind and reviews it.
func Check(doc []byte, kind policy.PolicyKind) []Finding {
	p, err := policy.ParseKind(doc, kind)
	if err != nil {
		var pe *policy.ParseError
		if errors.As(err, &pe) {
			return []Finding{{Severity: Error, Where: pe.Path, Message: pe.Message}}
		}
		return []Finding{{Severity: Error, Message: err.Error()}}
	}
	var out []Finding
	stmts := p.Statements()
	for _, s := range stmts {
		where := fmt.Sprintf("Statement[%d]", s.Index)
		if s.Sid != "" {
			where += " (Sid " + s.Sid + ")"
		}
		add := func(sev Severity, format string, args ...any) {
			out = append(out, Finding{Severity: sev, Where: where, Message: fmt.Sprintf(format, args...)})
		}
		if !s.NotAction {
			for _, a := range s.Actions {
				if msg := checkAction(a); msg != "" {
					add(Warning, "%s", msg)
				}
			}
		}
		if s.Effect == policy.Allow {
			dangerous(s, kind, add)
		}
		if s.Effect == policy.Allow && shadowed(s, stmts) {
			add(Warning, "this Allow can never take effect: an unconditional Deny in the same policy covers all of its actions and resources")
		}
	}
	return out
}

// checkAction reports an action that no served action matches.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok {
		return ""
	}
	known, served := servedActions[strings.ToLower(service)]
	if !served {
		return fmt.Sprintf("action %s: service %q is not served by dbiam, so this has no effect here", a, service)
	}
	for _, k := range known {
		if arn.GlobFold(name, k) {
			return ""
		}
	}
	return fmt.Sprintf("action %s matches no %s action that dbiam serves (check the spelling)", a, service)
}

// dangerous reports wildcards that grant far more than intended.
func dangerous(s policy.Statement, kind policy.PolicyKind, add func(Severity, string, ...any)) {
	conditional := len(s.Conditions) > 0
	if s.NotAction {
		add(Warning, "Allow with NotAction grants every action not listed, in every service; list the actions to allow instead")
	}
	resAll := !s.NotResource && contains(s.Resources, "*")
	for _, a := range s.Actions {
		if s.NotAction {
			break
		}
		switch strings.ToLower(a) {
		case "*":
			if resAll && !conditional {
				add(Warning, `"Action": "*" on "Resource": "*" grants full administrator access`)
			} else {
				add(Warning, `"Action": "*" allows every action of every service`)
			}
		case "iam:*", "sts:*":
			add(Warning, "%s lets the holder change its own permissions or become another principal", a)
		case "redshift:getclustercredentials", "redshift:createclusteruser", "redshift:*":
			for _, r := range s.Resources {
				if !s.NotResource && (r == "*" || strings.HasSuffix(r, "/*") && !strings.Contains(r, "${")) && !conditional {
					add(Warning, "%s on %s: any database user, including administrators; pin the user (e.g. dbuser:<cluster>/${aws:username}) or add a condition on redshift:DbUser", a, r)
					break
				}
			}
		}
	}
	if kind == policy.Trust && s.Principal != nil && (s.Principal.Wildcard || contains(s.Principal.AWS, "*")) && !conditional {
		add(Warning, `"Principal": "*" without a Condition lets anyone who can call STS assume this role`)
	}
}

// shadowed reports whether an unconditional Deny statement of the same
// policy covers every action and resource of the Allow statement s.
func shadowed(s policy.Statement, stmts []policy.Statement) bool {
	if s.NotAction || s.NotResource {
		return false
	}
	for _, d := range stmts {
		if d.Effect != policy.Deny || len(d.Conditions) > 0 || d.NotAction || d.NotResource || d.Principal != nil {
			continue
		}
		if coversAll(d.Actions, s.Actions, true) && (!s.HasResource || coversAll(d.Resources, s.Resources, false)) {
			return true
		}
	}
	return false
}

// coversAll reports whether every pattern in want is matched, as a literal,
// by some pattern in have (a glob covering a glob's text covers what that
// glob matches, for the * and ? wildcards IAM uses).
func coversAll(have, want []string, fold bool) bool {
	for _, w := range want {
		ok := false
		for _, h := range have {
			if (fold && arn.GlobFold(h, w)) || (!fold && arn.Glob(h, w)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
