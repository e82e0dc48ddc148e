package policy

import (
	"testing"
)

// condAllows evaluates an Allow statement with the given Condition block
// (JSON) against ctx and reports whether it allowed.
func condAllows(t *testing.T, version, condition string, ctx Context) bool {
	t.Helper()
	v := ""
	if version != "" {
		v = `"Version":"` + version + `",`
	}
	doc := `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + condition + `}}`
	p := mustParse(t, Identity, doc)
	d := Evaluate(&Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx}, PolicySet{Identity: []*NamedPolicy{named("p", p)}})
	return d.Effect == Allowed
}

type condCase struct {
	name string
	cond string
	ctx  []string
	want bool
}

func runCondCases(t *testing.T, cases []condCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if got := condAllows(t, Version2012, tt.cond, ctxOf(tt.ctx...)); got != tt.want {
				t.Fatalf("condition %s with %q: %v, want %v", tt.cond, tt.ctx, got, tt.want)
			}
		})
	}
}

// Condition operators page, "String condition operators".
func TestStringOperators(t *testing.T) {
	jobCat := `{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}`
	runCondCases(t, []condCase{
		{"StringEquals job-category tag matches", jobCat, []string{"aws:PrincipalTag/job-category=iamuser-admin"}, true},
		{"StringEquals job-category tag differs", jobCat, []string{"aws:PrincipalTag/job-category=dev"}, false},
		{"StringEquals is case-sensitive", jobCat, []string{"aws:PrincipalTag/job-category=IAMUser-Admin"}, false},
		{"StringEquals key missing", jobCat, nil, false},
		{"StringEquals key name case-insensitive", `{"StringEquals":{"AWS:PRINCIPALTAG/Job-Category":"iamuser-admin"}}`,
			[]string{"aws:principaltag/job-category=iamuser-admin"}, true},
		{"StringEquals multiple values are OR", `{"StringEquals":{"aws:PrincipalTag/role":["audit","security"]}}`,
			[]string{"aws:PrincipalTag/role=security"}, true},
		{"StringNotEquals key missing is true", `{"StringNotEquals":{"aws:PrincipalTag/role":"audit"}}`, nil, true},
		{"StringNotEquals equal value", `{"StringNotEquals":{"aws:PrincipalTag/role":"audit"}}`, []string{"aws:PrincipalTag/role=audit"}, false},
		{"StringNotEquals other value", `{"StringNotEquals":{"aws:PrincipalTag/role":"audit"}}`, []string{"aws:PrincipalTag/role=dev"}, true},
		{"StringNotEquals multiple values are NOR (matches one)", `{"StringNotEquals":{"aws:PrincipalTag/role":["audit","security"]}}`,
			[]string{"aws:PrincipalTag/role=security"}, false},
		{"StringNotEquals multiple values are NOR (matches none)", `{"StringNotEquals":{"aws:PrincipalTag/role":["audit","security"]}}`,
			[]string{"aws:PrincipalTag/role=dev"}, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"Example"}}`, []string{"aws:PrincipalTag/team=EXAMPLE"}, true},
		{"StringEqualsIgnoreCase Unicode folding", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"ÉQUIPE"}}`, []string{"aws:PrincipalTag/team=équipe"}, true},
		{"StringEqualsIgnoreCase no wildcards", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"ex*"}}`, []string{"aws:PrincipalTag/team=example"}, false},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"Example"}}`, []string{"aws:PrincipalTag/team=EXAMPLE"}, false},
		{"StringLike wildcard", `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`,
			[]string{"s3:prefix=home/alice/docs/x", "aws:username=alice"}, true},
		{"StringLike wildcard other user", `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`,
			[]string{"s3:prefix=home/bob/x", "aws:username=alice"}, false},
		{"StringLike empty value", `{"StringLike":{"s3:prefix":["","home/"]}}`, []string{"s3:prefix="}, true},
		{"StringLike question mark", `{"StringLike":{"ec2:InstanceType":"t?.micro"}}`, []string{"ec2:InstanceType=t3.micro"}, true},
		{"StringLike spans slashes and colons", `{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`,
			[]string{"aws:PrincipalArn=arn:aws:iam::123456789012:role/a/b"}, true},
		{"StringNotLike", `{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`,
			[]string{"aws:PrincipalArn=arn:aws:iam::123456789012:role/Dev"}, true},
		{"StringNotLike matching", `{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`,
			[]string{"aws:PrincipalArn=arn:aws:iam::123456789012:role/AdminX"}, false},
		{"StringNotLike key missing is true", `{"StringNotLike":{"aws:PrincipalArn":"x"}}`, nil, true},
		{"JSON number value as string", `{"StringEquals":{"redshift:DurationSeconds":3600}}`, []string{"redshift:DurationSeconds=3600"}, true},
		{"JSON boolean value as string", `{"StringEquals":{"aws:SecureTransport":true}}`, []string{"aws:SecureTransport=true"}, true},
		{"single-valued operator on multivalued key: any", `{"StringEquals":{"aws:TagKeys":"b"}}`, []string{"aws:TagKeys=a", "aws:TagKeys=b"}, true},
		{"negated single-valued operator on multivalued key: none", `{"StringNotEquals":{"aws:TagKeys":"b"}}`, []string{"aws:TagKeys=a", "aws:TagKeys=b"}, false},
	})
}

// Condition operators page, "Numeric condition operators".
func TestNumericOperators(t *testing.T) {
	maxKeys := `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`
	runCondCases(t, []condCase{
		{"NumericLessThanEquals max-keys 10", maxKeys, []string{"s3:max-keys=10"}, true},
		{"NumericLessThanEquals max-keys 11", maxKeys, []string{"s3:max-keys=11"}, false},
		{"NumericLessThanEquals not a number", maxKeys, []string{"s3:max-keys=ten"}, false},
		{"NumericLessThanEquals key missing", maxKeys, nil, false},
		{"NumericEquals decimal forms", `{"NumericEquals":{"redshift:DurationSeconds":"3600"}}`, []string{"redshift:DurationSeconds=3600.0"}, true},
		{"NumericEquals JSON number", `{"NumericEquals":{"redshift:DurationSeconds":900}}`, []string{"redshift:DurationSeconds=900"}, true},
		{"NumericNotEquals", `{"NumericNotEquals":{"redshift:DurationSeconds":900}}`, []string{"redshift:DurationSeconds=901"}, true},
		{"NumericNotEquals equal", `{"NumericNotEquals":{"redshift:DurationSeconds":900}}`, []string{"redshift:DurationSeconds=900"}, false},
		{"NumericNotEquals missing", `{"NumericNotEquals":{"redshift:DurationSeconds":900}}`, nil, true},
		{"NumericLessThan", `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`, []string{"aws:MultiFactorAuthAge=3599"}, true},
		{"NumericLessThan equal", `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`, []string{"aws:MultiFactorAuthAge=3600"}, false},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"redshift:DurationSeconds":"900"}}`, []string{"redshift:DurationSeconds=900.5"}, true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"redshift:DurationSeconds":"900"}}`, []string{"redshift:DurationSeconds=900"}, true},
		{"NumericGreaterThanEquals negative", `{"NumericGreaterThanEquals":{"redshift:DurationSeconds":"-1e3"}}`, []string{"redshift:DurationSeconds=-999"}, true},
		{"Numeric hex request value is not a number", `{"NumericEquals":{"k:n":"16"}}`, []string{"k:n=0x10"}, false},
	})
}

// Condition operators page, "Date condition operators".
func TestDateOperators(t *testing.T) {
	runCondCases(t, []condCase{
		{"DateGreaterThan aws:TokenIssueTime", `{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}`,
			[]string{"aws:TokenIssueTime=2020-01-02T00:00:00Z"}, true},
		{"DateGreaterThan earlier", `{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}`,
			[]string{"aws:TokenIssueTime=2020-01-01T00:00:00Z"}, false},
		{"DateLessThan aws:CurrentTime", `{"DateLessThan":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}}`,
			[]string{"aws:CurrentTime=2019-07-16T11:59:59.999Z"}, true},
		{"DateLessThan missing clock", `{"DateLessThan":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}}`, nil, false},
		{"DateLessThanEquals epoch policy value", `{"DateLessThanEquals":{"aws:EpochTime":"1563278400"}}`,
			[]string{"aws:EpochTime=1563278400"}, true},
		{"DateLessThan epoch vs ISO", `{"DateLessThan":{"aws:CurrentTime":1563278400}}`,
			[]string{"aws:CurrentTime=2019-07-16T11:59:59Z"}, true},
		{"DateEquals across time zones", `{"DateEquals":{"aws:CurrentTime":"2020-01-01T01:00:00+01:00"}}`,
			[]string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, true},
		{"DateEquals date only", `{"DateEquals":{"aws:CurrentTime":"2020-01-01"}}`,
			[]string{"aws:CurrentTime=2020-01-01T00:00:00Z"}, true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2020-01-01"}}`, []string{"aws:CurrentTime=2020-01-02"}, true},
		{"DateGreaterThanEquals", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01"}}`, []string{"aws:CurrentTime=2020-01-01"}, true},
		{"Date fractional epoch", `{"DateGreaterThan":{"aws:EpochTime":"100"}}`, []string{"aws:EpochTime=100.5"}, true},
		{"Date garbage request value", `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"}}`, []string{"aws:CurrentTime=tomorrow"}, false},
	})
}

