package files

import (
	"context"
	"net/http"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
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
	top, err := pageSize(c)
	if err != nil {
		return err
	}
	text := firstNonEmpty(c.Param("token"), c.Query("token"), c.Query("$deltatoken"), c.Query("$skiptoken"))
	topic := change.DriveRoot(d.ID)
	out := map[string]any{"@odata.context": c.ContextURL("Collection(driveItem)")}
	value := []map[string]any{}
	link := func(t delta.Token, key string) {
		u := c.LinkWith(map[string]string{"token": delta.Encode(t), "$deltatoken": "", "$skiptoken": ""})
		if c.Param("token") != "" {
			// The token came in the path, delta(token='…'); links use the query form.
			u = c.ServiceRoot() + "/drives/" + d.ID + "/root/delta?token=" + delta.Encode(t)
		}
		out[key] = u
	}
	err = w.st.View(c.R.Context(), func(tx store.Tx) error {
		ctx := c.R.Context()
		var tok delta.Token
		switch text {
		case "", "latest":
			seq, err := delta.Latest(ctx, tx)
			if err != nil {
				return err
			}
			if text == "latest" {
				link(delta.Token{Seq: seq, Topic: topic}, "@odata.deltaLink")
				return nil
			}
			tok = delta.Token{Seq: seq, Topic: topic, Initial: true}
		default:
			var err error
			if tok, err = delta.Decode(text, topic); err != nil {
				return delta.SyncStateNotFound()
			}
		}
		r := newRenderer(ctx, tx, d)
		if tok.Initial {
			objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: d.Tenant, Kind: KindDriveItem, Owner: d.ID, AfterID: tok.After, Limit: top + 1})
			if err != nil {
				return err
			}
			more := len(objs) > top
			if more {
				objs = objs[:top]
			}
			for _, o := range objs {
				doc, err := r.render(o)
				if err != nil {
					return err
				}
				value = append(value, doc)
			}
			if more {
				link(delta.Token{Seq: tok.Seq, Topic: topic, Initial: true, After: objs[len(objs)-1].ID}, "@odata.nextLink")
			} else {
				link(delta.Token{Seq: tok.Seq, Topic: topic}, "@odata.deltaLink")
			}
			return nil
		}
		entries, next, more, err := delta.Page(ctx, tx, d.Tenant, topic, tok.Seq, top)
		if err != nil {
			return err
		}
		for _, e := range entries {
			doc, err := deltaEntry(ctx, tx, r, d, e)
			if err != nil {
				return err
			}
			value = append(value, doc)
		}
		key := "@odata.deltaLink"
		if more {
			key = "@odata.nextLink"
		}
		link(delta.Token{Seq: next, Topic: topic}, key)
		return nil
	})
	if err != nil {
		return err
	}
	out["value"] = value
	return c.JSON(http.StatusOK, out)
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
