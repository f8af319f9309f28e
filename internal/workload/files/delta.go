package files

import (
	"cmp"
	"context"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// delta serves root/delta. A round without a token lists every item of the drive
// (paged by id) and ends with a deltaLink at the log position the round began, so
// nothing that changes while a client pages is lost; later rounds replay the drive
// root topic's change records after that position, each item once, in its current
// state or with the deleted facet. token=latest answers with only a deltaLink.
func (w *Workload) delta(c *httpapi.Ctx) error {
	d, err := w.open(c, false)
	if err != nil {
		return err
	}
	top, err := rest.TopAs(c, defaultPage, maxPage, graph.SharePointInvalidRequest)
	if err != nil {
		return err
	}
	text := cmp.Or(c.Param("token"), c.Query("token"), c.Query("$deltatoken"), c.Query("$skiptoken"))
	topic := change.DriveRoot(d.ID)
	var value []map[string]any
	var next delta.Link
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		r := newRenderer(ctx, tx, d)
		var err error
		value, next, err = delta.Round{
			Tenant: d.Tenant, Topic: topic, Top: top,
			Objects: store.ObjectQuery{Tenant: d.Tenant, Kind: KindDriveItem, Owner: d.ID},
			Render:  r.render,
			Prepare: r.prefetch,
			Changed: func(e delta.Entry) (map[string]any, error) { return deltaEntry(ctx, tx, r, d, e) },
		}.Run(ctx, tx, text)
		return err
	})
	if err != nil {
		return err
	}
	u := c.LinkWith(map[string]string{"token": delta.Encode(next.Token), "$deltatoken": "", "$skiptoken": ""})
	if c.Param("token") != "" {
		// The token came in the path, delta(token='…'); links use the query form.
		u = c.ServiceRoot() + "/drives/" + d.ID + "/root/delta?token=" + delta.Encode(next.Token)
	}
	return rest.DeltaPage(c, "Collection(driveItem)", value, next.Key, u)
}

// deltaEntry is an item's current state, or, once it is gone, the deleted facet.
func deltaEntry(ctx context.Context, tx store.Tx, r *renderer, d drive, e delta.Entry) (map[string]any, error) {
	if !e.Removed {
		o, err := tx.GetObject(ctx, d.Tenant, KindDriveItem, e.ID)
		if err == nil {
			return r.render(o)
		}
		if !isNotFound(err) {
			return nil, err
		}
	}
	return map[string]any{
		"id":              e.ID,
		"deleted":         map[string]any{"state": "deleted"},
		"parentReference": map[string]any{"driveId": d.ID, "driveType": d.Type},
	}, nil
}