// Condition operators page, "Boolean", "Binary", "IP address", "ARN",
// "…IfExists" and "Null" sections.
func TestOtherOperators(t *testing.T) {
	secure := `{"Bool":{"aws:SecureTransport":"false"}}`
	ip := `{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}`
	trail := `{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}`
	runCondCases(t, []condCase{
		{"Bool aws:SecureTransport false", secure, []string{"aws:SecureTransport=false"}, true},
		{"Bool aws:SecureTransport true", secure, []string{"aws:SecureTransport=true"}, false},
		{"Bool case-insensitive", secure, []string{"aws:SecureTransport=FALSE"}, true},
		{"Bool key missing", secure, nil, false},
		{"Bool non-boolean request value", secure, []string{"aws:SecureTransport=0"}, false},
		{"Bool JSON boolean", `{"Bool":{"aws:MultiFactorAuthPresent":true}}`, []string{"aws:MultiFactorAuthPresent=true"}, true},
		{"BoolIfExists missing", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, nil, true},
		{"BoolIfExists present true", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, []string{"aws:MultiFactorAuthPresent=true"}, false},
		{"BinaryEquals", `{"BinaryEquals":{"key:bin":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, []string{"key:bin=QmluYXJ5VmFsdWVJbkJhc2U2NA=="}, true},
		{"BinaryEquals differs", `{"BinaryEquals":{"key:bin":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, []string{"key:bin=QUJD"}, false},
		{"BinaryEquals not base64", `{"BinaryEquals":{"key:bin":"QUJD"}}`, []string{"key:bin=ABC"}, false},
		{"IpAddress IPv4 in block", ip, []string{"aws:SourceIp=203.0.113.7"}, true},
		{"IpAddress IPv4 outside", ip, []string{"aws:SourceIp=198.51.100.1"}, false},
		{"IpAddress IPv6 in block", ip, []string{"aws:SourceIp=2001:db8:1234:5678::abcd"}, true},
		{"IpAddress IPv4-mapped IPv6", ip, []string{"aws:SourceIp=::ffff:203.0.113.9"}, true},
		{"IpAddress single address", `{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}`, []string{"aws:SourceIp=203.0.113.5"}, true},
		{"IpAddress not an address", ip, []string{"aws:SourceIp=localhost"}, false},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp=198.51.100.1"}, true},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp=203.0.113.1"}, false},
		{"NotIpAddress missing", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, nil, true},
		{"ArnLike cloudtrail", trail, []string{"aws:SourceArn=arn:aws:cloudtrail:us-east-2:111122223333:trail/mytrail"}, true},
		{"ArnLike other account", trail, []string{"aws:SourceArn=arn:aws:cloudtrail:us-east-2:999999999999:trail/x"}, false},
		{"ArnLike component wildcard does not cross colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:*:111122223333:trail/x"}}`,
			[]string{"aws:SourceArn=arn:aws:cloudtrail:us-east-2:111122223333:trail/x"}, false},
		{"ArnLike not an ARN", trail, []string{"aws:SourceArn=trail/mytrail"}, false},
		{"ArnEquals takes wildcards", `{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}`,
			[]string{"aws:SourceArn=arn:aws:cloudtrail:us-east-2:111122223333:trail/t"}, true},
		{"ArnNotLike", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}`,
			[]string{"aws:PrincipalArn=arn:aws:iam::123456789012:role/Dev"}, true},
		{"ArnNotEquals missing", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}`, nil, true},
		{"StringLikeIfExists missing", `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, nil, true},
		{"StringLikeIfExists present matching", `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, []string{"ec2:InstanceType=t2.micro"}, true},
		{"StringLikeIfExists present other", `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`, []string{"ec2:InstanceType=c5.large"}, false},
		{"StringNotEqualsIfExists present equal", `{"StringNotEqualsIfExists":{"k:a":"x"}}`, []string{"k:a=x"}, false},
		{"NumericLessThanIfExists missing", `{"NumericLessThanIfExists":{"redshift:DurationSeconds":"901"}}`, nil, true},
		{"Null true: key absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, nil, true},
		{"Null true: key present", `{"Null":{"aws:TokenIssueTime":"true"}}`, []string{"aws:TokenIssueTime=2011-05-03T00:00:00Z"}, false},
		{"Null false: key present", `{"Null":{"aws:TokenIssueTime":"false"}}`, []string{"aws:TokenIssueTime=2011-05-03T00:00:00Z"}, true},
		{"Null false: key absent", `{"Null":{"aws:TokenIssueTime":"false"}}`, nil, false},
		{"Null on an empty set counts as absent", `{"Null":{"aws:TagKeys":"true"}}`, []string{"aws:TagKeys"}, true},
		{"Null JSON boolean", `{"Null":{"aws:TokenIssueTime":false}}`, []string{"aws:TokenIssueTime=x"}, true},
	})
}

// "Multivalued context keys" / set operator pages.
func TestSetOperators(t *testing.T) {
	allTags := `{"ForAllValues:StringLike":{"aws:TagKeys":["key1*","key2*","key3*"]}}`
	anyTag := `{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","webserver"]}}`
	runCondCases(t, []condCase{
		{"ForAllValues on a missing key is true", allTags, nil, true},
		{"ForAllValues on an empty set is true", allTags, []string{"aws:TagKeys"}, true},
		{"ForAllValues all request values match", allTags, []string{"aws:TagKeys=key1a", "aws:TagKeys=key3"}, true},
		{"ForAllValues one request value outside", allTags, []string{"aws:TagKeys=key1a", "aws:TagKeys=other"}, false},
		{"ForAllValues with Null false guards the empty set", `{"Null":{"aws:TagKeys":"false"},"ForAllValues:StringLike":{"aws:TagKeys":["key1*"]}}`, nil, false},
		{"ForAnyValue on a missing key is false", anyTag, nil, false},
		{"ForAnyValue on an empty set is false", anyTag, []string{"aws:TagKeys"}, false},
		{"ForAnyValue one request value matches", anyTag, []string{"aws:TagKeys=cost", "aws:TagKeys=environment"}, true},
		{"ForAnyValue none match", anyTag, []string{"aws:TagKeys=cost"}, false},
		{"ForAnyValue IfExists on a missing key", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"x"}}`, nil, true},
		{"ForAllValues:StringNotEquals: every value outside", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a","b"]}}`,
			[]string{"aws:TagKeys=c", "aws:TagKeys=d"}, true},
		{"ForAllValues:StringNotEquals: one value inside", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a","b"]}}`,
			[]string{"aws:TagKeys=c", "aws:TagKeys=a"}, false},
		{"ForAnyValue:StringNotEquals: some value outside", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}`,
			[]string{"aws:TagKeys=a", "aws:TagKeys=z"}, true},
		{"ForAnyValue:StringNotEquals: all inside", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}`,
			[]string{"aws:TagKeys=a", "aws:TagKeys=b"}, false},
		{"ForAnyValue:Null behaves as Null", `{"ForAnyValue:Null":{"aws:TagKeys":"true"}}`, nil, true},
	})
}

