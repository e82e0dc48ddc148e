package iam

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/store"
)

// MaxManagedPoliciesPerEntity is AWS's default quota of managed policies
// attached to one user, group or role.
const MaxManagedPoliciesPerEntity = 10

// attachOwner is the user, group or role a managed policy is attached to.
type attachOwner struct {
	kind           store.PrincipalKind
	name, path, id string
}

// attachNoun is the kind as it appears in action names and messages:
// "User", "Group", "Role".
func attachNoun(kind store.PrincipalKind) string { return capitalize(string(kind)) }

// authorizedAttachOwner loads the user, group or role and authorizes action
// on its ARN; like authorizedUser, a missing entity is reported only to
// callers allowed to act on that name.
func (s *Service) authorizedAttachOwner(ctx context.Context, req *dispatch.Request, kind store.PrincipalKind, action, name string) (attachOwner, error) {
	o, err := s.getAttachOwner(ctx, kind, name)
	if err := s.authorizeEntityLookup(ctx, req, kind, action, name, err, o.path, o.name); err != nil {
		return attachOwner{}, err
	}
	return o, nil
}

func (s *Service) getAttachOwner(ctx context.Context, kind store.PrincipalKind, name string) (attachOwner, error) {
	switch kind {
	case store.KindUser:
		u, err := s.store.GetUser(ctx, name)
		return attachOwner{kind: kind, name: u.Name, path: u.Path, id: u.ID}, err
	case store.KindGroup:
		g, err := s.store.GetGroup(ctx, name)
		return attachOwner{kind: kind, name: g.Name, path: g.Path, id: g.ID}, err
	case store.KindRole:
		r, err := s.store.GetRole(ctx, name)
		return attachOwner{kind: kind, name: r.Name, path: r.Path, id: r.ID}, err
	}
	return attachOwner{}, fmt.Errorf("iam: unknown principal kind %q", kind)
}

// The inputs of Attach/Detach{User,Group,Role}Policy.
type (
	attachUserPolicyInput struct {
		UserName  string `query:"UserName,required"`
		PolicyArn string `query:"PolicyArn,required"`
	}
	attachGroupPolicyInput struct {
		GroupName string `query:"GroupName,required"`
		PolicyArn string `query:"PolicyArn,required"`
	}
	attachRolePolicyInput struct {
		RoleName  string `query:"RoleName,required"`
		PolicyArn string `query:"PolicyArn,required"`
	}
)

// decodeAttach decodes and validates the owner name and policy ARN of an
// attach or detach request.
func decodeAttach(req *dispatch.Request, kind store.PrincipalKind) (owner, arn string, err error) {
	switch kind {
	case store.KindUser:
		var in attachUserPolicyInput
		err, owner, arn = req.Decode(&in), in.UserName, in.PolicyArn
	case store.KindGroup:
		var in attachGroupPolicyInput
		err, owner, arn = req.Decode(&in), in.GroupName, in.PolicyArn
	case store.KindRole:
		var in attachRolePolicyInput
		err, owner, arn = req.Decode(&in), in.RoleName, in.PolicyArn
	}
	if err != nil {
		return "", "", err
	}
	var v validation
	v.name(string(kind)+"Name", owner, 128)
	v.policyARN("policyArn", arn)
	return owner, arn, v.err()
}

// attachHandler serves Attach<Kind>Policy (attach) or Detach<Kind>Policy.
// As in AWS, the action is authorized on the user, group or role; the
// policy only has to exist.
func (s *Service) attachHandler(kind store.PrincipalKind, attach bool) dispatch.Handler {
	verb := "Detach"
	if attach {
		verb = "Attach"
	}
	action := "iam:" + verb + attachNoun(kind) + "Policy"
	return func(ctx context.Context, req *dispatch.Request) (any, error) {
		name, arn, err := decodeAttach(req, kind)
		if err != nil {
			return nil, err
		}
		o, err := s.authorizedAttachOwner(ctx, req, kind, action, name)
		if err != nil {
			return nil, err
		}
		if attach {
			return nil, s.attachPolicy(ctx, o, arn)
		}
		return nil, s.detachPolicy(ctx, o, arn)
	}
}

