package iam

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/store"
)

// inlineOwners describes one kind of owner of inline policies (users,
// groups or roles), so that the twelve {Put,Get,List,Delete}{User,Group,
// Role}Policy actions share one implementation.
type inlineOwners struct {
	kind    store.PrincipalKind
	noun    string // "user": in messages
	action  string // "User": iam:Put<action>Policy …
	field   string // "userName": the owner parameter in validation messages
	maxName int
	// maxSize is AWS's quota on the aggregate size of the owner's inline
	// policies, in characters not counting whitespace.
	maxSize int
	// authorized loads the owner, authorizes action on its ARN (with its
	// path) and returns its name as stored.
	authorized func(ctx context.Context, req *dispatch.Request, action, name string) (string, error)
}

func (s *Service) userPolicies() inlineOwners {
	return inlineOwners{kind: store.KindUser, noun: "user", action: "User", field: "userName", maxName: 128, maxSize: MaxUserInlinePolicySize,
		authorized: func(ctx context.Context, req *dispatch.Request, action, name string) (string, error) {
			u, err := s.authorizedUser(ctx, req, action, name)
			return u.Name, err
		}}
}

func (s *Service) groupPolicies() inlineOwners {
	return inlineOwners{kind: store.KindGroup, noun: "group", action: "Group", field: "groupName", maxName: 128, maxSize: MaxGroupInlinePolicySize,
		authorized: func(ctx context.Context, req *dispatch.Request, action, name string) (string, error) {
			g, err := s.authorizedGroup(ctx, req, action, name)
			return g.Name, err
		}}
}

func (s *Service) rolePolicies() inlineOwners {
	return inlineOwners{kind: store.KindRole, noun: "role", action: "Role", field: "roleName", maxName: 64, maxSize: MaxRoleInlinePolicySize,
		authorized: func(ctx context.Context, req *dispatch.Request, action, name string) (string, error) {
			r, err := s.authorizedRole(ctx, req, action, name)
			return r.Name, err
		}}
}

// inlineInput is the request of an inline policy action, whatever the name
// of its owner parameter (UserName, GroupName or RoleName).
type inlineInput struct {
	Owner          string
	PolicyName     string
	PolicyDocument string
	Marker         *string
	MaxItems       *int
}

// inlineDecoder decodes one action's parameters into an inlineInput; the
// per-kind structs below make Decode reject the other kinds' owner
// parameters.
type inlineDecoder func(req *dispatch.Request) (inlineInput, error)

func decodePutUserPolicy(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		UserName       string `query:"UserName,required"`
		PolicyName     string `query:"PolicyName,required"`
		PolicyDocument string `query:"PolicyDocument,required"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.UserName, PolicyName: in.PolicyName, PolicyDocument: in.PolicyDocument}, err
}

func decodePutGroupPolicy(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		GroupName      string `query:"GroupName,required"`
		PolicyName     string `query:"PolicyName,required"`
		PolicyDocument string `query:"PolicyDocument,required"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.GroupName, PolicyName: in.PolicyName, PolicyDocument: in.PolicyDocument}, err
}

func decodePutRolePolicy(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		RoleName       string `query:"RoleName,required"`
		PolicyName     string `query:"PolicyName,required"`
		PolicyDocument string `query:"PolicyDocument,required"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: in.PolicyDocument}, err
}

func decodeUserPolicyName(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		UserName   string `query:"UserName,required"`
		PolicyName string `query:"PolicyName,required"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.UserName, PolicyName: in.PolicyName}, err
}

func decodeGroupPolicyName(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		GroupName  string `query:"GroupName,required"`
		PolicyName string `query:"PolicyName,required"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.GroupName, PolicyName: in.PolicyName}, err
}

func decodeRolePolicyName(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		RoleName   string `query:"RoleName,required"`
		PolicyName string `query:"PolicyName,required"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.RoleName, PolicyName: in.PolicyName}, err
}

func decodeListUserPolicies(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		UserName string  `query:"UserName,required"`
		Marker   *string `query:"Marker"`
		MaxItems *int    `query:"MaxItems"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.UserName, Marker: in.Marker, MaxItems: in.MaxItems}, err
}

func decodeListGroupPolicies(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		GroupName string  `query:"GroupName,required"`
		Marker    *string `query:"Marker"`
		MaxItems  *int    `query:"MaxItems"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.GroupName, Marker: in.Marker, MaxItems: in.MaxItems}, err
}

func decodeListRolePolicies(req *dispatch.Request) (inlineInput, error) {
	var in struct {
		RoleName string  `query:"RoleName,required"`
		Marker   *string `query:"Marker"`
		MaxItems *int    `query:"MaxItems"`
	}
	err := req.Decode(&in)
	return inlineInput{Owner: in.RoleName, Marker: in.Marker, MaxItems: in.MaxItems}, err
}

// validate checks the owner's name and, if withPolicy, the policy name.
func (o inlineOwners) validate(in inlineInput, withPolicy bool) error {
	var v validation
	v.name(o.field, in.Owner, o.maxName)
	if withPolicy {
		v.name("policyName", in.PolicyName, 128)
	}
	return v.err()
}

