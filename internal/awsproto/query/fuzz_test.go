package query

import (
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// checkRequestError asserts the invariants of every *Error: a known code and
// a short, printable, valid UTF-8 message.
func checkRequestError(t *testing.T, err error, codes ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if !slices.Contains(codes, e.Code) {
		t.Fatalf("code %q not in %v", e.Code, codes)
	}
	if e.Message == "" || len(e.Message) > 300 || !utf8.ValidString(e.Message) {
		t.Fatalf("bad message %q", e.Message)
	}
	for _, r := range e.Message {
		if !unicode.IsPrint(r) {
			t.Fatalf("message contains %U: %q", r, e.Message)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []struct{ body, query string }{
		{"", ""},
		{getClusterCredentialsBody, ""},
		{"", "Action=GetCallerIdentity&Version=2011-06-15"},
		{"Action=AssumeRoleWithSAML&SAMLAssertion=PHNhbWxwOlJlc3BvbnNl%2B%2F%3D&PolicyArns.member.1.arn=arn%3Aaws", "X-Amz-Date=20240101T000000Z"},
		{"a=1&a=2", ""},
		{"a=1", "a=1"},
		{"a=%zz&b=%4", ""},
		{"a=%ff%fe", ""},
		{"=v&&k&k2=+%2B+", ""},
		{"a=1;b=2&c=%00", ""},
		{"DbGroups=&DbName=&AutoCreate=false", ";x=%"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.query)
	}
	f.Fuzz(func(t *testing.T, body []byte, rawQuery string) {
		p, err := Parse(body, rawQuery)
		if err != nil {
			checkRequestError(t, err, CodeMalformedQueryString)
			return
		}
		if p.Len() > MaxParams {
			t.Fatalf("Len = %d", p.Len())
		}
		keys := p.Keys()
		if len(keys) != p.Len() {
			t.Fatalf("Keys has %d entries, Len %d", len(keys), p.Len())
		}
		values := url.Values{}
		for i, k := range keys {
			if i > 0 && keys[i-1] >= k {
				t.Fatalf("keys not strictly sorted: %q, %q", keys[i-1], k)
			}
			v, ok := p.Get(k)
			if !ok {
				t.Fatalf("Get(%q) missing", k)
			}
			if k == "" || !validText(k) || !validText(v) {
				t.Fatalf("invalid key or value %q=%q", k, v)
			}
			values.Set(k, v)
		}
		if p.Action() != values.Get("Action") || p.Version() != values.Get("Version") {
			t.Fatal("Action or Version disagrees with Get")
		}

		// Re-encoding with net/url and parsing again gives the same Params.
		again, err := Parse([]byte(values.Encode()), "")
		if err != nil {
			t.Fatalf("re-parse of %q: %v", values.Encode(), err)
		}
		if !reflect.DeepEqual(again.kv, p.kv) && !(len(again.kv) == 0 && len(p.kv) == 0) {
			t.Fatalf("re-parse differs:\n%v\n%v", again.kv, p.kv)
		}

		// Where net/url can parse the same text, it agrees (Parse only
		// rejects more).
		if rawQuery == "" && !strings.Contains(string(body), ";") {
			std, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatalf("Parse accepted what url.ParseQuery rejects: %v", err)
			}
			if len(std) != p.Len() {
				t.Fatalf("url.ParseQuery found %d keys, Parse %d", len(std), p.Len())
			}
			for k, vs := range std {
				if v, _ := p.Get(k); len(vs) != 1 || vs[0] != v {
					t.Fatalf("url.ParseQuery %q=%q, Parse %q", k, vs, v)
				}
			}
		}
	})
}

type fuzzTarget struct {
	Name   string            `query:"Name,required"`
	Opt    *string           `query:"Opt"`
	N      int32             `query:"N"`
	PN     *int64            `query:"PN"`
	B      *bool             `query:"B"`
	T      *time.Time        `query:"T"`
	TS     Timestamp         `query:"TS"`
	Groups []string          `query:"Groups,list=Group"`
	Ints   []int             `query:"Ints,list"`
	Tags   []tag             `query:"Tags,list"`
	Ctx    []contextEntry    `query:"Ctx,list"`
	Attrs  map[string]string `query:"Attrs,map,key=K,value=V"`
	End    *endpoint         `query:"End"`
	Tree   []*recursive      `query:"Tree,list"`
}

func FuzzDecode(f *testing.F) {
	seeds := []string{
		"Name=a",
		"Action=X&Version=1&Name=a&Opt=&N=-5&PN=9223372036854775807&B=TRUE&T=2016-12-08T21:12:53.520Z&TS=2016-12-08T21:12:53Z",
		"Name=a&Groups=&Ints.member.1=1&Ints.member.2=2&Groups.Group.1=x",
		"Name=a&Groups.Group.1=g1&Groups.Group.2=g2&Groups.Group.10=g10",
		"Name=a&Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.2.Key=k2&Tags=",
		"Name=a&Ctx.member.1.ContextKeyName=n&Ctx.member.1.ContextKeyValues.member.1=v&Ctx.member.2.ContextKeyValues=",
		"Name=a&Attrs.entry.1.K=a&Attrs.entry.1.V=b&Attrs.entry.2.K=c&Attrs.entry.2.V=",
		"Name=a&End.Address=h&End.Port=5439",
		"Name=a&Tree.member.1.Name=x&Tree.member.1.Children.member.1.Name=y&Tree.member.1.Children=",
		"Name=a&Groups.Group.0=x&Groups.Group.01=y&Ints.member.99999=1",
		"Name=&Unknown=1&X-Amz-Signature=s",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := Parse([]byte(body), "")
		if err != nil {
			return
		}
		var got fuzzTarget
		if err := Decode(p, &got); err != nil {
			checkRequestError(t, err, CodeMissingParameter, CodeInvalidParameterValue, CodeInvalidQueryParameter)
			return
		}
		// Encoding the result canonically and decoding it again gives the
		// same struct.
		canon := encodeForTest(t, &got)
		p2, err := Parse([]byte(canon), "")
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", canon, err)
		}
		var again fuzzTarget
		if err := Decode(p2, &again); err != nil {
			t.Fatalf("canonical form %q does not decode: %v", canon, err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("round trip differs for %q:\n%+v\n%+v", canon, got, again)
		}
	})
}

// encodeForTest writes v (a pointer to a struct Decode accepts) in the
// canonical form botocore would send.
func encodeForTest(t *testing.T, v any) string {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	plan, err := planFor(rv.Type())
	if err != nil {
		t.Fatal(err)
	}
	out := url.Values{}
	encodeStruct(rv, plan, "", out)
	return out.Encode()
}

func encodeStruct(v reflect.Value, sp *structPlan, prefix string, out url.Values) {
	for i := range sp.fields {
		f := &sp.fields[i]
		key := prefix + f.name
		fv := v.Field(f.index)
		switch f.kind {
		case kindScalar:
			if f.ptr {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			} else if fv.IsZero() && (f.scalar == scalarTime || f.scalar == scalarTimestamp) {
				continue
			}
			out.Set(key, formatScalar(fv, f.scalar))
		case kindList:
			if fv.IsNil() {
				continue
			}
			if fv.Len() == 0 {
				out.Set(key, "")
				continue
			}
			for j := range fv.Len() {
				mk := key + "." + f.member + "." + strconv.Itoa(j+1)
				ev := fv.Index(j)
				if f.sub == nil {
					out.Set(mk, formatScalar(ev, f.scalar))
					continue
				}
				if f.ptr {
					ev = ev.Elem()
				}
				before := len(out)
				encodeStruct(ev, f.sub, mk+".", out)
				if len(out) == before {
					first := f.sub.fields[0] // keep the empty member visible
					out.Set(mk+"."+first.name, "")
				}
			}
		case kindMap:
			if fv.IsNil() {
				continue
			}
			if fv.Len() == 0 {
				out.Set(key, "")
				continue
			}
			keys := fv.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			for j, k := range keys {
				ep := key + ".entry." + strconv.Itoa(j+1) + "."
				out.Set(ep+f.mapKey, k.String())
				out.Set(ep+f.mapValue, fv.MapIndex(k).String())
			}
		case kindStruct:
			if f.ptr {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			} else if fv.IsZero() {
				continue
			}
			encodeStruct(fv, f.sub, key+".", out)
		}
	}
}

func formatScalar(v reflect.Value, k scalarKind) string {
	switch k {
	case scalarBool:
		return strconv.FormatBool(v.Bool())
	case scalarInt:
		return strconv.FormatInt(v.Int(), 10)
	case scalarTime:
		return v.Interface().(time.Time).Format(time.RFC3339Nano)
	case scalarTimestamp:
		return time.Time(v.Interface().(Timestamp)).Format(time.RFC3339Nano)
	}
	return v.String()
}
