package policy

import (
	"strconv"
	"strings"
)

// Explain renders the decision as multi-line text for people (the CLI's
// "policy simulate"), e.g.
//
//	Decision: allowed (allowed by an identity-based policy)
//	Request:  redshift:GetClusterCredentials on arn:aws:redshift:…:dbuser:examplecluster/alice
//	Decided by:
//	  identity policy "alice-inline" statement GetClusterCredsStatement (#0, Allow)
//	Statements:
//	  identity "alice-inline" GetClusterCredsStatement (#0, Allow): matched
//	  identity "alice-inline" CreateClusterUserStatement (#1, Allow): action did not match: …
//
// The statement list is present only when the request asked for a trace.
func (d Decision) Explain() string {
	var b strings.Builder
	b.WriteString("Decision: ")
	b.WriteString(d.Effect.String())
	if d.Reason != "" {
		b.WriteString(" (" + d.Reason + ")")
	}
	b.WriteString("\nRequest:  ")
	b.WriteString(d.Action)
	b.WriteString(" on ")
	b.WriteString(d.Resource)
	b.WriteByte('\n')
	if len(d.Matched) > 0 {
		b.WriteString("Decided by:\n")
		for _, r := range d.Matched {
			b.WriteString("  " + r.Source.String() + " policy " + strconv.Quote(r.Policy) + " statement " + r.label() + "\n")
		}
	}
	if len(d.MissingContextKeys) > 0 {
		b.WriteString("Missing context keys: " + strings.Join(d.MissingContextKeys, ", ") + "\n")
	}
	if len(d.Trace) > 0 {
		b.WriteString("Statements:\n")
		for _, t := range d.Trace {
			b.WriteString("  " + t.Source.String() + " " + strconv.Quote(t.Policy) + " " + t.label() + ": " + t.Outcome.String())
			if t.Detail != "" {
				b.WriteString(": " + t.Detail)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// label is "Sid (#i, Effect)" or "#i (Effect)".
func (r StatementRef) label() string {
	idx := "#" + strconv.Itoa(r.Index)
	if r.Sid == "" {
		return idx + " (" + r.Effect.String() + ")"
	}
	return r.Sid + " (" + idx + ", " + r.Effect.String() + ")"
}
