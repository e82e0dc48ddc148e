package samlauth

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// MaxResponseChars caps a base64 SAMLResponse: STS's SAMLAssertion takes at
// most 100000 characters.
const MaxResponseChars = 100000

// maxXMLDepth caps element nesting while reading a response.
const maxXMLDepth = 64

// SAML namespaces and the attribute names the client reads.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"

	AttrRole                = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName     = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrDbUser              = "https://redshift.amazon.com/SAML/Attributes/DbUser"
	AttrDbGroups            = "https://redshift.amazon.com/SAML/Attributes/DbGroups"
	AttrAutoCreate          = "https://redshift.amazon.com/SAML/Attributes/AutoCreate"
	AttrForceLowercase      = "https://redshift.amazon.com/SAML/Attributes/ForceLowercase"
	AttrAllowDbUserOverride = "https://redshift.amazon.com/SAML/Attributes/AllowDbUserOverride"
)

// The Redshift drivers classify each comma-separated part of a Role value
// with these patterns, so the two ARNs may come in either order.
var (
	providerARNRe = regexp.MustCompile(`^arn:aws[-a-z]*:iam::\d*:saml-provider/\S+$`)
	roleARNRe     = regexp.MustCompile(`^arn:aws[-a-z]*:iam::\d*:role/\S+$`)
)

// RolePair is one value of the Role attribute: a role the user may assume
// and the SAML provider that vouches for it.
type RolePair struct{ RoleARN, ProviderARN string }

// String returns "roleArn,providerArn".
func (p RolePair) String() string { return p.RoleARN + "," + p.ProviderARN }

// Attributes are what a client reads from a SAML response: the AWS Role
// and RoleSessionName attributes and Redshift's attributes for the
// drivers (DbUser, DbGroups, AutoCreate, ForceLowercase,
// AllowDbUserOverride). The client reads them without checking the
// signature; STS checks it when the response is traded for credentials.
type Attributes struct {
	// DbUser is the first value of Redshift's DbUser attribute ("" if absent).
	DbUser string
	// DbGroups are the values of Redshift's DbGroups attribute, one group
	// per AttributeValue, as sent (not lowercased).
	DbGroups []string
	// AutoCreate is Redshift's AutoCreate attribute ("true", any case, is
	// true); nil when absent.
	AutoCreate *bool
	// ForceLowercase and AllowDbUserOverride are Redshift's attributes of
	// those names; false when absent.
	ForceLowercase      bool
	AllowDbUserOverride bool
	// RoleSessionName is AWS's RoleSessionName attribute.
	RoleSessionName string
	// Roles are the well-formed pairs of AWS's Role attribute, in order.
	Roles []RolePair
}

// SAMLDbUser is the drivers' "SAML DbUser": the DbUser attribute, else the
// RoleSessionName.
func (a Attributes) SAMLDbUser() string {
	if a.DbUser != "" {
		return a.DbUser
	}
	return a.RoleSessionName
}

func (a Attributes) clone() Attributes {
	a.DbGroups = slices.Clone(a.DbGroups)
	a.Roles = slices.Clone(a.Roles)
	if a.AutoCreate != nil {
		v := *a.AutoCreate
		a.AutoCreate = &v
	}
	return a
}

// DbOptions are the GetClusterCredentials settings a user gave (connection
// options, command-line flags, or an AWS profile's dbuser/dbgroups/…
// merged in behind them). Zero values mean "not given".
type DbOptions struct {
	DbUser         string
	DbGroups       []string
	AutoCreate     *bool
	ForceLowercase *bool
}

// Resolve applies the SAML attributes to the given options with the
// Redshift drivers' precedence (JDBC IamHelper):
//
//   - DbUser: the given DbUser, else the SAML DbUser (SAMLDbUser); when the
//     response sets AllowDbUserOverride=true, the SAML DbUser wins.
//   - AutoCreate and ForceLowercase: the given value, else the SAML one.
//   - DbGroups: the given list if not empty, else the SAML list; lowercased
//     when ForceLowercase is in effect.
//
// ForceLowercase in the result is never nil.
func (a Attributes) Resolve(given DbOptions) DbOptions {
	out := DbOptions{DbUser: given.DbUser, AutoCreate: given.AutoCreate, ForceLowercase: given.ForceLowercase}
	if saml := a.SAMLDbUser(); saml != "" && (out.DbUser == "" || a.AllowDbUserOverride) {
		out.DbUser = saml
	}
	if out.AutoCreate == nil && a.AutoCreate != nil {
		v := *a.AutoCreate
		out.AutoCreate = &v
	}
	if out.ForceLowercase == nil {
		v := a.ForceLowercase
		out.ForceLowercase = &v
	}
	groups := given.DbGroups
	if len(groups) == 0 {
		groups = a.DbGroups
	}
	out.DbGroups = slices.Clone(groups)
	if *out.ForceLowercase {
		for n, g := range out.DbGroups {
			out.DbGroups[n] = strings.ToLower(g)
		}
	}
	return out
}

