// Package policy is dbiam's implementation of the AWS IAM JSON policy
// language: a strict parser, an evaluator that follows AWS's documented
// evaluation logic, a decision trace, and a content-keyed cache of parsed
// policies.
//
// # Parsing
//
// ParseWithOptions (and Parse, ParseKind, Cache.Parse) accept a document of
// a given PolicyKind — Identity, Trust, Resource, Session or Boundary — and
// reject, with a *ParseError whose text becomes a MalformedPolicyDocument
// message, anything IAM would reject and a few things encoding/json would
// silently accept: mis-cased or duplicate element names, unknown elements,
// trailing data, invalid UTF-8, both Action and NotAction, a Principal in an
// identity policy, a Resource in a trust policy, an unknown condition
// operator, an action without a service prefix, an untyped value for a typed
// operator ("abc" for NumericLessThan), duplicate Sids, documents over the
// size limit (counted, like AWS, in characters without whitespace outside
// strings). Parsed policies are compiled once (lower-cased actions, parsed
// numbers, dates, CIDR blocks and base64, pre-split policy variables) and are
// immutable: share them freely between goroutines.
//
// # Evaluation
//
// Evaluate decides a Request against a PolicySet (identity, resource-based
// and trust, permissions boundary, session policies): explicit Deny
// anywhere wins; otherwise an Allow is needed from an identity-based or
// resource-based policy, and from each gate present (boundary, session);
// otherwise implicit deny. See Evaluate for the resource-policy nuances;
// for sts:AssumeRole* put the role's trust policy in PolicySet.Resource and
// set RequireResource (the trust policy must itself allow).
// Evaluation does not allocate beyond Decision.Matched (and
// MissingContextKeys when keys are missing) unless Request.Trace is set.
// Actions match case-insensitively with '*' and '?'; resources
// case-sensitively, with AWS's segment rules (package arn). Every condition
// operator family is implemented, with …IfExists, ForAnyValue: and
// ForAllValues:. Policy variables (${aws:username}, ${aws:PrincipalTag/k},
// ${redshift:DbUser}, ${saml:sub}, the escapes ${*} ${?} ${$}, defaults
// ${key, 'default'}) are substituted from the request context only under
// Version 2012-10-17; under 2008-10-17 or without a Version they are
// literal text.
//
// # Choices where AWS's documentation is silent or ambiguous
//
//   - Operator names and element names are case-sensitive; condition key
//     names are case-insensitive (two keys differing only in case under one
//     operator are a parse error).
//   - ArnEquals behaves as ArnLike (AWS documents them together, with
//     wildcards); ArnNotEquals as ArnNotLike.
//   - A missing key (or one with an empty value set) makes a condition
//     false, except: …IfExists → true; ForAllValues → true; ForAnyValue →
//     false; a negated operator (StringNotEquals, StringNotLike,
//     StringNotEqualsIgnoreCase, NumericNotEquals, DateNotEquals,
//     NotIpAddress, ArnNotEquals, ArnNotLike) → true, as the IAM condition
//     operator page states ("the condition is true").
//   - Several policy values for one key: OR; for negated operators NOR.
//     A single-valued operator on a multivalued request key holds when any
//     request value matches (negated: when none does).
//   - A policy variable whose key is missing, multivalued or malformed and
//     has no default: in Resource, that entry matches nothing; in NotResource,
//     the statement does not apply; in a condition value, that value is
//     dropped, and a condition whose values are all dropped is false (also
//     for negated operators) — "the entire statement may be invalid". The
//     missing-key rules above take precedence (a negated operator on a
//     missing key is still true).
//   - A request value of the wrong type (a non-number for Numeric…, an
//     unparsable date, an address that is not an IP) matches no policy
//     value; negated operators then hold.
//   - Typed policy values are validated at parse time (numbers, ISO 8601
//     dates or epoch seconds, "true"/"false", base64, IPs/CIDRs); values
//     containing variables are checked when evaluated.
//   - Null takes no IfExists; ForAnyValue:/ForAllValues: on Null are accepted
//     and behave as plain Null (a key-presence test).
//   - Principal: an account id or root ARN matches every principal of that
//     account but delegates to IAM (an identity-based Allow is also needed);
//     wildcards other than "*" alone are rejected at parse time.
//     NotPrincipal excludes a caller only when each of its identities (own
//     ARN, session role, account, provider) is listed.
//   - Trust policies may only use "*" and sts: actions and have no Resource.
//   - Resource matching follows the IAM Resource element page: wildcards
//     act within a colon-separated segment, except that a '*' ending a
//     segment (before ':' or at the end) may span colons; so in
//     "…:dbuser:*/temp_*" the first '*' matches a cluster name without ':'.
//     ArnLike, by contrast, treats the whole resource part as one component
//     where '*' spans ':' and '/'.
//   - A multivalued key cannot be a policy variable (like a missing key).
//   - Request values in Context are compared as given; the caller supplies
//     aws:CurrentTime/aws:EpochTime for Date conditions.
//   - Sid: letters and digits only, except in Resource-kind policies; empty
//     Sids are allowed and may repeat, other Sids must be unique.
//
// What this package must never do: import anything outside the standard
// library (and dbiam's own internal/arn), perform I/O, read the clock (the
// time for Date conditions comes from the request context, e.g.
// aws:CurrentTime and aws:EpochTime), use randomness, or panic on any input.
package policy
