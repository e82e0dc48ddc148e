package policy

import (
	"slices"
	"strings"
	"testing"
)

const (
	allowS3Star      = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
	allowGetObject   = `{"Version":"2012-10-17","Statement":{"Sid":"AllowGet","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}`
	denyGetObject    = `{"Version":"2012-10-17","Statement":{"Sid":"DenyGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}`
	allowAllActions  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	allowIAMOnly     = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}`
	acct             = "123456789012"
	userAlice        = "arn:aws:iam::123456789012:user/alice"
	roleDev          = "arn:aws:iam::123456789012:role/dev"
	sessionDevAlice  = "arn:aws:sts::123456789012:assumed-role/dev/alice"
	objectInBucket   = "arn:aws:s3:::bucket/key.txt"
	objectOtherAcct  = "arn:aws:sqs:us-east-1:999999999999:queue"
	sqsQueueSameAcct = "arn:aws:sqs:us-east-1:123456789012:queue"
)

func resourcePolicy(t testing.TB, principal string) *Policy {
	t.Helper()
	return mustParse(t, Resource, `{"Version":"2012-10-17","Statement":{"Sid":"RP","Effect":"Allow","Principal":`+principal+
		`,"Action":"sqs:SendMessage","Resource":"*"}}`)
}

// Cases from the IAM User Guide's "Policy evaluation logic" page: explicit
// deny wins, identity allow, boundaries and session policies intersect, and
// how resource-based policies combine with them.
func TestEvaluationLogic(t *testing.T) {
	user := &PrincipalInfo{AccountID: acct, ARN: userAlice}
	session := &PrincipalInfo{AccountID: acct, ARN: sessionDevAlice, RoleARN: roleDev}
	sendMessage := func(resource string) Request {
		return Request{Action: "sqs:SendMessage", Resource: resource}
	}
	allowSQS := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}`
	tests := []struct {
		name      string
		req       Request
		principal *PrincipalInfo
		identity  []string
		resource  []*Policy
		boundary  []string
		session   []string
		want      DecisionEffect
		reason    string
	}{
		{name: "no policies: implicit deny", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			want: ImplicitDeny, reason: ReasonNoAllow},
		{name: "identity-based policy allows", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			identity: []string{allowGetObject}, want: Allowed, reason: ReasonIdentityAllow},
		{name: "explicit deny overrides allow in the same set", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			identity: []string{allowS3Star, denyGetObject}, want: ExplicitDeny, reason: ReasonExplicitDeny},
		{name: "explicit deny in a permissions boundary", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			identity: []string{allowS3Star}, boundary: []string{allowS3Star, denyGetObject}, want: ExplicitDeny},
		{name: "explicit deny in a session policy", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			identity: []string{allowS3Star}, session: []string{denyGetObject}, want: ExplicitDeny},
		{name: "boundary intersect: both allow", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			identity: []string{allowS3Star}, boundary: []string{allowGetObject}, want: Allowed},
		{name: "boundary intersect: boundary does not allow", req: Request{Action: "s3:PutObject", Resource: objectInBucket},
			identity: []string{allowS3Star}, boundary: []string{allowGetObject}, want: ImplicitDeny, reason: ReasonBoundary},
		{name: "boundary alone never grants", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			boundary: []string{allowAllActions}, want: ImplicitDeny, reason: ReasonNoAllow},
		{name: "session policy intersect: both allow", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			identity: []string{allowS3Star}, session: []string{allowGetObject}, want: Allowed},
		{name: "session policy intersect: session does not allow", req: Request{Action: "s3:DeleteObject", Resource: objectInBucket},
			identity: []string{allowS3Star}, session: []string{allowGetObject}, want: ImplicitDeny, reason: ReasonSession},
		{name: "session policy alone never grants", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			session: []string{allowAllActions}, want: ImplicitDeny},
		{name: "identity, boundary and session all allow", req: Request{Action: "s3:GetObject", Resource: objectInBucket},
			identity: []string{allowAllActions}, boundary: []string{allowS3Star}, session: []string{allowGetObject}, want: Allowed},
		{name: "boundary allows but identity does not", req: Request{Action: "iam:ListUsers", Resource: "*"},
			identity: []string{allowS3Star}, boundary: []string{allowIAMOnly}, want: ImplicitDeny, reason: ReasonNoAllow},

		// Resource-based policies, same account.
		{name: "resource policy naming the user grants without identity policy", req: sendMessage(sqsQueueSameAcct),
			principal: user, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+userAlice+`"}`)}, want: Allowed, reason: ReasonResourceDirect},
		{name: "resource policy naming the user is not limited by the boundary's implicit deny", req: sendMessage(sqsQueueSameAcct),
			principal: user, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+userAlice+`"}`)}, boundary: []string{allowS3Star}, want: Allowed},
		{name: "explicit deny in the boundary still wins over a resource policy", req: sendMessage(sqsQueueSameAcct),
			principal: user, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+userAlice+`"}`)},
			boundary: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sqs:*","Resource":"*"}}`}, want: ExplicitDeny},
		{name: "resource policy naming the role grants to its sessions", req: sendMessage(sqsQueueSameAcct),
			principal: session, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+roleDev+`"}`)}, want: Allowed, reason: ReasonResourceAllow},
		{name: "resource policy naming the role is limited by the session policy", req: sendMessage(sqsQueueSameAcct),
			principal: session, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+roleDev+`"}`)}, session: []string{allowS3Star},
			want: ImplicitDeny, reason: ReasonSession},
		{name: "resource policy naming the role is limited by the boundary", req: sendMessage(sqsQueueSameAcct),
			principal: session, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+roleDev+`"}`)}, boundary: []string{allowS3Star},
			want: ImplicitDeny, reason: ReasonBoundary},
		{name: "resource policy naming the session is not limited by the session policy", req: sendMessage(sqsQueueSameAcct),
			principal: session, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+sessionDevAlice+`"}`)}, session: []string{allowS3Star},
			want: Allowed, reason: ReasonResourceDirect},
		{name: "resource policy naming the account delegates to IAM policies", req: sendMessage(sqsQueueSameAcct),
			principal: user, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+acct+`"}`)}, want: ImplicitDeny, reason: ReasonAccountDelegated},
		{name: "resource policy naming the account plus identity allow", req: sendMessage(sqsQueueSameAcct),
			principal: user, identity: []string{allowSQS}, resource: []*Policy{resourcePolicy(t, `{"AWS":"arn:aws:iam::`+acct+`:root"}`)}, want: Allowed},
		{name: "resource policy for another principal does not apply", req: sendMessage(sqsQueueSameAcct),
			principal: user, resource: []*Policy{resourcePolicy(t, `{"AWS":"arn:aws:iam::123456789012:user/bob"}`)}, want: ImplicitDeny},
		{name: "resource policy with Principal * grants", req: sendMessage(sqsQueueSameAcct),
			principal: user, resource: []*Policy{resourcePolicy(t, `"*"`)}, want: Allowed},
		{name: "resource policy with AWS * matches anonymous callers", req: sendMessage(sqsQueueSameAcct),
			resource: []*Policy{resourcePolicy(t, `{"AWS":"*"}`)}, want: Allowed},

		// Cross-account: both sides must allow.
		{name: "cross-account: resource policy alone is not enough", req: sendMessage(objectOtherAcct),
			principal: user, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+userAlice+`"}`)}, want: ImplicitDeny, reason: ReasonCrossAccount},
		{name: "cross-account: identity policy alone is not enough", req: sendMessage(objectOtherAcct),
			principal: user, identity: []string{allowSQS}, resource: []*Policy{resourcePolicy(t, `{"AWS":"arn:aws:iam::123456789012:user/bob"}`)},
			want: ImplicitDeny, reason: ReasonCrossAccount},
		{name: "cross-account: both allow", req: sendMessage(objectOtherAcct),
			principal: user, identity: []string{allowSQS}, resource: []*Policy{resourcePolicy(t, `{"AWS":"`+acct+`"}`)}, want: Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var set PolicySet
			for i, d := range tt.identity {
				set.Identity = append(set.Identity, named("id"+string(rune('0'+i)), mustParse(t, Identity, d)))
			}
			for i, p := range tt.resource {
				set.Resource = append(set.Resource, named("rp"+string(rune('0'+i)), p))
			}
			for i, d := range tt.boundary {
				set.Boundaries = append(set.Boundaries, named("pb"+string(rune('0'+i)), mustParse(t, Boundary, d)))
			}
			for i, d := range tt.session {
				set.Session = append(set.Session, named("sp"+string(rune('0'+i)), mustParse(t, Session, d)))
			}
			req := tt.req
			req.Principal = tt.principal
			req.Trace = true
			d := Evaluate(&req, set)
			if d.Effect != tt.want {
				t.Fatalf("Effect = %v, want %v\n%s", d.Effect, tt.want, d.Explain())
			}
			if tt.reason != "" && d.Reason != tt.reason {
				t.Fatalf("Reason = %q, want %q", d.Reason, tt.reason)
			}
			switch d.Effect {
			case ImplicitDeny:
				if len(d.Matched) != 0 {
					t.Fatalf("implicit deny with Matched = %v", d.Matched)
				}
			case ExplicitDeny:
				for _, r := range d.Matched {
					if r.Effect != Deny {
						t.Fatalf("explicit deny lists an Allow statement: %+v", r)
					}
				}
			case Allowed:
				if len(d.Matched) == 0 {
					t.Fatal("allowed without a matched statement")
				}
			}
		})
	}
}

