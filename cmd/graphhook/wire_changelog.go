package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/delta"
)

// The change log's retention: changes older than 7 days are pruned (delta tokens
// older than that get syncStateNotFound, as Graph's do), on the leader only.
func init() {
	wirings = append(wirings, wiring{name: "changelog", wire: func(ctx context.Context, m *Main) error {
		r := delta.NewRetention(m.Store, delta.RetentionConfig{Clock: m.Clock, Log: m.Log.With("part", "changelog")})
		m.AddService(m.leaderOnly(func() Service { return r }))
		return nil
	}})
}
