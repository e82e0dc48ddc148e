package samltest

import (
	"testing"

	"github.com/beevik/etree"
)

// Evil values the wrapping mutations write into the attacker's copy.
const (
	EvilNameID      = "admin@evil.example"
	EvilSessionName = "admin"
)

// Find returns the first element {ns}local in el's subtree (el included),
// depth first, or nil.
func Find(el *etree.Element, ns, local string) *etree.Element {
	if el.Tag == local && el.NamespaceURI() == ns {
		return el
	}
	for _, c := range el.ChildElements() {
		if f := Find(c, ns, local); f != nil {
			return f
		}
	}
	return nil
}

// FindAll returns every element {ns}local in el's subtree, depth first.
func FindAll(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	if el.Tag == local && el.NamespaceURI() == ns {
		out = append(out, el)
	}
	for _, c := range el.ChildElements() {
		out = append(out, FindAll(c, ns, local)...)
	}
	return out
}

// Child returns el's first child element {ns}local, or nil.
func Child(el *etree.Element, ns, local string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

// AssertionOf returns the document's first saml:Assertion.
func AssertionOf(t testing.TB, doc *etree.Document) *etree.Element {
	t.Helper()
	a := Find(doc.Root(), NSAssertion, "Assertion")
	if a == nil {
		t.Fatal("samltest: document has no Assertion")
	}
	return a
}

// SignatureOf returns el's direct ds:Signature child, or nil.
func SignatureOf(el *etree.Element) *etree.Element { return Child(el, NSDSig, "Signature") }

// RemoveSignature removes el's direct ds:Signature child and returns it.
func RemoveSignature(el *etree.Element) *etree.Element {
	s := SignatureOf(el)
	if s != nil {
		el.RemoveChild(s)
	}
	return s
}

// NameIDOf returns the assertion's Subject/NameID element.
func NameIDOf(t testing.TB, assertion *etree.Element) *etree.Element {
	t.Helper()
	n := Find(assertion, NSAssertion, "NameID")
	if n == nil {
		t.Fatal("samltest: assertion has no NameID")
	}
	return n
}

// AttributeValues returns the AttributeValue elements of the attribute named
// name in assertion.
func AttributeValues(assertion *etree.Element, name string) []*etree.Element {
	for _, at := range FindAll(assertion, NSAssertion, "Attribute") {
		if at.SelectAttrValue("Name", "") == name {
			return FindAll(at, NSAssertion, "AttributeValue")
		}
	}
	return nil
}

// MakeEvil rewrites an assertion copy the way an attacker would: new ID (if
// newID), NameID EvilNameID and RoleSessionName EvilSessionName.
func MakeEvil(t testing.TB, assertion *etree.Element, newID bool) {
	t.Helper()
	if newID {
		assertion.CreateAttr("ID", RandomID())
	}
	NameIDOf(t, assertion).SetText(EvilNameID)
	for _, v := range AttributeValues(assertion, AttrRoleSessionName) {
		v.SetText(EvilSessionName)
	}
}

// InjectComment splits el's text at byte offset at with an empty comment
// (CVE-2017-11427 class). The signature stays valid: exclusive c14n without
// comments drops it.
func InjectComment(t testing.TB, el *etree.Element, at int) {
	t.Helper()
	s := el.Text()
	if at < 0 || at > len(s) {
		t.Fatalf("samltest: comment offset %d outside text of length %d", at, len(s))
	}
	el.SetText(s[:at])
	el.CreateComment("")
	el.CreateText(s[at:])
}

// XSW applies signature-wrapping variant n (numbering of SAML Raider's
// XSWHelpers, Somorovsky et al.) to doc, which must be signed as the variant
// needs: 1 and 2 a signed Response; 3–8 a signed Assertion; 10 a signed
// Assertion (any Response signature is removed first). In every variant the
// attacker's content is EvilNameID / EvilSessionName.
func XSW(t testing.TB, doc *etree.Document, n int) {
	t.Helper()
	resp := doc.Root()
	switch n {
	case 1, 2:
		// Evil unsigned Response becomes the root; the original signed
		// Response (without its signature) is moved inside the Signature (1)
		// or before it as a sibling (2).
		sig := SignatureOf(resp)
		if sig == nil {
			t.Fatal("samltest: XSW1/2 need a signed Response")
		}
		orig := resp.Copy()
		RemoveSignature(orig)
		resp.RemoveChild(sig)
		resp.CreateAttr("ID", RandomID())
		MakeEvil(t, AssertionOf(t, doc), false)
		if n == 1 {
			sig.AddChild(orig)
			InsertAfterIssuer(resp, sig)
		} else {
			InsertAfterIssuer(resp, sig)
			InsertAfterIssuer(resp, orig)
		}
	case 3, 4, 5, 6, 7, 8:
		a := AssertionOf(t, doc)
		if SignatureOf(a) == nil {
			t.Fatalf("samltest: XSW%d needs a signed Assertion", n)
		}
		switch n {
		case 3: // unsigned evil Assertion inserted before the signed one
			evil := a.Copy()
			RemoveSignature(evil)
			MakeEvil(t, evil, true)
			resp.InsertChildAt(a.Index(), evil)
		case 4: // evil Assertion wraps the original signed Assertion
			evil := a.Copy()
			RemoveSignature(evil)
			MakeEvil(t, evil, true)
			idx := a.Index()
			resp.RemoveChild(a)
			evil.AddChild(a)
			resp.InsertChildAt(idx, evil)
		case 5: // signature kept on the modified Assertion; unsigned original copy appended
			orig := a.Copy()
			RemoveSignature(orig)
			MakeEvil(t, a, false)
			resp.AddChild(orig)
		case 6: // original copy nested inside the evil Assertion's Signature
			orig := a.Copy()
			RemoveSignature(orig)
			MakeEvil(t, a, false)
			SignatureOf(a).AddChild(orig)
		case 7: // evil Assertion inside samlp:Extensions
			evil := a.Copy()
			RemoveSignature(evil)
			MakeEvil(t, evil, false)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(evil)
			InsertAfterIssuer(resp, ext)
		case 8: // original copy inside a ds:Object of the evil Assertion's Signature
			orig := a.Copy()
			RemoveSignature(orig)
			MakeEvil(t, a, false)
			obj := SignatureOf(a).CreateElement("ds:Object")
			obj.AddChild(orig)
		}
	case 10:
		// Response signature removed; the assertion signature re-hosted on
		// the Response with the original assertion in a ds:Object; the
		// visible assertion gets a new ID and evil content.
		RemoveSignature(resp)
		a := AssertionOf(t, doc)
		sig := RemoveSignature(a)
		if sig == nil {
			t.Fatal("samltest: XSW10 needs a signed Assertion")
		}
		orig := a.Copy()
		sig.CreateElement("ds:Object").AddChild(orig)
		InsertAfterIssuer(resp, sig)
		MakeEvil(t, a, true)
	default:
		t.Fatalf("samltest: no XSW variant %d", n)
	}
}

// DuplicateAssertion applies the CVE-2022-41912 shape: a copy of the signed
// assertion with its signature stripped and evil content is appended after
// the original (same ID when sameID, else a new one).
func DuplicateAssertion(t testing.TB, doc *etree.Document, sameID bool) {
	t.Helper()
	a := AssertionOf(t, doc)
	evil := a.Copy()
	RemoveSignature(evil)
	MakeEvil(t, evil, !sameID)
	doc.Root().AddChild(evil)
}
