package devidp_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/devidp"
	"github.com/dbiam/dbiam/internal/saml"
)

func TestResponseValidates(t *testing.T) {
	f := newIdP(t)
	tests := []struct {
		name, user string
		want       map[string][]string // attributes, exactly
		roles      []saml.RolePair
		rsn        string
		duration   int
		tags       map[string]string
		source     string
	}{
		{
			name: "alice: every attribute", user: "alice",
			want: map[string][]string{
				devidp.AttrRole: {
					testRoleARN + "," + testProviderARN,
					"arn:aws:iam::123456789012:role/team/Admin," + testProviderARN,
				},
				devidp.AttrRoleSessionName:              {"alice"},
				devidp.AttrSessionDuration:              {"3600"},
				devidp.AttrPrincipalTag + "cost-center": {"42"},
				devidp.AttrPrincipalTag + "team":        {"data"},
				devidp.AttrSourceIdentity:               {"alice@example.com"},
				devidp.AttrDbUser:                       {"alice"},
				devidp.AttrDbGroups:                     {"analysts", "readers"},
				devidp.AttrAutoCreate:                   {"true"},
			},
			roles: []saml.RolePair{
				{RoleARN: testRoleARN, ProviderARN: testProviderARN},
				{RoleARN: "arn:aws:iam::123456789012:role/team/Admin", ProviderARN: testProviderARN},
			},
			rsn: "alice", duration: 3600, tags: map[string]string{"team": "data", "cost-center": "42"}, source: "alice@example.com",
		},
		{
			name: "bob: pairs in either order, session name, nothing optional", user: "bob",
			want: map[string][]string{
				devidp.AttrRole: {
					"arn:aws:iam::123456789012:role/Builder,arn:aws:iam::123456789012:saml-provider/Other",
					testRoleARN + "," + testProviderARN,
				},
				devidp.AttrRoleSessionName: {"bob.builder"},
			},
			roles: []saml.RolePair{
				{RoleARN: "arn:aws:iam::123456789012:role/Builder", ProviderARN: "arn:aws:iam::123456789012:saml-provider/Other"},
				{RoleARN: testRoleARN, ProviderARN: testProviderARN},
			},
			rsn: "bob.builder",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.idp.Response(tt.user, "", f.now)
			if err != nil {
				t.Fatal(err)
			}
			a := f.validate(t, resp)
			if len(a.Attributes) != len(tt.want) {
				t.Errorf("attributes = %v, want %v", a.Attributes, tt.want)
			}
			for name, vals := range tt.want {
				if !slices.Equal(a.Attributes[name], vals) {
					t.Errorf("%s = %q, want %q", name, a.Attributes[name], vals)
				}
			}
			if !slices.Equal(a.Roles, tt.roles) {
				t.Errorf("Roles = %v, want %v", a.Roles, tt.roles)
			}
			if a.RoleSessionName != tt.rsn || a.SessionDuration != tt.duration || a.SourceIdentity != tt.source {
				t.Errorf("RoleSessionName %q SessionDuration %d SourceIdentity %q", a.RoleSessionName, a.SessionDuration, a.SourceIdentity)
			}
			if len(a.PrincipalTags) != len(tt.tags) {
				t.Errorf("PrincipalTags = %v, want %v", a.PrincipalTags, tt.tags)
			}
			for k, v := range tt.tags {
				if a.PrincipalTags[k] != v {
					t.Errorf("PrincipalTags = %v, want %v", a.PrincipalTags, tt.tags)
				}
			}
			if a.Issuer != testBaseURL+"/metadata" || a.NameID != tt.user || a.SubjectType != "persistent" ||
				a.Recipient != devidp.DefaultACSURL || !a.IssueInstant.Equal(f.now) || !a.NotOnOrAfter.Equal(f.now.Add(devidp.DefaultValidity)) {
				t.Errorf("assertion = %+v", a)
			}
			// The shape internal/saml's doc promises, checked on the XML too.
			x := decode(t, resp)
			for _, want := range []string{
				`Destination="https://signin.aws.amazon.com/saml"`,
				`Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`,
				`Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"`,
				`<saml:Audience>urn:amazon:webservices</saml:Audience>`,
			} {
				if !strings.Contains(x, want) {
					t.Errorf("response lacks %s", want)
				}
			}
			if n := strings.Count(x, "<ds:Signature "); n != 2 {
				t.Errorf("%d signatures, want 2 (Response and Assertion)", n)
			}
		})
	}
}

