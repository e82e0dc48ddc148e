package saml_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

// Messages the checklist cases expect.
const (
	mSig       = "Response signature invalid"
	mMalformed = "Invalid SAML response"
	mIssuer    = "Issuer not present in specified provider"
	mAudience  = "Response does not contain the required audience."
	mRecipient = "Response does not contain a valid Recipient for this endpoint."
	mSubjConf  = "Response must contain exactly one bearer SubjectConfirmation with Recipient and NotOnOrAfter."
	mExpired   = "Response has expired"
	mNotYet    = "Response is not yet valid"
	mTooOld    = "Token must be redeemed within 5 minutes of issuance"
	mIDP       = "The identity provider reported that authentication failed"
	mRSNReq    = "RoleSessionName is required in AuthnResponse"
	mRSNFmt    = "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"
	mSourceID  = `Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"`
	mRole      = "Role attribute in AuthnResponse must contain at least one roleArn,providerArn pair"
	mDuration  = "SessionDuration in AuthnResponse must be an integer between 900 and 43200"
	mTags      = "Invalid PrincipalTag or TransitiveTagKeys attribute in AuthnResponse"
	mNameID    = "Response does not contain a Subject NameID."
	mMetaExp   = "The metadata of the specified provider has expired"

	cInvalid = saml.CodeInvalidIdentityToken
	cExpired = saml.CodeExpiredToken
)

// attack is one checklist case: build produces the SAMLResponse; the
// validator must answer code and msg.
type attack struct {
	name  string
	build func(t *testing.T, e *env) string
	code  string
	msg   string
	// setup customises the env (provider, validator) before build.
	setup func(t *testing.T, e *env)
}

// signed builds a response with o's signing flags, lets mutate edit the
// document, and encodes it.
func signed(mut func(t *testing.T, e *env, o *samltest.ResponseOptions), edit func(t *testing.T, e *env, doc *etree.Document)) func(*testing.T, *env) string {
	return func(t *testing.T, e *env) string {
		o := e.opts()
		if mut != nil {
			mut(t, e, &o)
		}
		doc := e.idp.SignedDocument(t, o)
		if edit != nil {
			edit(t, e, doc)
		}
		return samltest.Encode(t, doc)
	}
}

// opt returns a build with o changed by f.
func opt(f func(o *samltest.ResponseOptions)) func(*testing.T, *env) string {
	return signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { f(o) }, nil)
}

