package samltest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Well-known values the fixtures use by default.
const (
	AccountID          = "123456789012"
	ProviderName       = "TestIdP"
	DefaultProviderARN = "arn:aws:iam::" + AccountID + ":saml-provider/" + ProviderName
	DefaultRoleARN     = "arn:aws:iam::" + AccountID + ":role/RedshiftSSO"
	DefaultRecipient   = "https://signin.aws.amazon.com/saml"
	DefaultAudience    = "urn:amazon:webservices"
	DefaultNameID      = "alice@example.com"
	DefaultSessionName = "alice@example.com"
)

// Namespaces and algorithm URIs.
const (
	NSProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSDSig      = "http://www.w3.org/2000/09/xmldsig#"

	AlgExcC14N             = "http://www.w3.org/2001/10/xml-exc-c14n#"
	AlgExcC14NWithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
	AlgC14N11              = "http://www.w3.org/2006/12/xml-c14n11"
	AlgEnveloped           = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	AlgXPath               = "http://www.w3.org/TR/1999/REC-xpath-19991116"
	AlgXSLT                = "http://www.w3.org/TR/1999/REC-xslt-19991116"
	DigestSHA1             = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA256           = "http://www.w3.org/2001/04/xmlenc#sha256"
	SigRSASHA1             = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	SigRSASHA256           = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	SigECDSASHA256         = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	SigHMACSHA1            = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	SigDSASHA1             = "http://www.w3.org/2000/09/xmldsig#dsa-sha1"

	StatusSuccess   = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder = "urn:oasis:names:tc:SAML:2.0:status:Responder"

	NameIDPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDTransient  = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDEmail      = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	MethodBearer     = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	MethodHolderKey  = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"

	AttrRole            = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
)

// Key cache, per test binary.
var (
	keyMu   sync.Mutex
	rsaKeys = map[int]*rsa.PrivateKey{}
	ecKeys  = map[int]*ecdsa.PrivateKey{}
)

// RSAKey returns the n-th cached throwaway RSA-2048 key, generating it on
// first use.
func RSAKey(t testing.TB, n int) *rsa.PrivateKey {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := rsaKeys[n]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("samltest: generate RSA key: %v", err)
	}
	rsaKeys[n] = k
	return k
}

// ECKey returns the n-th cached throwaway ECDSA P-256 key.
func ECKey(t testing.TB, n int) *ecdsa.PrivateKey {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := ecKeys[n]; ok {
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("samltest: generate EC key: %v", err)
	}
	ecKeys[n] = k
	return k
}