func (s *Service) attachPolicy(ctx context.Context, o attachOwner, arn string) error {
	p, err := s.lookupPolicy(ctx, arn)
	if errors.Is(err, store.ErrNotFound) {
		return policyNotFound(arn)
	}
	if err != nil {
		return err
	}
	attached, err := s.store.ListAttachedPolicies(ctx, o.kind, o.name)
	if err != nil {
		return entityError(err, string(o.kind), o.name)
	}
	already := false
	for _, a := range attached {
		already = already || strings.EqualFold(a.Name, p.Name)
	}
	if !already && len(attached) >= MaxManagedPoliciesPerEntity {
		return limitExceeded("Cannot exceed quota for PoliciesPer%s: %d", attachNoun(o.kind), MaxManagedPoliciesPerEntity)
	}
	err = s.store.AttachPolicy(ctx, store.Attachment{Kind: o.kind, Owner: o.name, PolicyName: p.Name}, MaxManagedPoliciesPerEntity)
	if errors.Is(err, store.ErrLimitExceeded) { // another one attached meanwhile
		return limitExceeded("Cannot exceed quota for PoliciesPer%s: %d", attachNoun(o.kind), MaxManagedPoliciesPerEntity)
	}
	if errors.Is(err, store.ErrNotFound) {
		// The policy or the owner went away meanwhile: say which.
		if _, perr := s.lookupPolicy(ctx, arn); errors.Is(perr, store.ErrNotFound) {
			return policyNotFound(arn)
		}
		return entityError(err, string(o.kind), o.name)
	}
	return err
}

func (s *Service) detachPolicy(ctx context.Context, o attachOwner, arn string) error {
	notAttached := noSuchEntity("Policy %s was not found.", quotedARN(arn))
	p, err := s.lookupPolicy(ctx, arn)
	if errors.Is(err, store.ErrNotFound) {
		return notAttached
	}
	if err != nil {
		return err
	}
	err = s.store.DetachPolicy(ctx, store.Attachment{Kind: o.kind, Owner: o.name, PolicyName: p.Name})
	if errors.Is(err, store.ErrNotFound) {
		return notAttached
	}
	return err
}

// The inputs of ListAttached{User,Group,Role}Policies.
type (
	listAttachedUserPoliciesInput struct {
		UserName   string  `query:"UserName,required"`
		PathPrefix *string `query:"PathPrefix"`
		Marker     *string `query:"Marker"`
		MaxItems   *int    `query:"MaxItems"`
	}
	listAttachedGroupPoliciesInput struct {
		GroupName  string  `query:"GroupName,required"`
		PathPrefix *string `query:"PathPrefix"`
		Marker     *string `query:"Marker"`
		MaxItems   *int    `query:"MaxItems"`
	}
	listAttachedRolePoliciesInput struct {
		RoleName   string  `query:"RoleName,required"`
		PathPrefix *string `query:"PathPrefix"`
		Marker     *string `query:"Marker"`
		MaxItems   *int    `query:"MaxItems"`
	}
)

// attachedListing is the kind-independent part of a ListAttached*Policies
// request.
type attachedListing struct {
	owner      string
	pathPrefix *string
	marker     *string
	maxItems   *int
}

