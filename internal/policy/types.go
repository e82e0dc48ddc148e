package policy

import "strconv"

// PolicyKind says which grammar a document follows and where it is used.
type PolicyKind int

// Policy kinds. The zero value is Identity.
const (
	// Identity: a policy attached to a user, group or role (inline or
	// managed). Principal/NotPrincipal are forbidden; Resource or NotResource
	// is required.
	Identity PolicyKind = iota
	// Trust: a role's trust policy (AssumeRolePolicyDocument), a
	// resource-based policy whose resource is the role itself. Principal or
	// NotPrincipal is required; Resource/NotResource are forbidden (as IAM
	// does: "Has prohibited field Resource"); actions must be "*" or sts:….
	Trust
	// Resource: any other resource-based policy. Principal or NotPrincipal
	// and Resource or NotResource are required; a Sid may be any string.
	Resource
	// Session: a session policy passed to AssumeRole* (same grammar as
	// Identity).
	Session
	// Boundary: a permissions boundary (same grammar as Identity).
	Boundary
)

var kindNames = [...]string{Identity: "identity", Trust: "trust", Resource: "resource", Session: "session", Boundary: "boundary"}

func (k PolicyKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "PolicyKind(" + strconv.Itoa(int(k)) + ")"
}

func (k PolicyKind) valid() bool { return k >= Identity && k <= Boundary }

// hasPrincipal reports whether statements of this kind carry a Principal.
func (k PolicyKind) hasPrincipal() bool { return k == Trust || k == Resource }

// Effect is a statement's Effect element.
type Effect int

// Statement effects. The zero value is not a valid effect.
const (
	Allow Effect = iota + 1
	Deny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Effect(" + strconv.Itoa(int(e)) + ")"
}

// Source says which part of a PolicySet a policy came from.
type Source int

// Policy sources, in the order Evaluate visits them.
const (
	SourceIdentity Source = iota
	SourceResource
	SourceBoundary
	SourceSession
)

var sourceNames = [...]string{
	SourceIdentity: "identity",
	SourceResource: "resource",
	SourceBoundary: "boundary",
	SourceSession:  "session",
}

func (s Source) String() string {
	if s >= 0 && int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// DecisionEffect is the outcome of an evaluation. The zero value is
// ImplicitDeny, so a forgotten Decision denies.
type DecisionEffect int

// Decision effects; String gives the IAM simulator's EvalDecision values.
const (
	ImplicitDeny DecisionEffect = iota
	ExplicitDeny
	Allowed
)

func (d DecisionEffect) String() string {
	switch d {
	case ImplicitDeny:
		return "implicitDeny"
	case ExplicitDeny:
		return "explicitDeny"
	case Allowed:
		return "allowed"
	}
	return "DecisionEffect(" + strconv.Itoa(int(d)) + ")"
}
