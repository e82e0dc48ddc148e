package credcache_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/credcache"
)

// fakeClock is a clock the test advances by hand. Timers that are due run
// in their own goroutines, like time.AfterFunc's; Advance waits for them to
// return.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	f     func()
	done  bool // fired or stopped
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) credcache.Timer {
	c.mu.Lock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	if d <= 0 {
		t.done = true
		go f() // the caller may hold a lock the callback takes
	}
	c.mu.Unlock()
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	return true
}

// Advance moves the clock and runs the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.done:
		case !t.at.After(c.now):
			t.done = true
			due = append(due, t)
		default:
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range due {
		wg.Go(t.f)
	}
	wg.Wait()
}

// Pending returns the delays of the timers that have not fired.
func (c *fakeClock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.timers {
		if !t.done {
			ds = append(ds, t.at.Sub(c.now))
		}
	}
	return ds
}

// source issues credentials "user"/"pw<n>" valid for life, counts fetches,
// and can be told to fail or to block.
type source struct {
	clock interface{ Now() time.Time }
	life  time.Duration

	mu    sync.Mutex
	calls int
	fail  error
	gate  chan struct{} // when non-nil, Fetch waits for it to close
}

func (s *source) Fetch(ctx context.Context) (credcache.Credential, error) {
	s.mu.Lock()
	s.calls++
	n, fail, gate := s.calls, s.fail, s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return credcache.Credential{}, ctx.Err()
		}
	}
	if fail != nil {
		return credcache.Credential{}, fail
	}
	return credcache.Credential{User: "user", Password: fmt.Sprintf("pw%d", n), Expiration: s.clock.Now().Add(s.life)}, nil
}

func (s *source) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *source) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// eventually polls cond for up to five seconds of real time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkGoroutines fails the test if goroutines started during it are still
// running when it ends.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// apiError looks like an aws-sdk-go-v2 error.
type apiError struct {
	code   string
	status int
}

func (e *apiError) Error() string       { return fmt.Sprintf("api error %s (HTTP %d)", e.code, e.status) }
func (e *apiError) ErrorCode() string   { return e.code }
func (e *apiError) HTTPStatusCode() int { return e.status }
