package saml_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/testutil/samltest"
)

func TestValidateBaseline(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name                        string
		signResponse, signAssertion bool
	}{
		{"SignedAssertion", false, true},
		{"SignedResponseEnvelopingAssertion", true, false},
		{"SignedResponseAndAssertion", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := e.opts()
			o.SignResponse, o.SignAssertion = tc.signResponse, tc.signAssertion
			o.SessionDuration = 7200
			o.SessionNotOnOrAfter = e.now.Add(8 * time.Hour)
			o.InResponseTo = "_request-1"
			o.Attributes = map[string][]string{
				"https://redshift.amazon.com/SAML/Attributes/DbUser":   {"alice"},
				"https://redshift.amazon.com/SAML/Attributes/DbGroups": {"analysts", "readers"},
				"urn:oid:0.9.2342.19200300.100.1.3":                    {"alice@example.com"},
				saml.AttrPrincipalTag + "CostCenter":                   {"1234"},
				saml.AttrPrincipalTag + "Project":                      {"Unicorn"},
				saml.AttrTransitiveTagKeys:                             {"Project"},
				saml.AttrSourceIdentity:                                {"alice"},
			}
			a := e.mustAccept(t, e.idp.Response(t, o))
			want := saml.Assertion{
				ID:                  o.ID,
				Issuer:              testEntityID,
				NameID:              samltest.DefaultNameID,
				NameIDFormat:        samltest.NameIDPersistent,
				SubjectType:         "persistent",
				Recipient:           samltest.DefaultRecipient,
				IssueInstant:        e.now,
				NotOnOrAfter:        e.now.Add(5 * time.Minute),
				SessionNotOnOrAfter: e.now.Add(8 * time.Hour),
				InResponseTo:        "_request-1",
				RoleSessionName:     samltest.DefaultSessionName,
				SessionDuration:     7200,
				SourceIdentity:      "alice",
			}
			switch {
			case a.ID != want.ID, a.Issuer != want.Issuer, a.NameID != want.NameID,
				a.NameIDFormat != want.NameIDFormat, a.SubjectType != want.SubjectType,
				a.Recipient != want.Recipient, !a.IssueInstant.Equal(want.IssueInstant),
				!a.NotOnOrAfter.Equal(want.NotOnOrAfter), !a.SessionNotOnOrAfter.Equal(want.SessionNotOnOrAfter),
				a.InResponseTo != want.InResponseTo, a.RoleSessionName != want.RoleSessionName,
				a.SessionDuration != want.SessionDuration, a.SourceIdentity != want.SourceIdentity:
				t.Fatalf("assertion = %+v\nwant %+v", a, want)
			}
			if !a.HasRole(samltest.DefaultRoleARN, samltest.DefaultProviderARN) || len(a.Roles) != 1 {
				t.Errorf("Roles = %+v", a.Roles)
			}
			if g := a.Attributes["https://redshift.amazon.com/SAML/Attributes/DbGroups"]; !slices.Equal(g, []string{"analysts", "readers"}) {
				t.Errorf("DbGroups = %q", g)
			}
			if a.PrincipalTags["CostCenter"] != "1234" || a.PrincipalTags["Project"] != "Unicorn" || len(a.PrincipalTags) != 2 {
				t.Errorf("PrincipalTags = %v", a.PrincipalTags)
			}
			if !slices.Equal(a.TransitiveTagKeys, []string{"Project"}) {
				t.Errorf("TransitiveTagKeys = %q", a.TransitiveTagKeys)
			}
		})
	}
}

