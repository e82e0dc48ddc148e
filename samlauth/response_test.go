package samlauth

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func fullAttrs() []Attr {
	return []Attr{
		{AttrRole, []string{TestRole1 + "," + TestProvider, TestProvider + ", " + TestRole2, "garbage", "arn:aws:iam::1:role/OnlyRole"}},
		{AttrRoleSessionName, []string{"alice@example.com"}},
		{AttrDbUser, []string{"alice", "ignored-second"}},
		{AttrDbGroups, []string{"Analysts", "readers", "  "}},
		{AttrAutoCreate, []string{"TRUE"}},
		{AttrForceLowercase, []string{"true"}},
		{AttrAllowDbUserOverride, []string{"false"}},
		{"https://example.com/other", []string{"x"}},
	}
}

func TestParseResponseNamespaces(t *testing.T) {
	want := Attributes{
		DbUser: "alice", DbGroups: []string{"Analysts", "readers"}, AutoCreate: ptr(true),
		ForceLowercase: true, AllowDbUserOverride: false, RoleSessionName: "alice@example.com",
		Roles: []RolePair{{TestRole1, TestProvider}, {TestRole2, TestProvider}},
	}
	for _, prefix := range []string{"", "saml2", "saml"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			got, err := ParseResponse(BuildResponse(prefix, fullAttrs()...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseResponseLineWrappedBase64(t *testing.T) {
	b64 := BuildResponse("saml2", Attr{AttrRoleSessionName, []string{"bob"}})
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
	}
	got, err := ParseResponse(wrapped.String())
	if err != nil || got.RoleSessionName != "bob" || got.AutoCreate != nil {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestParseResponseRefuses(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	good := ResponseXML("saml2", Attr{AttrRoleSessionName, []string{"bob"}})
	for _, tc := range []struct {
		name, in string
		want     error
		mention  string
	}{
		{"empty", "  ", ErrBadResponse, "empty"},
		{"not base64", "!!!not-base64!!!", ErrBadResponse, "base64"},
		{"not XML", enc("hello"), ErrBadResponse, ""},
		{"DOCTYPE", enc(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + strings.TrimPrefix(good, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")), ErrBadResponse, "DOCTYPE"},
		{"wrong root", enc(`<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion"/>`), ErrBadResponse, "root"},
		{"wrong root namespace", enc(`<Response xmlns="urn:example"/>`), ErrBadResponse, "root"},
		{"encrypted", enc(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/></samlp:Response>`), ErrBadResponse, "encrypted"},
		{"too large", strings.Repeat("A", MaxResponseChars+4), ErrResponseTooLarge, ""},
		{"deep", enc(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</samlp:Response>`), ErrBadResponse, "deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseResponse(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.mention != "" && !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
			if len(tc.in) > 20 && strings.Contains(err.Error(), tc.in[:20]) {
				t.Errorf("the error quotes the response: %v", err)
			}
		})
	}
}

func TestParseRolePair(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RolePair
		ok   bool
	}{
		{TestRole1 + "," + TestProvider, RolePair{TestRole1, TestProvider}, true},
		{TestProvider + "," + TestRole1, RolePair{TestRole1, TestProvider}, true},
		{" " + TestRole1 + " , " + TestProvider + " ", RolePair{TestRole1, TestProvider}, true},
		{"arn:aws-us-gov:iam::123456789012:role/R,arn:aws-us-gov:iam::123456789012:saml-provider/P", RolePair{"arn:aws-us-gov:iam::123456789012:role/R", "arn:aws-us-gov:iam::123456789012:saml-provider/P"}, true},
		{"arn:aws:iam::123456789012:role/team/Nested,arn:aws:iam::123456789012:saml-provider/P", RolePair{"arn:aws:iam::123456789012:role/team/Nested", "arn:aws:iam::123456789012:saml-provider/P"}, true},
		{TestRole1, RolePair{}, false},
		{TestRole1 + "," + TestRole2, RolePair{}, false},
		{TestProvider + ",arn:aws:iam::123456789012:user/bob", RolePair{}, false},
		{"", RolePair{}, false},
	} {
		got, ok := parseRolePair(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseRolePair(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestChooseRole(t *testing.T) {
	one := []RolePair{{TestRole1, TestProvider}}
	two := []RolePair{{TestRole1, TestProvider}, {TestRole2, TestProvider}}
	for _, tc := range []struct {
		name      string
		roles     []RolePair
		preferred string
		want      RolePair
		err       error
		mentions  []string
	}{
		{"single", one, "", one[0], nil, nil},
		{"preferred found", two, TestRole2, two[1], nil, nil},
		{"preferred found among one", one, TestRole1, one[0], nil, nil},
		{"preferred not found", two, "arn:aws:iam::123456789012:role/Other", RolePair{}, ErrPreferredRoleNotFound, []string{"role/Other", TestRole1, TestRole2}},
		{"preferred must be exact", two, "RedshiftSSO", RolePair{}, ErrPreferredRoleNotFound, nil},
		{"several", two, "", RolePair{}, ErrSeveralRoles, []string{TestRole1, TestRole2}},
		{"none", nil, "", RolePair{}, ErrNoRole, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseRole(tc.roles, tc.preferred)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("ChooseRole = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not list %s", err, m)
				}
			}
		})
	}
}

func TestResolvePrecedence(t *testing.T) {
	base := Attributes{DbUser: "saml_user", RoleSessionName: "rsn", DbGroups: []string{"G1", "g2"}, AutoCreate: ptr(true)}
	for _, tc := range []struct {
		name  string
		attrs Attributes
		given DbOptions
		want  DbOptions
	}{
		{"nothing given: SAML values", base, DbOptions{},
			DbOptions{DbUser: "saml_user", DbGroups: []string{"G1", "g2"}, AutoCreate: ptr(true), ForceLowercase: ptr(false)}},
		{"given DbUser wins by default", base, DbOptions{DbUser: "url_user"},
			DbOptions{DbUser: "url_user", DbGroups: []string{"G1", "g2"}, AutoCreate: ptr(true), ForceLowercase: ptr(false)}},
		{"AllowDbUserOverride: SAML DbUser wins", func() Attributes { a := base; a.AllowDbUserOverride = true; return a }(), DbOptions{DbUser: "url_user"},
			DbOptions{DbUser: "saml_user", DbGroups: []string{"G1", "g2"}, AutoCreate: ptr(true), ForceLowercase: ptr(false)}},
		{"RoleSessionName is the SAML DbUser fallback", Attributes{RoleSessionName: "rsn"}, DbOptions{},
			DbOptions{DbUser: "rsn", ForceLowercase: ptr(false)}},
		{"AllowDbUserOverride without SAML user keeps the given one", Attributes{AllowDbUserOverride: true}, DbOptions{DbUser: "url_user"},
			DbOptions{DbUser: "url_user", ForceLowercase: ptr(false)}},
		{"given AutoCreate=false wins", base, DbOptions{AutoCreate: ptr(false)},
			DbOptions{DbUser: "saml_user", DbGroups: []string{"G1", "g2"}, AutoCreate: ptr(false), ForceLowercase: ptr(false)}},
		{"given groups win", base, DbOptions{DbGroups: []string{"Mine"}},
			DbOptions{DbUser: "saml_user", DbGroups: []string{"Mine"}, AutoCreate: ptr(true), ForceLowercase: ptr(false)}},
		{"SAML ForceLowercase lowercases the SAML groups", func() Attributes { a := base; a.ForceLowercase = true; return a }(), DbOptions{},
			DbOptions{DbUser: "saml_user", DbGroups: []string{"g1", "g2"}, AutoCreate: ptr(true), ForceLowercase: ptr(true)}},
		{"given ForceLowercase=false wins over SAML", func() Attributes { a := base; a.ForceLowercase = true; return a }(), DbOptions{ForceLowercase: ptr(false)},
			DbOptions{DbUser: "saml_user", DbGroups: []string{"G1", "g2"}, AutoCreate: ptr(true), ForceLowercase: ptr(false)}},
		{"given ForceLowercase lowercases given groups", base, DbOptions{DbGroups: []string{"Mine"}, ForceLowercase: ptr(true)},
			DbOptions{DbUser: "saml_user", DbGroups: []string{"mine"}, AutoCreate: ptr(true), ForceLowercase: ptr(true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.attrs.Resolve(tc.given)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Resolve = %s, want %s", show(got), show(tc.want))
			}
		})
	}
	// Resolve does not modify the attributes' slices.
	a := Attributes{DbGroups: []string{"UP"}, ForceLowercase: true}
	_ = a.Resolve(DbOptions{})
	if a.DbGroups[0] != "UP" {
		t.Error("Resolve modified the attributes")
	}
}

func show(o DbOptions) string {
	s := func(b *bool) string {
		if b == nil {
			return "nil"
		}
		if *b {
			return "true"
		}
		return "false"
	}
	return "{" + o.DbUser + " " + strings.Join(o.DbGroups, ",") + " auto=" + s(o.AutoCreate) + " lower=" + s(o.ForceLowercase) + "}"
}

func TestConfigRedacts(t *testing.T) {
	c := Config{Plugin: PluginForm, IdPURL: "https://idp", Username: "u", Password: "hunter2-secret", Assertion: "PHNhbWxwOlJlc3BvbnNlPg=="}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "PHNhbWxw") {
			t.Errorf("a secret is shown: %s", s)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"assertion", Config{Plugin: PluginAssertion, Assertion: "x"}, true},
		{"assertion missing", Config{Plugin: PluginAssertion}, false},
		{"form", Config{Plugin: PluginForm, IdPURL: "https://idp.example.com/adfs/ls/IdpInitiatedSignOn.aspx", Username: "u", Password: "p"}, true},
		{"form loopback http", Config{Plugin: PluginForm, IdPURL: "http://127.0.0.1:8440/login", Username: "u", Password: "p"}, true},
		{"form remote http refused", Config{Plugin: PluginForm, IdPURL: "http://idp.example.com/login", Username: "u", Password: "p"}, false},
		{"form remote http insecure", Config{Plugin: PluginForm, IdPURL: "http://idp.example.com/login", Username: "u", Password: "p", InsecureHTTP: true}, true},
		{"form no password", Config{Plugin: PluginForm, IdPURL: "https://idp", Username: "u"}, false},
		{"form user info in URL", Config{Plugin: PluginForm, IdPURL: "https://u:p@idp", Username: "u", Password: "p"}, false},
		{"browser", Config{Plugin: PluginBrowser, IdPURL: "https://idp.example.com/sso"}, true},
		{"browser non-loopback listener", Config{Plugin: PluginBrowser, IdPURL: "https://idp", ListenAddr: "0.0.0.0:7890"}, false},
		{"duration too short", Config{Plugin: PluginAssertion, Assertion: "x", DurationSeconds: 60}, false},
		{"unknown plugin", Config{Plugin: "okta"}, false},
		{"no plugin", Config{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCredentialsProvider(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("err %v is not ErrConfig", err)
			}
			if err != nil && strings.Contains(err.Error(), ":p@") {
				t.Errorf("error shows URL user info: %v", err)
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add(BuildResponse("", fullAttrs()...))
	f.Add(BuildResponse("saml2", fullAttrs()...))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x><x/>`)))
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseResponse(in)
		if err != nil {
			return
		}
		for _, r := range a.Roles {
			if !roleARNRe.MatchString(r.RoleARN) || !providerARNRe.MatchString(r.ProviderARN) {
				t.Fatalf("bad pair %v", r)
			}
		}
	})
}
