package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dbiam/dbiam/internal/arn"
)

// Size limits.
const (
	// DefaultMaxSize is the default limit on a document's size in characters
	// not counting whitespace outside JSON strings: IAM's limit for a role's
	// inline policies (10,240). Managed policies are limited to 6,144 and
	// users' inline policies to 2,048 characters; callers pass those as
	// ParseOptions.MaxSize.
	DefaultMaxSize = 10240
	// DefaultMaxBytes is the default limit on a document's raw length in
	// bytes, whitespace included, checked before anything is parsed.
	DefaultMaxBytes = 128 << 10
)

// ParseOptions controls ParseWithOptions. The zero value parses an identity
// policy with the default limits.
type ParseOptions struct {
	Kind PolicyKind
	// MaxSize limits the document's size in characters (runes), not counting
	// whitespace outside JSON strings — how AWS measures its quotas. 0 means
	// DefaultMaxSize; a negative value means no limit.
	MaxSize int
	// MaxBytes limits the raw document length in bytes. 0 means
	// DefaultMaxBytes; a negative value means no limit.
	MaxBytes int
}

func (o ParseOptions) normalized() ParseOptions {
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// ErrMalformed is matched (errors.Is) by every *ParseError.
var ErrMalformed = errors.New("malformed policy document")

// ParseError says where and why a document was rejected. Its text is meant
// for a MalformedPolicyDocument message, e.g.
//
//	Statement[1].Effect: must be "Allow" or "Deny", got "allow"
type ParseError struct {
	Path    string // e.g. "Statement[1].Effect"; "" for the whole document
	Message string
	Offset  int64 // byte offset in the document near the problem
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Unwrap lets errors.Is(err, ErrMalformed) succeed.
func (e *ParseError) Unwrap() error { return ErrMalformed }

// Parse parses an identity policy with the default limits.
func Parse(doc []byte) (*Policy, error) { return ParseWithOptions(doc, ParseOptions{}) }

// ParseKind parses a policy of the given kind with the default limits.
func ParseKind(doc []byte, kind PolicyKind) (*Policy, error) {
	return ParseWithOptions(doc, ParseOptions{Kind: kind})
}

// ParseWithOptions parses, validates and compiles a policy document. The
// parser is strict, like IAM's policy validation and stricter than
// encoding/json: element names are case-sensitive, duplicate names and
// unknown elements are rejected, the document must be valid UTF-8 and hold
// exactly one JSON object, and every operator, action and typed condition
// value is checked. Every error is a *ParseError.
func ParseWithOptions(doc []byte, opts ParseOptions) (*Policy, error) {
	opts = opts.normalized()
	if !opts.Kind.valid() {
		return nil, &ParseError{Message: fmt.Sprintf("unknown policy kind %d", int(opts.Kind))}
	}
	if opts.MaxBytes > 0 && len(doc) > opts.MaxBytes {
		return nil, &ParseError{Message: fmt.Sprintf("policy document is %d bytes; the limit is %d", len(doc), opts.MaxBytes)}
	}
	if !utf8.Valid(doc) {
		off := 0
		for off < len(doc) {
			r, n := utf8.DecodeRune(doc[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, &ParseError{Message: "policy document is not valid UTF-8", Offset: int64(off)}
	}
	size := significantSize(doc)
	if opts.MaxSize > 0 && size > opts.MaxSize {
		return nil, &ParseError{Message: fmt.Sprintf(
			"policy document is %d characters (not counting whitespace); the limit is %d", size, opts.MaxSize)}
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(doc)), kind: opts.Kind}
	p.dec.UseNumber()
	raw, err := p.document()
	if err != nil {
		return nil, err
	}
	return p.compile(raw, size)
}

// significantSize counts runes, skipping whitespace outside strings.
func significantSize(doc []byte) int {
	n := 0
	inStr, esc := false, false
	for _, c := range doc {
		if !inStr && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			continue
		}
		if c&0xC0 != 0x80 {
			n++
		}
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		}
	}
	return n
}

type parser struct {
	dec    *json.Decoder
	kind   PolicyKind
	vars   bool
	intern map[string]string // lower-cased context keys, shared within the policy
}

// in interns a lower-cased key, so that equal keys share memory and compare
// by pointer in the evaluator's lookup memo.
func (p *parser) in(s string) string {
	if p.intern == nil {
		p.intern = make(map[string]string)
	}
	if v, ok := p.intern[s]; ok {
		return v
	}
	p.intern[s] = s
	return s
}

func (p *parser) internTmpl(t *tmpl) {
	for i := range t.segs {
		if t.segs[i].kind == segVar {
			t.segs[i].key = p.in(t.segs[i].key)
		}
	}
}

func (p *parser) errf(path, format string, args ...any) *ParseError {
	return &ParseError{Path: path, Message: fmt.Sprintf(format, args...), Offset: p.dec.InputOffset()}
}

func (p *parser) token(path string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, p.errf(path, "unexpected end of document")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &ParseError{Path: path, Message: "invalid JSON: " + se.Error(), Offset: se.Offset}
		}
		return nil, p.errf(path, "invalid JSON: %v", err)
	}
	return tok, nil
}

