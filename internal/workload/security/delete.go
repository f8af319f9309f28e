package security

import (
	"context"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// adminDelete removes an alert for good, as the security provider that raised it
// may: Graph offers apps no call for it, but subscriptions may ask for "deleted"
// on alerts and must be able to hear of one.
func (w *Workload) adminDelete(c *httpapi.Ctx) error {
	t, err := admin.Tenant(w.ident, c.Param("tenant"))
	if err != nil {
		return err
	}
	id := c.Param("id")
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, _, err := rest.Load(ctx, tx, t.ID, Kind, id, notFound(id))
		if err != nil {
			return err
		}
		if err := tx.DeleteObject(ctx, t.ID, Kind, o.ID); err != nil {
			return err
		}
		res := "security/alerts/" + o.ID
		return change.Record(ctx, tx, t.ID, Kind, o.ID, store.Deleted, []string{change.Alerts(), change.Alert(o.ID)}, o.Data, nil,
			change.Notice{Resource: res, ODataType: "#Microsoft.Graph.alert", ODataID: res, ID: o.ID}, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
