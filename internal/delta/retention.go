package delta

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/store"
)

// RetentionConfig configures the change log's retention.
type RetentionConfig struct {
	// MaxAge is how long changes are kept (default 7 days, the life of a directory
	// delta token in Graph). A delta token older than the oldest kept change is
	// answered with syncStateNotFound, and the app starts a new round.
	MaxAge time.Duration
	// Every is how often old changes are pruned (default 1 hour).
	Every time.Duration
	// Clock tells the time (default the system clock).
	Clock clock.Clock
	// Log receives failures (default slog.Default()).
	Log *slog.Logger
}

// Retention prunes the change log, so that it does not grow without end. It is a
// background service: Start, then Stop on shutdown; several nodes should run it on
// the lease holder only (pruning twice is harmless, only wasted).
type Retention struct {
	st     store.Store
	cfg    RetentionConfig
	cancel context.CancelFunc
	done   chan struct{}
}

// NewRetention returns the change log's retention service.
func NewRetention(st store.Store, cfg RetentionConfig) *Retention {
	cfg.MaxAge = cmp.Or(cfg.MaxAge, 7*24*time.Hour)
	cfg.Every = cmp.Or(cfg.Every, time.Hour)
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Retention{st: st, cfg: cfg}
}

// Prune deletes the changes older than MaxAge and returns how many went.
func (r *Retention) Prune(ctx context.Context) (int, error) {
	var n int
	err := r.st.Update(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.PruneChanges(ctx, r.cfg.Clock.Now().Add(-r.cfg.MaxAge))
		return err
	})
	return n, err
}

// Start prunes now and then every Every, until Stop or until ctx ends.
func (r *Retention) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.cfg.Every)
		defer t.Stop()
		for {
			if _, err := r.Prune(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Log.Error("change log retention failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the service and waits for a running prune to finish. The service can be
// started again afterwards (a node that regains the lease does).
func (r *Retention) Stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.cancel = nil
}