// TestGosaml2AcceptsFixtures cross-checks the test IdP against gosaml2's own
// validation path (a verifier we did not write), so that a bug in samltest's
// signer cannot make the baseline meaningless.
func TestGosaml2AcceptsFixtures(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name        string
		resp, asrtn bool
	}{{"SignedAssertion", false, true}, {"SignedResponse", true, false}, {"Both", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			o := e.opts()
			o.SignResponse, o.SignAssertion = tc.resp, tc.asrtn
			sp := &saml2.SAMLServiceProvider{
				IdentityProviderIssuer:      testEntityID,
				AssertionConsumerServiceURL: samltest.DefaultRecipient,
				AudienceURI:                 samltest.DefaultAudience,
				IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: e.p.Certs},
				Clock:                       dsig.NewFakeClockAt(e.now),
			}
			info, err := sp.RetrieveAssertionInfo(e.idp.Response(t, o))
			if err != nil {
				t.Fatalf("gosaml2 rejected the fixture: %v", err)
			}
			if info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience || info.NameID != samltest.DefaultNameID {
				t.Fatalf("gosaml2: %+v", info)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	e := newEnv(t)
	o := e.opts()
	resp := e.idp.Response(t, o)
	e.mustAccept(t, resp)
	_, err := e.validate(t, resp)
	e.wantErr(t, err, saml.CodeInvalidIdentityToken, "Response has already been used")

	t.Run("RecordedUntilNotOnOrAfterPlusSkew", func(t *testing.T) {
		exp, ok := e.replay.m[saml.ReplayNamespace+"\x00"+samltest.DefaultProviderARN+"|"+o.ID]
		if !ok || !exp.Equal(e.now.Add(5*time.Minute+saml.DefaultClockSkew)) {
			t.Fatalf("replay record expiry = %v (found %v)", exp, ok)
		}
	})
	t.Run("AfterExpiryAlwaysRejected", func(t *testing.T) {
		later := *e
		later.now = e.now.Add(5*time.Minute + saml.DefaultClockSkew)
		later.v = later.validator(t, saml.Config{})
		_, err := later.validate(t, resp)
		later.wantErr(t, err, saml.CodeExpiredToken, "")
	})
	t.Run("ReplayStoreFailureIsInternalAndRedacted", func(t *testing.T) {
		r := newMemReplay()
		o := e.opts()
		r.err = errors.New("record replay " + samltest.DefaultProviderARN + "|" + o.ID + ": database is locked")
		v := e.validator(t, saml.Config{Replay: r})
		_, err := v.Validate(t.Context(), e.idp.Response(t, o), e.p)
		se := e.wantErr(t, err, saml.CodeInternalFailure, "")
		if se.HTTPStatus() != 500 || !strings.Contains(err.Error(), "database is locked") {
			t.Fatalf("store error = %v (status %d)", err, se.HTTPStatus())
		}
	})
	t.Run("InvalidResponseDoesNotBurnID", func(t *testing.T) {
		before := e.replay.calls
		o := e.opts()
		o.OmitRoleSessionName = true
		_, err := e.validate(t, e.idp.Response(t, o))
		e.wantErr(t, err, saml.CodeInvalidIdentityToken, "RoleSessionName is required in AuthnResponse")
		if e.replay.calls != before {
			t.Fatal("an invalid assertion reached the replay store")
		}
	})
}

func TestNewValidatorConfig(t *testing.T) {
	if _, err := saml.NewValidator(saml.Config{}); err == nil {
		t.Error("NewValidator without Replay succeeded")
	}
	for _, cfg := range []saml.Config{
		{Replay: alwaysNew{}, ClockSkew: -time.Second},
		{Replay: alwaysNew{}, Recipients: []string{}},
		{Replay: alwaysNew{}, Audiences: []string{""}},
		{Replay: alwaysNew{}, MaxResponseBytes: -1},
	} {
		if _, err := saml.NewValidator(cfg); err == nil {
			t.Errorf("NewValidator(%+v) succeeded", cfg)
		}
	}
	var nilV *saml.Validator
	_, err := nilV.Validate(t.Context(), "abcd", &saml.Provider{})
	wantErr(t, err, saml.CodeInternalFailure, "")
	e := newEnv(t)
	_, err = e.v.Validate(t.Context(), e.idp.Response(t, e.opts()), &saml.Provider{EntityID: testEntityID, Certs: e.p.Certs})
	wantErr(t, err, saml.CodeInternalFailure, "")
}

func TestRecipients(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		recipient string
		ok        bool
	}{
		{"https://signin.aws.amazon.com/saml", true},
		{"https://us-east-1.signin.aws.amazon.com/saml", true},
		{"https://eu-central-2.signin.aws.amazon.com/saml", true},
		{"https://us-gov-west-1.signin.aws.amazon.com/saml", true},
		{"https://signin.aws.amazon.com/static/saml", true},
		{"https://evil.example/saml", false},
		{"https://signin.aws.amazon.com/saml/", false},
		{"http://signin.aws.amazon.com/saml", false},
		{"https://evil.example/.signin.aws.amazon.com/saml", false},
		{"https://x.signin.aws.amazon.com/saml", false},
		{"https://us-east-1.evil.example/x.signin.aws.amazon.com/saml", false},
	} {
		t.Run(tc.recipient, func(t *testing.T) {
			o := e.opts()
			o.Recipient = tc.recipient
			a, err := e.validate(t, e.idp.Response(t, o))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if a.Recipient != tc.recipient {
					t.Fatalf("Recipient = %q", a.Recipient)
				}
				return
			}
			e.wantErr(t, err, saml.CodeInvalidIdentityToken, "Response does not contain a valid Recipient for this endpoint.")
		})
	}
	t.Run("Configured", func(t *testing.T) {
		v := e.validator(t, saml.Config{Recipients: append(saml.DefaultRecipients(), "https://dbiam.example/saml/acs"), Audiences: []string{"https://dbiam.example"}})
		o := e.opts()
		o.Recipient, o.Audience = "https://dbiam.example/saml/acs", "https://dbiam.example"
		if _, err := v.Validate(t.Context(), e.idp.Response(t, o), e.p); err != nil {
			t.Fatal(err)
		}
		o = e.opts() // default AWS audience is not configured any more
		_, err := v.Validate(t.Context(), e.idp.Response(t, o), e.p)
		e.wantErr(t, err, saml.CodeInvalidIdentityToken, "Response does not contain the required audience.")
	})
}

