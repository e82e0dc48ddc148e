package saml

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Defaults for Config.
const (
	// DefaultClockSkew is the tolerance applied to every time comparison. It
	// follows libraries.md §1.5 ("default ≤ 120 s").
	DefaultClockSkew = 2 * time.Minute
	// DefaultMaxAssertionAge is how long after its IssueInstant an assertion
	// is accepted; AWS answers "Token must be redeemed within 5 minutes of
	// issuance" past it.
	DefaultMaxAssertionAge = 5 * time.Minute
	// DefaultMaxResponseBytes is AWS's limit on the SAMLAssertion parameter
	// (base64 characters).
	DefaultMaxResponseBytes = 100000
	// minResponseBytes is the API model's minimum length for SAMLAssertion.
	minResponseBytes = 4
	// ReplayNamespace is the ReplayRecorder namespace for assertion IDs.
	ReplayNamespace = "saml-assertion"
	// RegionPlaceholder in a Config.Recipients entry matches any AWS region
	// code (e.g. "us-east-1", "eu-west-3", "us-gov-west-1").
	RegionPlaceholder = "{region}"
)

// DefaultRecipients are the ACS URLs AWS accepts as
// SubjectConfirmationData/@Recipient, so that IdP applications already
// configured for AWS work unchanged.
func DefaultRecipients() []string {
	return []string{
		"https://signin.aws.amazon.com/saml",
		"https://" + RegionPlaceholder + ".signin.aws.amazon.com/saml",
		"https://signin.aws.amazon.com/static/saml",
	}
}

// DefaultAudiences are the accepted Audience values. AWS documents
// urn:amazon:webservices as the audience the IdP must send; the sign-in URL
// (which is the Recipient) is not accepted as an audience by default.
func DefaultAudiences() []string { return []string{"urn:amazon:webservices"} }

// ReplayRecorder stores one-time identifiers; dbiam's store.ReplayStore
// satisfies it. RecordOnce returns true the first time (namespace, id) is
// recorded while live, false on a replay.
type ReplayRecorder interface {
	RecordOnce(ctx context.Context, namespace, id string, expiresAt, now time.Time) (bool, error)
}

// Config configures a Validator. Zero values take the documented defaults.
type Config struct {
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// ClockSkew is tolerated on every time comparison (NotBefore,
	// NotOnOrAfter, IssueInstant, metadata validUntil). 0 means
	// DefaultClockSkew; negative is an error.
	ClockSkew time.Duration
	// MaxAssertionAge bounds now − Assertion/@IssueInstant (plus skew). 0
	// means DefaultMaxAssertionAge; negative disables the check.
	MaxAssertionAge time.Duration
	// Recipients are the accepted SubjectConfirmationData/@Recipient (and
	// Response/@Destination) values, compared exactly; an entry may contain
	// RegionPlaceholder. nil means DefaultRecipients(). To add an own ACS URL
	// and keep AWS's, append to DefaultRecipients().
	Recipients []string
	// Audiences are the accepted Audience values; nil means
	// DefaultAudiences().
	Audiences []string
	// MaxResponseBytes caps the base64 input before decoding. 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int
	// Replay records assertion IDs so that each is accepted once until it
	// expires. Required: use the store (store.ReplayStore) so that it holds
	// across replicas.
	Replay ReplayRecorder
}

// Validator validates SAML responses. It is safe for concurrent use.
type Validator struct {
	now        func() time.Time
	skew       time.Duration
	maxAge     time.Duration
	recipients []recipientMatcher
	audiences  map[string]bool
	maxBytes   int
	replay     ReplayRecorder
}

type recipientMatcher struct {
	exact string
	re    *regexp.Regexp
}

func (m recipientMatcher) match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	return s == m.exact
}

// regionRe matches AWS region codes: us-east-1, eu-central-2, us-gov-west-1,
// cn-north-1, ap-southeast-4, …
const regionRe = `[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}`

