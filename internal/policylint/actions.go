package policylint

// servedActions lists, per service prefix (lower case), the actions dbiam
// evaluates. Policies may name other AWS services (they are valid IAM), but
// such statements have no effect on dbiam.
var servedActions = map[string][]string{
	"iam": {
		"AddUserToGroup", "AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy", "CreateAccessKey", "CreateGroup",
		"CreatePolicy", "CreatePolicyVersion", "CreateRole", "CreateSAMLProvider", "CreateUser", "DeleteAccessKey",
		"DeleteGroup", "DeleteGroupPolicy", "DeletePolicy", "DeletePolicyVersion", "DeleteRole", "DeleteRolePolicy",
		"DeleteSAMLProvider", "DeleteUser", "DeleteUserPolicy", "DetachGroupPolicy", "DetachRolePolicy", "DetachUserPolicy",
		"GetAccessKeyLastUsed", "GetGroup", "GetGroupPolicy", "GetPolicy", "GetPolicyVersion", "GetRole", "GetRolePolicy",
		"GetSAMLProvider", "GetUser", "GetUserPolicy", "ListAccessKeys", "ListAttachedGroupPolicies", "ListAttachedRolePolicies",
		"ListAttachedUserPolicies", "ListEntitiesForPolicy", "ListGroupPolicies", "ListGroups", "ListGroupsForUser",
		"ListPolicies", "ListPolicyTags", "ListPolicyVersions", "ListRolePolicies", "ListRoleTags", "ListRoles",
		"ListSAMLProviders", "ListSAMLProviderTags", "ListUserPolicies", "ListUserTags", "ListUsers", "PutGroupPolicy",
		"PutRolePolicy", "PutUserPolicy", "RemoveUserFromGroup", "SetDefaultPolicyVersion", "SimulateCustomPolicy",
		"SimulatePrincipalPolicy", "TagPolicy", "TagRole", "TagSAMLProvider", "TagUser", "UntagPolicy", "UntagRole", "UntagSAMLProvider",
		"UntagUser",
		"UpdateAccessKey", "UpdateAssumeRolePolicy", "UpdateGroup", "UpdateRole", "UpdateRoleDescription", "UpdateSAMLProvider",
		"UpdateUser",
	},
	"sts": {
		"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetCallerIdentity", "GetSessionToken",
		"SetSourceIdentity", "TagSession",
	},
	"redshift": {
		"CreateClusterUser", "DescribeClusters", "DescribeCustomDomainAssociations", "GetClusterCredentials",
		"GetClusterCredentialsWithIAM", "JoinGroup",
	},
	"dbiam": {"DeregisterCluster", "RegisterCluster"},
}
