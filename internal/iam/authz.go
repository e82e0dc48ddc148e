package iam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/audit"
	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/store"
)

// PolicyAuthorizer authorizes calls with the caller's IAM policies: the
// account root may do everything; an IAM user is allowed what its inline
// and attached policies and those of its groups allow, within its
// permissions boundary.
type PolicyAuthorizer struct {
	Store  store.Store
	Cache  *policy.Cache
	Logger *slog.Logger
}

var _ Authorizer = (*PolicyAuthorizer)(nil)

// Check is one authorization question beyond "may the caller do action on
// resource": resource-based policies (a role's trust policy), extra
// condition keys (redshift:DbUser, saml:*), and who the caller is for
// Principal matching.
type Check struct {
	Action, Resource string
	// ResourcePolicies are resource-based policies that apply (trust
	// policies); with RequireResource one of them must allow.
	ResourcePolicies []*policy.NamedPolicy
	RequireResource  bool
	// Principal overrides the caller description for Principal matching
	// (AssumeRoleWithSAML: the federated provider); nil derives it from the
	// caller.
	Principal *policy.PrincipalInfo
	// Context adds condition keys to the caller's global ones.
	Context map[string][]string
	// Anonymous evaluates only the resource-based policies (the caller of
	// AssumeRoleWithSAML has no identity policies).
	Anonymous bool
}

// Authorize implements Authorizer. The decision, with the statements that
// decided it, is recorded on req for the audit log; the client only sees
// AWS's AccessDenied message.
func (a *PolicyAuthorizer) Authorize(ctx context.Context, req *dispatch.Request, action, resource string) error {
	return a.Check(ctx, req, Check{Action: action, Resource: resource})
}

// Check answers c for the caller of req. The account root is allowed
// everything its resource-based policies do not forbid.
func (a *PolicyAuthorizer) Check(ctx context.Context, req *dispatch.Request, c Check) error {
	p := req.Principal
	var set policy.PolicySet
	var pctx policy.Context
	if c.Anonymous {
		pctx = anonymousContext(req)
	} else if p.Kind == identity.KindRoot {
		pctx = RequestContext(req)
		set.Identity = []*policy.NamedPolicy{{Name: "account root", Policy: a.rootPolicy()}}
	} else {
		var err error
		set, pctx, err = a.policiesFor(ctx, req)
		if err != nil {
			return err
		}
	}
	for k, v := range c.Context {
		pctx.Set(k, v...)
	}
	set.Resource = c.ResourcePolicies
	set.RequireResource = c.RequireResource
	info := c.Principal
	if info == nil {
		info = principalInfo(p)
	}
	d := policy.Evaluate(&policy.Request{Action: c.Action, Resource: c.Resource, Principal: info, Context: pctx}, set)
	matched := make([]string, 0, len(d.Matched))
	for _, m := range d.Matched {
		matched = append(matched, m.Policy+"#"+m.String())
	}
	req.RecordDecision(audit.Decision{Action: c.Action, Resource: c.Resource, Effect: d.Effect.String(), Matched: matched})
	if d.Effect == policy.Allowed {
		return nil
	}
	return AccessDenied(p, c.Action, c.Resource, d.Effect == policy.ExplicitDeny)
}

// rootPolicy allows everything: the account root is not subject to IAM
// policies (only to resource-based policies that deny it).
func (a *PolicyAuthorizer) rootPolicy() *policy.Policy {
	pol, err := a.Cache.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), policy.Identity)
	if err != nil {
		panic("iam: the root policy does not parse: " + err.Error())
	}
	return pol
}

func principalInfo(p identity.Principal) *policy.PrincipalInfo {
	info := &policy.PrincipalInfo{AccountID: p.AccountID, ARN: p.ARN}
	if p.Kind == identity.KindAssumedRole && p.Session != nil {
		info.RoleARN = p.Session.RoleARN(p.AccountID)
	}
	return info
}