// NewValidator checks cfg and fills in defaults.
func NewValidator(cfg Config) (*Validator, error) {
	v := &Validator{
		now:      cfg.Now,
		skew:     cfg.ClockSkew,
		maxAge:   cfg.MaxAssertionAge,
		maxBytes: cfg.MaxResponseBytes,
		replay:   cfg.Replay,
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.skew < 0:
		return nil, errors.New("saml: negative ClockSkew")
	case v.skew == 0:
		v.skew = DefaultClockSkew
	}
	if v.maxAge == 0 {
		v.maxAge = DefaultMaxAssertionAge
	}
	switch {
	case v.maxBytes < 0:
		return nil, errors.New("saml: negative MaxResponseBytes")
	case v.maxBytes == 0:
		v.maxBytes = DefaultMaxResponseBytes
	}
	if v.replay == nil {
		return nil, errors.New("saml: Config.Replay is required")
	}
	recips := cfg.Recipients
	if recips == nil {
		recips = DefaultRecipients()
	}
	if len(recips) == 0 {
		return nil, errors.New("saml: Config.Recipients is empty")
	}
	for _, r := range recips {
		if r == "" {
			return nil, errors.New("saml: empty entry in Config.Recipients")
		}
		if !strings.Contains(r, RegionPlaceholder) {
			v.recipients = append(v.recipients, recipientMatcher{exact: r})
			continue
		}
		parts := strings.Split(r, RegionPlaceholder)
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re, err := regexp.Compile("^" + strings.Join(parts, regionRe) + "$")
		if err != nil {
			return nil, fmt.Errorf("saml: recipient pattern: %w", err)
		}
		v.recipients = append(v.recipients, recipientMatcher{re: re})
	}
	auds := cfg.Audiences
	if auds == nil {
		auds = DefaultAudiences()
	}
	if len(auds) == 0 {
		return nil, errors.New("saml: Config.Audiences is empty")
	}
	v.audiences = make(map[string]bool, len(auds))
	for _, a := range auds {
		if a == "" {
			return nil, errors.New("saml: empty entry in Config.Audiences")
		}
		v.audiences[a] = true
	}
	return v, nil
}

func (v *Validator) recipientOK(s string) bool {
	for _, m := range v.recipients {
		if m.match(s) {
			return true
		}
	}
	return false
}

