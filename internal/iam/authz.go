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

// Authorize implements Authorizer. The decision, with the statements that
// decided it, is recorded on req for the audit log; the client only sees
// AWS's AccessDenied message.
func (a *PolicyAuthorizer) Authorize(ctx context.Context, req *dispatch.Request, action, resource string) error {
	p := req.Principal
	if p.Kind == identity.KindRoot {
		req.RecordDecision(audit.Decision{Action: action, Resource: resource, Effect: policy.Allowed.String(), Matched: []string{"account root"}})
		return nil
	}
	set, pctx, err := a.policiesFor(ctx, req)
	if err != nil {
		return err
	}
	d := policy.Evaluate(&policy.Request{Action: action, Resource: resource, Context: pctx}, set)
	matched := make([]string, 0, len(d.Matched))
	for _, m := range d.Matched {
		matched = append(matched, m.Policy+"#"+m.String())
	}
	req.RecordDecision(audit.Decision{Action: action, Resource: resource, Effect: d.Effect.String(), Matched: matched})
	if d.Effect == policy.Allowed {
		return nil
	}
	return AccessDenied(p, action, resource, d.Effect == policy.ExplicitDeny)
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
	default:
		return set, pctx, AccessDenied(p, "", "", false)
	}
	return set, pctx, nil
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