// AccessDenied returns AWS's AccessDenied error for principal p.
func AccessDenied(p identity.Principal, action, resource string, explicit bool) error {
	kind := "User"
	msg := fmt.Sprintf("%s: %s is not authorized to perform: %s on resource: %s", kind, p.ARN, action, resource)
	if explicit {
		msg += " with an explicit deny"
	}
	return &awserr.Error{Code: awserr.AccessDenied, Message: msg, HTTPStatus: 403}
}

// policiesFor collects the policies and request context of the caller.
func (a *PolicyAuthorizer) policiesFor(ctx context.Context, req *dispatch.Request) (policy.PolicySet, policy.Context, error) {
	p := req.Principal
	pctx := RequestContext(req)
	var set policy.PolicySet
	switch p.Kind {
	case identity.KindUser:
		u, err := a.Store.GetUser(ctx, p.Name)
		if err != nil {
			return set, pctx, fmt.Errorf("load caller %s: %w", p.ARN, err)
		}
		for k, v := range u.Tags {
			pctx.Set("aws:PrincipalTag/"+k, v)
		}
		effective, err := a.Store.EffectivePolicies(ctx, store.KindUser, u.Name)
		if err != nil {
			return set, pctx, fmt.Errorf("load policies of %s: %w", p.ARN, err)
		}
		for _, e := range effective {
			pol, err := a.Cache.Parse([]byte(e.Document), policy.Identity)
			if err != nil {
				// Fail closed: a stored policy that no longer parses might
				// hold a Deny.
				return set, pctx, fmt.Errorf("stored policy %s does not parse: %w", e.Source, err)
			}
			set.Identity = append(set.Identity, &policy.NamedPolicy{Name: e.Source, Policy: pol})
		}
		if u.PermissionsBoundary != "" {
			b, err := a.boundary(ctx, u.PermissionsBoundary)
			if err != nil {
				return set, pctx, err
			}
			set.Boundaries = append(set.Boundaries, b)
		}
	case identity.KindAssumedRole:
		if err := a.rolePolicies(ctx, p, &set, &pctx); err != nil {
			return set, pctx, err
		}
	default:
		return set, pctx, AccessDenied(p, "", "", false)
	}
	return set, pctx, nil
}

// rolePolicies adds a role session's permissions: the role's policies,
// its boundary, and the session policies, which intersect with them.
func (a *PolicyAuthorizer) rolePolicies(ctx context.Context, p identity.Principal, set *policy.PolicySet, pctx *policy.Context) error {
	sess := p.Session
	role, err := a.Store.GetRole(ctx, sess.RoleName)
	if err != nil {
		return fmt.Errorf("load role of %s: %w", p.ARN, err)
	}
	if role.ID != sess.RoleID {
		// The role was deleted and re-created: old sessions do not carry over.
		return AccessDenied(p, "", "", false)
	}
	for k, v := range role.Tags {
		pctx.Set("aws:PrincipalTag/"+k, v)
	}
	for k, v := range sess.Tags {
		pctx.Set("aws:PrincipalTag/"+k, v)
	}
	effective, err := a.Store.EffectivePolicies(ctx, store.KindRole, role.Name)
	if err != nil {
		return fmt.Errorf("load policies of %s: %w", p.ARN, err)
	}
	for _, e := range effective {
		pol, err := a.Cache.Parse([]byte(e.Document), policy.Identity)
		if err != nil {
			return fmt.Errorf("stored policy %s does not parse: %w", e.Source, err)
		}
		set.Identity = append(set.Identity, &policy.NamedPolicy{Name: e.Source, Policy: pol})
	}
	if role.PermissionsBoundary != "" {
		b, err := a.boundary(ctx, role.PermissionsBoundary)
		if err != nil {
			return err
		}
		set.Boundaries = append(set.Boundaries, b)
	}
	for i, doc := range sess.Policies {
		pol, err := a.Cache.Parse([]byte(doc), policy.Session)
		if err != nil {
			return fmt.Errorf("session policy %d of %s does not parse: %w", i+1, p.ARN, err)
		}
		set.Session = append(set.Session, &policy.NamedPolicy{Name: fmt.Sprintf("session policy %d", i+1), Policy: pol})
	}
	for _, arn := range sess.PolicyARNs {
		b, err := a.boundary(ctx, arn)
		if err != nil {
			return err
		}
		set.Session = append(set.Session, b)
	}
	if len(sess.Policies)+len(sess.PolicyARNs) > 0 && len(set.Session) == 0 {
		return AccessDenied(p, "", "", false)
	}
	return nil
}

