// Package samlauth is the client side of SAML federation: it turns a
// user's login at a SAML 2.0 identity provider into STS credentials, the
// way the Amazon Redshift drivers' SAML plugins do, for dbiam's Go driver
// (pgdriver) and CLI (dbiam creds, dbiam connect) — or any aws-sdk-go-v2
// client, since a Provider is an aws.CredentialsProvider.
//
// # Plugins
//
//   - saml-assertion (PluginAssertion): a base64 SAMLResponse given
//     directly, like the drivers' BasicSamlCredentialsProvider.
//   - saml-form (PluginForm): user name and password posted to the IdP.
//     A URL ending in /api/saml-response is dbiam's development IdP's JSON
//     API; any other URL is fetched as an HTML page, its form with a
//     password field filled in (hidden fields kept, the user-name field
//     found by name as the drivers' AD FS and PingFederate plugins do) and
//     posted, and the SAMLResponse read from the page that comes back (the
//     HTTP-POST binding's hidden input, or the development IdP's result
//     page).
//   - saml-browser (PluginBrowser): a one-shot listener on a loopback
//     address (default 127.0.0.1:7890, the drivers' port), the browser
//     opened at IdPURL?acs=http://<listener>/saml, one POST with a
//     SAMLResponse accepted, a "you may close this window" page, and a
//     clean ErrTimeout after Timeout (default 2 minutes).
//
// Then the response's Role attribute is read (each value's two comma parts
// classified as role or provider ARN by the drivers' patterns), a role is
// chosen (ChooseRole: the preferred role, else the only one, else an error
// listing them), and STS AssumeRoleWithSAML is called unsigned. The
// credentials are cached until ExpiryWindow before they expire.
// Attributes returns the Redshift attributes of the latest response
// (DbUser, DbGroups, AutoCreate, ForceLowercase, AllowDbUserOverride), and
// Attributes.Resolve applies the drivers' precedence rules to the user's
// own DbUser/DbGroups/AutoCreate settings.
//
// Package samlauth/browsertest drives a real headless Chromium through the
// DevTools protocol for tests of saml-browser (the tests here and
// scripts/e2e-browser.sh complete the development IdP's login form with
// it).
//
// # What it must never do
//
//   - Import dbiam's internal packages: it is public and depends only on
//     the standard library and aws-sdk-go-v2.
//   - Log, print or put in an error a password or a SAML response (a bearer
//     credential until it expires). It logs nothing at all; Config's
//     String, GoString and LogValue redact the secrets.
//   - Verify a SAML signature and believe it: the client only reads the
//     attributes to choose a role and a DbUser; STS validates the response.
//     The XML reader refuses DOCTYPEs (no entity expansion) and caps sizes.
//   - Send a password over plain http to a non-loopback host, follow a
//     redirect there, or put a password in a URL (unless InsecureHTTP).
//   - Listen anywhere but on loopback for saml-browser.
package samlauth
