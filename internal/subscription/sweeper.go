package subscription

import (
	"context"
	"errors"

	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// Sweeper deletes subscriptions whose expirationDateTime has passed, as Graph does.
// It is a background service: Start, then Stop on shutdown; it can be started
// again after Stop. Expired subscriptions are already invisible to the API before
// it runs; the sweeper frees their rows and, through Config.OnDelete, their queued
// notifications.
//
// Several nodes may sweep at once: a subscription another node deleted first is
// skipped.
type Sweeper struct {
	s    *Service
	loop *service.Loop
}

// Sweeper returns an expiry sweeper of the service, which sweeps every
// Config.SweepInterval and reports each sweep to Config.OnSweep.
func (s *Service) Sweeper() *Sweeper {
	w := &Sweeper{s: s}
	w.loop = &service.Loop{Name: "subscription expiry sweep", Every: s.cfg.SweepInterval, Log: s.cfg.Log, OnPass: s.cfg.OnSweep,
		Pass: func(ctx context.Context) (service.Result, error) {
			n, err := w.Sweep(ctx)
			return service.Result{N: n}, err
		}}
	return w
}

// Start sweeps now and then every Config.SweepInterval, until Stop or until ctx
// ends.
func (w *Sweeper) Start(ctx context.Context) error { return w.loop.Start(ctx) }

// Stop ends the sweeper and waits for a running sweep to finish.
func (w *Sweeper) Stop() { w.loop.Stop() }

// Sweep deletes every subscription expired at the clock's now, in batches of
// Config.SweepBatch, and returns how many it deleted.
func (w *Sweeper) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		now := w.s.cfg.Clock.Now()
		n := 0
		err := w.s.st.Update(ctx, func(tx store.Tx) error {
			n = 0
			subs, err := tx.ExpiredSubscriptions(ctx, now, w.s.cfg.SweepBatch)
			if err != nil {
				return err
			}
			for _, sub := range subs {
				err := w.s.remove(ctx, tx, sub)
				if errors.Is(err, store.ErrNotFound) {
					continue // another node swept it first
				}
				if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n > 0 {
			w.s.cfg.Log.Info("expired subscriptions deleted", "count", n)
		}
		if n < w.s.cfg.SweepBatch {
			return total, nil
		}
	}
}