// anonymousContext is the context of an unsigned call: only the keys about
// the request itself.
func anonymousContext(req *dispatch.Request) policy.Context {
	var c policy.Context
	if req.SourceIP.IsValid() {
		c.Set("aws:SourceIp", req.SourceIP.String())
	}
	c.Set("aws:CurrentTime", req.Time.UTC().Format(time.RFC3339))
	c.Set("aws:EpochTime", strconv.FormatInt(req.Time.Unix(), 10))
	c.Set("aws:SecureTransport", strconv.FormatBool(req.Secure))
	return c
}

// boundary loads the default version of the managed policy named by arn.
func (a *PolicyAuthorizer) boundary(ctx context.Context, policyARN string) (*policy.NamedPolicy, error) {
	name := policyARN[strings.LastIndexByte(policyARN, '/')+1:]
	mp, err := a.Store.GetManagedPolicy(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		// Fail closed: without its boundary the caller's reach is unknown.
		return nil, fmt.Errorf("permissions boundary %s does not exist: %w", policyARN, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load permissions boundary %s: %w", policyARN, err)
	}
	v, err := a.Store.GetPolicyVersion(ctx, mp.Name, mp.DefaultVersionID)
	if err != nil {
		return nil, fmt.Errorf("load permissions boundary %s: %w", policyARN, err)
	}
	pol, err := a.Cache.Parse([]byte(v.Document), policy.Boundary)
	if err != nil {
		return nil, fmt.Errorf("permissions boundary %s does not parse: %w", policyARN, err)
	}
	return &policy.NamedPolicy{Name: policyARN + "@" + v.VersionID, Policy: pol}, nil
}

// RequestContext returns the global condition keys AWS provides for every
// request of this caller.
func RequestContext(req *dispatch.Request) policy.Context {
	var c policy.Context
	p := req.Principal
	c.Set("aws:PrincipalArn", p.ARN)
	c.Set("aws:PrincipalAccount", p.AccountID)
	c.Set("aws:userid", p.UserID)
	switch p.Kind {
	case identity.KindUser:
		c.Set("aws:username", p.Name)
		c.Set("aws:PrincipalType", "User")
	case identity.KindRoot:
		c.Set("aws:PrincipalType", "Account")
	case identity.KindAssumedRole:
		c.Set("aws:PrincipalType", "AssumedRole")
		if s := p.Session; s != nil {
			// For a role session aws:PrincipalArn is the role's ARN.
			c.Set("aws:PrincipalArn", s.RoleARN(p.AccountID))
			if s.FederatedProvider != "" {
				c.Set("aws:FederatedProvider", s.FederatedProvider)
			}
		}
	}
	if s := p.Session; s != nil {
		c.Set("aws:TokenIssueTime", time.Unix(s.IssuedAt, 0).UTC().Format(time.RFC3339))
		if s.SourceIdentity != "" {
			c.Set("aws:SourceIdentity", s.SourceIdentity)
		}
	}
	if req.SourceIP.IsValid() {
		c.Set("aws:SourceIp", req.SourceIP.String())
	}
	c.Set("aws:CurrentTime", req.Time.UTC().Format(time.RFC3339))
	c.Set("aws:EpochTime", strconv.FormatInt(req.Time.Unix(), 10))
	c.Set("aws:SecureTransport", strconv.FormatBool(req.Secure))
	c.Set("aws:MultiFactorAuthPresent", "false")
	if req.Region != "" {
		c.Set("aws:RequestedRegion", req.Region)
	}
	return c
}
