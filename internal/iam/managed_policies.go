package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/store"
)

// managedPolicyXML is the wire shape of an IAM Policy.
type managedPolicyXML struct {
	PolicyName                    string          `xml:"PolicyName"`
	PolicyID                      string          `xml:"PolicyId"`
	Arn                           string          `xml:"Arn"`
	Path                          string          `xml:"Path"`
	DefaultVersionID              string          `xml:"DefaultVersionId"`
	AttachmentCount               int             `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int             `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool            `xml:"IsAttachable"`
	Description                   string          `xml:"Description,omitempty"`
	CreateDate                    query.Timestamp `xml:"CreateDate"`
	UpdateDate                    query.Timestamp `xml:"UpdateDate"`
	Tags                          []Tag           `xml:"Tags>member,omitempty"`
}

// managedPolicyToXML renders p; AWS includes the description and tags in
// CreatePolicy and GetPolicy results only.
func (s *Service) managedPolicyToXML(p store.ManagedPolicy, boundaryUses int, detailed bool) managedPolicyXML {
	updated := p.UpdatedAt
	if updated.IsZero() {
		updated = p.CreatedAt
	}
	x := managedPolicyXML{
		PolicyName: p.Name, PolicyID: p.ID, Arn: s.policyARN(p.Path, p.Name), Path: p.Path,
		DefaultVersionID: p.DefaultVersionID, AttachmentCount: p.AttachmentCount,
		PermissionsBoundaryUsageCount: boundaryUses, IsAttachable: true,
		CreateDate: query.Timestamp(p.CreatedAt), UpdateDate: query.Timestamp(updated),
	}
	if detailed {
		x.Description = p.Description
		x.Tags = tagsFromMap(p.Tags)
	}
	return x
}

// policyNotFound is AWS's NoSuchEntity for a managed policy ARN.
func policyNotFound(arn string) error {
	return noSuchEntity("Policy %s does not exist or is not attachable.", quotedARN(arn))
}

// quotedARN bounds and sanitizes an ARN echoed in a message (ARNs may be
// up to 2048 characters, more than quoted keeps).
func quotedARN(s string) string {
	const max = 2048
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// parsePolicyARN splits a managed policy ARN of this account into path and
// name; ok is false for any other ARN (another account, AWS managed
// policies, a malformed path or name).
func (s *Service) parsePolicyARN(arn string) (path, name string, ok bool) {
	prefix := "arn:aws:iam::" + s.account + ":policy/"
	if !strings.HasPrefix(arn, prefix) {
		return "", "", false
	}
	rest := arn[len(prefix)-1:] // "/<path>/<name>" or "/<name>"
	i := strings.LastIndexByte(rest, '/')
	path, name = rest[:i+1], rest[i+1:]
	var v validation
	v.name("policyName", name, 128)
	v.path("path", path)
	return path, name, v.err() == nil
}

// authorizedPolicy loads the managed policy arn names and authorizes action
// on it. A policy that does not exist, or whose stored path differs from the
// ARN's, is NoSuchEntity, reported only to callers allowed to act on that
// ARN so that policies cannot be probed.
func (s *Service) authorizedPolicy(ctx context.Context, req *dispatch.Request, action, arn string) (store.ManagedPolicy, error) {
	var v validation
	v.policyARN("policyArn", arn)
	if err := v.err(); err != nil {
		return store.ManagedPolicy{}, err
	}
	p, err := s.lookupPolicy(ctx, arn)
	notFound := func() error { return policyNotFound(arn) }
	if err := s.authorizeLookup(ctx, req, action, err, s.policyARN(p.Path, p.Name), arn, notFound); err != nil {
		return store.ManagedPolicy{}, err
	}
	return p, nil
}

// lookupPolicy returns the managed policy arn names, or an error wrapping
// store.ErrNotFound.
func (s *Service) lookupPolicy(ctx context.Context, arn string) (store.ManagedPolicy, error) {
	path, name, ok := s.parsePolicyARN(arn)
	if !ok {
		return store.ManagedPolicy{}, store.ErrNotFound
	}
	p, err := s.store.GetManagedPolicy(ctx, name)
	if err != nil {
		return store.ManagedPolicy{}, err
	}
	if p.Path != path {
		return store.ManagedPolicy{}, store.ErrNotFound
	}
	return p, nil
}

// checkManagedPolicyDocument validates a managed policy document: malformed
// documents are MalformedPolicyDocument with the parser's message, and, as
// in AWS, a well-formed document over the size quota is LimitExceeded.
func checkManagedPolicyDocument(doc string) error {
	p, err := policy.ParseWithOptions([]byte(doc), policy.ParseOptions{Kind: policy.Identity, MaxSize: -1})
	if err != nil {
		if merr := checkPolicyDocument(doc, policy.Identity, -1); merr != nil {
			return merr
		}
		return malformedPolicy("The policy document is malformed.")
	}
	if p.Size() > MaxManagedPolicySize {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", MaxManagedPolicySize)
	}
	return nil
}

// boundaryHolders lists the users and roles that have a permissions
// boundary, keyed by the lower-cased policy name of the boundary ARN. The
// authorizer resolves a boundary by the ARN's policy name alone, so that is
// what counts as "used as a boundary" here too. It reads every user and
// role: boundaries are stored on them, not on the policy.
func (s *Service) boundaryHolders(ctx context.Context) (map[string][]attachOwner, error) {
	held := make(map[string][]attachOwner)
	add := func(kind store.PrincipalKind, name, path, id, boundary string) {
		if boundary == "" {
			return
		}
		key := strings.ToLower(boundary[strings.LastIndexByte(boundary, '/')+1:])
		held[key] = append(held[key], attachOwner{kind: kind, name: name, path: path, id: id})
	}
	for marker := ""; ; {
		users, next, err := s.store.ListUsers(ctx, store.Page{Marker: marker, MaxItems: store.MaxMaxItems})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			add(store.KindUser, u.Name, u.Path, u.ID, u.PermissionsBoundary)
		}
		if next == "" {
			break
		}
		marker = next
	}
	for marker := ""; ; {
		roles, next, err := s.store.ListRoles(ctx, store.Page{Marker: marker, MaxItems: store.MaxMaxItems})
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			add(store.KindRole, r.Name, r.Path, r.ID, r.PermissionsBoundary)
		}
		if next == "" {
			break
		}
		marker = next
	}
	return held, nil
}

