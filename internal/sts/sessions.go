package sts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/store"
)

// Session length limits, in seconds.
const (
	minDuration             = 900
	defaultRoleDuration     = 3600
	chainedRoleMaxDuration  = 3600
	defaultUserTokenSeconds = 43200
	maxUserTokenSeconds     = 129600
	rootTokenMaxSeconds     = 3600
	maxSessionPolicyChars   = 2048
	maxSessionPolicyARNs    = 10
	maxSessionTags          = 50
)

// issue mints temporary credentials for c valid until expires.
func (s *Service) issue(c claims, expires time.Time) (credentialsXML, error) {
	id, err := identity.NewAccessKeyID(identity.PrefixTempAccessKey, s.rand)
	if err != nil {
		return credentialsXML{}, err
	}
	sec, err := identity.NewSecretAccessKey(s.rand)
	if err != nil {
		return credentialsXML{}, err
	}
	c.AccountID, c.AccessKeyID, c.Secret = s.account, id, sec.Reveal()
	tok, err := s.tokens.seal(c)
	if err != nil {
		return credentialsXML{}, err
	}
	return credentialsXML{AccessKeyID: id, SecretAccessKey: sec.Reveal(), SessionToken: tok, Expiration: query.Timestamp(expires)}, nil
}

type getSessionTokenInput struct {
	DurationSeconds *int    `query:"DurationSeconds"`
	SerialNumber    *string `query:"SerialNumber"`
	TokenCode       *string `query:"TokenCode"`
}

type getSessionTokenResult struct {
	Credentials credentialsXML `xml:"Credentials"`
}

func (s *Service) getSessionToken(_ context.Context, req *dispatch.Request) (any, error) {
	var in getSessionTokenInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p := req.Principal
	if p.Session != nil {
		return nil, awserr.New(awserr.AccessDenied, "Cannot call GetSessionToken with session credentials")
	}
	if in.SerialNumber != nil || in.TokenCode != nil {
		return nil, awserr.New(awserr.InvalidParameterValue, "MFA devices are not supported by this server: omit SerialNumber and TokenCode.")
	}
	def, max := defaultUserTokenSeconds, maxUserTokenSeconds
	if p.Kind == identity.KindRoot {
		def, max = rootTokenMaxSeconds, rootTokenMaxSeconds
	}
	d, err := duration(in.DurationSeconds, def, max)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(d)
	c := claims{Kind: p.Kind, Session: &identity.Session{Source: "GetSessionToken", IssuedAt: now.Unix(), Expiration: exp.Unix()}}
	if p.Kind == identity.KindUser {
		c.UserName, c.UserID = p.Name, p.UserID
		c.UserPath = strings.TrimSuffix(strings.TrimPrefix(p.ARN, "arn:aws:iam::"+p.AccountID+":user"), p.Name)
	}
	creds, err := s.issue(c, exp)
	if err != nil {
		return nil, err
	}
	return &getSessionTokenResult{Credentials: creds}, nil
}

func duration(v *int, def, max int) (time.Duration, error) {
	if v == nil {
		return time.Duration(def) * time.Second, nil
	}
	if *v < minDuration || *v > max {
		return 0, awserr.New(awserr.ValidationError, "1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", *v, minDuration, max)
	}
	return time.Duration(*v) * time.Second, nil
}

type policyARNInput struct {
	ARN string `query:"arn"`
}

type tagInput struct {
	Key   string `query:"Key,required"`
	Value string `query:"Value"`
}

type assumeRoleInput struct {
	RoleArn           string           `query:"RoleArn,required"`
	RoleSessionName   string           `query:"RoleSessionName,required"`
	DurationSeconds   *int             `query:"DurationSeconds"`
	ExternalID        *string          `query:"ExternalId"`
	Policy            *string          `query:"Policy"`
	PolicyArns        []policyARNInput `query:"PolicyArns,list"`
	Tags              []tagInput       `query:"Tags,list"`
	TransitiveTagKeys []string         `query:"TransitiveTagKeys,list"`
	SourceIdentity    *string          `query:"SourceIdentity"`
	SerialNumber      *string          `query:"SerialNumber"`
	TokenCode         *string          `query:"TokenCode"`
}