// policyNotFound is AWS's NoSuchEntity for a missing inline policy.
func (o inlineOwners) policyNotFound(err error, policyName string) error {
	return entityError(err, o.noun+" policy", policyName)
}

func (s *Service) putInlinePolicy(o inlineOwners, decode inlineDecoder) dispatch.Handler {
	return func(ctx context.Context, req *dispatch.Request) (any, error) {
		in, err := decode(req)
		if err != nil {
			return nil, err
		}
		if err := o.validate(in, true); err != nil {
			return nil, err
		}
		p, err := parsePolicyDocument(in.PolicyDocument, policy.Identity)
		if err != nil {
			return nil, err
		}
		owner, err := o.authorized(ctx, req, "iam:Put"+o.action+"Policy", in.Owner)
		if err != nil {
			return nil, err
		}
		// AWS's quota is on the sum of the owner's inline policies, the one
		// being replaced excepted.
		existing, err := s.store.ListInlinePolicies(ctx, o.kind, owner)
		if err != nil {
			return nil, entityError(err, o.noun, in.Owner)
		}
		total := p.Size()
		for _, e := range existing {
			if !strings.EqualFold(e.Name, in.PolicyName) {
				total += storedPolicySize(e.Document)
			}
		}
		if total > o.maxSize {
			return nil, limitExceeded("Maximum policy size of %d bytes exceeded for %s %s.", o.maxSize, o.noun, owner)
		}
		err = s.store.PutInlinePolicy(ctx, store.InlinePolicy{Kind: o.kind, Owner: owner, Name: in.PolicyName, Document: in.PolicyDocument})
		return nil, entityError(err, o.noun, in.Owner)
	}
}

// storedPolicySize measures a stored document the way quotas count it.
func storedPolicySize(doc string) int {
	p, err := policy.ParseWithOptions([]byte(doc), policy.ParseOptions{MaxSize: -1, MaxBytes: -1})
	if err != nil {
		// Stored before today's parser: count every character.
		return utf8.RuneCountInString(doc)
	}
	return p.Size()
}

type getInlinePolicyResult struct {
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (s *Service) getInlinePolicy(o inlineOwners, decode inlineDecoder) dispatch.Handler {
	return func(ctx context.Context, req *dispatch.Request) (any, error) {
		in, err := decode(req)
		if err != nil {
			return nil, err
		}
		if err := o.validate(in, true); err != nil {
			return nil, err
		}
		owner, err := o.authorized(ctx, req, "iam:Get"+o.action+"Policy", in.Owner)
		if err != nil {
			return nil, err
		}
		p, err := s.store.GetInlinePolicy(ctx, o.kind, owner, in.PolicyName)
		if err != nil {
			return nil, o.policyNotFound(err, in.PolicyName)
		}
		res := &getInlinePolicyResult{PolicyName: p.Name, PolicyDocument: encodePolicyDocument(p.Document)}
		switch o.kind {
		case store.KindUser:
			res.UserName = p.Owner
		case store.KindGroup:
			res.GroupName = p.Owner
		case store.KindRole:
			res.RoleName = p.Owner
		}
		return res, nil
	}
}

type listInlinePoliciesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

func (s *Service) listInlinePolicies(o inlineOwners, decode inlineDecoder) dispatch.Handler {
	return func(ctx context.Context, req *dispatch.Request) (any, error) {
		in, err := decode(req)
		if err != nil {
			return nil, err
		}
		marker, max, err := pageParams(in.Marker, in.MaxItems)
		if err != nil {
			return nil, err
		}
		if err := o.validate(in, false); err != nil {
			return nil, err
		}
		owner, err := o.authorized(ctx, req, "iam:List"+o.action+"Policies", in.Owner)
		if err != nil {
			return nil, err
		}
		all, err := s.store.ListInlinePolicies(ctx, o.kind, owner)
		if err != nil {
			return nil, entityError(err, o.noun, in.Owner)
		}
		page, truncated, next := paginate(all, func(p store.InlinePolicy) string { return strings.ToLower(p.Name) }, marker, max)
		name := func(p store.InlinePolicy) string { return p.Name }
		return &listInlinePoliciesResult{PolicyNames: mapEach(page, name), IsTruncated: truncated, Marker: next}, nil
	}
}

func (s *Service) deleteInlinePolicy(o inlineOwners, decode inlineDecoder) dispatch.Handler {
	return func(ctx context.Context, req *dispatch.Request) (any, error) {
		in, err := decode(req)
		if err != nil {
			return nil, err
		}
		if err := o.validate(in, true); err != nil {
			return nil, err
		}
		owner, err := o.authorized(ctx, req, "iam:Delete"+o.action+"Policy", in.Owner)
		if err != nil {
			return nil, err
		}
		return nil, o.policyNotFound(s.store.DeleteInlinePolicy(ctx, o.kind, owner, in.PolicyName), in.PolicyName)
	}
}
