package policy

import (
	"net/netip"
	"slices"
	"strings"
)

// Context holds the request context: condition keys and their values. Key
// names are case-insensitive (they are lower-cased once, by Set and Add);
// values are kept as given. A key may have several values (multivalued keys
// such as aws:TagKeys or saml:eduPersonAffiliation); single-valued keys have
// one.
//
// A key set with no values is an empty set: Get reports it present, but
// conditions and policy variables treat it exactly like a missing key (for
// ForAllValues that means true, for everything else see the package
// documentation).
//
// The zero value is an empty context ready to use. A Context must not be
// modified while an evaluation that uses it is running; evaluations only
// read it.
type Context struct {
	m map[string][]string
}

// Set replaces the values of key with a copy of values.
func (c *Context) Set(key string, values ...string) {
	if c.m == nil {
		c.m = make(map[string][]string)
	}
	c.m[strings.ToLower(key)] = slices.Clone(values)
}

// Add appends values to key.
func (c *Context) Add(key string, values ...string) {
	if c.m == nil {
		c.m = make(map[string][]string)
	}
	k := strings.ToLower(key)
	c.m[k] = append(c.m[k], values...)
}

// Delete removes key.
func (c *Context) Delete(key string) { delete(c.m, strings.ToLower(key)) }

// Get returns the values of key (case-insensitive) and whether it is set.
// The returned slice must not be modified.
func (c Context) Get(key string) ([]string, bool) {
	v, ok := c.m[strings.ToLower(key)]
	return v, ok
}

// Has reports whether key is set with at least one value.
func (c Context) Has(key string) bool {
	v, _ := c.Get(key)
	return len(v) > 0
}

// Len is the number of keys set.
func (c Context) Len() int { return len(c.m) }

// Keys returns the (lower-cased) keys, sorted.
func (c Context) Keys() []string {
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Clone returns an independent copy.
func (c Context) Clone() Context {
	if c.m == nil {
		return Context{}
	}
	m := make(map[string][]string, len(c.m))
	for k, v := range c.m {
		m[k] = slices.Clone(v)
	}
	return Context{m: m}
}

// view is one evaluation's window on a Context, with a small memo of the
// keys read so far: many statements read the same few keys, and the parser
// interns lower-cased keys, so a memo hit is usually a pointer comparison.
type view struct {
	c    *Context
	n    int
	keys [8]string
	vals [8][]string
	// The last request value parsed as an IP address (aws:SourceIp is
	// typically tested by several statements).
	ipSrc  string
	ipAddr netip.Addr
	ipOK   bool
	ipSet  bool
}

// addr parses s as an IP address, remembering the last one.
func (v *view) addr(s string) (netip.Addr, bool) {
	if v.ipSet && v.ipSrc == s {
		return v.ipAddr, v.ipOK
	}
	a, err := netip.ParseAddr(s)
	v.ipSrc, v.ipAddr, v.ipOK, v.ipSet = s, a, err == nil, true
	return a, err == nil
}

// values returns the values of an already lower-cased key; nil when the key
// is missing or has no values.
func (v *view) values(lkey string) []string {
	for i := 0; i < v.n; i++ {
		if v.keys[i] == lkey {
			return v.vals[i]
		}
	}
	vals := v.c.m[lkey]
	if v.n < len(v.keys) {
		v.keys[v.n], v.vals[v.n] = lkey, vals
		v.n++
	}
	return vals
}

// single returns the value of a lower-cased key usable as a policy variable:
// present with exactly one value. AWS does not substitute multivalued keys.
func (v *view) single(lkey string) (string, bool) {
	vals := v.values(lkey)
	if len(vals) != 1 {
		return "", false
	}
	return vals[0], true
}
