package delta

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/service"
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
	// OnPass, when set, is called after each prune the service runs (reported as
	// service "change log retention", N the changes pruned). It is a hook for tests.
	OnPass func(service.Report)
}

// Retention prunes the change log, so that it does not grow without end. It is a
// background service: Start, then Stop on shutdown; several nodes should run it on
// the lease holder only (pruning twice is harmless, only wasted).
type Retention struct {
	st   store.Store
	cfg  RetentionConfig
	loop *service.Loop
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
	r := &Retention{st: st, cfg: cfg}
	r.loop = &service.Loop{Name: "change log retention", Every: cfg.Every, Log: cfg.Log, OnPass: cfg.OnPass,
		Pass: func(ctx context.Context) (service.Result, error) {
			n, err := r.Prune(ctx)
			return service.Result{N: n}, err
		}}
	return r
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
func (r *Retention) Start(ctx context.Context) error { return r.loop.Start(ctx) }

// Stop ends the service and waits for a running prune to finish. The service can be
// started again afterwards (a node that regains the lease does).
func (r *Retention) Stop() { r.loop.Stop() }
