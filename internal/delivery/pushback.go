package delivery

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pushBack limits the Graph API's writes in progress when delivery has fallen
// behind: when changes arrive faster than they can be delivered, the backlog (and
// every notification's latency) would otherwise grow without bound. Graph answers
// such callers 429 with Retry-After; so does graphhook, past a window of writes in
// progress.
//
// The dispatcher's pass, which reads the due URLs anyway, measures how late the
// oldest notification due to a healthy endpoint is, and steers the window from it.
// Once that lateness passes half of Config.PushBack, the window opens at a quarter
// of the writes then in progress, but not below them or four, whichever is fewer: a
// few writers (PostgreSQL's batched bench runs 4) are left to the cuts, which
// begin only once delivery is a whole threshold late, instead of being cut to one
// write at once. While it stays above the whole threshold, the
// window closes every quarter threshold, from the writes in progress if fewer fill
// it, by the ratio of the threshold to the lateness (between 0.5 and 0.85), to one
// write, and to none once delivery is twice the threshold late. Once it is back
// under half the threshold, the window grows by one write every 50 ms, and goes
// away after two seconds in which it had room to spare. A write past the window
// waits for a place, up to Config.PushBackHold, and is answered 429 if none comes.
//
// So the writers let through are about as many as delivery keeps up with, and the
// others are refused a few at a time. Refused all together while the backlog
// drained, they would all sleep for Retry-After's whole second, come back
// together and fill it again: with a rule of "refuse every write while delivery
// is late", latency followed the threshold up and throughput fell with it down.
//
// While the window does not apply, writes in progress still ramp up: at most
// sixteen, or twice the most that were in progress during the last 50 ms. A flood
// of writers after a quiet spell (256 bench clients, each change notifying 100
// subscriptions) is so let in over a few steps, in which delivery's lateness can
// show, instead of all at once: admitted together, their notifications were late
// by a second before the window could apply, and the window then shut to none.
//
// A pass runs at every commit and at least every PollInterval.
//
// An endpoint that is itself slow (its last POST took longer than half the
// threshold, or its health is not normal) is left out: its backlog is its own,
// and Graph slows or drops such an endpoint instead of throttling the writers.
type pushBack struct {
	lag atomic.Int64 // the last pass's lateness, in nanoseconds

	mu sync.Mutex
	// narrow tells that the window applies; it does not while delivery keeps up.
	narrow bool
	// window caps the writes in progress while narrow (0: none).
	window float64
	// writes counts the writes in progress that Throttle let through.
	writes int
	// queue are the writes waiting for a place, first come first.
	queue []chan struct{}
	last  time.Time // the last step of the window
	cut   time.Time // the last time it closed
	calm  time.Time // since when the window has had room to spare
	// ramp caps the writes in progress while the window does not apply (below
	// rampStart: rampStart); peak is the most in progress since the ramp's last
	// step, at rampAt.
	ramp   float64
	peak   int
	rampAt time.Time
}

const (
	// windowStep is how often the window grows by one write at most.
	windowStep = 50 * time.Millisecond
	// windowOpen is what the window's first size multiplies the writes in progress
	// by; a cut multiplies it by the threshold over the lateness, within
	// [minCut, maxCut].
	windowOpen, minCut, maxCut = 0.25, 0.5, 0.85
	// windowFew is the fewest writes in progress the window opens at (when as many
	// are).
	windowFew = 4
	// windowCalm is how long the window must have had room to spare to go away.
	windowCalm = 2 * time.Second
	// rampStart is the fewest writes in progress the ramp lets through while the
	// window does not apply; every windowStep it allows twice the most that were.
	rampStart = 16
)

