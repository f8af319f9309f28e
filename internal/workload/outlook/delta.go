package outlook

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Delta page sizes: Prefer: odata.maxpagesize is honoured up to maxDeltaPage.
const (
	defaultDeltaPage = 100
	maxDeltaPage     = 1000
)

// deltaRound describes one delta collection to the shared delta handler.
type deltaRound struct {
	topic     string
	odataType string // @odata.type of @removed entries, e.g. #microsoft.graph.message
	fragment  string // @odata.context fragment, e.g. Collection(message)
	// query lists the items of the initial round (a store query; paged by id).
	query store.ObjectQuery
	// keep says whether an item in this state belongs to the collection (calendarView's
	// window); an item that no longer does is reported as removed. nil keeps all.
	keep func(doc map[string]any, opts map[string]string) bool
	// render shapes one item for the response.
	render func(doc map[string]any, opts map[string]string) map[string]any
}

// pageSize reads Prefer: odata.maxpagesize.
func pageSize(c *httpapi.Ctx) (int, bool) {
	for _, pref := range strings.Split(c.R.Header.Get("Prefer"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pref), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
			if n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`)); err == nil && n > 0 {
				return min(n, maxDeltaPage), true
			}
		}
	}
	return defaultDeltaPage, false
}

// deltaToken reads $deltatoken or $skiptoken; ok is false on the first request of a
// round. A token of another collection, or a malformed one, is syncStateNotFound.
func deltaToken(c *httpapi.Ctx, topic string) (tok delta.Token, ok bool, err error) {
	s := c.Query("$deltatoken")
	if s == "" {
		s = c.Query("$skiptoken")
	}
	if s == "" {
		return delta.Token{}, false, nil
	}
	tok, err = delta.Decode(s, topic)
	if err != nil {
		return delta.Token{}, false, delta.SyncStateNotFound()
	}
	return tok, true, nil
}

// serveDelta runs one request of a delta round. opts are the query options of a first
// request (kept in the tokens for the following ones).
func (w *Workload) serveDelta(c *httpapi.Ctx, o *op, d deltaRound, opts map[string]string) (map[string]any, error) {
	limit, applied := pageSize(c)
	if applied {
		c.W.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(limit))
	}
	tok, ok, err := deltaToken(c, d.topic)
	if err != nil {
		return nil, err
	}
	if !ok {
		seq, err := delta.Latest(o.ctx, o.tx)
		if err != nil {
			return nil, err
		}
		tok = delta.Token{Seq: seq, Topic: d.topic, Initial: true, Options: opts}
	}
	value := []map[string]any{}
	var next *delta.Token
	if tok.Initial {
		q := d.query
		q.AfterID, q.Limit = tok.After, limit+1
		objs, err := o.tx.ListObjects(o.ctx, q)
		if err != nil {
			return nil, err
		}
		more := len(objs) > limit
		if more {
			objs = objs[:limit]
		}
		for _, obj := range objs {
			doc, err := rest.Decode(obj.Data)
			if err != nil {
				return nil, err
			}
			if d.keep == nil || d.keep(doc, tok.Options) {
				value = append(value, d.render(doc, tok.Options))
			}
		}
		if more {
			next = &delta.Token{Seq: tok.Seq, Topic: d.topic, Initial: true, After: objs[len(objs)-1].ID, Options: tok.Options}
		} else {
			tok = delta.Token{Seq: tok.Seq, Topic: d.topic, Options: tok.Options}
		}
	} else {
		entries, seq, more, err := delta.Page(o.ctx, o.tx, o.p.TenantID, d.topic, tok.Seq, limit)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			var doc map[string]any
			if !e.Removed {
				if err := json.Unmarshal(e.After, &doc); err != nil {
					return nil, err
				}
			}
			if doc == nil || (d.keep != nil && !d.keep(doc, tok.Options)) {
				value = append(value, map[string]any{"@odata.type": d.odataType, "id": e.ID, "@removed": map[string]any{"reason": "deleted"}})
				continue
			}
			value = append(value, d.render(doc, tok.Options))
		}
		tok = delta.Token{Seq: seq, Topic: d.topic, Options: tok.Options}
		if more {
			next = &tok
		}
	}
	// The links carry the whole round's state in the token; the first request's
	// options are dropped from them so that they cannot disagree with it.
	link := map[string]string{"$select": "", "startDateTime": "", "endDateTime": "", "$skiptoken": "", "$deltatoken": ""}
	out := map[string]any{"@odata.context": c.ContextURL(d.fragment), "value": value}
	if next != nil {
		link["$skiptoken"] = delta.Encode(*next)
		out["@odata.nextLink"] = c.LinkWith(link)
	} else {
		link["$deltatoken"] = delta.Encode(tok)
		out["@odata.deltaLink"] = c.LinkWith(link)
	}
	return out, nil
}

// deltaSelect validates $select of a first delta request and returns it as an option.
func deltaSelect(c *httpapi.Ctx) (map[string]string, error) {
	if _, err := rest.Fields(c); err != nil {
		return nil, err
	}
	if s := c.Query("$select"); s != "" {
		return map[string]string{"select": s}, nil
	}
	return nil, nil
}

// selected returns the $select fields kept in a round's options.
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

func (w *Workload) messagesDelta(c *httpapi.Ctx) error {
	opts, err := deltaSelect(c)
	if err != nil {
		return err
	}
	return w.serveDeltaOf(c, mailReadBasic, opts, func(o *op, mb mailbox) (deltaRound, error) {
		obj, _, err := o.folder(mb, c.Param("folder"))
		if err != nil {
			return deltaRound{}, err
		}
		if obj.ID == "" {
			return deltaRound{}, graph.Errorf(http.StatusBadRequest, graph.CodeExchangeInvalidRequest, "Delta is not supported on the folder root.")
		}
		view := func(doc map[string]any, opts map[string]string) map[string]any {
			return messageView(c.Principal, selected(opts))(doc)
		}
		return deltaRound{
			topic:     messageTopics(mb, obj.ID)[1],
			odataType: "#microsoft.graph.message",
			fragment:  "Collection(message)",
			query:     store.ObjectQuery{Tenant: mb.tenant, Kind: kindMessage, Owner: mb.user, Parent: obj.ID},
			render:    view,
		}, nil
	})
}
