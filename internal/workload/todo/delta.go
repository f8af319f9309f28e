package todo

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Delta page sizes: Prefer: odata.maxpagesize (or $top) up to maxDeltaPage.
const (
	defaultDeltaPage = 100
	maxDeltaPage     = 1000
)

// deltaRound is one delta collection: the topic its changes are recorded on, the
// objects of an initial round, and how removed items are typed.
type deltaRound struct {
	topic     string
	query     store.ObjectQuery
	odataType string
	fragment  string
}

func (w *Workload) listsDelta(c *httpapi.Ctx) error {
	return w.serveDelta(c, func(o *op, ow owner) (deltaRound, error) {
		return deltaRound{
			topic:     change.TodoLists(ow.user),
			query:     store.ObjectQuery{Tenant: ow.tenant, Kind: KindList, Owner: ow.user},
			odataType: listType.odataType,
			fragment:  "Collection(todoTaskList)",
		}, nil
	})
}

func (w *Workload) tasksDelta(c *httpapi.Ctx) error {
	return w.serveDelta(c, func(o *op, ow owner) (deltaRound, error) {
		list, _, err := o.loadList(ow, c.Param("list"))
		return deltaRound{
			topic:     change.TodoTasks(ow.user, list.ID),
			query:     store.ObjectQuery{Tenant: ow.tenant, Kind: KindTask, Owner: ow.user, Parent: list.ID},
			odataType: taskType.odataType,
			fragment:  "Collection(todoTask)",
		}, err
	})
}

// serveDelta runs one request of a delta round on the collection round describes.
// A round without a token lists every current item (paged by id) and ends with a
// deltaLink at the log position the round began; later rounds return each item
// changed since, once, in its latest state or as @removed. The first request's
// $select is kept in the tokens.
func (w *Workload) serveDelta(c *httpapi.Ctx, round func(o *op, ow owner) (deltaRound, error)) error {
	limit := pageSize(c)
	if _, err := rest.Fields(c); err != nil {
		return err
	}
	var out map[string]any
	err := w.run(c, false, func(o *op) error {
		ow, err := o.owner(c.Param("user"), readRule)
		if err != nil {
			return err
		}
		d, err := round(o, ow)
		if err != nil {
			return err
		}
		tok, err := startToken(c, o, d.topic)
		if err != nil {
			return err
		}
		fields := selected(tok.Options)
		value := []map[string]any{}
		var next *delta.Token
		if tok.Initial {
			q := d.query
			q.AfterID, q.Limit = tok.After, limit+1
			objs, err := o.tx.ListObjects(o.ctx, q)
			if err != nil {
				return err
			}
			more := len(objs) > limit
			if more {
				objs = objs[:limit]
			}
			docs, err := decodeAll(objs)
			if err != nil {
				return err
			}
			for _, doc := range docs {
				value = append(value, rest.Select(doc, fields))
			}
			if more {
				next = &delta.Token{Seq: tok.Seq, Topic: d.topic, Initial: true, After: objs[len(objs)-1].ID, Options: tok.Options}
			}
			tok = delta.Token{Seq: tok.Seq, Topic: d.topic, Options: tok.Options}
		} else {
			entries, seq, more, err := delta.Page(o.ctx, o.tx, ow.tenant, d.topic, tok.Seq, limit)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if e.Removed {
					value = append(value, map[string]any{"@odata.type": d.odataType, "id": e.ID, "@removed": map[string]any{"reason": "deleted"}})
					continue
				}
				var doc map[string]any
				if err := json.Unmarshal(e.After, &doc); err != nil {
					return err
				}
				value = append(value, rest.Select(doc, fields))
			}
			tok = delta.Token{Seq: seq, Topic: d.topic, Options: tok.Options}
			if more {
				next = &tok
			}
		}
		// The links carry the round's state in the token; the first request's options
		// are dropped from them so that they cannot disagree with it.
		link := map[string]string{"$select": "", "$top": "", "$skiptoken": "", "$deltatoken": ""}
		out = map[string]any{"@odata.context": c.ContextURL(d.fragment), "value": value}
		if next != nil {
			link["$skiptoken"] = delta.Encode(*next)
			out["@odata.nextLink"] = c.LinkWith(link)
		} else {
			link["$deltatoken"] = delta.Encode(tok)
			out["@odata.deltaLink"] = c.LinkWith(link)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// startToken reads $deltatoken or $skiptoken, or starts a round at the log's end
// with the request's $select. A token of another collection, or a malformed one,
// is syncStateNotFound.
func startToken(c *httpapi.Ctx, o *op, topic string) (delta.Token, error) {
	s := c.Query("$deltatoken")
	if s == "" {
		s = c.Query("$skiptoken")
	}
	if s != "" {
		tok, err := delta.Decode(s, topic)
		if err != nil {
			return delta.Token{}, delta.SyncStateNotFound()
		}
		return tok, nil
	}
	seq, err := delta.Latest(o.ctx, o.tx)
	if err != nil {
		return delta.Token{}, err
	}
	tok := delta.Token{Seq: seq, Topic: topic, Initial: true}
	if sel := c.Query("$select"); sel != "" {
		tok.Options = map[string]string{"select": sel}
	}
	return tok, nil
}

// selected returns the $select fields kept in a round's options (nil: all).
func selected(opts map[string]string) []string {
	if opts["select"] == "" {
		return nil
	}
	var fields []string
	for f := range strings.SplitSeq(opts["select"], ",") {
		fields = append(fields, strings.TrimSpace(f))
	}
	return fields
}

// pageSize reads Prefer: odata.maxpagesize, then $top.
func pageSize(c *httpapi.Ctx) int {
	for pref := range strings.SplitSeq(c.R.Header.Get("Prefer"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pref), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
			if n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`)); err == nil && n > 0 {
				c.W.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(min(n, maxDeltaPage)))
				return min(n, maxDeltaPage)
			}
		}
	}
	if n, err := strconv.Atoi(c.Query("$top")); err == nil && n > 0 {
		return min(n, maxDeltaPage)
	}
	return defaultDeltaPage
}