// SelfSignedCert makes a self-signed certificate for key valid in
// [notBefore, notAfter].
func SelfSignedCert(t testing.TB, key crypto.Signer, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("samltest: create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Long validity window used by default, so that fixed test clocks never fall
// outside the certificate's lifetime.
var (
	certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
)

// IdP is a test identity provider.
type IdP struct {
	EntityID    string
	Key         *rsa.PrivateKey
	Cert        *x509.Certificate
	ProviderARN string // the IAM SAML provider ARN the fixtures name in Role values
	// Signer is what signs; Key by default (set it to an ECDSA key for ECDSA
	// fixtures, with Cert matching).
	Signer crypto.Signer
}

// Option configures New.
type Option func(*options)

type options struct {
	keyIndex            int
	ecdsa               bool
	notBefore, notAfter time.Time
}

// WithKeyIndex uses cached RSA key n instead of key 0 (a different key per
// index: another provider, an attacker).
func WithKeyIndex(n int) Option { return func(o *options) { o.keyIndex = n } }

// WithCertValidity sets the signing certificate's validity window.
func WithCertValidity(notBefore, notAfter time.Time) Option {
	return func(o *options) { o.notBefore, o.notAfter = notBefore, notAfter }
}

// WithECDSA signs with cached ECDSA P-256 key n (ecdsa-sha256); Key is nil.
func WithECDSA(n int) Option {
	return func(o *options) { o.ecdsa, o.keyIndex = true, n }
}

// New returns a test IdP with entity ID entityID, signing with cached RSA key
// 0 (see the options) and a fresh self-signed certificate valid 2000–2099.
func New(t testing.TB, entityID string, opts ...Option) *IdP {
	t.Helper()
	o := options{notBefore: certNotBefore, notAfter: certNotAfter}
	for _, f := range opts {
		f(&o)
	}
	i := &IdP{EntityID: entityID, ProviderARN: DefaultProviderARN}
	if o.ecdsa {
		i.Signer = ECKey(t, o.keyIndex)
	} else {
		i.Key = RSAKey(t, o.keyIndex)
		i.Signer = i.Key
	}
	i.Cert = SelfSignedCert(t, i.Signer, entityID, o.notBefore, o.notAfter)
	return i
}

// Metadata returns SAML 2.0 IdP metadata with the signing certificate.
func (i *IdP) Metadata() []byte {
	return MetadataFor(i.EntityID, i.Cert)
}

// MetadataFor returns IdP metadata for entityID listing certs as signing
// keys.
func MetadataFor(entityID string, certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<md:EntityDescriptor xmlns:md="%s" xmlns:ds="%s" entityID="%s">`, NSMetadata, NSDSig, xmlEscape(entityID))
	fmt.Fprintf(&b, `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="%s">`, NSProtocol)
	for _, c := range certs {
		fmt.Fprintf(&b, `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
			base64.StdEncoding.EncodeToString(c.Raw))
	}
	b.WriteString(`<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>`)
	fmt.Fprintf(&b, `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s/sso"/>`, xmlEscape(entityID))
	b.WriteString(`</md:IDPSSODescriptor></md:EntityDescriptor>`)
	return b.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xmlEscapeTo(&b, s)
	return b.String()
}

func xmlEscapeTo(b *strings.Builder, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	_, err := r.WriteString(b, s)
	return err
}

// ResponseOptions describe a response. Zero values take the defaults noted.
type ResponseOptions struct {
	Now           time.Time     // IssueInstant and NotBefore; time.Now() if zero
	NotOnOrAfter  time.Duration // validity after Now for SubjectConfirmationData and Conditions; 5 min if zero
	ID            string        // Assertion ID; random if empty
	ResponseID    string        // Response ID; random if empty
	Issuer        string        // Response and Assertion Issuer; the IdP's EntityID if empty
	Destination   string        // Response Destination; Recipient if empty
	NoDestination bool          // omit Response/@Destination
	Recipient     string        // SubjectConfirmationData/@Recipient; DefaultRecipient if empty
	Audience      string        // Audience; DefaultAudience if empty
	NameID        string        // DefaultNameID if empty
	NameIDFormat  string        // NameIDPersistent if empty
	InResponseTo  string        // SubjectConfirmationData/@InResponseTo and Response/@InResponseTo if set
	Status        string        // StatusCode Value; StatusSuccess if empty

	RoleSessionName     string // DefaultSessionName if empty (see OmitRoleSessionName)
	OmitRoleSessionName bool
	Roles               []string // Role values "roleArn,providerArn"; DefaultRoleARN + "," + the IdP's ProviderARN if nil
	SessionDuration     int      // 0 omits the attribute
	SessionNotOnOrAfter time.Time
	Attributes          map[string][]string // extra attributes, written sorted by name

	// Signing. If neither SignResponse nor SignAssertion is set and Unsigned
	// is false, the assertion is signed.
	SignResponse  bool
	SignAssertion bool
	Unsigned      bool
	Sign          SignOptions // algorithms/keys for every signature made
}

