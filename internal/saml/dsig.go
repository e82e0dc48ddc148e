package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// XML namespaces.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsExcC14N   = "http://www.w3.org/2001/10/xml-exc-c14n#"
)

// Algorithms.
const (
	algExcC14N    = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnveloped  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	digestSHA1    = "http://www.w3.org/2000/09/xmldsig#sha1"
	digestSHA256  = "http://www.w3.org/2001/04/xmlenc#sha256"
	digestSHA384  = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	digestSHA512  = "http://www.w3.org/2001/04/xmlenc#sha512"
	sigRSASHA1    = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	sigRSASHA256  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	sigRSASHA384  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	sigRSASHA512  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	sigECDSASHA1  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
	sigECDSASHA25 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	sigECDSASHA38 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
	sigECDSASHA51 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
)

// Accepted algorithms; the SHA-1 ones only when the provider opts in. Anything
// else (HMAC, DSA, MD5, unknown URIs) is refused before goxmldsig sees it.
var (
	strongDigests = map[string]bool{digestSHA256: true, digestSHA384: true, digestSHA512: true}
	strongSigs    = map[string]bool{
		sigRSASHA256: true, sigRSASHA384: true, sigRSASHA512: true,
		sigECDSASHA25: true, sigECDSASHA38: true, sigECDSASHA51: true,
	}
	sha1Digests = map[string]bool{digestSHA1: true}
	sha1Sigs    = map[string]bool{sigRSASHA1: true, sigECDSASHA1: true}
)

