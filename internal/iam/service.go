package iam

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/store"
)

// API version and XML namespace of IAM.
const (
	Version   = "2010-05-08"
	Namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// Authorizer decides whether the caller of req may perform action (for
// example "iam:CreateUser") on resource (an ARN). It returns nil when
// allowed and an AccessDenied *awserr.Error otherwise, and records the
// decision for the audit log.
type Authorizer interface {
	Authorize(ctx context.Context, req *dispatch.Request, action, resource string) error
}

// Config holds a Service's dependencies.
type Config struct {
	Store      store.Store
	Keyring    *keyring.Keyring
	AccountID  string
	Now        func() time.Time
	Rand       io.Reader
	Authorizer Authorizer
}

// Service serves the IAM actions.
type Service struct {
	store   store.Store
	keyring *keyring.Keyring
	account string
	now     func() time.Time
	rand    io.Reader
	authz   Authorizer
}

// New returns the IAM service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keyring == nil || cfg.AccountID == "" || cfg.Now == nil || cfg.Rand == nil || cfg.Authorizer == nil {
		return nil, errors.New("iam: store, keyring, account id, clock, rand and authorizer are required")
	}
	return &Service{store: cfg.Store, keyring: cfg.Keyring, account: cfg.AccountID, now: cfg.Now, rand: cfg.Rand, authz: cfg.Authorizer}, nil
}

// Descriptor describes the service to the dispatcher.
func (s *Service) Descriptor() *dispatch.Service {
	actions := map[string]dispatch.Handler{
		"CreateUser":              s.createUser,
		"GetUser":                 s.getUser,
		"ListUsers":               s.listUsers,
		"UpdateUser":              s.updateUser,
		"DeleteUser":              s.deleteUser,
		"TagUser":                 s.tagUser,
		"UntagUser":               s.untagUser,
		"ListUserTags":            s.listUserTags,
		"CreateAccessKey":         s.createAccessKey,
		"ListAccessKeys":          s.listAccessKeys,
		"UpdateAccessKey":         s.updateAccessKey,
		"DeleteAccessKey":         s.deleteAccessKey,
		"GetAccessKeyLastUsed":    s.getAccessKeyLastUsed,
		"SimulateCustomPolicy":    s.simulateCustomPolicy,
		"SimulatePrincipalPolicy": s.simulatePrincipalPolicy,
	}
	for _, more := range []map[string]dispatch.Handler{s.groupAndRoleActions(), s.managedPolicyAndSAMLActions()} {
		for name, h := range more {
			actions[name] = h
		}
	}
	d := &dispatch.Service{Name: "iam", Version: Version, Namespace: Namespace, Actions: make(map[string]dispatch.Action, len(actions))}
	for name, h := range actions {
		d.Actions[name] = dispatch.Action{Handler: h}
	}
	return d
}

// ARNs of IAM entities.
func (s *Service) userARN(path, name string) string {
	return "arn:aws:iam::" + s.account + ":user" + path + name
}

func (s *Service) groupARN(path, name string) string {
	return "arn:aws:iam::" + s.account + ":group" + path + name
}

func (s *Service) roleARN(path, name string) string {
	return "arn:aws:iam::" + s.account + ":role" + path + name
}

// entityARN is the ARN of the user, group or role of kind.
func (s *Service) entityARN(kind store.PrincipalKind, path, name string) string {
	switch kind {
	case store.KindGroup:
		return s.groupARN(path, name)
	case store.KindRole:
		return s.roleARN(path, name)
	}
	return s.userARN(path, name)
}

func (s *Service) policyARN(path, name string) string {
	return "arn:aws:iam::" + s.account + ":policy" + path + name
}

func (s *Service) samlProviderARN(name string) string {
	return "arn:aws:iam::" + s.account + ":saml-provider/" + name
}
