package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dbiam/dbiam/internal/arn"
)

// PrincipalInfo describes the caller for Principal/NotPrincipal matching in
// trust and resource-based policies. Empty fields are unknown/not applicable.
type PrincipalInfo struct {
	// AccountID is the caller's account. A policy naming the account ("AWS":
	// "123456789012" or its root ARN) matches any principal of it.
	AccountID string
	// ARN is the caller's own ARN: an IAM user ARN, an assumed-role session
	// ARN (arn:aws:sts::…:assumed-role/R/S) or the account's root ARN.
	ARN string
	// RoleARN is the role (arn:aws:iam::…:role/path/R) of an assumed-role
	// session; a policy naming it matches every session of the role.
	RoleARN string
	// Federated is the identity provider for AssumeRoleWithSAML /
	// AssumeRoleWithWebIdentity, e.g. arn:aws:iam::…:saml-provider/Okta.
	Federated string
	// Service is a service principal such as "ec2.amazonaws.com".
	Service string
	// CanonicalUser is an S3 canonical user id.
	CanonicalUser string
}

// Request is one authorization question.
type Request struct {
	Action    string // e.g. "redshift:GetClusterCredentials"; matched case-insensitively
	Resource  string // an ARN, or "*" for actions without resource-level permissions
	Principal *PrincipalInfo
	Context   Context
	// Trace asks Evaluate to fill Decision.Trace. Without it, evaluation of
	// the common case does not allocate beyond Decision.Matched.
	Trace bool
}

// NamedPolicy is a policy with the name reports use (e.g.
// "user/alice/inline/ReadOnly" or a managed policy ARN).
type NamedPolicy struct {
	Name   string
	Policy *Policy
}

// PolicySet groups the policies that apply to a request. Nil entries are
// ignored.
type PolicySet struct {
	// Identity holds identity-based policies: the user's or role's inline and
	// attached policies and those of the user's groups. An Allow here grants.
	Identity []*NamedPolicy
	// Resource holds resource-based policies, including a role's trust
	// policy for sts:AssumeRole*. An Allow here grants within the account
	// (see Evaluate for how the named principal matters).
	Resource []*NamedPolicy
	// Boundaries holds the permissions boundary; when non-empty, one of its
	// statements must also allow.
	Boundaries []*NamedPolicy
	// Session holds session policies (inline Policy and PolicyArns of
	// AssumeRole*); when non-empty, one of their statements must also allow.
	Session []*NamedPolicy
	// RequireResource says a policy in Resource must itself allow, as a
	// role's trust policy must for sts:AssumeRole* (an identity-based Allow
	// alone is not enough to assume a role).
	RequireResource bool
}

// StatementRef identifies a statement.
type StatementRef struct {
	Source Source
	Policy string // NamedPolicy.Name
	Sid    string
	Index  int // position in the policy's Statement array
	Effect Effect
}

// String returns the Sid, or "#<index>" for a statement without one.
func (r StatementRef) String() string {
	if r.Sid != "" {
		return r.Sid
	}
	return "#" + strconv.Itoa(r.Index)
}

// Outcome says what happened to a statement during an evaluation.
type Outcome int

// Statement outcomes, in the order the elements are checked.
const (
	Matched Outcome = iota
	ActionMismatch
	PrincipalMismatch
	ResourceMismatch
	VariableMissing // a Resource/NotResource entry needed a variable with no value
	ConditionFalse
)

