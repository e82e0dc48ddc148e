package query

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// isProtocolParam reports whether key is consumed by the dispatcher and the
// authenticator rather than by an operation, so Decode never reports it as
// unknown: Action and Version, and the parameters of SigV4 query-string
// authentication.
func isProtocolParam(key string) bool {
	switch key {
	case "Action", "Version",
		"X-Amz-Algorithm", "X-Amz-Content-Sha256", "X-Amz-Credential", "X-Amz-Date",
		"X-Amz-Expires", "X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-SignedHeaders":
		return true
	}
	return false
}

// Decode zeroes the struct dst points to and fills it from p.
//
// Fields take part when they carry a `query` tag (`query:"-"` and untagged
// fields are skipped). The tag is the parameter name followed by options:
//
//	`query:"DbUser"`                scalar
//	`query:"DbUser,required"`       absent, or empty for strings -> MissingParameter
//	`query:"DbGroups,list=DbGroup"` list from DbGroups.DbGroup.1, .2, ...
//	`query:"ActionNames,list"`      list from ActionNames.member.1, .2, ...
//	`query:"Attributes,map"`        map from Attributes.entry.N.key / .value
//	`query:"Attrs,map,key=Name,value=Value"`  renamed entry fields
//
// Scalars are string, int, int32, int64, bool, time.Time and Timestamp
// (ISO-8601, e.g. 2016-12-08T21:12:53Z or 2016-12-08T21:12:53.520Z), or a
// pointer to one of these; a pointer is nil when the parameter is absent and
// set when it is present, even to an empty string. Booleans are "true" or
// "false" in any case; integers are decimal with an optional '-' and are
// range-checked for the field type. A struct or *struct field reads the
// parameters under "Name." (a *struct stays nil when there are none). List
// elements are scalars, structs or *structs; structs nest to any depth, so a
// list member may itself contain lists
// (ContextEntries.member.1.ContextKeyValues.member.1=...).
//
// List and map indexes must be canonical decimals forming 1..N with no gap,
// and N is at most MaxListMembers. A bare parameter with an empty value and
// no members ("DbGroups=") is an explicitly empty list or map: the field is
// set to a non-nil empty slice or map. A bare parameter with a value, or
// alongside members, is rejected. A required list or map needs at least one
// member. Map entries need both the key and the value field, and keys must be
// distinct.
//
// Every parameter must be consumed by dst, except Action, Version and the
// X-Amz-* parameters of SigV4 query-string authentication, which belong to
// the dispatcher; the first other unconsumed parameter (in sorted order) is
// an InvalidQueryParameter error.
//
// Request problems are *Error values (MissingParameter,
// InvalidParameterValue, InvalidQueryParameter). A dst that is not a non-nil
// pointer to a struct, or a struct type Decode cannot handle (an unsupported
// field type, an unknown tag option), yields a plain error, since that is a
// bug in the caller. After an error, the contents of *dst are unspecified.
func Decode(p Params, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("query: Decode needs a non-nil pointer to a struct, not %T", dst)
	}
	v := rv.Elem()
	plan, err := planFor(v.Type())
	if err != nil {
		return err
	}
	v.SetZero()
	d := decoder{p: p, used: make([]bool, len(p.kv))}
	if err := d.decodeStruct(v, plan, ""); err != nil {
		return err
	}
	for i, e := range p.kv {
		if !d.used[i] && !isProtocolParam(e.key) {
			return errorf(CodeInvalidQueryParameter, "Unknown parameter: ", clip(e.key))
		}
	}
	return nil
}

type decoder struct {
	p    Params
	used []bool // parallel to p.kv
}

func missing(key string) *Error {
	return errorf(CodeMissingParameter, "The request must contain the parameter ", clip(key))
}

func invalid(parts ...string) *Error {
	return errorf(CodeInvalidParameterValue, parts...)
}

