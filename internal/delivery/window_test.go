package delivery

import (
	"context"
	"testing"
	"time"
)

// TestWindow steps push-back's window of writes through its rules with a 400 ms
// threshold: it applies once delivery is more than half the threshold late, at a
// quarter of the writes in progress; a write past it waits; while delivery stays
// past the threshold it closes every quarter threshold, from the writes in
// progress if fewer fill it, by the threshold over the lateness (within 0.5 and
// 0.85), to one write, and to none past twice the threshold; back under half the
// threshold it grows by one write every 50 ms, letting the waiting write in; and
// after two seconds with room to spare it goes away.
func TestWindow(t *testing.T) {
	const threshold = 400 * time.Millisecond
	var b pushBack
	start := time.Unix(1_800_000_000, 0)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	room := func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.room()
	}
	b.writes, b.peak = 40, 40                          // let through over the ramp's steps
	b.measured(200*time.Millisecond, threshold, at(0)) // exactly half: not yet
	if b.narrow || !room() {
		t.Fatalf("at half the threshold: narrow %v, room %v; want no window", b.narrow, room())
	}
	b.measured(201*time.Millisecond, threshold, at(10))
	if !b.narrow || b.window != 10 {
		t.Fatalf("past half the threshold, 40 writes in progress: narrow %v, window %v; want 10", b.narrow, b.window)
	}
	if room() {
		t.Error("room for an 11th write in a window of 10 with 40 in progress")
	}
	b.writes = 9
	if !room() {
		t.Error("no room for a 10th write in a window of 10")
	}
	b.measured(800*time.Millisecond, threshold, at(50)) // within a quarter threshold of the first cut
	if b.window != 10 {
		t.Errorf("window %v a quarter threshold after it opened, want 10 still", b.window)
	}
	b.writes = 4
	b.measured(800*time.Millisecond, threshold, at(110)) // twice the threshold: halved, from the 4 in progress
	if b.window != 2 {
		t.Errorf("window %v at twice the threshold late with 4 writes in progress, want 2", b.window)
	}
	b.window, b.writes = 5, 10
	b.measured(420*time.Millisecond, threshold, at(220)) // a little late: cut by 0.85 at most
	if b.window != 4.25 {
		t.Errorf("window %v just past the threshold, want 4.25", b.window)
	}
	for _, ms := range []int{330, 440, 550} {
		b.measured(700*time.Millisecond, threshold, at(ms)) // late, under twice the threshold
	}
	if b.window != 1 {
		t.Errorf("window %v after three cuts under twice the threshold late, want 1 (the floor)", b.window)
	}
	b.measured(801*time.Millisecond, threshold, at(660))
	if b.window != 0 {
		t.Errorf("window %v past twice the threshold late, want 0 (shut)", b.window)
	}
	b.writes = 0
	if room() {
		t.Fatal("room for a write in a shut window")
	}
	place := make(chan struct{})
	b.queue = append(b.queue, place)
	b.measured(300*time.Millisecond, threshold, at(600)) // late, under the threshold: no change
	if b.window != 0 {
		t.Errorf("window %v between half the threshold and it, want 0 unchanged", b.window)
	}
	b.measured(100*time.Millisecond, threshold, at(700))
	select {
	case <-place:
	default:
		t.Fatal("the waiting write was not let in as the window opened to one")
	}
	if b.window != 1 || b.writes != 1 {
		t.Errorf("window %v, writes %d; want 1 and 1", b.window, b.writes)
	}
	b.measured(100*time.Millisecond, threshold, at(720)) // within 50 ms: no growth
	if b.window != 1 {
		t.Errorf("window %v 20 ms after it grew, want 1", b.window)
	}
	b.done()
	ms := 750
	for ; ms < 750+2500 && b.narrow; ms += 50 {
		b.measured(0, threshold, at(ms))
	}
	// Room to spare from the first step at 750 ms on: gone two seconds later.
	if b.narrow || ms != 2800 {
		t.Errorf("window narrow %v until %d ms, want gone at 2750", b.narrow, ms-50)
	}
}

