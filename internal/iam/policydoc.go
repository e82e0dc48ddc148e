package iam

import (
	"errors"
	"net/url"
	"strings"

	"github.com/dbiam/dbiam/internal/policy"
)

// AWS quotas on policy document sizes, in characters not counting
// whitespace.
const (
	MaxUserInlinePolicySize  = 2048
	MaxGroupInlinePolicySize = 5120
	MaxRoleInlinePolicySize  = 10240
	MaxManagedPolicySize     = 6144
	MaxTrustPolicySize       = 2048
)

// checkPolicyDocument parses doc with the policy engine's strict parser and
// turns a rejection into MalformedPolicyDocument with the parser's message
// (which says where and why, and never echoes the document).
func checkPolicyDocument(doc string, kind policy.PolicyKind, maxSize int) error {
	_, err := policy.ParseWithOptions([]byte(doc), policy.ParseOptions{Kind: kind, MaxSize: maxSize})
	if err == nil {
		return nil
	}
	var pe *policy.ParseError
	if errors.As(err, &pe) {
		return malformedPolicy("%s", pe.Error())
	}
	return malformedPolicy("The policy document is malformed.")
}

// encodePolicyDocument URL-encodes a policy document the way IAM returns
// documents (GetUserPolicy, GetPolicyVersion, GetRole…): percent-encoding
// with %20 for spaces and %2B for plus signs, so that url.QueryUnescape,
// url.PathUnescape and Python's unquote (the AWS CLI) all decode it.
func encodePolicyDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}
