// Package demo is `dbiam demo`: the whole story of dbiam in one process,
// printed as a transcript, and StartLocal, the in-process dbiam with a local
// PostgreSQL that the demo and `dbiam bench creds --self` run on.
//
// The story: dbiam starts in dev mode in a temporary data dir (SQLite store,
// generated root credentials, a local PostgreSQL registered as cluster
// "dev", see docs/dev.md); the account root creates IAM user alice with a
// policy allowing credentials for database user alice (and CreateClusterUser)
// and an access key; alice gets credentials and connects with pgx
// (session_user is the temporary login, current_user is alice); alice asks
// for bob and is denied; the development SAML IdP (internal/devidp) starts
// on a loopback port, is registered as SAML provider DevIdP, and role
// RedshiftSSO trusts it with the Redshift documentation's policy
// (aws:userid = <role id>:${redshift:DbUser}@example.com); carol signs in
// at the IdP, AssumeRoleWithSAML gives her a session
// (GetCallerIdentity shows it), she gets credentials for her DbUser carol
// and connects, and is denied alice's. Every AWS call goes through
// aws-sdk-go-v2 against the real HTTP endpoint; the transcript shows the
// equivalent AWS CLI command.
//
// This package must never: print a database password or a SAML response
// (the transcript shows their length), print an access key secret unless
// the demo keeps running for the user to try it (Config.Exit false), or
// leave its data dir or PostgreSQL behind (Close removes both).
package demo
