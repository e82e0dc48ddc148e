package policy

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func fuzzSeeds() []string {
	return []string{
		redshiftA, redshiftB, redshiftC, redshiftD, allowS3Star, denyGetObject,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b/${aws:username, 'x'}"}}`,
		`{"Statement":[{"Sid":"","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/P"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*"]},"NumericLessThan":{"k:n":1.5},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"},"IpAddress":{"aws:SourceIp":"::/0"},"BinaryEquals":{"k:b":"AA=="},"Null":{"k:z":true}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${*}${?}${$}${a:b}"}}}}`,
		`{"Statement":{"effect":"Allow"}}`,
		`{"Statement":[]} x`,
		``,
	}
}

var fuzzRequests = []Request{
	{Action: "redshift:GetClusterCredentials", Resource: rsPrefix + "dbuser:examplecluster/alice"},
	{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/alice/x"},
	{Action: "sts:AssumeRoleWithSAML", Resource: "arn:aws:iam::123456789012:role/R",
		Principal: &PrincipalInfo{Federated: "arn:aws:iam::123456789012:saml-provider/P"}},
	{Action: "sqs:SendMessage", Resource: "*", Principal: &PrincipalInfo{AccountID: "123456789012", ARN: userAlice}},
}

// FuzzParse: arbitrary documents never panic the parser; a rejection is a
// *ParseError; an accepted document is valid JSON and evaluates, traced and
// untraced, without panicking and with the same result.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		for k := range 5 {
			f.Add([]byte(s), uint8(k))
		}
	}
	ctx := ctxOf("aws:username=alice", "redshift:DbUser=alice", "aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com",
		"aws:TagKeys=a1", "aws:TagKeys=b", "k:n=1", "aws:CurrentTime=2024-05-01T00:00:00Z", "aws:SourceIp=10.0.0.1",
		"k:b=AA==", "saml:aud=https://signin.aws.amazon.com/saml", "s3:prefix=*?$x")
	f.Fuzz(func(t *testing.T, doc []byte, kind uint8) {
		k := PolicyKind(kind % 5)
		p, err := ParseKind(doc, k)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() == "" {
				t.Fatalf("error %T %q", err, err)
			}
			return
		}
		if !json.Valid(doc) {
			t.Fatalf("accepted invalid JSON %q", doc)
		}
		_ = p.Statements()
		set := PolicySet{Identity: []*NamedPolicy{named("p", p)}}
		if k.hasPrincipal() {
			set = PolicySet{Resource: set.Identity}
		} else if k == Boundary {
			set.Boundaries = set.Identity
		}
		for _, r := range fuzzRequests {
			req := r
			req.Context = ctx
			d1 := Evaluate(&req, set)
			req.Trace = true
			d2 := Evaluate(&req, set)
			if d1.Effect != d2.Effect {
				t.Fatalf("trace changes the decision: %v vs %v", d1.Effect, d2.Effect)
			}
			_ = d2.Explain()
			req.Context = Context{}
			_ = Evaluate(&req, set)
		}
	})
}

// negations pairs each operator with its negated form.
func negation(op string) string {
	switch op {
	case "ArnEquals":
		return "ArnNotEquals"
	case "ArnLike":
		return "ArnNotLike"
	case "IpAddress":
		return "NotIpAddress"
	}
	for _, pre := range []string{"String", "Numeric", "Date"} {
		if rest, ok := strings.CutPrefix(op, pre); ok && !strings.HasPrefix(rest, "Not") {
			if r2, ok := strings.CutPrefix(rest, "Equals"); ok {
				return pre + "NotEquals" + r2
			}
			if rest == "Like" {
				return pre + "NotLike"
			}
		}
	}
	return ""
}

func condDecision(t *testing.T, op, policyVal string, ctx Context) (bool, bool) {
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{` +
		strconv.Quote(op) + `:{"k:x":` + strconv.Quote(policyVal) + `}}}}`
	p, err := Parse([]byte(doc))
	if err != nil {
		return false, false
	}
	d := Evaluate(&Request{Action: "s3:GetObject", Resource: "*", Context: ctx}, PolicySet{Identity: []*NamedPolicy{named("p", p)}})
	return d.Effect == Allowed, true
}

// FuzzConditionMatch: every operator × arbitrary policy and request values.
// Besides never panicking: an operator and its negation disagree on a
// present single value; IfExists and the set operators follow AWS's
// missing-key rules; a Null test agrees with presence.
func FuzzConditionMatch(f *testing.F) {
	ops := OperatorNames()
	seeds := [][2]string{
		{"alice", "alice"}, {"a*", "abc"}, {"10", "9.5"}, {"2020-01-01T00:00:00Z", "1577836800"},
		{"true", "TRUE"}, {"QUJD", "QUJD"}, {"10.0.0.0/8", "10.2.3.4"}, {"::1", "::1"},
		{"arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:role/x"}, {"${aws:username}", "alice"}, {"", ""},
	}
	for i := range ops {
		for _, s := range seeds {
			f.Add(uint8(i), s[0], s[1])
		}
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, policyVal, reqVal string) {
		if len(policyVal) > 512 || len(reqVal) > 1024 {
			return // matching is O(len·len) at worst; keep each run short
		}
		op := ops[int(opIndex)%len(ops)]
		present := ctxOf("k:x="+reqVal, "aws:username=alice")
		missing := ctxOf("aws:username=alice")

		got, ok := condDecision(t, op, policyVal, present)
		if !ok {
			return // a value the operator rejects at parse time
		}
		gotMissing, _ := condDecision(t, op, policyVal, missing)
		if op == "Null" {
			want, _ := parseBool(policyVal)
			if got != !want || gotMissing != want {
				t.Fatalf("Null %q: present %v, missing %v", policyVal, got, gotMissing)
			}
			return
		}
		if neg := negation(op); neg != "" && !strings.Contains(policyVal, "${") {
			gotNeg, ok := condDecision(t, neg, policyVal, present)
			if !ok {
				t.Fatalf("%s accepts %q but %s does not", op, policyVal, neg)
			}
			if gotNeg == got {
				t.Fatalf("%s and %s agree (%v) on policy %q, request %q", op, neg, got, policyVal, reqVal)
			}
			if negMissing, _ := condDecision(t, neg, policyVal, missing); !negMissing || gotMissing {
				t.Fatalf("missing key: %s=%v (want false), %s=%v (want true)", op, gotMissing, neg, negMissing)
			}
		}
		if ie, _ := condDecision(t, op+"IfExists", policyVal, missing); !ie {
			t.Fatalf("%sIfExists on a missing key is false", op)
		}
		if ie, _ := condDecision(t, op+"IfExists", policyVal, present); ie != got {
			t.Fatalf("%sIfExists differs from %s on a present key", op, op)
		}
		if all, _ := condDecision(t, "ForAllValues:"+op, policyVal, missing); !all {
			t.Fatalf("ForAllValues:%s on a missing key is false", op)
		}
		if anyv, _ := condDecision(t, "ForAnyValue:"+op, policyVal, missing); anyv {
			t.Fatalf("ForAnyValue:%s on a missing key is true", op)
		}
		// On a single request value, the set operators agree with the plain one.
		if all, _ := condDecision(t, "ForAllValues:"+op, policyVal, present); all != got {
			t.Fatalf("ForAllValues:%s differs from %s on one value", op, op)
		}
		if anyv, _ := condDecision(t, "ForAnyValue:"+op, policyVal, present); anyv != got {
			t.Fatalf("ForAnyValue:%s differs from %s on one value", op, op)
		}
	})
}
