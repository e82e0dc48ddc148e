package policy

import (
	"strings"

	"github.com/dbiam/dbiam/internal/arn"
)

// A tmpl is a policy string (a Resource entry or a condition value) that may
// contain policy variables. Variables are only recognised under Version
// 2012-10-17; otherwise, and when the string has no "${", segs is nil and raw
// is used as it is.
type tmpl struct {
	raw  string
	segs []seg
	// meta reports whether the policy's own text has a '*' or '?' (outside
	// variables and escapes). Without one, a glob match is plain equality.
	meta bool
	// pf rejects most non-matching values cheaply (static patterns only).
	pf prefilter
}

// prefilter holds literal pieces that every value matching a wildcard
// pattern contains: the text before the first wildcard, after the last, and
// the longest literal run in between. Checking them (a few memory
// comparisons) before the full match rejects most values early.
type prefilter struct {
	prefix, suffix, mid string
}

func newPrefilter(p string) prefilter {
	first, last := strings.IndexAny(p, "*?"), strings.LastIndexAny(p, "*?")
	if first < 0 {
		return prefilter{prefix: p}
	}
	pf := prefilter{prefix: p[:first], suffix: p[last+1:]}
	for _, run := range strings.FieldsFunc(p[first:last+1], func(r rune) bool { return r == '*' || r == '?' }) {
		if len(run) > len(pf.mid) {
			pf.mid = run
		}
	}
	return pf
}

// may reports whether v can match the pattern the prefilter was built from.
func (pf *prefilter) may(v string) bool {
	return len(v) >= len(pf.prefix)+len(pf.suffix) &&
		strings.HasPrefix(v, pf.prefix) && strings.HasSuffix(v, pf.suffix) &&
		(pf.mid == "" || strings.Contains(v[len(pf.prefix):len(v)-len(pf.suffix)], pf.mid))
}

type segKind uint8

const (
	segLit  segKind = iota // policy text; its '*' and '?' are wildcards where the operator has them
	segChar                // ${*}, ${?}, ${$}: that character, always literal
	segVar                 // ${key} or ${key, 'default'}
	segBad                 // a malformed ${…}: never resolves
)

type seg struct {
	kind   segKind
	text   string // segLit: the text; segChar: the character; segVar: the default
	key    string // segVar: the key, lower-cased
	name   string // segVar: the key as written; segBad: the raw variable
	hasDef bool
}

// mode says how a template is rendered.
type mode uint8

const (
	// modeLiteral renders the exact text (for StringEquals and typed operators).
	modeLiteral mode = iota
	// modeQuoted renders the exact text with every wildcard quoted, for
	// equality through a glob engine (StringEqualsIgnoreCase).
	modeQuoted
	// modePattern keeps the policy text's wildcards live and quotes
	// substituted values and ${*}/${?} (Resource, StringLike, ArnLike).
	modePattern
)

func compileTmpl(s string, vars bool) tmpl {
	t := compileSegs(s, vars)
	if t.segs == nil {
		t.meta = strings.ContainsAny(s, "*?")
		if t.meta {
			t.pf = newPrefilter(s)
		}
	}
	for _, sg := range t.segs {
		if sg.kind == segLit && strings.ContainsAny(sg.text, "*?") {
			t.meta = true
		}
	}
	return t
}

func compileSegs(s string, vars bool) tmpl {
	t := tmpl{raw: s}
	if !vars || !strings.Contains(s, "${") {
		return t
	}
	var segs []seg
	start, i := 0, 0
	for i < len(s) {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			break
		}
		j += i
		end := closeBrace(s, j+2)
		if end < 0 {
			break // an unclosed "${" is literal text
		}
		if j > start {
			segs = append(segs, seg{kind: segLit, text: s[start:j]})
		}
		segs = append(segs, parseVar(s[j+2:end], s[j:end+1]))
		i = end + 1
		start = i
	}
	if segs == nil {
		return t
	}
	if start < len(s) {
		segs = append(segs, seg{kind: segLit, text: s[start:]})
	}
	t.segs = segs
	return t
}