type createPolicyInput struct {
	PolicyName     string  `query:"PolicyName,required"`
	Path           *string `query:"Path"`
	PolicyDocument string  `query:"PolicyDocument,required"`
	Description    *string `query:"Description"`
	Tags           []Tag   `query:"Tags,list"`
}

type managedPolicyResult struct {
	Policy managedPolicyXML `xml:"Policy"`
}

func (s *Service) createPolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in createPolicyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	path := pathOrDefault(in.Path)
	var v validation
	v.name("policyName", in.PolicyName, 128)
	v.path("path", path)
	v.text("description", deref(in.Description), 1000)
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, req, "iam:CreatePolicy", s.policyARN(path, in.PolicyName)); err != nil {
		return nil, err
	}
	if err := checkManagedPolicyDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	id, err := identity.NewUniqueID(identity.PrefixPolicy, s.rand)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := store.ManagedPolicy{
		Name: in.PolicyName, Path: path, ID: id, Description: deref(in.Description),
		DefaultVersionID: "v1", CreatedAt: now, UpdatedAt: now, Tags: tagsToMap(in.Tags),
	}
	if err := s.store.CreateManagedPolicy(ctx, p, in.PolicyDocument); errors.Is(err, store.ErrAlreadyExists) {
		return nil, entityAlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)
	} else if err != nil {
		return nil, err
	}
	return &managedPolicyResult{Policy: s.managedPolicyToXML(p, 0, true)}, nil
}

type managedPolicyARNInput struct {
	PolicyArn string `query:"PolicyArn,required"`
}

func (s *Service) getPolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in managedPolicyARNInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:GetPolicy", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	held, err := s.boundaryHolders(ctx)
	if err != nil {
		return nil, err
	}
	return &managedPolicyResult{Policy: s.managedPolicyToXML(p, len(held[strings.ToLower(p.Name)]), true)}, nil
}

type listPoliciesInput struct {
	Scope             *string `query:"Scope"`
	OnlyAttached      bool    `query:"OnlyAttached"`
	PathPrefix        *string `query:"PathPrefix"`
	PolicyUsageFilter *string `query:"PolicyUsageFilter"`
	Marker            *string `query:"Marker"`
	MaxItems          *int    `query:"MaxItems"`
}

type listPoliciesResult struct {
	Policies    []managedPolicyXML `xml:"Policies>member"`
	IsTruncated bool               `xml:"IsTruncated"`
	Marker      string             `xml:"Marker,omitempty"`
}

// Values of the PolicyUsageFilter parameter.
const (
	usagePermissionsPolicy   = "PermissionsPolicy"
	usagePermissionsBoundary = "PermissionsBoundary"
)

// policyUsageFilter checks an optional PolicyUsageFilter parameter.
func (v *validation) policyUsageFilter(value *string) {
	if value != nil {
		v.enum("policyUsageFilter", *value, usagePermissionsPolicy, usagePermissionsBoundary)
	}
}

