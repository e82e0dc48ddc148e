// Package clustercreds implements dbiam's Redshift-compatible credentials
// API (version 2012-12-01, SigV4 service "redshift"): GetClusterCredentials,
// GetClusterCredentialsWithIAM, DescribeClusters and
// DescribeCustomDomainAssociations, plus the cluster registry (clusters from
// the config and dbiam's RegisterCluster/DeregisterCluster extension
// actions).
//
// Every request is authorized as Redshift does (the dbuser, dbname and
// dbgroup resources with the redshift:* condition keys and all of the
// caller's aws:* keys), every issued credential is recorded before the
// database is touched (so a crash leaves a record the reaper can clean up),
// and the password is generated here, returned once, and never stored,
// logged or audited.
package clustercreds
