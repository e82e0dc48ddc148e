// Package samltest is a test SAML 2.0 identity provider: it builds SAML
// responses in Go and signs them the way real IdPs do (enveloped XML-DSig,
// exclusive canonicalization, RSA-SHA256 by default) with a throwaway key, and
// provides mutation helpers that produce every case of the SAML attack
// checklist (libraries.md §2): signature wrapping (XSW1–8, XSW10), duplicated
// assertions, comment injection, foreign keys and certificates, weak
// algorithms, and so on.
//
// Keys are generated at run time and cached for the life of the test binary
// (RSA generation is slow); nothing here is a secret. It must never be used
// outside tests.
//
// It never imports internal/saml: it is an independent producer, and the
// baseline it emits is cross-checked against gosaml2 in saml's tests.
package samltest
