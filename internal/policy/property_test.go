package policy

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// A seeded generator of small policies and requests over a shared
// vocabulary, so that statements and requests often meet.

var (
	genActions = []string{"s3:GetObject", "s3:*", "s3:Get*", "redshift:GetClusterCredentials", "redshift:*",
		"redshift:JoinGroup", "*", "iam:?etUser", "sts:AssumeRole"}
	genResources = []string{"*", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/key",
		"arn:aws:redshift:us-west-2:123456789012:dbuser:c/${redshift:DbUser}",
		"arn:aws:redshift:*:*:dbuser:*/a*", "arn:aws:iam::123456789012:user/${aws:username}",
		"arn:aws:redshift:us-west-2:123456789012:dbgroup:c/g"}
	genConds = []string{
		`"StringEquals":{"aws:username":"alice"}`,
		`"StringNotEquals":{"aws:username":["alice","bob"]}`,
		`"StringLike":{"aws:userid":"AROA*:${redshift:DbUser}@*"}`,
		`"StringEqualsIfExists":{"redshift:DbName":"dev"}`,
		`"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}`,
		`"ForAnyValue:StringLike":{"aws:TagKeys":"a*"}`,
		`"Null":{"aws:TokenIssueTime":"true"}`,
		`"Bool":{"aws:SecureTransport":true}`,
		`"NumericLessThanEquals":{"redshift:DurationSeconds":900}`,
		`"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}`,
		`"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}`,
		`"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}`,
		`"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}`,
	}
	genReqActions   = []string{"s3:GetObject", "s3:PutObject", "redshift:GetClusterCredentials", "redshift:JoinGroup", "iam:GetUser", "sts:AssumeRole"}
	genReqResources = []string{"arn:aws:s3:::bucket/key", "arn:aws:s3:::other/key",
		"arn:aws:redshift:us-west-2:123456789012:dbuser:c/alice", "arn:aws:redshift:us-west-2:123456789012:dbuser:c/bob",
		"arn:aws:redshift:us-west-2:123456789012:dbgroup:c/g", "arn:aws:iam::123456789012:user/alice", "*"}
	genCtx = [][2]string{
		{"aws:username", "alice"}, {"aws:username", "bob"}, {"redshift:DbUser", "alice"}, {"redshift:DbUser", "bob"},
		{"aws:userid", "AROAX:alice@example.com"}, {"redshift:DbName", "dev"}, {"redshift:DbName", "prod"},
		{"aws:TagKeys", "a"}, {"aws:TagKeys", "c"}, {"aws:TokenIssueTime", "2024-01-01T00:00:00Z"},
		{"aws:SecureTransport", "true"}, {"aws:SecureTransport", "false"}, {"redshift:DurationSeconds", "3600"},
		{"redshift:DurationSeconds", "900"}, {"aws:CurrentTime", "2025-06-01T00:00:00Z"}, {"aws:SourceIp", "10.1.2.3"},
		{"aws:SourceIp", "192.0.2.1"}, {"aws:PrincipalArn", "arn:aws:iam::123456789012:user/alice"},
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func quoteList(r *rand.Rand, xs []string, max int) string {
	n := 1 + r.IntN(max)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strconv.Quote(pick(r, xs))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// genStatement returns a statement with the given effect ("" for random).
func genStatement(r *rand.Rand, effect string) string {
	if effect == "" {
		effect = pick(r, []string{"Allow", "Deny"})
	}
	var b strings.Builder
	b.WriteString(`{"Effect":"` + effect + `",`)
	if r.IntN(5) == 0 {
		b.WriteString(`"NotAction":`)
	} else {
		b.WriteString(`"Action":`)
	}
	b.WriteString(quoteList(r, genActions, 3) + ",")
	if r.IntN(5) == 0 {
		b.WriteString(`"NotResource":`)
	} else {
		b.WriteString(`"Resource":`)
	}
	b.WriteString(quoteList(r, genResources, 3))
	if n := r.IntN(3); n > 0 {
		b.WriteString(`,"Condition":{`)
		seen := map[string]bool{}
		first := true
		for range n {
			c := pick(r, genConds)
			op := c[:strings.Index(c[1:], `"`)+2]
			if seen[op] {
				continue
			}
			seen[op] = true
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(c)
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	return b.String()
}

func genPolicy(t testing.TB, r *rand.Rand, kind PolicyKind, effect string) *Policy {
	t.Helper()
	n := 1 + r.IntN(4)
	stmts := make([]string, n)
	for i := range stmts {
		stmts[i] = genStatement(r, effect)
	}
	return mustParse(t, kind, `{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`)
}

func genPolicies(t testing.TB, r *rand.Rand, kind PolicyKind, effect string, max int) []*NamedPolicy {
	n := r.IntN(max + 1)
	out := make([]*NamedPolicy, n)
	for i := range out {
		out[i] = named(kind.String()+strconv.Itoa(i), genPolicy(t, r, kind, effect))
	}
	return out
}

func genRequest(r *rand.Rand) *Request {
	req := &Request{Action: pick(r, genReqActions), Resource: pick(r, genReqResources)}
	for range r.IntN(6) {
		kv := pick(r, genCtx)
		req.Context.Add(kv[0], kv[1])
	}
	return req
}

// rounds is the number of random cases per property (fewer with -short).
func rounds() int {
	if testing.Short() {
		return 300
	}
	return 2000
}

// Adding any Allow statement, anywhere, never turns an explicit deny into
// anything else.
func TestPropertyAllowNeverOverridesExplicitDeny(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	denies := 0
	for range rounds() {
		set := PolicySet{Identity: genPolicies(t, r, Identity, "", 3), Boundaries: genPolicies(t, r, Boundary, "", 1), Session: genPolicies(t, r, Session, "", 1)}
		req := genRequest(r)
		if Evaluate(req, set).Effect != ExplicitDeny {
			continue
		}
		denies++
		extra := named("extra", genPolicy(t, r, Identity, "Allow"))
		for _, s := range []PolicySet{
			{Identity: append(set.Identity[:len(set.Identity):len(set.Identity)], extra), Boundaries: set.Boundaries, Session: set.Session},
			{Identity: set.Identity, Boundaries: append(set.Boundaries[:len(set.Boundaries):len(set.Boundaries)], extra), Session: set.Session},
			{Identity: set.Identity, Boundaries: set.Boundaries, Session: append(set.Session[:len(set.Session):len(set.Session)], extra)},
		} {
			if d := Evaluate(req, s); d.Effect != ExplicitDeny {
				t.Fatalf("adding an Allow changed explicitDeny to %v for %+v\n%s", d.Effect, req, d.Explain())
			}
		}
	}
	if denies < rounds()/20 {
		t.Fatalf("generator produced only %d explicit denies", denies)
	}
}

// A set made only of Deny statements never allows.
func TestPropertyDenyNeverGrants(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range rounds() {
		set := PolicySet{Identity: genPolicies(t, r, Identity, "Deny", 3), Boundaries: genPolicies(t, r, Boundary, "Deny", 1), Session: genPolicies(t, r, Session, "Deny", 1)}
		req := genRequest(r)
		if d := Evaluate(req, set); d.Effect == Allowed {
			t.Fatalf("deny-only set allowed %+v\n%s", req, d.Explain())
		}
	}
}

// Boundaries and session policies only ever shrink the allowed set; more
// identity Allows only ever grow it (absent denies).
func TestPropertyGatesNeverEnlarge(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	allowed := 0
	for range rounds() {
		identity := genPolicies(t, r, Identity, "", 3)
		req := genRequest(r)
		base := Evaluate(req, PolicySet{Identity: identity})
		if base.Effect == Allowed {
			allowed++
		}
		gated := Evaluate(req, PolicySet{Identity: identity, Boundaries: genPolicies(t, r, Boundary, "", 2), Session: genPolicies(t, r, Session, "", 2)})
		if gated.Effect == Allowed && base.Effect != Allowed {
			t.Fatalf("a gate enlarged the allowed set for %+v\n%s", req, gated.Explain())
		}
		more := Evaluate(req, PolicySet{Identity: append(identity[:len(identity):len(identity)], named("extra", genPolicy(t, r, Identity, "Allow")))})
		if base.Effect == Allowed && more.Effect != Allowed {
			t.Fatalf("adding an identity Allow removed access for %+v\n%s", req, more.Explain())
		}
	}
	if allowed < rounds()/20 {
		t.Fatalf("generator produced only %d allowed requests", allowed)
	}
}

// Trace and no-trace evaluations agree, and the trace has one entry per
// statement.
func TestPropertyTraceAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range rounds() / 3 {
		set := PolicySet{Identity: genPolicies(t, r, Identity, "", 3), Boundaries: genPolicies(t, r, Boundary, "", 1)}
		req := genRequest(r)
		d1 := Evaluate(req, set)
		req.Trace = true
		d2 := Evaluate(req, set)
		n := 0
		for _, ps := range [][]*NamedPolicy{set.Identity, set.Boundaries} {
			for _, p := range ps {
				n += p.Policy.Len()
			}
		}
		if d1.Effect != d2.Effect || len(d2.Trace) != n || len(d1.Matched) != len(d2.Matched) {
			t.Fatalf("trace disagrees: %v/%v, %d entries for %d statements", d1.Effect, d2.Effect, len(d2.Trace), n)
		}
		matched := 0
		for _, e := range d2.Trace {
			if e.Outcome == Matched && (d2.Effect == ExplicitDeny) == (e.Effect == Deny) {
				matched++
			}
		}
		if d2.Effect != ImplicitDeny && matched != len(d2.Matched) {
			t.Fatalf("Matched has %d entries, trace %d", len(d2.Matched), matched)
		}
	}
}
