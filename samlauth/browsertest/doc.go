// Package browsertest drives a real headless Chromium for tests of browser
// logins (samlauth's saml-browser plugin): Chromium.OpenBrowser has the
// signature of samlauth.Config.OpenBrowser, opens the IdP's login page,
// types into its fields, submits the form and waits until the browser has
// landed on the page the IdP posts the SAML response to.
//
// It speaks the Chrome DevTools Protocol over --remote-debugging-pipe (file
// descriptors 3 and 4, NUL-separated JSON), so it needs only the standard
// library: no WebSocket client, no open debugging port.
//
// It is for tests and scripts on a developer's or CI machine: it starts
// Chromium with --no-sandbox (tests often run as root in containers) and
// must never be used to browse untrusted sites.
//
// It must never import dbiam's internal packages (it is public, like
// samlauth) and never log or print what it types.
package browsertest
