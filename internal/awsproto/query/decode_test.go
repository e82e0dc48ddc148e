package query

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

type getClusterCredentialsInput struct {
	DbUser            string   `query:"DbUser,required"`
	DbName            *string  `query:"DbName"`
	ClusterIdentifier *string  `query:"ClusterIdentifier"`
	CustomDomainName  *string  `query:"CustomDomainName"`
	DurationSeconds   *int32   `query:"DurationSeconds"`
	AutoCreate        *bool    `query:"AutoCreate"`
	DbGroups          []string `query:"DbGroups,list=DbGroup"`
}

type scalars struct {
	S    string     `query:"S"`
	PS   *string    `query:"PS"`
	I    int        `query:"I"`
	I32  int32      `query:"I32"`
	I64  int64      `query:"I64"`
	PI   *int       `query:"PI"`
	PI32 *int32     `query:"PI32"`
	PI64 *int64     `query:"PI64"`
	B    bool       `query:"B"`
	PB   *bool      `query:"PB"`
	T    time.Time  `query:"T"`
	PT   *time.Time `query:"PT"`
	TS   Timestamp  `query:"TS"`
	Kind stringKind `query:"Kind"`

	Untagged string
	Skipped  string `query:"-"`
}

type stringKind string

type required struct {
	S  string  `query:"S,required"`
	PS *string `query:"PS,required"`
	I  *int    `query:"I,required"`
	B  bool    `query:"B,required"`
}

type tag struct {
	Key   string `query:"Key,required"`
	Value string `query:"Value"`
}

type policyArn struct {
	Arn string `query:"arn"`
}

type contextEntry struct {
	ContextKeyName   string   `query:"ContextKeyName"`
	ContextKeyType   string   `query:"ContextKeyType"`
	ContextKeyValues []string `query:"ContextKeyValues,list"`
}

type lists struct {
	ActionNames []string       `query:"ActionNames,list"`
	DbGroups    []string       `query:"DbGroups,list=DbGroup"`
	Ints        []int32        `query:"Ints,list"`
	Tags        []tag          `query:"Tags,list"`
	PolicyArns  []*policyArn   `query:"PolicyArns,list"`
	Entries     []contextEntry `query:"ContextEntries,list"`
}

type requiredList struct {
	Names []string `query:"Names,list,required"`
}

type maps struct {
	Attributes map[string]string `query:"Attributes,map"`
	Renamed    map[string]string `query:"Renamed,map,key=Name,value=Value"`
}

type endpoint struct {
	Address string `query:"Address,required"`
	Port    *int   `query:"Port"`
}

type nested struct {
	Endpoint *endpoint `query:"Endpoint"`
	Inline   endpoint  `query:"Inline"`
}

func ptr[T any](v T) *T { return &v }