func (d *decoder) decodeStruct(v reflect.Value, sp *structPlan, prefix string) error {
	for i := range sp.fields {
		f := &sp.fields[i]
		key := prefix + f.name
		fv := v.Field(f.index)
		var err error
		switch f.kind {
		case kindScalar:
			err = d.decodeScalarField(fv, f, key)
		case kindList:
			err = d.decodeList(fv, f, key)
		case kindMap:
			err = d.decodeMap(fv, f, key)
		case kindStruct:
			err = d.decodeStructField(fv, f, key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) decodeScalarField(fv reflect.Value, f *fieldPlan, key string) error {
	i, ok := d.p.find(key)
	if !ok {
		if f.required {
			return missing(key)
		}
		return nil
	}
	d.used[i] = true
	s := d.p.kv[i].value
	if f.required && s == "" && f.scalar == scalarString {
		return missing(key)
	}
	if f.ptr {
		nv := reflect.New(fv.Type().Elem())
		fv.Set(nv)
		fv = nv.Elem()
	}
	return setScalar(fv, f.scalar, f.bits, s, key)
}

func (d *decoder) decodeStructField(fv reflect.Value, f *fieldPlan, key string) error {
	prefix := key + "."
	lo, hi := d.p.prefixRange(prefix)
	if lo == hi {
		if f.required {
			return missing(key)
		}
		return nil
	}
	if f.ptr {
		nv := reflect.New(f.elem)
		fv.Set(nv)
		fv = nv.Elem()
	}
	return d.decodeStruct(fv, f.sub, prefix)
}

// bare handles the member-less form of a list or map ("DbGroups="). It
// reports whether the bare parameter is present; its value must be empty and
// it must not come with members.
func (d *decoder) bare(key string, members int) (bool, error) {
	i, ok := d.p.find(key)
	if !ok {
		return false, nil
	}
	d.used[i] = true
	if d.p.kv[i].value != "" {
		return true, invalid("Parameter ", clip(key), " must be empty when given without members")
	}
	if members > 0 {
		return true, invalid("Parameter ", clip(key), " cannot be given together with its members")
	}
	return true, nil
}

// member is one index found under a list or map prefix.
type member struct {
	index int
	pos   int // kv position of the leaf (scalar lists only)
}

// scanIndexes finds the members under prefix ("DbGroups.DbGroup."). For a
// leaf list, the member keys are prefix+N; for lists of structs and maps,
// they are prefix+N+"."+field, and keys sharing N count once; for maps, only
// the fields key and value (when not empty) count. Keys of other shapes are
// left unconsumed, to be reported as unknown. The indexes must form 1..n.
func (d *decoder) scanIndexes(name, prefix string, leaf bool, key, value string) ([]member, error) {
	lo, hi := d.p.prefixRange(prefix)
	if lo == hi {
		return nil, nil
	}
	var ms []member
	lastTok := ""
	for pos := lo; pos < hi; pos++ {
		rest := d.p.kv[pos].key[len(prefix):]
		tok, sub, dotted := strings.Cut(rest, ".")
		if dotted == leaf || key != "" && sub != key && sub != value {
			continue // not a member key of this shape: reported as unknown later
		}
		if !leaf && len(ms) > 0 && tok == lastTok {
			continue
		}
		idx, err := parseIndex(name, prefix+tok, tok)
		if err != nil {
			return nil, err
		}
		lastTok = tok
		ms = append(ms, member{index: idx, pos: pos})
	}
	n := len(ms)
	if n > MaxListMembers {
		return nil, tooMany(name)
	}
	seen := make([]bool, n+1)
	for _, m := range ms {
		if m.index <= n {
			seen[m.index] = true
		}
	}
	for i := 1; i <= n; i++ {
		if !seen[i] {
			return nil, invalid("List ", clip(name), " is missing member ", strconv.Itoa(i),
				": indexes must run from 1 to the number of members without gaps")
		}
	}
	return ms, nil
}

func tooMany(name string) *Error {
	return invalid("List ", clip(name), " has more than ", strconv.Itoa(MaxListMembers), " members")
}

// parseIndex parses a list index: a canonical decimal in 1..MaxListMembers.
func parseIndex(name, key, tok string) (int, error) {
	if tok == "" || len(tok) > 1 && tok[0] == '0' {
		return 0, invalid("Invalid list index in parameter ", clip(key))
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, invalid("Invalid list index in parameter ", clip(key))
		}
	}
	if tok == "0" {
		return 0, invalid("Invalid list index in parameter ", clip(key), ": indexes start at 1")
	}
	if len(tok) > 4 {
		return 0, tooMany(name)
	}
	idx, _ := strconv.Atoi(tok)
	if idx > MaxListMembers {
		return 0, tooMany(name)
	}
	return idx, nil
}

func (d *decoder) decodeList(fv reflect.Value, f *fieldPlan, key string) error {
	prefix := key + "." + f.member + "."
	leaf := f.sub == nil
	ms, err := d.scanIndexes(key, prefix, leaf, "", "")
	if err != nil {
		return err
	}
	isBare, err := d.bare(key, len(ms))
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		if f.required {
			return missing(key)
		}
		if isBare {
			fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
		}
		return nil
	}
	s := reflect.MakeSlice(fv.Type(), len(ms), len(ms))
	for _, m := range ms {
		ev := s.Index(m.index - 1)
		if leaf {
			d.used[m.pos] = true
			if err := setScalar(ev, f.scalar, f.bits, d.p.kv[m.pos].value, d.p.kv[m.pos].key); err != nil {
				return err
			}
			continue
		}
		if f.ptr {
			nv := reflect.New(f.elem.Elem())
			ev.Set(nv)
			ev = nv.Elem()
		}
		if err := d.decodeStruct(ev, f.sub, prefix+strconv.Itoa(m.index)+"."); err != nil {
			return err
		}
	}
	fv.Set(s)
	return nil
}

func (d *decoder) decodeMap(fv reflect.Value, f *fieldPlan, key string) error {
	prefix := key + ".entry."
	ms, err := d.scanIndexes(key, prefix, false, f.mapKey, f.mapValue)
	if err != nil {
		return err
	}
	isBare, err := d.bare(key, len(ms))
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		if f.required {
			return missing(key)
		}
		if isBare {
			fv.Set(reflect.MakeMapWithSize(fv.Type(), 0))
		}
		return nil
	}
	m := reflect.MakeMapWithSize(fv.Type(), len(ms))
	for i := 1; i <= len(ms); i++ {
		ep := prefix + strconv.Itoa(i) + "."
		ki, ok := d.p.find(ep + f.mapKey)
		if !ok {
			return missing(ep + f.mapKey)
		}
		vi, ok := d.p.find(ep + f.mapValue)
		if !ok {
			return missing(ep + f.mapValue)
		}
		d.used[ki], d.used[vi] = true, true
		k := reflect.ValueOf(d.p.kv[ki].value).Convert(fv.Type().Key())
		if m.MapIndex(k).IsValid() {
			return invalid("Duplicate map key in parameter ", clip(ep+f.mapKey))
		}
		m.SetMapIndex(k, reflect.ValueOf(d.p.kv[vi].value).Convert(fv.Type().Elem()))
	}
	fv.Set(m)
	return nil
}

