package saml

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// AWS attribute names (case-sensitive, as AWS compares them).
const (
	AttrRole              = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName   = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration   = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	AttrPrincipalTag      = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:" // + key
	AttrTransitiveTagKeys = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
	AttrSourceIdentity    = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
)

// NameID formats.
const (
	nameIDFormatPrefix      = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
	NameIDFormatPersistent  = nameIDFormatPrefix + "persistent"
	NameIDFormatTransient   = nameIDFormatPrefix + "transient"
	NameIDFormatUnspecified = "urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified"
	methodBearer            = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// Session tag limits (AWS session tags).
const (
	maxSessionTags = 50
)

// Assertion is the validated content of a SAML assertion that STS needs.
type Assertion struct {
	ID           string
	Issuer       string
	NameID       string
	NameIDFormat string // full URI; NameIDFormatUnspecified when the IdP sent none
	// SubjectType is "persistent", "transient", the Format URI without the
	// urn:oasis:names:tc:SAML:2.0:nameid-format: prefix, or any other Format
	// URI unchanged (AWS's AssumeRoleWithSAML SubjectType).
	SubjectType string
	// Recipient is SubjectConfirmationData/@Recipient: the STS response's
	// Audience and the saml:aud condition key.
	Recipient string
	// IssueInstant is Assertion/@IssueInstant.
	IssueInstant time.Time
	// NotOnOrAfter is the earlier of SubjectConfirmationData/@NotOnOrAfter
	// and Conditions/@NotOnOrAfter.
	NotOnOrAfter time.Time
	// SessionNotOnOrAfter is the earliest AuthnStatement/@SessionNotOnOrAfter,
	// zero if absent; it caps the STS session.
	SessionNotOnOrAfter time.Time
	// InResponseTo is SubjectConfirmationData/@InResponseTo, for logging
	// only: dbiam serves the IdP-initiated flow and keeps no request IDs, so
	// it is accepted and not checked.
	InResponseTo string
	// Attributes are all attribute values by Name (case-sensitive), in
	// document order; several Attribute elements with one Name are merged.
	// Values that are not plain text (e.g. a NameID element) are omitted.
	Attributes map[string][]string

	// AWS attributes, parsed and validated.
	Roles             []RolePair        // https://aws.amazon.com/SAML/Attributes/Role, at least one
	RoleSessionName   string            // required, [a-zA-Z_0-9+=,.@-]{2,64}
	SessionDuration   int               // seconds, 0 if absent, else 900..43200
	PrincipalTags     map[string]string // PrincipalTag:{Key}, nil if none
	TransitiveTagKeys []string          // each one of the PrincipalTags keys
	SourceIdentity    string            // "" if absent
}

// RolePair is one "roleArn,providerArn" value of the Role attribute.
type RolePair struct{ RoleARN, ProviderARN string }

// HasRole reports whether the assertion lists exactly this role/provider
// pair. The STS caller must check the requested RoleArn/PrincipalArn with it.
func (a *Assertion) HasRole(roleARN, providerARN string) bool {
	if a == nil {
		return false
	}
	for _, r := range a.Roles {
		if r.RoleARN == roleARN && r.ProviderARN == providerARN {
			return true
		}
	}
	return false
}

var (
	roleARNRe     = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	providerARNRe = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:saml-provider/[\w.-]{1,128}$`)
	sessionNameRe = regexp.MustCompile(`^[a-zA-Z_0-9+=,.@-]{2,64}$`)
	durationRe    = regexp.MustCompile(`^[0-9]{1,6}$`)
	tagKeyRe      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	tagValueRe    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

// parseRolePair splits one Role value into its two ARNs, in either order,
// classifying each part by pattern. Role names may contain commas, so every
// comma is tried; exactly one split must classify. Nothing is trimmed: a value
// with spaces does not parse.
func parseRolePair(s string) (RolePair, bool) {
	// Two ARNs of at most 2048 characters each (the API's limit) and a comma;
	// only a comma followed by "arn:" can separate them. Both bounds keep the
	// work linear in the attribute size whatever the value looks like.
	if len(s) > 2*2048+1 {
		return RolePair{}, false
	}
	var found []RolePair
	for i := 0; i < len(s); i++ {
		if s[i] != ',' || !strings.HasPrefix(s[i+1:], "arn:") {
			continue
		}
		l, r := s[:i], s[i+1:]
		switch {
		case roleARNRe.MatchString(l) && providerARNRe.MatchString(r):
			found = append(found, RolePair{RoleARN: l, ProviderARN: r})
		case providerARNRe.MatchString(l) && roleARNRe.MatchString(r):
			found = append(found, RolePair{RoleARN: r, ProviderARN: l})
		}
	}
	if len(found) != 1 {
		return RolePair{}, false
	}
	return found[0], true
}

// text returns el's character data, requiring that el has no child elements.
// Elements passed here come from canonical bytes, so there are no comments or
// CDATA sections and the text is the complete canonical value.
func text(el *etree.Element) (string, bool) {
	if len(el.ChildElements()) != 0 {
		return "", false
	}
	var b strings.Builder
	for _, c := range el.Child {
		if cd, ok := c.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String(), true
}

// readAssertion applies the assertion rules to the verified element and
// extracts the result.
func (v *Validator) readAssertion(as *etree.Element, p *Provider, now time.Time) (*Assertion, *Error) {
	out := &Assertion{}
	if ver, _ := attr(as, "Version"); ver != "2.0" {
		return nil, malformed("the Assertion Version is not 2.0")
	}
	id, _ := attr(as, "ID")
	if !idRe.MatchString(id) {
		return nil, malformed("the Assertion has no valid ID")
	}
	out.ID = id

	// Issuer: exactly one, equal to the provider's entity ID.
	issuers := childrenNS(as, nsAssertion, "Issuer")
	if len(issuers) != 1 {
		return nil, invalid(msgIssuer, "the Assertion must have exactly one Issuer")
	}
	if e := checkIssuer(issuers[0], p, "Assertion"); e != nil {
		return nil, e
	}
	out.Issuer = p.EntityID

	// IssueInstant: not in the future, not older than MaxAssertionAge.
	ii, _ := attr(as, "IssueInstant")
	issued, ok := parseTime(ii)
	if !ok {
		return nil, malformed("the Assertion IssueInstant is missing or not a dateTime")
	}
	out.IssueInstant = issued
	if issued.After(now.Add(v.skew)) {
		return nil, invalid(msgNotYetValid, fmt.Sprintf("the Assertion IssueInstant is %s in the future (skew %s)", issued.Sub(now).Round(time.Second), v.skew))
	}
	if v.maxAge > 0 && !now.Before(issued.Add(v.maxAge+v.skew)) {
		return nil, newErr(CodeExpiredToken, "Token must be redeemed within "+humanDuration(v.maxAge)+" of issuance",
			fmt.Sprintf("the Assertion was issued %s ago (limit %s, skew %s)", now.Sub(issued).Round(time.Second), v.maxAge, v.skew))
	}

	// Unsupported content that would change the meaning if ignored.
	for _, c := range as.ChildElements() {
		switch {
		case is(c, nsAssertion, "Statement"):
			return nil, malformed("the Assertion has an extension Statement")
		}
	}

	if e := v.readSubject(as, out, now); e != nil {
		return nil, e
	}
	if e := v.readConditions(as, out, now); e != nil {
		return nil, e
	}
	// SessionNotOnOrAfter from AuthnStatements (earliest).
	for _, st := range childrenNS(as, nsAssertion, "AuthnStatement") {
		s, ok := attr(st, "SessionNotOnOrAfter")
		if !ok {
			continue
		}
		t, ok := parseTime(s)
		if !ok {
			return nil, malformed("an AuthnStatement SessionNotOnOrAfter is not a dateTime")
		}
		if out.SessionNotOnOrAfter.IsZero() || t.Before(out.SessionNotOnOrAfter) {
			out.SessionNotOnOrAfter = t
		}
	}
	if !out.SessionNotOnOrAfter.IsZero() && !now.Before(out.SessionNotOnOrAfter) {
		return nil, newErr(CodeExpiredToken, msgExpired, "the AuthnStatement SessionNotOnOrAfter has passed")
	}
	if e := readAttributes(as, out); e != nil {
		return nil, e
	}
	if e := readAWSAttributes(out); e != nil {
		return nil, e
	}
	return out, nil
}

// readSubject: exactly one Subject with one NameID and exactly one bearer
// SubjectConfirmation whose SubjectConfirmationData has an accepted Recipient
// and a NotOnOrAfter in the future (NotBefore, if present, in the past).
func (v *Validator) readSubject(as *etree.Element, out *Assertion, now time.Time) *Error {
	subjects := childrenNS(as, nsAssertion, "Subject")
	if len(subjects) != 1 {
		return invalid(msgNameID, "the Assertion must have exactly one Subject")
	}
	sub := subjects[0]
	if len(childrenNS(sub, nsAssertion, "EncryptedID")) > 0 || len(childrenNS(sub, nsAssertion, "BaseID")) > 0 {
		return invalid(msgNameID, "EncryptedID and BaseID subjects are not supported")
	}
	nameIDs := childrenNS(sub, nsAssertion, "NameID")
	if len(nameIDs) != 1 {
		return invalid(msgNameID, "the Subject must have exactly one NameID")
	}
	nid, ok := text(nameIDs[0])
	if !ok || nid == "" {
		return invalid(msgNameID, "the NameID is empty or not plain text")
	}
	out.NameID = nid
	format, ok := attr(nameIDs[0], "Format")
	if !ok || format == "" {
		format = NameIDFormatUnspecified
	}
	out.NameIDFormat = format
	out.SubjectType = strings.TrimPrefix(format, nameIDFormatPrefix)

	scs := childrenNS(sub, nsAssertion, "SubjectConfirmation")
	if len(scs) != 1 {
		return invalid(msgSubjectConfirm, fmt.Sprintf("the Subject has %d SubjectConfirmation elements, want 1", len(scs)))
	}
	sc := scs[0]
	if m, _ := attr(sc, "Method"); m != methodBearer {
		return invalid(msgSubjectConfirm, "the SubjectConfirmation Method is not bearer")
	}
	scds := childrenNS(sc, nsAssertion, "SubjectConfirmationData")
	if len(scds) != 1 {
		return invalid(msgSubjectConfirm, "the SubjectConfirmation must have exactly one SubjectConfirmationData")
	}
	scd := scds[0]
	recipient, ok := attr(scd, "Recipient")
	if !ok || recipient == "" {
		return invalid(msgRecipient, "the SubjectConfirmationData has no Recipient")
	}
	if !v.recipientOK(recipient) {
		return invalid(msgRecipient, "the SubjectConfirmationData Recipient is not an accepted recipient URL")
	}
	out.Recipient = recipient
	noa, ok := attr(scd, "NotOnOrAfter")
	if !ok {
		return invalid(msgSubjectConfirm, "the SubjectConfirmationData has no NotOnOrAfter")
	}
	t, ok := parseTime(noa)
	if !ok {
		return malformed("the SubjectConfirmationData NotOnOrAfter is not a dateTime")
	}
	if !now.Before(t.Add(v.skew)) {
		return newErr(CodeExpiredToken, msgExpired, fmt.Sprintf("the SubjectConfirmationData NotOnOrAfter passed %s ago (skew %s)", now.Sub(t).Round(time.Second), v.skew))
	}
	out.NotOnOrAfter = t
	if nb, ok := attr(scd, "NotBefore"); ok {
		t, ok := parseTime(nb)
		if !ok {
			return malformed("the SubjectConfirmationData NotBefore is not a dateTime")
		}
		if t.After(now.Add(v.skew)) {
			return invalid(msgNotYetValid, fmt.Sprintf("the SubjectConfirmationData NotBefore is %s in the future (skew %s)", t.Sub(now).Round(time.Second), v.skew))
		}
	}
	out.InResponseTo, _ = attr(scd, "InResponseTo")
	return nil
}

// readConditions: exactly one Conditions; its time window holds (with skew);
// at least one AudienceRestriction and every one contains an accepted
// Audience; no condition type we do not understand.
func (v *Validator) readConditions(as *etree.Element, out *Assertion, now time.Time) *Error {
	conds := childrenNS(as, nsAssertion, "Conditions")
	if len(conds) != 1 {
		return invalid(msgAudience, "the Assertion must have exactly one Conditions element")
	}
	c := conds[0]
	if nb, ok := attr(c, "NotBefore"); ok {
		t, ok := parseTime(nb)
		if !ok {
			return malformed("the Conditions NotBefore is not a dateTime")
		}
		if t.After(now.Add(v.skew)) {
			return invalid(msgNotYetValid, fmt.Sprintf("the Conditions NotBefore is %s in the future (skew %s)", t.Sub(now).Round(time.Second), v.skew))
		}
	}
	if noa, ok := attr(c, "NotOnOrAfter"); ok {
		t, ok := parseTime(noa)
		if !ok {
			return malformed("the Conditions NotOnOrAfter is not a dateTime")
		}
		if !now.Before(t.Add(v.skew)) {
			return newErr(CodeExpiredToken, msgExpired, fmt.Sprintf("the Conditions NotOnOrAfter passed %s ago (skew %s)", now.Sub(t).Round(time.Second), v.skew))
		}
		if t.Before(out.NotOnOrAfter) {
			out.NotOnOrAfter = t
		}
	}
	restrictions := 0
	for _, el := range c.ChildElements() {
		switch {
		case is(el, nsAssertion, "AudienceRestriction"):
			restrictions++
			matched := false
			for _, a := range childrenNS(el, nsAssertion, "Audience") {
				if s, ok := text(a); ok && v.audiences[strings.TrimSpace(s)] {
					matched = true
				}
			}
			if !matched {
				return invalid(msgAudience, "an AudienceRestriction does not contain an accepted audience")
			}
		case is(el, nsAssertion, "OneTimeUse"), is(el, nsAssertion, "ProxyRestriction"):
			// OneTimeUse is what the replay record enforces anyway;
			// ProxyRestriction only limits what we may issue onwards.
		default:
			return invalid(msgAudience, "the Conditions contain a condition dbiam does not understand")
		}
	}
	if restrictions == 0 {
		return invalid(msgAudience, "the Conditions have no AudienceRestriction")
	}
	return nil
}

// readAttributes collects every AttributeStatement/Attribute by Name.
func readAttributes(as *etree.Element, out *Assertion) *Error {
	out.Attributes = map[string][]string{}
	for _, st := range childrenNS(as, nsAssertion, "AttributeStatement") {
		for _, el := range st.ChildElements() {
			switch {
			case is(el, nsAssertion, "Attribute"):
			case is(el, nsAssertion, "EncryptedAttribute"):
				return malformed("EncryptedAttribute is not supported")
			default:
				return malformed("an AttributeStatement has an unexpected child element")
			}
			name, _ := attr(el, "Name")
			if name == "" {
				return malformed("an Attribute has no Name")
			}
			vals := out.Attributes[name]
			for _, av := range childrenNS(el, nsAssertion, "AttributeValue") {
				if s, ok := text(av); ok {
					vals = append(vals, s)
				}
			}
			if vals == nil {
				vals = []string{}
			}
			out.Attributes[name] = vals
		}
	}
	return nil
}

// readAWSAttributes validates and extracts the AWS-defined attributes.
func readAWSAttributes(out *Assertion) *Error {
	attrs := out.Attributes

	rsn := attrs[AttrRoleSessionName]
	switch {
	case len(rsn) == 0:
		return invalid(msgRSNRequired, "the RoleSessionName attribute is missing")
	case len(rsn) > 1:
		return invalid(msgRSNFormat, "the RoleSessionName attribute has more than one value")
	case !sessionNameRe.MatchString(rsn[0]):
		return invalid(msgRSNFormat, "the RoleSessionName value does not match the pattern")
	}
	out.RoleSessionName = rsn[0]

	seen := map[RolePair]bool{}
	for _, s := range attrs[AttrRole] {
		if rp, ok := parseRolePair(s); ok && !seen[rp] {
			seen[rp] = true
			out.Roles = append(out.Roles, rp)
		}
	}
	if len(out.Roles) == 0 {
		return invalid(msgRole, "the Role attribute is missing or has no well-formed roleArn,providerArn value")
	}

	if sd, ok := attrs[AttrSessionDuration]; ok {
		if len(sd) != 1 || !durationRe.MatchString(sd[0]) {
			return invalid(msgSessionDuration, "the SessionDuration attribute is not a single integer")
		}
		n, _ := strconv.Atoi(sd[0])
		if n < 900 || n > 43200 {
			return invalid(msgSessionDuration, "the SessionDuration attribute is outside 900..43200")
		}
		out.SessionDuration = n
	}

	if si, ok := attrs[AttrSourceIdentity]; ok {
		if len(si) != 1 || !sessionNameRe.MatchString(si[0]) || strings.HasPrefix(strings.ToLower(si[0]), "aws:") {
			return invalid(msgSourceIdentity, "the SourceIdentity attribute is not a single valid value")
		}
		out.SourceIdentity = si[0]
	}

	lower := map[string]bool{}
	for name, vals := range attrs {
		key, ok := strings.CutPrefix(name, AttrPrincipalTag)
		if !ok {
			continue
		}
		if !tagKeyRe.MatchString(key) || strings.HasPrefix(strings.ToLower(key), "aws:") {
			return invalid(msgTags, "a PrincipalTag key is empty, too long, has invalid characters or the aws: prefix")
		}
		if len(vals) != 1 || !tagValueRe.MatchString(vals[0]) {
			return invalid(msgTags, "a PrincipalTag attribute does not have exactly one valid value (≤256 characters)")
		}
		lk := strings.ToLower(key)
		if lower[lk] {
			return invalid(msgTags, "two PrincipalTag keys differ only in case")
		}
		lower[lk] = true
		if out.PrincipalTags == nil {
			out.PrincipalTags = map[string]string{}
		}
		out.PrincipalTags[key] = vals[0]
	}
	if len(out.PrincipalTags) > maxSessionTags {
		return invalid(msgTags, fmt.Sprintf("more than %d PrincipalTag attributes", maxSessionTags))
	}
	if tk, ok := attrs[AttrTransitiveTagKeys]; ok {
		seenKey := map[string]bool{}
		for _, k := range tk {
			lk := strings.ToLower(k)
			if !lower[lk] {
				return invalid(msgTags, "a TransitiveTagKeys value is not a PrincipalTag key")
			}
			if !seenKey[lk] {
				seenKey[lk] = true
				out.TransitiveTagKeys = append(out.TransitiveTagKeys, k)
			}
		}
	}
	return nil
}