// measured records a pass's lateness, and steers the window against threshold at
// now (the real time: the window follows the pace of real writes, whatever the
// pipeline's clock says).
func (b *pushBack) measured(lag, threshold time.Duration, now time.Time) {
	b.lag.Store(int64(lag))
	if threshold <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.rampAt) >= windowStep {
		b.ramp, b.peak, b.rampAt = max(rampStart, 2*float64(b.peak)), b.writes, now
	}
	switch {
	case lag > threshold/2 && !b.narrow:
		b.narrow, b.window = true, max(float64(b.writes)*windowOpen, float64(min(b.writes, windowFew)), 1)
		b.cut = now
	case lag > threshold && now.Sub(b.cut) >= threshold/4:
		// A cut counts from the writes in progress when fewer fill the window, so
		// that it takes effect at once. It leaves one write at least, unless
		// delivery is twice the threshold late: then none, so that even one
		// writer at a time cannot grow the backlog.
		b.window = max(min(b.window, float64(b.writes))*min(max(float64(threshold)/float64(lag), minCut), maxCut), 1)
		if lag > 2*threshold && b.window <= 1 {
			b.window = 0
		}
		b.cut = now
	case lag <= threshold/2 && b.narrow && now.Sub(b.last) >= windowStep:
		b.last = now
		b.window++
		switch {
		case len(b.queue) > 0 || float64(b.writes) >= b.window/2:
			b.calm = time.Time{}
		case b.calm.IsZero():
			b.calm = now
		case now.Sub(b.calm) >= windowCalm:
			// Nobody has needed the window for a while, writers refused
			// earlier included (Retry-After is a second).
			b.narrow, b.calm = false, time.Time{}
		}
	}
	b.grant()
}

// grant lets waiting writes in while the window has room. b.mu is held.
func (b *pushBack) grant() {
	for len(b.queue) > 0 && b.room() {
		close(b.queue[0])
		b.queue = b.queue[1:]
		b.admit()
	}
}

// admit counts a write let through. b.mu is held.
func (b *pushBack) admit() {
	b.writes++
	b.peak = max(b.peak, b.writes)
}

// room tells whether one more write may start. b.mu is held.
func (b *pushBack) room() bool {
	if !b.narrow {
		return float64(b.writes) < max(b.ramp, rampStart)
	}
	return float64(b.writes) < b.window
}

// done ends a write that Throttle let through.
func (b *pushBack) done() {
	b.mu.Lock()
	b.writes--
	b.grant()
	b.mu.Unlock()
}

// Throttle reports whether a write through the Graph API should be refused now, and
// when the caller may try again; when it is not, the caller calls done once the
// write is over. A write past the window waits for a place, up to
// Config.PushBackHold. It always lets the write through when Config.PushBack is not
// positive.
func (p *Pipeline) Throttle(ctx context.Context) (done func(), retryAfter time.Duration, throttled bool) {
	b := &p.push
	if p.cfg.PushBack <= 0 {
		return func() {}, 0, false
	}
	b.mu.Lock()
	if b.room() {
		b.admit()
		b.mu.Unlock()
		return b.done, 0, false
	}
	// Retry-After is in whole seconds: about the time the backlog needs, at least
	// one second.
	retryAfter = max(time.Duration(math.Ceil(time.Duration(b.lag.Load()).Seconds()))*time.Second, time.Second)
	if p.cfg.PushBackHold <= 0 {
		b.mu.Unlock()
		return nil, retryAfter, true
	}
	place := make(chan struct{})
	b.queue = append(b.queue, place)
	b.mu.Unlock()
	timer := time.NewTimer(p.cfg.PushBackHold)
	defer timer.Stop()
	select {
	case <-place:
		return b.done, 0, false
	case <-timer.C:
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if i := slices.Index(b.queue, place); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
		return nil, retryAfter, true
	}
	// Let in as the wait ended.
	return b.done, 0, false
}

// lateness is how late the due row d of ep is, as push-back counts it: zero for an
// endpoint that is slow itself.
func (p *Pipeline) lateness(ep *endpoint, d time.Time, now time.Time) time.Duration {
	if p.cfg.PushBack <= 0 || ep.health.State(now) != Healthy || time.Duration(ep.lastPost.Load()) > p.cfg.PushBack/2 {
		return 0
	}
	return now.Sub(d)
}