func (s *Service) listPolicies(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listPoliciesInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	prefix := pathOrDefault(in.PathPrefix)
	scope := "All"
	var v validation
	if in.Scope != nil {
		scope = *in.Scope
		v.enum("scope", scope, "All", "AWS", "Local")
	}
	v.policyUsageFilter(in.PolicyUsageFilter)
	if err := v.err(); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems)
	if err != nil {
		return nil, err
	}
	// ListPolicies supports no resource-level permissions: AWS authorizes
	// it on "*".
	if err := s.authz.Authorize(ctx, req, "iam:ListPolicies", "*"); err != nil {
		return nil, err
	}
	res := &listPoliciesResult{Policies: []managedPolicyXML{}}
	if scope == "AWS" {
		// dbiam has customer managed policies only.
		return res, nil
	}
	held, err := s.boundaryHolders(ctx)
	if err != nil {
		return nil, err
	}
	usage := deref(in.PolicyUsageFilter)
	// Every customer managed policy can serve both as a permissions policy
	// and as a boundary, so the usage filter narrows the list only together
	// with OnlyAttached: attached as a permissions policy, or in use as a
	// boundary.
	keep := func(p store.ManagedPolicy) bool {
		if !strings.HasPrefix(p.Path, prefix) {
			return false
		}
		if !in.OnlyAttached {
			return true
		}
		bounds := len(held[strings.ToLower(p.Name)]) > 0
		switch usage {
		case usagePermissionsPolicy:
			return p.AttachmentCount > 0
		case usagePermissionsBoundary:
			return bounds
		}
		return p.AttachmentCount > 0 || bounds
	}
	// With OnlyAttached the store's filter would hide policies used only as
	// boundaries, so keep does all the filtering.
	marker := deref(in.Marker)
	for {
		page, next, err := s.store.ListManagedPolicies(ctx, store.Page{Marker: marker, MaxItems: max}, false)
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			if !keep(p) {
				continue
			}
			if len(res.Policies) == max {
				// More matching policies remain: resume after the previous one.
				res.IsTruncated, res.Marker = true, marker
				return res, nil
			}
			res.Policies = append(res.Policies, s.managedPolicyToXML(p, len(held[strings.ToLower(p.Name)]), false))
			marker = strings.ToLower(p.Name)
		}
		if next == "" {
			return res, nil
		}
		marker = next
	}
}

func (s *Service) deletePolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in managedPolicyARNInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:DeletePolicy", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if err := s.policyDeleteConflict(ctx, p); err != nil {
		return nil, err
	}
	err = s.store.DeleteManagedPolicy(ctx, p.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, policyNotFound(in.PolicyArn)
	case errors.Is(err, store.ErrConflict):
		// Attached or given a version since the check: say which.
		if cur, gerr := s.store.GetManagedPolicy(ctx, p.Name); gerr == nil {
			if cerr := s.policyDeleteConflict(ctx, cur); cerr != nil {
				return nil, cerr
			}
		}
		return nil, deleteConflict("Cannot delete a policy attached to entities.")
	case err != nil:
		return nil, err
	}
	return nil, nil
}

// policyDeleteConflict returns AWS's DeleteConflict if p may not be deleted
// yet: while it is attached, has versions besides the default one, or is
// some user's or role's permissions boundary (deleting it would lock them
// out: the authorizer fails closed on a missing boundary).
func (s *Service) policyDeleteConflict(ctx context.Context, p store.ManagedPolicy) error {
	if p.AttachmentCount > 0 {
		return deleteConflict("Cannot delete a policy attached to entities.")
	}
	versions, err := s.store.ListPolicyVersions(ctx, p.Name)
	if err != nil {
		return entityError(err, "policy", p.Name)
	}
	if len(versions) > 1 {
		return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	held, err := s.boundaryHolders(ctx)
	if err != nil {
		return err
	}
	if hs := held[strings.ToLower(p.Name)]; len(hs) > 0 {
		names := make([]string, 0, len(hs))
		for _, h := range hs {
			names = append(names, string(h.kind)+"/"+h.name)
		}
		return deleteConflict("Cannot delete a policy used as a permissions boundary; remove it as the boundary of: %s.", strings.Join(names, ", "))
	}
	return nil
}

type listPolicyTagsInput struct {
	PolicyArn string  `query:"PolicyArn,required"`
	Marker    *string `query:"Marker"`
	MaxItems  *int    `query:"MaxItems"`
}

func (s *Service) listPolicyTags(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listPolicyTagsInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:ListPolicyTags", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return tagPage(p.Tags, deref(in.Marker), max), nil
}

// MaxTagsPerPolicy is AWS's quota of tags on one managed policy.
const MaxTagsPerPolicy = 50

type tagPolicyInput struct {
	PolicyArn string `query:"PolicyArn,required"`
	Tags      []Tag  `query:"Tags,list,required"`
}

func (s *Service) tagPolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in tagPolicyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:TagPolicy", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	err = s.store.UpdatePolicyTags(ctx, p.Name, func(tags map[string]string) (map[string]string, error) {
		err := addTags(&tags, in.Tags, "TagsPerPolicy", MaxTagsPerPolicy)
		return tags, err
	})
	return nil, policyError(err, in.PolicyArn)
}

type untagPolicyInput struct {
	PolicyArn string   `query:"PolicyArn,required"`
	TagKeys   []string `query:"TagKeys,list,required"`
}

func (s *Service) untagPolicy(ctx context.Context, req *dispatch.Request) (any, error) {
	var in untagPolicyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:UntagPolicy", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	err = s.store.UpdatePolicyTags(ctx, p.Name, func(tags map[string]string) (map[string]string, error) {
		removeTags(tags, in.TagKeys)
		return tags, nil
	})
	return nil, policyError(err, in.PolicyArn)
}

// policyError maps the store's answer about the policy arn names: the
// policy deleted meanwhile is NoSuchEntity, other errors pass through.
func policyError(err error, arn string) error {
	if errors.Is(err, store.ErrNotFound) {
		return policyNotFound(arn)
	}
	return err
}
