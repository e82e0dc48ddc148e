package saml

import (
	"crypto/sha1"
	"encoding/base64"
	"maps"
	"slices"
)

// NameQualifier computes AWS's NameQualifier (AssumeRoleWithSAML response
// and the saml:namequalifier condition key):
// base64(SHA1(issuer + accountID + "/" + providerName)). SHA-1 here is an
// identifier hash fixed by AWS, not a security boundary.
func NameQualifier(issuer, accountID, providerName string) string {
	sum := sha1.Sum([]byte(issuer + accountID + "/" + providerName))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// attributeKeys maps SAML attribute Names to the saml: condition keys AWS
// derives from them (IAM User Guide, "Available keys for SAML-based AWS STS
// federation"): the eduPerson/eduOrg and X.500/LDAP OIDs in urn:oid: form,
// plus the Microsoft/AD FS claim URIs IdPs commonly send for the same data.
var attributeKeys = map[string][]string{
	// eduPerson (urn:oid:1.3.6.1.4.1.5923.1.1.1.*)
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.1":  {"saml:edupersonaffiliation"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.2":  {"saml:edupersonnickname"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.3":  {"saml:edupersonorgdn"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.4":  {"saml:edupersonorgunitdn"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.5":  {"saml:edupersonprimaryaffiliation"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.6":  {"saml:edupersonprincipalname"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.7":  {"saml:edupersonentitlement"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.8":  {"saml:edupersonprimaryorgunitdn"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.9":  {"saml:edupersonscopedaffiliation"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.10": {"saml:edupersontargetedid"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.11": {"saml:edupersonassurance"},
	// eduOrg (urn:oid:1.3.6.1.4.1.5923.1.2.1.*)
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.2": {"saml:eduorghomepageuri"},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.3": {"saml:eduorgidentityauthnpolicyuri"},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.4": {"saml:eduorglegalname"},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.5": {"saml:eduorgsuperioruri"},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.6": {"saml:eduorgwhitepagesuri"},
	// X.500 / LDAP
	"urn:oid:2.5.4.3":                    {"saml:cn", "saml:commonName"},
	"urn:oid:2.5.4.42":                   {"saml:givenName"},
	"urn:oid:2.5.4.4":                    {"saml:surname"},
	"urn:oid:2.5.4.45":                   {"saml:x500UniqueIdentifier"},
	"urn:oid:0.9.2342.19200300.100.1.1":  {"saml:uid"},
	"urn:oid:0.9.2342.19200300.100.1.3":  {"saml:mail"},
	"urn:oid:2.16.840.1.113730.3.1.241":  {"saml:name"},
	"urn:oid:0.9.2342.19200300.100.1.45": {"saml:organizationStatus"},
	// Microsoft / AD FS / Entra ID claim URIs
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress":      {"saml:mail"},
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname":         {"saml:givenName"},
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname":           {"saml:surname"},
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":              {"saml:name"},
	"http://schemas.xmlsoap.org/claims/CommonName":                            {"saml:cn", "saml:commonName"},
	"http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid": {"saml:primaryGroupSID"},
}

// ConditionKeys returns the trust-policy condition keys for
// sts:AssumeRoleWithSAML: saml:aud (the Recipient), saml:iss, saml:sub,
// saml:sub_type, saml:namequalifier, saml:doc ("<accountID>/<providerName>")
// and the keys mapped from attributes (see attributeKeys), multi-valued, in
// document order, with duplicates removed. AWS does not expose these keys to
// permission policies.
func (a *Assertion) ConditionKeys(accountID, providerName string) map[string][]string {
	keys := map[string][]string{
		"saml:aud":           {a.Recipient},
		"saml:iss":           {a.Issuer},
		"saml:sub":           {a.NameID},
		"saml:sub_type":      {a.SubjectType},
		"saml:namequalifier": {NameQualifier(a.Issuer, accountID, providerName)},
		"saml:doc":           {accountID + "/" + providerName},
	}
	// Iterate attributeKeys' source names in a fixed order so that a key fed
	// by two attribute names (urn:oid and a claim URI) lists values
	// deterministically.
	for _, name := range slices.Sorted(maps.Keys(attributeKeys)) {
		vals, ok := a.Attributes[name]
		if !ok {
			continue
		}
		for _, key := range attributeKeys[name] {
			for _, v := range vals {
				if !slices.Contains(keys[key], v) {
					keys[key] = append(keys[key], v)
				}
			}
		}
	}
	return keys
}