func TestResponseRoleSelection(t *testing.T) {
	f := newIdP(t)
	admin := "arn:aws:iam::123456789012:role/team/Admin"
	tests := []struct {
		name, user, sel string
		want            string // the one RoleARN, or "" for every role
		err             error
	}{
		{"empty: every role", "alice", "", "", nil},
		{"role name", "alice", "RedshiftSSO", testRoleARN, nil},
		{"role name with path", "alice", "team/Admin", admin, nil},
		{"role ARN", "alice", admin, admin, nil},
		{"pair", "alice", testRoleARN + "," + testProviderARN, testRoleARN, nil},
		{"pair, provider first", "alice", testProviderARN + "," + testRoleARN, testRoleARN, nil},
		{"another user's role", "alice", "Builder", "", devidp.ErrUnknownRole},
		{"role of another account", "alice", "arn:aws:iam::999999999999:role/RedshiftSSO", "", devidp.ErrUnknownRole},
		{"unknown user", "carol", "", "", devidp.ErrUnknownUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.idp.Response(tt.user, tt.sel, f.now)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || resp != "" {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := f.validate(t, resp)
			if tt.want == "" {
				if len(a.Roles) != 2 {
					t.Errorf("Roles = %v, want both", a.Roles)
				}
				return
			}
			if len(a.Roles) != 1 || a.Roles[0].RoleARN != tt.want {
				t.Errorf("Roles = %v, want only %s", a.Roles, tt.want)
			}
		})
	}
}