func decodeListAttached(req *dispatch.Request, kind store.PrincipalKind) (attachedListing, error) {
	var (
		l   attachedListing
		err error
	)
	switch kind {
	case store.KindUser:
		var in listAttachedUserPoliciesInput
		err = req.Decode(&in)
		l = attachedListing{in.UserName, in.PathPrefix, in.Marker, in.MaxItems}
	case store.KindGroup:
		var in listAttachedGroupPoliciesInput
		err = req.Decode(&in)
		l = attachedListing{in.GroupName, in.PathPrefix, in.Marker, in.MaxItems}
	case store.KindRole:
		var in listAttachedRolePoliciesInput
		err = req.Decode(&in)
		l = attachedListing{in.RoleName, in.PathPrefix, in.Marker, in.MaxItems}
	}
	if err != nil {
		return l, err
	}
	var v validation
	v.name(string(kind)+"Name", l.owner, 128)
	return l, v.err()
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type listAttachedPoliciesResult struct {
	AttachedPolicies []attachedPolicyXML `xml:"AttachedPolicies>member"`
	IsTruncated      bool                `xml:"IsTruncated"`
	Marker           string              `xml:"Marker,omitempty"`
}

// listAttachedHandler serves ListAttached<Kind>Policies.
func (s *Service) listAttachedHandler(kind store.PrincipalKind) dispatch.Handler {
	action := "iam:ListAttached" + attachNoun(kind) + "Policies"
	return func(ctx context.Context, req *dispatch.Request) (any, error) {
		in, err := decodeListAttached(req, kind)
		if err != nil {
			return nil, err
		}
		max, err := maxItems(in.maxItems)
		if err != nil {
			return nil, err
		}
		o, err := s.authorizedAttachOwner(ctx, req, kind, action, in.owner)
		if err != nil {
			return nil, err
		}
		attached, err := s.store.ListAttachedPolicies(ctx, kind, o.name)
		if err != nil {
			return nil, entityError(err, string(kind), in.owner)
		}
		prefix := pathOrDefault(in.pathPrefix)
		matching := attached[:0:0]
		for _, p := range attached {
			if strings.HasPrefix(p.Path, prefix) {
				matching = append(matching, p)
			}
		}
		page, next := pageAfter(matching, func(p store.ManagedPolicy) string { return strings.ToLower(p.Name) }, deref(in.marker), max)
		res := &listAttachedPoliciesResult{AttachedPolicies: make([]attachedPolicyXML, 0, len(page)), IsTruncated: next != "", Marker: next}
		for _, p := range page {
			res.AttachedPolicies = append(res.AttachedPolicies, attachedPolicyXML{PolicyName: p.Name, PolicyArn: s.policyARN(p.Path, p.Name)})
		}
		return res, nil
	}
}

type listEntitiesForPolicyInput struct {
	PolicyArn         string  `query:"PolicyArn,required"`
	EntityFilter      *string `query:"EntityFilter"`
	PathPrefix        *string `query:"PathPrefix"`
	PolicyUsageFilter *string `query:"PolicyUsageFilter"`
	Marker            *string `query:"Marker"`
	MaxItems          *int    `query:"MaxItems"`
}

type (
	policyUserXML struct {
		UserName string `xml:"UserName"`
		UserID   string `xml:"UserId"`
	}
	policyGroupXML struct {
		GroupName string `xml:"GroupName"`
		GroupID   string `xml:"GroupId"`
	}
	policyRoleXML struct {
		RoleName string `xml:"RoleName"`
		RoleID   string `xml:"RoleId"`
	}
)

type listEntitiesForPolicyResult struct {
	PolicyGroups []policyGroupXML `xml:"PolicyGroups>member"`
	PolicyUsers  []policyUserXML  `xml:"PolicyUsers>member"`
	PolicyRoles  []policyRoleXML  `xml:"PolicyRoles>member"`
	IsTruncated  bool             `xml:"IsTruncated"`
	Marker       string           `xml:"Marker,omitempty"`
}

// entityKey orders users, then groups, then roles, each by lower-cased
// name; it is also the listing's marker.
func entityKey(o attachOwner) string {
	order := "2"
	switch o.kind {
	case store.KindUser:
		order = "0"
	case store.KindGroup:
		order = "1"
	}
	return order + "/" + strings.ToLower(o.name)
}

func (s *Service) listEntitiesForPolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listEntitiesForPolicyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	var v validation
	if in.EntityFilter != nil {
		v.enum("entityFilter", *in.EntityFilter, "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
	}
	v.policyUsageFilter(in.PolicyUsageFilter)
	if err := v.err(); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:ListEntitiesForPolicy", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	usage := deref(in.PolicyUsageFilter)
	seen := make(map[string]bool)
	var entities []attachOwner
	add := func(o attachOwner) {
		if k := entityKey(o); !seen[k] {
			seen[k] = true
			entities = append(entities, o)
		}
	}
	if usage != usagePermissionsBoundary {
		atts, err := s.store.ListEntitiesForPolicy(ctx, p.Name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, policyNotFound(in.PolicyArn)
		}
		if err != nil {
			return nil, err
		}
		for _, a := range atts {
			o, err := s.getAttachOwner(ctx, a.Kind, a.Owner)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since: no longer attached
			}
			if err != nil {
				return nil, err
			}
			add(o)
		}
	}
	if usage != usagePermissionsPolicy {
		held, err := s.boundaryHolders(ctx)
		if err != nil {
			return nil, err
		}
		for _, h := range held[strings.ToLower(p.Name)] {
			add(h)
		}
	}
	prefix := pathOrDefault(in.PathPrefix)
	filter := deref(in.EntityFilter)
	matching := entities[:0]
	for _, o := range entities {
		if !strings.HasPrefix(o.path, prefix) {
			continue
		}
		switch filter {
		case "":
		case "User", "Group", "Role":
			if attachNoun(o.kind) != filter {
				continue
			}
		default: // LocalManagedPolicy, AWSManagedPolicy: not entities
			continue
		}
		matching = append(matching, o)
	}
	sort.Slice(matching, func(i, j int) bool { return entityKey(matching[i]) < entityKey(matching[j]) })
	page, next := pageAfter(matching, entityKey, deref(in.Marker), max)
	res := &listEntitiesForPolicyResult{IsTruncated: next != "", Marker: next}
	for _, o := range page {
		switch o.kind {
		case store.KindUser:
			res.PolicyUsers = append(res.PolicyUsers, policyUserXML{UserName: o.name, UserID: o.id})
		case store.KindGroup:
			res.PolicyGroups = append(res.PolicyGroups, policyGroupXML{GroupName: o.name, GroupID: o.id})
		case store.KindRole:
			res.PolicyRoles = append(res.PolicyRoles, policyRoleXML{RoleName: o.name, RoleID: o.id})
		}
	}
	return res, nil
}
