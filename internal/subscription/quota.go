package subscription

import (
	"context"
	"time"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// checkQuotas checks the limits the target's descriptor sets, counting active
// subscriptions only: expired ones no longer count even before the sweeper removes
// them.
func (s *Service) checkQuotas(ctx context.Context, tx store.Tx, p *identity.Principal, t Target, now time.Time, op string) error {
	if t.Desc.Quotas == nil {
		return nil
	}
	for _, qt := range t.Desc.Quotas(p, t.Target, s.cfg.Quotas) {
		q := qt.Query
		q.ActiveAt = now
		n, err := tx.CountSubscriptions(ctx, q)
		if err != nil {
			return err
		}
		if n >= qt.Limit {
			return quotaExceeded(op, qt.Message, qt.Limit)
		}
	}
	return nil
}