// The validator's other rules hold too: lifetime, replay, trust anchor.
func TestResponseLifetimeAndReplay(t *testing.T) {
	f := newIdP(t)
	resp, err := f.idp.Response("alice", "", f.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		at   time.Time
		code string
	}{
		{"after NotOnOrAfter and the skew", f.now.Add(devidp.DefaultValidity + saml.DefaultClockSkew + time.Second), saml.CodeExpiredToken},
		{"before IssueInstant beyond the skew", f.now.Add(-saml.DefaultClockSkew - time.Minute), saml.CodeInvalidIdentityToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, p, _ := f.validator(t, tt.at)
			_, err := v.Validate(t.Context(), resp, p)
			var se *saml.Error
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
	t.Run("replayed", func(t *testing.T) {
		v, p, rep := f.validator(t, f.now)
		if _, err := v.Validate(t.Context(), resp, p); err != nil {
			t.Fatal(err)
		}
		_, err := v.Validate(t.Context(), resp, p)
		if err == nil || rep.calls != 2 {
			t.Fatalf("second use: err = %v, replay calls %d", err, rep.calls)
		}
	})
	t.Run("another IdP's metadata", func(t *testing.T) {
		other := newIdP(t)
		v, _, _ := f.validator(t, f.now)
		_, p, _ := other.validator(t, f.now)
		if _, err := v.Validate(t.Context(), resp, p); err == nil {
			t.Fatal("a response verified against another IdP's certificate")
		}
	})
	t.Run("fresh responses have fresh IDs", func(t *testing.T) {
		v, p, _ := f.validator(t, f.now)
		for range 3 {
			r, err := f.idp.Response("alice", "", f.now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Validate(t.Context(), r, p); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestKeyPersistedAcrossRestarts(t *testing.T) {
	f := newIdP(t)
	path := filepath.Join(f.dir, devidp.SigningKeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	key1, _ := os.ReadFile(path)

	again, err := devidp.New(devidp.Config{BaseURL: testBaseURL, Users: testUsers(), DataDir: f.dir, AccountID: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Metadata(), f.idp.Metadata()) {
		t.Error("the metadata changed across a restart")
	}
	if key2, _ := os.ReadFile(path); !bytes.Equal(key1, key2) {
		t.Error("the key file was rewritten")
	}
	// A response from the first instance verifies with the second's metadata.
	resp, err := f.idp.Response("alice", "", f.now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := saml.ParseMetadata(again.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	p.ARN = testProviderARN
	v, _ := saml.NewValidator(saml.Config{Now: func() time.Time { return f.now }, Replay: &memReplay{}})
	if _, err := v.Validate(t.Context(), resp, p); err != nil {
		t.Fatalf("response of the first instance against the second's metadata: %v", err)
	}

	other := newIdP(t)
	if bytes.Equal(other.idp.Metadata(), f.idp.Metadata()) {
		t.Error("two data dirs gave the same metadata")
	}
	if strings.Contains(string(f.idp.Metadata()), "validUntil") || strings.Contains(string(f.idp.Metadata()), `use="encryption"`) {
		t.Error("the metadata has a validUntil or an encryption key")
	}
}

func TestKeyFileChecks(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		setup      func(t *testing.T, path string)
	}{
		{"readable by others", "readable by other users", func(t *testing.T, path string) {
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"no certificate", "want a PRIVATE KEY and a CERTIFICATE", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			i := bytes.Index(b, []byte("-----BEGIN CERTIFICATE"))
			if err := os.WriteFile(path, b[:i], 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newIdP(t)
			path := filepath.Join(f.dir, devidp.SigningKeyFile)
			tt.setup(t, path)
			_, err := devidp.New(devidp.Config{BaseURL: testBaseURL, Users: testUsers(), DataDir: f.dir})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("certificate expired", func(t *testing.T) {
		f := newIdP(t)
		_, err := devidp.New(devidp.Config{BaseURL: testBaseURL, Users: testUsers(), DataDir: f.dir,
			Now: func() time.Time { return f.now.AddDate(11, 0, 0) }})
		if err == nil || !strings.Contains(err.Error(), "delete the file") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	ok := devidp.Config{BaseURL: testBaseURL, Users: testUsers(), DataDir: dir}
	for _, tt := range []struct {
		name string
		mod  func(*devidp.Config)
		want string
	}{
		{"account", func(c *devidp.Config) { c.AccountID = "12" }, "account ID"},
		{"provider", func(c *devidp.Config) { c.ProviderName = "bad name" }, "provider name"},
		{"base URL", func(c *devidp.Config) { c.BaseURL = "127.0.0.1:8440" }, "BaseURL"},
		{"ACS URL", func(c *devidp.Config) { c.ACSURL = "signin.aws.amazon.com" }, "ACS URL"},
		{"entity ID", func(c *devidp.Config) { c.EntityID = "http://a b" }, "entity ID"},
		{"no users", func(c *devidp.Config) { c.Users = nil }, "no users"},
		{"no data dir", func(c *devidp.Config) { c.DataDir = "" }, "data dir"},
		{"bad user", func(c *devidp.Config) { c.Users = []devidp.User{{Username: "x", Password: "p", Roles: []string{"R"}}} }, "session_name"},
		{"duplicate user", func(c *devidp.Config) { c.Users = append(testUsers(), testUsers()[0]) }, "duplicate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			_, err := devidp.New(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), alicePassword) {
				t.Fatal("the error contains a password")
			}
		})
	}
}

func TestCustomEntityIDAndACS(t *testing.T) {
	const entity = "urn:dbiam:dev-idp"
	const acs = "https://eu-west-1.signin.aws.amazon.com/saml"
	f := newIdP(t, func(c *devidp.Config) { c.EntityID, c.ACSURL = entity, acs })
	resp, err := f.idp.Response("alice", "RedshiftSSO", f.now)
	if err != nil {
		t.Fatal(err)
	}
	a := f.validate(t, resp)
	if a.Issuer != entity || a.Recipient != acs {
		t.Fatalf("Issuer %q Recipient %q", a.Issuer, a.Recipient)
	}
}
