package saml_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

// FuzzValidate feeds arbitrary documents to Validate. data is raw XML that
// the target base64-encodes, unless raw is set, in which case data is passed
// as the SAMLAssertion string itself (exercising the length and base64
// gates). Validate must never panic, must answer only *saml.Error with a
// known code, and anything it accepts must carry the fields STS relies on.
func FuzzValidate(f *testing.F) {
	e := newEnv(f)
	e.v = e.validator(f, saml.Config{Replay: alwaysNew{}})
	e.p.AllowSHA1 = true // reach the SHA-1 paths too

	add := func(doc *etree.Document) { f.Add(samltest.XML(f, doc), false) }
	for _, form := range []func(*samltest.ResponseOptions){signAssertion, signResponse, signBoth} {
		o := e.opts()
		form(&o)
		o.Attributes = map[string][]string{
			saml.AttrPrincipalTag + "Team": {"data"},
			saml.AttrTransitiveTagKeys:     {"Team"},
			saml.AttrSourceIdentity:        {"alice"},
		}
		add(e.idp.SignedDocument(f, o))
	}
	for _, n := range []int{3, 4, 5, 6, 7, 8, 10} {
		o := e.opts()
		if n == 10 {
			signBoth(&o)
		}
		d := e.idp.SignedDocument(f, o)
		samltest.XSW(f, d, n)
		add(d)
	}
	{
		o := e.opts()
		signResponse(&o)
		d := e.idp.SignedDocument(f, o)
		samltest.XSW(f, d, 1)
		add(d)
	}
	{
		d := e.idp.SignedDocument(f, e.opts())
		samltest.InjectComment(f, samltest.NameIDOf(f, samltest.AssertionOf(f, d)), 3)
		add(d)
	}
	{
		o := e.opts()
		o.Sign.SignatureMethod, o.Sign.DigestMethod = samltest.SigRSASHA1, samltest.DigestSHA1
		add(e.idp.SignedDocument(f, o))
	}
	valid := string(samltest.XML(f, e.idp.SignedDocument(f, e.opts())))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]>`+valid), false)
	f.Add([]byte(strings.Replace(valid, "<saml:Issuer>", "<x::y/><saml:Issuer>", 1)), false)
	f.Add([]byte(valid+valid), false)
	f.Add([]byte(base64.StdEncoding.EncodeToString([]byte(valid))), true)
	f.Add([]byte("not base64"), true)
	f.Add([]byte(""), true)

	known := map[string]bool{
		saml.CodeInvalidIdentityToken: true, saml.CodeExpiredToken: true, saml.CodeIDPRejectedClaim: true,
		saml.CodeValidationError: true, saml.CodeInternalFailure: true,
	}
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		in := string(data)
		if !raw {
			in = base64.StdEncoding.EncodeToString(data)
		}
		start := time.Now()
		a, err := e.v.Validate(t.Context(), in, e.p)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Validate took %v", d)
		}
		if err != nil {
			var se *saml.Error
			if !errors.As(err, &se) || !known[se.Code] || se.Message == "" {
				t.Fatalf("unexpected error %T %v", err, err)
			}
			if a != nil {
				t.Fatal("assertion returned with an error")
			}
			return
		}
		if a.ID == "" || a.NameID == "" || a.Issuer != testEntityID || a.RoleSessionName == "" || len(a.Roles) == 0 || a.NotOnOrAfter.IsZero() {
			t.Fatalf("accepted an incomplete assertion: %+v", a)
		}
	})
}

// BenchmarkValidate validates a typical response: RSA-2048/SHA-256 signed
// assertion, AWS Role/RoleSessionName/SessionDuration attributes and the
// Redshift DbUser/DbGroups/AutoCreate attributes, ~7 KB of XML.
func BenchmarkValidate(b *testing.B) {
	for _, tc := range []struct {
		name string
		form func(*samltest.ResponseOptions)
	}{{"SignedAssertion", signAssertion}, {"SignedResponse", signResponse}, {"SignedBoth", signBoth}} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b)
			e.v = e.validator(b, saml.Config{Replay: alwaysNew{}})
			o := e.opts()
			tc.form(&o)
			o.SessionDuration = 3600
			o.Attributes = map[string][]string{
				"https://redshift.amazon.com/SAML/Attributes/DbUser":     {"alice"},
				"https://redshift.amazon.com/SAML/Attributes/AutoCreate": {"true"},
				"https://redshift.amazon.com/SAML/Attributes/DbGroups":   {"analysts", "readers", "etl"},
				"urn:oid:0.9.2342.19200300.100.1.3":                      {"alice@example.com"},
			}
			in := e.idp.Response(b, o)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.v.Validate(b.Context(), in, e.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzParseMetadata feeds arbitrary documents to ParseMetadata (they come
// from CreateSAMLProvider and UpdateSAMLProvider requests): it never
// panics, errors are *saml.Error with code InvalidInput, and what it
// accepts has an entity ID and at least one signing certificate.
func FuzzParseMetadata(f *testing.F) {
	idp := samltest.New(f, testEntityID)
	f.Add(idp.Metadata())
	f.Add([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + string(idp.Metadata()) + `</md:EntitiesDescriptor>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := saml.ParseMetadata(doc)
		if err != nil {
			var se *saml.Error
			if !errors.As(err, &se) || se.Code != saml.CodeInvalidInput {
				t.Fatalf("error %v is not an InvalidInput *saml.Error", err)
			}
			return
		}
		if p.EntityID == "" || len(p.Certs) == 0 {
			t.Fatalf("accepted metadata without entity ID or certificate: %+v", p)
		}
	})
}