func TestExplicitDenyListsDenyStatements(t *testing.T) {
	set := identityOnly(t, allowS3Star, denyGetObject)
	d := Evaluate(&Request{Action: "s3:GetObject", Resource: objectInBucket}, set)
	if d.Effect != ExplicitDeny || len(d.Matched) != 1 || d.Matched[0].Sid != "DenyGet" || d.Matched[0].Policy != "identityB" {
		t.Fatalf("decision %+v", d)
	}
	if d.Effect.String() != "explicitDeny" || Allowed.String() != "allowed" || ImplicitDeny.String() != "implicitDeny" {
		t.Fatal("EvalDecision strings")
	}
}

// "NotAction with Allow" (IAM User Guide, NotAction element): allow every
// action except IAM's.
func TestNotActionWithAllow(t *testing.T) {
	set := identityOnly(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`)
	for action, want := range map[string]DecisionEffect{
		"s3:GetObject":                   Allowed,
		"redshift:GetClusterCredentials": Allowed,
		"iam:CreateUser":                 ImplicitDeny,
		"IAM:createuser":                 ImplicitDeny,
	} {
		if d := Evaluate(&Request{Action: action, Resource: "*"}, set); d.Effect != want {
			t.Errorf("%s: %v, want %v", action, d.Effect, want)
		}
	}
}

// "NotResource with Deny" (IAM User Guide, NotResource element): deny every
// resource but the payroll objects, together with a broad Allow.
func TestNotResourceWithDeny(t *testing.T) {
	set := identityOnly(t, allowS3Star, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*",
		"NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]}}`)
	for res, want := range map[string]DecisionEffect{
		"arn:aws:s3:::HRBucket/Payroll":          Allowed,
		"arn:aws:s3:::HRBucket/Payroll/2024.csv": Allowed,
		"arn:aws:s3:::HRBucket/Other":            ExplicitDeny,
		"arn:aws:s3:::HRBucket/payroll":          ExplicitDeny, // case-sensitive
	} {
		if d := Evaluate(&Request{Action: "s3:GetObject", Resource: res}, set); d.Effect != want {
			t.Errorf("%s: %v, want %v", res, d.Effect, want)
		}
	}
}