func TestDecode(t *testing.T) {
	ts := time.Date(2016, 12, 8, 21, 12, 53, 520e6, time.UTC)
	tests := []struct {
		name string
		body string
		dst  any // pointer to a zero struct
		want any // pointer to the expected struct; nil when code is set
		code string
	}{
		// Scalars.
		{
			name: "scalars",
			body: "S=a+b&PS=&I=-12&I32=2147483647&I64=-9223372036854775808&PI=0&PI32=-0&PI64=007" +
				"&B=TRUE&PB=False&T=2016-12-08T21:12:53.520Z&PT=2016-12-08T22:12:53%2B01:00&TS=2016-12-08T21:12:53.52Z&Kind=x",
			dst: &scalars{},
			want: &scalars{
				S: "a b", PS: ptr(""), I: -12, I32: 2147483647, I64: -9223372036854775808,
				PI: ptr(0), PI32: ptr(int32(0)), PI64: ptr(int64(7)),
				B: true, PB: ptr(false), T: ts, PT: ptr(ts.Truncate(time.Second)), TS: Timestamp(ts), Kind: "x",
			},
		},
		{name: "absent pointers stay nil", body: "S=x", dst: &scalars{}, want: &scalars{S: "x"}},
		{name: "bool mixed case", body: "B=tRuE&PB=fAlSe", dst: &scalars{}, want: &scalars{B: true, PB: ptr(false)}},
		{name: "bool empty", body: "B=", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "bool yes", body: "B=yes", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "bool one", body: "PB=1", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int plus sign", body: "I=%2B5", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int space", body: "I=+5", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int trailing space", body: "I=5+", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int empty", body: "I=", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int minus only", body: "I=-", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int hex", body: "I=0x10", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int underscore", body: "I=1_000", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int float", body: "I=1.5", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int32 overflow", body: "I32=2147483648", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int32 underflow", body: "PI32=-2147483649", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int32 min", body: "PI32=-2147483648", dst: &scalars{}, want: &scalars{PI32: ptr(int32(-2147483648))}},
		{name: "int64 overflow", body: "I64=9223372036854775808", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "int huge", body: "I=" + strings.Repeat("9", 500), dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "time bad", body: "T=yesterday", dst: &scalars{}, code: CodeInvalidParameterValue},
		{name: "time no zone", body: "PT=2016-12-08T21:12:53", dst: &scalars{}, code: CodeInvalidParameterValue},

		// Required.
		{name: "required present", body: "S=a&PS=b&I=1&B=false", dst: &required{}, want: &required{S: "a", PS: ptr("b"), I: ptr(1)}},
		{name: "required string missing", body: "PS=b&I=1&B=true", dst: &required{}, code: CodeMissingParameter},
		{name: "required string empty", body: "S=&PS=b&I=1&B=true", dst: &required{}, code: CodeMissingParameter},
		{name: "required pointer string empty", body: "S=a&PS=&I=1&B=true", dst: &required{}, code: CodeMissingParameter},
		{name: "required int missing", body: "S=a&PS=b&B=true", dst: &required{}, code: CodeMissingParameter},
		{name: "required bool missing", body: "S=a&PS=b&I=1", dst: &required{}, code: CodeMissingParameter},
		{name: "required int empty is invalid", body: "S=a&PS=b&I=&B=true", dst: &required{}, code: CodeInvalidParameterValue},

		// GetClusterCredentials as the drivers send it.
		{
			name: "get cluster credentials boto3",
			body: "Action=GetClusterCredentials&Version=2012-12-01&DbUser=alice&DbName=dev&ClusterIdentifier=examplecluster" +
				"&DurationSeconds=3600&AutoCreate=true&DbGroups.DbGroup.1=g1&DbGroups.DbGroup.2=g2",
			dst: &getClusterCredentialsInput{},
			want: &getClusterCredentialsInput{
				DbUser: "alice", DbName: ptr("dev"), ClusterIdentifier: ptr("examplecluster"),
				DurationSeconds: ptr(int32(3600)), AutoCreate: ptr(true), DbGroups: []string{"g1", "g2"},
			},
		},
		{
			name: "get cluster credentials python driver defaults",
			body: "Action=GetClusterCredentials&Version=2012-12-01&DbUser=alice&DbName=&ClusterIdentifier=c&AutoCreate=false&DbGroups=",
			dst:  &getClusterCredentialsInput{},
			want: &getClusterCredentialsInput{
				DbUser: "alice", DbName: ptr(""), ClusterIdentifier: ptr("c"), AutoCreate: ptr(false), DbGroups: []string{},
			},
		},
		{name: "get cluster credentials missing user", body: "Action=GetClusterCredentials&ClusterIdentifier=c", dst: &getClusterCredentialsInput{}, code: CodeMissingParameter},
		{name: "duration out of int32", body: "DbUser=a&DurationSeconds=99999999999", dst: &getClusterCredentialsInput{}, code: CodeInvalidParameterValue},

		// Lists.
		{name: "member list", body: "ActionNames.member.1=iam:a&ActionNames.member.2=iam:b", dst: &lists{}, want: &lists{ActionNames: []string{"iam:a", "iam:b"}}},
		{name: "named member list", body: "DbGroups.DbGroup.2=g2&DbGroups.DbGroup.1=g1", dst: &lists{}, want: &lists{DbGroups: []string{"g1", "g2"}}},
		{name: "list of ints", body: "Ints.member.1=5&Ints.member.2=-1", dst: &lists{}, want: &lists{Ints: []int32{5, -1}}},
		{name: "list of ints bad", body: "Ints.member.1=5&Ints.member.2=x", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list order beyond nine", body: tenMembers("DbGroups.DbGroup."), dst: &lists{}, want: &lists{DbGroups: []string{"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"}}},
		{name: "list with empty member", body: "DbGroups.DbGroup.1=", dst: &lists{}, want: &lists{DbGroups: []string{""}}},
		{name: "list gap", body: "DbGroups.DbGroup.1=a&DbGroups.DbGroup.3=c", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list starts at two", body: "DbGroups.DbGroup.2=b", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list index zero", body: "DbGroups.DbGroup.0=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list index leading zero", body: "DbGroups.DbGroup.01=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list index negative", body: "DbGroups.DbGroup.-1=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list index non numeric", body: "DbGroups.DbGroup.x=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list index empty", body: "DbGroups.DbGroup.=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list index too large", body: "DbGroups.DbGroup.1001=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list index huge", body: "DbGroups.DbGroup.99999999999999999999999=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "list wrong member name", body: "DbGroups.member.1=a", dst: &lists{}, code: CodeInvalidQueryParameter},
		{name: "list member with suffix", body: "DbGroups.DbGroup.1=a&DbGroups.DbGroup.1.x=b", dst: &lists{}, code: CodeInvalidQueryParameter},
		{name: "list without index", body: "DbGroups.DbGroup=a", dst: &lists{}, code: CodeInvalidQueryParameter},
		{name: "empty list form", body: "DbGroups=&ActionNames=", dst: &lists{}, want: &lists{DbGroups: []string{}, ActionNames: []string{}}},
		{name: "empty list form with members", body: "DbGroups=&DbGroups.DbGroup.1=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "bare list with value", body: "DbGroups=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "required list present", body: "Names.member.1=a", dst: &requiredList{}, want: &requiredList{Names: []string{"a"}}},
		{name: "required list missing", body: "", dst: &requiredList{}, code: CodeMissingParameter},
		{name: "required list explicitly empty", body: "Names=", dst: &requiredList{}, code: CodeMissingParameter},

		// Lists of structs.
		{
			name: "list of structs",
			body: "Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2",
			dst:  &lists{},
			want: &lists{Tags: []tag{{Key: "k1", Value: "v1"}, {Key: "k2"}}},
		},
		{name: "list of pointer structs", body: "PolicyArns.member.1.arn=arn:a&PolicyArns.member.2.arn=arn:b", dst: &lists{}, want: &lists{PolicyArns: []*policyArn{{Arn: "arn:a"}, {Arn: "arn:b"}}}},
		{name: "struct member missing required", body: "Tags.member.1.Value=v1", dst: &lists{}, code: CodeMissingParameter},
		{name: "struct member unknown field", body: "Tags.member.1.Key=k&Tags.member.1.Colour=red", dst: &lists{}, code: CodeInvalidQueryParameter},
		{name: "struct member scalar form", body: "Tags.member.1=k", dst: &lists{}, code: CodeInvalidQueryParameter},
		{name: "struct list gap", body: "Tags.member.1.Key=a&Tags.member.3.Key=c", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "struct list index zero", body: "Tags.member.0.Key=a", dst: &lists{}, code: CodeInvalidParameterValue},
		{name: "struct list empty form", body: "Tags=", dst: &lists{}, want: &lists{Tags: []tag{}}},
		{
			name: "nested lists",
			body: "ContextEntries.member.1.ContextKeyName=aws:username&ContextEntries.member.1.ContextKeyType=string" +
				"&ContextEntries.member.1.ContextKeyValues.member.1=alice&ContextEntries.member.1.ContextKeyValues.member.2=bob" +
				"&ContextEntries.member.2.ContextKeyName=k2&ContextEntries.member.2.ContextKeyValues=",
			dst: &lists{},
			want: &lists{Entries: []contextEntry{
				{ContextKeyName: "aws:username", ContextKeyType: "string", ContextKeyValues: []string{"alice", "bob"}},
				{ContextKeyName: "k2", ContextKeyValues: []string{}},
			}},
		},
		{name: "nested list gap", body: "ContextEntries.member.1.ContextKeyValues.member.2=x", dst: &lists{}, code: CodeInvalidParameterValue},

		// Maps.
		{
			name: "map",
			body: "Attributes.entry.1.key=a&Attributes.entry.1.value=1&Attributes.entry.2.key=b&Attributes.entry.2.value=",
			dst:  &maps{},
			want: &maps{Attributes: map[string]string{"a": "1", "b": ""}},
		},
		{name: "map renamed fields", body: "Renamed.entry.1.Name=a&Renamed.entry.1.Value=1", dst: &maps{}, want: &maps{Renamed: map[string]string{"a": "1"}}},
		{name: "map default names rejected when renamed", body: "Renamed.entry.1.key=a&Renamed.entry.1.value=1", dst: &maps{}, code: CodeInvalidQueryParameter},
		{name: "map missing value", body: "Attributes.entry.1.key=a", dst: &maps{}, code: CodeMissingParameter},
		{name: "map missing key", body: "Attributes.entry.1.value=a", dst: &maps{}, code: CodeMissingParameter},
		{name: "map duplicate key", body: "Attributes.entry.1.key=a&Attributes.entry.1.value=1&Attributes.entry.2.key=a&Attributes.entry.2.value=2", dst: &maps{}, code: CodeInvalidParameterValue},
		{name: "map gap", body: "Attributes.entry.2.key=a&Attributes.entry.2.value=1", dst: &maps{}, code: CodeInvalidParameterValue},
		{name: "map index zero", body: "Attributes.entry.0.key=a&Attributes.entry.0.value=1", dst: &maps{}, code: CodeInvalidParameterValue},
		{name: "map empty form", body: "Attributes=", dst: &maps{}, want: &maps{Attributes: map[string]string{}}},
		{name: "map empty form with entries", body: "Attributes=&Attributes.entry.1.key=a&Attributes.entry.1.value=1", dst: &maps{}, code: CodeInvalidParameterValue},
		{name: "map unknown entry field", body: "Attributes.entry.1.key=a&Attributes.entry.1.value=1&Attributes.entry.1.extra=x", dst: &maps{}, code: CodeInvalidQueryParameter},

		// Nested structs.
		{name: "nested struct", body: "Endpoint.Address=h&Endpoint.Port=5439&Inline.Address=i", dst: &nested{}, want: &nested{Endpoint: &endpoint{Address: "h", Port: ptr(5439)}, Inline: endpoint{Address: "i"}}},
		{name: "nested struct absent", body: "", dst: &nested{}, want: &nested{}},
		{name: "nested struct missing required", body: "Endpoint.Port=1", dst: &nested{}, code: CodeMissingParameter},
		{name: "nested struct bare", body: "Endpoint=", dst: &nested{}, code: CodeInvalidQueryParameter},

		// Unknown and protocol parameters.
		{name: "unknown parameter", body: "DbUser=a&Bogus=1", dst: &getClusterCredentialsInput{}, code: CodeInvalidQueryParameter},
		{name: "parameter names are case sensitive", body: "DbUser=a&dbuser=b", dst: &getClusterCredentialsInput{}, code: CodeInvalidQueryParameter},
		{name: "untagged field is not a parameter", body: "Untagged=x", dst: &scalars{}, code: CodeInvalidQueryParameter},
		{name: "skipped field is not a parameter", body: "Skipped=x", dst: &scalars{}, code: CodeInvalidQueryParameter},
		{
			name: "action version and sigv4 query auth ignored",
			body: "Action=GetClusterCredentials&Version=2012-12-01&DbUser=a&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
				"&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=c&X-Amz-Date=d&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=s&X-Amz-Security-Token=t",
			dst:  &getClusterCredentialsInput{},
			want: &getClusterCredentialsInput{DbUser: "a"},
		},
		{name: "empty struct accepts only protocol parameters", body: "Action=GetCallerIdentity&Version=2011-06-15", dst: &struct{}{}, want: &struct{}{}},
		{name: "other X-Amz parameters are unknown", body: "DbUser=a&X-Amz-Bogus=1", dst: &getClusterCredentialsInput{}, code: CodeInvalidQueryParameter},
		{name: "empty struct rejects others", body: "Action=GetCallerIdentity&Foo=1", dst: &struct{}{}, code: CodeInvalidQueryParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.body), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = Decode(p, tt.dst)
			e := wantCode(t, err, tt.code)
			if e != nil {
				if len(e.Message) > 300 || e.Message == "" {
					t.Errorf("message %q", e.Message)
				}
				return
			}
			if !reflect.DeepEqual(tt.dst, tt.want) {
				t.Errorf("Decode =\n%+v\nwant\n%+v", deref(tt.dst), deref(tt.want))
			}
		})
	}
}

func deref(v any) any { return reflect.ValueOf(v).Elem().Interface() }

func tenMembers(prefix string) string {
	var parts []string
	for i := 10; i >= 1; i-- {
		n := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}[i-1]
		parts = append(parts, prefix+n+"=v"+n)
	}
	return strings.Join(parts, "&")
}

