package samlauth

import "errors"

// Errors to check with errors.Is. Messages never quote a password or a SAML
// response.
var (
	// ErrConfig: the Config is incomplete or inconsistent.
	ErrConfig = errors.New("samlauth: invalid configuration")
	// ErrLoginFailed: the IdP refused the user name or password.
	ErrLoginFailed = errors.New("samlauth: the identity provider refused the login")
	// ErrNoSAMLResponse: the IdP answered, but not with a SAML response
	// (an unexpected page, or a form this client cannot fill in).
	ErrNoSAMLResponse = errors.New("samlauth: no SAML response from the identity provider")
	// ErrBadResponse: the SAML response is not a well-formed, acceptable
	// samlp:Response.
	ErrBadResponse = errors.New("samlauth: malformed SAML response")
	// ErrResponseTooLarge: the SAML response is longer than MaxResponseChars.
	ErrResponseTooLarge = errors.New("samlauth: SAML response too large")
	// ErrNoRole: the response's Role attribute has no roleArn,providerArn pair.
	ErrNoRole = errors.New("samlauth: no role found in the SAML response")
	// ErrPreferredRoleNotFound: the preferred role is not in the response.
	ErrPreferredRoleNotFound = errors.New("samlauth: preferred role not found in the SAML response")
	// ErrSeveralRoles: the response lists several roles and no preferred
	// role was given.
	ErrSeveralRoles = errors.New("samlauth: the SAML response lists several roles")
	// ErrTimeout: saml-browser received no response in time.
	ErrTimeout = errors.New("samlauth: timed out waiting for the SAML response")
	// ErrAssumeRole: STS refused AssumeRoleWithSAML; the STS error is
	// wrapped too (errors.As with smithy.APIError).
	ErrAssumeRole = errors.New("samlauth: AssumeRoleWithSAML failed")
)
