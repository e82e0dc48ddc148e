package credcache_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/credcache"
)

const life = 15 * time.Minute

func newAhead(t *testing.T, opts ...credcache.Option) (credcache.Cache, *fakeClock, *source) {
	t.Helper()
	clock := newFakeClock()
	src := &source{clock: clock, life: life}
	c := credcache.NewRefreshAhead(src, append([]credcache.Option{credcache.WithClock(clock)}, opts...)...)
	t.Cleanup(func() { _ = c.Close() })
	return c, clock, src
}

func newLazy(t *testing.T, opts ...credcache.Option) (credcache.Cache, *fakeClock, *source) {
	t.Helper()
	clock := newFakeClock()
	src := &source{clock: clock, life: life}
	c := credcache.NewLazy(src, append([]credcache.Option{credcache.WithClock(clock)}, opts...)...)
	t.Cleanup(func() { _ = c.Close() })
	return c, clock, src
}

func mustGet(t *testing.T, c credcache.Cache) credcache.Credential {
	t.Helper()
	cred, err := c.Get(t.Context())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return cred
}

func wantPassword(t *testing.T, c credcache.Cache, want string) {
	t.Helper()
	if got := mustGet(t, c).Password; got != want {
		t.Fatalf("Get: password %q, want %q", got, want)
	}
}

func wantCalls(t *testing.T, src *source, want int) {
	t.Helper()
	if got := src.Calls(); got != want {
		t.Fatalf("%d fetches, want %d", got, want)
	}
}

// waitPassword polls Get until it returns want (a background fetch is
// asynchronous).
func waitPassword(t *testing.T, c credcache.Cache, want string) {
	t.Helper()
	eventually(t, "password "+want, func() bool { return mustGet(t, c).Password == want })
}

func TestRefreshAheadRefreshesAtHalfLife(t *testing.T) {
	checkGoroutines(t)
	c, clock, src := newAhead(t)
	wantPassword(t, c, "pw1")
	if p := clock.Pending(); !slices.Equal(p, []time.Duration{life / 2}) {
		t.Fatalf("scheduled refreshes %v, want [%s]", p, life/2)
	}
	clock.Advance(life/2 - time.Second)
	wantCalls(t, src, 1)
	wantPassword(t, c, "pw1")

	clock.Advance(time.Second)
	waitPassword(t, c, "pw2")
	wantCalls(t, src, 2)
	// The next refresh is half of the new credential's lifetime away.
	eventually(t, "next refresh scheduled", func() bool { return slices.Equal(clock.Pending(), []time.Duration{life / 2}) })

	for range 100 {
		wantPassword(t, c, "pw2")
	}
	wantCalls(t, src, 2)
}

func TestRefreshAheadFraction(t *testing.T) {
	c, clock, _ := newAhead(t, credcache.WithRefreshFraction(0.9), credcache.WithRefreshMargin(2*time.Minute))
	mustGet(t, c)
	// 90% of 15 minutes is 13.5 minutes, later than the margin allows.
	if p := clock.Pending(); !slices.Equal(p, []time.Duration{life - 2*time.Minute}) {
		t.Fatalf("scheduled refreshes %v", p)
	}
}

func TestRefreshAheadKeepsOldCredentialWhileRefreshFails(t *testing.T) {
	checkGoroutines(t)
	c, clock, src := newAhead(t, credcache.WithMinRefreshInterval(0), credcache.WithMaxBackoff(4*time.Second))
	wantPassword(t, c, "pw1")
	src.setFail(&apiError{code: "Throttling", status: 400})
	clock.Advance(life / 2)
	eventually(t, "failed refresh", func() bool { return slices.Equal(clock.Pending(), []time.Duration{time.Second}) })
	wantPassword(t, c, "pw1")

	// Retries back off: 1s, 2s, 4s, 4s.
	for i, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		calls := src.Calls()
		clock.Advance(d)
		eventually(t, fmt.Sprintf("retry %d", i+1), func() bool { return src.Calls() == calls+1 && len(clock.Pending()) == 1 })
		wantPassword(t, c, "pw1")
	}

	src.setFail(nil)
	calls := src.Calls()
	clock.Advance(4 * time.Second)
	waitPassword(t, c, fmt.Sprintf("pw%d", calls+1))
}

