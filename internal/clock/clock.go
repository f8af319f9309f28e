// Package clock is graphhook's single source of time. Every package that reads the
// time takes a Clock, so that tests (and the admin API in the dev profile) can move it
// forward and make expiry, reauthorization and retry horizons happen in seconds.
package clock

import (
	"math"
	"sync/atomic"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the system clock.
type Real struct{}

// Now returns the current UTC time.
func (Real) Now() time.Time { return time.Now().UTC() }

// Offset is the system clock shifted by an adjustable offset. It is what the server
// runs on: time flows normally, and Advance jumps it forward.
type Offset struct {
	offset atomic.Int64
}

// Now returns the system time plus the offset.
func (o *Offset) Now() time.Time {
	return time.Now().UTC().Add(time.Duration(o.offset.Load()))
}

// Advance moves the clock forward by d (negative values are ignored: time never runs
// backwards here). The offset saturates at the largest Duration (about 292 years)
// instead of wrapping around into the past.
func (o *Offset) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	for {
		old := o.offset.Load()
		next := old + int64(d)
		if next < old { // overflow
			next = math.MaxInt64
		}
		if o.offset.CompareAndSwap(old, next) {
			return
		}
	}
}

// Raise sets the offset to to when that moves the clock forward, and reports
// whether it did. It is how an offset kept elsewhere (the store, another node's
// advance) is applied: never backwards, so a stale reading changes nothing.
func (o *Offset) Raise(to time.Duration) bool {
	for {
		old := o.offset.Load()
		if int64(to) <= old {
			return false
		}
		if o.offset.CompareAndSwap(old, int64(to)) {
			return true
		}
	}
}

// Skew returns the total offset applied so far.
func (o *Offset) Skew() time.Duration { return time.Duration(o.offset.Load()) }

// Fixed is a clock that only moves when told; for unit tests.
type Fixed struct {
	t atomic.Int64
}

// NewFixed returns a Fixed clock at t.
func NewFixed(t time.Time) *Fixed {
	f := &Fixed{}
	f.t.Store(t.UnixNano())
	return f
}

// Now returns the clock's time.
func (f *Fixed) Now() time.Time { return time.Unix(0, f.t.Load()).UTC() }

// Advance moves the clock by d.
func (f *Fixed) Advance(d time.Duration) { f.t.Add(int64(d)) }

// Set moves the clock to t.
func (f *Fixed) Set(t time.Time) { f.t.Store(t.UnixNano()) }
