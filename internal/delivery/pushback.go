package delivery

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// pushBack decides whether the Graph API should refuse writes for a while because
// delivery has fallen behind: when changes arrive faster than they can be
// delivered, the backlog (and every notification's latency) would otherwise grow
// without bound. Graph answers such callers 429 with Retry-After; so does
// graphhook, once the oldest notification waiting for a healthy endpoint is more
// than Config.PushBack late.
//
// An endpoint that is itself slow (its last POST took longer than half the
// threshold, or its health is not normal) is left out: its backlog is its own,
// and Graph slows or drops such an endpoint instead of throttling the writers.
type pushBack struct {
	mu      sync.Mutex
	checked time.Time // wall time of the last look at the queue
	lag     time.Duration
}

// pushBackEvery is how long one look at the queue stands for every write request
// (the check is a query of the due URLs).
const pushBackEvery = 50 * time.Millisecond

// Throttle reports whether a write through the Graph API should be refused now, and
// when the caller may try again. It is always false when Config.PushBack is not
// positive.
func (p *Pipeline) Throttle(ctx context.Context) (retryAfter time.Duration, throttled bool) {
	limit := p.cfg.PushBack
	if limit <= 0 {
		return 0, false
	}
	pb := &p.push
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if now := time.Now(); now.Sub(pb.checked) >= pushBackEvery {
		lag, err := p.lag(ctx, limit)
		if err != nil {
			// The queue cannot be read: the write will most likely fail on its own;
			// throttling on no evidence would hide why.
			return 0, false
		}
		pb.lag, pb.checked = lag, now
	}
	if pb.lag <= limit {
		return 0, false
	}
	// Retry-After is in whole seconds: the time the backlog needs at the rate it
	// built up, at least one second.
	return time.Duration(math.Ceil(pb.lag.Seconds())) * time.Second, true
}

// lag is how late the oldest due notification of a healthy endpoint is.
func (p *Pipeline) lag(ctx context.Context, limit time.Duration) (time.Duration, error) {
	var due []store.DueURL
	err := p.st.View(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.DueURLs(ctx, 0)
		return err
	})
	if err != nil {
		return 0, err
	}
	now := p.clock.Now()
	var worst time.Duration
	for _, d := range due {
		late := now.Sub(d.Next)
		if late <= worst {
			continue
		}
		ep := p.endpoint(d.URL)
		if ep.health.State(now) != Healthy || time.Duration(ep.lastPost.Load()) > limit/2 {
			continue
		}
		worst = late
	}
	return worst, nil
}
