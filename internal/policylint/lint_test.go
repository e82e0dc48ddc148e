package policylint

import (
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/policy"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind policy.PolicyKind
		want []string // substrings, one per expected finding, in order
	}{
		{"clean Redshift example", `{"Version":"2012-10-17","Statement":[{"Sid":"Own","Effect":"Allow","Action":"redshift:GetClusterCredentials",
			"Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${aws:username}"}]}`, policy.Identity, nil},
		{"parse error", `{"Version":"2012-10-17","Statement":{"effect":"Allow"}}`, policy.Identity, []string{"error: Statement"}},
		{"misspelled action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"redshift:GetClusterCredential","Resource":"*"}}`, policy.Identity,
			[]string{"matches no redshift action"}},
		{"other service", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, policy.Identity,
			[]string{`service "s3" is not served`}},
		{"administrator", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, policy.Identity,
			[]string{"full administrator access"}},
		{"NotAction with Allow", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`, policy.Identity,
			[]string{"NotAction grants every action"}},
		{"iam wildcard", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::123456789012:user/x"}}`, policy.Identity,
			[]string{"change its own permissions"}},
		{"any database user", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"redshift:GetClusterCredentials","Resource":"arn:aws:redshift:*:*:dbuser:c/*"}}`, policy.Identity,
			[]string{"any database user"}},
		{"unreachable allow", `{"Version":"2012-10-17","Statement":[
			{"Sid":"A","Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::123456789012:user/x"},
			{"Sid":"D","Effect":"Deny","Action":"iam:Get*","Resource":"*"}]}`, policy.Identity, []string{"(Sid A): this Allow can never take effect"}},
		{"conditional deny does not shadow", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"},
			{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, policy.Identity, nil},
		{"open trust policy", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`, policy.Trust,
			[]string{`"Principal": "*" without a Condition`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check([]byte(tt.doc), tt.kind)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings %v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("finding %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
