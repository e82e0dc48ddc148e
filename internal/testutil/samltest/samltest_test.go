package samltest

import (
	"crypto/x509"
	"strings"
	"testing"

	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// TestSignatureVerifiesWithGoxmldsig checks the signer against goxmldsig
// directly, for both signature placements and both ECDSA encodings' source.
func TestSignatureVerifiesWithGoxmldsig(t *testing.T) {
	for _, idp := range []*IdP{New(t, "https://idp.example/"), New(t, "https://ec.example/", WithECDSA(0))} {
		doc := idp.SignedDocument(t, ResponseOptions{SignResponse: true, SignAssertion: true, Sign: SignOptions{ECDSAASN1: true}})
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{idp.Cert}})
		if _, err := ctx.Validate(doc.Root()); err != nil {
			t.Fatalf("Response signature: %v", err)
		}
		a := AssertionOf(t, doc)
		nsCtx, _ := etreeutils.NSBuildParentContext(a)
		det, err := etreeutils.NSDetatch(nsCtx, a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ctx.Validate(det); err != nil {
			t.Fatalf("Assertion signature: %v", err)
		}
	}
}

func TestMutations(t *testing.T) {
	idp := New(t, "https://idp.example/")
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 10} {
		o := ResponseOptions{}
		if n <= 2 || n == 10 {
			o.SignResponse, o.SignAssertion = true, n == 10
		}
		doc := idp.SignedDocument(t, o)
		XSW(t, doc, n)
		root := Parse(t, XML(t, doc)).Root()
		evil := false
		for _, nid := range FindAll(root, NSAssertion, "NameID") {
			evil = evil || nid.Text() == EvilNameID
		}
		if !evil {
			t.Errorf("XSW%d: no evil NameID in the result", n)
		}
	}
	doc := idp.SignedDocument(t, ResponseOptions{NameID: "abcdef"})
	InjectComment(t, NameIDOf(t, AssertionOf(t, doc)), 3)
	if got := string(XML(t, doc)); !strings.Contains(got, ">abc<!---->def<") {
		t.Errorf("comment not injected: %s", got)
	}
}
