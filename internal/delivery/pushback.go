package delivery

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// pushBack decides whether the Graph API should refuse writes for a while because
// delivery has fallen behind: when changes arrive faster than they can be
// delivered, the backlog (and every notification's latency) would otherwise grow
// without bound. Graph answers such callers 429 with Retry-After; so does
// graphhook, once the oldest notification waiting for a healthy endpoint is more
// than Config.PushBack late.
//
// The dispatcher's pass, which reads the due URLs anyway, measures that lateness
// and leaves it here; a pass runs at every commit and at least every
// PollInterval, so the figure is never older than that, and a write request pays
// one atomic load for it.
//
// An endpoint that is itself slow (its last POST took longer than half the
// threshold, or its health is not normal) is left out: its backlog is its own,
// and Graph slows or drops such an endpoint instead of throttling the writers.
type pushBack struct {
	lag atomic.Int64 // the last pass's lateness, in nanoseconds
}

// Throttle reports whether a write through the Graph API should be refused now, and
// when the caller may try again. It is always false when Config.PushBack is not
// positive.
func (p *Pipeline) Throttle(context.Context) (retryAfter time.Duration, throttled bool) {
	limit := p.cfg.PushBack
	lag := time.Duration(p.push.lag.Load())
	if limit <= 0 || lag <= limit {
		return 0, false
	}
	// Retry-After is in whole seconds: about the time the backlog needs, at least
	// one second.
	return time.Duration(math.Ceil(lag.Seconds())) * time.Second, true
}

// lateness is how late the due row d of ep is, as push-back counts it: zero for an
// endpoint that is slow itself.
func (p *Pipeline) lateness(ep *endpoint, d time.Time, now time.Time) time.Duration {
	if p.cfg.PushBack <= 0 || ep.health.State(now) != Healthy || time.Duration(ep.lastPost.Load()) > p.cfg.PushBack/2 {
		return 0
	}
	return now.Sub(d)
}