func (o *ResponseOptions) fill(i *IdP) {
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(time.Second)
	}
	if o.NotOnOrAfter == 0 {
		o.NotOnOrAfter = 5 * time.Minute
	}
	if o.ID == "" {
		o.ID = RandomID()
	}
	if o.ResponseID == "" {
		o.ResponseID = RandomID()
	}
	if o.Issuer == "" {
		o.Issuer = i.EntityID
	}
	if o.Recipient == "" {
		o.Recipient = DefaultRecipient
	}
	if o.Destination == "" {
		o.Destination = o.Recipient
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.NameID == "" {
		o.NameID = DefaultNameID
	}
	if o.NameIDFormat == "" {
		o.NameIDFormat = NameIDPersistent
	}
	if o.Status == "" {
		o.Status = StatusSuccess
	}
	if o.RoleSessionName == "" {
		o.RoleSessionName = DefaultSessionName
	}
	if o.Roles == nil {
		o.Roles = []string{DefaultRoleARN + "," + i.ProviderARN}
	}
	if !o.SignResponse && !o.SignAssertion && !o.Unsigned {
		o.SignAssertion = true
	}
}

// RandomID returns a fresh xs:ID value.
func RandomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "_" + hex.EncodeToString(b[:])
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Assertion builds an unsigned saml:Assertion element (with its own namespace
// declarations, ready to be signed standalone).
func (i *IdP) Assertion(o ResponseOptions) *etree.Element {
	o.fill(i)
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", NSAssertion)
	a.CreateAttr("xmlns:xs", "http://www.w3.org/2001/XMLSchema")
	a.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
	a.CreateAttr("ID", o.ID)
	a.CreateAttr("IssueInstant", ts(o.Now))
	a.CreateAttr("Version", "2.0")
	a.CreateElement("saml:Issuer").SetText(o.Issuer)

	sub := a.CreateElement("saml:Subject")
	nid := sub.CreateElement("saml:NameID")
	nid.CreateAttr("Format", o.NameIDFormat)
	nid.SetText(o.NameID)
	sc := sub.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", MethodBearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if o.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", o.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", ts(o.Now.Add(o.NotOnOrAfter)))
	scd.CreateAttr("Recipient", o.Recipient)

	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", ts(o.Now))
	cond.CreateAttr("NotOnOrAfter", ts(o.Now.Add(o.NotOnOrAfter)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(o.Audience)

	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", ts(o.Now))
	as.CreateAttr("SessionIndex", o.ID)
	if !o.SessionNotOnOrAfter.IsZero() {
		as.CreateAttr("SessionNotOnOrAfter", ts(o.SessionNotOnOrAfter))
	}
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").
		SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")

	st := a.CreateElement("saml:AttributeStatement")
	addAttr := func(name string, vals ...string) {
		at := st.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		at.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
		for _, v := range vals {
			av := at.CreateElement("saml:AttributeValue")
			av.CreateAttr("xsi:type", "xs:string")
			av.SetText(v)
		}
	}
	if len(o.Roles) > 0 {
		addAttr(AttrRole, o.Roles...)
	}
	if !o.OmitRoleSessionName {
		addAttr(AttrRoleSessionName, o.RoleSessionName)
	}
	if o.SessionDuration != 0 {
		addAttr(AttrSessionDuration, fmt.Sprint(o.SessionDuration))
	}
	names := make([]string, 0, len(o.Attributes))
	for n := range o.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		addAttr(n, o.Attributes[n]...)
	}
	if len(st.ChildElements()) == 0 {
		a.RemoveChild(st)
	}
	return a
}

// SignedDocument builds the response described by o, signed as requested,
// for tests to mutate and then Encode.
func (i *IdP) SignedDocument(t testing.TB, o ResponseOptions) *etree.Document {
	t.Helper()
	o.fill(i)
	a := i.Assertion(o)
	if o.SignAssertion {
		i.Sign(t, a, o.Sign)
	}
	r := etree.NewElement("samlp:Response")
	r.CreateAttr("xmlns:samlp", NSProtocol)
	r.CreateAttr("xmlns:saml", NSAssertion)
	if !o.NoDestination {
		r.CreateAttr("Destination", o.Destination)
	}
	r.CreateAttr("ID", o.ResponseID)
	if o.InResponseTo != "" {
		r.CreateAttr("InResponseTo", o.InResponseTo)
	}
	r.CreateAttr("IssueInstant", ts(o.Now))
	r.CreateAttr("Version", "2.0")
	r.CreateElement("saml:Issuer").SetText(o.Issuer)
	r.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", o.Status)
	r.AddChild(a)
	if o.SignResponse {
		i.Sign(t, r, o.Sign)
	}
	doc := etree.NewDocument()
	doc.SetRoot(r)
	return doc
}

// Response returns the base64 SAMLResponse for o.
func (i *IdP) Response(t testing.TB, o ResponseOptions) string {
	t.Helper()
	return Encode(t, i.SignedDocument(t, o))
}

// Encode serialises doc and base64-encodes it like the HTTP-POST binding.
func Encode(t testing.TB, doc *etree.Document) string {
	t.Helper()
	return base64.StdEncoding.EncodeToString(XML(t, doc))
}

// XML serialises doc.
func XML(t testing.TB, doc *etree.Document) []byte {
	t.Helper()
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatalf("samltest: serialise: %v", err)
	}
	return b
}

// EncodeXML base64-encodes raw XML text (for hand-written documents).
func EncodeXML(xml string) string { return base64.StdEncoding.EncodeToString([]byte(xml)) }

// Parse parses XML text into a document (for tests editing serialised XML).
func Parse(t testing.TB, b []byte) *etree.Document {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatalf("samltest: parse: %v", err)
	}
	return doc
}