// ChooseRole picks the role to assume with the drivers' rules: preferred
// (an exact role ARN) if given, which must be among roles; otherwise the
// only role. Several roles without a preferred one is an error that lists
// them (the drivers would pick one at random).
func ChooseRole(roles []RolePair, preferred string) (RolePair, error) {
	list := func() string {
		s := make([]string, len(roles))
		for n, r := range roles {
			s[n] = r.RoleARN
		}
		return strings.Join(s, ", ")
	}
	switch {
	case len(roles) == 0:
		return RolePair{}, ErrNoRole
	case preferred != "":
		for _, r := range roles {
			if r.RoleARN == preferred {
				return r, nil
			}
		}
		return RolePair{}, fmt.Errorf("%w: %s is not one of: %s", ErrPreferredRoleNotFound, preferred, list())
	case len(roles) == 1:
		return roles[0], nil
	default:
		return RolePair{}, fmt.Errorf("%w: choose one with the preferred role option: %s", ErrSeveralRoles, list())
	}
}

// parseRolePair classifies the parts of one Role value; ok is false when
// the value does not hold both a role and a provider ARN.
func parseRolePair(v string) (RolePair, bool) {
	parts := strings.Split(v, ",")
	if len(parts) < 2 {
		return RolePair{}, false
	}
	var p RolePair
	for _, part := range parts {
		part = strings.TrimSpace(part)
		switch {
		case providerARNRe.MatchString(part):
			p.ProviderARN = part
		case roleARNRe.MatchString(part):
			p.RoleARN = part
		}
	}
	return p, p.RoleARN != "" && p.ProviderARN != ""
}

// normalizeResponse strips the whitespace some IdPs wrap base64 with and
// checks the size.
func normalizeResponse(b64 string) (string, error) {
	if len(b64) > 4*MaxResponseChars {
		return "", ErrResponseTooLarge
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, b64)
	switch {
	case clean == "":
		return "", fmt.Errorf("%w: empty", ErrBadResponse)
	case len(clean) > MaxResponseChars:
		return "", ErrResponseTooLarge
	}
	return clean, nil
}

// ParseResponse reads the attributes of a base64 SAMLResponse (the whole
// samlp:Response, as posted by an IdP). It refuses DOCTYPEs and other
// directives, encrypted assertions, and responses larger than
// MaxResponseChars. It does not check signatures or conditions: that is
// STS's job. The response is a bearer credential: errors never quote it.
func ParseResponse(b64 string) (Attributes, error) {
	clean, err := normalizeResponse(b64)
	if err != nil {
		return Attributes{}, err
	}
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return Attributes{}, fmt.Errorf("%w: not base64", ErrBadResponse)
	}
	return parseResponseXML(raw)
}

func parseResponseXML(raw []byte) (Attributes, error) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.Strict = true
	var (
		a        Attributes
		depth    int
		root     bool
		attrName string // inside an Attribute: its Name
		inAttr   bool
		inValue  bool
		value    strings.Builder
		vals     = map[string][]string{}
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Attributes{}, fmt.Errorf("%w: not well-formed XML", ErrBadResponse)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return Attributes{}, fmt.Errorf("%w: DOCTYPE and other directives are not allowed", ErrBadResponse)
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				return Attributes{}, fmt.Errorf("%w: nested too deeply", ErrBadResponse)
			}
			if depth == 1 {
				if t.Name.Local != "Response" || t.Name.Space != nsProtocol {
					return Attributes{}, fmt.Errorf("%w: the root element is not a SAML 2.0 protocol Response", ErrBadResponse)
				}
				root = true
				continue
			}
			assertionNS := t.Name.Space == nsAssertion || t.Name.Space == ""
			switch {
			case t.Name.Local == "EncryptedAssertion" && assertionNS:
				return Attributes{}, fmt.Errorf("%w: encrypted assertions are not supported", ErrBadResponse)
			case t.Name.Local == "Attribute" && assertionNS && !inAttr:
				inAttr, attrName = true, ""
				for _, at := range t.Attr {
					if at.Name.Space == "" && at.Name.Local == "Name" {
						attrName = at.Value
					}
				}
			case t.Name.Local == "AttributeValue" && assertionNS && inAttr && !inValue:
				inValue = true
				value.Reset()
			}
		case xml.EndElement:
			depth--
			assertionNS := t.Name.Space == nsAssertion || t.Name.Space == ""
			switch {
			case t.Name.Local == "AttributeValue" && assertionNS && inValue:
				inValue = false
				if v := strings.TrimSpace(value.String()); v != "" && attrName != "" {
					vals[attrName] = append(vals[attrName], v)
				}
			case t.Name.Local == "Attribute" && assertionNS && inAttr && !inValue:
				inAttr = false
			}
		case xml.CharData:
			if inValue {
				if value.Len()+len(t) > MaxResponseChars {
					return Attributes{}, ErrResponseTooLarge
				}
				value.Write(t)
			}
		}
	}
	if !root {
		return Attributes{}, fmt.Errorf("%w: no Response element", ErrBadResponse)
	}
	first := func(name string) string {
		if v := vals[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	a.DbUser = first(AttrDbUser)
	a.DbGroups = vals[AttrDbGroups]
	if v, ok := vals[AttrAutoCreate]; ok && len(v) > 0 {
		b := strings.EqualFold(v[0], "true")
		a.AutoCreate = &b
	}
	a.ForceLowercase = strings.EqualFold(first(AttrForceLowercase), "true")
	a.AllowDbUserOverride = strings.EqualFold(first(AttrAllowDbUserOverride), "true")
	a.RoleSessionName = first(AttrRoleSessionName)
	for _, v := range vals[AttrRole] {
		if p, ok := parseRolePair(v); ok && !slices.Contains(a.Roles, p) {
			a.Roles = append(a.Roles, p)
		}
	}
	return a, nil
}