func TestDecodeListLimits(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= MaxParams; i++ {
		if i > 1 {
			b.WriteByte('&')
		}
		b.WriteString("ActionNames.member." + strconv.Itoa(i) + "=a")
	}
	p, err := Parse([]byte(b.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	var l lists
	if err := Decode(p, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.ActionNames) != MaxListMembers {
		t.Fatalf("len = %d", len(l.ActionNames))
	}
}

func TestDecodeMessages(t *testing.T) {
	tests := []struct {
		name string
		body string
		dst  any
		want string
	}{
		{name: "missing", body: "", dst: &getClusterCredentialsInput{}, want: "The request must contain the parameter DbUser"},
		{name: "bool", body: "DbUser=a&AutoCreate=maybe", dst: &getClusterCredentialsInput{}, want: "Invalid boolean value 'maybe' for parameter AutoCreate: use true or false"},
		{name: "int", body: "DbUser=a&DurationSeconds=1e3", dst: &getClusterCredentialsInput{}, want: "Invalid integer value '1e3' for parameter DurationSeconds: use a decimal integer between -2147483648 and 2147483647"},
		{name: "unknown", body: "DbUser=a&Zzz=1&Bogus=1", dst: &getClusterCredentialsInput{}, want: "Unknown parameter: Bogus"},
		{name: "gap", body: "DbUser=a&DbGroups.DbGroup.2=x", dst: &getClusterCredentialsInput{}, want: "List DbGroups is missing member 1: indexes must run from 1 to the number of members without gaps"},
		{name: "nested missing", body: "Tags.member.1.Value=v", dst: &lists{}, want: "The request must contain the parameter Tags.member.1.Key"},
		{name: "long value clipped", body: "DbUser=a&AutoCreate=" + strings.Repeat("x", 1000), dst: &getClusterCredentialsInput{}, want: "Invalid boolean value '" + strings.Repeat("x", maxEcho) + "...' for parameter AutoCreate: use true or false"},
		{name: "string values never echoed", body: "DbUser=a&DbGroups=s3cr3t", dst: &getClusterCredentialsInput{}, want: "Parameter DbGroups must be empty when given without members"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.body), "")
			if err != nil {
				t.Fatal(err)
			}
			err = Decode(p, tt.dst)
			if err == nil {
				t.Fatal("no error")
			}
			var got string
			if e, ok := err.(*Error); ok {
				got = e.AWSErrorMessage()
			}
			if got != tt.want {
				t.Errorf("message = %q\nwant      %q", got, tt.want)
			}
		})
	}
}

