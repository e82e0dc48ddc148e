package policy

import (
	"slices"
	"strings"
	"testing"
)

// The example policies of the Redshift management guide (spec
// redshift-iam.md §3.3).

const (
	redshiftA = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"redshift:GetClusterCredentials",
 "Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/temp_creds_user"}}`

	redshiftB = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"redshift:GetClusterCredentials",
 "Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:*/temp_*"}}`

	redshiftC = `{"Version":"2012-10-17","Statement":{"Effect":"Allow",
 "Action":["redshift:GetClusterCredentials","redshift:CreateClusterUser","redshift:JoinGroup"],"Resource":"*"}}`

	redshiftD = `{"Version":"2012-10-17","Statement":[
 {"Sid":"GetClusterCredsStatement","Effect":"Allow","Action":["redshift:GetClusterCredentials"],
  "Resource":["arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${redshift:DbUser}",
              "arn:aws:redshift:us-west-2:123456789012:dbname:examplecluster/testdb",
              "arn:aws:redshift:us-west-2:123456789012:dbgroup:examplecluster/common_group"],
  "Condition":{"StringEquals":{"aws:userid":"AIDIODR4TAW7CSEXAMPLE:${redshift:DbUser}@yourdomain.com"}}},
 {"Sid":"CreateClusterUserStatement","Effect":"Allow","Action":["redshift:CreateClusterUser"],
  "Resource":["arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${redshift:DbUser}"],
  "Condition":{"StringEquals":{"aws:userid":"AIDIODR4TAW7CSEXAMPLE:${redshift:DbUser}@yourdomain.com"}}},
 {"Sid":"RedshiftJoinGroupStatement","Effect":"Allow","Action":["redshift:JoinGroup"],
  "Resource":["arn:aws:redshift:us-west-2:123456789012:dbgroup:examplecluster/common_group"]}]}`

	rsPrefix = "arn:aws:redshift:us-west-2:123456789012:"
)

