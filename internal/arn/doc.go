// Package arn parses and formats Amazon Resource Names and implements the
// wildcard matchers that IAM policy evaluation uses:
//
//   - Glob / GlobFold: "*" matches any run of characters, "?" exactly one
//     character (rune); case-sensitive and case-insensitive (Unicode simple
//     folding) variants. Used for StringLike and for Action elements.
//   - MatchLike: the ArnLike / ArnEquals condition operators. The first five
//     colon-separated components (arn, partition, service, region, account)
//     are matched one by one, so a wildcard there never crosses ":"; the
//     sixth component, the resource, is matched as a whole, where "*" spans
//     ":" and "/".
//   - MatchResource: the Resource / NotResource policy elements. "*" alone
//     matches everything. Otherwise, as AWS documents, wildcards act within
//     the colon-separated segments of the ARN, except that a "*" that is the
//     last character of a segment (followed by ":" or at the end of the
//     pattern) may expand beyond the colon boundaries; "?" never matches ":".
//     A "*" inside a segment (e.g. "dbuser:*/temp_*" before the "/") stays in
//     its segment.
//
// All matchers are case-sensitive unless their name says Fold, allocate
// nothing, use no regular expressions and no recursion, and run in
// O(len(pattern) × len(value)) time in the worst case (no exponential
// backtracking on patterns such as "a*a*a*a*b").
//
// # Quoting
//
// Policy variables can substitute text that contains "*" or "?" (or the
// ${*} / ${?} escapes produce them), and that text must match literally. In
// every pattern, the byte 0xFF — which never occurs in valid UTF-8, hence
// never in a policy document — quotes the byte that follows it. QuoteMeta
// and AppendQuoted build such patterns; the *Bytes variants of the matchers
// accept a pattern built in a caller's buffer without converting it to a
// string.
//
// What this package must never do: import anything outside the standard
// library, perform I/O, read the clock, or panic on any input.
package arn