func TestDecodeZeroesDestination(t *testing.T) {
	p, err := Parse([]byte("DbUser=b"), "")
	if err != nil {
		t.Fatal(err)
	}
	dst := getClusterCredentialsInput{DbUser: "a", DbName: ptr("x"), DbGroups: []string{"g"}}
	if err := Decode(p, &dst); err != nil {
		t.Fatal(err)
	}
	if want := (getClusterCredentialsInput{DbUser: "b"}); !reflect.DeepEqual(dst, want) {
		t.Errorf("got %+v, want %+v", dst, want)
	}
}

type badFloat struct {
	F float64 `query:"F"`
}
type badOption struct {
	S string `query:"S,optional"`
}
type badSliceNoList struct {
	S []string `query:"S"`
}
type badListOnString struct {
	S string `query:"S,list"`
}
type badMapType struct {
	M map[string]int `query:"M,map"`
}
type badName struct {
	S string `query:"A.B"`
}
type badDuplicate struct {
	A string `query:"X"`
	B string `query:"X"`
}
type badNested struct {
	Tags []badFloat `query:"Tags,list"`
}
type badUnexported struct {
	s string `query:"S"`
}

var _ = badUnexported{}.s

type recursive struct {
	Name     string       `query:"Name"`
	Children []*recursive `query:"Children,list"`
}