// describe names a token's JSON type for messages.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "a " + string(v)
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

func join(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

// objectKeys iterates over an object whose '{' has been consumed, calling fn
// for each key after checking it is not a duplicate. fn must consume the
// value.
func (p *parser) objectKeys(path string, fn func(key string) error) error {
	seen := make(map[string]bool)
	for p.dec.More() {
		tok, err := p.token(path)
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return p.errf(path, "expected an element name, got %s", describe(tok))
		}
		if seen[key] {
			return p.errf(join(path, key), "duplicate element %q", key)
		}
		seen[key] = true
		if err := fn(key); err != nil {
			return err
		}
	}
	_, err := p.token(path) // '}'
	return err
}

func unknownElement(p *parser, path, key string, known ...string) error {
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return p.errf(path, "unknown element %q (element names are case-sensitive: did you mean %q?)", key, k)
		}
	}
	return p.errf(path, "unknown element %q", key)
}

func (p *parser) openObject(path string) error {
	tok, err := p.token(path)
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return p.errf(path, "must be an object, got %s", describe(tok))
	}
	return nil
}

func (p *parser) str(path string) (string, error) {
	tok, err := p.token(path)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", p.errf(path, "must be a string, got %s", describe(tok))
	}
	return s, nil
}

// strList reads a string or a non-empty array of strings.
func (p *parser) strList(path string) ([]string, error) {
	tok, err := p.token(path)
	if err != nil {
		return nil, err
	}
	if s, ok := tok.(string); ok {
		return []string{s}, nil
	}
	if tok != json.Delim('[') {
		return nil, p.errf(path, "must be a string or an array of strings, got %s", describe(tok))
	}
	var out []string
	for p.dec.More() {
		ep := path + "[" + strconv.Itoa(len(out)) + "]"
		tok, err := p.token(ep)
		if err != nil {
			return nil, err
		}
		s, ok := tok.(string)
		if !ok {
			return nil, p.errf(ep, "must be a string, got %s", describe(tok))
		}
		out = append(out, s)
	}
	if _, err := p.token(path); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, p.errf(path, "must not be an empty array")
	}
	return out, nil
}