func (o Outcome) String() string {
	switch o {
	case Matched:
		return "matched"
	case ActionMismatch:
		return "action did not match"
	case PrincipalMismatch:
		return "principal did not match"
	case ResourceMismatch:
		return "resource did not match"
	case VariableMissing:
		return "policy variable has no value"
	case ConditionFalse:
		return "condition is false"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// TraceEntry records one statement's outcome.
type TraceEntry struct {
	StatementRef
	Outcome Outcome
	Detail  string // why, in words; "" when there is nothing to add
}

// Decision is the result of Evaluate.
type Decision struct {
	Effect DecisionEffect
	// Reason says in a few words why (a constant string, safe for logs).
	Reason   string
	Action   string
	Resource string
	// Matched holds the statements that decided: every matching Deny for
	// ExplicitDeny, every matching Allow (from all sources) for Allowed, and
	// nothing for ImplicitDeny.
	Matched []StatementRef
	// MissingContextKeys lists, once each and as first written in a policy,
	// the context keys that statements whose action matched read (in
	// conditions or as variables without a default) but the request context
	// lacks — the simulator's MissingContextValues.
	MissingContextKeys []string
	// Trace has one entry per statement considered, when Request.Trace is set.
	Trace []TraceEntry
}

// Reasons reported in Decision.Reason.
const (
	ReasonExplicitDeny     = "explicitly denied by a Deny statement"
	ReasonIdentityAllow    = "allowed by an identity-based policy"
	ReasonResourceAllow    = "allowed by a resource-based policy"
	ReasonResourceDirect   = "allowed by a resource-based policy that names the principal"
	ReasonNoAllow          = "no identity-based or resource-based policy allows the request"
	ReasonAccountDelegated = "the resource-based policy names the account, which needs an identity-based policy to allow as well"
	ReasonBoundary         = "the permissions boundary does not allow the request"
	ReasonSession          = "the session policy does not allow the request"
	ReasonCrossAccount     = "cross-account request: both an identity-based and a resource-based policy must allow it"
	ReasonResourceRequired = "the resource-based policy (e.g. the role's trust policy) does not allow the request"
)

// strength says how a resource-based policy statement matched the caller.
type strength uint8

const (
	strNone    strength = iota
	strAccount          // the policy names the caller's account (delegates to IAM policies)
	strRole             // "*", NotPrincipal, the session's role ARN, or no Principal element
	strDirect           // the caller's own ARN (user, session, root) or its federated/service principal
)

// Evaluate decides req against set, following AWS's policy evaluation logic
// (reference_policies_evaluation-logic):
//
//  1. A matching Deny statement in any policy — identity, resource,
//     boundary or session — gives ExplicitDeny.
//  2. Otherwise the request is Allowed when
//     - a same-account resource-based policy Allow names the caller
//     directly (its user ARN, its assumed-role session ARN, its federated
//     provider or service): AWS does not limit such grants by an implicit
//     deny in a permissions boundary or session policy; or
//     - an identity-based Allow, or a same-account resource-based Allow that
//     names the session's role ARN, uses "*" or NotPrincipal, matches, AND
//     the boundary (if any) allows AND the session policies (if any) allow.
//     A resource-based Allow that names only the caller's account delegates
//     to IAM: it needs an identity-based Allow too.
//     With PolicySet.RequireResource (role trust policies), a
//     resource-based Allow is needed in every case.
//     For a cross-account request (the caller's account differs from the
//     account in the resource ARN, and the set has resource-based policies)
//     both an identity-based and a resource-based Allow are needed, plus the
//     boundary and session gates. Without resource-based policies, accounts
//     are not compared.
//  3. Otherwise ImplicitDeny.
func Evaluate(req *Request, set PolicySet) Decision {
	e := evaluator{req: req}
	e.view.c = &req.Context
	e.svc, e.name, e.hasSvc = strings.Cut(req.Action, ":")
	e.svcLower = !hasUpperASCII(e.svc)
	d := Decision{Action: req.Action, Resource: req.Resource}

	var (
		denies, allows                              []StatementRef
		identityAllow, resDirect, resGrant, resAcct bool
		boundaryAllow, sessionAllow                 bool
		nBoundary, nSession                         int
	)
	groups := [...]struct {
		src  Source
		pols []*NamedPolicy
	}{
		{SourceIdentity, set.Identity},
		{SourceResource, set.Resource},
		{SourceBoundary, set.Boundaries},
		{SourceSession, set.Session},
	}
	for _, g := range groups {
		for _, np := range g.pols {
			if np == nil || np.Policy == nil {
				continue
			}
			switch g.src {
			case SourceBoundary:
				nBoundary++
			case SourceSession:
				nSession++
			}
			e.pol, e.checked = np.Policy, 0
			for i := range np.Policy.stmts {
				s := &np.Policy.stmts[i]
				out, str, detail := e.statement(s, g.src)
				if out != Matched && !req.Trace {
					continue
				}
				ref := StatementRef{Source: g.src, Policy: np.Name, Sid: s.sid, Index: s.index, Effect: s.effect}
				if req.Trace {
					d.Trace = append(d.Trace, TraceEntry{StatementRef: ref, Outcome: out, Detail: detail})
				}
				if out != Matched {
					continue
				}
				if s.effect == Deny {
					denies = append(denies, ref)
					continue
				}
				allows = append(allows, ref)
				switch g.src {
				case SourceIdentity:
					identityAllow = true
				case SourceResource:
					switch str {
					case strDirect:
						resDirect = true
					case strRole:
						resGrant = true
					case strAccount:
						resAcct = true
					}
				case SourceBoundary:
					boundaryAllow = true
				case SourceSession:
					sessionAllow = true
				}
			}
		}
	}
	d.MissingContextKeys = e.missing

	if len(denies) > 0 {
		d.Effect, d.Reason, d.Matched = ExplicitDeny, ReasonExplicitDeny, denies
		return d
	}
	gateReason := ""
	switch {
	case nBoundary > 0 && !boundaryAllow:
		gateReason = ReasonBoundary
	case nSession > 0 && !sessionAllow:
		gateReason = ReasonSession
	}
	resAny := resDirect || resGrant || resAcct
	switch {
	case e.crossAccount() && len(set.Resource) > 0:
		switch {
		case !identityAllow || !resAny:
			d.Reason = ReasonCrossAccount
		case gateReason != "":
			d.Reason = gateReason
		default:
			d.Effect, d.Reason = Allowed, ReasonResourceAllow
		}
	case set.RequireResource && !resAny:
		d.Reason = ReasonResourceRequired
	case resDirect:
		d.Effect, d.Reason = Allowed, ReasonResourceDirect
	case !identityAllow && !resGrant:
		d.Reason = ReasonNoAllow
		if resAcct {
			d.Reason = ReasonAccountDelegated
		}
	case gateReason != "":
		d.Reason = gateReason
	case identityAllow:
		d.Effect, d.Reason = Allowed, ReasonIdentityAllow
	default:
		d.Effect, d.Reason = Allowed, ReasonResourceAllow
	}
	if d.Effect == Allowed {
		d.Matched = allows
	}
	return d
}

type evaluator struct {
	req       *Request
	view      view
	pol       *Policy // the policy being evaluated
	checked   uint64  // pol.keys[i] (i < 64) already checked for MissingContextKeys
	svc, name string
	hasSvc    bool
	svcLower  bool // svc has no upper-case ASCII: compare prefixes with ==
	missing   []string
}

// crossAccount reports whether the caller's account is known and differs
// from the account of the resource ARN.
func (e *evaluator) crossAccount() bool {
	p := e.req.Principal
	if p == nil || p.AccountID == "" {
		return false
	}
	acct, ok := arn.AccountOf(e.req.Resource)
	return ok && acct != "" && acct != p.AccountID
}

// statement decides one statement. detail is only computed when tracing.
func (e *evaluator) statement(s *stmt, src Source) (Outcome, strength, string) {
	trace := e.req.Trace
	if !e.actionMatch(s) {
		if trace {
			if s.notAction {
				return ActionMismatch, strNone, fmt.Sprintf("%q is excluded by NotAction", e.req.Action)
			}
			return ActionMismatch, strNone, fmt.Sprintf("%q is not in Action", e.req.Action)
		}
		return ActionMismatch, strNone, ""
	}
	e.noteMissing(s)

	str := strRole
	if s.principal != nil {
		if s.notPrincipal {
			if !s.principal.notMatch(e.req.Principal) {
				return PrincipalMismatch, strNone, e.detail(trace, "the caller is excluded by NotPrincipal")
			}
		} else if str = s.principal.match(e.req.Principal); str == strNone {
			return PrincipalMismatch, strNone, e.detail(trace, "the caller is not in Principal")
		}
	} else if src != SourceResource {
		str = strDirect // identity-like statements apply to the caller itself
	}

	if ok, unresolved := e.resourceMatch(s); !ok {
		if unresolved >= 0 {
			if trace {
				t := &s.resources[unresolved]
				return VariableMissing, strNone, fmt.Sprintf("%s entry %q: %s has no value in the request context",
					resourceElem(s), t.raw, t.unresolved(&e.view))
			}
			return VariableMissing, strNone, ""
		}
		if trace {
			if s.notResource {
				return ResourceMismatch, strNone, fmt.Sprintf("%q is excluded by NotResource", e.req.Resource)
			}
			return ResourceMismatch, strNone, fmt.Sprintf("%q is not in Resource", e.req.Resource)
		}
		return ResourceMismatch, strNone, ""
	}

	for i := range s.conds {
		if !s.conds[i].eval(&e.view) {
			if trace {
				return ConditionFalse, strNone, s.conds[i].describe(&e.view)
			}
			return ConditionFalse, strNone, ""
		}
	}
	return Matched, str, ""
}

func (e *evaluator) detail(trace bool, s string) string {
	if !trace {
		return ""
	}
	if p := e.req.Principal; p != nil && p.ARN != "" {
		return s + " (" + p.ARN + ")"
	}
	return s
}

func resourceElem(s *stmt) string {
	if s.notResource {
		return "NotResource"
	}
	return "Resource"
}

func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (e *evaluator) actionMatch(s *stmt) bool {
	m := false
	for i := range s.actions {
		a := &s.actions[i]
		switch {
		case a.all:
			m = true
		case a.svc != "":
			m = e.hasSvc && (e.svcLower && a.svc == e.svc || !e.svcLower && asciiEqualFold(a.svc, e.svc)) &&
				(a.name == "*" || arn.GlobFold(a.name, e.name))
		default:
			m = arn.GlobFold(a.full, e.req.Action)
		}
		if m {
			break
		}
	}
	return m != s.notAction
}

// resourceMatch decides the Resource/NotResource element. unresolved is the
// index of an entry whose variables had no value, or -1.
//
// A Resource entry with an unresolved variable matches nothing. A NotResource
// entry with one makes the statement not apply at all (AWS: an unresolvable
// variable "might cause the entire statement to be invalid"); treating it as
// excluding nothing would widen an Allow.
func (e *evaluator) resourceMatch(s *stmt) (ok bool, unresolved int) {
	if !s.hasResource {
		return true, -1
	}
	unresolved = -1
	found := false
	for i := range s.resources {
		t := &s.resources[i]
		if t.segs == nil {
			if t.meta && t.pf.may(e.req.Resource) && arn.MatchResource(t.raw, e.req.Resource) || !t.meta && t.raw == e.req.Resource {
				found = true
				break
			}
			continue
		}
		// Without wildcards in the policy text, matching is equality with
		// the substituted text.
		var match, resolved bool
		if t.meta {
			var buf [256]byte
			var b []byte
			b, resolved = t.render(buf[:0], &e.view, modePattern)
			match = resolved && arn.MatchResourceBytes(b, e.req.Resource)
		} else {
			match, resolved = t.equal(e.req.Resource, &e.view)
		}
		if !resolved {
			if unresolved < 0 {
				unresolved = i
			}
			if s.notResource {
				return false, unresolved
			}
			continue
		}
		if match {
			found = true
			break
		}
	}
	if s.notResource {
		return !found, -1
	}
	if found {
		return true, -1
	}
	return false, unresolved
}

// noteMissing records the keys s reads that the context lacks. Each of a
// policy's keys is looked up once per evaluation.
func (e *evaluator) noteMissing(s *stmt) {
	for _, idx := range s.keys {
		if idx < 64 {
			if e.checked&(1<<idx) != 0 {
				continue
			}
			e.checked |= 1 << idx
		}
		k := &e.pol.keys[idx]
		if len(e.view.values(k.lkey)) > 0 {
			continue
		}
		dup := false
		for _, m := range e.missing {
			if strings.EqualFold(m, k.name) {
				dup = true
				break
			}
		}
		if !dup {
			e.missing = append(e.missing, k.name)
		}
	}
}

func (ps *principalSet) match(p *PrincipalInfo) strength {
	best := strNone
	if ps.any {
		best = strRole
	}
	if p == nil {
		return best
	}
	if p.ARN != "" && slices.Contains(ps.arns, p.ARN) ||
		p.Federated != "" && slices.Contains(ps.federated, p.Federated) ||
		p.Service != "" && slices.Contains(ps.service, p.Service) ||
		p.CanonicalUser != "" && slices.Contains(ps.canonical, p.CanonicalUser) {
		return strDirect
	}
	if p.RoleARN != "" && slices.Contains(ps.arns, p.RoleARN) {
		best = strRole
	}
	if best == strNone && p.AccountID != "" && slices.Contains(ps.accounts, p.AccountID) {
		best = strAccount
	}
	return best
}

// notMatch reports whether a NotPrincipal element lets the statement apply
// to p: AWS evaluates every identity of the caller (its own ARN, the role of
// a session, its account, its provider), so a caller is excluded only when
// each of them is listed — the documented reason to list a session, its
// role and the account together.
func (ps *principalSet) notMatch(p *PrincipalInfo) bool {
	if ps.any {
		return false
	}
	if p == nil {
		return true
	}
	ids := 0
	check := func(v string, list []string) bool {
		if v == "" {
			return false
		}
		ids++
		return !slices.Contains(list, v)
	}
	if check(p.ARN, ps.arns) || check(p.RoleARN, ps.arns) || check(p.AccountID, ps.accounts) ||
		check(p.Federated, ps.federated) || check(p.Service, ps.service) || check(p.CanonicalUser, ps.canonical) {
		return true
	}
	return ids == 0
}
