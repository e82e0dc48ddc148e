package policy

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/arn"
)

type baseOp uint8

const (
	opStrEq baseOp = iota + 1
	opStrEqFold
	opStrLike
	opNumEq
	opNumLt
	opNumLe
	opNumGt
	opNumGe
	opDateEq
	opDateLt
	opDateLe
	opDateGt
	opDateGe
	opBool
	opBinary
	opIP
	opArn
	opNull
)

type setOp uint8

const (
	setNone setOp = iota
	setAny        // ForAnyValue:
	setAll        // ForAllValues:
)

// lookupOp maps a base operator name (without set prefix or IfExists) to
// its positive form and whether it is negated.
func lookupOp(name string) (baseOp, bool, bool) {
	switch name {
	case "StringEquals":
		return opStrEq, false, true
	case "StringNotEquals":
		return opStrEq, true, true
	case "StringEqualsIgnoreCase":
		return opStrEqFold, false, true
	case "StringNotEqualsIgnoreCase":
		return opStrEqFold, true, true
	case "StringLike":
		return opStrLike, false, true
	case "StringNotLike":
		return opStrLike, true, true
	case "NumericEquals":
		return opNumEq, false, true
	case "NumericNotEquals":
		return opNumEq, true, true
	case "NumericLessThan":
		return opNumLt, false, true
	case "NumericLessThanEquals":
		return opNumLe, false, true
	case "NumericGreaterThan":
		return opNumGt, false, true
	case "NumericGreaterThanEquals":
		return opNumGe, false, true
	case "DateEquals":
		return opDateEq, false, true
	case "DateNotEquals":
		return opDateEq, true, true
	case "DateLessThan":
		return opDateLt, false, true
	case "DateLessThanEquals":
		return opDateLe, false, true
	case "DateGreaterThan":
		return opDateGt, false, true
	case "DateGreaterThanEquals":
		return opDateGe, false, true
	case "Bool":
		return opBool, false, true
	case "BinaryEquals":
		return opBinary, false, true
	case "IpAddress":
		return opIP, false, true
	case "NotIpAddress":
		return opIP, true, true
	case "ArnEquals", "ArnLike":
		return opArn, false, true
	case "ArnNotEquals", "ArnNotLike":
		return opArn, true, true
	case "Null":
		return opNull, false, true
	}
	return 0, false, false
}

// OperatorNames lists the base condition operators the parser accepts; each
// but Null also takes the IfExists suffix, and every one the ForAnyValue: and
// ForAllValues: prefixes.
func OperatorNames() []string {
	return []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
		"StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
		"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
	}
}

type opSpec struct {
	base     baseOp
	negate   bool
	ifExists bool
	set      setOp
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
// Operator names are case-sensitive.
func parseOperator(name string) (opSpec, error) {
	var spec opSpec
	rest := name
	if r, ok := strings.CutPrefix(rest, "ForAnyValue:"); ok {
		spec.set, rest = setAny, r
	} else if r, ok := strings.CutPrefix(rest, "ForAllValues:"); ok {
		spec.set, rest = setAll, r
	}
	base, negate, ok := lookupOp(rest)
	if !ok {
		if r, cut := strings.CutSuffix(rest, "IfExists"); cut {
			if base, negate, ok = lookupOp(r); ok && base == opNull {
				return spec, fmt.Errorf("the Null operator does not take the IfExists suffix")
			}
			spec.ifExists = true
		}
	}
	if !ok {
		msg := fmt.Sprintf("unknown condition operator %q", name)
		for _, n := range OperatorNames() {
			if strings.EqualFold(n, rest) || strings.EqualFold(n+"IfExists", rest) {
				msg += fmt.Sprintf(" (operator names are case-sensitive: did you mean %q?)", n)
				break
			}
		}
		return spec, fmt.Errorf("%s", msg)
	}
	spec.base, spec.negate = base, negate
	return spec, nil
}

// cond is one (operator, key) pair of a Condition block, compiled.
type cond struct {
	opName string // as written
	opSpec
	key  string // as written
	lkey string // lower-cased
	vals []cval
}

// cval is one policy value, with its typed form parsed at compile time when
// it has no variables.
type cval struct {
	t    tmpl
	num  float64
	tm   instant
	b    bool
	bin  []byte
	pfx  netip.Prefix
	raw0 string // the value as written (JSON numbers and booleans in their text form)
}

// instant is a point in time; comparing seconds then nanoseconds avoids the
// int64 nanosecond range limit.
type instant struct {
	sec  int64
	nsec int32
}

func (a instant) cmp(b instant) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nsec < b.nsec:
		return -1
	case a.nsec > b.nsec:
		return 1
	}
	return 0
}