// Validate checks a base64 SAMLResponse (the AssumeRoleWithSAML SAMLAssertion
// parameter) against provider p and returns the validated assertion. Every
// value in the result comes from the element goxmldsig re-parsed from the
// signed canonical bytes. The replay record is written last, only for an
// otherwise valid assertion. Errors are *Error.
func (v *Validator) Validate(ctx context.Context, samlResponseB64 string, p *Provider) (*Assertion, error) {
	a, err := v.validate(ctx, samlResponseB64, p)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (v *Validator) validate(ctx context.Context, in string, p *Provider) (*Assertion, *Error) {
	if v == nil || v.replay == nil {
		return nil, newErr(CodeInternalFailure, msgInternal, "saml: Validator not built by NewValidator")
	}
	if p == nil || p.ARN == "" || p.EntityID == "" {
		return nil, newErr(CodeInternalFailure, msgInternal, "saml: provider without ARN or entity ID")
	}
	now := v.now()

	// Size cap before anything else touches the input.
	if len(in) > v.maxBytes {
		return nil, newErr(CodeValidationError,
			fmt.Sprintf("1 validation error detected: Value at 'SAMLAssertion' failed to satisfy constraint: Member must have length less than or equal to %d", v.maxBytes),
			fmt.Sprintf("SAMLAssertion is %d characters, limit %d", len(in), v.maxBytes))
	}
	if len(in) < minResponseBytes {
		return nil, newErr(CodeValidationError,
			"1 validation error detected: Value at 'SAMLAssertion' failed to satisfy constraint: Member must have length greater than or equal to 4",
			"SAMLAssertion is shorter than 4 characters")
	}
	// Fail closed without trust anchors (CVE-2026-28323 shape).
	if len(p.Certs) == 0 {
		return nil, sigErr("the provider has no signing certificates")
	}
	if !p.ValidUntil.IsZero() && !now.Before(p.ValidUntil.Add(v.skew)) {
		return nil, invalid(msgMetadataExpired, "the provider metadata validUntil has passed; register current metadata")
	}

	// Standard base64 with padding; CR/LF (line-wrapped output of some IdPs)
	// are ignored, anything else outside the alphabet is an error. The POST
	// binding never deflates, so no inflate fallback.
	raw, err := base64.StdEncoding.Strict().DecodeString(in)
	if err != nil {
		return nil, invalid(msgBase64, "SAMLAssertion is not standard base64")
	}
	if gerr := guardXML(raw, guardLimits{maxElements: maxElements, maxAttrs: maxTotalAttrs}); gerr != nil {
		return nil, malformed(gerr.Error())
	}
	doc, err := parseTree(raw)
	if err != nil {
		return nil, malformed(err.Error())
	}
	root := doc.Root()
	if !is(root, nsProtocol, "Response") {
		return nil, malformed("the root element is not a samlp:Response")
	}
	if ver, _ := attr(root, "Version"); ver != "2.0" {
		return nil, malformed("the Response Version is not 2.0")
	}
	if id, _ := attr(root, "ID"); !idRe.MatchString(id) {
		return nil, malformed("the Response has no valid ID")
	}
	// Response-level fields may be outside any signature. They are only ever
	// used to reject, so reading them before verification is safe; they are
	// re-read from the verified Response below when it is signed.
	if e := v.checkResponseFields(root, p); e != nil {
		return nil, e
	}

	lay, e := checkLayout(root)
	if e != nil {
		return nil, e
	}
	for _, s := range []*etree.Element{lay.respSig, lay.assertSig} {
		if s == nil {
			continue
		}
		if e := checkSignatureShape(s, p.AllowSHA1); e != nil {
			return nil, e
		}
	}

	ver := newVerifier(p.Certs, now)
	var assertion *etree.Element
	if lay.respSig != nil {
		resp, e := ver.verify(root)
		if e != nil {
			return nil, e
		}
		if e := v.checkResponseFields(resp, p); e != nil {
			return nil, e
		}
		as := childrenNS(resp, nsAssertion, "Assertion")
		if len(as) != 1 {
			return nil, sigErr("the signed Response does not contain exactly one Assertion")
		}
		assertion = as[0]
		// A signature on the assertion inside a signed Response must verify
		// too (gosaml2 ≥ 0.12 semantics).
		if len(childrenNS(assertion, nsDSig, "Signature")) > 0 {
			if assertion, e = ver.verify(assertion); e != nil {
				return nil, e
			}
		}
	} else {
		if assertion, e = ver.verify(lay.assertion); e != nil {
			return nil, e
		}
	}
	if !is(assertion, nsAssertion, "Assertion") {
		return nil, sigErr("the verified element is not a saml:Assertion")
	}

	out, e := v.readAssertion(assertion, p, now)
	if e != nil {
		return nil, e
	}

	// Replay: one use per (provider, assertion ID) until it expires.
	key := p.ARN + "|" + out.ID
	ok, err := v.replay.RecordOnce(ctx, ReplayNamespace, key, out.NotOnOrAfter.Add(v.skew), now)
	if err != nil {
		return nil, &Error{Code: CodeInternalFailure, Message: msgInternal,
			Detail: fmt.Errorf("replay store: %w", redact(err, key, out.ID))}
	}
	if !ok {
		return nil, invalid(msgReplay, "the assertion ID was already used with this provider")
	}
	return out, nil
}

// checkResponseFields applies the Response-level rules: Status Success (else
// IDPRejectedClaim), Issuer (if present) equal to the provider's entity ID,
// Destination (if present) an accepted recipient.
func (v *Validator) checkResponseFields(resp *etree.Element, p *Provider) *Error {
	statuses := childrenNS(resp, nsProtocol, "Status")
	if len(statuses) != 1 {
		return malformed("the Response must have exactly one Status")
	}
	codes := childrenNS(statuses[0], nsProtocol, "StatusCode")
	if len(codes) != 1 {
		return malformed("the Status must have exactly one StatusCode")
	}
	if val, _ := attr(codes[0], "Value"); val != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		return newErr(CodeIDPRejectedClaim, msgIDPRejected, "the Response Status is not Success")
	}
	issuers := childrenNS(resp, nsAssertion, "Issuer")
	switch len(issuers) {
	case 0:
	case 1:
		if e := checkIssuer(issuers[0], p, "Response"); e != nil {
			return e
		}
	default:
		return malformed("the Response has more than one Issuer")
	}
	if dest, ok := attr(resp, "Destination"); ok && !v.recipientOK(dest) {
		return invalid(msgRecipient, "the Response Destination is not an accepted recipient URL")
	}
	return nil
}

const entityFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"

func checkIssuer(el *etree.Element, p *Provider, where string) *Error {
	if len(el.ChildElements()) != 0 {
		return malformed("the " + where + " Issuer has child elements")
	}
	if f, ok := attr(el, "Format"); ok && f != entityFormat {
		return invalid(msgIssuer, "the "+where+" Issuer Format is not entity")
	}
	if strings.TrimSpace(el.Text()) != p.EntityID {
		return invalid(msgIssuer, fmt.Sprintf("the %s Issuer is not the provider's entity ID %q", where, p.EntityID))
	}
	return nil
}

// parseTime parses an xs:dateTime with a time zone.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func humanDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
	return d.String()
}
