package teams

import (
	"context"
	"errors"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// DeleteTeamOf deletes the team of a group being deleted, with its channels, in the
// deleting transaction: Graph has no call that deletes a team, which goes with its
// group. The team's "deleted" change removes the subscriptions on the team, its
// channels, members and messages (subscriptionRemoved). A group without a team is
// left alone. The directory workload runs it as its group hook.
func DeleteTeamOf(ctx context.Context, tx store.Tx, tenant, group string, now time.Time) error {
	o, err := tx.GetObject(ctx, tenant, KindTeam, group)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	team, err := rest.Decode(o.Data)
	if err != nil {
		return err
	}
	channels, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: KindChannel, Owner: o.ID})
	if err != nil {
		return err
	}
	for _, ch := range channels {
		if err := tx.DeleteObject(ctx, tenant, KindChannel, ch.ID); err != nil {
			return err
		}
	}
	if err := tx.DeleteObject(ctx, tenant, KindTeam, o.ID); err != nil {
		return err
	}
	return teamChange(tenant, o.ID, store.Deleted, team, nil).record(ctx, tx, now)
}