func TestNotResourceWithUnresolvedVariable(t *testing.T) {
	deny := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::home/${aws:username}/*"}}`
	set := identityOnly(t, allowS3Star, deny)
	req := &Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/x", Context: ctxOf("aws:username=alice")}
	if d := Evaluate(req, set); d.Effect != Allowed {
		t.Fatalf("own home: %v", d.Effect)
	}
	req.Resource = "arn:aws:s3:::home/bob/x"
	if d := Evaluate(req, set); d.Effect != ExplicitDeny {
		t.Fatalf("other home: %v", d.Effect)
	}
	// Without aws:username the Deny statement does not apply (documented
	// choice), so the broad Allow decides.
	req.Context = Context{}
	req.Trace = true
	d := Evaluate(req, set)
	if d.Effect != Allowed || d.Trace[1].Outcome != VariableMissing {
		t.Fatalf("no username: %v\n%s", d.Effect, d.Explain())
	}
}

func TestTrustPolicies(t *testing.T) {
	samlTrust := mustParse(t, Trust, `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow",
		"Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/ExampleOrgSSOProvider"},
		"Action":"sts:AssumeRoleWithSAML",
		"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`)
	accountTrust := mustParse(t, Trust, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}`)
	userTrust := mustParse(t, Trust, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["`+userAlice+`"]},"Action":["sts:AssumeRole","sts:TagSession"]}}`)
	denyBob := mustParse(t, Trust, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"},
		{"Effect":"Deny","NotPrincipal":{"AWS":["`+userAlice+`","arn:aws:iam::123456789012:root"]},"Action":"sts:AssumeRole"}]}`)
	allowAssume := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/*"}}`
	role := "arn:aws:iam::123456789012:role/Admin"
	tests := []struct {
		name      string
		trust     *Policy
		action    string
		principal *PrincipalInfo
		identity  []string
		ctx       []string
		want      DecisionEffect
	}{
		{"SAML provider with audience", samlTrust, "sts:AssumeRoleWithSAML",
			&PrincipalInfo{Federated: "arn:aws:iam::123456789012:saml-provider/ExampleOrgSSOProvider"}, nil,
			[]string{"saml:aud=https://signin.aws.amazon.com/saml"}, Allowed},
		{"SAML provider with wrong audience", samlTrust, "sts:AssumeRoleWithSAML",
			&PrincipalInfo{Federated: "arn:aws:iam::123456789012:saml-provider/ExampleOrgSSOProvider"}, nil,
			[]string{"saml:aud=https://evil.example"}, ImplicitDeny},
		{"other SAML provider", samlTrust, "sts:AssumeRoleWithSAML",
			&PrincipalInfo{Federated: "arn:aws:iam::123456789012:saml-provider/Other"}, nil,
			[]string{"saml:aud=https://signin.aws.amazon.com/saml"}, ImplicitDeny},
		{"SAML trust does not allow AssumeRole", samlTrust, "sts:AssumeRole",
			&PrincipalInfo{Federated: "arn:aws:iam::123456789012:saml-provider/ExampleOrgSSOProvider"}, nil,
			[]string{"saml:aud=https://signin.aws.amazon.com/saml"}, ImplicitDeny},
		{"account principal: user without identity permission", accountTrust, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: userAlice}, nil, nil, ImplicitDeny},
		{"account principal: user with identity permission", accountTrust, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: userAlice}, []string{allowAssume}, nil, Allowed},
		{"account principal: other account", accountTrust, "sts:AssumeRole",
			&PrincipalInfo{AccountID: "999999999999", ARN: "arn:aws:iam::999999999999:user/x"}, []string{allowAssume}, nil, ImplicitDeny},
		{"user principal: no identity permission needed", userTrust, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: userAlice}, nil, nil, Allowed},
		{"user principal: other user", userTrust, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: "arn:aws:iam::123456789012:user/bob"}, []string{allowAssume}, nil, ImplicitDeny},
		{"NotPrincipal deny spares alice", denyBob, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: userAlice}, []string{allowAssume}, nil, Allowed},
		{"NotPrincipal deny hits bob", denyBob, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: "arn:aws:iam::123456789012:user/bob"}, []string{allowAssume}, nil, ExplicitDeny},
		{"NotPrincipal deny hits a session whose role is not listed", denyBob, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: sessionDevAlice, RoleARN: roleDev}, []string{allowAssume}, nil, ExplicitDeny},
		{"anonymous caller", userTrust, "sts:AssumeRole", nil, nil, nil, ImplicitDeny},
		{"identity permission without trust", samlTrust, "sts:AssumeRole",
			&PrincipalInfo{AccountID: acct, ARN: userAlice}, []string{allowAssume}, nil, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := PolicySet{Resource: []*NamedPolicy{named("trust", tt.trust)}, RequireResource: true}
			for _, d := range tt.identity {
				set.Identity = append(set.Identity, named("id", mustParse(t, Identity, d)))
			}
			req := &Request{Action: tt.action, Resource: role, Principal: tt.principal, Context: ctxOf(tt.ctx...), Trace: true}
			if d := Evaluate(req, set); d.Effect != tt.want {
				t.Fatalf("Effect = %v, want %v\n%s", d.Effect, tt.want, d.Explain())
			}
		})
	}
}

func TestTraceCoversEveryStatement(t *testing.T) {
	set := identityOnly(t, redshiftD, allowS3Star)
	set.Boundaries = []*NamedPolicy{named("pb", mustParse(t, Boundary, allowAllActions))}
	req := &Request{Action: "s3:GetObject", Resource: objectInBucket, Trace: true}
	d := Evaluate(req, set)
	if d.Effect != Allowed || len(d.Trace) != 5 {
		t.Fatalf("%v, %d trace entries\n%s", d.Effect, len(d.Trace), d.Explain())
	}
	if got := refs(d.Matched); !slices.Equal(got, []string{"#0", "#0"}) {
		t.Fatalf("Matched = %v", got)
	}
	if d.Matched[0].Source != SourceIdentity || d.Matched[1].Source != SourceBoundary {
		t.Fatalf("sources %v %v", d.Matched[0].Source, d.Matched[1].Source)
	}
	text := d.Explain()
	if !strings.Contains(text, `boundary "pb" #0 (Allow): matched`) || !strings.Contains(text, "Decided by:") {
		t.Fatalf("Explain:\n%s", text)
	}
}

func TestNilPoliciesIgnored(t *testing.T) {
	set := PolicySet{Identity: []*NamedPolicy{nil, {Name: "empty"}}, Boundaries: []*NamedPolicy{nil}}
	set.Identity = append(set.Identity, named("a", mustParse(t, Identity, allowS3Star)))
	if d := Evaluate(&Request{Action: "s3:GetObject", Resource: objectInBucket}, set); d.Effect != Allowed {
		t.Fatalf("%v (%s)", d.Effect, d.Reason)
	}
}

func TestStatementRefString(t *testing.T) {
	if s := (StatementRef{Sid: "X", Index: 3}).String(); s != "X" {
		t.Fatal(s)
	}
	if s := (StatementRef{Index: 3}).String(); s != "#3" {
		t.Fatal(s)
	}
}
