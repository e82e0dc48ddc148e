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
// nothing, and use no regular expressions and no recursion. They are greedy
// matchers with one backtrack point per star kind (never exponential, e.g.
// on "a*a*a*a*b"); after a failed attempt a star jumps to the next
// occurrence of the literal run that follows it (strings.Index, or
// Rabin-Karp for byte patterns), so ordinary patterns cost
// O(len(pattern)+len(value)). The worst case — a long literal run that keeps
// almost matching, followed by '?' — is O(len(pattern)·len(value)).
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
