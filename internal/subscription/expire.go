package subscription

import (
	"context"
	"errors"
	"net/http"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
)

// ExpireNow ends a subscription now, on the admin API's request, as the expiry
// sweeper ends one whose expirationDateTime passed: it is deleted, and
// Config.OnDelete drops its queued notifications. Graph sends no lifecycle
// notification for an expiry. A graph error 404 if it does not exist.
func (s *Service) ExpireNow(ctx context.Context, id string) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		sub, err := tx.GetSubscription(ctx, id)
		if err == nil {
			err = s.remove(ctx, tx, sub)
		}
		if errors.Is(err, store.ErrNotFound) {
			return graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, "Subscription '%s' does not exist.", id)
		}
		if err == nil {
			s.cfg.Log.Info("subscription expired on request", "subscription", id)
		}
		return err
	})
}
