package saml

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// MaxMetadataBytes caps the metadata document ParseMetadata accepts.
const MaxMetadataBytes = 1 << 20

// Provider is a registered IAM SAML provider, parsed from its metadata XML.
type Provider struct {
	ARN      string // arn:aws:iam::<acct>:saml-provider/<Name>
	Name     string
	EntityID string // IdP entityID from the metadata
	// Certs are the IdP's signing certificates (KeyDescriptor use="signing"
	// or without use). Responses are verified against these only.
	Certs []*x509.Certificate
	// ValidUntil is the metadata validUntil (the earliest on the
	// EntityDescriptor and its enclosing EntitiesDescriptors), zero if absent.
	ValidUntil time.Time
	// AllowSHA1 opts this provider in to RSA-SHA1/ECDSA-SHA1 signatures and
	// SHA-1 digests. Default refused.
	AllowSHA1 bool
}

func metaErr(detail string) *Error { return newErr(CodeInvalidInput, msgMetadata, detail) }

// ParseMetadata parses IdP metadata: an EntityDescriptor, or an
// EntitiesDescriptor holding exactly one EntityDescriptor with an
// IDPSSODescriptor. It is strict: at most MaxMetadataBytes, the same XML gate
// as responses (no DOCTYPE, single root, round-trip stable), one
// IDPSSODescriptor supporting the SAML 2.0 protocol, at least one signing
// certificate, and every signing certificate must parse. The metadata's own
// signature, if any, is not verified: the administrator who registers the
// provider is the trust anchor (as in IAM). The result has no ARN or Name; the
// caller fills them. Errors are *Error with code InvalidInput.
func ParseMetadata(xml []byte) (*Provider, error) {
	p, err := parseMetadata(xml)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func parseMetadata(raw []byte) (*Provider, *Error) {
	if len(raw) > MaxMetadataBytes {
		return nil, metaErr("metadata is larger than 1 MiB")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, metaErr("metadata is empty")
	}
	if err := guardXML(raw, guardLimits{maxElements: maxMetadataElements, maxAttrs: maxMetadataAttrs}); err != nil {
		return nil, metaErr(err.Error())
	}
	doc, err := parseTree(raw)
	if err != nil {
		return nil, metaErr(err.Error())
	}
	root := doc.Root()

	var entity *etree.Element
	switch {
	case is(root, nsMetadata, "EntityDescriptor"):
		entity = root
	case is(root, nsMetadata, "EntitiesDescriptor"):
		var idps []*etree.Element
		_ = walk(root, func(el *etree.Element) error {
			if is(el, nsMetadata, "EntityDescriptor") && len(childrenNS(el, nsMetadata, "IDPSSODescriptor")) > 0 {
				idps = append(idps, el)
			}
			return nil
		})
		if len(idps) != 1 {
			return nil, metaErr("the EntitiesDescriptor must contain exactly one identity provider")
		}
		entity = idps[0]
	default:
		return nil, metaErr("the root element is neither md:EntityDescriptor nor md:EntitiesDescriptor")
	}

	entityID, _ := attr(entity, "entityID")
	entityID = strings.TrimSpace(entityID)
	if entityID == "" || len(entityID) > 1024 {
		return nil, metaErr("the EntityDescriptor has no usable entityID")
	}

	var idp *etree.Element
	for _, d := range childrenNS(entity, nsMetadata, "IDPSSODescriptor") {
		pse, _ := attr(d, "protocolSupportEnumeration")
		if !containsField(pse, nsProtocol) {
			continue
		}
		if idp != nil {
			return nil, metaErr("the entity has more than one SAML 2.0 IDPSSODescriptor")
		}
		idp = d
	}
	if idp == nil {
		return nil, metaErr("the entity has no IDPSSODescriptor supporting urn:oasis:names:tc:SAML:2.0:protocol")
	}

	p := &Provider{EntityID: entityID}
	seen := map[string]bool{}
	for _, kd := range childrenNS(idp, nsMetadata, "KeyDescriptor") {
		if use, ok := attr(kd, "use"); ok && use != "signing" {
			continue
		}
		for _, ki := range childrenNS(kd, nsDSig, "KeyInfo") {
			for _, xd := range childrenNS(ki, nsDSig, "X509Data") {
				for _, xc := range childrenNS(xd, nsDSig, "X509Certificate") {
					s, ok := text(xc)
					if !ok {
						return nil, metaErr("an X509Certificate is not plain text")
					}
					der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
					if err != nil {
						return nil, metaErr("an X509Certificate is not base64")
					}
					cert, err := x509.ParseCertificate(der)
					if err != nil {
						return nil, metaErr("an X509Certificate does not parse as DER X.509")
					}
					if !seen[string(cert.Raw)] {
						seen[string(cert.Raw)] = true
						p.Certs = append(p.Certs, cert)
					}
				}
			}
		}
	}
	if len(p.Certs) == 0 {
		return nil, metaErr("the IDPSSODescriptor has no signing certificate")
	}

	for el := entity; el != nil; el = el.Parent() {
		if el.Parent() == nil { // the etree Document node
			break
		}
		vu, ok := attr(el, "validUntil")
		if !ok {
			continue
		}
		t, ok := parseTime(strings.TrimSpace(vu))
		if !ok {
			return nil, metaErr("validUntil is not a dateTime")
		}
		if p.ValidUntil.IsZero() || t.Before(p.ValidUntil) {
			p.ValidUntil = t
		}
	}
	return p, nil
}

// containsField reports whether the space-separated list s contains want.
func containsField(s, want string) bool {
	for _, f := range strings.Fields(s) {
		if f == want {
			return true
		}
	}
	return false
}
