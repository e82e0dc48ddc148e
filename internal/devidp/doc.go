// Package devidp is the development SAML 2.0 identity provider behind
// `dbiam idp`: a small IdP-initiated IdP with a users file, so that SAML
// federation (AssumeRoleWithSAML, then GetClusterCredentials) can be tried
// end to end without a corporate IdP. The demo and the client-side SAML
// plugins are tested against it.
//
// # What it does
//
// Users (a YAML file, see User and examples/idp-users.yaml) sign in with a
// password at /login, or a script posts the same form to
// /api/saml-response, and get a signed SAML response for AWS:
//
//   - Issuer: the entity ID (default http://127.0.0.1:8440/metadata).
//   - Destination and bearer SubjectConfirmationData Recipient: the ACS URL
//     (default https://signin.aws.amazon.com/saml, which dbiam accepts as a
//     recipient out of the box), NotOnOrAfter five minutes on.
//   - Audience urn:amazon:webservices; NameID the username (persistent).
//   - Attributes: Role ("roleArn,providerArn", one value per role),
//     RoleSessionName, SessionDuration, PrincipalTag:{Key},
//     SourceIdentity, and Redshift's DbUser, DbGroups (one AttributeValue
//     per group) and AutoCreate.
//   - Both the Assertion and the Response are signed, RSA-SHA256 with
//     exclusive canonicalization, as internal/saml requires.
//
// The browser cannot post to AWS's sign-in URL, so the result page shows
// the base64 SAMLResponse and the ready-to-paste
// `aws sts assume-role-with-saml` commands. With ?acs=<URL> on /login, where
// the URL is on a loopback address (127.0.0.0/8, ::1 or localhost), the
// response is instead posted there by an auto-submitting form, for the
// client-side browser SAML plugins that listen on localhost. The posted
// response is the same: its Destination and Recipient stay the configured
// ACS URL, so that dbiam accepts it with its default recipients.
//
// The signing key (RSA-2048) and a self-signed certificate valid ten years
// are generated on first start into DataDir/signing.pem (mode 0600) and
// reused, so the metadata (GET /metadata, also written by Run to
// DataDir/metadata.xml) stays byte-for-byte the same across restarts: it
// has no validUntil, lists only the signing certificate, and changes only
// with the key, the entity ID or the URL.
//
// # Library
//
// Responses are built with github.com/crewjam/saml's IdP package
// (IdentityProvider, IdpAuthnRequest): AWS is its one service provider
// (entity ID urn:amazon:webservices, the ACS URL as its HTTP-POST endpoint),
// NewIdpInitiatedRequest resolves it, our AssertionMaker fills in the
// assertion, and the library signs the assertion and the response (with
// russellhaering/goxmldsig, the verifier dbiam's STS uses) and renders the
// metadata. Our AssertionMaker replaces crewjam's DefaultAssertionMaker
// because that one adds eduPerson attributes and the client address and
// gives the assertion 90 seconds; crewjam's ServeIDPInitiated is not used
// because the pages here differ (the response is shown, not posted to AWS).
// SP-initiated SSO (AuthnRequests) is not supported: the metadata's
// SingleSignOnService points at the login page only because the schema
// requires one.
//
// # What it must never do
//
//   - Be anything but a development tool: passwords are in a file in clear
//     text. It listens on loopback only unless told otherwise (Listen).
//   - Log or return in an error a password or a SAML response (a bearer
//     credential until it expires). The log names a username only if it
//     exists, so a password typed into the username field is not logged.
//   - Tell a wrong username from a wrong password: both answer 401 with one
//     generic message, and passwords are compared in constant time.
//   - Post a response anywhere but a loopback URL.
package devidp