func TestDecodeProgrammerErrors(t *testing.T) {
	p, err := Parse([]byte("F=1"), "")
	if err != nil {
		t.Fatal(err)
	}
	var s scalars
	tests := []struct {
		name string
		dst  any
	}{
		{name: "nil", dst: nil},
		{name: "non pointer", dst: s},
		{name: "nil pointer", dst: (*scalars)(nil)},
		{name: "pointer to non struct", dst: new(string)},
		{name: "unsupported type", dst: &badFloat{}},
		{name: "unknown option", dst: &badOption{}},
		{name: "slice without list", dst: &badSliceNoList{}},
		{name: "list on string", dst: &badListOnString{}},
		{name: "map of int", dst: &badMapType{}},
		{name: "dotted name", dst: &badName{}},
		{name: "duplicate name", dst: &badDuplicate{}},
		{name: "bad nested element", dst: &badNested{}},
		{name: "unexported", dst: &badUnexported{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Decode(p, tt.dst)
			if err == nil {
				t.Fatal("no error")
			}
			if _, ok := err.(*Error); ok {
				t.Fatalf("programmer error reported as request error: %v", err)
			}
			// A second call hits the cache and fails the same way.
			if err2 := Decode(p, tt.dst); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("second call: %v, first: %v", err2, err)
			}
		})
	}
}

func TestDecodeRecursiveType(t *testing.T) {
	p, err := Parse([]byte("Name=root&Children.member.1.Name=a&Children.member.1.Children.member.1.Name=b&Children.member.2.Name=c"), "")
	if err != nil {
		t.Fatal(err)
	}
	var got recursive
	if err := Decode(p, &got); err != nil {
		t.Fatal(err)
	}
	want := recursive{Name: "root", Children: []*recursive{
		{Name: "a", Children: []*recursive{{Name: "b"}}},
		{Name: "c"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

const getClusterCredentialsBody = "Action=GetClusterCredentials&Version=2012-12-01&DbUser=alice&DbName=dev" +
	"&ClusterIdentifier=examplecluster&DurationSeconds=3600&AutoCreate=true&DbGroups.DbGroup.1=g1&DbGroups.DbGroup.2=g2"

func BenchmarkDecodeGetClusterCredentials(b *testing.B) {
	body := []byte(getClusterCredentialsBody)
	b.ReportAllocs()
	for b.Loop() {
		p, err := Parse(body, "")
		if err != nil {
			b.Fatal(err)
		}
		var in getClusterCredentialsInput
		if err := Decode(p, &in); err != nil {
			b.Fatal(err)
		}
	}
}
