// Package awstest starts a real dbiam server (the whole app, SQLite store,
// real HTTP listener on loopback) for a test and hands out aws-sdk-go-v2
// clients pointed at it, so end-to-end tests exercise exactly what the AWS
// SDKs and CLI do. It is test infrastructure; nothing in production imports
// it.
package awstest