// SignOptions control one signature. Zero values take the defaults noted.
type SignOptions struct {
	Signer          crypto.Signer     // the IdP's Signer if nil
	Cert            *x509.Certificate // KeyInfo certificate; the IdP's Cert if nil
	OmitKeyInfo     bool
	SignatureMethod string // RSA-SHA256 (ECDSA-SHA256 for an ECDSA signer) if empty
	DigestMethod    string // SHA-256 if empty
	// ReferenceURI overrides "#<ID of the signed element>"; set
	// EmptyReferenceURI for URI="".
	ReferenceURI      string
	EmptyReferenceURI bool
	// Transforms overrides [enveloped-signature, exc-c14n] (written as given;
	// the digest is still computed with exclusive c14n).
	Transforms []string
	// CanonicalizationMethod overrides exc-c14n for SignedInfo (written as
	// given; SignedInfo is still canonicalized with exclusive c14n).
	CanonicalizationMethod string
	// ExtraReferences adds further Reference elements (URI values).
	ExtraReferences []string
	// ECDSAASN1 writes an ECDSA SignatureValue as ASN.1 DER (goxmldsig's
	// own convention) instead of the XML-DSig r||s concatenation.
	ECDSAASN1 bool
}

var hashByDigest = map[string]crypto.Hash{
	DigestSHA1:   crypto.SHA1,
	DigestSHA256: crypto.SHA256,
	"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
}

var hashBySig = map[string]crypto.Hash{
	SigRSASHA1:     crypto.SHA1,
	SigRSASHA256:   crypto.SHA256,
	SigECDSASHA256: crypto.SHA256,
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1":   crypto.SHA1,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384":   crypto.SHA384,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":   crypto.SHA512,
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": crypto.SHA512,
	SigHMACSHA1: crypto.SHA1,
	SigDSASHA1:  crypto.SHA1,
}

