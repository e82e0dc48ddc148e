package policy

import (
	"slices"
	"strings"
)

// Policy versions.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed, validated and compiled policy document. It is
// immutable and safe for concurrent use by any number of evaluations.
type Policy struct {
	version string // as written; "" when absent
	id      string
	kind    PolicyKind
	size    int
	stmts   []stmt
	// keys are the distinct context keys the statements read (condition
	// keys and variables without a default); stmt.keys index into it.
	keys []keyRef
}

// Version returns the Version element, or "" when the document has none
// (which AWS treats as 2008-10-17).
func (p *Policy) Version() string { return p.version }

// VariablesEnabled reports whether policy variables are substituted: only
// under Version 2012-10-17.
func (p *Policy) VariablesEnabled() bool { return p.version == Version2012 }

// ID returns the Id element ("" if absent).
func (p *Policy) ID() string { return p.id }

// Kind returns the kind the policy was parsed as.
func (p *Policy) Kind() PolicyKind { return p.kind }

// Size is the document's length in characters, not counting whitespace
// outside JSON strings — the measure AWS applies its size quotas to.
func (p *Policy) Size() int { return p.size }

// Len is the number of statements.
func (p *Policy) Len() int { return len(p.stmts) }

// Statement is a read-only view of one statement, as written (string-or-array
// elements normalised to slices). Statements returns fresh copies, so
// modifying one does not affect the Policy.
type Statement struct {
	Index        int // position in the Statement array (0 for a lone object)
	Sid          string
	Effect       Effect
	Principal    *Principal // nil when the statement has neither Principal nor NotPrincipal
	NotPrincipal bool       // Principal holds the NotPrincipal element
	Actions      []string
	NotAction    bool // Actions holds the NotAction element
	Resources    []string
	NotResource  bool // Resources holds the NotResource element
	// HasResource is false for trust-policy statements, which have neither
	// Resource nor NotResource and apply to any resource.
	HasResource bool
	Conditions  []Condition
}

// Principal is a Principal or NotPrincipal element. Wildcard is true for
// "Principal": "*"; otherwise the lists hold the object's members.
type Principal struct {
	Wildcard      bool
	AWS           []string
	Federated     []string
	Service       []string
	CanonicalUser []string
}

// Condition is one operator/key pair of a Condition block, with the values
// in their string form (JSON numbers and booleans as written).
type Condition struct {
	Operator string // e.g. "ForAnyValue:StringLikeIfExists"
	Key      string // as written, e.g. "aws:PrincipalTag/team"
	Values   []string
}

// Ref returns a reference to the statement (for reports).
func (s Statement) Ref(policy string) StatementRef {
	return StatementRef{Policy: policy, Sid: s.Sid, Index: s.Index}
}

// Statements returns copies of the policy's statements, in document order.
func (p *Policy) Statements() []Statement {
	out := make([]Statement, len(p.stmts))
	for i := range p.stmts {
		out[i] = p.stmts[i].view()
	}
	return out
}

// stmt is a compiled statement.
type stmt struct {
	index  int
	sid    string
	effect Effect

	principal    *principalSet
	notPrincipal bool

	actions   []actionPat
	notAction bool

	hasResource bool
	resources   []tmpl
	notResource bool

	conds []cond
	// keys are the context keys this statement reads (condition keys and
	// variables without a default), for MissingContextKeys, as indexes into
	// Policy.keys.
	keys []int
}

type keyRef struct {
	lkey string // lower-cased
	name string // as first written
}

func (s *stmt) view() Statement {
	v := Statement{
		Index:        s.index,
		Sid:          s.sid,
		Effect:       s.effect,
		NotPrincipal: s.notPrincipal,
		NotAction:    s.notAction,
		NotResource:  s.notResource,
		HasResource:  s.hasResource,
	}
	if s.principal != nil {
		p := s.principal.view
		p.AWS = slices.Clone(p.AWS)
		p.Federated = slices.Clone(p.Federated)
		p.Service = slices.Clone(p.Service)
		p.CanonicalUser = slices.Clone(p.CanonicalUser)
		v.Principal = &p
	}
	for _, a := range s.actions {
		v.Actions = append(v.Actions, a.raw)
	}
	for _, r := range s.resources {
		v.Resources = append(v.Resources, r.raw)
	}
	for i := range s.conds {
		c := &s.conds[i]
		vals := make([]string, len(c.vals))
		for j := range c.vals {
			vals[j] = c.vals[j].raw0
		}
		v.Conditions = append(v.Conditions, Condition{Operator: c.opName, Key: c.key, Values: vals})
	}
	return v
}

// actionPat is one Action/NotAction entry, lower-cased and split at the
// service prefix so most mismatches are decided on the prefix alone.
type actionPat struct {
	raw  string
	all  bool   // "*"
	svc  string // lower-cased service prefix, "" if it has wildcards
	name string // lower-cased action name pattern (when svc != "")
	full string // lower-cased whole pattern
}

func compileAction(raw string) actionPat {
	a := actionPat{raw: raw, full: strings.ToLower(raw)}
	if raw == "*" {
		a.all = true
		return a
	}
	svc, name, _ := strings.Cut(a.full, ":")
	if !strings.ContainsAny(svc, "*?") {
		a.svc, a.name = svc, name
	}
	return a
}

// principalSet is a compiled Principal/NotPrincipal element.
type principalSet struct {
	view      Principal
	any       bool     // "*" or {"AWS": "*"}
	arns      []string // AWS entries that are ARNs (including root ARNs)
	accounts  []string // account ids, from 12-digit entries and root ARNs
	federated []string
	service   []string
	canonical []string
}