// idRe is the shape accepted for Response and Assertion IDs: an xs:ID
// (NCName) limited to ASCII, which every IdP in use emits.
var idRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,255}$`)

// is reports whether el is {ns}local.
func is(el *etree.Element, ns, local string) bool {
	return el.Tag == local && el.NamespaceURI() == ns
}

// childrenNS returns el's child elements named {ns}local.
func childrenNS(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// attr returns the value of el's unprefixed attribute name and whether it is
// present. Unlike etree's SelectAttr it never matches a prefixed attribute.
func attr(el *etree.Element, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == name {
			return a.Value, true
		}
	}
	return "", false
}

// walk calls fn for el and every descendant element, depth first.
func walk(el *etree.Element, fn func(*etree.Element) error) error {
	if err := fn(el); err != nil {
		return err
	}
	for _, c := range el.ChildElements() {
		if err := walk(c, fn); err != nil {
			return err
		}
	}
	return nil
}

// layout is the signature-relevant structure of a Response that passed
// checkLayout.
type layout struct {
	assertion *etree.Element // the only saml:Assertion, a child of the root
	respSig   *etree.Element // ds:Signature child of the Response, or nil
	assertSig *etree.Element // ds:Signature child of the Assertion, or nil
}

// checkLayout enforces the document shape that makes signature wrapping
// impossible to express: exactly one Assertion anywhere in the document and it
// is a direct child of the Response; no EncryptedAssertion and no other
// Response element anywhere; every ds:Signature is the direct child of the
// Response or of the Assertion, at most one each; ID attributes are
// unprefixed and unique; no attribute named like an ID in another namespace
// (xml:id, wsu:Id) exists.
func checkLayout(root *etree.Element) (*layout, *Error) {
	var (
		l          layout
		assertions int
		ids        = map[string]bool{}
	)
	var sigs []*etree.Element
	err := walk(root, func(el *etree.Element) error {
		for _, a := range el.Attr {
			if a.Space != "" && a.Space != "xmlns" && strings.EqualFold(a.Key, "id") {
				return sigErr("an element carries a namespaced ID attribute")
			}
			if a.Space == "" && a.Key == "ID" {
				if ids[a.Value] {
					return sigErr("two elements share one ID value")
				}
				ids[a.Value] = true
			}
		}
		switch {
		case is(el, nsAssertion, "Assertion"):
			assertions++
			l.assertion = el
		case is(el, nsAssertion, "EncryptedAssertion"):
			return malformed("EncryptedAssertion is not supported")
		case el != root && is(el, nsProtocol, "Response"):
			return sigErr("a Response element is nested inside the Response")
		case is(el, nsDSig, "Signature"):
			sigs = append(sigs, el)
		}
		return nil
	})
	if err != nil {
		return nil, err.(*Error)
	}
	switch {
	case assertions == 0:
		return nil, malformed("the Response contains no Assertion")
	case assertions > 1:
		return nil, sigErr("the document contains more than one Assertion")
	case l.assertion.Parent() != root:
		return nil, sigErr("the Assertion is not a direct child of the Response")
	}
	for _, s := range sigs {
		switch s.Parent() {
		case root:
			if l.respSig != nil {
				return nil, sigErr("the Response has more than one Signature")
			}
			l.respSig = s
		case l.assertion:
			if l.assertSig != nil {
				return nil, sigErr("the Assertion has more than one Signature")
			}
			l.assertSig = s
		default:
			return nil, sigErr("a Signature is neither a child of the Response nor of the Assertion")
		}
	}
	if l.respSig == nil && l.assertSig == nil {
		return nil, sigErr("neither the Response nor the Assertion is signed")
	}
	return &l, nil
}

// checkSignatureShape checks one enveloped ds:Signature before goxmldsig
// verifies it: exactly SignedInfo, SignatureValue and an optional KeyInfo;
// SignedInfo with one exclusive-c14n CanonicalizationMethod, an accepted
// SignatureMethod and exactly one Reference to its parent's ID; the Reference
// with exactly the transforms enveloped-signature then exclusive c14n
// (without comments) and an accepted DigestMethod.
func checkSignatureShape(sig *etree.Element, allowSHA1 bool) *Error {
	parent := sig.Parent()
	id, ok := attr(parent, "ID")
	if !ok || !idRe.MatchString(id) {
		return sigErr("the signed element has no valid ID")
	}
	var signedInfo, sigValue, keyInfo int
	var si *etree.Element
	for i, c := range sig.ChildElements() {
		switch {
		case is(c, nsDSig, "SignedInfo") && i == 0:
			signedInfo++
			si = c
		case is(c, nsDSig, "SignatureValue"):
			sigValue++
		case is(c, nsDSig, "KeyInfo"):
			keyInfo++
		default:
			return sigErr("the Signature has an unexpected child element (e.g. ds:Object)")
		}
	}
	if signedInfo != 1 || sigValue != 1 || keyInfo > 1 {
		return sigErr("the Signature must have one SignedInfo first, one SignatureValue and at most one KeyInfo")
	}
	var c14n, sm, refs int
	var ref *etree.Element
	for _, c := range si.ChildElements() {
		switch {
		case is(c, nsDSig, "CanonicalizationMethod"):
			c14n++
			if alg, _ := attr(c, "Algorithm"); alg != algExcC14N {
				return sigErr("the SignedInfo canonicalization is not exclusive c14n without comments")
			}
			for _, cc := range c.ChildElements() {
				if !is(cc, nsExcC14N, "InclusiveNamespaces") {
					return sigErr("the CanonicalizationMethod has an unexpected child element")
				}
			}
		case is(c, nsDSig, "SignatureMethod"):
			sm++
			alg, _ := attr(c, "Algorithm")
			if !strongSigs[alg] && !(allowSHA1 && sha1Sigs[alg]) {
				if sha1Sigs[alg] {
					return sigErr("the signature uses SHA-1 and the provider does not allow it")
				}
				return sigErr("the SignatureMethod is not an accepted algorithm")
			}
			if len(c.ChildElements()) != 0 {
				return sigErr("the SignatureMethod has child elements (HMAC output length?)")
			}
		case is(c, nsDSig, "Reference"):
			refs++
			ref = c
		default:
			return sigErr("the SignedInfo has an unexpected child element")
		}
	}
	if c14n != 1 || sm != 1 {
		return sigErr("the SignedInfo must have exactly one CanonicalizationMethod and one SignatureMethod")
	}
	if refs != 1 {
		return sigErr("the SignedInfo must have exactly one Reference")
	}
	if uri, ok := attr(ref, "URI"); !ok || uri != "#"+id {
		return sigErr("the Reference does not point at the ID of the Signature's parent element")
	}
	var transforms, dm, dv int
	for _, c := range ref.ChildElements() {
		switch {
		case is(c, nsDSig, "Transforms"):
			transforms++
			if err := checkTransforms(c); err != nil {
				return err
			}
		case is(c, nsDSig, "DigestMethod"):
			dm++
			alg, _ := attr(c, "Algorithm")
			if !strongDigests[alg] && !(allowSHA1 && sha1Digests[alg]) {
				if sha1Digests[alg] {
					return sigErr("the digest uses SHA-1 and the provider does not allow it")
				}
				return sigErr("the DigestMethod is not an accepted algorithm")
			}
		case is(c, nsDSig, "DigestValue"):
			dv++
		default:
			return sigErr("the Reference has an unexpected child element")
		}
	}
	if transforms != 1 || dm != 1 || dv != 1 {
		return sigErr("the Reference must have one Transforms, one DigestMethod and one DigestValue")
	}
	return nil
}

func checkTransforms(ts *etree.Element) *Error {
	kids := ts.ChildElements()
	if len(kids) != 2 {
		return sigErr("the Reference must have exactly the enveloped-signature and exclusive c14n transforms")
	}
	for i, want := range []string{algEnveloped, algExcC14N} {
		t := kids[i]
		if !is(t, nsDSig, "Transform") {
			return sigErr("the Transforms element has an unexpected child element")
		}
		if alg, _ := attr(t, "Algorithm"); alg != want {
			return sigErr("the Reference must have exactly the enveloped-signature and exclusive c14n transforms")
		}
		for _, c := range t.ChildElements() {
			if i == 0 || !is(c, nsExcC14N, "InclusiveNamespaces") {
				return sigErr("a Transform has an unexpected child element (XPath/XSLT?)")
			}
		}
	}
	return nil
}

// verifier checks enveloped signatures against the provider's certificates
// only (goxmldsig's MemoryX509CertificateStore holding provider.Certs; a
// certificate in KeyInfo is only used to pick one of those, never trusted by
// itself).
type verifier struct {
	ctx *dsig.ValidationContext
}

func newVerifier(certs []*x509.Certificate, now time.Time) *verifier {
	return &verifier{ctx: &dsig.ValidationContext{
		CertificateStore: &dsig.MemoryX509CertificateStore{Roots: certs},
		IdAttribute:      dsig.DefaultIdAttr,
		Clock:            dsig.NewFakeClockAt(now),
	}}
}

// verify validates el's enveloped signature and returns the element goxmldsig
// re-parsed from the exact canonical bytes that were digested. Everything the
// caller reads must come from that element, never from el.
func (v *verifier) verify(el *etree.Element) (*etree.Element, *Error) {
	nsCtx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, sigErr("namespace context of the signed element: " + libDetail(err))
	}
	detached, err := etreeutils.NSDetatch(nsCtx, el)
	if err != nil {
		return nil, sigErr("detach the signed element: " + libDetail(err))
	}
	if sig := childrenNS(detached, nsDSig, "Signature"); len(sig) == 1 {
		normalizeECDSA(sig[0])
	}
	out, err := v.ctx.Validate(detached)
	if err != nil {
		return nil, sigErr("signature verification failed: " + libDetail(err))
	}
	if out == nil {
		return nil, sigErr("signature verification returned no element")
	}
	return out, nil
}

// libKnown are goxmldsig/crypto error texts that contain no input; anything
// else is reported by kind only, because library messages may quote the
// document (algorithm URIs, namespace prefixes, XML syntax excerpts).
var libKnown = map[string]bool{
	"Signature could not be verified":                                true,
	"Missing reference":                                              true,
	"Missing SignedInfo":                                             true,
	"Cert is not valid at this time":                                 true,
	"Could not verify certificate against trusted certs":             true,
	"missing X509Certificate within KeyInfo":                         true,
	"Missing x509 Element":                                           true,
	"Failed to parse certificate":                                    true,
	"Could not decode signature":                                     true,
	"Could not obtain canonical signed info bytes":                   true,
	"Computed digest is less than 20 something went wrong":           true,
	"missing CanonicalizationMethod on Signature":                    true,
	"Error applying canonicalization transform: Signature not found": true,
	"traversal limit reached":                                        true,
	"disallowed declaration of reserved namespace":                   true,
	"invalid default namespace declaration":                          true,
}

func libDetail(err error) string {
	switch {
	case errors.Is(err, dsig.ErrMissingSignature):
		return "no signature references the element"
	case errors.Is(err, dsig.ErrInvalidSignature):
		return "malformed Signature element"
	case errors.Is(err, rsa.ErrVerification):
		return "RSA signature does not verify (wrong key or altered SignedInfo)"
	}
	msg := err.Error()
	if libKnown[msg] {
		if msg == "Cert is not valid at this time" {
			return "the provider's signing certificate is expired or not yet valid; " +
				"the operator must register the IdP's current metadata"
		}
		if msg == "Could not verify certificate against trusted certs" {
			return "the KeyInfo certificate is not one of the provider's signing certificates"
		}
		if msg == "Signature could not be verified" {
			return "digest mismatch: the signed content was altered"
		}
		return msg
	}
	var ue etreeutils.ErrUndeclaredNSPrefix
	if errors.As(err, &ue) {
		return "undeclared namespace prefix"
	}
	if strings.Contains(msg, "ECDSA verification failure") {
		return "ECDSA signature does not verify (wrong key or altered SignedInfo)"
	}
	if strings.HasPrefix(msg, "x509:") {
		return "certificate or signature check failed in crypto/x509"
	}
	return "verifier error"
}

// normalizeECDSA rewrites an ECDSA SignatureValue from the XML-DSig encoding
// (RFC 4050 / XMLDSig 1.1: the raw concatenation r||s) to the ASN.1 DER form
// that goxmldsig hands to crypto/x509. A value that already is DER (what
// goxmldsig itself produces) is left alone. sig must belong to a detached
// copy: SignatureValue is outside the digested content of its own enveloped
// signature, but inside that of any enclosing one.
func normalizeECDSA(sig *etree.Element) {
	si := childrenNS(sig, nsDSig, "SignedInfo")
	sv := childrenNS(sig, nsDSig, "SignatureValue")
	if len(si) != 1 || len(sv) != 1 {
		return
	}
	sm := childrenNS(si[0], nsDSig, "SignatureMethod")
	if len(sm) != 1 {
		return
	}
	if alg, _ := attr(sm[0], "Algorithm"); !strings.Contains(alg, "#ecdsa-") {
		return
	}
	txt, ok := text(sv[0])
	if !ok {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(txt), ""))
	if err != nil {
		return
	}
	var der struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(raw, &der); err == nil && len(rest) == 0 {
		return
	}
	switch len(raw) {
	case 64, 96, 132: // P-256, P-384, P-521
	default:
		return
	}
	half := len(raw) / 2
	der.R = new(big.Int).SetBytes(raw[:half])
	der.S = new(big.Int).SetBytes(raw[half:])
	out, err := asn1.Marshal(der)
	if err != nil {
		return
	}
	sv[0].SetText(base64.StdEncoding.EncodeToString(out))
}
