package policy

import (
	"strings"
	"testing"
)

func mustParse(t testing.TB, kind PolicyKind, doc string) *Policy {
	t.Helper()
	p, err := ParseKind([]byte(doc), kind)
	if err != nil {
		t.Fatalf("parse %s policy: %v\n%s", kind, err, doc)
	}
	return p
}

func named(name string, p *Policy) *NamedPolicy { return &NamedPolicy{Name: name, Policy: p} }

// ctxOf builds a context from "key=value" pairs; repeated keys accumulate;
// "key=" with nothing after sets an empty string value; "key" alone sets the
// key with an empty value set.
func ctxOf(pairs ...string) Context {
	var c Context
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			c.Set(k)
			continue
		}
		c.Add(k, v)
	}
	return c
}

func identityOnly(t testing.TB, docs ...string) PolicySet {
	t.Helper()
	var set PolicySet
	for i, d := range docs {
		set.Identity = append(set.Identity, named("identity"+string(rune('A'+i)), mustParse(t, Identity, d)))
	}
	return set
}

func refs(rs []StatementRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}