func TestRedshiftExamplePolicies(t *testing.T) {
	alice := []string{"aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com", "redshift:DbUser=alice"}
	bobAsAlice := []string{"aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com", "redshift:DbUser=bob"}
	bob := []string{"aws:userid=AIDIODR4TAW7CSEXAMPLE:bob@yourdomain.com", "redshift:DbUser=bob"}
	tests := []struct {
		name     string
		policy   string
		action   string
		resource string
		ctx      []string
		want     DecisionEffect
		matched  []string
	}{
		{"a: single user allowed", redshiftA, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/temp_creds_user", nil, Allowed, []string{"#0"}},
		{"a: other user denied", redshiftA, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/alice", nil, ImplicitDeny, nil},
		{"a: other action denied", redshiftA, "redshift:CreateClusterUser",
			rsPrefix + "dbuser:examplecluster/temp_creds_user", nil, ImplicitDeny, nil},
		{"a: action case-insensitive", redshiftA, "Redshift:getclustercredentials",
			rsPrefix + "dbuser:examplecluster/temp_creds_user", nil, Allowed, []string{"#0"}},
		{"b: temp_ user on any cluster", redshiftB, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:othercluster/temp_42", nil, Allowed, []string{"#0"}},
		{"b: non-temp user", redshiftB, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/admin", nil, ImplicitDeny, nil},
		{"b: other region", redshiftB, "redshift:GetClusterCredentials",
			"arn:aws:redshift:eu-west-1:123456789012:dbuser:examplecluster/temp_x", nil, ImplicitDeny, nil},
		{"b: case-sensitive resource", redshiftB, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/TEMP_x", nil, ImplicitDeny, nil},
		{"c: GetClusterCredentials", redshiftC, "redshift:GetClusterCredentials", rsPrefix + "dbuser:c/u", nil, Allowed, []string{"#0"}},
		{"c: CreateClusterUser", redshiftC, "redshift:CreateClusterUser", rsPrefix + "dbuser:c/u", nil, Allowed, []string{"#0"}},
		{"c: JoinGroup", redshiftC, "redshift:JoinGroup", rsPrefix + "dbgroup:c/g", nil, Allowed, []string{"#0"}},
		{"c: DescribeClusters not granted", redshiftC, "redshift:DescribeClusters", rsPrefix + "cluster:c", nil, ImplicitDeny, nil},
		{"d: alice gets credentials as alice", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/alice", alice, Allowed, []string{"GetClusterCredsStatement"}},
		{"d: alice's session asks for bob", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/bob", bobAsAlice, ImplicitDeny, nil},
		{"d: bob's session asks for bob", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/bob", bob, Allowed, []string{"GetClusterCredsStatement"}},
		{"d: DbUser bob on alice's ARN", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/alice", bobAsAlice, ImplicitDeny, nil},
		{"d: dbname testdb", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbname:examplecluster/testdb", alice, Allowed, []string{"GetClusterCredsStatement"}},
		{"d: dbname other", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbname:examplecluster/prod", alice, ImplicitDeny, nil},
		{"d: auto-create alice", redshiftD, "redshift:CreateClusterUser",
			rsPrefix + "dbuser:examplecluster/alice", alice, Allowed, []string{"CreateClusterUserStatement"}},
		{"d: auto-create bob from alice's session", redshiftD, "redshift:CreateClusterUser",
			rsPrefix + "dbuser:examplecluster/bob", bobAsAlice, ImplicitDeny, nil},
		{"d: JoinGroup common_group", redshiftD, "redshift:JoinGroup",
			rsPrefix + "dbgroup:examplecluster/common_group", alice, Allowed, []string{"RedshiftJoinGroupStatement"}},
		{"d: JoinGroup other group", redshiftD, "redshift:JoinGroup",
			rsPrefix + "dbgroup:examplecluster/admins", alice, ImplicitDeny, nil},
		{"d: JoinGroup on another cluster", redshiftD, "redshift:JoinGroup",
			rsPrefix + "dbgroup:othercluster/common_group", alice, ImplicitDeny, nil},
		{"d: no DbUser in context", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/alice", []string{"aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com"}, ImplicitDeny, nil},
		{"d: no aws:userid", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/alice", []string{"redshift:DbUser=alice"}, ImplicitDeny, nil},
		{"d: DbUser with a wildcard stays literal", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/alice", []string{"aws:userid=AIDIODR4TAW7CSEXAMPLE:*@yourdomain.com", "redshift:DbUser=*"}, ImplicitDeny, nil},
		{"d: context keys are case-insensitive", redshiftD, "redshift:GetClusterCredentials",
			rsPrefix + "dbuser:examplecluster/alice", []string{"AWS:UserId=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com", "REDSHIFT:DBUSER=alice"}, Allowed, []string{"GetClusterCredsStatement"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := identityOnly(t, tt.policy)
			req := &Request{Action: tt.action, Resource: tt.resource, Context: ctxOf(tt.ctx...), Trace: true}
			d := Evaluate(req, set)
			if d.Effect != tt.want {
				t.Fatalf("Effect = %v, want %v\n%s", d.Effect, tt.want, d.Explain())
			}
			if got := refs(d.Matched); !slices.Equal(got, tt.matched) && !(len(got) == 0 && len(tt.matched) == 0) {
				t.Fatalf("Matched = %v, want %v", got, tt.matched)
			}
			// Without a trace the decision is the same.
			req.Trace = false
			if d2 := Evaluate(req, set); d2.Effect != d.Effect || len(d2.Trace) != 0 {
				t.Fatalf("untraced evaluation differs: %v vs %v (trace %d)", d2.Effect, d.Effect, len(d2.Trace))
			}
		})
	}
}

func TestRedshiftExampleTraceAndMissingKeys(t *testing.T) {
	set := identityOnly(t, redshiftD)
	req := &Request{
		Action:   "redshift:GetClusterCredentials",
		Resource: rsPrefix + "dbuser:examplecluster/alice",
		Context:  ctxOf("aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com"),
		Trace:    true,
	}
	d := Evaluate(req, set)
	if d.Effect != ImplicitDeny {
		t.Fatalf("Effect = %v", d.Effect)
	}
	if !slices.Equal(d.MissingContextKeys, []string{"redshift:DbUser"}) {
		t.Fatalf("MissingContextKeys = %q", d.MissingContextKeys)
	}
	if len(d.Trace) != 3 {
		t.Fatalf("trace has %d entries, want 3", len(d.Trace))
	}
	want := []Outcome{VariableMissing, ActionMismatch, ActionMismatch}
	for i, e := range d.Trace {
		if e.Outcome != want[i] {
			t.Errorf("trace[%d] = %v (%s), want %v", i, e.Outcome, e.Detail, want[i])
		}
	}
	if !strings.Contains(d.Trace[0].Detail, "${redshift:DbUser}") {
		t.Errorf("trace detail %q does not name the variable", d.Trace[0].Detail)
	}
	text := d.Explain()
	for _, s := range []string{"implicitDeny", "GetClusterCredsStatement (#0, Allow): policy variable has no value", "Missing context keys: redshift:DbUser", "CreateClusterUserStatement (#1, Allow): action did not match"} {
		if !strings.Contains(text, s) {
			t.Errorf("Explain() lacks %q:\n%s", s, text)
		}
	}

	// With DbUser present but a mismatching session, the condition is named.
	req.Context.Set("redshift:DbUser", "bob")
	req.Resource = rsPrefix + "dbuser:examplecluster/bob"
	d = Evaluate(req, set)
	if d.Trace[0].Outcome != ConditionFalse || !strings.Contains(d.Trace[0].Detail, "StringEquals aws:userid") {
		t.Fatalf("trace[0] = %v %q", d.Trace[0].Outcome, d.Trace[0].Detail)
	}
	if len(d.MissingContextKeys) != 0 {
		t.Fatalf("MissingContextKeys = %q", d.MissingContextKeys)
	}
}