func TestRefreshAheadFailsAfterExpiry(t *testing.T) {
	c, clock, src := newAhead(t, credcache.WithMinRefreshInterval(0))
	wantPassword(t, c, "pw1")
	src.setFail(&apiError{code: "AccessDenied", status: 403})
	clock.Advance(life - time.Second) // within the margin, still valid
	wantPassword(t, c, "pw1")
	eventually(t, "a retry", func() bool { return len(clock.Pending()) == 1 })
	clock.Advance(time.Second) // expired
	_, err := c.Get(t.Context())
	var fe *credcache.FetchError
	if !errors.As(err, &fe) || fe.Temporary {
		t.Fatalf("Get after expiry: %v, want a permanent *FetchError", err)
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.code != "AccessDenied" {
		t.Fatalf("the fetch error does not wrap the source's: %v", err)
	}
	// No background retries without a credential to keep alive.
	clock.Advance(time.Minute)
	eventually(t, "no scheduled refresh", func() bool { return len(clock.Pending()) == 0 })
	src.setFail(nil)
	wantPassword(t, c, fmt.Sprintf("pw%d", src.Calls()+1))
}

func TestLazyRefreshesWithinMargin(t *testing.T) {
	checkGoroutines(t)
	c, clock, src := newLazy(t)
	wantPassword(t, c, "pw1")
	if p := clock.Pending(); len(p) != 0 {
		t.Fatalf("the lazy cache scheduled %v", p)
	}
	clock.Advance(life - credcache.DefaultRefreshMargin - time.Second)
	wantPassword(t, c, "pw1")
	clock.Advance(time.Second) // 60s left
	wantPassword(t, c, "pw2")
	wantCalls(t, src, 2)
	if p := clock.Pending(); len(p) != 0 {
		t.Fatalf("the lazy cache scheduled %v", p)
	}
}

func TestLazyKeepsOldCredentialWhileRefreshFails(t *testing.T) {
	c, clock, src := newLazy(t, credcache.WithMinRefreshInterval(0))
	wantPassword(t, c, "pw1")
	src.setFail(&apiError{code: "ServiceUnavailable", status: 503})
	clock.Advance(life - 30*time.Second)
	wantPassword(t, c, "pw1")
	wantCalls(t, src, 2)
	clock.Advance(30 * time.Second)
	_, err := c.Get(t.Context())
	if !credcache.IsTemporary(err) {
		t.Fatalf("Get after expiry: %v, want a temporary error", err)
	}
}

func TestShortCredentialsUseAQuarterOfTheirLifetimeAsMargin(t *testing.T) {
	clock := newFakeClock()
	src := &source{clock: clock, life: 2 * time.Minute}
	c := credcache.NewLazy(src, credcache.WithClock(clock))
	defer c.Close()
	wantPassword(t, c, "pw1")
	clock.Advance(90*time.Second - time.Second)
	wantPassword(t, c, "pw1")
	clock.Advance(time.Second)
	wantPassword(t, c, "pw2")
}

func TestInvalidate(t *testing.T) {
	for name, newCache := range map[string]func(*testing.T, ...credcache.Option) (credcache.Cache, *fakeClock, *source){
		"refresh-ahead": newAhead, "lazy": newLazy,
	} {
		t.Run(name, func(t *testing.T) {
			checkGoroutines(t)
			c, _, src := newCache(t)
			first := mustGet(t, c)
			c.Invalidate(credcache.Credential{User: "user", Password: "other", Expiration: first.Expiration})
			wantPassword(t, c, "pw1")
			wantCalls(t, src, 1)

			c.Invalidate(first)
			wantPassword(t, c, "pw2")
			wantCalls(t, src, 2)

			// Everyone who failed with the first credential invalidates it:
			// only the first invalidation counts.
			for range 10 {
				c.Invalidate(first)
			}
			wantPassword(t, c, "pw2")
			wantCalls(t, src, 2)
		})
	}
}

func TestConcurrentGetsShareOneFetch(t *testing.T) {
	for name, newCache := range map[string]func(*testing.T, ...credcache.Option) (credcache.Cache, *fakeClock, *source){
		"refresh-ahead": newAhead, "lazy": newLazy,
	} {
		t.Run(name, func(t *testing.T) {
			checkGoroutines(t)
			c, _, src := newCache(t)
			gate := make(chan struct{})
			src.gate = gate

			const n = 50
			var wg sync.WaitGroup
			got := make([]string, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					cred, err := c.Get(t.Context())
					got[i], errs[i] = cred.Password, err
				})
			}
			// A caller that gives up does not disturb the others.
			ctx, cancel := context.WithCancel(t.Context())
			cancelled := make(chan error)
			go func() { _, err := c.Get(ctx); cancelled <- err }()
			eventually(t, "first fetch", func() bool { return src.Calls() == 1 })
			cancel()
			if err := <-cancelled; !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled Get: %v", err)
			}
			close(gate)
			wg.Wait()
			for i := range n {
				if errs[i] != nil || got[i] != "pw1" {
					t.Fatalf("caller %d: %q, %v", i, got[i], errs[i])
				}
			}
			wantCalls(t, src, 1)
		})
	}
}

