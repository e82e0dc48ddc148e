package iam

import "github.com/dbiam/dbiam/internal/awsproto/dispatch"

// managedPolicyAndSAMLActions serves managed policies, their versions and
// attachments, and SAML providers.
func (s *Service) managedPolicyAndSAMLActions() map[string]dispatch.Handler {
	return map[string]dispatch.Handler{}
}