// xmlEdit serialises the signed document, applies string replacements and
// encodes the result (for edits etree cannot express: entities, CDATA,
// doctypes, malformed names).
func xmlEdit(mut func(o *samltest.ResponseOptions), edit func(t *testing.T, s string) string) func(*testing.T, *env) string {
	return func(t *testing.T, e *env) string {
		o := e.opts()
		if mut != nil {
			mut(&o)
		}
		s := string(samltest.XML(t, e.idp.SignedDocument(t, o)))
		out := edit(t, s)
		if out == s {
			t.Fatal("xmlEdit changed nothing")
		}
		return samltest.EncodeXML(out)
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("fixture does not contain %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

func signResponse(o *samltest.ResponseOptions)  { o.SignResponse, o.SignAssertion = true, false }
func signAssertion(o *samltest.ResponseOptions) { o.SignResponse, o.SignAssertion = false, true }
func signBoth(o *samltest.ResponseOptions)      { o.SignResponse, o.SignAssertion = true, true }

// withSign sets signature options on o.
func withSign(f func(s *samltest.SignOptions)) func(o *samltest.ResponseOptions) {
	return func(o *samltest.ResponseOptions) { f(&o.Sign) }
}

func assertionOf(t *testing.T, doc *etree.Document) *etree.Element {
	return samltest.AssertionOf(t, doc)
}

// resign replaces the assertion's signature with a fresh one over its current
// content (the attacker cannot do this; it isolates the rule under test).
func resign(t *testing.T, e *env, a *etree.Element, so samltest.SignOptions) {
	samltest.RemoveSignature(a)
	e.idp.Sign(t, a, so)
}

func TestAttackChecklist(t *testing.T) {
	attacker := samltest.New(t, testEntityID, samltest.WithKeyIndex(1))
	otherIdP := samltest.New(t, "https://other-idp.example.com/", samltest.WithKeyIndex(2))

	cases := []attack{
		// --- Signature placement / wrapping ---------------------------------
		{name: "01_XSW1_EvilResponseOriginalInsideSignature", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signResponse(o) },
			func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 1) }), code: cInvalid, msg: mSig},
		{name: "02_XSW2_EvilResponseOriginalBeforeSignature", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signResponse(o) },
			func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 2) }), code: cInvalid, msg: mSig},
		{name: "03_XSW3_UnsignedEvilAssertionFirst", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 3) }), code: cInvalid, msg: mSig},
		{name: "04_XSW4_EvilAssertionWrapsOriginal", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 4) }), code: cInvalid, msg: mSig},
		{name: "05_XSW5_SignatureMovedToEvilOriginalAppended", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 5) }), code: cInvalid, msg: mSig},
		{name: "06_XSW6_OriginalInsideEvilSignature", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 6) }), code: cInvalid, msg: mSig},
		{name: "07_XSW7_EvilAssertionInExtensions", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 7) }), code: cInvalid, msg: mSig},
		{name: "08_XSW8_OriginalInDSObject", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 8) }), code: cInvalid, msg: mSig},
		{name: "09_XSW10_AssertionSignatureRehostedOnResponse", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signBoth(o) },
			func(t *testing.T, _ *env, d *etree.Document) { samltest.XSW(t, d, 10) }), code: cInvalid, msg: mSig},
		{name: "10_CVE-2022-41912_DuplicateAssertionNewID", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.DuplicateAssertion(t, d, false) }), code: cInvalid, msg: mSig},
		{name: "10_CVE-2022-41912_DuplicateAssertionSameID", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) { samltest.DuplicateAssertion(t, d, true) }), code: cInvalid, msg: mSig},
		{name: "10_CVE-2022-41912_DuplicateInSignedResponse", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signBoth(o) },
			func(t *testing.T, _ *env, d *etree.Document) { samltest.DuplicateAssertion(t, d, false) }), code: cInvalid, msg: mSig},
		{name: "11_TwoValidlySignedAssertions", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			o2 := e.opts()
			o2.NameID, o2.RoleSessionName = "bob@example.com", "bob"
			bob := e.idp.Assertion(o2)
			e.idp.Sign(t, bob, samltest.SignOptions{})
			d.Root().InsertChildAt(assertionOf(t, d).Index(), bob)
		}), code: cInvalid, msg: mSig},
		{name: "12_SignedResponseUnsignedAssertionModified", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signResponse(o) },
			func(t *testing.T, _ *env, d *etree.Document) {
				samltest.NameIDOf(t, assertionOf(t, d)).SetText(samltest.EvilNameID)
			}), code: cInvalid, msg: mSig},
		{name: "12_SignedResponseSignedAssertionModifiedAndResigned", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signBoth(o) },
			func(t *testing.T, e *env, d *etree.Document) {
				// The attacker cannot re-sign; even a valid assertion
				// signature does not help if the Response digest breaks.
				a := assertionOf(t, d)
				samltest.NameIDOf(t, a).SetText(samltest.EvilNameID)
				resign(t, e, a, samltest.SignOptions{})
			}), code: cInvalid, msg: mSig},
		{name: "13_UnsignedResponseWrongDestination", build: signed(nil, func(_ *testing.T, _ *env, d *etree.Document) {
			d.Root().CreateAttr("Destination", "https://evil.example/acs")
		}), code: cInvalid, msg: mRecipient},
		{name: "13_UnsignedResponseStatusFlipped", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) {
			samltest.Find(d.Root(), samltest.NSProtocol, "StatusCode").CreateAttr("Value", samltest.StatusResponder)
		}), code: saml.CodeIDPRejectedClaim, msg: mIDP},
		{name: "13_UnsignedResponseIssuerChanged", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) {
			samltest.Child(d.Root(), samltest.NSAssertion, "Issuer").SetText("https://evil.example/")
		}), code: cInvalid, msg: mIssuer},
		{name: "14_ReferenceToAnotherElement", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) {
			o.Sign.ReferenceURI = "#" + o.ResponseID
		}, nil), code: cInvalid, msg: mSig},
		{name: "14_EmptyReferenceURI", build: opt(withSign(func(s *samltest.SignOptions) { s.EmptyReferenceURI = true })), code: cInvalid, msg: mSig},
		{name: "14_MultipleReferences", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) {
			o.Sign.ExtraReferences = []string{"#" + o.ResponseID}
		}, nil), code: cInvalid, msg: mSig},
		{name: "14_DuplicateIDs", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { o.ResponseID = o.ID }, nil), code: cInvalid, msg: mSig},
		{name: "14_IDInXMLNamespace", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) {
			assertionOf(t, d).CreateAttr("xml:id", "x1")
		}), code: cInvalid, msg: mSig},
		{name: "14_IDInWSUNamespace", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) {
			a := assertionOf(t, d)
			a.CreateAttr("xmlns:wsu", "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd")
			a.CreateAttr("wsu:Id", a.SelectAttrValue("ID", ""))
		}), code: cInvalid, msg: mSig},
		{name: "14_IDMovedToOtherNamespace", build: signed(nil, func(t *testing.T, _ *env, d *etree.Document) {
			a := assertionOf(t, d)
			id := a.SelectAttrValue("ID", "")
			a.RemoveAttr("ID")
			a.CreateAttr("xmlns:x", "urn:x")
			a.CreateAttr("x:ID", id)
		}), code: cInvalid, msg: mSig},
		{name: "15_SignedLogoutRequestAsResponse", build: func(t *testing.T, e *env) string {
			lr := etree.NewElement("samlp:LogoutRequest")
			lr.CreateAttr("xmlns:samlp", samltest.NSProtocol)
			lr.CreateAttr("xmlns:saml", samltest.NSAssertion)
			lr.CreateAttr("ID", samltest.RandomID())
			lr.CreateAttr("Version", "2.0")
			lr.CreateElement("saml:Issuer").SetText(testEntityID)
			lr.AddChild(e.idp.Assertion(e.opts()))
			e.idp.Sign(t, lr, samltest.SignOptions{})
			d := etree.NewDocument()
			d.SetRoot(lr)
			return samltest.Encode(t, d)
		}, code: cInvalid, msg: mMalformed},
		{name: "15_SignedMetadataAsResponse", build: func(t *testing.T, e *env) string {
			d := samltest.Parse(t, e.idp.Metadata())
			d.Root().CreateAttr("ID", samltest.RandomID())
			e.idp.Sign(t, d.Root(), samltest.SignOptions{})
			return samltest.Encode(t, d)
		}, code: cInvalid, msg: mMalformed},
		{name: "15_SignedForeignElementInPlaceOfAssertion", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { o.Unsigned = true; o.SignAssertion = false },
			func(t *testing.T, e *env, d *etree.Document) {
				// A validly signed saml:Advice (not an Assertion) next to an
				// unsigned assertion.
				adv := etree.NewElement("saml:Advice")
				adv.CreateAttr("xmlns:saml", samltest.NSAssertion)
				adv.CreateAttr("ID", samltest.RandomID())
				adv.CreateElement("saml:Issuer").SetText(testEntityID)
				e.idp.Sign(t, adv, samltest.SignOptions{})
				d.Root().AddChild(adv)
			}), code: cInvalid, msg: mSig},
		{name: "16_TwoSignaturesOnAssertion", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			a.InsertChildAt(samltest.SignatureOf(a).Index(), samltest.SignatureOf(a).Copy())
		}), code: cInvalid, msg: mSig},
		{name: "16_TwoSignedInfo", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			s := samltest.SignatureOf(assertionOf(t, d))
			si := samltest.Child(s, samltest.NSDSig, "SignedInfo")
			s.InsertChildAt(1, si.Copy())
		}), code: cInvalid, msg: mSig},
		{name: "16_MissingCanonicalizationMethod", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			si := samltest.Child(samltest.SignatureOf(assertionOf(t, d)), samltest.NSDSig, "SignedInfo")
			si.RemoveChild(samltest.Child(si, samltest.NSDSig, "CanonicalizationMethod"))
		}), code: cInvalid, msg: mSig},
		{name: "16_CanonicalizationWithComments", build: opt(withSign(func(s *samltest.SignOptions) { s.CanonicalizationMethod = samltest.AlgExcC14NWithComments })), code: cInvalid, msg: mSig},
		{name: "16_InclusiveCanonicalization", build: opt(withSign(func(s *samltest.SignOptions) { s.CanonicalizationMethod = samltest.AlgC14N11 })), code: cInvalid, msg: mSig},
		{name: "16_TransformWithComments", build: opt(withSign(func(s *samltest.SignOptions) {
			s.Transforms = []string{samltest.AlgEnveloped, samltest.AlgExcC14NWithComments}
		})), code: cInvalid, msg: mSig},
		{name: "16_TransformXSLT", build: opt(withSign(func(s *samltest.SignOptions) {
			s.Transforms = []string{samltest.AlgEnveloped, samltest.AlgXSLT, samltest.AlgExcC14N}
		})), code: cInvalid, msg: mSig},
		{name: "16_TransformXPath", build: opt(withSign(func(s *samltest.SignOptions) {
			s.Transforms = []string{samltest.AlgXPath, samltest.AlgEnveloped, samltest.AlgExcC14N}
		})), code: cInvalid, msg: mSig},
		{name: "16_NoEnvelopedTransform", build: opt(withSign(func(s *samltest.SignOptions) { s.Transforms = []string{samltest.AlgExcC14N} })), code: cInvalid, msg: mSig},
		{name: "16_XPathChildInTransform", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			tr := samltest.FindAll(samltest.SignatureOf(assertionOf(t, d)), samltest.NSDSig, "Transform")[0]
			tr.CreateElement("ds:XPath").SetText("not(ancestor-or-self::ds:Signature)")
		}), code: cInvalid, msg: mSig},

		// --- Content / parsing ---------------------------------------------
		{name: "19_ColonInElementName", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement", "<x::Foo xmlns:x=\"urn:x\"></x::Foo><saml:AuthnStatement")
		}), code: cInvalid, msg: mMalformed},
		{name: "19_EmptyAttributeName", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement ", "<saml:AuthnStatement :Evil=\"1\" ")
		}), code: cInvalid, msg: mMalformed},
		{name: "19_AttributePrefixInstability", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement ", "<saml:AuthnStatement xmlns:=\"urn:x\" ")
		}), code: cInvalid, msg: mMalformed},
		{name: "19_DirectiveInside", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement", "<! <<!-- -->!-- x --> y><saml:AuthnStatement")
		}), code: cInvalid, msg: mMalformed},
		{name: "20_Doctype", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return `<?xml version="1.0"?><!DOCTYPE samlp:Response>` + s
		}), code: cInvalid, msg: mMalformed},
		{name: "20_InternalEntityInNameID", build: xmlEdit(nil, func(t *testing.T, s string) string {
			s = replaceOnce(t, s, ">"+samltest.DefaultNameID+"<", ">&x;<")
			return `<!DOCTYPE r [<!ENTITY x "` + samltest.DefaultNameID + `">]>` + s
		}), code: cInvalid, msg: mMalformed},
		{name: "20_ExternalEntity", build: xmlEdit(nil, func(t *testing.T, s string) string {
			s = replaceOnce(t, s, ">"+samltest.DefaultNameID+"<", ">&xxe;<")
			return `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + s
		}), code: cInvalid, msg: mMalformed},
		{name: "20_BillionLaughs", build: func(t *testing.T, e *env) string {
			var b strings.Builder
			b.WriteString(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">`)
			prev := "lol"
			for i := 1; i <= 9; i++ {
				fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat("&"+prev+";", 10))
				prev = fmt.Sprintf("lol%d", i)
			}
			b.WriteString(`]><lolz>&lol9;</lolz>`)
			return samltest.EncodeXML(b.String())
		}, code: cInvalid, msg: mMalformed},
		{name: "20_ProcessingInstruction", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement", "<?xml-stylesheet href=\"x\"?><saml:AuthnStatement")
		}), code: cInvalid, msg: mMalformed},
		{name: "21_Oversized", build: func(t *testing.T, e *env) string {
			return strings.Repeat("QUFB", 25001)
		}, code: saml.CodeValidationError, msg: "1 validation error detected: Value at 'SAMLAssertion' failed to satisfy constraint: Member must have length less than or equal to 100000"},
		{name: "21_DeepNesting", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement", strings.Repeat("<a>", 5000)+strings.Repeat("</a>", 5000)+"<saml:AuthnStatement")
		}), code: cInvalid, msg: mMalformed},
		{name: "21_ManyElements", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement", strings.Repeat("<a/>", 5000)+"<saml:AuthnStatement")
		}), code: cInvalid, msg: mMalformed},
		{name: "21_HugeAttributeList", build: xmlEdit(nil, func(t *testing.T, s string) string {
			var b strings.Builder
			for i := range 2000 {
				fmt.Fprintf(&b, ` a%d="x"`, i)
			}
			return replaceOnce(t, s, "<saml:AuthnStatement ", "<saml:AuthnStatement"+b.String()+" ")
		}), code: cInvalid, msg: mMalformed},
		{name: "21_ManyNamespaceDeclarations", build: xmlEdit(nil, func(t *testing.T, s string) string {
			var b strings.Builder
			for i := range 2000 {
				fmt.Fprintf(&b, ` xmlns:n%d="urn:n%d"`, i, i)
			}
			return replaceOnce(t, s, "<saml:AuthnStatement ", "<saml:AuthnStatement"+b.String()+" ")
		}), code: cInvalid, msg: mMalformed},
		{name: "21_DuplicateAttribute", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, "<saml:AuthnStatement ", "<saml:AuthnStatement SessionIndex=\"evil\" ")
		}), code: cInvalid, msg: mMalformed},
		{name: "22_LeadingGarbage", build: xmlEdit(nil, func(t *testing.T, s string) string { return "garbage" + s }), code: cInvalid, msg: mMalformed},
		{name: "22_TrailingGarbage", build: xmlEdit(nil, func(t *testing.T, s string) string { return s + "garbage" }), code: cInvalid, msg: mMalformed},
		{name: "22_TrailingElement", build: xmlEdit(nil, func(t *testing.T, s string) string { return s + "<x/>" }), code: cInvalid, msg: mMalformed},
		{name: "22_TwoRoots", build: xmlEdit(nil, func(t *testing.T, s string) string { return s + s }), code: cInvalid, msg: mMalformed},
		{name: "22_Truncated", build: xmlEdit(nil, func(t *testing.T, s string) string { return s[:len(s)-20] }), code: cInvalid, msg: mMalformed},
		{name: "22_UTF8BOM", build: xmlEdit(nil, func(t *testing.T, s string) string { return "\ufeff" + s }), code: cInvalid, msg: mMalformed},
		{name: "22_UTF16", build: func(t *testing.T, e *env) string {
			s := `<?xml version="1.0" encoding="UTF-16"?>` + string(samltest.XML(t, e.idp.SignedDocument(t, e.opts())))
			b := []byte{0xff, 0xfe}
			for _, r := range s {
				b = append(b, byte(r), byte(r>>8))
			}
			return base64.StdEncoding.EncodeToString(b)
		}, code: cInvalid, msg: mMalformed},
		{name: "22_UTF16DeclarationOnly", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return `<?xml version="1.0" encoding="UTF-16"?>` + s
		}), code: cInvalid, msg: mMalformed},
		{name: "22_InvalidUTF8", build: xmlEdit(nil, func(t *testing.T, s string) string {
			return replaceOnce(t, s, ">"+samltest.DefaultNameID+"<", ">alice\xff<")
		}), code: cInvalid, msg: mMalformed},
		{name: "22_Deflated", build: func(t *testing.T, e *env) string {
			return base64.StdEncoding.EncodeToString([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff})
		}, code: cInvalid, msg: mMalformed},

		// --- Trust / keys / algorithms -------------------------------------
		{name: "23_AttackerKeyAndCertInKeyInfo", build: func(t *testing.T, e *env) string {
			return attacker.Response(t, e.opts())
		}, code: cInvalid, msg: mSig},
		{name: "23_AttackerKeyWithPinnedCertInKeyInfo", build: opt(withSign(func(s *samltest.SignOptions) { s.Signer = attacker.Key })), code: cInvalid, msg: mSig},
		{name: "24_OtherProvidersKey", build: func(t *testing.T, e *env) string {
			o := e.opts()
			o.Issuer = testEntityID // claims to be this provider, signed by another registered one
			return otherIdP.Response(t, o)
		}, code: cInvalid, msg: mSig},
		{name: "25_NoKeyInfoWithSeveralPinnedCerts", setup: func(t *testing.T, e *env) {
			e.p.Certs = append(e.p.Certs, otherIdP.Cert)
		}, build: opt(withSign(func(s *samltest.SignOptions) { s.OmitKeyInfo = true })), code: cInvalid, msg: mSig},
		{name: "25_KeyInfoRSAKeyValue", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			ki := samltest.Child(samltest.SignatureOf(assertionOf(t, d)), samltest.NSDSig, "KeyInfo")
			for _, c := range ki.ChildElements() {
				ki.RemoveChild(c)
			}
			kv := ki.CreateElement("ds:KeyValue").CreateElement("ds:RSAKeyValue")
			kv.CreateElement("ds:Modulus").SetText("AQAB")
			kv.CreateElement("ds:Exponent").SetText("AQAB")
		}), code: cInvalid, msg: mSig},
		{name: "26_RSASHA1", build: opt(withSign(func(s *samltest.SignOptions) {
			s.SignatureMethod, s.DigestMethod = samltest.SigRSASHA1, samltest.DigestSHA1
		})), code: cInvalid, msg: mSig},
		{name: "26_RSASHA1SignatureSHA256Digest", build: opt(withSign(func(s *samltest.SignOptions) { s.SignatureMethod = samltest.SigRSASHA1 })), code: cInvalid, msg: mSig},
		{name: "26_SHA1Digest", build: opt(withSign(func(s *samltest.SignOptions) { s.DigestMethod = samltest.DigestSHA1 })), code: cInvalid, msg: mSig},
		{name: "26_HMACSHA1EvenWithSHA1Allowed", setup: func(t *testing.T, e *env) { e.p.AllowSHA1 = true },
			build: opt(withSign(func(s *samltest.SignOptions) { s.SignatureMethod = samltest.SigHMACSHA1 })), code: cInvalid, msg: mSig},
		{name: "26_DSASHA1", setup: func(t *testing.T, e *env) { e.p.AllowSHA1 = true },
			build: opt(withSign(func(s *samltest.SignOptions) { s.SignatureMethod = samltest.SigDSASHA1 })), code: cInvalid, msg: mSig},
		{name: "26_UnknownDigest", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			dm := samltest.Find(samltest.SignatureOf(assertionOf(t, d)), samltest.NSDSig, "DigestMethod")
			dm.CreateAttr("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#md5")
		}), code: cInvalid, msg: mSig},
		{name: "27_PinnedCertExpired", setup: func(t *testing.T, e *env) {
			e.idp = samltest.New(t, testEntityID, samltest.WithCertValidity(testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour)))
			e.p = provider(t, e.idp.Metadata())
		}, build: func(t *testing.T, e *env) string { return e.idp.Response(t, e.opts()) }, code: cInvalid, msg: mSig},
		{name: "27_PinnedCertNotYetValid", setup: func(t *testing.T, e *env) {
			e.idp = samltest.New(t, testEntityID, samltest.WithCertValidity(testNow.Add(24*time.Hour), testNow.Add(48*time.Hour)))
			e.p = provider(t, e.idp.Metadata())
		}, build: func(t *testing.T, e *env) string { return e.idp.Response(t, e.opts()) }, code: cInvalid, msg: mSig},
		{name: "28_NoCertificateConfigured", setup: func(t *testing.T, e *env) { e.p.Certs = nil },
			build: func(t *testing.T, e *env) string { return e.idp.Response(t, e.opts()) }, code: cInvalid, msg: mSig},
		{name: "28_ProviderMetadataExpired", setup: func(t *testing.T, e *env) { e.p.ValidUntil = testNow.Add(-time.Hour) },
			build: func(t *testing.T, e *env) string { return e.idp.Response(t, e.opts()) }, code: cInvalid, msg: mMetaExp},
		{name: "28_UnsignedResponse", build: opt(func(o *samltest.ResponseOptions) { o.Unsigned = true; o.SignAssertion = false }), code: cInvalid, msg: mSig},
		{name: "28_DigestValueAltered", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			samltest.Find(samltest.SignatureOf(assertionOf(t, d)), samltest.NSDSig, "DigestValue").SetText(base64.StdEncoding.EncodeToString(make([]byte, 32)))
		}), code: cInvalid, msg: mSig},
		{name: "28_SignatureValueAltered", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			sv := samltest.Find(samltest.SignatureOf(assertionOf(t, d)), samltest.NSDSig, "SignatureValue")
			raw, _ := base64.StdEncoding.DecodeString(sv.Text())
			raw[10] ^= 1
			sv.SetText(base64.StdEncoding.EncodeToString(raw))
		}), code: cInvalid, msg: mSig},
		{name: "28_AttributeEditedAfterSigning", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			samltest.AttributeValues(assertionOf(t, d), samltest.AttrRole)[0].SetText("arn:aws:iam::123456789012:role/Admin," + samltest.DefaultProviderARN)
		}), code: cInvalid, msg: mSig},

		// --- Time / audience / binding -------------------------------------
		{name: "29_ConditionsNotBeforeInFuture", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "Conditions").CreateAttr("NotBefore", ts(e.now.Add(saml.DefaultClockSkew+time.Second)))
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mNotYet},
		{name: "29_ConditionsNotOnOrAfterPast", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "Conditions").CreateAttr("NotOnOrAfter", ts(e.now.Add(-saml.DefaultClockSkew)))
			resign(t, e, a, samltest.SignOptions{})
		}), code: cExpired, msg: mExpired},
		{name: "29_IssueInstantInFuture", build: opt(func(o *samltest.ResponseOptions) { o.Now = testNow.Add(saml.DefaultClockSkew + time.Second) }), code: cInvalid, msg: mNotYet},
		{name: "29_IssuedMoreThanFiveMinutesAgo", build: opt(func(o *samltest.ResponseOptions) {
			o.Now = testNow.Add(-5*time.Minute - saml.DefaultClockSkew)
			o.NotOnOrAfter = time.Hour
		}), code: cExpired, msg: mTooOld},
		{name: "30_SubjectConfirmationDataNotOnOrAfterMissing", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "SubjectConfirmationData").RemoveAttr("NotOnOrAfter")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mSubjConf},
		{name: "30_SubjectConfirmationDataNotOnOrAfterPast", build: opt(func(o *samltest.ResponseOptions) {
			// NotOnOrAfter = testNow - skew: expired exactly at the boundary.
			o.Now = testNow.Add(-3 * time.Minute)
			o.NotOnOrAfter = 3*time.Minute - saml.DefaultClockSkew
		}), code: cExpired, msg: mExpired},
		{name: "30_SubjectConfirmationDataNotBeforeInFuture", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "SubjectConfirmationData").CreateAttr("NotBefore", ts(e.now.Add(time.Hour)))
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mNotYet},
		{name: "31_AudienceWrong", build: opt(func(o *samltest.ResponseOptions) { o.Audience = "https://signin.aws.amazon.com/saml" }), code: cInvalid, msg: mAudience},
		{name: "31_AudienceMissing", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			c := samltest.Find(a, samltest.NSAssertion, "Conditions")
			c.RemoveChild(samltest.Child(c, samltest.NSAssertion, "AudienceRestriction"))
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mAudience},
		{name: "31_ConditionsMissing", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			a.RemoveChild(samltest.Find(a, samltest.NSAssertion, "Conditions"))
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mAudience},
		{name: "31_OneOfTwoAudienceRestrictionsWrong", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			c := samltest.Find(a, samltest.NSAssertion, "Conditions")
			c.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText("https://other-sp.example/")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mAudience},
		{name: "31_UnknownCondition", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "Conditions").CreateElement("saml:Condition")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mAudience},
		{name: "32_RecipientWrong", build: opt(func(o *samltest.ResponseOptions) { o.Recipient = "https://evil.example/acs"; o.NoDestination = true }), code: cInvalid, msg: mRecipient},
		{name: "32_RecipientMissing", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "SubjectConfirmationData").RemoveAttr("Recipient")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mRecipient},
		{name: "32_DestinationWrongSigned", build: opt(func(o *samltest.ResponseOptions) { signBoth(o); o.Destination = "https://evil.example/acs" }), code: cInvalid, msg: mRecipient},
		{name: "33_TwoSubjectConfirmations", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			sc := samltest.Find(a, samltest.NSAssertion, "SubjectConfirmation")
			sc.Parent().AddChild(sc.Copy())
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mSubjConf},
		{name: "33_HolderOfKey", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "SubjectConfirmation").CreateAttr("Method", samltest.MethodHolderKey)
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mSubjConf},
		{name: "33_SenderVouches", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "SubjectConfirmation").CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mSubjConf},
		{name: "33_NoSubject", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			a.RemoveChild(samltest.Find(a, samltest.NSAssertion, "Subject"))
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mNameID},
		{name: "33_EmptyNameID", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.NameIDOf(t, a).SetText("")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mNameID},
		{name: "34_StatusNotSuccessSignedResponse", build: opt(func(o *samltest.ResponseOptions) { signBoth(o); o.Status = samltest.StatusResponder }), code: saml.CodeIDPRejectedClaim, msg: mIDP},
		{name: "34_StatusNotSuccessNoAssertion", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { o.Status = samltest.StatusRequester },
			func(t *testing.T, _ *env, d *etree.Document) { d.Root().RemoveChild(assertionOf(t, d)) }), code: saml.CodeIDPRejectedClaim, msg: mIDP},
		{name: "35_AssertionIssuerMismatch", build: opt(func(o *samltest.ResponseOptions) { o.Issuer = "https://evil.example/" }), code: cInvalid, msg: mIssuer},
		{name: "35_AssertionOnlyIssuerMismatch", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Child(a, samltest.NSAssertion, "Issuer").SetText(otherIdP.EntityID)
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mIssuer},
		{name: "35_AssertionIssuerMissing", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			a.RemoveChild(samltest.Child(a, samltest.NSAssertion, "Issuer"))
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mIssuer},
		{name: "35_ResponseIssuerMismatchSigned", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signAssertion(o) },
			func(t *testing.T, e *env, d *etree.Document) {
				samltest.Child(d.Root(), samltest.NSAssertion, "Issuer").SetText(otherIdP.EntityID)
				e.idp.Sign(t, d.Root(), samltest.SignOptions{})
			}), code: cInvalid, msg: mIssuer},
		{name: "35_ProviderEntityIDMismatch", setup: func(t *testing.T, e *env) { e.p.EntityID = otherIdP.EntityID },
			build: func(t *testing.T, e *env) string { return e.idp.Response(t, e.opts()) }, code: cInvalid, msg: mIssuer},
		{name: "35_IssuerFormatNotEntity", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Child(a, samltest.NSAssertion, "Issuer").CreateAttr("Format", samltest.NameIDEmail)
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mIssuer},

		// --- AWS-specific ---------------------------------------------------
		{name: "38_RoleAttributeMissing", build: opt(func(o *samltest.ResponseOptions) { o.Roles = []string{} }), code: cInvalid, msg: mRole},
		{name: "38_RoleMalformedPair", build: opt(func(o *samltest.ResponseOptions) {
			o.Roles = []string{samltest.DefaultRoleARN, samltest.DefaultRoleARN + "," + samltest.DefaultRoleARN, "x,y"}
		}), code: cInvalid, msg: mRole},
		{name: "38_RoleExtraSpaces", build: opt(func(o *samltest.ResponseOptions) {
			o.Roles = []string{samltest.DefaultRoleARN + ", " + samltest.DefaultProviderARN, " " + samltest.DefaultRoleARN + "," + samltest.DefaultProviderARN}
		}), code: cInvalid, msg: mRole},
		{name: "38_RoleValueCommaBomb", build: opt(func(o *samltest.ResponseOptions) {
			// Quadratic-time bait for a naive splitter: thousands of commas
			// inside an ARN-shaped value, within the size limit.
			bomb := samltest.DefaultRoleARN + strings.Repeat(",arn:aws:iam::123456789012:role/x", 1000)
			o.Roles = []string{bomb, strings.Repeat(",", 20000)}
		}), code: cInvalid, msg: mRole},
		{name: "39_RoleSessionNameMissing", build: opt(func(o *samltest.ResponseOptions) { o.OmitRoleSessionName = true }), code: cInvalid, msg: mRSNReq},
		{name: "39_RoleSessionNameInvalidChars", build: opt(func(o *samltest.ResponseOptions) { o.RoleSessionName = "alice smith" }), code: cInvalid, msg: mRSNFmt},
		{name: "39_RoleSessionNameSlash", build: opt(func(o *samltest.ResponseOptions) { o.RoleSessionName = "alice/admin" }), code: cInvalid, msg: mRSNFmt},
		{name: "39_RoleSessionNameTooShort", build: opt(func(o *samltest.ResponseOptions) { o.RoleSessionName = "a" }), code: cInvalid, msg: mRSNFmt},
		{name: "39_RoleSessionNameTooLong", build: opt(func(o *samltest.ResponseOptions) { o.RoleSessionName = strings.Repeat("a", 65) }), code: cInvalid, msg: mRSNFmt},
		{name: "39_RoleSessionNameTwoValues", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{samltest.AttrRoleSessionName: {"mallory"}}
		}), code: cInvalid, msg: mRSNFmt},
		{name: "39_SessionDurationTooShort", build: opt(func(o *samltest.ResponseOptions) { o.SessionDuration = 899 }), code: cInvalid, msg: mDuration},
		{name: "39_SessionDurationTooLong", build: opt(func(o *samltest.ResponseOptions) { o.SessionDuration = 43201 }), code: cInvalid, msg: mDuration},
		{name: "39_SessionDurationNotInteger", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrSessionDuration: {"+3600"}}
		}), code: cInvalid, msg: mDuration},
		{name: "39_SessionNotOnOrAfterPassed", build: opt(func(o *samltest.ResponseOptions) { o.SessionNotOnOrAfter = testNow.Add(-time.Second) }), code: cExpired, msg: mExpired},
		{name: "41_PrincipalTagInvalidKey", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrPrincipalTag + "bad<key>": {"v"}}
		}), code: cInvalid, msg: mTags},
		{name: "41_PrincipalTagAWSPrefix", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrPrincipalTag + "aws:PrincipalArn": {"arn:aws:iam::123456789012:role/Admin"}}
		}), code: cInvalid, msg: mTags},
		{name: "41_PrincipalTagEmptyKey", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrPrincipalTag: {"v"}}
		}), code: cInvalid, msg: mTags},
		{name: "41_PrincipalTagDuplicateKeyCase", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrPrincipalTag + "Team": {"a"}, saml.AttrPrincipalTag + "team": {"b"}}
		}), code: cInvalid, msg: mTags},
		{name: "41_PrincipalTagTwoValues", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrPrincipalTag + "Team": {"a", "b"}}
		}), code: cInvalid, msg: mTags},
		{name: "41_PrincipalTagValueTooLong", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrPrincipalTag + "Team": {strings.Repeat("v", 257)}}
		}), code: cInvalid, msg: mTags},
		{name: "41_TooManyPrincipalTags", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{}
			for i := range 51 {
				o.Attributes[fmt.Sprintf("%sk%d", saml.AttrPrincipalTag, i)] = []string{"v"}
			}
		}), code: cInvalid, msg: mTags},
		{name: "41_TransitiveKeyNotATag", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrPrincipalTag + "Team": {"a"}, saml.AttrTransitiveTagKeys: {"Project"}}
		}), code: cInvalid, msg: mTags},
		{name: "41_SourceIdentityAWSPrefix", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrSourceIdentity: {"aws:admin"}}
		}), code: cInvalid, msg: mSourceID},
		{name: "41_SourceIdentityTooShort", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrSourceIdentity: {"a"}}
		}), code: cInvalid, msg: mSourceID},
		{name: "41_SourceIdentityTwoValues", build: opt(func(o *samltest.ResponseOptions) {
			o.Attributes = map[string][]string{saml.AttrSourceIdentity: {"alice", "bob"}}
		}), code: cInvalid, msg: mSourceID},

		// --- Other structure ------------------------------------------------
		{name: "XX_EncryptedAssertion", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signResponse(o) },
			func(t *testing.T, e *env, d *etree.Document) {
				enc := etree.NewElement("saml:EncryptedAssertion")
				enc.CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
				d.Root().AddChild(enc)
			}), code: cInvalid, msg: mMalformed},
		{name: "XX_NoAssertion", build: signed(func(_ *testing.T, _ *env, o *samltest.ResponseOptions) { signResponse(o) },
			func(t *testing.T, _ *env, d *etree.Document) { d.Root().RemoveChild(assertionOf(t, d)) }), code: cInvalid, msg: mMalformed},
		{name: "XX_AssertionVersion1", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			a.CreateAttr("Version", "1.1")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mMalformed},
		{name: "XX_ResponseVersion1", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) { d.Root().CreateAttr("Version", "1.1") }), code: cInvalid, msg: mMalformed},
		{name: "XX_AssertionInAdvice", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			nested := e.idp.Assertion(e.opts())
			adv := etree.NewElement("saml:Advice")
			adv.AddChild(nested)
			a.InsertChildAt(samltest.Find(a, samltest.NSAssertion, "Conditions").Index()+1, adv)
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mSig},
		{name: "XX_EncryptedAttribute", build: signed(nil, func(t *testing.T, e *env, d *etree.Document) {
			a := assertionOf(t, d)
			samltest.Find(a, samltest.NSAssertion, "AttributeStatement").CreateElement("saml:EncryptedAttribute")
			resign(t, e, a, samltest.SignOptions{})
		}), code: cInvalid, msg: mMalformed},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case %s", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			in := tc.build(t, e)
			start := time.Now()
			a, err := e.validate(t, in)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("validation took %v", d)
			}
			if a != nil {
				t.Fatalf("accepted with assertion %+v", a)
			}
			se := e.wantErr(t, err, tc.code, tc.msg)
			t.Logf("detail: %v", se.Detail)
		})
	}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