type assumeRoleResult struct {
	Credentials      credentialsXML     `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUserXML `xml:"AssumedRoleUser"`
	PackedPolicySize int                `xml:"PackedPolicySize"`
	SourceIdentity   string             `xml:"SourceIdentity,omitempty"`
}

func (s *Service) assumeRole(ctx context.Context, req *dispatch.Request) (any, error) {
	var in assumeRoleInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p := req.Principal
	if in.SerialNumber != nil || in.TokenCode != nil {
		return nil, awserr.New(awserr.InvalidParameterValue, "MFA devices are not supported by this server: omit SerialNumber and TokenCode.")
	}
	var v validation
	v.sessionName("roleSessionName", in.RoleSessionName)
	if in.ExternalID != nil {
		v.externalID(*in.ExternalID)
	}
	if in.SourceIdentity != nil {
		v.sourceIdentity(*in.SourceIdentity)
	}
	tags := make(map[string]string, len(in.Tags))
	for _, t := range in.Tags {
		tags[t.Key] = t.Value
	}
	v.tags(tags, len(in.Tags), in.TransitiveTagKeys)
	if err := v.err(); err != nil {
		return nil, err
	}
	session, err := s.sessionPolicies(ctx, in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	chained := p.Kind == identity.KindAssumedRole
	if p.Kind == identity.KindUser && p.Session != nil {
		return nil, awserr.New(awserr.AccessDenied, "Cannot call AssumeRole with GetSessionToken credentials")
	}
	role, trust, err := s.roleForARN(ctx, in.RoleArn)
	if err != nil {
		if errors.Is(err, errNoRole) {
			return nil, iam.AccessDenied(p, "sts:AssumeRole", in.RoleArn, false)
		}
		return nil, err
	}
	// Tags and the source identity carried over by role chaining.
	transitive := in.TransitiveTagKeys
	sourceIdentity := ""
	if in.SourceIdentity != nil {
		sourceIdentity = *in.SourceIdentity
	}
	if chained && p.Session != nil {
		for _, k := range p.Session.TransitiveTagKeys {
			if _, set := tags[k]; set {
				return nil, awserr.New(awserr.InvalidParameterValue, "Tag key %s is transitive from the calling session and cannot be set again.", k)
			}
			tags[k] = p.Session.Tags[k]
			transitive = append(transitive, k)
		}
		if p.Session.SourceIdentity != "" {
			if sourceIdentity != "" && sourceIdentity != p.Session.SourceIdentity {
				return nil, awserr.New(awserr.InvalidParameterValue, "The source identity of a role chain cannot change.")
			}
			sourceIdentity = p.Session.SourceIdentity
		}
	}

	max := role.MaxSessionDuration
	if chained {
		max = chainedRoleMaxDuration
	}
	if in.DurationSeconds != nil && *in.DurationSeconds > max {
		msg := "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
		if chained {
			msg = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
		}
		return nil, awserr.New(awserr.ValidationError, "%s", msg)
	}
	d, err := duration(in.DurationSeconds, defaultRoleDuration, max)
	if err != nil {
		return nil, err
	}

	roleARN := s.roleARN(role)
	keys := requestTagKeys(tags, transitive)
	keys["sts:RoleSessionName"] = []string{in.RoleSessionName}
	if in.ExternalID != nil {
		keys["sts:ExternalId"] = []string{*in.ExternalID}
	}
	if sourceIdentity != "" {
		keys["sts:SourceIdentity"] = []string{sourceIdentity}
	}
	for _, action := range assumeActions("sts:AssumeRole", len(in.Tags) > 0, in.SourceIdentity != nil) {
		err := s.authz.Check(ctx, req, iam.Check{Action: action, Resource: roleARN, ResourcePolicies: trust, RequireResource: true, Context: keys})
		if err != nil {
			return nil, err
		}
	}

	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(d)
	sess := &identity.Session{
		Source: "AssumeRole", RoleName: role.Name, RolePath: role.Path, RoleID: role.ID, SessionName: in.RoleSessionName,
		Policies: session.docs, PolicyARNs: session.arns, Tags: nilIfEmpty(tags), TransitiveTagKeys: transitive,
		SourceIdentity: sourceIdentity, Chained: chained, IssuedAt: now.Unix(), Expiration: exp.Unix(),
	}
	creds, err := s.issue(claims{Kind: identity.KindAssumedRole, Session: sess}, exp)
	if err != nil {
		return nil, err
	}
	ap := identity.AssumedRole(s.account, sess, creds.AccessKeyID)
	return &assumeRoleResult{
		Credentials:      creds,
		AssumedRoleUser:  assumedRoleUserXML{AssumedRoleID: ap.UserID, Arn: ap.ARN},
		PackedPolicySize: packedSize(session.packed, tags),
		SourceIdentity:   sourceIdentity,
	}, nil
}

type assumeRoleWithSAMLInput struct {
	RoleArn         string           `query:"RoleArn,required"`
	PrincipalArn    string           `query:"PrincipalArn,required"`
	SAMLAssertion   string           `query:"SAMLAssertion,required"`
	DurationSeconds *int             `query:"DurationSeconds"`
	Policy          *string          `query:"Policy"`
	PolicyArns      []policyARNInput `query:"PolicyArns,list"`
}

type assumeRoleWithSAMLResult struct {
	Credentials      credentialsXML     `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUserXML `xml:"AssumedRoleUser"`
	PackedPolicySize int                `xml:"PackedPolicySize"`
	Subject          string             `xml:"Subject"`
	SubjectType      string             `xml:"SubjectType"`
	Issuer           string             `xml:"Issuer"`
	Audience         string             `xml:"Audience"`
	NameQualifier    string             `xml:"NameQualifier"`
	SourceIdentity   string             `xml:"SourceIdentity,omitempty"`
}