// "Conditions with multiple context keys or values": operators and keys are
// ANDed.
func TestConditionLogic(t *testing.T) {
	both := `{"StringEquals":{"aws:PrincipalTag/team":"data","aws:PrincipalTag/env":"prod"},"Bool":{"aws:SecureTransport":"true"}}`
	runCondCases(t, []condCase{
		{"all keys and operators true", both, []string{"aws:PrincipalTag/team=data", "aws:PrincipalTag/env=prod", "aws:SecureTransport=true"}, true},
		{"one key false", both, []string{"aws:PrincipalTag/team=data", "aws:PrincipalTag/env=dev", "aws:SecureTransport=true"}, false},
		{"one operator false", both, []string{"aws:PrincipalTag/team=data", "aws:PrincipalTag/env=prod", "aws:SecureTransport=false"}, false},
		{"empty condition block", `{}`, nil, true},
	})
}

func TestUnresolvedVariablesInConditions(t *testing.T) {
	runCondCases(t, []condCase{
		{"positive operator: all values dropped is false", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, []string{"s3:prefix=x"}, false},
		{"negated operator: all values dropped is false", `{"StringNotEquals":{"s3:prefix":"${aws:username}"}}`, []string{"s3:prefix=x"}, false},
		{"negated operator: key missing still true", `{"StringNotEquals":{"s3:prefix":"${aws:username}"}}`, nil, true},
		{"negated operator: remaining values decide", `{"StringNotEquals":{"s3:prefix":["${aws:username}","y"]}}`, []string{"s3:prefix=x"}, true},
		{"positive operator: remaining values decide", `{"StringEquals":{"s3:prefix":["${aws:username}","x"]}}`, []string{"s3:prefix=x"}, true},
		{"ForAllValues: all values dropped is false", `{"ForAllValues:StringEquals":{"aws:TagKeys":"${aws:username}"}}`, []string{"aws:TagKeys=a"}, false},
		{"default value", `{"StringEquals":{"s3:prefix":"${aws:username, 'nobody'}"}}`, []string{"s3:prefix=nobody"}, true},
		{"numeric with a variable", `{"NumericLessThanEquals":{"redshift:DurationSeconds":"${aws:PrincipalTag/maxdur}"}}`,
			[]string{"redshift:DurationSeconds=900", "aws:PrincipalTag/maxdur=3600"}, true},
		{"numeric with a variable that is not a number", `{"NumericLessThanEquals":{"redshift:DurationSeconds":"${aws:PrincipalTag/maxdur}"}}`,
			[]string{"redshift:DurationSeconds=900", "aws:PrincipalTag/maxdur=lots"}, false},
		{"IP with a variable", `{"IpAddress":{"aws:SourceIp":"${aws:PrincipalTag/net}"}}`,
			[]string{"aws:SourceIp=10.1.2.3", "aws:PrincipalTag/net=10.0.0.0/8"}, true},
		{"ArnLike with a variable", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`,
			[]string{"aws:SourceArn=arn:aws:iam::123456789012:role/x", "aws:PrincipalAccount=123456789012"}, true},
		{"StringEqualsIgnoreCase with a variable", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/owner":"${aws:username}"}}`,
			[]string{"aws:PrincipalTag/owner=ALICE", "aws:username=alice"}, true},
		{"StringEqualsIgnoreCase variable value is literal", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/owner":"${aws:username}"}}`,
			[]string{"aws:PrincipalTag/owner=ALICE", "aws:username=a*"}, false},
		{"StringLike: variable wildcards are literal", `{"StringLike":{"s3:prefix":"home/${aws:PrincipalTag/team}/*"}}`,
			[]string{"s3:prefix=home/other/x", "aws:PrincipalTag/team=*"}, false},
		{"StringLike: ${*} is a literal star", `{"StringLike":{"s3:prefix":"a${*}b"}}`, []string{"s3:prefix=a*b"}, true},
		{"StringLike: ${*} is not a wildcard", `{"StringLike":{"s3:prefix":"a${*}b"}}`, []string{"s3:prefix=axb"}, false},
		{"StringEquals: ${?} and ${$}", `{"StringEquals":{"s3:prefix":"why${?}cost${$}"}}`, []string{"s3:prefix=why?cost$"}, true},
		{"multivalued key as a variable does not resolve", `{"StringEquals":{"s3:prefix":"${aws:TagKeys}"}}`,
			[]string{"s3:prefix=a", "aws:TagKeys=a", "aws:TagKeys=b"}, false},
		{"malformed variable never resolves", `{"StringEquals":{"s3:prefix":"${aws:username, nobody}"}}`,
			[]string{"s3:prefix=${aws:username, nobody}", "aws:username=alice"}, false},
		{"unclosed variable is literal text", `{"StringEquals":{"s3:prefix":"${aws:username"}}`, []string{"s3:prefix=${aws:username"}, true},
	})
}

func TestOperatorNames(t *testing.T) {
	for _, n := range OperatorNames() {
		for _, name := range []string{n, n + "IfExists", "ForAnyValue:" + n, "ForAllValues:" + n + "IfExists"} {
			_, err := parseOperator(name)
			if want := n == "Null" && (name == n+"IfExists" || name == "ForAllValues:"+n+"IfExists"); (err != nil) != want {
				t.Errorf("parseOperator(%q) error = %v", name, err)
			}
		}
	}
}
