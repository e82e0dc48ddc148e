package policy

import "testing"

// Policy variables page ("IAM policy elements: Variables and tags").
func TestPolicyVariablesInResource(t *testing.T) {
	home := func(version string) string {
		v := ""
		if version != "" {
			v = `"Version":"` + version + `",`
		}
		return `{` + v + `"Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],
			"Resource":"arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"}}`
	}
	tests := []struct {
		name     string
		doc      string
		resource string
		ctx      []string
		want     DecisionEffect
	}{
		{"${aws:username} in a Resource: own folder", home(Version2012),
			"arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt", []string{"aws:username=alice"}, Allowed},
		{"${aws:username} in a Resource: another user's folder", home(Version2012),
			"arn:aws:s3:::amzn-s3-demo-bucket/home/bob/notes.txt", []string{"aws:username=alice"}, ImplicitDeny},
		{"${aws:username} missing (a role session): no match", home(Version2012),
			"arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt", []string{"aws:userid=AROAEXAMPLE:alice"}, ImplicitDeny},
		{"variable name is case-insensitive", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/${AWS:UserName}/*"}}`, "arn:aws:s3:::b/alice/x", []string{"aws:username=alice"}, Allowed},
		{"Version 2008-10-17 leaves the variable literal", home(Version2008),
			"arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt", []string{"aws:username=alice"}, ImplicitDeny},
		{"Version 2008-10-17 matches the literal text", home(Version2008),
			"arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/notes.txt", []string{"aws:username=alice"}, Allowed},
		{"no Version is 2008-10-17", home(""),
			"arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt", []string{"aws:username=alice"}, ImplicitDeny},
		{"${*} is a literal star in a Resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/a${*}b"}}`, "arn:aws:s3:::b/a*b", nil, Allowed},
		{"${*} does not match other text", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/a${*}b"}}`, "arn:aws:s3:::b/axyzb", nil, ImplicitDeny},
		{"${?} is a literal question mark", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/why${?}"}}`, "arn:aws:s3:::b/whyX", nil, ImplicitDeny},
		{"${$} is a literal dollar", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/${$}{aws:username}"}}`, "arn:aws:s3:::b/${aws:username}", []string{"aws:username=alice"}, Allowed},
		{"default value used when the tag is missing", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team, 'company-wide'}/*"}}`,
			"arn:aws:s3:::amzn-s3-demo-bucket/company-wide/x", nil, Allowed},
		{"default value not used when the tag is present", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team, 'company-wide'}/*"}}`,
			"arn:aws:s3:::amzn-s3-demo-bucket/company-wide/x", []string{"aws:PrincipalTag/team=data"}, ImplicitDeny},
		{"default with a quoted quote", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/${aws:PrincipalTag/x, 'it''s'}"}}`, "arn:aws:s3:::b/it's", nil, Allowed},
		{"a tag value with a wildcard stays literal", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team}/*"}}`, "arn:aws:s3:::b/other/x", []string{"aws:PrincipalTag/team=*"}, ImplicitDeny},
		{"a tag value with a wildcard matches itself", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team}/*"}}`, "arn:aws:s3:::b/*/x", []string{"aws:PrincipalTag/team=*"}, Allowed},
		{"${aws:PrincipalTag/K}", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"redshift:GetClusterCredentials",
			"Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${aws:PrincipalTag/dbuser}"}}`,
			rsPrefix + "dbuser:examplecluster/alice", []string{"aws:PrincipalTag/dbuser=alice"}, Allowed},
		{"${saml:sub}", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"redshift:GetClusterCredentials",
			"Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${saml:sub}"}}`,
			rsPrefix + "dbuser:examplecluster/alice", []string{"saml:sub=alice"}, Allowed},
		{"${aws:userid} with a colon", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
			"Resource":"arn:aws:s3:::b/${aws:userid}/*"}}`, "arn:aws:s3:::b/AROAEXAMPLE:alice/x", []string{"aws:userid=AROAEXAMPLE:alice"}, Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := identityOnly(t, tt.doc)
			d := Evaluate(&Request{Action: "s3:GetObject", Resource: tt.resource, Context: ctxOf(tt.ctx...), Trace: true}, set)
			if tt.resource[:13] == rsPrefix[:13] {
				d = Evaluate(&Request{Action: "redshift:GetClusterCredentials", Resource: tt.resource, Context: ctxOf(tt.ctx...), Trace: true}, set)
			}
			if d.Effect != tt.want {
				t.Fatalf("Effect = %v, want %v\n%s", d.Effect, tt.want, d.Explain())
			}
		})
	}
}

func TestCompileTmpl(t *testing.T) {
	tests := []struct {
		in    string
		kinds []segKind
	}{
		{"plain", nil},
		{"a${aws:username}b", []segKind{segLit, segVar, segLit}},
		{"${*}${?}${$}", []segKind{segChar, segChar, segChar}},
		{"${ aws:username , 'x,}y' }", []segKind{segVar}},
		{"${}", []segKind{segBad}},
		{"${a, b}", []segKind{segBad}},
		{"${a, 'b}", nil}, // unclosed quote: no closing brace, literal
		{"${a, 'it''s'}", []segKind{segVar}},
		{"${a, 'bad'x}", []segKind{segBad}},
		{"${a, 'bad'quote'}", nil}, // the last quote opens a quoted run: unclosed
		{"x${", nil},
	}
	for _, tt := range tests {
		got := compileTmpl(tt.in, true)
		var kinds []segKind
		for _, s := range got.segs {
			kinds = append(kinds, s.kind)
		}
		if len(kinds) != len(tt.kinds) {
			t.Errorf("compileTmpl(%q) kinds = %v, want %v", tt.in, kinds, tt.kinds)
			continue
		}
		for i := range kinds {
			if kinds[i] != tt.kinds[i] {
				t.Errorf("compileTmpl(%q) kinds = %v, want %v", tt.in, kinds, tt.kinds)
				break
			}
		}
	}
	if s := compileTmpl("${ aws:username , 'x,}y' }", true).segs[0]; s.key != "aws:username" || s.text != "x,}y" || !s.hasDef {
		t.Errorf("default parse: %+v", s)
	}
	if s := compileTmpl("${a, 'it''s'}", true).segs[0]; s.text != "it's" {
		t.Errorf("quoted quote: %+v", s)
	}
	if compileTmpl("a${aws:username}", false).segs != nil {
		t.Error("variables compiled without Version 2012-10-17")
	}
}
