package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseErrors(t *testing.T) {
	const okStmt = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`
	big := `{"Version":"2012-10-17","Statement":[` + strings.Repeat(okStmt+",", 200) + okStmt + `]}`
	tests := []struct {
		name string
		kind PolicyKind
		doc  string
		want string // the whole error text
	}{
		{"duplicate key", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}}`,
			`Statement.Effect: duplicate element "Effect"`},
		{"duplicate top-level key", Identity, `{"Statement":` + okStmt + `,"Statement":` + okStmt + `}`,
			`Statement: duplicate element "Statement"`},
		{"mis-cased key", Identity, `{"Version":"2012-10-17","Statement":[` + okStmt + `,{"effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
			`Statement[1]: unknown element "effect" (element names are case-sensitive: did you mean "Effect"?)`},
		{"mis-cased top-level key", Identity, `{"version":"2012-10-17","Statement":` + okStmt + `}`,
			`unknown element "version" (element names are case-sensitive: did you mean "Version"?)`},
		{"unknown top-level element", Identity, `{"Version":"2012-10-17","Statements":[` + okStmt + `]}`,
			`unknown element "Statements"`},
		{"unknown statement element", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Comment":"x"}}`,
			`Statement: unknown element "Comment"`},
		{"lower-case effect value", Identity, `{"Statement":[` + okStmt + `,{"Effect":"allow","Action":"s3:*","Resource":"*"}]}`,
			`Statement[1].Effect: must be "Allow" or "Deny", got "allow"`},
		{"missing Effect", Identity, `{"Statement":{"Action":"s3:*","Resource":"*"}}`, `Statement: missing required element "Effect"`},
		{"both Action and NotAction", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}}`,
			`Statement: "Action" and "NotAction" are mutually exclusive`},
		{"neither Action nor NotAction", Identity, `{"Statement":{"Effect":"Allow","Resource":"*"}}`,
			`Statement: missing required element "Action" or "NotAction"`},
		{"both Resource and NotResource", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}}`,
			`Statement: "Resource" and "NotResource" are mutually exclusive`},
		{"missing Resource in identity policy", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*"}}`,
			`Statement: missing required element "Resource" or "NotResource"`},
		{"Principal in identity policy", Identity, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`,
			`Statement.Principal: not allowed in an identity policy`},
		{"NotPrincipal in session policy", Session, `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*"}}`,
			`Statement.NotPrincipal: not allowed in a session policy`},
		{"Principal in boundary", Boundary, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`,
			`Statement.Principal: not allowed in a boundary policy`},
		{"missing Principal in trust policy", Trust, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`,
			`Statement: missing required element "Principal" or "NotPrincipal" (a trust policy names who it applies to)`},
		{"Resource in trust policy", Trust, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}`,
			`Statement.Resource: not allowed in a trust policy`},
		{"non-sts action in trust policy", Trust, `{"Statement":{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","s3:GetObject"]}}`,
			`Statement.Action[1]: a trust policy may only specify sts actions (sts:AssumeRole…), got "s3:GetObject"`},
		{"missing Resource in resource policy", Resource, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:*"}}`,
			`Statement: missing required element "Resource" or "NotResource"`},
		{"Principal and NotPrincipal", Resource, `{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"sqs:*","Resource":"*"}}`,
			`Statement: "Principal" and "NotPrincipal" are mutually exclusive`},
		{"Principal string other than *", Trust, `{"Statement":{"Effect":"Allow","Principal":"arn:aws:iam::123456789012:root","Action":"sts:AssumeRole"}}`,
			`Statement.Principal: must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}, got "arn:aws:iam::123456789012:root"`},
		{"mis-cased principal type", Trust, `{"Statement":{"Effect":"Allow","Principal":{"aws":"123456789012"},"Action":"sts:AssumeRole"}}`,
			`Statement.Principal: unknown element "aws" (element names are case-sensitive: did you mean "AWS"?)`},
		{"wildcard principal ARN", Trust, `{"Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:role/*"]},"Action":"sts:AssumeRole"}}`,
			`Statement.Principal.AWS[1]: invalid principal "arn:aws:iam::123456789012:role/*": wildcards are only allowed as "*" alone (use a condition on aws:PrincipalArn)`},
		{"bad principal", Trust, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole"}}`,
			`Statement.Principal.AWS: invalid principal "alice": want "*", a 12-digit account id or an IAM/STS ARN`},
		{"empty principal object", Trust, `{"Statement":{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}}`,
			`Statement.Principal: must not be an empty object`},
		{"bad version", Identity, `{"Version":"2012-10-18","Statement":` + okStmt + `}`,
			`Version: must be "2012-10-17" or "2008-10-17", got "2012-10-18"`},
		{"numeric version", Identity, `{"Version":2012,"Statement":` + okStmt + `}`, `Version: must be a string, got a number`},
		{"trailing garbage", Identity, `{"Statement":` + okStmt + `}x`, `unexpected data after the policy document`},
		{"second document", Identity, `{"Statement":` + okStmt + `} {}`, `unexpected data after the policy document (an object)`},
		{"bad operator", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqual":{"aws:username":"a"}}}}`,
			`Statement.Condition.StringEqual: unknown condition operator "StringEqual"`},
		{"mis-cased operator", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"stringequals":{"aws:username":"a"}}}}`,
			`Statement.Condition.stringequals: unknown condition operator "stringequals" (operator names are case-sensitive: did you mean "StringEquals"?)`},
		{"NullIfExists", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}}`,
			`Statement.Condition.NullIfExists: the Null operator does not take the IfExists suffix`},
		{"bad set prefix", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}}}`,
			`Statement.Condition.ForSomeValues:StringEquals: unknown condition operator "ForSomeValues:StringEquals"`},
		{"too large", Identity, big, fmt.Sprintf(`policy document is %d characters (not counting whitespace); the limit is 10240`, len(big))},
		{"not UTF-8", Identity, "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::\xff\"}}",
			`policy document is not valid UTF-8`},
		{"not an object", Identity, `[]`, `policy document must be an object, got an array`},
		{"empty document", Identity, ``, `unexpected end of document`},
		{"truncated", Identity, `{"Statement":{"Effect":"Allow"`, `Statement: unexpected end of document`},
		{"syntax error", Identity, `{"Statement":{"Effect":"Allow",}}`, `Statement: invalid JSON: invalid character '}' looking for beginning of object key string`},
		{"missing Statement", Identity, `{"Version":"2012-10-17"}`, `missing required element "Statement"`},
		{"empty Statement array", Identity, `{"Statement":[]}`, `Statement: must contain at least one statement`},
		{"Statement string", Identity, `{"Statement":"x"}`, `Statement: must be an object or an array of objects, got a string`},
		{"Statement array of strings", Identity, `{"Statement":["x"]}`, `Statement[0]: must be an object, got a string`},
		{"empty Action array", Identity, `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, `Statement.Action: must not be an empty array`},
		{"Action number", Identity, `{"Statement":{"Effect":"Allow","Action":["s3:*",1],"Resource":"*"}}`, `Statement.Action[1]: must be a string, got a number`},
		{"action without service prefix", Identity, `{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`,
			`Statement.Action: action "GetObject" must have the form service:action (e.g. "redshift:GetClusterCredentials")`},
		{"action with bad characters", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:Get Object","Resource":"*"}}`,
			`Statement.Action: action "s3:Get Object" has an invalid action name`},
		{"resource not an ARN", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["*","bucket/key"]}}`,
			`Statement.Resource[1]: resource "bucket/key" must be "*" or an ARN (arn:partition:service:region:account:resource)`},
		{"resource with too few parts", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3::bucket"}}`,
			`Statement.Resource: resource "arn:aws:s3::bucket" must be "*" or an ARN (arn:partition:service:region:account:resource)`},
		{"variable colons do not count", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:${aws:a}:${aws:b}"}}`,
			`Statement.Resource: resource "arn:aws:s3:${aws:a}:${aws:b}" must be "*" or an ARN (arn:partition:service:region:account:resource)`},
		{"duplicate Sid", Identity, `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`,
			`Statement[1].Sid: duplicate Sid "A" (also in Statement[0])`},
		{"Sid with spaces in IAM policy", Identity, `{"Statement":{"Sid":"my sid","Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
			`Statement.Sid: must contain only letters and digits (A-Z, a-z, 0-9), got "my sid"`},
		{"Sid number", Identity, `{"Statement":{"Sid":1,"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, `Statement.Sid: must be a string, got a number`},
		{"condition key without prefix", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}}`,
			`Statement.Condition.StringEquals.username: condition key "username" must have the form prefix:name (e.g. "aws:username")`},
		{"condition keys differing in case", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"a","aws:UserName":"b"}}}}`,
			`Statement.Condition.StringEquals.aws:UserName: duplicate condition key (keys are case-insensitive: "aws:username" and "aws:UserName")`},
		{"duplicate operator", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:SecureTransport":"false"}}}}`,
			`Statement.Condition.Bool: duplicate element "Bool"`},
		{"null condition value", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}}`,
			`Statement.Condition.StringEquals.aws:username: condition values must be strings, numbers or booleans, got null`},
		{"nested condition value", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":[["a"]]}}}}`,
			`Statement.Condition.StringEquals.aws:username[0]: condition values must be strings, numbers or booleans, got an array`},
		{"empty condition values", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}}`,
			`Statement.Condition.StringEquals.aws:username: must not be an empty array`},
		{"condition not an object", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":[]}}`,
			`Statement.Condition: must be an object, got an array`},
		{"not a number", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":["10","ten"]}}}}`,
			`Statement.Condition.NumericLessThan.s3:max-keys[1]: "ten" is not a number`},
		{"hex number", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"0x10"}}}}`,
			`Statement.Condition.NumericLessThan.s3:max-keys: "0x10" is not a number`},
		{"not a date", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"next tuesday"}}}}`,
			`Statement.Condition.DateLessThan.aws:CurrentTime: "next tuesday" is not an ISO 8601 date/time or epoch seconds`},
		{"not a bool", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}`,
			`Statement.Condition.Bool.aws:SecureTransport: the Bool operator takes "true" or "false", got "yes"`},
		{"Null not a bool", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"${aws:x}"}}}}`,
			`Statement.Condition.Null.aws:TokenIssueTime: the Null operator takes "true" or "false", got "${aws:x}"`},
		{"not base64", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"BinaryEquals":{"k:b":"!!"}}}}`,
			`Statement.Condition.BinaryEquals.k:b: "!!" is not base64`},
		{"not a CIDR", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}}}`,
			`Statement.Condition.IpAddress.aws:SourceIp: "203.0.113.0/33" is not an IP address or CIDR block`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseKind([]byte(tt.doc), tt.kind)
			if err == nil {
				t.Fatalf("parsed: %+v", p.Statements())
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if err.Error() != tt.want {
				t.Fatalf("error:\n got  %s\n want %s", err, tt.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	doc := []byte(`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	spaced := []byte("{ \"Statement\" : {\n\t\"Effect\" : \"Allow\", \"Action\" : \"s3:*\", \"Resource\" : \"*\" } }  \n")
	p, err := Parse(spaced)
	if err != nil {
		t.Fatal(err)
	}
	if p.Size() != len(doc) {
		t.Fatalf("Size() = %d, want %d (whitespace outside strings not counted)", p.Size(), len(doc))
	}
	withSpaces := `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a b é"}}`
	if q, _ := Parse([]byte(withSpaces)); q.Size() != utf8.RuneCountInString(withSpaces) {
		t.Fatalf("Size() = %d; spaces inside strings count, runes count once", q.Size())
	}
	if _, err := ParseWithOptions(doc, ParseOptions{MaxSize: len(doc)}); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := ParseWithOptions(doc, ParseOptions{MaxSize: len(doc) - 1}); err == nil {
		t.Fatal("over MaxSize accepted")
	}
	if _, err := ParseWithOptions(spaced, ParseOptions{MaxBytes: len(spaced) - 1}); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("over MaxBytes: %v", err)
	}
	if _, err := ParseWithOptions(doc, ParseOptions{MaxSize: -1, MaxBytes: -1}); err != nil {
		t.Fatalf("no limits: %v", err)
	}
	if _, err := ParseWithOptions(doc, ParseOptions{Kind: PolicyKind(42)}); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestParseStatementView(t *testing.T) {
	p := mustParse(t, Resource, `{"Version":"2012-10-17","Id":"Q1","Statement":[
		{"Sid":"Any sid, spaces ok here","Effect":"Deny","NotPrincipal":{"AWS":["123456789012","arn:aws:iam::123456789012:user/a"],"Service":"ec2.amazonaws.com"},
		 "NotAction":["sqs:Delete*"],"NotResource":"arn:aws:sqs:*:123456789012:q",
		 "Condition":{"NumericLessThan":{"k:n":[1,2.5]},"Bool":{"k:b":true}}},
		{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`)
	if p.Version() != Version2012 || !p.VariablesEnabled() || p.ID() != "Q1" || p.Kind() != Resource || p.Len() != 2 {
		t.Fatalf("header: %q %v %q %v %d", p.Version(), p.VariablesEnabled(), p.ID(), p.Kind(), p.Len())
	}
	st := p.Statements()
	s0 := st[0]
	if s0.Sid != "Any sid, spaces ok here" || s0.Effect != Deny || !s0.NotPrincipal || !s0.NotAction || !s0.NotResource || !s0.HasResource || s0.Index != 0 {
		t.Fatalf("statement 0: %+v", s0)
	}
	if !slices.Equal(s0.Principal.AWS, []string{"123456789012", "arn:aws:iam::123456789012:user/a"}) || !slices.Equal(s0.Principal.Service, []string{"ec2.amazonaws.com"}) {
		t.Fatalf("principal: %+v", s0.Principal)
	}
	if len(s0.Conditions) != 2 || s0.Conditions[0].Operator != "NumericLessThan" || !slices.Equal(s0.Conditions[0].Values, []string{"1", "2.5"}) ||
		s0.Conditions[1].Values[0] != "true" {
		t.Fatalf("conditions: %+v", s0.Conditions)
	}
	if !st[1].Principal.Wildcard || st[1].Ref("rp").String() != "#1" {
		t.Fatalf("statement 1: %+v", st[1])
	}
	// Views are copies.
	st[0].Principal.AWS[0] = "changed"
	st[0].Actions[0] = "changed"
	if again := p.Statements(); again[0].Principal.AWS[0] != "123456789012" || again[0].Actions[0] != "sqs:Delete*" {
		t.Fatal("Statements() exposes internal slices")
	}

	noVersion := mustParse(t, Identity, `{"Statement":{"Sid":"","Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	if noVersion.Version() != "" || noVersion.VariablesEnabled() {
		t.Fatal("absent Version must behave as 2008-10-17")
	}
	// Empty Sids may repeat.
	mustParse(t, Trust, `{"Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
		{"Sid":"","Effect":"Allow","Principal":{"AWS":"AIDACKCEVSQ6C2EXAMPLE"},"Action":"sts:AssumeRole"}]}`)
}

func TestKindStrings(t *testing.T) {
	for k, want := range map[PolicyKind]string{Identity: "identity", Trust: "trust", Resource: "resource", Session: "session", Boundary: "boundary", 9: "PolicyKind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", int(k), k.String())
		}
	}
	for s, want := range map[Source]string{SourceIdentity: "identity", SourceResource: "resource", SourceBoundary: "boundary", SourceSession: "session"} {
		if s.String() != want {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
	if Allow.String() != "Allow" || Deny.String() != "Deny" || Effect(0).String() != "Effect(0)" {
		t.Error("Effect strings")
	}
	for o := Matched; o <= ConditionFalse; o++ {
		if strings.HasPrefix(o.String(), "Outcome(") {
			t.Errorf("Outcome %d has no name", int(o))
		}
	}
}
