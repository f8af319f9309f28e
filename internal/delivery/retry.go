package delivery

import (
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy is exponential backoff with jitter and a cap.
type RetryPolicy struct {
	// Base is the wait after the first failed attempt.
	Base time.Duration
	// Max caps any single wait.
	Max time.Duration
	// Jitter spreads each wait uniformly over ±Jitter of it (0.2 = ±20 %), so that
	// endpoints that failed together are not retried together.
	Jitter float64
}

// DefaultRetryPolicy waits 10s, 20s, 40s, … up to 30 minutes, ±20 %: about a
// dozen attempts inside Graph's 4-hour horizon.
var DefaultRetryPolicy = RetryPolicy{Base: 10 * time.Second, Max: 30 * time.Minute, Jitter: 0.2}

// Next returns when attempt number attempt+1 is due after attempt number attempt
// (1-based) failed at now. It is a pure function of its arguments (the jitter is a
// hash of them), so it can be tested as a table.
func (p RetryPolicy) Next(now time.Time, attempt int) time.Time {
	if attempt < 1 {
		attempt = 1
	}
	d := p.Base
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if p.Jitter > 0 {
		u := float64(mix(uint64(now.UnixNano())^uint64(attempt)*0x9e3779b97f4a7c15)>>11) / (1 << 53) // uniform in [0,1)
		d = time.Duration(float64(d) * (1 + p.Jitter*(2*u-1)))
	}
	return now.Add(d)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); 0 when absent or
// unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// mix is splitmix64's finaliser: a cheap, well-spread hash of one word.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
