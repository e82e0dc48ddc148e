// Package sqlbase holds what the SQL backends of package store share: loading
// numbered migrations from an embedded file system, the lower-cased name key
// that makes IAM names unique case-insensitively, the encoding of tags and
// of a credential's groups, the checks applied to the result of an updater
// and to credential states, the policy version ids
// ("v<N>"), the tables and columns of each principal kind, the one statement
// that reads a principal's effective policies (the same SQL in both
// backends) and the error of a refused delete.
//
// It does no I/O besides reading the embedded migrations and must never see
// or log secret material.
package sqlbase