func TestRateLimit(t *testing.T) {
	c, clock, src := newLazy(t, credcache.WithMinRefreshInterval(5*time.Second))
	first := mustGet(t, c)
	c.Invalidate(first)
	second := mustGet(t, c) // the burst allows two fetches back to back
	wantCalls(t, src, 2)
	c.Invalidate(second)

	// The third fetch waits for the interval.
	done := make(chan credcache.Credential)
	go func() { done <- mustGet(t, c) }()
	eventually(t, "a rate-limit timer", func() bool { return slices.Equal(clock.Pending(), []time.Duration{5 * time.Second}) })
	wantCalls(t, src, 2)
	clock.Advance(5 * time.Second)
	if cred := <-done; cred.Password != "pw3" {
		t.Fatalf("after the wait: %v", cred)
	}
}

func TestRateLimitedFailuresReturnAtOnce(t *testing.T) {
	c, clock, src := newLazy(t, credcache.WithMinRefreshInterval(time.Minute))
	src.setFail(&apiError{code: "AccessDenied", status: 403})
	for range 5 {
		if _, err := c.Get(t.Context()); err == nil || credcache.IsTemporary(err) {
			t.Fatalf("Get: %v", err)
		}
	}
	wantCalls(t, src, 2) // the burst, then the last error without a fetch
	clock.Advance(time.Minute)
	src.setFail(nil)
	wantPassword(t, c, "pw3")
}

func TestIncompleteOrExpiredCredentialsAreRefused(t *testing.T) {
	clock := newFakeClock()
	for name, cred := range map[string]credcache.Credential{
		"no password": {User: "u", Expiration: clock.Now().Add(time.Hour)},
		"no user":     {Password: "p", Expiration: clock.Now().Add(time.Hour)},
		"expired":     {User: "u", Password: "p", Expiration: clock.Now()},
	} {
		t.Run(name, func(t *testing.T) {
			c := credcache.NewLazy(credcache.SourceFunc(func(context.Context) (credcache.Credential, error) { return cred, nil }), credcache.WithClock(clock))
			defer c.Close()
			_, err := c.Get(t.Context())
			var fe *credcache.FetchError
			if !errors.As(err, &fe) || fe.Temporary {
				t.Fatalf("Get: %v", err)
			}
		})
	}
}

func TestCredentialsWithoutExpiry(t *testing.T) {
	clock := newFakeClock()
	calls := 0
	c := credcache.NewRefreshAhead(credcache.SourceFunc(func(context.Context) (credcache.Credential, error) {
		calls++
		return credcache.Credential{User: "u", Password: "p"}, nil
	}), credcache.WithClock(clock))
	defer c.Close()
	mustGet(t, c)
	clock.Advance(1000 * time.Hour)
	mustGet(t, c)
	if calls != 1 || len(clock.Pending()) != 0 {
		t.Fatalf("%d fetches, scheduled %v", calls, clock.Pending())
	}
}

