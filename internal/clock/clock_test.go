package clock

import (
	"math"
	"testing"
	"time"
)

// TestOffsetSaturates advances by a leap year at a time far past what an int64 of
// nanoseconds holds: the clock must stop at its limit, never run backwards.
func TestOffsetSaturates(t *testing.T) {
	var o Offset
	prev := o.Now()
	for i := range 300 {
		o.Advance(8784 * time.Hour)
		now := o.Now()
		if now.Before(prev) {
			t.Fatalf("after advance %d: Now() = %v, before the previous %v", i+1, now, prev)
		}
		prev = now
	}
	if got := o.Skew(); got != time.Duration(math.MaxInt64) {
		t.Errorf("Skew() = %v, want the saturated %v", got, time.Duration(math.MaxInt64))
	}
	if y := o.Now().Year(); y < 2300 {
		t.Errorf("Now().Year() = %d, want past 2300", y)
	}
}

func TestOffsetIgnoresNegative(t *testing.T) {
	var o Offset
	o.Advance(time.Hour)
	o.Advance(-2 * time.Hour)
	if got := o.Skew(); got != time.Hour {
		t.Errorf("Skew() = %v, want 1h", got)
	}
}

func TestOffsetRaise(t *testing.T) {
	var o Offset
	if !o.Raise(2 * time.Hour) {
		t.Errorf("Raise(2h) from 0 = false, want true")
	}
	if o.Raise(time.Hour) {
		t.Errorf("Raise(1h) from 2h = true, want false (never backwards)")
	}
	if got := o.Skew(); got != 2*time.Hour {
		t.Errorf("Skew() = %v, want 2h", got)
	}
}