// TestThrottleEdges: past a shut window, a write is refused at once with a hold of
// 0, and with a hold once its caller has gone, leaving no place waiting; Retry-After
// is the lateness in whole seconds, at least one; within the window a write is let
// through and its done frees its place.
func TestThrottleEdges(t *testing.T) {
	p := &Pipeline{cfg: Config{PushBack: 400 * time.Millisecond}}
	p.push.narrow = true
	p.push.lag.Store(int64(2300 * time.Millisecond))
	if _, retry, throttled := p.Throttle(t.Context()); !throttled || retry != 3*time.Second {
		t.Errorf("hold 0, shut window: throttled %v, Retry-After %v; want true, 3s", throttled, retry)
	}
	p.push.lag.Store(int64(500 * time.Millisecond))
	if _, retry, _ := p.Throttle(t.Context()); retry != time.Second {
		t.Errorf("Retry-After %v for 500 ms late, want 1s", retry)
	}
	p.cfg.PushBackHold = time.Hour
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, throttled := p.Throttle(gone); !throttled {
		t.Error("a write whose caller has gone was let through a shut window")
	}
	if n := p.WaitingWrites(); n != 0 {
		t.Errorf("%d writes left waiting, want 0", n)
	}
	p.push.window = 1
	done, _, throttled := p.Throttle(t.Context())
	if throttled || p.push.writes != 1 {
		t.Fatalf("window of one: throttled %v, writes %d; want let through, 1", throttled, p.push.writes)
	}
	done()
	if p.push.writes != 0 {
		t.Errorf("writes %d after done, want 0", p.push.writes)
	}
}

// TestWindowOpensAtFewWrites: the window opens at a quarter of the writes in
// progress, but not below them or four, whichever is fewer; and at one write when
// none is in progress.
func TestWindowOpensAtFewWrites(t *testing.T) {
	const threshold = 400 * time.Millisecond
	for _, c := range []struct {
		writes int
		want   float64
	}{{0, 1}, {1, 1}, {3, 3}, {4, 4}, {8, 4}, {16, 4}, {17, 4.25}, {40, 10}} {
		var b pushBack
		b.writes = c.writes
		b.measured(threshold/2+time.Millisecond, threshold, time.Unix(0, 0))
		if !b.narrow || b.window != c.want {
			t.Errorf("%d writes in progress: narrow %v, window %v; want %v", c.writes, b.narrow, b.window, c.want)
		}
	}
}

// TestRamp: while the window does not apply, the writes in progress ramp up from
// sixteen, to twice the most that were in progress during the last 50 ms step: a
// write past the ramp is refused (hold 0) or waits and is let in as the ramp grows;
// after a quiet step the ramp is back at sixteen.
func TestRamp(t *testing.T) {
	const threshold = 400 * time.Millisecond
	p := &Pipeline{cfg: Config{PushBack: threshold}}
	b := &p.push
	start := time.Unix(1_800_000_000, 0)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	var dones []func()
	letThrough := func(want int) {
		t.Helper()
		for i := range want {
			done, _, throttled := p.Throttle(t.Context())
			if throttled {
				t.Fatalf("write %d of %d throttled (%d in progress)", i+1, want, b.writes)
			}
			dones = append(dones, done)
		}
		if _, _, throttled := p.Throttle(t.Context()); !throttled {
			t.Fatalf("write past the ramp let through (%d in progress)", b.writes)
		}
	}
	b.measured(0, threshold, at(0))
	letThrough(rampStart)
	b.measured(0, threshold, at(49)) // within the step: no growth
	if _, _, throttled := p.Throttle(t.Context()); !throttled {
		t.Fatal("the ramp grew within 50 ms")
	}
	b.measured(0, threshold, at(50)) // 16 were in progress: 32
	letThrough(rampStart)
	for _, done := range dones {
		done()
	}
	dones = nil
	b.measured(0, threshold, at(100)) // 32 were in progress: 64
	letThrough(64)
	for _, done := range dones {
		done()
	}
	dones = nil
	b.measured(0, threshold, at(150)) // 64 again, then none
	b.measured(0, threshold, at(200))
	if b.narrow || b.ramp != rampStart {
		t.Fatalf("after a quiet step: narrow %v, ramp %v; want no window, %d", b.narrow, b.ramp, rampStart)
	}
	letThrough(rampStart)
	// A write past the ramp that waits is let in at the next step.
	place := make(chan struct{})
	b.mu.Lock()
	b.queue = append(b.queue, place)
	b.mu.Unlock()
	b.measured(0, threshold, at(250))
	select {
	case <-place:
	default:
		t.Fatal("the waiting write was not let in as the ramp grew")
	}
	if b.writes != rampStart+1 {
		t.Errorf("%d writes in progress, want %d", b.writes, rampStart+1)
	}
	// Without a threshold nothing ramps.
	p = &Pipeline{}
	for i := range 100 {
		if _, _, throttled := p.Throttle(t.Context()); throttled {
			t.Fatalf("write %d throttled without a threshold", i)
		}
	}
}
