package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/subscription"
)

// The subscriptions API and its expiry sweeper. Deleting a subscription (through
// the API or the sweeper) discards its queued notifications in the same
// transaction, through the delivery pipeline's DiscardQueued.
func init() {
	wirings = append(wirings, wiring{name: "subscription", wire: func(ctx context.Context, m *Main) error {
		svc, err := subscription.New(m.Store, subscription.Config{
			Profile:   m.Config.Profile,
			Clock:     m.Clock,
			Log:       m.Log.With("part", "subscription"),
			OnDelete:  discardQueued(m),
			Resources: resources(),
		})
		if err != nil {
			return err
		}
		svc.Routes(m.HTTP.Graph())
		m.AddService(m.leaderOnly(func() Service { return svc.Sweeper() }))
		return nil
	}})
}

// discardQueued looks m's pipeline up when a subscription is deleted, not when the
// API is wired, so the order of the wirings does not matter.
func discardQueued(m *Main) subscription.DeleteHook {
	return func(ctx context.Context, tx store.Tx, sub store.Subscription) error {
		p, ok := pipelines.Load(m)
		if !ok {
			return nil
		}
		return p.(*delivery.Pipeline).DiscardQueued(ctx, tx, sub)
	}
}
