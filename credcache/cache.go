package credcache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Cache hands out a credential that many connections share.
type Cache interface {
	// Get returns a credential that is valid for at least the refresh margin,
	// fetching one if needed; concurrent callers share one fetch. If a fetch
	// fails while the previous credential has not expired yet, Get returns
	// the previous credential. Otherwise the error is a *FetchError (or the
	// context's error if ctx ends first, or ErrClosed).
	Get(ctx context.Context) (Credential, error)
	// Invalidate drops cred if it is still the current credential, so that
	// the next Get fetches a new one: call it when the database refused a
	// login with cred. Invalidating a credential that was already replaced
	// does nothing, so many connections failing with the same credential
	// cause one fetch.
	Invalidate(cred Credential)
	// Close stops background refreshes and waits for a running fetch to
	// return (its context is cancelled). Get fails with ErrClosed afterwards.
	Close() error
}

// NewRefreshAhead returns a cache that refreshes the credential in the
// background once a fraction of its lifetime has passed (see
// WithRefreshFraction), retries a failed refresh with backoff while it keeps
// serving the old credential, and refreshes at once after Invalidate. The
// first fetch happens on the first Get. Close it to stop the background
// work.
func NewRefreshAhead(src Source, opts ...Option) Cache { return newCache(src, true, opts) }

// NewLazy returns a cache that does no background work: Get fetches a new
// credential when less than the refresh margin is left (see
// WithRefreshMargin) or after Invalidate.
func NewLazy(src Source, opts ...Option) Cache { return newCache(src, false, opts) }

var (
	_ Cache = (*cache)(nil)
	_ Timer = (*time.Timer)(nil)
)

type cache struct {
	src   Source
	o     settings
	ahead bool
	mode  string
	base  context.Context // cancelled by Close; parent of every fetch
	stop  context.CancelFunc
	wg    sync.WaitGroup // fetch goroutines and scheduled refreshes

	mu       sync.Mutex
	cur      *entry // the current credential, nil when there is none
	call     *call  // the fetch in flight, nil when there is none
	lastErr  *FetchError
	failures int // consecutive failed fetches
	lim      limiter
	timer    Timer  // the scheduled background refresh
	gen      uint64 // tells a scheduled refresh whether it is still wanted
	closed   bool
}

type entry struct {
	cred    Credential
	fetched time.Time
}

// call is one fetch that several Get calls may wait for.
type call struct {
	notBefore time.Time     // when the rate limit lets the fetch start
	done      chan struct{} // closed when cred/err are set
	cred      Credential
	err       error
}

func newCache(src Source, ahead bool, opts []Option) *cache {
	o := newSettings(opts)
	base, stop := context.WithCancel(context.Background())
	mode := "lazy"
	if ahead {
		mode = "refresh-ahead"
	}
	return &cache{
		src: src, o: o, ahead: ahead, mode: mode, base: base, stop: stop,
		lim: limiter{interval: o.minInterval, burst: o.burst},
	}
}

func (c *cache) Get(ctx context.Context) (Credential, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Credential{}, ErrClosed
	}
	now := c.o.clock.Now()
	if c.cur != nil && c.usable(c.cur, now) {
		cred := c.cur.cred
		c.mu.Unlock()
		return cred, nil
	}
	cl := c.call
	if cl == nil {
		if c.lastErr != nil && c.lim.wait(now) > 0 {
			// The last fetch failed and another one is not allowed yet:
			// report the failure instead of making the caller wait.
			if c.cur != nil && c.cur.cred.ValidAt(now) {
				cred := c.cur.cred
				c.mu.Unlock()
				return cred, nil
			}
			err := c.lastErr
			c.mu.Unlock()
			return Credential{}, err
		}
		reason := "no credential"
		if c.cur != nil {
			reason = "credential expiring"
		}
		cl = c.startLocked(now, reason)
	}
	if c.cur != nil && c.cur.cred.ValidAt(now) && cl.notBefore.After(now) {
		// The new credential is rate-limited; the old one still works.
		cred := c.cur.cred
		c.mu.Unlock()
		return cred, nil
	}
	c.mu.Unlock()

	select {
	case <-cl.done:
	case <-ctx.Done():
		return Credential{}, ctx.Err()
	}
	if cl.err == nil {
		return cl.cred, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.cred.ValidAt(c.o.clock.Now()) {
		return c.cur.cred, nil // keep serving the old credential while it is valid
	}
	return Credential{}, cl.err
}

