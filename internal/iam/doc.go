// Package iam implements dbiam's AWS Identity and Access Management API
// (version 2010-05-08, SigV4 service "iam"): users, groups, roles, access
// keys, inline and managed policies, SAML providers and tags, with AWS's
// request parameters, response shapes, pagination and errors.
//
// Every action is authorized by the policy engine before it touches the
// store (see Authorizer). Store errors become AWS errors (NoSuchEntity,
// EntityAlreadyExists, DeleteConflict, LimitExceeded) here.
//
// It must never return a secret access key except in the CreateAccessKey
// result, and never log one.
package iam
