package query

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// wantCode asserts that err is an *Error with the given code.
func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return nil
	}
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("error = %v (%T), want *Error with code %s", err, err, code)
	}
	if qe.Code != code {
		t.Fatalf("code = %s (%s), want %s", qe.Code, qe.Message, code)
	}
	return qe
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		query string
		want  map[string]string
		code  string
	}{
		{name: "empty", want: map[string]string{}},
		{
			name: "botocore body",
			body: "Action=GetClusterCredentials&Version=2012-12-01&DbUser=alice&DbGroups.DbGroup.1=g1",
			want: map[string]string{"Action": "GetClusterCredentials", "Version": "2012-12-01", "DbUser": "alice", "DbGroups.DbGroup.1": "g1"},
		},
		{name: "query only", query: "Action=GetCallerIdentity&Version=2011-06-15", want: map[string]string{"Action": "GetCallerIdentity", "Version": "2011-06-15"}},
		{name: "body and query merge", body: "a=1", query: "b=2", want: map[string]string{"a": "1", "b": "2"}},
		{name: "percent and plus", body: "k=a%2Bb+c%3D%3d&p%2Eq=%E2%82%AC", want: map[string]string{"k": "a+b c==", "p.q": "€"}},
		{name: "empty value", body: "DbGroups=&DbName=", want: map[string]string{"DbGroups": "", "DbName": ""}},
		{name: "key without equals", body: "DbGroups", want: map[string]string{"DbGroups": ""}},
		{name: "equals in value", body: "Policy=a=b", want: map[string]string{"Policy": "a=b"}},
		{name: "empty segments skipped", body: "&a=1&&b=2&", want: map[string]string{"a": "1", "b": "2"}},
		{name: "keys are case sensitive", body: "DbUser=a&dbuser=b", want: map[string]string{"DbUser": "a", "dbuser": "b"}},
		{name: "semicolon is data", body: "a=1;b=2", want: map[string]string{"a": "1;b=2"}},
		{name: "duplicate in body", body: "a=1&a=2", code: CodeMalformedQueryString},
		{name: "duplicate in query", query: "a=1&a=1", code: CodeMalformedQueryString},
		{name: "duplicate across body and query", body: "a=1", query: "a=1", code: CodeMalformedQueryString},
		{name: "duplicate after decoding", body: "a=1&%61=2", code: CodeMalformedQueryString},
		{name: "bad percent short", body: "a=%4", code: CodeMalformedQueryString},
		{name: "bad percent at end", body: "a=%", code: CodeMalformedQueryString},
		{name: "bad percent non hex", body: "a=%zz", code: CodeMalformedQueryString},
		{name: "bad percent in key", body: "a%g1=1", code: CodeMalformedQueryString},
		{name: "bad percent in query", query: "a=%X1", code: CodeMalformedQueryString},
		{name: "invalid utf8 value", body: "a=%ff", code: CodeMalformedQueryString},
		{name: "invalid utf8 key", body: "%c3%28=1", code: CodeMalformedQueryString},
		{name: "invalid utf8 raw", body: "a=\xff", code: CodeMalformedQueryString},
		{name: "nul in value", body: "a=%00", code: CodeMalformedQueryString},
		{name: "empty key", body: "=v", code: CodeMalformedQueryString},
		{name: "empty key encoded", body: "a=1&=", code: CodeMalformedQueryString},
		{name: "too many", body: manyParams(MaxParams + 1), code: CodeMalformedQueryString},
		{name: "too many across body and query", body: manyParams(MaxParams), query: "z=1", code: CodeMalformedQueryString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.body), tt.query)
			wantCode(t, err, tt.code)
			if tt.code != "" {
				return
			}
			if p.Len() != len(tt.want) {
				t.Fatalf("Len = %d, want %d (%v)", p.Len(), len(tt.want), p.Keys())
			}
			for k, want := range tt.want {
				if got, ok := p.Get(k); !ok || got != want {
					t.Errorf("Get(%q) = %q, %v; want %q", k, got, ok, want)
				}
			}
		})
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("p")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(strconv.Itoa(i))
		b.WriteString("=v")
	}
	return b.String()
}

