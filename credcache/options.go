package credcache

import (
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	DefaultRefreshMargin      = 60 * time.Second
	DefaultRefreshFraction    = 0.5
	DefaultMinRefreshInterval = 5 * time.Second
	DefaultFetchTimeout       = time.Minute
)

// Clock is a cache's source of time. The default is the system clock;
// tests inject a fake one that they advance by hand.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, like time.AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a scheduled call; *time.Timer implements it.
type Timer interface {
	// Stop prevents the call if it has not started yet and reports whether
	// it did.
	Stop() bool
}

type systemClock struct{}

func (systemClock) Now() time.Time                            { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Option configures a cache.
type Option func(*settings)

type settings struct {
	clock        Clock
	margin       time.Duration
	fraction     float64
	minInterval  time.Duration
	burst        int
	fetchTimeout time.Duration
	maxBackoff   time.Duration
	logger       *slog.Logger
}

func newSettings(opts []Option) settings {
	s := settings{
		clock:        systemClock{},
		margin:       DefaultRefreshMargin,
		fraction:     DefaultRefreshFraction,
		minInterval:  DefaultMinRefreshInterval,
		burst:        2,
		fetchTimeout: DefaultFetchTimeout,
		maxBackoff:   time.Minute,
		logger:       slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithClock sets the clock (default: the system clock).
func WithClock(c Clock) Option {
	return func(s *settings) {
		if c != nil {
			s.clock = c
		}
	}
}

// WithRefreshMargin sets how long before its expiry a credential stops being
// handed out (default 60s, as in the Redshift drivers): a connection opened
// with it must finish logging in before the password expires. The lazy cache
// fetches a new credential once less than this is left. For credentials
// shorter than four margins, a quarter of the lifetime is used instead.
func WithRefreshMargin(d time.Duration) Option {
	return func(s *settings) {
		if d >= 0 {
			s.margin = d
		}
	}
}

// WithRefreshFraction sets when the refresh-ahead cache refreshes, as a
// fraction of the credential's lifetime (default 0.5: a 15-minute credential
// is refreshed after 7.5 minutes). It is ignored by the lazy cache. Values
// outside (0, 1] are ignored.
func WithRefreshFraction(f float64) Option {
	return func(s *settings) {
		if f > 0 && f <= 1 {
			s.fraction = f
		}
	}
}

// WithMinRefreshInterval rate-limits fetches: two may happen back to back,
// then at most one per interval (default 5s). A forced refresh that is
// limited waits; a caller that finds no usable credential while the last
// fetch failed and the limit is reached gets that failure at once. Zero
// disables the limit.
func WithMinRefreshInterval(d time.Duration) Option {
	return func(s *settings) {
		if d >= 0 {
			s.minInterval = d
		}
	}
}

// WithFetchTimeout bounds each fetch (default one minute). A fetch does not
// use its callers' contexts, since one fetch serves them all; a caller that
// gives up stops waiting, and the fetch goes on for the others.
func WithFetchTimeout(d time.Duration) Option {
	return func(s *settings) {
		if d > 0 {
			s.fetchTimeout = d
		}
	}
}

// WithMaxBackoff caps the delay between background retries of a failed
// refresh in the refresh-ahead cache (default one minute; retries start at
// one second and double).
func WithMaxBackoff(d time.Duration) Option {
	return func(s *settings) {
		if d > 0 {
			s.maxBackoff = d
		}
	}
}

// WithLogger sets the logger for fetches, failures and invalidations
// (default: discard). Passwords are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) {
		if l != nil {
			s.logger = l
		}
	}
}
