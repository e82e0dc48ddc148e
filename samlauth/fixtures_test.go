package samlauth

import (
	"encoding/base64"
	"html"
	"strings"
)

// Attr is one SAML attribute of a test response.
type Attr struct {
	Name   string
	Values []string
}

// BuildResponse returns a base64 samlp:Response (unsigned: the client
// does not check signatures) with the attributes. prefix "" puts the
// assertion elements in a default namespace; otherwise they use that
// prefix (e.g. "saml2", Okta style; "saml", crewjam/ADFS style).
func BuildResponse(prefix string, attrs ...Attr) string {
	return base64.StdEncoding.EncodeToString([]byte(ResponseXML(prefix, attrs...)))
}

// ResponseXML is BuildResponse before base64.
func ResponseXML(prefix string, attrs ...Attr) string {
	p, decl := "", ` xmlns="urn:oasis:names:tc:SAML:2.0:assertion"`
	if prefix != "" {
		p, decl = prefix+":", ""
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`)
	if prefix != "" {
		b.WriteString(` xmlns:` + prefix + `="urn:oasis:names:tc:SAML:2.0:assertion"`)
	}
	b.WriteString(` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_r1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z">`)
	b.WriteString(`<` + p + `Issuer` + decl + `>https://idp.example.com/</` + p + `Issuer>`)
	b.WriteString(`<` + p + `Assertion` + decl + ` ID="_a1" Version="2.0"><` + p + `Subject><` + p + `NameID>alice</` + p + `NameID></` + p + `Subject>`)
	b.WriteString(`<` + p + `AttributeStatement>`)
	for _, a := range attrs {
		b.WriteString(`<` + p + `Attribute Name="` + html.EscapeString(a.Name) + `" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">`)
		for _, v := range a.Values {
			b.WriteString(`<` + p + `AttributeValue xsi:type="xs:string">` + html.EscapeString(v) + `</` + p + `AttributeValue>`)
		}
		b.WriteString(`</` + p + `Attribute>`)
	}
	b.WriteString(`</` + p + `AttributeStatement></` + p + `Assertion></samlp:Response>`)
	return b.String()
}

// Test ARNs.
const (
	TestRole1    = "arn:aws:iam::123456789012:role/RedshiftSSO"
	TestRole2    = "arn:aws:iam::123456789012:role/Admin"
	TestProvider = "arn:aws:iam::123456789012:saml-provider/DevIdP"
)
