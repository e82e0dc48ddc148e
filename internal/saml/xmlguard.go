package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
	rtvalidator "github.com/mattermost/xml-roundtrip-validator"
)

// Structural limits applied before any XML tree is built. A real SAML
// response has well under a hundred elements nested about eight deep;
// goxmldsig's namespace traversal stops at 1000 elements anyway.
const (
	maxDepth            = 32
	maxElements         = 1000
	maxAttrsPerElement  = 32
	maxTotalAttrs       = 4000
	maxMetadataElements = 20000
	maxMetadataAttrs    = 80000
)

// guardLimits parameterises guardXML for responses and metadata.
type guardLimits struct {
	maxElements int
	maxAttrs    int
}

// guardXML is the pre-parse gate. It accepts only a single UTF-8 element tree
// (optionally preceded by an XML declaration) and rejects, with a fixed
// description that never quotes the input:
//   - invalid UTF-8, a byte-order mark, a non-UTF-8 encoding declaration;
//   - any directive (<!DOCTYPE, <!ENTITY, …) and any processing instruction
//     other than a leading XML declaration;
//   - non-whitespace text or a second element outside the root, and
//     truncated documents;
//   - nesting deeper than maxDepth, more elements than the limit, too many
//     attributes, duplicate attributes (same expanded name);
//   - anything that does not survive an encoding/xml round trip unchanged
//     (mattermost/xml-roundtrip-validator, the Dec 2020 Go XML advisories).
func guardXML(raw []byte, lim guardLimits) error {
	if !utf8.Valid(raw) {
		return errors.New("document is not valid UTF-8")
	}
	if bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		return errors.New("document starts with a byte-order mark")
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	// CharsetReader stays nil: any encoding other than UTF-8 is an error.
	//
	// RawToken keeps names as written, which the round-trip check needs; the
	// start/end matching and namespace scoping Token would do are done here.
	var (
		open                   []xml.Name
		scopes                 []map[string]string // per open element, nil if it declares nothing
		elements, attrs, roots int
		first                  = true
	)
	resolve := func(prefix string) (string, bool) {
		if prefix == "xml" {
			return "http://www.w3.org/XML/1998/namespace", true
		}
		for i := len(scopes) - 1; i >= 0; i-- {
			if uri, ok := scopes[i][prefix]; ok {
				return uri, uri != "" || prefix == ""
			}
		}
		return "", prefix == ""
	}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errors.New("document is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if !first || t.Target != "xml" {
				return errors.New("document contains a processing instruction")
			}
		case xml.Directive:
			return errors.New("document contains a DOCTYPE or other directive")
		case xml.CharData:
			if len(open) == 0 && len(bytes.TrimLeft(t, " \t\r\n")) != 0 {
				return errors.New("document has text outside the root element")
			}
		case xml.StartElement:
			if len(open) == 0 {
				roots++
				if roots > 1 {
					return errors.New("document has more than one root element")
				}
			}
			elements++
			switch {
			case len(open) >= maxDepth:
				return errors.New("document is nested too deeply")
			case elements > lim.maxElements:
				return errors.New("document has too many elements")
			case len(t.Attr) > maxAttrsPerElement:
				return errors.New("element has too many attributes")
			}
			attrs += len(t.Attr)
			if attrs > lim.maxAttrs {
				return errors.New("document has too many attributes")
			}
			if !ncName(t.Name.Local) || (t.Name.Space != "" && !ncName(t.Name.Space)) {
				return errors.New("element name is not a namespace-well-formed QName")
			}
			var scope map[string]string
			for _, a := range t.Attr {
				if !ncName(a.Name.Local) || (a.Name.Space != "" && !ncName(a.Name.Space)) {
					return errors.New("attribute name is not a namespace-well-formed QName")
				}
				switch {
				case a.Name.Space == "xmlns":
					if scope == nil {
						scope = map[string]string{}
					}
					scope[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if scope == nil {
						scope = map[string]string{}
					}
					scope[""] = a.Value
				}
			}
			open = append(open, t.Name)
			scopes = append(scopes, scope)
			if _, ok := resolve(t.Name.Space); !ok {
				return errors.New("element uses an undeclared namespace prefix")
			}
			// Attribute names must be unique as written and as expanded
			// names (two prefixes bound to one namespace).
			for i, a := range t.Attr {
				for _, b := range t.Attr[i+1:] {
					if b.Name == a.Name {
						return errors.New("element has a duplicate attribute")
					}
				}
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				ai, ok := expand(a.Name, resolve)
				if !ok {
					return errors.New("attribute uses an undeclared namespace prefix")
				}
				for _, b := range t.Attr[i+1:] {
					if b.Name.Space == "xmlns" || (b.Name.Space == "" && b.Name.Local == "xmlns") {
						continue
					}
					if bi, ok := expand(b.Name, resolve); ok && bi == ai {
						return errors.New("element has a duplicate attribute")
					}
				}
			}
		case xml.EndElement:
			if len(open) == 0 || open[len(open)-1] != t.Name {
				return errors.New("document is not well-formed XML")
			}
			open = open[:len(open)-1]
			scopes = scopes[:len(scopes)-1]
		}
		// Round-trip stability of every markup token (names, attributes,
		// comments), as mattermost/xml-roundtrip-validator checks. Character
		// data that the strict decoder accepted always round-trips, and an
		// end tag is the name of its start tag, checked above.
		switch tok.(type) {
		case xml.CharData, xml.EndElement:
		default:
			if err := rtvalidator.CheckToken(tok); err != nil {
				return errors.New("document does not survive an XML round trip (encoding/xml instability)")
			}
		}
		first = false
	}
	if roots != 1 || len(open) != 0 {
		return errors.New("document has no complete root element")
	}
	return nil
}

// expand returns the expanded name of an attribute: unprefixed attributes
// are in no namespace.
func expand(n xml.Name, resolve func(string) (string, bool)) (xml.Name, bool) {
	if n.Space == "" {
		return n, true
	}
	uri, ok := resolve(n.Space)
	return xml.Name{Space: uri, Local: n.Local}, ok
}

// ncName reports whether a local name (after encoding/xml split off one
// prefix) is non-empty and colon-free, i.e. the full name was a valid QName.
// encoding/xml passes names such as ":x" or "xmlns:" through unchanged.
func ncName(s string) bool {
	return s != "" && !strings.Contains(s, ":")
}

// parseTree builds the etree document after guardXML accepted raw.
func parseTree(raw []byte) (*etree.Document, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = maxDepth + 1
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, errors.New("document could not be parsed")
	}
	if doc.Root() == nil {
		return nil, errors.New("document has no root element")
	}
	return doc, nil
}
