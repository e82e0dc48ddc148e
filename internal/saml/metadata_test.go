package saml_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

func TestParseMetadata(t *testing.T) {
	idp := samltest.New(t, testEntityID)
	next := samltest.New(t, testEntityID, samltest.WithKeyIndex(3))
	certB64 := base64.StdEncoding.EncodeToString(idp.Cert.Raw)
	nextB64 := base64.StdEncoding.EncodeToString(next.Cert.Raw)
	const md = `urn:oasis:names:tc:SAML:2.0:metadata`
	const ds = `http://www.w3.org/2000/09/xmldsig#`
	kd := func(use, b64 string) string {
		u := ""
		if use != "" {
			u = ` use="` + use + `"`
		}
		return `<md:KeyDescriptor` + u + `><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + b64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
	}
	entity := func(id, attrs, body string) string {
		return `<md:EntityDescriptor xmlns:md="` + md + `" xmlns:ds="` + ds + `" entityID="` + id + `"` + attrs + `>` +
			`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + body + `</md:IDPSSODescriptor></md:EntityDescriptor>`
	}

	t.Run("FromTestIdP", func(t *testing.T) {
		p, err := saml.ParseMetadata(idp.Metadata())
		if err != nil {
			t.Fatal(err)
		}
		if p.EntityID != testEntityID || len(p.Certs) != 1 || !p.Certs[0].Equal(idp.Cert) || !p.ValidUntil.IsZero() || p.AllowSHA1 || p.ARN != "" {
			t.Fatalf("provider = %+v", p)
		}
	})
	t.Run("SigningAndUnspecifiedUseKeptEncryptionSkippedDuplicatesMerged", func(t *testing.T) {
		wrapped := certB64[:64] + "\n  " + certB64[64:]
		p, err := saml.ParseMetadata([]byte(entity(testEntityID, ` validUntil="2030-01-01T00:00:00Z"`,
			kd("signing", wrapped)+kd("", nextB64)+kd("encryption", "not even base64")+kd("signing", certB64))))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Certs) != 2 || !p.Certs[0].Equal(idp.Cert) || !p.Certs[1].Equal(next.Cert) {
			t.Fatalf("certs = %d", len(p.Certs))
		}
		if !p.ValidUntil.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("ValidUntil = %v", p.ValidUntil)
		}
	})
	t.Run("EntitiesDescriptorWithOneIdP", func(t *testing.T) {
		sp := `<md:EntityDescriptor entityID="https://sp.example/"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`
		doc := `<md:EntitiesDescriptor xmlns:md="` + md + `" validUntil="2029-06-01T00:00:00Z">` + sp +
			strings.Replace(entity(testEntityID, ` validUntil="2031-01-01T00:00:00Z"`, kd("signing", certB64)), ` xmlns:md="`+md+`"`, "", 1) +
			`</md:EntitiesDescriptor>`
		p, err := saml.ParseMetadata([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if p.EntityID != testEntityID || !p.ValidUntil.Equal(time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("provider = %+v", p)
		}
	})
	bad := map[string]string{
		"Empty":              "",
		"NotXML":             "hello",
		"Doctype":            `<!DOCTYPE x>` + entity(testEntityID, "", kd("signing", certB64)),
		"Entity":             `<!DOCTYPE x [<!ENTITY e "x">]>` + entity(testEntityID, "", kd("signing", certB64)),
		"WrongRoot":          `<x/>`,
		"NoEntityID":         entity("", "", kd("signing", certB64)),
		"NoIDPSSODescriptor": `<md:EntityDescriptor xmlns:md="` + md + `" entityID="x"/>`,
		"NoSAML2Protocol": strings.Replace(entity(testEntityID, "", kd("signing", certB64)),
			"urn:oasis:names:tc:SAML:2.0:protocol", "urn:oasis:names:tc:SAML:1.1:protocol", 1),
		"NoSigningCert":     entity(testEntityID, "", kd("encryption", certB64)),
		"CertNotBase64":     entity(testEntityID, "", kd("signing", "!!!")),
		"CertNotX509":       entity(testEntityID, "", kd("signing", base64.StdEncoding.EncodeToString([]byte("not a certificate")))),
		"BadValidUntil":     entity(testEntityID, ` validUntil="tomorrow"`, kd("signing", certB64)),
		"TwoIdPsInEntities": `<md:EntitiesDescriptor xmlns:md="` + md + `">` + entity("a", "", kd("signing", certB64)) + entity("b", "", kd("signing", certB64)) + `</md:EntitiesDescriptor>`,
		"TrailingGarbage":   entity(testEntityID, "", kd("signing", certB64)) + "x",
		"TooLarge":          entity(testEntityID, "", kd("signing", certB64)+strings.Repeat(" ", saml.MaxMetadataBytes)),
	}
	for name, doc := range bad {
		t.Run("Rejects"+name, func(t *testing.T) {
			_, err := saml.ParseMetadata([]byte(doc))
			var se *saml.Error
			if !errors.As(err, &se) || se.Code != saml.CodeInvalidInput || se.Message != "Could not parse metadata" {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestNameQualifier(t *testing.T) {
	// The AWS documentation's example (AssumeRoleWithSAML, NameQualifier):
	// BASE64(SHA1("https://example.com/saml" + "123456789012" + "/MySAMLIdP")).
	// Expected value computed by hand with:
	//   printf '%s' 'https://example.com/saml123456789012/MySAMLIdP' | openssl sha1 -binary | base64
	if got := saml.NameQualifier("https://example.com/saml", "123456789012", "MySAMLIdP"); got != "1uAJanUnBc2XeUkHURMht+xam2c=" {
		t.Fatalf("NameQualifier = %q", got)
	}
	if got := saml.NameQualifier(testEntityID, samltest.AccountID, samltest.ProviderName); got != "9ZkxWuYZSDhm8I4FEL+guhb8bZI=" {
		t.Fatalf("NameQualifier = %q", got)
	}
}

func TestConditionKeys(t *testing.T) {
	e := newEnv(t)
	o := e.opts()
	o.NameIDFormat = samltest.NameIDTransient
	o.Recipient = "https://eu-west-1.signin.aws.amazon.com/saml"
	o.Attributes = map[string][]string{
		"urn:oid:0.9.2342.19200300.100.1.3":                                  {"alice@example.com"},
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": {"alice@example.com", "a.smith@example.com"},
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.1":                                   {"member", "staff"},
		"urn:oid:2.5.4.3":                                                    {"Alice Smith"},
		"urn:oid:0.9.2342.19200300.100.1.1":                                  {"alice"},
		"urn:oid:2.5.4.42":                                                   {"Alice"},
		"https://redshift.amazon.com/SAML/Attributes/DbUser":                 {"alice"},
	}
	a := e.mustAccept(t, e.idp.Response(t, o))
	got := a.ConditionKeys(samltest.AccountID, samltest.ProviderName)
	want := map[string][]string{
		"saml:aud":                  {"https://eu-west-1.signin.aws.amazon.com/saml"},
		"saml:iss":                  {testEntityID},
		"saml:sub":                  {samltest.DefaultNameID},
		"saml:sub_type":             {"transient"},
		"saml:namequalifier":        {"9ZkxWuYZSDhm8I4FEL+guhb8bZI="},
		"saml:doc":                  {"123456789012/TestIdP"},
		"saml:mail":                 {"alice@example.com", "a.smith@example.com"},
		"saml:edupersonaffiliation": {"member", "staff"},
		"saml:cn":                   {"Alice Smith"},
		"saml:commonName":           {"Alice Smith"},
		"saml:uid":                  {"alice"},
		"saml:givenName":            {"Alice"},
	}
	if len(got) != len(want) {
		t.Errorf("keys = %v", got)
	}
	for k, v := range want {
		if !equalStrings(got[k], v) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
