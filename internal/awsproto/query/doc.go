// Package query speaks the AWS Query protocol used by IAM, STS and the
// Redshift control-plane API: it parses form-encoded requests into Params,
// decodes Params into tagged Go structs, and encodes the XML success and
// error envelopes that the AWS SDKs, the AWS CLI and the Redshift drivers
// parse.
//
// Requests travel as application/x-www-form-urlencoded bodies (SDKs always
// POST; GET with the same parameters in the URL query is also accepted):
//
//	Action=GetClusterCredentials&Version=2012-12-01&DbUser=alice
//	&AutoCreate=true&DbGroups.DbGroup.1=g1&DbGroups.DbGroup.2=g2
//
// [Parse] turns such a request into [Params], rejecting anything ambiguous:
// malformed percent-encoding, a key given twice, invalid UTF-8, an empty key
// or more than [MaxParams] parameters. [Decode] then fills a struct whose
// fields carry `query` tags (scalars, lists in the ".member.N" form, maps in
// the ".entry.N.key/.value" form, nested structs) and rejects any parameter
// the struct does not consume. [MarshalResponse] and [MarshalError] write the
// <OpResponse> and <ErrorResponse> documents; [Timestamp] formats times the
// way AWS does.
//
// Failures caused by the request are *[Error] values carrying an AWS error
// code (MalformedQueryString, MissingParameter, InvalidParameterValue,
// InvalidQueryParameter). They implement AWSErrorCode and AWSErrorMessage, so
// the awserr package maps them to client-visible errors without this package
// importing it. Failures caused by the program (an unsupported field type, a
// bad struct tag, a non-pointer destination) are plain errors, which awserr
// turns into InternalFailure.
//
// The only package-level state is a read-mostly cache of per-type decoding
// plans (a sync.Map keyed by reflect.Type); it holds no request data.
//
// This package must never:
//   - import anything outside the standard library (it sits below awserr,
//     sigv4 and the service handlers);
//   - echo unbounded input: request-derived names and values quoted in an
//     error message are clipped to a few dozen bytes and stripped of control
//     characters, and the values of string parameters (which may be
//     passwords, policies or SAML assertions) are never quoted at all;
//   - panic on any input, however malformed (FuzzParse and FuzzDecode check
//     this).
package query
