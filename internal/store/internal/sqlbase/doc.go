// Package sqlbase holds what the SQL backends of package store share: loading
// numbered migrations from an embedded file system, the lower-cased name key
// that makes user names unique case-insensitively, the encoding of tags, and
// the checks applied to the result of an updater.
//
// It does no I/O besides reading the embedded migrations and must never see
// or log secret material.
package sqlbase