// notAuthorizedSAML is AWS's answer when the trust policy or the assertion's
// Role attribute does not allow the requested role.
func notAuthorizedSAML() error {
	return &awserr.Error{Code: awserr.AccessDenied, Message: "Not authorized to perform sts:AssumeRoleWithSAML", HTTPStatus: http.StatusForbidden}
}

func (s *Service) assumeRoleWithSAML(ctx context.Context, req *dispatch.Request) (any, error) {
	var in assumeRoleWithSAMLInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if n := len(in.SAMLAssertion); n < 4 || n > 100000 {
		return nil, awserr.New(awserr.ValidationError, "1 validation error detected: Value at 'SAMLAssertion' failed to satisfy constraint: Member must have length between 4 and 100000")
	}
	session, err := s.sessionPolicies(ctx, in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	provider, err := s.provider(ctx, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	a, err := s.saml.Validate(ctx, in.SAMLAssertion, provider)
	if err != nil {
		s.log.Info("SAML response rejected", "request_id", req.ID, "provider", provider.ARN, "error", err)
		return nil, err
	}
	if !a.HasRole(in.RoleArn, in.PrincipalArn) {
		s.log.Info("SAML response does not list the requested role", "request_id", req.ID, "role", in.RoleArn, "provider", provider.ARN)
		return nil, notAuthorizedSAML()
	}
	role, trust, err := s.roleForARN(ctx, in.RoleArn)
	if errors.Is(err, errNoRole) {
		return nil, notAuthorizedSAML()
	}
	if err != nil {
		return nil, err
	}

	keys := map[string][]string{}
	maps.Copy(keys, a.ConditionKeys(s.account, provider.Name))
	maps.Copy(keys, requestTagKeys(a.PrincipalTags, a.TransitiveTagKeys))
	if a.SourceIdentity != "" {
		keys["sts:SourceIdentity"] = []string{a.SourceIdentity}
	}
	info := &policy.PrincipalInfo{Federated: provider.ARN}
	for _, action := range assumeActions("sts:AssumeRoleWithSAML", len(a.PrincipalTags) > 0, a.SourceIdentity != "") {
		err := s.authz.Check(ctx, req, iam.Check{Action: action, Resource: s.roleARN(role), ResourcePolicies: trust, RequireResource: true,
			Principal: info, Context: keys, Anonymous: true})
		if err != nil {
			return nil, notAuthorizedSAML()
		}
	}

	if in.DurationSeconds != nil && *in.DurationSeconds > role.MaxSessionDuration {
		return nil, awserr.New(awserr.ValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	d, err := duration(in.DurationSeconds, defaultRoleDuration, role.MaxSessionDuration)
	if err != nil {
		return nil, err
	}
	if a.SessionDuration > 0 {
		d = min(d, time.Duration(a.SessionDuration)*time.Second)
	}
	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(d)
	if !a.SessionNotOnOrAfter.IsZero() && a.SessionNotOnOrAfter.Before(exp) {
		exp = a.SessionNotOnOrAfter.UTC().Truncate(time.Second)
	}
	if !exp.After(now) {
		return nil, &awserr.Error{Code: "ExpiredTokenException", Message: "Token has expired: the SAML session ended (SessionNotOnOrAfter).", HTTPStatus: http.StatusBadRequest}
	}
	sess := &identity.Session{
		Source: "AssumeRoleWithSAML", RoleName: role.Name, RolePath: role.Path, RoleID: role.ID, SessionName: a.RoleSessionName,
		FederatedProvider: provider.ARN, Policies: session.docs, PolicyARNs: session.arns, Tags: nilIfEmpty(a.PrincipalTags),
		TransitiveTagKeys: a.TransitiveTagKeys, SourceIdentity: a.SourceIdentity, IssuedAt: now.Unix(), Expiration: exp.Unix(),
	}
	creds, err := s.issue(claims{Kind: identity.KindAssumedRole, Session: sess}, exp)
	if err != nil {
		return nil, err
	}
	ap := identity.AssumedRole(s.account, sess, creds.AccessKeyID)
	s.log.Info("federated session issued", "request_id", req.ID, "role", ap.ARN, "provider", provider.ARN, "subject_type", a.SubjectType, "expiration", exp)
	return &assumeRoleWithSAMLResult{
		Credentials:      creds,
		AssumedRoleUser:  assumedRoleUserXML{AssumedRoleID: ap.UserID, Arn: ap.ARN},
		PackedPolicySize: packedSize(session.packed, a.PrincipalTags),
		Subject:          a.NameID,
		SubjectType:      a.SubjectType,
		Issuer:           a.Issuer,
		Audience:         a.Recipient,
		NameQualifier:    saml.NameQualifier(a.Issuer, s.account, provider.Name),
		SourceIdentity:   a.SourceIdentity,
	}, nil
}

// provider loads and parses the SAML provider named by a PrincipalArn.
func (s *Service) provider(ctx context.Context, principalARN string) (*saml.Provider, error) {
	prefix := "arn:aws:iam::" + s.account + ":saml-provider/"
	name, ok := strings.CutPrefix(principalARN, prefix)
	if !ok || name == "" {
		return nil, &awserr.Error{Code: saml.CodeInvalidIdentityToken, Message: "Specified provider doesn't exist.", HTTPStatus: http.StatusBadRequest}
	}
	sp, err := s.store.GetSAMLProvider(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &awserr.Error{Code: saml.CodeInvalidIdentityToken, Message: "Specified provider doesn't exist.", HTTPStatus: http.StatusBadRequest}
	}
	if err != nil {
		return nil, fmt.Errorf("load SAML provider %s: %w", name, err)
	}
	p, err := saml.ParseMetadata([]byte(sp.MetadataDocument))
	if err != nil {
		return nil, fmt.Errorf("stored metadata of SAML provider %s does not parse: %w", name, err)
	}
	p.ARN, p.Name = principalARN, sp.Name
	return p, nil
}

var errNoRole = errors.New("sts: no such role")

// roleForARN loads the role named by an ARN of this account and parses its
// trust policy.
func (s *Service) roleForARN(ctx context.Context, roleARN string) (store.Role, []*policy.NamedPolicy, error) {
	rest, ok := strings.CutPrefix(roleARN, "arn:aws:iam::"+s.account+":role/")
	if !ok || rest == "" {
		return store.Role{}, nil, errNoRole
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	role, err := s.store.GetRole(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.roleARN(role) != roleARN) {
		return store.Role{}, nil, errNoRole
	}
	if err != nil {
		return store.Role{}, nil, fmt.Errorf("load role %s: %w", name, err)
	}
	trust, err := s.authz.Cache.Parse([]byte(role.AssumeRolePolicyDocument), policy.Trust)
	if err != nil {
		return store.Role{}, nil, fmt.Errorf("trust policy of role %s does not parse: %w", name, err)
	}
	return role, []*policy.NamedPolicy{{Name: "role/" + role.Name + "/trust", Policy: trust}}, nil
}

func (s *Service) roleARN(r store.Role) string {
	return "arn:aws:iam::" + s.account + ":role" + r.Path + r.Name
}

type sessionPolicySet struct {
	docs   []string
	arns   []string
	packed int
}

// sessionPolicies validates the Policy and PolicyArns parameters.
func (s *Service) sessionPolicies(ctx context.Context, doc *string, arns []policyARNInput) (sessionPolicySet, error) {
	var out sessionPolicySet
	if doc != nil {
		pol, err := policy.ParseWithOptions([]byte(*doc), policy.ParseOptions{Kind: policy.Session, MaxSize: -1})
		if err != nil {
			var pe *policy.ParseError
			if errors.As(err, &pe) {
				return out, &awserr.Error{Code: "MalformedPolicyDocument", Message: pe.Error(), HTTPStatus: http.StatusBadRequest}
			}
			return out, err
		}
		if pol.Size() > maxSessionPolicyChars {
			return out, &awserr.Error{Code: "PackedPolicyTooLarge", Message: "Packed policy consumes " + strconv.Itoa(pol.Size()*100/maxSessionPolicyChars) + "% of allotted space, please use smaller policy.", HTTPStatus: http.StatusBadRequest}
		}
		out.docs, out.packed = []string{*doc}, pol.Size()
	}
	if len(arns) > maxSessionPolicyARNs {
		return out, awserr.New(awserr.ValidationError, "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionPolicyARNs)
	}
	prefix := "arn:aws:iam::" + s.account + ":policy/"
	for _, a := range arns {
		rest, ok := strings.CutPrefix(a.ARN, prefix)
		if !ok || rest == "" {
			return out, awserr.New(awserr.InvalidParameterValue, "Policy ARN %s is not a managed policy of this account.", boundedARN(a.ARN))
		}
		if _, err := s.store.GetManagedPolicy(ctx, rest[strings.LastIndexByte(rest, '/')+1:]); err != nil {
			return out, awserr.New(awserr.InvalidParameterValue, "Policy %s does not exist.", boundedARN(a.ARN))
		}
		out.arns = append(out.arns, a.ARN)
		out.packed += len(a.ARN)
	}
	return out, nil
}

func boundedARN(s string) string {
	if len(s) > 2048 {
		s = s[:2048]
	}
	return strings.ToValidUTF8(s, "?")
}

// packedSize reports the share of the packed session allowance used, in
// percent, as AWS's PackedPolicySize does.
func packedSize(policyChars int, tags map[string]string) int {
	n := policyChars
	for k, v := range tags {
		n += len(k) + len(v)
	}
	return n * 100 / maxSessionPolicyChars
}

// assumeActions lists the actions a role assumption needs: the assume
// action, plus sts:TagSession with session tags and sts:SetSourceIdentity
// with a source identity.
func assumeActions(action string, tags, sourceIdentity bool) []string {
	out := []string{action}
	if tags {
		out = append(out, "sts:TagSession")
	}
	if sourceIdentity {
		out = append(out, "sts:SetSourceIdentity")
	}
	return out
}

func requestTagKeys(tags map[string]string, transitive []string) map[string][]string {
	keys := map[string][]string{}
	if len(tags) == 0 {
		return keys
	}
	names := slices.Sorted(maps.Keys(tags))
	for _, k := range names {
		keys["aws:RequestTag/"+k] = []string{tags[k]}
	}
	keys["aws:TagKeys"] = names
	if len(transitive) > 0 {
		keys["sts:TransitiveTagKeys"] = transitive
	}
	return keys
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