// compileValue validates and pre-parses one policy value for base. Values
// with variables are checked when evaluated.
func compileValue(base baseOp, raw string, vars bool) (cval, error) {
	cv := cval{t: compileTmpl(raw, vars), raw0: raw}
	if base == opNull {
		cv.t = tmpl{raw: raw} // Null takes no variables
		b, ok := parseBool(raw)
		if !ok {
			return cv, fmt.Errorf(`the Null operator takes "true" or "false", got %q`, raw)
		}
		cv.b = b
		return cv, nil
	}
	if cv.t.segs != nil {
		return cv, nil
	}
	if err := cv.setTyped(base, raw); err != nil {
		return cv, err
	}
	return cv, nil
}

// setTyped parses the typed form of a policy value.
func (cv *cval) setTyped(base baseOp, s string) error {
	switch base {
	case opNumEq, opNumLt, opNumLe, opNumGt, opNumGe:
		n, ok := parseNumber(s)
		if !ok {
			return fmt.Errorf("%q is not a number", s)
		}
		cv.num = n
	case opDateEq, opDateLt, opDateLe, opDateGt, opDateGe:
		t, ok := parseDate(s)
		if !ok {
			return fmt.Errorf("%q is not an ISO 8601 date/time or epoch seconds", s)
		}
		cv.tm = t
	case opBool:
		b, ok := parseBool(s)
		if !ok {
			return fmt.Errorf(`the Bool operator takes "true" or "false", got %q`, s)
		}
		cv.b = b
	case opBinary:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("%q is not base64", s)
		}
		cv.bin = b
	case opIP:
		p, ok := parseCIDR(s)
		if !ok {
			return fmt.Errorf("%q is not an IP address or CIDR block", s)
		}
		cv.pfx = p
	}
	return nil
}

// parseNumber accepts decimal integers and decimals with an optional sign
// and exponent; not hex, NaN, Inf or underscores.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range
		return 0, false
	}
	return f, true
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// dateLayouts are the ISO 8601 forms accepted; a form without a zone is UTC.
// time.Parse accepts fractional seconds after the seconds field.
func dateLayout(i int) string {
	switch i {
	case 0:
		return time.RFC3339
	case 1:
		return "2006-01-02T15:04:05Z0700"
	case 2:
		return "2006-01-02T15:04Z07:00"
	case 3:
		return "2006-01-02T15:04:05"
	case 4:
		return "2006-01-02T15:04"
	case 5:
		return "2006-01-02"
	case 6:
		return "20060102T150405Z0700"
	case 7:
		return "20060102"
	}
	return ""
}