func TestCloseStopsEverything(t *testing.T) {
	t.Run("real clock, refreshing", func(t *testing.T) {
		checkGoroutines(t)
		var mu sync.Mutex
		calls := 0
		c := credcache.NewRefreshAhead(credcache.SourceFunc(func(context.Context) (credcache.Credential, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return credcache.Credential{User: "u", Password: fmt.Sprint(calls), Expiration: time.Now().Add(40 * time.Millisecond)}, nil
		}), credcache.WithMinRefreshInterval(0))
		mustGet(t, c)
		eventually(t, "background refreshes", func() bool { mu.Lock(); defer mu.Unlock(); return calls >= 5 })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		after := calls
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if calls != after {
			t.Errorf("%d fetches after Close", calls-after)
		}
		if _, err := c.Get(t.Context()); !errors.Is(err, credcache.ErrClosed) {
			t.Errorf("Get after Close: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	t.Run("fetch in flight", func(t *testing.T) {
		checkGoroutines(t)
		c, _, src := newAhead(t)
		src.gate = make(chan struct{}) // never opens: the fetch ends when Close cancels it
		errc := make(chan error)
		go func() { _, err := c.Get(context.Background()); errc <- err }()
		eventually(t, "fetch", func() bool { return src.Calls() == 1 })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, credcache.ErrClosed) {
			t.Fatalf("Get during Close: %v", err)
		}
	})
	t.Run("rate-limited fetch waiting", func(t *testing.T) {
		checkGoroutines(t)
		c, clock, _ := newAhead(t, credcache.WithMinRefreshInterval(time.Hour))
		first := mustGet(t, c)
		c.Invalidate(first)
		second := mustGet(t, c)
		c.Invalidate(second) // starts a fetch that waits an hour
		eventually(t, "rate-limit timer", func() bool { return len(clock.Pending()) == 1 })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestIsTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"throttling", &apiError{code: "Throttling", status: 400}, true},
		{"throttling exception", fmt.Errorf("operation error: %w", &apiError{code: "ThrottlingException", status: 400}), true},
		{"internal failure", &apiError{code: "InternalFailure", status: 500}, true},
		{"unknown code with 503", &apiError{code: "Whatever", status: 503}, true},
		{"429", &apiError{code: "", status: 429}, true},
		{"access denied", &apiError{code: "AccessDenied", status: 403}, false},
		{"invalid parameter", &apiError{code: "InvalidParameterValue", status: 400}, false},
		{"cluster not found", &apiError{code: "ClusterNotFound", status: 404}, false},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", context.Canceled, false},
		{"fetch error says temporary", &credcache.FetchError{Err: errors.New("x"), Temporary: true}, true},
		{"fetch error says permanent", &credcache.FetchError{Err: context.DeadlineExceeded}, false},
		{"plain error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := credcache.IsTemporary(tt.err); got != tt.want {
				t.Errorf("IsTemporary(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestFetchErrorFromSourceIsKept(t *testing.T) {
	want := &credcache.FetchError{Err: errors.New("idp down"), Temporary: true}
	c := credcache.NewLazy(credcache.SourceFunc(func(context.Context) (credcache.Credential, error) { return credcache.Credential{}, want }))
	defer c.Close()
	_, err := c.Get(t.Context())
	var fe *credcache.FetchError
	if !errors.As(err, &fe) || fe != want {
		t.Fatalf("Get: %v", err)
	}
	if got := err.Error(); got != "credcache: fetch credential (temporary): idp down" {
		t.Errorf("message %q", got)
	}
}

func TestRateLimitedRefreshServesTheOldCredential(t *testing.T) {
	c, clock, src := newLazy(t, credcache.WithMinRefreshInterval(time.Hour))
	first := mustGet(t, c)
	c.Invalidate(first)
	wantPassword(t, c, "pw2") // the burst's second fetch
	clock.Advance(life - 30*time.Second)
	// pw2 is within the margin and the next fetch may only start an hour
	// after the first two; pw2, still valid, is returned without waiting.
	wantPassword(t, c, "pw2")
	wantCalls(t, src, 2)
	clock.Advance(time.Hour)
	eventually(t, "the delayed fetch", func() bool { return src.Calls() == 3 })
	waitPassword(t, c, "pw3")
}
