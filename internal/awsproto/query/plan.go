package query

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// plans caches decoding plans: reflect.Type -> planEntry. It holds only
// information derived from Go types, never request data, and grows only by
// the number of distinct struct types passed to Decode.
var plans sync.Map

type planEntry struct {
	plan *structPlan
	err  error
}

type fieldKind uint8

const (
	kindScalar fieldKind = iota // string, integers, bool, time (or pointer to one)
	kindList                    // []scalar or []struct / []*struct
	kindMap                     // map[string]string
	kindStruct                  // struct or *struct
)

type scalarKind uint8

const (
	scalarString scalarKind = iota
	scalarInt
	scalarBool
	scalarTime
	scalarTimestamp
)

type structPlan struct {
	typ    reflect.Type
	fields []fieldPlan
}

type fieldPlan struct {
	index    int
	goName   string
	name     string // parameter name (one path segment)
	required bool
	kind     fieldKind
	ptr      bool // scalar: *T; struct: *S; list of structs: []*S

	scalar scalarKind   // kindScalar, and kindList of scalars
	bits   int          // scalarInt: 0 (int), 32 or 64
	elem   reflect.Type // kindList: element type; kindStruct: the struct type
	sub    *structPlan  // kindStruct and kindList of structs

	member           string // kindList: member name ("member" by default)
	mapKey, mapValue string // kindMap: entry field names ("key", "value")
}

// planFor returns the decoding plan for struct type t, building and caching
// it (and the plans of the structs it contains) on first use.
func planFor(t reflect.Type) (*structPlan, error) {
	if e, ok := plans.Load(t); ok {
		pe := e.(planEntry)
		return pe.plan, pe.err
	}
	building := map[reflect.Type]*structPlan{}
	p, err := buildPlan(t, building)
	if err != nil {
		plans.Store(t, planEntry{err: err})
		return nil, err
	}
	for bt, bp := range building {
		plans.LoadOrStore(bt, planEntry{plan: bp})
	}
	return p, nil
}

func buildPlan(t reflect.Type, building map[reflect.Type]*structPlan) (*structPlan, error) {
	if p, ok := building[t]; ok {
		return p, nil // recursive type: the plan is being filled in
	}
	if e, ok := plans.Load(t); ok {
		pe := e.(planEntry)
		return pe.plan, pe.err
	}
	sp := &structPlan{typ: t}
	building[t] = sp
	seen := map[string]string{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("query")
		if !ok || tag == "-" {
			continue
		}
		if !sf.IsExported() {
			return nil, fmt.Errorf("query: %s.%s: tagged field is not exported", t, sf.Name)
		}
		f, err := buildField(sf, tag, building)
		if err != nil {
			return nil, fmt.Errorf("query: %s.%s: %w", t, sf.Name, err)
		}
		f.index = i
		if other, dup := seen[f.name]; dup {
			return nil, fmt.Errorf("query: %s: fields %s and %s both use parameter %q", t, other, sf.Name, f.name)
		}
		seen[f.name] = sf.Name
		sp.fields = append(sp.fields, f)
	}
	return sp, nil
}

func buildField(sf reflect.StructField, tag string, building map[reflect.Type]*structPlan) (fieldPlan, error) {
	f := fieldPlan{goName: sf.Name}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" || strings.ContainsAny(name, ".&=%+ ") {
		return f, fmt.Errorf("invalid parameter name %q in tag", name)
	}
	f.name = name
	isList, isMap := false, false
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		k, v, hasV := strings.Cut(o, "=")
		switch {
		case o == "required":
			f.required = true
		case k == "list":
			isList = true
			f.member = "member"
			if hasV {
				f.member = v
			}
		case o == "map":
			isMap = true
		case k == "key" && hasV:
			f.mapKey = v
		case k == "value" && hasV:
			f.mapValue = v
		default:
			return f, fmt.Errorf("unknown tag option %q", o)
		}
	}
	if isList && (f.member == "" || strings.ContainsAny(f.member, ".&=%+ ")) {
		return f, fmt.Errorf("invalid list member name %q", f.member)
	}
	if (f.mapKey != "" || f.mapValue != "") && !isMap {
		return f, fmt.Errorf("key= and value= need the map option")
	}
	if isList && isMap {
		return f, fmt.Errorf("list and map options exclude each other")
	}
	t := sf.Type
	switch {
	case isList:
		if t.Kind() != reflect.Slice {
			return f, fmt.Errorf("list option on non-slice type %s", t)
		}
		f.kind = kindList
		f.elem = t.Elem()
		et := f.elem
		if et.Kind() == reflect.Pointer && et.Elem().Kind() == reflect.Struct && !isTimeType(et.Elem()) {
			f.ptr = true
			et = et.Elem()
		}
		if et.Kind() == reflect.Struct && !isTimeType(et) {
			sub, err := buildPlan(et, building)
			if err != nil {
				return f, err
			}
			f.sub = sub
			return f, nil
		}
		sk, bits, ok := scalarOf(et)
		if !ok {
			return f, fmt.Errorf("unsupported list element type %s", f.elem)
		}
		f.scalar, f.bits = sk, bits
		return f, nil
	case isMap:
		if t.Kind() != reflect.Map || t.Key().Kind() != reflect.String || t.Elem().Kind() != reflect.String {
			return f, fmt.Errorf("map option needs map[string]string, not %s", t)
		}
		f.kind = kindMap
		if f.mapKey == "" {
			f.mapKey = "key"
		}
		if f.mapValue == "" {
			f.mapValue = "value"
		}
		if f.mapKey == f.mapValue || strings.ContainsAny(f.mapKey+f.mapValue, ".&=%+ ") {
			return f, fmt.Errorf("invalid map entry names %q, %q", f.mapKey, f.mapValue)
		}
		return f, nil
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		return f, fmt.Errorf("%s field needs the list or map option", t)
	}
	base := t
	if t.Kind() == reflect.Pointer {
		f.ptr = true
		base = t.Elem()
	}
	if base.Kind() == reflect.Struct && !isTimeType(base) {
		f.kind = kindStruct
		f.elem = base
		sub, err := buildPlan(base, building)
		if err != nil {
			return f, err
		}
		f.sub = sub
		return f, nil
	}
	sk, bits, ok := scalarOf(base)
	if !ok {
		return f, fmt.Errorf("unsupported type %s", t)
	}
	f.kind, f.scalar, f.bits = kindScalar, sk, bits
	return f, nil
}

func isTimeType(t reflect.Type) bool {
	return t == reflect.TypeFor[time.Time]() || t == reflect.TypeFor[Timestamp]()
}

func scalarOf(t reflect.Type) (scalarKind, int, bool) {
	switch t {
	case reflect.TypeFor[time.Time]():
		return scalarTime, 0, true
	case reflect.TypeFor[Timestamp]():
		return scalarTimestamp, 0, true
	}
	switch t.Kind() {
	case reflect.String:
		return scalarString, 0, true
	case reflect.Bool:
		return scalarBool, 0, true
	case reflect.Int:
		return scalarInt, 0, true
	case reflect.Int32:
		return scalarInt, 32, true
	case reflect.Int64:
		return scalarInt, 64, true
	}
	return 0, 0, false
}
