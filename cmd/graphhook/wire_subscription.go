package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/subscription"
)

// The subscriptions API and its expiry sweeper. The delivery pipeline can drop a
// deleted subscription's queued notifications in the same transaction by setting
// subscription.Config.OnDelete here.
func init() {
	wirings = append(wirings, wiring{name: "subscription", wire: func(ctx context.Context, m *Main) error {
		svc, err := subscription.New(m.Store, subscription.Config{
			Profile: m.Config.Profile,
			Clock:   m.Clock,
			Log:     m.Log.With("part", "subscription"),
		})
		if err != nil {
			return err
		}
		svc.Routes(m.HTTP.Graph())
		m.AddService(m.leaderOnly(func() Service { return svc.Sweeper() }))
		return nil
	}})
}