// parseDate accepts epoch seconds (optionally with a decimal fraction) or an
// ISO 8601 date/time.
func parseDate(s string) (instant, bool) {
	if s == "" {
		return instant{}, false
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '-' {
		if t, ok := parseEpoch(s); ok {
			return t, true
		}
	}
	for i := 0; ; i++ {
		l := dateLayout(i)
		if l == "" {
			return instant{}, false
		}
		if t, err := time.Parse(l, s); err == nil {
			return instant{sec: t.Unix(), nsec: int32(t.Nanosecond())}, true
		}
	}
}

func parseEpoch(s string) (instant, bool) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if intPart == "" || intPart == "-" || len(intPart) > 19 {
		return instant{}, false
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || intPart[0] == '+' {
		return instant{}, false
	}
	var nsec int32
	if hasFrac {
		if frac == "" || len(frac) > 9 {
			return instant{}, false
		}
		var n int32
		for i := 0; i < 9; i++ {
			n *= 10
			if i < len(frac) {
				c := frac[i]
				if c < '0' || c > '9' {
					return instant{}, false
				}
				n += int32(c - '0')
			}
		}
		nsec = n
		if intPart[0] == '-' && nsec != 0 {
			sec--
			nsec = 1e9 - nsec
		}
	}
	return instant{sec: sec, nsec: nsec}, true
}

// parseCIDR accepts a CIDR block (host bits are masked off) or a single
// address (a /32 or /128).
func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, false
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// eval decides the condition against ctx. The rules (AWS "Condition
// operators" and "multivalued context keys" pages):
//
//   - Null: true if the key's presence is what a value asks for.
//   - Key missing (or with no values): …IfExists → true; ForAllValues → true;
//     ForAnyValue → false; otherwise a negated operator (StringNotEquals,
//     NotIpAddress, ArnNotLike, …) → true and any other → false.
//   - Key present: a request value "matches" when it matches at least one
//     policy value (OR); for a negated operator, when it matches none (NOR).
//     Without a set operator the condition holds if any request value
//     matches the positive form (negated: if none does); ForAnyValue needs at
//     least one matching request value, ForAllValues every one.
//   - Policy values whose variables have no value are dropped; if all are
//     dropped the condition is false, whatever the operator.
func (c *cond) eval(ctx *view) bool {
	vals := ctx.values(c.lkey)
	if c.base == opNull {
		present := len(vals) > 0
		for i := range c.vals {
			if c.vals[i].b != present {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		if c.ifExists {
			return true
		}
		switch c.set {
		case setAll:
			return true
		case setAny:
			return false
		}
		return c.negate
	}
	switch c.set {
	case setAny:
		for _, v := range vals {
			m, resolved := c.anyValue(v, ctx)
			if !resolved {
				return false
			}
			if m != c.negate {
				return true
			}
		}
		return false
	case setAll:
		for _, v := range vals {
			m, resolved := c.anyValue(v, ctx)
			if !resolved || m == c.negate {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		m, resolved := c.anyValue(v, ctx)
		if !resolved {
			return false
		}
		if m {
			return !c.negate
		}
	}
	return c.negate
}

// anyValue reports whether request value v matches the positive form of the
// operator for at least one policy value, and whether any policy value could
// be resolved at all.
func (c *cond) anyValue(v string, ctx *view) (matched, resolved bool) {
	rv := reqVal{s: v}
	for i := range c.vals {
		m, r := c.matchOne(&c.vals[i], &rv, ctx)
		resolved = resolved || r
		if m {
			return true, true
		}
	}
	return false, resolved
}

// reqVal is a request value with its typed forms parsed on first use, so a
// condition with several policy values parses it once.
type reqVal struct {
	s      string
	parsed bool
	ok     bool
	num    float64
	tm     instant
	b      bool
	bin    []byte
	addr   netip.Addr
}

func (rv *reqVal) parse(base baseOp, ctx *view) bool {
	if rv.parsed {
		return rv.ok
	}
	rv.parsed = true
	switch base {
	case opNumEq, opNumLt, opNumLe, opNumGt, opNumGe:
		rv.num, rv.ok = parseNumber(rv.s)
	case opDateEq, opDateLt, opDateLe, opDateGt, opDateGe:
		rv.tm, rv.ok = parseDate(rv.s)
	case opBool:
		rv.b, rv.ok = parseBool(rv.s)
	case opBinary:
		b, err := base64.StdEncoding.DecodeString(rv.s)
		rv.bin, rv.ok = b, err == nil
	case opIP:
		rv.addr, rv.ok = ctx.addr(rv.s)
	}
	return rv.ok
}

func (c *cond) matchOne(cv *cval, rv *reqVal, ctx *view) (matched, resolved bool) {
	v := rv.s
	if cv.t.segs == nil {
		return c.matchStatic(cv, cv.t.raw, rv, ctx), true
	}
	switch c.base {
	case opStrEq:
		return cv.t.equal(v, ctx)
	case opStrLike:
		if !cv.t.meta {
			return cv.t.equal(v, ctx)
		}
	}
	var buf [256]byte
	switch c.base {
	case opStrEqFold:
		b, ok := cv.t.render(buf[:0], ctx, modeQuoted)
		return ok && arn.GlobFoldBytes(b, v), ok
	case opStrLike:
		b, ok := cv.t.render(buf[:0], ctx, modePattern)
		return ok && arn.GlobBytes(b, v), ok
	case opArn:
		b, ok := cv.t.render(buf[:0], ctx, modePattern)
		return ok && arn.MatchLikeBytes(b, v), ok
	}
	// Typed operators with a variable: render, then parse. A rendered value
	// that does not parse matches nothing.
	b, ok := cv.t.render(buf[:0], ctx, modeLiteral)
	if !ok {
		return false, false
	}
	dyn := cval{}
	if dyn.setTyped(c.base, string(b)) != nil {
		return false, true
	}
	return c.matchStatic(&dyn, string(b), rv, ctx), true
}

// matchStatic compares a request value with a policy value whose typed form
// is in cv and text form in raw. A request value of the wrong type matches
// nothing.
func (c *cond) matchStatic(cv *cval, raw string, rv *reqVal, ctx *view) bool {
	v := rv.s
	switch c.base {
	case opStrEq:
		return v == raw
	case opStrEqFold:
		return strings.EqualFold(v, raw)
	case opStrLike:
		if !cv.t.meta {
			return v == raw
		}
		return cv.t.pf.may(v) && arn.Glob(raw, v)
	case opArn:
		return arn.MatchLike(raw, v)
	}
	if !rv.parse(c.base, ctx) {
		return false
	}
	switch c.base {
	case opNumEq:
		return rv.num == cv.num
	case opNumLt:
		return rv.num < cv.num
	case opNumLe:
		return rv.num <= cv.num
	case opNumGt:
		return rv.num > cv.num
	case opNumGe:
		return rv.num >= cv.num
	case opDateEq:
		return rv.tm.cmp(cv.tm) == 0
	case opDateLt:
		return rv.tm.cmp(cv.tm) < 0
	case opDateLe:
		return rv.tm.cmp(cv.tm) <= 0
	case opDateGt:
		return rv.tm.cmp(cv.tm) > 0
	case opDateGe:
		return rv.tm.cmp(cv.tm) >= 0
	case opBool:
		return rv.b == cv.b
	case opBinary:
		return bytes.Equal(rv.bin, cv.bin)
	case opIP:
		a := rv.addr
		return cv.pfx.Contains(a) || a.Is4In6() && cv.pfx.Contains(a.Unmap())
	}
	return false
}

// describe explains, for traces, why the condition was false.
func (c *cond) describe(ctx *view) string {
	vals := ctx.values(c.lkey)
	prefix := c.opName + " " + c.key + ": "
	if c.base == opNull {
		if len(vals) > 0 {
			return prefix + "key is present"
		}
		return prefix + "key is missing"
	}
	if len(vals) == 0 {
		return prefix + "key is missing from the request context"
	}
	var unresolved []string
	for i := range c.vals {
		if u := c.vals[i].t.unresolved(ctx); u != "" {
			unresolved = append(unresolved, u)
		}
	}
	if len(unresolved) == len(c.vals) {
		return prefix + "no policy value could be resolved (" + strings.Join(unresolved, ", ") + " has no value)"
	}
	policyVals := make([]string, len(c.vals))
	for i := range c.vals {
		policyVals[i] = c.vals[i].raw0
	}
	return prefix + fmt.Sprintf("request value %q does not satisfy %q", vals, policyVals)
}
