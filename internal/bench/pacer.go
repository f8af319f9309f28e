package bench

import (
	"context"
	"sync/atomic"
	"time"
)

// pacer hands out send times, rate per second from its start (an open loop): each
// client waits for the next free turn. When every client is busy the schedule
// slips and the achieved rate shows it; a ticker instead drops the ticks no client
// was waiting for, and offered less than the rate on a busy machine.
type pacer struct {
	start    time.Time
	interval time.Duration
	n        atomic.Int64
}

func newPacer(rate int) *pacer {
	return &pacer{start: time.Now(), interval: time.Second / time.Duration(rate)}
}

// wait blocks until the next turn and returns its number, or false when ctx ends
// first.
func (p *pacer) wait(ctx context.Context) (int64, bool) {
	n := p.n.Add(1) - 1
	if d := time.Until(p.start.Add(time.Duration(n) * p.interval)); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return n, false
		case <-t.C:
		}
	}
	return n, ctx.Err() == nil
}