func TestParseMaxParamsAccepted(t *testing.T) {
	p, err := Parse([]byte(manyParams(MaxParams)), "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != MaxParams {
		t.Fatalf("Len = %d, want %d", p.Len(), MaxParams)
	}
}

func TestParamsAccessors(t *testing.T) {
	p, err := Parse([]byte("Version=2012-12-01&b=2&Action=GetClusterCredentials&a=1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Action(); got != "GetClusterCredentials" {
		t.Errorf("Action = %q", got)
	}
	if got := p.Version(); got != "2012-12-01" {
		t.Errorf("Version = %q", got)
	}
	want := []string{"Action", "Version", "a", "b"}
	if got := p.Keys(); !slices.Equal(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
	keys := p.Keys()
	keys[0] = "mutated"
	if p.Keys()[0] != "Action" {
		t.Error("Keys shares its slice with Params")
	}
	if _, ok := p.Get("missing"); ok {
		t.Error("Get(missing) reported present")
	}

	var zero Params
	if zero.Action() != "" || zero.Version() != "" || zero.Len() != 0 || len(zero.Keys()) != 0 {
		t.Error("zero Params is not empty")
	}
}

func TestErrorMessagesAreBounded(t *testing.T) {
	long := strings.Repeat("K", 10000)
	tests := []struct {
		name string
		body string
	}{
		{name: "duplicate long key", body: long + "=1&" + long + "=2"},
		{name: "invalid utf8 long key", body: long + "%ff=1"},
		{name: "control characters", body: "a%0Ab%1B[31m=1&a%0Ab%1B[31m=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body), "")
			e := wantCode(t, err, CodeMalformedQueryString)
			if len(e.Message) > 200 {
				t.Errorf("message is %d bytes", len(e.Message))
			}
			if strings.ContainsAny(e.Message, "\n\x1b") {
				t.Errorf("message contains control characters: %q", e.Message)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "short", in: "DbUser", want: "DbUser"},
		{name: "exact", in: strings.Repeat("a", maxEcho), want: strings.Repeat("a", maxEcho)},
		{name: "long", in: strings.Repeat("a", maxEcho+1), want: strings.Repeat("a", maxEcho) + "..."},
		{name: "multibyte boundary", in: strings.Repeat("a", maxEcho-1) + "€", want: strings.Repeat("a", maxEcho-1) + "..."},
		{name: "control", in: "a\nb\tc", want: "a?b?c"},
		{name: "invalid utf8", in: "a\xffb", want: "a?b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clip(tt.in); got != tt.want {
				t.Errorf("clip = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMaxBodyBytesFitsLargestRequests checks the sizing argument in the
// MaxBodyBytes comment against worst-case form encoding (every value byte
// escaped as %XX).
func TestMaxBodyBytesFitsLargestRequests(t *testing.T) {
	worst := func(n int) string { return strings.Repeat("%2B", n) } // '+' is a base64 character
	tests := []struct {
		name string
		body string
	}{
		{
			name: "AssumeRoleWithSAML",
			body: func() string {
				var b strings.Builder
				b.WriteString("Action=AssumeRoleWithSAML&Version=2011-06-15&RoleArn=" + worst(2048) +
					"&PrincipalArn=" + worst(2048) + "&SAMLAssertion=" + worst(100000) +
					"&DurationSeconds=43200&Policy=" + worst(2048))
				for i := 1; i <= 10; i++ {
					b.WriteString("&PolicyArns.member." + strconv.Itoa(i) + ".arn=" + worst(2048))
				}
				return b.String()
			}(),
		},
		{
			name: "PutRolePolicy",
			body: "Action=PutRolePolicy&Version=2010-05-08&RoleName=" + worst(64) + "&PolicyName=" + worst(128) +
				"&PolicyDocument=" + worst(131072),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) > MaxBodyBytes {
				t.Fatalf("worst-case body is %d bytes, MaxBodyBytes is %d", len(tt.body), MaxBodyBytes)
			}
			if _, err := Parse([]byte(tt.body), ""); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d bytes of %d", len(tt.body), MaxBodyBytes)
		})
	}
}
