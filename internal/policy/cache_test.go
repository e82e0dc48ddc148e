package policy

import (
	"errors"
	"strconv"
	"sync"
	"testing"
)

func TestCacheReturnsSamePolicy(t *testing.T) {
	c := NewCache(8)
	p1, err := c.Parse([]byte(redshiftD), Identity)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.Parse([]byte(redshiftD), Identity)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 {
		t.Fatal("second Parse of the same bytes parsed again")
	}
	// Same bytes, another kind: a different entry (and here an error).
	if _, err := c.Parse([]byte(redshiftD), Trust); err == nil {
		t.Fatal("identity document accepted as a trust policy")
	}
	// Same bytes, other limits: a different entry.
	if _, err := c.ParseWithOptions([]byte(redshiftD), ParseOptions{MaxSize: 100}); err == nil {
		t.Fatal("size limit not applied")
	}
	st := c.Stats()
	if st.Hits != 1 || st.Misses != 3 || st.Entries != 3 || c.Len() != 3 {
		t.Fatalf("stats %+v, len %d", st, c.Len())
	}
}

func TestCacheCachesErrors(t *testing.T) {
	c := NewCache(8)
	_, err1 := c.Parse([]byte(`{"Statement":{"effect":"Allow"}}`), Identity)
	_, err2 := c.Parse([]byte(`{"Statement":{"effect":"Allow"}}`), Identity)
	if err1 == nil || err1 != err2 || !errors.Is(err2, ErrMalformed) {
		t.Fatalf("errors %v / %v", err1, err2)
	}
	if c.Stats().Hits != 1 {
		t.Fatal("error not cached")
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache(2)
	doc := func(i int) []byte {
		return []byte(`{"Statement":{"Sid":"S` + strconv.Itoa(i) + `","Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	}
	a, _ := c.Parse(doc(0), Identity)
	c.Parse(doc(1), Identity)
	if again, _ := c.Parse(doc(0), Identity); again != a { // 0 is now the most recent
		t.Fatal("entry 0 re-parsed")
	}
	c.Parse(doc(2), Identity) // evicts 1
	if c.Len() != 2 || c.Stats().Evictions != 1 {
		t.Fatalf("len %d, stats %+v", c.Len(), c.Stats())
	}
	if again, _ := c.Parse(doc(0), Identity); again != a {
		t.Fatal("entry 0 evicted instead of entry 1")
	}
	misses := c.Stats().Misses
	c.Parse(doc(1), Identity)
	if c.Stats().Misses != misses+1 {
		t.Fatal("entry 1 was not evicted")
	}
}

func TestCacheZeroValue(t *testing.T) {
	var c Cache
	if _, err := c.Parse([]byte(allowS3Star), Identity); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 1 {
		t.Fatal(c.Len())
	}
}

// TestCacheConcurrent: parallel parses and evaluations of shared policies
// (run with -race).
func TestCacheConcurrent(t *testing.T) {
	c := NewCache(4)
	docs := [][]byte{[]byte(redshiftA), []byte(redshiftB), []byte(redshiftC), []byte(redshiftD), []byte(allowS3Star), []byte(denyGetObject)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				doc := docs[(g+i)%len(docs)]
				p, err := c.Parse(doc, Identity)
				if err != nil {
					t.Error(err)
					return
				}
				req := &Request{Action: "redshift:GetClusterCredentials", Resource: rsPrefix + "dbuser:examplecluster/alice",
					Context: ctxOf("aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com", "redshift:DbUser=alice"), Trace: i%2 == 0}
				_ = Evaluate(req, PolicySet{Identity: []*NamedPolicy{named("p", p)}})
			}
		}()
	}
	wg.Wait()
	if c.Len() > 4 {
		t.Fatalf("cache holds %d entries, cap 4", c.Len())
	}
}