// scalar converts a condition value token to its string form.
func (p *parser) scalar(path string, tok json.Token) (string, error) {
	switch v := tok.(type) {
	case string:
		return v, nil
	case json.Number:
		return string(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", p.errf(path, "condition values must be strings, numbers or booleans, got %s", describe(tok))
}

// valueList reads a condition value: a scalar or a non-empty array of them.
func (p *parser) valueList(path string) ([]string, error) {
	tok, err := p.token(path)
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		s, err := p.scalar(path, tok)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var out []string
	for p.dec.More() {
		ep := path + "[" + strconv.Itoa(len(out)) + "]"
		tok, err := p.token(ep)
		if err != nil {
			return nil, err
		}
		s, err := p.scalar(ep, tok)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if _, err := p.token(path); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, p.errf(path, "must not be an empty array")
	}
	return out, nil
}

type rawDoc struct {
	version    string
	hasVersion bool
	id         string
	stmts      []*rawStmt
}

type rawStmt struct {
	path   string
	index  int
	offset int64

	sid    string
	hasSid bool
	effect string
	hasEff bool

	principal    *Principal
	principalKey string // "Principal" or "NotPrincipal"

	actions   []string
	actionKey string

	resources   []string
	resourceKey string

	conds []rawCond
}

type rawCond struct {
	path   string
	op     string
	key    string
	values []string
}

func (p *parser) document() (*rawDoc, error) {
	if err := p.openObject(""); err != nil {
		if pe, ok := err.(*ParseError); ok && strings.HasPrefix(pe.Message, "must be an object") {
			pe.Message = "policy document " + pe.Message
		}
		return nil, err
	}
	doc := &rawDoc{}
	hasStatement := false
	err := p.objectKeys("", func(key string) error {
		switch key {
		case "Version":
			v, err := p.str(key)
			if err != nil {
				return err
			}
			if v != Version2012 && v != Version2008 {
				return p.errf(key, "must be %q or %q, got %q", Version2012, Version2008, v)
			}
			doc.version, doc.hasVersion = v, true
		case "Id":
			v, err := p.str(key)
			if err != nil {
				return err
			}
			doc.id = v
		case "Statement":
			hasStatement = true
			return p.statements(doc)
		default:
			return unknownElement(p, "", key, "Version", "Id", "Statement")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !hasStatement {
		return nil, p.errf("", `missing required element "Statement"`)
	}
	// Exactly one JSON value: only whitespace may follow.
	if tok, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return nil, p.errf("", "unexpected data after the policy document (%s)", describe(tok))
		}
		return nil, p.errf("", "unexpected data after the policy document")
	}
	return doc, nil
}

func (p *parser) statements(doc *rawDoc) error {
	tok, err := p.token("Statement")
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		s, err := p.statement("Statement", 0)
		if err != nil {
			return err
		}
		doc.stmts = append(doc.stmts, s)
		return nil
	case json.Delim('['):
		for p.dec.More() {
			i := len(doc.stmts)
			path := "Statement[" + strconv.Itoa(i) + "]"
			if err := p.openObject(path); err != nil {
				return err
			}
			s, err := p.statement(path, i)
			if err != nil {
				return err
			}
			doc.stmts = append(doc.stmts, s)
		}
		if _, err := p.token("Statement"); err != nil {
			return err
		}
		if len(doc.stmts) == 0 {
			return p.errf("Statement", "must contain at least one statement")
		}
		return nil
	}
	return p.errf("Statement", "must be an object or an array of objects, got %s", describe(tok))
}

// statement reads one statement object whose '{' has been consumed.
func (p *parser) statement(path string, index int) (*rawStmt, error) {
	s := &rawStmt{path: path, index: index, offset: p.dec.InputOffset()}
	err := p.objectKeys(path, func(key string) error {
		ep := join(path, key)
		var err error
		switch key {
		case "Sid":
			s.sid, err = p.str(ep)
			s.hasSid = true
		case "Effect":
			s.effect, err = p.str(ep)
			s.hasEff = true
		case "Principal", "NotPrincipal":
			if s.principalKey != "" {
				return p.errf(path, `"Principal" and "NotPrincipal" are mutually exclusive`)
			}
			s.principalKey = key
			s.principal, err = p.principal(ep)
		case "Action", "NotAction":
			if s.actionKey != "" {
				return p.errf(path, `"Action" and "NotAction" are mutually exclusive`)
			}
			s.actionKey = key
			s.actions, err = p.strList(ep)
		case "Resource", "NotResource":
			if s.resourceKey != "" {
				return p.errf(path, `"Resource" and "NotResource" are mutually exclusive`)
			}
			s.resourceKey = key
			s.resources, err = p.strList(ep)
		case "Condition":
			s.conds, err = p.condition(ep)
		default:
			return unknownElement(p, path, key,
				"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) principal(path string) (*Principal, error) {
	tok, err := p.token(path)
	if err != nil {
		return nil, err
	}
	if s, ok := tok.(string); ok {
		if s != "*" {
			return nil, p.errf(path, `must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}, got %q`, s)
		}
		return &Principal{Wildcard: true}, nil
	}
	if tok != json.Delim('{') {
		return nil, p.errf(path, "must be \"*\" or an object, got %s", describe(tok))
	}
	pr := &Principal{}
	n := 0
	err = p.objectKeys(path, func(key string) error {
		ep := join(path, key)
		var dst *[]string
		switch key {
		case "AWS":
			dst = &pr.AWS
		case "Federated":
			dst = &pr.Federated
		case "Service":
			dst = &pr.Service
		case "CanonicalUser":
			dst = &pr.CanonicalUser
		default:
			return unknownElement(p, path, key, "AWS", "Federated", "Service", "CanonicalUser")
		}
		vals, err := p.strList(ep)
		if err != nil {
			return err
		}
		for i, v := range vals {
			if msg := checkPrincipalValue(key, v); msg != "" {
				vp := ep
				if len(vals) > 1 {
					vp += "[" + strconv.Itoa(i) + "]"
				}
				return p.errf(vp, "%s", msg)
			}
		}
		*dst = vals
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, p.errf(path, "must not be an empty object")
	}
	return pr, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUniqueID recognises IAM unique ids (AIDA…, AROA…), which IAM shows in
// place of a deleted principal; they are accepted and never match.
func isUniqueID(s string) bool {
	if len(s) < 16 || len(s) > 128 || s[0] != 'A' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func checkPrincipalValue(typ, v string) string {
	if v == "" {
		return "must not be empty"
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return fmt.Sprintf("invalid principal %q", v)
	}
	switch typ {
	case "AWS":
		if v == "*" || isAccountID(v) || isUniqueID(v) {
			return ""
		}
		if strings.ContainsAny(v, "*?") {
			return fmt.Sprintf(`invalid principal %q: wildcards are only allowed as "*" alone (use a condition on aws:PrincipalArn)`, v)
		}
		a, err := arn.Parse(v)
		if err != nil || (a.Service != "iam" && a.Service != "sts") {
			return fmt.Sprintf("invalid principal %q: want \"*\", a 12-digit account id or an IAM/STS ARN", v)
		}
	default:
		if strings.ContainsAny(v, "*?") {
			return fmt.Sprintf("invalid principal %q: wildcards are not allowed in %s principals", v, typ)
		}
	}
	return ""
}

func (p *parser) condition(path string) ([]rawCond, error) {
	if err := p.openObject(path); err != nil {
		return nil, err
	}
	var out []rawCond
	err := p.objectKeys(path, func(op string) error {
		opPath := join(path, op)
		if err := p.openObject(opPath); err != nil {
			return err
		}
		lower := make(map[string]string)
		return p.objectKeys(opPath, func(key string) error {
			kp := join(opPath, key)
			if prev, dup := lower[strings.ToLower(key)]; dup {
				return p.errf(kp, "duplicate condition key (keys are case-insensitive: %q and %q)", prev, key)
			}
			lower[strings.ToLower(key)] = key
			vals, err := p.valueList(kp)
			if err != nil {
				return err
			}
			out = append(out, rawCond{path: kp, op: op, key: key, values: vals})
			return nil
		})
	})
	return out, err
}

// compile validates the document against its kind and builds the Policy.
func (p *parser) compile(doc *rawDoc, size int) (*Policy, error) {
	p.vars = doc.version == Version2012
	pol := &Policy{version: doc.version, id: doc.id, kind: p.kind, size: size, stmts: make([]stmt, 0, len(doc.stmts))}
	sids := make(map[string]string)
	for _, r := range doc.stmts {
		st, err := p.compileStmt(r)
		if err != nil {
			return nil, err
		}
		for _, k := range collectKeys(&st) {
			idx := slices.IndexFunc(pol.keys, func(x keyRef) bool { return x.lkey == k.lkey })
			if idx < 0 {
				idx = len(pol.keys)
				pol.keys = append(pol.keys, k)
			}
			st.keys = append(st.keys, idx)
		}
		if st.sid != "" {
			if prev, dup := sids[st.sid]; dup {
				return nil, &ParseError{Path: join(r.path, "Sid"), Message: fmt.Sprintf("duplicate Sid %q (also in %s)", st.sid, prev), Offset: r.offset}
			}
			sids[st.sid] = r.path
		}
		pol.stmts = append(pol.stmts, st)
	}
	return pol, nil
}

func (p *parser) compileStmt(r *rawStmt) (stmt, error) {
	fail := func(path, format string, args ...any) (stmt, error) {
		return stmt{}, &ParseError{Path: path, Message: fmt.Sprintf(format, args...), Offset: r.offset}
	}
	s := stmt{index: r.index, sid: r.sid}

	if r.hasSid && p.kind != Resource {
		for i := 0; i < len(r.sid); i++ {
			if c := r.sid[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return fail(join(r.path, "Sid"), "must contain only letters and digits (A-Z, a-z, 0-9), got %q", r.sid)
			}
		}
	}

	switch {
	case !r.hasEff:
		return fail(r.path, `missing required element "Effect"`)
	case r.effect == "Allow":
		s.effect = Allow
	case r.effect == "Deny":
		s.effect = Deny
	default:
		return fail(join(r.path, "Effect"), `must be "Allow" or "Deny", got %q`, r.effect)
	}

	if p.kind.hasPrincipal() {
		if r.principalKey == "" {
			return fail(r.path, `missing required element "Principal" or "NotPrincipal" (a %s policy names who it applies to)`, p.kind)
		}
	} else if r.principalKey != "" {
		return fail(join(r.path, r.principalKey), "not allowed in a%s %s policy", an(p.kind), p.kind)
	}
	if r.principal != nil {
		s.principal = compilePrincipal(r.principal)
		s.notPrincipal = r.principalKey == "NotPrincipal"
	}

	if r.actionKey == "" {
		return fail(r.path, `missing required element "Action" or "NotAction"`)
	}
	s.notAction = r.actionKey == "NotAction"
	for i, a := range r.actions {
		ap := join(r.path, r.actionKey)
		if len(r.actions) > 1 {
			ap += "[" + strconv.Itoa(i) + "]"
		}
		if msg := checkAction(a); msg != "" {
			return fail(ap, "%s", msg)
		}
		if p.kind == Trust && a != "*" {
			if svc, _, _ := strings.Cut(a, ":"); !strings.EqualFold(svc, "sts") {
				return fail(ap, "a trust policy may only specify sts actions (sts:AssumeRole…), got %q", a)
			}
		}
		s.actions = append(s.actions, compileAction(a))
	}

	switch {
	case p.kind == Trust && r.resourceKey != "":
		return fail(join(r.path, r.resourceKey), "not allowed in a trust policy")
	case p.kind != Trust && r.resourceKey == "":
		return fail(r.path, `missing required element "Resource" or "NotResource"`)
	}
	if r.resourceKey != "" {
		s.hasResource = true
		s.notResource = r.resourceKey == "NotResource"
		for i, res := range r.resources {
			rp := join(r.path, r.resourceKey)
			if len(r.resources) > 1 {
				rp += "[" + strconv.Itoa(i) + "]"
			}
			t := compileTmpl(res, p.vars)
			p.internTmpl(&t)
			if !validResource(&t) {
				return fail(rp, `resource %q must be "*" or an ARN (arn:partition:service:region:account:resource)`, res)
			}
			s.resources = append(s.resources, t)
		}
	}

	for _, rc := range r.conds {
		spec, err := parseOperator(rc.op)
		if err != nil {
			return fail(strings.TrimSuffix(rc.path, "."+rc.key), "%v", err)
		}
		if msg := checkConditionKey(rc.key); msg != "" {
			return fail(rc.path, "%s", msg)
		}
		c := cond{opName: rc.op, opSpec: spec, key: rc.key, lkey: p.in(strings.ToLower(rc.key))}
		for i, v := range rc.values {
			cv, err := compileValue(spec.base, v, p.vars)
			if err != nil {
				vp := rc.path
				if len(rc.values) > 1 {
					vp += "[" + strconv.Itoa(i) + "]"
				}
				return fail(vp, "%v", err)
			}
			p.internTmpl(&cv.t)
			c.vals = append(c.vals, cv)
		}
		s.conds = append(s.conds, c)
	}
	return s, nil
}

func an(k PolicyKind) string {
	if k == Identity {
		return "n"
	}
	return ""
}

// checkAction accepts "*" or service:action, where the service prefix is
// letters, digits and '-' and the action name letters, digits and
// '-', '_', '.'; both may use the wildcards '*' and '?'.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return fmt.Sprintf("action %q must have the form service:action (e.g. \"redshift:GetClusterCredentials\")", a)
	}
	for i := 0; i < len(svc); i++ {
		if c := svc[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '*' || c == '?') {
			return fmt.Sprintf("action %q has an invalid service prefix", a)
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*' || c == '?') {
			return fmt.Sprintf("action %q has an invalid action name", a)
		}
	}
	return ""
}

// validResource accepts "*" or text starting "arn:" with at least five
// colons outside policy variables.
func validResource(t *tmpl) bool {
	if t.raw == "*" {
		return true
	}
	if !strings.HasPrefix(t.raw, "arn:") {
		return false
	}
	colons := 0
	if t.segs == nil {
		colons = strings.Count(t.raw, ":")
	} else {
		for _, sg := range t.segs {
			if sg.kind == segLit {
				colons += strings.Count(sg.text, ":")
			}
		}
	}
	return colons >= 5
}

// checkConditionKey accepts prefix:name keys (IAM: "Conditions must be
// prefaced by a vendor").
func checkConditionKey(k string) string {
	pre, name, ok := strings.Cut(k, ":")
	if !ok || pre == "" || name == "" {
		return fmt.Sprintf("condition key %q must have the form prefix:name (e.g. \"aws:username\")", k)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < ' ' || c == 0x7f {
			return fmt.Sprintf("condition key %q contains a control character", k)
		}
	}
	return ""
}

func compilePrincipal(pr *Principal) *principalSet {
	ps := &principalSet{view: *pr, any: pr.Wildcard}
	for _, v := range pr.AWS {
		switch {
		case v == "*":
			ps.any = true
		case isAccountID(v):
			ps.accounts = append(ps.accounts, v)
		default:
			ps.arns = append(ps.arns, v)
			if a, err := arn.Parse(v); err == nil && a.Service == "iam" && a.Resource == "root" {
				ps.accounts = append(ps.accounts, a.AccountID)
			}
		}
	}
	ps.federated = pr.Federated
	ps.service = pr.Service
	ps.canonical = pr.CanonicalUser
	return ps
}

// collectKeys lists the context keys a statement reads: condition keys, and
// variables without a default in resources and condition values.
func collectKeys(s *stmt) []keyRef {
	var keys []keyRef
	add := func(lkey, name string) {
		for _, k := range keys {
			if k.lkey == lkey {
				return
			}
		}
		keys = append(keys, keyRef{lkey: lkey, name: name})
	}
	addVars := func(t *tmpl) {
		for _, sg := range t.segs {
			if sg.kind == segVar && !sg.hasDef {
				add(sg.key, sg.name)
			}
		}
	}
	for i := range s.resources {
		addVars(&s.resources[i])
	}
	for i := range s.conds {
		c := &s.conds[i]
		add(c.lkey, c.key)
		for j := range c.vals {
			addVars(&c.vals[j].t)
		}
	}
	return keys
}
