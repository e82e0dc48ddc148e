package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/store"
)

// MaxAccessKeysPerUser is AWS's quota of access keys per user.
const MaxAccessKeysPerUser = 2

// AccessKeySecretAAD is the additional data an access key's secret is sealed
// with, binding the ciphertext to its key id so that a sealed secret cannot
// be moved to another key's row.
func AccessKeySecretAAD(accessKeyID string) []byte {
	return []byte("access_key:" + accessKeyID + ":secret")
}

func accessKeyNotFound(id string) error {
	return noSuchEntity("The Access Key with id %s cannot be found.", quoted(id))
}

type accessKeyXML struct {
	UserName        string          `xml:"UserName"`
	AccessKeyID     string          `xml:"AccessKeyId"`
	Status          string          `xml:"Status"`
	SecretAccessKey string          `xml:"SecretAccessKey,omitempty"`
	CreateDate      query.Timestamp `xml:"CreateDate"`
}

type createAccessKeyResult struct {
	AccessKey accessKeyXML `xml:"AccessKey"`
}

func (s *Service) createAccessKey(ctx context.Context, req *dispatch.Request) (any, error) {
	var in optionalUserInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	u, name, err := s.authorizedTargetUser(ctx, req, "iam:CreateAccessKey", in.UserName)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.ListAccessKeys(ctx, u.Name)
	if err != nil {
		return nil, entityError(err, "user", name)
	}
	if len(keys) >= MaxAccessKeysPerUser {
		return nil, limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeysPerUser)
	}
	id, err := identity.NewAccessKeyID(identity.PrefixAccessKey, s.rand)
	if err != nil {
		return nil, err
	}
	sec, err := identity.NewSecretAccessKey(s.rand)
	if err != nil {
		return nil, err
	}
	sealed, err := s.keyring.Seal([]byte(sec.Reveal()), AccessKeySecretAAD(id))
	if err != nil {
		return nil, fmt.Errorf("seal access key secret: %w", err)
	}
	k := store.AccessKey{ID: id, UserName: u.Name, SealedSecret: sealed, Status: store.StatusActive, CreatedAt: s.now().UTC()}
	if err := s.store.CreateAccessKey(ctx, k, MaxAccessKeysPerUser); errors.Is(err, store.ErrLimitExceeded) {
		// Another key was created meanwhile.
		return nil, limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeysPerUser)
	} else if err != nil {
		return nil, entityError(err, "user", name)
	}
	return &createAccessKeyResult{AccessKey: accessKeyXML{
		UserName: u.Name, AccessKeyID: id, Status: k.Status, SecretAccessKey: sec.Reveal(), CreateDate: query.Timestamp(k.CreatedAt),
	}}, nil
}

type listAccessKeysInput struct {
	UserName *string `query:"UserName"`
	Marker   *string `query:"Marker"`
	MaxItems *int    `query:"MaxItems"`
}

type listAccessKeysResult struct {
	AccessKeyMetadata []accessKeyXML `xml:"AccessKeyMetadata>member"`
	IsTruncated       bool           `xml:"IsTruncated"`
}

func (s *Service) listAccessKeys(ctx context.Context, req *dispatch.Request) (any, error) {
	var in listAccessKeysInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if _, err := maxItems(in.MaxItems); err != nil {
		return nil, err
	}
	u, name, err := s.authorizedTargetUser(ctx, req, "iam:ListAccessKeys", in.UserName)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.ListAccessKeys(ctx, u.Name)
	if err != nil {
		return nil, entityError(err, "user", name)
	}
	res := &listAccessKeysResult{AccessKeyMetadata: make([]accessKeyXML, 0, len(keys))}
	for _, k := range keys {
		res.AccessKeyMetadata = append(res.AccessKeyMetadata, accessKeyXML{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: query.Timestamp(k.CreatedAt)})
	}
	return res, nil
}

type accessKeyInput struct {
	UserName    *string `query:"UserName"`
	AccessKeyID string  `query:"AccessKeyId,required"`
	Status      string  `query:"Status"`
}

// ownedKey authorizes action on the key's owner and returns the key, which
// must belong to that user.
func (s *Service) ownedKey(ctx context.Context, req *dispatch.Request, action string, in accessKeyInput) (store.AccessKey, error) {
	u, _, err := s.authorizedTargetUser(ctx, req, action, in.UserName)
	if err != nil {
		return store.AccessKey{}, err
	}
	k, err := s.store.GetAccessKey(ctx, in.AccessKeyID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.UserName != u.Name) {
		return store.AccessKey{}, accessKeyNotFound(in.AccessKeyID)
	}
	return k, err
}

func (s *Service) updateAccessKey(ctx context.Context, req *dispatch.Request) (any, error) {
	var in accessKeyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Status != store.StatusActive && in.Status != store.StatusInactive {
		return nil, awserr.New(awserr.ValidationError, "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", quoted(in.Status))
	}
	k, err := s.ownedKey(ctx, req, "iam:UpdateAccessKey", in)
	if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateAccessKey(ctx, k.ID, func(k store.AccessKey) (store.AccessKey, error) {
		k.Status = in.Status
		return k, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, accessKeyNotFound(in.AccessKeyID)
	}
	return nil, err
}

func (s *Service) deleteAccessKey(ctx context.Context, req *dispatch.Request) (any, error) {
	var in accessKeyInput
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.Status != "" {
		return nil, awserr.New(awserr.InvalidQueryParameter, "Unknown parameter: Status")
	}
	k, err := s.ownedKey(ctx, req, "iam:DeleteAccessKey", in)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteAccessKey(ctx, k.ID); errors.Is(err, store.ErrNotFound) {
		return nil, accessKeyNotFound(in.AccessKeyID)
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}

type getAccessKeyLastUsedResult struct {
	UserName          string `xml:"UserName"`
	AccessKeyLastUsed struct {
		LastUsedDate *query.Timestamp `xml:"LastUsedDate,omitempty"`
		ServiceName  string           `xml:"ServiceName"`
		Region       string           `xml:"Region"`
	} `xml:"AccessKeyLastUsed"`
}

func (s *Service) getAccessKeyLastUsed(ctx context.Context, req *dispatch.Request) (any, error) {
	var in struct {
		AccessKeyID string `query:"AccessKeyId,required"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	k, err := s.store.GetAccessKey(ctx, in.AccessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, accessKeyNotFound(in.AccessKeyID)
	}
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, k.UserName)
	if err != nil {
		return nil, entityError(err, "user", k.UserName)
	}
	if err := s.authz.Authorize(ctx, req, "iam:GetAccessKeyLastUsed", s.userARN(u.Path, u.Name)); err != nil {
		return nil, err
	}
	res := &getAccessKeyLastUsedResult{UserName: u.Name}
	res.AccessKeyLastUsed.ServiceName, res.AccessKeyLastUsed.Region = "N/A", "N/A"
	if !k.LastUsedAt.IsZero() {
		ts := query.Timestamp(k.LastUsedAt)
		res.AccessKeyLastUsed.LastUsedDate = &ts
	}
	return res, nil
}
