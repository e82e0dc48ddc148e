package sts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/saml"
	"github.com/dbiam/dbiam/internal/store"
)

// API version and XML namespace of STS.
const (
	Version   = "2011-06-15"
	Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Config holds the STS service's dependencies.
type Config struct {
	Store      store.Store
	Tokens     *Tokens
	SAML       *saml.Validator
	Authorizer *iam.PolicyAuthorizer
	AccountID  string
	Now        func() time.Time
	Rand       io.Reader
	Logger     *slog.Logger
}

// Service serves the STS actions.
type Service struct {
	store   store.Store
	tokens  *Tokens
	saml    *saml.Validator
	authz   *iam.PolicyAuthorizer
	account string
	now     func() time.Time
	rand    io.Reader
	log     *slog.Logger
}

// New returns the STS service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Tokens == nil || cfg.SAML == nil || cfg.Authorizer == nil || cfg.AccountID == "" || cfg.Now == nil || cfg.Rand == nil || cfg.Logger == nil {
		return nil, errors.New("sts: store, tokens, SAML validator, authorizer, account, clock, rand and logger are required")
	}
	return &Service{store: cfg.Store, tokens: cfg.Tokens, saml: cfg.SAML, authz: cfg.Authorizer, account: cfg.AccountID, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger}, nil
}

// Descriptor describes the service to the dispatcher.
func (s *Service) Descriptor() *dispatch.Service {
	return &dispatch.Service{
		Name:      "sts",
		Version:   Version,
		Namespace: Namespace,
		Actions: map[string]dispatch.Action{
			"GetCallerIdentity":  {Handler: s.getCallerIdentity},
			"GetSessionToken":    {Handler: s.getSessionToken},
			"AssumeRole":         {Handler: s.assumeRole},
			"AssumeRoleWithSAML": {Handler: s.assumeRoleWithSAML, Unsigned: true},
		},
	}
}

type getCallerIdentityInput struct{}

// GetCallerIdentityResult is the wire shape of the result.
type GetCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// getCallerIdentity answers who signed the request. AWS allows it to every
// authenticated principal, even one whose policies deny everything.
func (s *Service) getCallerIdentity(_ context.Context, req *dispatch.Request) (any, error) {
	if err := req.Decode(&getCallerIdentityInput{}); err != nil {
		return nil, err
	}
	p := req.Principal
	return &GetCallerIdentityResult{Arn: p.ARN, UserID: p.UserID, Account: p.AccountID}, nil
}

// credentialsXML is the Credentials element of STS results.
type credentialsXML struct {
	AccessKeyID     string          `xml:"AccessKeyId"`
	SecretAccessKey string          `xml:"SecretAccessKey"`
	SessionToken    string          `xml:"SessionToken"`
	Expiration      query.Timestamp `xml:"Expiration"`
}

type assumedRoleUserXML struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}
