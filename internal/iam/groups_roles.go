package iam

import "github.com/dbiam/dbiam/internal/awsproto/dispatch"

// groupAndRoleActions serves groups, group membership, roles, trust
// policies, role tags and inline policies of users, groups and roles.
func (s *Service) groupAndRoleActions() map[string]dispatch.Handler {
	return map[string]dispatch.Handler{}
}
