// Package saml validates SAML 2.0 responses for STS AssumeRoleWithSAML
// against a registered IAM SAML provider, strictly (libraries.md §1.5, the
// attack checklist of §2), and parses IdP metadata into that provider.
//
// # What it must never do
//
//   - Trust a key or certificate carried in the message: signatures verify
//     only against Provider.Certs of the provider named by PrincipalArn (a
//     KeyInfo certificate merely selects one of them), never the union of all
//     providers, and a provider without certificates fails closed.
//   - Read a value from anything but the element goxmldsig re-parsed from
//     the canonical bytes it digested (no re-lookup by ID in the original
//     document), so wrapping, comment and namespace tricks cannot change what
//     is read.
//   - Put the response, or any value from it, in an error — Detail included:
//     it is attacker-controlled and, while valid, a bearer credential. Errors
//     carry dbiam's own text and configuration values only.
//   - Offer a way to skip signature verification.
//
// # Libraries and why goxmldsig is called directly
//
// Signature verification is russellhaering/goxmldsig (v1.6.1) on
// beevik/etree (v1.8.1); mattermost/xml-roundtrip-validator's token check is
// part of the XML gate. gosaml2's SAMLServiceProvider is not used on the
// request path: it takes a single ACS URL and audience (AWS accepts several
// recipients), reports time and audience failures as warnings, silently
// inflates deflated input, decodes with encoding/xml structs that keep only
// the last of repeated elements (hiding a second SubjectConfirmation), and
// accepts two signed assertions. Every rule is enforced here instead; gosaml2
// remains a test oracle for the fixtures (validate_test.go).
//
// # Pipeline (Validator.Validate)
//
//  1. Provider sanity (ARN, entity ID, at least one certificate, metadata
//     validUntil not passed).
//  2. SAMLAssertion length ≤ MaxResponseBytes (100000, AWS's limit) and ≥ 4
//     before decoding; standard padded base64 (CR/LF ignored); no inflate.
//  3. XML gate before any tree is built: UTF-8 only, no BOM, no DOCTYPE or
//     other directive, no processing instruction but a leading XML
//     declaration, a single root and nothing but whitespace/comments around
//     it, depth ≤ 32, ≤ 1000 elements, ≤ 32 attributes per element,
//     namespace-well-formed names, declared prefixes, unique attributes (also
//     as expanded names), and encoding/xml round-trip stability of every
//     markup token.
//  4. Root is samlp:Response Version 2.0 with a valid ID; Status Success
//     (else IDPRejectedClaim); Response Issuer, if present, is the
//     provider's entity ID; Destination, if present, an accepted recipient.
//     These Response fields may be unsigned; they only ever reject, and are
//     re-checked on the verified Response when it is signed.
//  5. Layout: exactly one saml:Assertion in the whole document, a direct
//     child of the Response; no EncryptedAssertion (unsupported); no nested
//     Response; each ds:Signature is the direct child of the Response or of
//     the Assertion, at most one each, at least one in total; ID attributes
//     unique and never namespaced (xml:id, wsu:Id).
//  6. Signature shape, per signature: SignedInfo, SignatureValue and an
//     optional KeyInfo only (no ds:Object); exclusive c14n without comments;
//     exactly one Reference whose URI is "#" + the parent's ID; transforms
//     exactly enveloped-signature then exclusive c14n (no XPath, XSLT,
//     inclusive or with-comments c14n); SignatureMethod RSA- or
//     ECDSA-SHA256/384/512 and DigestMethod SHA-256/384/512 — SHA-1 only with
//     Provider.AllowSHA1, HMAC/DSA/MD5 never.
//  7. Verification with goxmldsig against Provider.Certs (pinned
//     certificates must be within their validity period; an expired IdP
//     certificate is answered "Response signature invalid" with a Detail
//     telling the operator to register the IdP's current metadata). If the
//     Response is signed it is verified first and the Assertion is taken from
//     the verified Response; an Assertion signature, when present, must
//     verify as well. ECDSA SignatureValues in the XML-DSig r||s form are
//     converted to the DER form goxmldsig expects.
//  8. Assertion rules on the verified element: Version 2.0; one Issuer equal
//     to the entity ID (Format entity if given); IssueInstant not in the
//     future and not older than MaxAssertionAge (5 min, as AWS); one Subject
//     with one non-empty NameID; exactly one bearer SubjectConfirmation whose
//     SubjectConfirmationData has an accepted Recipient and a NotOnOrAfter
//     in the future (NotBefore, if present, reached); one Conditions whose
//     NotBefore/NotOnOrAfter window holds, with at least one
//     AudienceRestriction, each containing an accepted audience, and no
//     condition type we do not understand; SessionNotOnOrAfter (earliest
//     AuthnStatement) not passed. Every comparison allows ClockSkew.
//  9. AWS attributes (names case-sensitive): at least one well-formed Role
//     pair (either order; malformed values are ignored, not trimmed);
//     RoleSessionName exactly one value matching [a-zA-Z_0-9+=,.@-]{2,64};
//     SessionDuration an integer 900..43200; PrincipalTag:{Key} one value
//     each, AWS tag syntax, ≤ 50, keys unique ignoring case, no aws: prefix;
//     TransitiveTagKeys naming PrincipalTag keys; SourceIdentity 2–64
//     characters of the same set, not starting "aws:".
//  10. Replay: Config.Replay.RecordOnce("saml-assertion",
//     provider.ARN + "|" + assertion ID, NotOnOrAfter + ClockSkew, now) must
//     return true, so an assertion is used once per provider until it
//     expires, across replicas. It is written last, only for an otherwise
//     valid assertion. Note that AWS itself lets one assertion be redeemed
//     several times within its lifetime (CLIs such as gimme-aws-creds and
//     saml2aws assume several roles from one login); with this key they must
//     re-authenticate per role.
//
// The requested RoleArn/PrincipalArn pair is checked by the caller with
// Assertion.HasRole; trust-policy keys come from Assertion.ConditionKeys.
// InResponseTo is accepted and not checked (IdP-initiated is the AWS flow;
// dbiam keeps no AuthnRequest IDs); it is returned for logging.
//
// # Errors: failure → AWS code and message
//
// Every error is an *Error; Code/Message are what STS returns (awserr.Coder
// via AWSErrorCode/AWSErrorMessage), HTTPStatus the status to send (awserr's
// default of 400 is wrong only for IDPRejectedClaim, 403). Messages marked
// AWS are AWS's documented or observed text; the others are dbiam's.
//
//	Failure                                      Code                   HTTP  Message
//	SAMLAssertion > MaxResponseBytes or < 4      ValidationError        400   1 validation error detected: Value at 'SAMLAssertion' failed to satisfy constraint: … (AWS model)
//	not standard base64                          InvalidIdentityToken   400   Invalid base64 SAMLResponse (check that your input contains a base64 encoded SAMLResponse) (AWS)
//	XML gate, not a Response, Version, no or     InvalidIdentityToken   400   Invalid SAML response
//	  encrypted Assertion, EncryptedAttribute
//	unsigned, any signature/layout/algorithm     InvalidIdentityToken   400   Response signature invalid (AWS)
//	  rule, wrapping, wrong or expired key,
//	  digest mismatch, provider without certs
//	Issuer (Response or Assertion) ≠ entity ID   InvalidIdentityToken   400   Issuer not present in specified provider (AWS)
//	Audience/Conditions rules                    InvalidIdentityToken   400   Response does not contain the required audience. (AWS)
//	Recipient or Destination not accepted        InvalidIdentityToken   400   Response does not contain a valid Recipient for this endpoint.
//	SubjectConfirmation count/method/NotOnOrAfter InvalidIdentityToken  400   Response must contain exactly one bearer SubjectConfirmation with Recipient and NotOnOrAfter.
//	no Subject/NameID                            InvalidIdentityToken   400   Response does not contain a Subject NameID.
//	NotBefore / IssueInstant in the future       InvalidIdentityToken   400   Response is not yet valid
//	NotOnOrAfter / SessionNotOnOrAfter passed    ExpiredTokenException  400   Response has expired (AWS, observed)
//	IssueInstant older than MaxAssertionAge      ExpiredTokenException  400   Token must be redeemed within 5 minutes of issuance (AWS, observed)
//	provider metadata validUntil passed          InvalidIdentityToken   400   The metadata of the specified provider has expired
//	Status ≠ Success                             IDPRejectedClaim       403   The identity provider reported that authentication failed
//	RoleSessionName missing                      InvalidIdentityToken   400   RoleSessionName is required in AuthnResponse (AWS)
//	RoleSessionName invalid or repeated          InvalidIdentityToken   400   RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64} (AWS)
//	SourceIdentity invalid                       InvalidIdentityToken   400   Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:" (AWS)
//	no well-formed Role pair                     InvalidIdentityToken   400   Role attribute in AuthnResponse must contain at least one roleArn,providerArn pair
//	SessionDuration invalid                      InvalidIdentityToken   400   SessionDuration in AuthnResponse must be an integer between 900 and 43200
//	PrincipalTag / TransitiveTagKeys invalid     InvalidIdentityToken   400   Invalid PrincipalTag or TransitiveTagKeys attribute in AuthnResponse
//	replayed assertion ID                        InvalidIdentityToken   400   Response has already been used
//	replay store error, bad Provider/Validator   InternalFailure        500   We encountered an internal error. Please try again.
//	ParseMetadata: any failure                   InvalidInput           400   Could not parse metadata (AWS IAM)
//
// For the caller (STS), not this package: the role pair not in the
// assertion, or a trust policy that does not allow it, is AccessDenied 403
// "Not authorized to perform sts:AssumeRoleWithSAML" (AWS); an unknown
// PrincipalArn is "Specified provider doesn't exist." (AWS).
package saml
