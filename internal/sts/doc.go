// Package sts implements dbiam's AWS Security Token Service API (version
// 2011-06-15, SigV4 service "sts").
//
// Today it serves GetCallerIdentity for every principal kind; temporary
// credentials (GetSessionToken, AssumeRole, AssumeRoleWithSAML) build on it.
// It must never return or log a secret access key or session token except
// as the intended result of an action that issues one.
package sts
