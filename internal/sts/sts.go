package sts

import (
	"context"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
)

// API version and XML namespace of STS.
const (
	Version   = "2011-06-15"
	Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Service serves the STS actions.
type Service struct{}

// New returns the STS service.
func New() *Service { return &Service{} }

// Descriptor describes the service to the dispatcher.
func (s *Service) Descriptor() *dispatch.Service {
	return &dispatch.Service{
		Name:      "sts",
		Version:   Version,
		Namespace: Namespace,
		Actions: map[string]dispatch.Action{
			"GetCallerIdentity": {Handler: s.getCallerIdentity},
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