// Sign adds an enveloped ds:Signature over el (placed right after el's
// Issuer child, as the SAML schema requires). el must not already carry a
// signature. The digest is over el's exclusive canonical form in its current
// namespace context, so el may be signed standalone and embedded later.
func (i *IdP) Sign(t testing.TB, el *etree.Element, o SignOptions) *etree.Element {
	t.Helper()
	signer := o.Signer
	if signer == nil {
		signer = i.Signer
	}
	cert := o.Cert
	if cert == nil {
		cert = i.Cert
	}
	sm := o.SignatureMethod
	if sm == "" {
		sm = SigRSASHA256
		if _, ok := signer.Public().(*ecdsa.PublicKey); ok {
			sm = SigECDSASHA256
		}
	}
	dm := o.DigestMethod
	if dm == "" {
		dm = DigestSHA256
	}
	dh, ok := hashByDigest[dm]
	if !ok {
		t.Fatalf("samltest: unknown digest method %s", dm)
	}
	sh, ok := hashBySig[sm]
	if !ok {
		t.Fatalf("samltest: unknown signature method %s", sm)
	}

	// Digest of el under exclusive c14n.
	canon := canonical(t, el)
	h := dh.New()
	h.Write(canon)
	digest := h.Sum(nil)

	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", NSDSig)
	si := sig.CreateElement("ds:SignedInfo")
	cm := o.CanonicalizationMethod
	if cm == "" {
		cm = AlgExcC14N
	}
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", cm)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", sm)
	uri := o.ReferenceURI
	if uri == "" && !o.EmptyReferenceURI {
		uri = "#" + el.SelectAttrValue("ID", "")
	}
	addRef := func(uri string) {
		ref := si.CreateElement("ds:Reference")
		ref.CreateAttr("URI", uri)
		trs := ref.CreateElement("ds:Transforms")
		transforms := o.Transforms
		if transforms == nil {
			transforms = []string{AlgEnveloped, AlgExcC14N}
		}
		for _, tr := range transforms {
			trs.CreateElement("ds:Transform").CreateAttr("Algorithm", tr)
		}
		ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", dm)
		ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(digest))
	}
	addRef(uri)
	for _, u := range o.ExtraReferences {
		addRef(u)
	}

	// Signature over SignedInfo's exclusive canonical form.
	sih := sh.New()
	sih.Write(canonical(t, si))
	var sv []byte
	var err error
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		sv, err = rsa.SignPKCS1v15(rand.Reader, k, sh, sih.Sum(nil))
	case *ecdsa.PrivateKey:
		sv, err = ecdsa.SignASN1(rand.Reader, k, sih.Sum(nil))
		if err == nil && !o.ECDSAASN1 {
			sv = ecdsaRaw(t, k, sv)
		}
	default:
		sv, err = signer.Sign(rand.Reader, sih.Sum(nil), sh)
	}
	if err != nil {
		t.Fatalf("samltest: sign: %v", err)
	}
	sig.CreateElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(sv))
	if !o.OmitKeyInfo {
		sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(cert.Raw))
	}
	InsertAfterIssuer(el, sig)
	return sig
}

// canonical returns el's exclusive canonical form (without comments) in its
// current namespace context; el is not modified.
func canonical(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		t.Fatalf("samltest: namespace context: %v", err)
	}
	det, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		t.Fatalf("samltest: detach: %v", err)
	}
	b, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(det)
	if err != nil {
		t.Fatalf("samltest: canonicalize: %v", err)
	}
	return b
}

// InsertAfterIssuer inserts child into el right after el's Issuer child (or
// first if el has none).
func InsertAfterIssuer(el *etree.Element, child *etree.Element) {
	idx := 0
	for j, c := range el.Child {
		if e, ok := c.(*etree.Element); ok && e.Tag == "Issuer" {
			idx = j + 1
			break
		}
	}
	el.InsertChildAt(idx, child)
}

// ecdsaRaw converts an ASN.1 ECDSA signature to XML-DSig's fixed-width r||s.
func ecdsaRaw(t testing.TB, k *ecdsa.PrivateKey, der []byte) []byte {
	t.Helper()
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		t.Fatalf("samltest: ECDSA signature: %v", err)
	}
	n := (k.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*n)
	sig.R.FillBytes(out[:n])
	sig.S.FillBytes(out[n:])
	return out
}
