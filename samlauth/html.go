package samlauth

import (
	"html"
	"strings"
)

// A tiny, tolerant HTML scanner: enough to find login forms, their fields,
// and the SAMLResponse an IdP puts in a hidden input (the HTTP-POST
// binding). The standard library has no HTML parser and this package
// stays on it; pages are capped in size before they get here.

// htmlField is one <input>, <textarea>, <select> or <button> of a form.
type htmlField struct {
	tag   string // "input", "textarea", "select", "button"
	typ   string // lowercased type attribute ("" if absent)
	name  string
	id    string
	value string // the value attribute, or a textarea's text
	// checked is set for checked checkboxes/radios and the selected (or
	// first) option of a select.
	checked bool
}

// htmlForm is one <form>, with the fields inside it.
type htmlForm struct {
	action, method string
	fields         []htmlField
}

// htmlPage is what scanHTML finds: the forms, and the fields outside any
// form (some IdP pages put the SAMLResponse in a bare textarea).
type htmlPage struct {
	forms  []htmlForm
	loose  []htmlField
	inputs int // total fields, for limits
}

// maxFields caps the fields a page may have.
const maxFields = 1000

// scanHTML scans s for forms and fields.
func scanHTML(s string) htmlPage {
	var (
		page     htmlPage
		cur      *htmlForm
		textarea *htmlField
		textBuf  strings.Builder
		sel      *htmlField // open <select>
		selFirst string     // its first option's value
		selSeen  bool
	)
	add := func(f htmlField) {
		if page.inputs >= maxFields {
			return
		}
		page.inputs++
		if cur != nil {
			cur.fields = append(cur.fields, f)
		} else {
			page.loose = append(page.loose, f)
		}
	}
	i := 0
	for i < len(s) {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			if textarea != nil {
				textBuf.WriteString(s[i:])
			}
			break
		}
		if textarea != nil {
			textBuf.WriteString(s[i : i+lt])
		}
		i += lt
		// Comments and raw-text elements.
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		tagStart := i
		name, attrs, end, closing := scanTag(s, i)
		if end <= i {
			i++
			continue
		}
		i = end
		if textarea != nil {
			if closing && name == "textarea" {
				textarea.value = html.UnescapeString(textBuf.String())
				add(*textarea)
				textarea = nil
			} else {
				textBuf.WriteString(s[tagStart:end]) // markup inside a textarea is text
			}
			continue
		}
		switch {
		case !closing && (name == "script" || name == "style"):
			// Skip to the closing tag.
			endTag := strings.Index(strings.ToLower(s[i:]), "</"+name)
			if endTag < 0 {
				i = len(s)
			} else {
				i += endTag
			}
		case name == "form" && !closing:
			page.forms = append(page.forms, htmlForm{action: attrs["action"], method: strings.ToLower(attrs["method"])})
			cur = &page.forms[len(page.forms)-1]
		case name == "form" && closing:
			cur = nil
		case name == "input" && !closing:
			_, checked := attrs["checked"]
			add(htmlField{tag: "input", typ: strings.ToLower(attrs["type"]), name: attrs["name"], id: attrs["id"], value: attrs["value"], checked: checked})
		case name == "button" && !closing:
			typ := strings.ToLower(attrs["type"])
			if typ == "" {
				typ = "submit"
			}
			add(htmlField{tag: "button", typ: typ, name: attrs["name"], id: attrs["id"], value: attrs["value"]})
		case name == "textarea" && !closing:
			textarea = &htmlField{tag: "textarea", name: attrs["name"], id: attrs["id"]}
			textBuf.Reset()
		case name == "select" && !closing:
			sel = &htmlField{tag: "select", name: attrs["name"], id: attrs["id"]}
			selFirst, selSeen = "", false
		case name == "option" && !closing && sel != nil:
			v, hasValue := attrs["value"]
			if !hasValue {
				v = "" // option text is not read
			}
			if !selSeen {
				selFirst, selSeen = v, true
			}
			if _, ok := attrs["selected"]; ok && !sel.checked {
				sel.value, sel.checked = v, true
			}
		case name == "select" && closing && sel != nil:
			if !sel.checked {
				sel.value, sel.checked = selFirst, selSeen
			}
			add(*sel)
			sel = nil
		}
	}
	return page
}

// scanTag reads the tag starting at s[i] == '<'. It returns the lowercased
// tag name, its attributes (names lowercased, values unescaped; the first
// of duplicates wins), the index after '>', and whether it is a closing
// tag. end <= i means "not a tag".
func scanTag(s string, i int) (name string, attrs map[string]string, end int, closing bool) {
	j := i + 1
	if j < len(s) && s[j] == '/' {
		closing = true
		j++
	}
	start := j
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	if j == start {
		// "<!doctype", "<?xml" or a stray '<': skip to '>'.
		gt := strings.IndexByte(s[i:], '>')
		if gt < 0 {
			return "", nil, len(s), false
		}
		return "", nil, i + gt + 1, false
	}
	name = strings.ToLower(s[start:j])
	attrs = map[string]string{}
	for j < len(s) {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			break
		}
		if s[j] == '>' {
			return name, attrs, j + 1, closing
		}
		if s[j] == '/' {
			j++
			continue
		}
		ks := j
		for j < len(s) && !isSpace(s[j]) && s[j] != '=' && s[j] != '>' && s[j] != '/' {
			j++
		}
		key := strings.ToLower(s[ks:j])
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		val := ""
		if j < len(s) && s[j] == '=' {
			j++
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			if j < len(s) && (s[j] == '"' || s[j] == '\'') {
				q := s[j]
				k := strings.IndexByte(s[j+1:], q)
				if k < 0 {
					return name, attrs, len(s), closing
				}
				val = s[j+1 : j+1+k]
				j += k + 2
			} else {
				vs := j
				for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
					j++
				}
				val = s[vs:j]
			}
		}
		if key == "" {
			j++
			continue
		}
		if _, dup := attrs[key]; !dup {
			attrs[key] = html.UnescapeString(val)
		}
	}
	return name, attrs, len(s), closing
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// samlResponseIn returns the SAMLResponse a page carries: a field named
// SAMLResponse (the HTTP-POST binding: AD FS, PingFederate, the development
// IdP's auto-posting page), else a textarea whose text is a SAML response
// (the development IdP's result page). Candidates must parse as a
// samlp:Response.
func samlResponseIn(p htmlPage) (string, bool) {
	var fields []htmlField
	for _, f := range p.forms {
		fields = append(fields, f.fields...)
	}
	fields = append(fields, p.loose...)
	for pass := 0; pass < 2; pass++ {
		for _, f := range fields {
			named := f.name == "SAMLResponse" && (f.tag == "input" || f.tag == "textarea")
			if (pass == 0 && !named) || (pass == 1 && (named || f.tag != "textarea")) {
				continue
			}
			if _, err := ParseResponse(f.value); err == nil {
				v, _ := normalizeResponse(f.value)
				return v, true
			}
		}
	}
	return "", false
}
