package policy

import (
	"container/list"
	"crypto/sha256"
	"sync"
)

// DefaultCacheEntries is the capacity NewCache uses for a non-positive size.
const DefaultCacheEntries = 4096

// Cache memoises parsing by content: documents are keyed by the SHA-256 of
// their bytes together with the parse options (kind and limits), so a
// request never parses the same document twice. Failed parses are cached
// too (their *ParseError is immutable). The cache holds at most its capacity
// of entries and evicts the least recently used. It is safe for concurrent
// use (the zero value is a cache of DefaultCacheEntries); the policies it
// returns are immutable and may be evaluated concurrently. A Cache must not
// be copied after first use.
type Cache struct {
	mu    sync.Mutex
	max   int
	items map[cacheKey]*list.Element
	lru   list.List // front = most recently used; values are *cacheEntry
	stats CacheStats
}

// CacheStats counts cache activity.
type CacheStats struct {
	Hits, Misses, Evictions uint64
	Entries                 int
}

type cacheKey struct {
	sum  [sha256.Size]byte
	opts ParseOptions
}

type cacheEntry struct {
	key cacheKey
	pol *Policy
	err error
}

// NewCache returns a cache holding at most maxEntries parsed documents
// (DefaultCacheEntries if maxEntries <= 0).
func NewCache(maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	return &Cache{max: maxEntries, items: make(map[cacheKey]*list.Element)}
}

// Parse is ParseKind through the cache.
func (c *Cache) Parse(doc []byte, kind PolicyKind) (*Policy, error) {
	return c.ParseWithOptions(doc, ParseOptions{Kind: kind})
}

// ParseWithOptions is ParseWithOptions through the cache.
func (c *Cache) ParseWithOptions(doc []byte, opts ParseOptions) (*Policy, error) {
	key := cacheKey{sum: sha256.Sum256(doc), opts: opts.normalized()}
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.lru.MoveToFront(el)
		c.stats.Hits++
		ent := el.Value.(*cacheEntry)
		c.mu.Unlock()
		return ent.pol, ent.err
	}
	c.stats.Misses++
	c.mu.Unlock()

	// Parse outside the lock; a concurrent miss on the same document parses
	// it too, and the first result stored wins.
	pol, err := ParseWithOptions(doc, key.opts)

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.lru.MoveToFront(el)
		ent := el.Value.(*cacheEntry)
		return ent.pol, ent.err
	}
	if c.items == nil { // zero Cache
		c.items = make(map[cacheKey]*list.Element)
	}
	if c.max <= 0 {
		c.max = DefaultCacheEntries
	}
	c.items[key] = c.lru.PushFront(&cacheEntry{key: key, pol: pol, err: err})
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
		c.stats.Evictions++
	}
	return pol, err
}

// Len is the number of cached documents.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.lru.Len()
	return s
}