func (c *cache) Invalidate(cred Credential) {
	c.mu.Lock()
	if c.closed || c.cur == nil || !c.cur.cred.same(cred) {
		c.mu.Unlock()
		return
	}
	c.cur = nil
	if c.ahead && c.call == nil {
		c.cancelTimerLocked()
		c.startLocked(c.o.clock.Now(), "invalidated")
	}
	c.mu.Unlock()
	c.o.logger.Info("credcache: credential invalidated", "cache", c.mode, "user", cred.User)
}

func (c *cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.cancelTimerLocked()
	c.stop()
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// margin returns the refresh margin for e: the configured one, or a quarter
// of a short credential's lifetime.
func (c *cache) margin(e *entry) time.Duration {
	m := c.o.margin
	if life := e.cred.Expiration.Sub(e.fetched); life > 0 && m > life/4 {
		m = life / 4
	}
	return m
}

// usable reports whether e may still be handed out at now.
func (c *cache) usable(e *entry, now time.Time) bool {
	if !e.cred.ValidAt(now) {
		return false
	}
	return e.cred.Expiration.IsZero() || now.Before(e.cred.Expiration.Add(-c.margin(e)))
}

// startLocked starts a fetch, after the delay the rate limit asks for.
func (c *cache) startLocked(now time.Time, reason string) *call {
	wait := c.lim.reserve(now)
	cl := &call{notBefore: now.Add(wait), done: make(chan struct{})}
	c.call = cl
	var (
		fired chan struct{}
		timer Timer
	)
	if wait > 0 {
		c.o.logger.Debug("credcache: fetch rate-limited", "cache", c.mode, "wait", wait)
		fired = make(chan struct{})
		timer = c.o.clock.AfterFunc(wait, func() { close(fired) })
	}
	c.wg.Add(1)
	go c.run(cl, fired, timer, reason)
	return cl
}

// run fetches once fired is closed (at once if it is nil).
func (c *cache) run(cl *call, fired <-chan struct{}, timer Timer, reason string) {
	defer c.wg.Done()
	if fired != nil {
		select {
		case <-fired:
		case <-c.base.Done():
			timer.Stop()
		}
	}
	var (
		cred Credential
		err  error
	)
	if c.base.Err() != nil {
		err = ErrClosed
	} else {
		ctx, cancel := context.WithTimeout(c.base, c.o.fetchTimeout)
		cred, err = c.src.Fetch(ctx)
		cancel()
		if err == nil {
			err = c.check(cred)
		} else if c.base.Err() != nil {
			err = ErrClosed
		}
	}
	c.finish(cl, cred, err, reason)
}

// check refuses credentials that cannot be used.
func (c *cache) check(cred Credential) error {
	switch {
	case cred.User == "" || cred.Password == "":
		return &FetchError{Err: errors.New("the source returned a credential without a user or password")}
	case !cred.Expiration.IsZero() && !c.o.clock.Now().Before(cred.Expiration):
		return &FetchError{Err: errors.New("the source returned a credential that expired at " + cred.Expiration.UTC().Format(time.RFC3339))}
	}
	return nil
}

func (c *cache) finish(cl *call, cred Credential, err error, reason string) {
	c.mu.Lock()
	now := c.o.clock.Now()
	c.call = nil
	var next time.Duration = -1
	switch {
	case err == nil:
		c.cur = &entry{cred: cred, fetched: now}
		c.lastErr = nil
		c.failures = 0
		cl.cred = cred
		if c.ahead && !c.closed {
			next = c.refreshDelay(c.cur, now)
		}
	case errors.Is(err, ErrClosed):
		cl.err = ErrClosed
	default:
		fe := asFetchError(err)
		c.lastErr = fe
		c.failures++
		cl.err = fe
		if c.ahead && !c.closed && c.cur != nil && c.cur.cred.ValidAt(now) {
			next = c.backoff()
		}
	}
	if next >= 0 {
		c.scheduleLocked(next)
	}
	close(cl.done)
	failures := c.failures
	c.mu.Unlock()

	switch {
	case err == nil:
		c.o.logger.Info("credcache: fetched credential", "cache", c.mode, "reason", reason,
			"user", cred.User, "expiration", cred.Expiration, "next_refresh", durationOrNone(next))
	case errors.Is(err, ErrClosed):
	default:
		c.o.logger.Warn("credcache: fetch failed", "cache", c.mode, "reason", reason,
			"error", cl.err, "temporary", IsTemporary(cl.err), "failures", failures, "retry_in", durationOrNone(next))
	}
}

func durationOrNone(d time.Duration) slog.Value {
	if d < 0 {
		return slog.StringValue("none")
	}
	return slog.DurationValue(d)
}

// refreshDelay returns when to refresh e in the background: after the
// refresh fraction of its lifetime, and no later than the refresh margin
// before it expires. It returns -1 for a credential that does not expire.
func (c *cache) refreshDelay(e *entry, now time.Time) time.Duration {
	exp := e.cred.Expiration
	if exp.IsZero() {
		return -1
	}
	life := exp.Sub(e.fetched)
	at := e.fetched.Add(time.Duration(float64(life) * c.o.fraction))
	if latest := exp.Add(-c.margin(e)); at.After(latest) {
		at = latest
	}
	return max(at.Sub(now), 0)
}

// backoff returns the delay before the next background retry: 1s, 2s, 4s …
// up to the maximum backoff.
func (c *cache) backoff() time.Duration {
	d := time.Second
	for i := 1; i < c.failures && d < c.o.maxBackoff; i++ {
		d *= 2
	}
	return min(d, c.o.maxBackoff)
}

// scheduleLocked schedules the background refresh, replacing any earlier
// one.
func (c *cache) scheduleLocked(d time.Duration) {
	c.cancelTimerLocked()
	gen := c.gen
	c.wg.Add(1)
	c.timer = c.o.clock.AfterFunc(d, func() {
		defer c.wg.Done()
		c.background(gen)
	})
}

// cancelTimerLocked cancels the scheduled refresh. A refresh that already
// fired sees that its generation is stale and does nothing.
func (c *cache) cancelTimerLocked() {
	c.gen++
	if c.timer != nil && c.timer.Stop() {
		c.wg.Done() // the callback will never run
	}
	c.timer = nil
}

func (c *cache) background(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || gen != c.gen || c.call != nil {
		return
	}
	c.timer = nil
	c.startLocked(c.o.clock.Now(), "refresh ahead")
}

// limiter lets burst fetches happen back to back and then one per interval
// (the generic cell rate algorithm, in whole durations so that a fake clock
// gives exact answers).
type limiter struct {
	interval time.Duration
	burst    int
	tat      time.Time // theoretical arrival time of the next fetch
}

// wait returns how long a fetch at now would have to wait.
func (l *limiter) wait(now time.Time) time.Duration {
	if l.interval <= 0 || l.tat.IsZero() {
		return 0
	}
	allowed := l.tat.Add(-time.Duration(l.burst-1) * l.interval)
	return max(allowed.Sub(now), 0)
}

// reserve books a fetch and returns how long it has to wait.
func (l *limiter) reserve(now time.Time) time.Duration {
	if l.interval <= 0 {
		return 0
	}
	d := l.wait(now)
	start := now.Add(d)
	if l.tat.Before(start) {
		l.tat = start
	}
	l.tat = l.tat.Add(l.interval)
	return d
}