// setScalar parses s into v (a non-pointer scalar). key names the parameter
// in error messages.
func setScalar(v reflect.Value, kind scalarKind, bits int, s, key string) error {
	switch kind {
	case scalarString:
		v.SetString(s)
	case scalarBool:
		switch {
		case strings.EqualFold(s, "true"):
			v.SetBool(true)
		case strings.EqualFold(s, "false"):
			v.SetBool(false)
		default:
			return invalid("Invalid boolean value '", clip(s), "' for parameter ", clip(key),
				": use true or false")
		}
	case scalarInt:
		if bits == 0 {
			bits = strconv.IntSize
		}
		n, err := parseInt(s, bits)
		if err != nil {
			return invalid("Invalid integer value '", clip(s), "' for parameter ", clip(key),
				": use a decimal integer between ", strconv.FormatInt(minInt(bits), 10),
				" and ", strconv.FormatInt(-(minInt(bits)+1), 10))
		}
		v.SetInt(n)
	case scalarTime, scalarTimestamp:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return invalid("Invalid timestamp value '", clip(s), "' for parameter ", clip(key),
				": use ISO-8601, e.g. 2016-12-08T21:12:53Z")
		}
		t = t.UTC()
		if kind == scalarTime {
			v.Set(reflect.ValueOf(t))
		} else {
			v.Set(reflect.ValueOf(Timestamp(t)))
		}
	}
	return nil
}

func minInt(bits int) int64 { return -1 << (bits - 1) }

// parseInt accepts an optional '-' followed by decimal digits only.
func parseInt(s string, bits int) (int64, error) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(s, 10, bits)
}