func TestBase64Input(t *testing.T) {
	e := newEnv(t)
	xml := samltest.XML(t, e.idp.SignedDocument(t, e.opts()))
	b64 := samltest.EncodeXML(string(xml))
	t.Run("LineWrappedAccepted", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < len(b64); i += 76 {
			b.WriteString(b64[i:min(i+76, len(b64))])
			b.WriteString("\r\n")
		}
		e.mustAccept(t, b.String())
	})
	for name, in := range map[string]string{
		"NotBase64":       "this is <not> base64!",
		"URLSafeAlphabet": strings.NewReplacer("+", "-", "/", "_").Replace(b64) + "-_",
		"MissingPadding":  strings.TrimRight(b64, "=") + "A",
		"SpacesInside":    b64[:100] + " " + b64[100:],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.validate(t, in)
			e.wantErr(t, err, saml.CodeInvalidIdentityToken, "Invalid base64 SAMLResponse (check that your input contains a base64 encoded SAMLResponse)")
		})
	}
	t.Run("TooShort", func(t *testing.T) {
		_, err := e.validate(t, "QQ=")
		e.wantErr(t, err, saml.CodeValidationError, "")
	})
}

func TestErrorType(t *testing.T) {
	err := &saml.Error{Code: saml.CodeIDPRejectedClaim, Message: "m", Detail: errors.New("d")}
	if err.HTTPStatus() != 403 || err.Error() != "saml: IDPRejectedClaim: m (d)" || errors.Unwrap(err).Error() != "d" {
		t.Fatalf("Error = %q status %d", err.Error(), err.HTTPStatus())
	}
	if (&saml.Error{Code: saml.CodeExpiredToken}).HTTPStatus() != 400 {
		t.Fatal("ExpiredTokenException status")
	}
	var c interface {
		AWSErrorCode() string
		AWSErrorMessage() string
	} = err
	_ = c
}
