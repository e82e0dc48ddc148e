package clustercreds

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
)

// limiter keeps one token bucket per principal, in a bounded map. It is
// per replica: with N replicas a principal gets up to N times the rate,
// which is enough to damp runaway clients (AWS's own limit is approximate
// too).
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	max     int
	buckets map[string]*rate.Limiter
}

func newLimiter(r float64, burst, max int) *limiter {
	return &limiter{rate: rate.Limit(r), burst: burst, max: max, buckets: make(map[string]*rate.Limiter)}
}

// allow takes a token for key at now, or returns AWS's Throttling error
// (message "Rate exceeded", which the Redshift JDBC driver retries on).
func (l *limiter) allow(key string, now time.Time) error {
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			// Forget everyone: full buckets are the state a new key starts in.
			clear(l.buckets)
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	if !b.AllowN(now, 1) {
		return &awserr.Error{Code: awserr.Throttling, Message: "Rate exceeded", HTTPStatus: http.StatusBadRequest}
	}
	return nil
}
