package saml_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

// TestChecklistAccepted covers the checklist cases whose required outcome is
// acceptance with a specific value ("unless noted"), plus policy decisions.
func TestChecklistAccepted(t *testing.T) {
	t.Run("17_CommentInjectionInNameID", func(t *testing.T) {
		for _, form := range []func(*samltest.ResponseOptions){signAssertion, signResponse, signBoth} {
			e := newEnv(t)
			o := e.opts()
			form(&o)
			o.NameID = "alice@corp.example.evil.test"
			o.RoleSessionName = "alice.corp.example.evil"
			doc := e.idp.SignedDocument(t, o)
			a := assertionOf(t, doc)
			samltest.InjectComment(t, samltest.NameIDOf(t, a), len("alice@corp.example"))
			samltest.InjectComment(t, samltest.AttributeValues(a, samltest.AttrRoleSessionName)[0], len("alice"))
			if !strings.Contains(string(samltest.XML(t, doc)), "alice@corp.example<!---->.evil.test") {
				t.Fatal("comment not injected")
			}
			got := e.mustAccept(t, samltest.Encode(t, doc))
			if got.NameID != "alice@corp.example.evil.test" || got.RoleSessionName != "alice.corp.example.evil" {
				t.Fatalf("NameID = %q, RoleSessionName = %q; want the full canonical text", got.NameID, got.RoleSessionName)
			}
		}
	})
	t.Run("18_CharacterReferencesAndCDATA", func(t *testing.T) {
		for name, repl := range map[string]string{
			"CharRef": "alice&#64;example&#x2e;com",
			"CDATA":   "<![CDATA[alice@example.com]]>",
			"Mixed":   "alice<![CDATA[@]]>example&#46;com",
		} {
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				s := string(samltest.XML(t, e.idp.SignedDocument(t, e.opts())))
				s = replaceOnce(t, s, ">"+samltest.DefaultNameID+"</saml:NameID>", ">"+repl+"</saml:NameID>")
				got := e.mustAccept(t, samltest.EncodeXML(s))
				if got.NameID != samltest.DefaultNameID {
					t.Fatalf("NameID = %q", got.NameID)
				}
			})
		}
	})
	t.Run("13_UnsignedResponseWithSignedAssertion_NoIssuerNoDestination", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		o.NoDestination = true
		doc := e.idp.SignedDocument(t, o)
		doc.Root().RemoveChild(samltest.Child(doc.Root(), samltest.NSAssertion, "Issuer"))
		e.mustAccept(t, samltest.Encode(t, doc))
	})
	t.Run("25_NoKeyInfoWithOnePinnedCert", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		o.Sign.OmitKeyInfo = true
		e.mustAccept(t, e.idp.Response(t, o))
	})
	t.Run("25_SecondPinnedCertWithKeyInfo", func(t *testing.T) {
		// Key rotation: metadata lists old and new certs; KeyInfo names one.
		e := newEnv(t)
		next := samltest.New(t, testEntityID, samltest.WithKeyIndex(3))
		e.p = provider(t, samltest.MetadataFor(testEntityID, e.idp.Cert, next.Cert))
		e.mustAccept(t, next.Response(t, e.opts()))
		e.mustAccept(t, e.idp.Response(t, e.opts()))
	})
	t.Run("26_SHA1WhenProviderOptsIn", func(t *testing.T) {
		e := newEnv(t)
		e.p.AllowSHA1 = true
		o := e.opts()
		o.Sign.SignatureMethod, o.Sign.DigestMethod = samltest.SigRSASHA1, samltest.DigestSHA1
		e.mustAccept(t, e.idp.Response(t, o))
	})
	t.Run("26_ECDSAP256SHA256", func(t *testing.T) {
		e := newEnv(t, samltest.WithECDSA(0))
		for _, asn1 := range []bool{false, true} { // XML-DSig r||s, and goxmldsig's DER
			o := e.opts()
			o.SignResponse = true
			o.Sign.ECDSAASN1 = asn1
			e.mustAccept(t, e.idp.Response(t, o))
		}
		// A raw r||s value that does not verify is still rejected.
		o := e.opts()
		doc := e.idp.SignedDocument(t, o)
		sv := samltest.Find(samltest.SignatureOf(assertionOf(t, doc)), samltest.NSDSig, "SignatureValue")
		raw, _ := base64.StdEncoding.DecodeString(sv.Text())
		raw[40] ^= 1
		sv.SetText(base64.StdEncoding.EncodeToString(raw))
		_, err := e.validate(t, samltest.Encode(t, doc))
		e.wantErr(t, err, cInvalid, mSig)
	})
	t.Run("29_BoundariesWithinSkew", func(t *testing.T) {
		e := newEnv(t)
		skew := saml.DefaultClockSkew
		// NotBefore exactly now+skew.
		doc := e.idp.SignedDocument(t, e.opts())
		a := assertionOf(t, doc)
		samltest.Find(a, samltest.NSAssertion, "Conditions").CreateAttr("NotBefore", ts(e.now.Add(skew)))
		resign(t, e, a, samltest.SignOptions{})
		e.mustAccept(t, samltest.Encode(t, doc))
		// NotOnOrAfter one second after now-skew; issued 5 min + skew - 1 s ago.
		o := e.opts()
		o.Now = e.now.Add(-5*time.Minute - skew + time.Second)
		o.NotOnOrAfter = 5 * time.Minute
		e.mustAccept(t, e.idp.Response(t, o))
		// IssueInstant exactly now+skew.
		o = e.opts()
		o.Now = e.now.Add(skew)
		e.mustAccept(t, e.idp.Response(t, o))
	})
	t.Run("36_InResponseToIsAcceptedAndReported", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		o.InResponseTo = "_sp-request-that-we-never-sent"
		if got := e.mustAccept(t, e.idp.Response(t, o)); got.InResponseTo != o.InResponseTo {
			t.Fatalf("InResponseTo = %q", got.InResponseTo)
		}
	})
	t.Run("38_RolePairs", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		commaRole := "arn:aws:iam::123456789012:role/team,ops/Reader" // role names may contain ',' and paths
		other := "arn:aws:iam::123456789012:saml-provider/Other"
		o.Roles = []string{
			samltest.DefaultProviderARN + "," + samltest.DefaultRoleARN, // reversed order
			commaRole + "," + samltest.DefaultProviderARN,
			"arn:aws:iam::123456789012:role/Admin," + other,
			"garbage", "arn:aws:iam::123456789012:role/X, " + samltest.DefaultProviderARN, // ignored
		}
		o.Attributes = map[string][]string{samltest.AttrRole: {"arn:aws-us-gov:iam::123456789012:role/Gov,arn:aws-us-gov:iam::123456789012:saml-provider/G"}}
		a := e.mustAccept(t, e.idp.Response(t, o))
		want := []saml.RolePair{
			{samltest.DefaultRoleARN, samltest.DefaultProviderARN},
			{commaRole, samltest.DefaultProviderARN},
			{"arn:aws:iam::123456789012:role/Admin", other},
			{"arn:aws-us-gov:iam::123456789012:role/Gov", "arn:aws-us-gov:iam::123456789012:saml-provider/G"},
		}
		if !slices.Equal(a.Roles, want) {
			t.Fatalf("Roles = %+v\nwant %+v", a.Roles, want)
		}
		for _, tc := range []struct {
			role, prov string
			ok         bool
		}{
			{samltest.DefaultRoleARN, samltest.DefaultProviderARN, true},
			{commaRole, samltest.DefaultProviderARN, true},
			{"arn:aws:iam::123456789012:role/Admin", samltest.DefaultProviderARN, false}, // provider ≠ PrincipalArn
			{"arn:aws:iam::123456789012:role/NotListed", samltest.DefaultProviderARN, false},
			{samltest.DefaultRoleARN, other, false},
			{"arn:aws:iam::123456789012:role/X", samltest.DefaultProviderARN, false},
		} {
			if got := a.HasRole(tc.role, tc.prov); got != tc.ok {
				t.Errorf("HasRole(%s, %s) = %v", tc.role, tc.prov, got)
			}
		}
		var nilA *saml.Assertion
		if nilA.HasRole(samltest.DefaultRoleARN, samltest.DefaultProviderARN) {
			t.Error("nil assertion has a role")
		}
	})
	t.Run("NameIDFormats", func(t *testing.T) {
		e := newEnv(t)
		for format, want := range map[string]string{
			samltest.NameIDTransient:                           "transient",
			samltest.NameIDEmail:                               samltest.NameIDEmail,
			"urn:oasis:names:tc:SAML:2.0:nameid-format:entity": "entity",
		} {
			o := e.opts()
			o.NameIDFormat = format
			if a := e.mustAccept(t, e.idp.Response(t, o)); a.SubjectType != want || a.NameIDFormat != format {
				t.Errorf("format %s: SubjectType %q NameIDFormat %q", format, a.SubjectType, a.NameIDFormat)
			}
		}
		doc := e.idp.SignedDocument(t, e.opts())
		a := assertionOf(t, doc)
		samltest.NameIDOf(t, a).RemoveAttr("Format")
		resign(t, e, a, samltest.SignOptions{})
		if got := e.mustAccept(t, samltest.Encode(t, doc)); got.NameIDFormat != saml.NameIDFormatUnspecified || got.SubjectType != saml.NameIDFormatUnspecified {
			t.Errorf("no Format: %q %q", got.NameIDFormat, got.SubjectType)
		}
	})
	t.Run("AttributesMergedAndComplexValuesSkipped", func(t *testing.T) {
		e := newEnv(t)
		doc := e.idp.SignedDocument(t, e.opts())
		a := assertionOf(t, doc)
		st := samltest.Find(a, samltest.NSAssertion, "AttributeStatement")
		add := func(name string, vals ...string) *etree.Element {
			at := st.CreateElement("saml:Attribute")
			at.CreateAttr("Name", name)
			for _, v := range vals {
				at.CreateElement("saml:AttributeValue").SetText(v)
			}
			return at
		}
		add(samltest.AttrRole, "arn:aws:iam::123456789012:role/Second,"+samltest.DefaultProviderARN)
		add("urn:oid:1.3.6.1.4.1.5923.1.1.1.10").CreateElement("saml:AttributeValue").CreateElement("saml:NameID").SetText("opaque")
		add("https://redshift.amazon.com/SAML/Attributes/DbGroups")
		resign(t, e, a, samltest.SignOptions{})
		got := e.mustAccept(t, samltest.Encode(t, doc))
		if len(got.Roles) != 2 || !got.HasRole("arn:aws:iam::123456789012:role/Second", samltest.DefaultProviderARN) {
			t.Errorf("Roles = %+v", got.Roles)
		}
		if v, ok := got.Attributes["urn:oid:1.3.6.1.4.1.5923.1.1.1.10"]; !ok || len(v) != 0 {
			t.Errorf("complex value: %q %v", v, ok)
		}
		if v, ok := got.Attributes["https://redshift.amazon.com/SAML/Attributes/DbGroups"]; !ok || len(v) != 0 {
			t.Errorf("empty attribute: %q %v", v, ok)
		}
	})
	t.Run("PrettyPrintedSignedDocument", func(t *testing.T) {
		// Whitespace between elements, as many IdPs emit, is part of the
		// signed content and must not confuse the checks.
		e := newEnv(t)
		o := e.opts()
		a := e.idp.Assertion(o)
		d := etree.NewDocument()
		d.SetRoot(a)
		d.Indent(2)
		e.idp.Sign(t, a, samltest.SignOptions{})
		r := etree.NewElement("samlp:Response")
		r.CreateAttr("xmlns:samlp", samltest.NSProtocol)
		r.CreateAttr("ID", samltest.RandomID())
		r.CreateAttr("Version", "2.0")
		r.CreateAttr("IssueInstant", ts(e.now))
		r.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", samltest.StatusSuccess)
		r.AddChild(a)
		out := etree.NewDocument()
		out.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
		out.SetRoot(r)
		e.mustAccept(t, samltest.Encode(t, out))
	})
}
