package credcache

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// ErrClosed is returned by Get after Close.
var ErrClosed = errors.New("credcache: cache closed")

// FetchError is a failed fetch. Temporary says whether a later attempt may
// succeed (throttling, a server-side error, a network failure, a timeout)
// or whether the request itself is refused (access denied, an invalid
// parameter, an unknown cluster) and retrying is pointless until something
// changes.
type FetchError struct {
	Err       error
	Temporary bool
}

func (e *FetchError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return "credcache: fetch credential (" + kind + "): " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }

// asFetchError returns err as a *FetchError, classifying it if needed.
func asFetchError(err error) *FetchError {
	var fe *FetchError
	if errors.As(err, &fe) {
		return fe
	}
	return &FetchError{Err: err, Temporary: IsTemporary(err)}
}

// temporaryCodes are AWS error codes for which a retry can succeed.
var temporaryCodes = map[string]bool{
	"Throttling":                             true,
	"ThrottlingException":                    true,
	"ThrottledException":                     true,
	"RequestThrottledException":              true,
	"RequestThrottled":                       true,
	"TooManyRequestsException":               true,
	"RequestLimitExceeded":                   true,
	"BandwidthLimitExceeded":                 true,
	"SlowDown":                               true,
	"PriorRequestNotComplete":                true,
	"EC2ThrottledException":                  true,
	"ProvisionedThroughputExceededException": true,
	"TransactionInProgressException":         true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
	"InternalFailure":                        true,
	"InternalError":                          true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"ServiceUnavailableException":            true,
	"IDPCommunicationError":                  true,
}

// IsTemporary reports whether err is worth retrying. It understands
// *FetchError, AWS SDK errors (by error code and HTTP status: throttling
// codes, 429 and 5xx are temporary; AccessDenied, InvalidParameterValue and
// other 4xx are not), timeouts and network errors, without importing the
// SDK: it looks for the ErrorCode() string and HTTPStatusCode() int methods
// that aws-sdk-go-v2's errors have.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var fe *FetchError
	if errors.As(err, &fe) {
		return fe.Temporary
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && coded.ErrorCode() != "" {
		if temporaryCodes[coded.ErrorCode()] {
			return true
		}
		var status interface{ HTTPStatusCode() int }
		if errors.As(err, &status) {
			return isTemporaryStatus(status.HTTPStatusCode())
		}
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() != 0 {
		return isTemporaryStatus(status.HTTPStatusCode())
	}
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	}
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var temp interface{ Temporary() bool }
	if errors.As(err, &temp) {
		return temp.Temporary()
	}
	return false
}

func isTemporaryStatus(code int) bool { return code == 429 || code >= 500 }
