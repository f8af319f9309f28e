package subscription

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// Sweeper deletes subscriptions whose expirationDateTime has passed, as Graph does
// (spec §2.3). It is a background service: Start, then Stop on shutdown. Expired
// subscriptions are already invisible to the API before it runs; the sweeper frees
// their rows and, through Config.OnDelete, their queued notifications.
//
// Several nodes may sweep at once: a subscription another node deleted first is
// skipped.
type Sweeper struct {
	s      *Service
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Sweeper returns the expiry sweeper of the service.
func (s *Service) Sweeper() *Sweeper { return &Sweeper{s: s} }

// Start runs the sweeper until Stop or until ctx ends.
func (w *Sweeper) Start(ctx context.Context) error {
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go w.run(ctx)
	return nil
}

// Stop ends the sweeper and waits for a running sweep to finish.
func (w *Sweeper) Stop() {
	w.once.Do(func() {
		if w.cancel != nil {
			w.cancel()
			<-w.done
		}
	})
}

func (w *Sweeper) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.s.cfg.SweepInterval)
	defer t.Stop()
	for {
		if _, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.s.cfg.Log.Error("subscription expiry sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

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
