package iam

import (
	"context"
	"errors"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/store"
)

// policyVersionXML is the wire shape of a PolicyVersion. Document (URL-encoded
// like every IAM policy document) is set by GetPolicyVersion only, as in AWS.
type policyVersionXML struct {
	Document         string          `xml:"Document,omitempty"`
	VersionID        string          `xml:"VersionId"`
	IsDefaultVersion bool            `xml:"IsDefaultVersion"`
	CreateDate       query.Timestamp `xml:"CreateDate"`
}

func policyVersionToXML(v store.PolicyVersion, withDocument bool) policyVersionXML {
	x := policyVersionXML{VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: query.Timestamp(v.CreatedAt)}
	if withDocument {
		x.Document = encodePolicyDocument(v.Document)
	}
	return x
}

type policyVersionResult struct {
	PolicyVersion policyVersionXML `xml:"PolicyVersion"`
}

// versionNotFound is AWS's NoSuchEntity for a missing policy version.
func versionNotFound(arn, versionID string) error {
	return noSuchEntity("Policy %s version %s does not exist or is not attachable.", quotedARN(arn), quoted(versionID))
}

type createPolicyVersionInput struct {
	PolicyArn      string `query:"PolicyArn,required"`
	PolicyDocument string `query:"PolicyDocument,required"`
	SetAsDefault   bool   `query:"SetAsDefault"`
}

func (s *Service) createPolicyVersion(ctx context.Context, req *dispatch.Request) (any, error) {
	var in createPolicyVersionInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:CreatePolicyVersion", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if err := checkManagedPolicyDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	v, err := s.store.CreatePolicyVersion(ctx, p.Name, in.PolicyDocument, in.SetAsDefault, s.now().UTC())
	switch {
	case errors.Is(err, store.ErrLimitExceeded):
		return nil, limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", store.MaxPolicyVersions)
	case errors.Is(err, store.ErrNotFound):
		return nil, policyNotFound(in.PolicyArn)
	case err != nil:
		return nil, err
	}
	return &policyVersionResult{PolicyVersion: policyVersionToXML(v, false)}, nil
}

type policyVersionInput struct {
	PolicyArn string `query:"PolicyArn,required"`
	VersionID string `query:"VersionId,required"`
}

// decodePolicyVersion decodes and validates a PolicyArn + VersionId request
// and authorizes action on the policy.
func (s *Service) decodePolicyVersion(ctx context.Context, req *dispatch.Request, action string) (policyVersionInput, store.ManagedPolicy, error) {
	var in policyVersionInput
	if err := req.Decode(&in); err != nil {
		return in, store.ManagedPolicy{}, err
	}
	var v validation
	v.versionID("versionId", in.VersionID)
	if err := v.err(); err != nil {
		return in, store.ManagedPolicy{}, err
	}
	p, err := s.authorizedPolicy(ctx, req, action, in.PolicyArn)
	return in, p, err
}

func (s *Service) getPolicyVersion(ctx context.Context, req *dispatch.Request) (any, error) {
	in, p, err := s.decodePolicyVersion(ctx, req, "iam:GetPolicyVersion")
	if err != nil {
		return nil, err
	}
	v, err := s.store.GetPolicyVersion(ctx, p.Name, in.VersionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, versionNotFound(in.PolicyArn, in.VersionID)
	}
	if err != nil {
		return nil, err
	}
	return &policyVersionResult{PolicyVersion: policyVersionToXML(v, true)}, nil
}

type listPolicyVersionsInput struct {
	PolicyArn string  `query:"PolicyArn,required"`
	Marker    *string `query:"Marker"`
	MaxItems  *int    `query:"MaxItems"`
}

type listPolicyVersionsResult struct {
	Versions    []policyVersionXML `xml:"Versions>member"`
	IsTruncated bool               `xml:"IsTruncated"`
	Marker      string             `xml:"Marker,omitempty"`
}

func (s *Service) listPolicyVersions(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listPolicyVersionsInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizedPolicy(ctx, req, "iam:ListPolicyVersions", in.PolicyArn)
	if err != nil {
		return nil, err
	}
	versions, err := s.store.ListPolicyVersions(ctx, p.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, policyNotFound(in.PolicyArn)
	}
	if err != nil {
		return nil, err
	}
	page, next := pageAfter(versions, func(v store.PolicyVersion) string { return versionKey(v.VersionID) }, deref(in.Marker), max)
	res := &listPolicyVersionsResult{Versions: make([]policyVersionXML, 0, len(page)), IsTruncated: next != "", Marker: next}
	for _, v := range page {
		res.Versions = append(res.Versions, policyVersionToXML(v, false))
	}
	return res, nil
}

func (s *Service) deletePolicyVersion(ctx context.Context, req *dispatch.Request) (any, error) {
	in, p, err := s.decodePolicyVersion(ctx, req, "iam:DeletePolicyVersion")
	if err != nil {
		return nil, err
	}
	err = s.store.DeletePolicyVersion(ctx, p.Name, in.VersionID)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, deleteConflict("Cannot delete the default version of a policy.")
	case errors.Is(err, store.ErrNotFound):
		return nil, versionNotFound(in.PolicyArn, in.VersionID)
	}
	return nil, err
}

func (s *Service) setDefaultPolicyVersion(ctx context.Context, req *dispatch.Request) (any, error) {
	in, p, err := s.decodePolicyVersion(ctx, req, "iam:SetDefaultPolicyVersion")
	if err != nil {
		return nil, err
	}
	err = s.store.SetDefaultPolicyVersion(ctx, p.Name, in.VersionID, s.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return nil, versionNotFound(in.PolicyArn, in.VersionID)
	}
	return nil, err
}