// closeBrace finds the '}' that closes a variable whose body starts at
// s[from]; a quoted default (single-quoted, a doubled quote standing for
// one) may contain '}'.
func closeBrace(s string, from int) int {
	inQuote, sawComma := false, false
	for k := from; k < len(s); k++ {
		c := s[k]
		if inQuote {
			if c == '\'' {
				if k+1 < len(s) && s[k+1] == '\'' {
					k++
					continue
				}
				inQuote = false
			}
			continue
		}
		switch c {
		case ',':
			sawComma = true
		case '\'':
			if sawComma {
				inQuote = true
			}
		case '}':
			return k
		}
	}
	return -1
}

func parseVar(inner, raw string) seg {
	bad := seg{kind: segBad, name: raw}
	switch strings.TrimSpace(inner) {
	case "*", "?", "$":
		return seg{kind: segChar, text: strings.TrimSpace(inner)}
	}
	keyPart, defPart, hasDef := strings.Cut(inner, ",")
	key := strings.TrimSpace(keyPart)
	if key == "" || strings.ContainsAny(key, "'${}") {
		return bad
	}
	sg := seg{kind: segVar, key: strings.ToLower(key), name: key}
	if !hasDef {
		return sg
	}
	d := strings.TrimSpace(defPart)
	if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
		return bad
	}
	body := d[1 : len(d)-1]
	var b strings.Builder
	for k := 0; k < len(body); k++ {
		if body[k] == '\'' {
			if k+1 >= len(body) || body[k+1] != '\'' {
				return bad
			}
			k++
		}
		b.WriteByte(body[k])
	}
	sg.text, sg.hasDef = b.String(), true
	return sg
}

// render appends the template rendered in mode m with values from ctx. ok is
// false when a variable has no value and no default (or is malformed): the
// string then matches nothing.
func (t *tmpl) render(dst []byte, ctx *view, m mode) ([]byte, bool) {
	if t.segs == nil {
		if m == modeQuoted {
			return arn.AppendQuoted(dst, t.raw), true
		}
		return append(dst, t.raw...), true
	}
	for i := range t.segs {
		sg := &t.segs[i]
		switch sg.kind {
		case segLit:
			if m == modeQuoted {
				dst = arn.AppendQuoted(dst, sg.text)
			} else {
				dst = append(dst, sg.text...)
			}
		case segChar:
			if m != modeLiteral && sg.text != "$" {
				dst = append(dst, arn.Quote)
			}
			dst = append(dst, sg.text...)
		case segVar:
			v, ok := ctx.single(sg.key)
			if !ok {
				if !sg.hasDef {
					return dst, false
				}
				v = sg.text
			}
			if m == modeLiteral {
				dst = append(dst, v...)
			} else {
				dst = arn.AppendQuoted(dst, v)
			}
		case segBad:
			return dst, false
		}
	}
	return dst, true
}

// equal reports whether v equals the template rendered literally, without
// building the rendered text; resolved is false when a variable has no value
// (and no default) or is malformed.
func (t *tmpl) equal(v string, ctx *view) (eq, resolved bool) {
	if t.segs == nil {
		return v == t.raw, true
	}
	eq = true
	for i := range t.segs {
		sg := &t.segs[i]
		var part string
		switch sg.kind {
		case segLit, segChar:
			part = sg.text
		case segVar:
			val, ok := ctx.single(sg.key)
			if !ok {
				if !sg.hasDef {
					return false, false
				}
				val = sg.text
			}
			part = val
		case segBad:
			return false, false
		}
		if eq {
			if len(v) >= len(part) && v[:len(part)] == part {
				v = v[len(part):]
			} else {
				eq = false // keep going: later variables decide "resolved"
			}
		}
	}
	return eq && v == "", true
}

// unresolved names the first variable of t that has no value in ctx (for
// traces), or "" if all resolve.
func (t *tmpl) unresolved(ctx *view) string {
	for i := range t.segs {
		sg := &t.segs[i]
		switch sg.kind {
		case segVar:
			if _, ok := ctx.single(sg.key); !ok && !sg.hasDef {
				return "${" + sg.name + "}"
			}
		case segBad:
			return sg.name + " (malformed)"
		}
	}
	return ""
}
