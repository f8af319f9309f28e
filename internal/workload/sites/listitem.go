package sites

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Limits of list items.
const (
	maxTextLength = 255 // a single-line text column's limit in SharePoint
	maxFields     = 200 // fields in one create or update body
	defaultTop    = 200
	maxTop        = 5000 // SharePoint's list view threshold
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func itemNotFound(id string) error {
	return graph.Errorf(http.StatusNotFound, codeItemNotFound, "The list item '%s' could not be found.", id)
}

// itemStoreID is the store id of list item n of a list.
func itemStoreID(list, n string) string { return list + "/" + n }

// uniqueID is the item's GUID, which its eTag carries; derived, so it needs no storage.
func uniqueID(storeID string) string {
	sum := sha256.Sum256([]byte("listItem:" + storeID))
	u, _ := uuid.FromBytes(sum[:16])
	return u.String()
}

// itemDoc renders a stored list item; fields only when asked (Graph's default).
func itemDoc(o store.Object, withFields bool) (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(o.Data, &doc); err != nil {
		return nil, err
	}
	tag := etag(uniqueID(o.ID), o.Version)
	doc["@odata.etag"] = tag
	doc["eTag"] = tag
	doc["lastModifiedDateTime"] = graph.FormatTime(o.Updated)
	if f, ok := doc["fields"].(map[string]any); ok && withFields {
		f["@odata.etag"] = tag
		f["Modified"] = graph.FormatTime(o.Updated)
		f["_UIVersionString"] = itoa(o.Version) + ".0"
	} else {
		delete(doc, "fields")
	}
	return doc, nil
}

// checkFields validates a fields body against the list's columns and returns the
// values to store. Unknown and read-only fields, wrong types and over-long text are
// refused as SharePoint does; null clears a field.
func checkFields(cols []column, in map[string]any, creating bool) (map[string]any, error) {
	if len(in) > maxFields {
		return nil, graph.SharePointInvalidRequest("At most %d fields can be set in one request.", maxFields)
	}
	out := map[string]any{}
	for name, v := range in {
		if strings.Contains(name, "@") {
			continue
		}
		if slices.Contains(readOnlyFields, name) {
			return nil, graph.SharePointInvalidRequest("Field '%s' is read-only.", name)
		}
		i := slices.IndexFunc(cols, func(c column) bool { return c.Name == name })
		if i < 0 {
			return nil, graph.SharePointInvalidRequest("Field '%s' is not recognized", name)
		}
		col := cols[i]
		if v == nil {
			if col.Required {
				return nil, graph.SharePointInvalidRequest("Field '%s' is required.", name)
			}
			out[name] = nil
			continue
		}
		ok := false
		switch col.kind() {
		case "text":
			s, isString := v.(string)
			ok = isString
			if ok && len([]rune(s)) > maxTextLength && (*col.Text)["allowMultipleLines"] != true {
				return nil, graph.SharePointInvalidRequest("Field '%s' is longer than %d characters.", name, maxTextLength)
			}
		case "number":
			n, isNumber := v.(json.Number)
			if isNumber {
				f, err := n.Float64()
				ok = err == nil
				v = f
			}
		case "boolean":
			_, ok = v.(bool)
		case "dateTime":
			if s, isString := v.(string); isString {
				t, err := time.Parse(time.RFC3339, s)
				ok = err == nil
				v = graph.FormatTime(t)
			}
		case "choice":
			s, isString := v.(string)
			ok = isString
			if choices, listed := (*col.Choice)["choices"].([]any); ok && listed && len(choices) > 0 && !slices.Contains(choices, any(s)) && (*col.Choice)["allowTextEntry"] != true {
				return nil, graph.SharePointInvalidRequest("Value '%s' is not one of the choices of field '%s'.", s, name)
			}
		}
		if !ok {
			return nil, graph.SharePointInvalidRequest("Invalid value for field '%s': a %s value is expected.", name, col.kind())
		}
		out[name] = v
	}
	if creating {
		for _, col := range cols {
			if _, set := out[col.Name]; col.Required && !set {
				return nil, graph.SharePointInvalidRequest("Field '%s' is required.", col.Name)
			}
		}
	}
	return out, nil
}

// listRequest resolves the site and list of a request inside tx.
func (w *Workload) listRequest(c *httpapi.Ctx, tx store.Tx) (Site, store.Object, storedList, error) {
	site, err := w.siteRequest(c, tx, c.Param("site"))
	if err != nil {
		return site, store.Object{}, storedList{}, err
	}
	site.Tenant = c.Principal.TenantID
	o, sl, err := resolveList(c.R.Context(), tx, site, c.Param("list"))
	return site, o, sl, err
}

func (w *Workload) prepare(c *httpapi.Ctx, write bool) error {
	if err := authorize(c.Principal, write); err != nil {
		return err
	}
	return w.EnsureRoot(c.R.Context(), c.Principal.TenantID, c.Now)
}

// recordItem appends an item change on the list's topic.
func recordItem(ctx context.Context, tx store.Tx, site Site, list, storeID, changeType string, before, after []byte, at time.Time) error {
	return change.Record(ctx, tx, site.Tenant, KindListItem, storeID, changeType,
		[]string{change.SiteList(site.ID, list)}, before, after,
		change.Notice{RootResource: true, Resource: change.SiteList(site.ID, list), ODataType: "#Microsoft.Graph.ListItem", ID: storeID[strings.LastIndexByte(storeID, '/')+1:], SiteURL: site.SiteURL(), WebID: site.WebID}, at)
}

func (w *Workload) createItem(c *httpapi.Ctx) error {
	p := c.Principal
	if err := w.prepare(c, true); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	fieldsIn, ok := body["fields"].(map[string]any)
	if !ok && body["fields"] != nil {
		return graph.SharePointInvalidRequest("'fields' must be an object.")
	}
	by, err := IdentitySet(c.R.Context(), w.ident, w.st, p)
	if err != nil {
		return err
	}
	var out map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, lo, sl, err := w.listRequest(c, tx)
		if err != nil {
			return err
		}
		fields, err := checkFields(sl.Columns, fieldsIn, true)
		if err != nil {
			return err
		}
		n := strconv.Itoa(sl.NextID)
		sl.NextID++
		if lo.Data, err = json.Marshal(sl); err != nil {
			return err
		}
		lo.Updated = c.Now
		if err := tx.UpdateObject(ctx, &lo); err != nil {
			return err
		}
		ts := graph.FormatTime(c.Now)
		fields["id"] = n
		fields["ContentType"] = "Item"
		fields["Created"] = ts
		fields["Attachments"] = false
		listID := lo.ID
		doc := map[string]any{
			"id": n, "createdDateTime": ts, "createdBy": by, "lastModifiedBy": by,
			"webUrl":          site.WebURL + "/Lists/" + sl.List["name"].(string) + "/DispForm.aspx?ID=" + n,
			"parentReference": map[string]any{"id": listID, "siteId": site.ID},
			"contentType":     map[string]any{"id": "0x0100" + strings.ToUpper(strings.ReplaceAll(listID, "-", "")), "name": "Item"},
			"fields":          fields,
		}
		data, err := docjson.Marshal(doc)
		if err != nil {
			return err
		}
		o := store.Object{Tenant: p.TenantID, Kind: KindListItem, ID: itemStoreID(listID, n), Owner: site.ID, Parent: listID, Data: data, Created: c.Now, Updated: c.Now}
		if err := tx.InsertObject(ctx, &o); err != nil {
			return err
		}
		if out, err = itemDoc(o, true); err != nil {
			return err
		}
		after, err := docjson.Marshal(out)
		if err != nil {
			return err
		}
		return recordItem(ctx, tx, site, listID, o.ID, store.Created, nil, after, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, listPath(c)+"items/$entity", out)
}

// loadItem reads item {item} of the request's list.
func (w *Workload) loadItem(c *httpapi.Ctx, tx store.Tx) (Site, store.Object, storedList, store.Object, error) {
	site, lo, sl, err := w.listRequest(c, tx)
	if err != nil {
		return site, lo, sl, store.Object{}, err
	}
	id := c.Param("item")
	o, err := tx.GetObject(c.R.Context(), site.Tenant, KindListItem, itemStoreID(lo.ID, id))
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.Deleted) {
		return site, lo, sl, o, itemNotFound(id)
	}
	return site, lo, sl, o, err
}

func (w *Workload) getItem(c *httpapi.Ctx) error {
	return w.serveItem(c, expands(c, "fields"), "items/$entity")
}

func (w *Workload) getFields(c *httpapi.Ctx) error {
	if err := w.prepare(c, false); err != nil {
		return err
	}
	return rest.Get(c, w.st, listPath(c)+"items('"+c.Param("item")+"')/fields/$entity", func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		_, _, _, o, err := w.loadItem(c, tx)
		if err != nil {
			return nil, err
		}
		doc, err := itemDoc(o, true)
		fields, _ := doc["fields"].(map[string]any)
		return fields, err
	})
}

func (w *Workload) serveItem(c *httpapi.Ctx, withFields bool, fragment string) error {
	if err := w.prepare(c, false); err != nil {
		return err
	}
	return rest.Get(c, w.st, listPath(c)+fragment, func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		_, _, _, o, err := w.loadItem(c, tx)
		if err != nil {
			return nil, err
		}
		return itemDoc(o, withFields)
	})
}

func (w *Workload) updateFields(c *httpapi.Ctx) error {
	p := c.Principal
	if err := w.prepare(c, true); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	by, err := IdentitySet(c.R.Context(), w.ident, w.st, p)
	if err != nil {
		return err
	}
	var out map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, _, sl, o, err := w.loadItem(c, tx)
		if err != nil {
			return err
		}
		if m := c.R.Header.Get("If-Match"); m != "" && m != "*" && m != etag(uniqueID(o.ID), o.Version) {
			return graph.Errorf(http.StatusPreconditionFailed, "resourceModified", "The resource has changed since the caller last read it; usually an eTag mismatch.")
		}
		set, err := checkFields(sl.Columns, body, false)
		if err != nil {
			return err
		}
		beforeDoc, err := itemDoc(o, true)
		if err != nil {
			return err
		}
		before, err := json.Marshal(beforeDoc)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(o.Data, &doc); err != nil {
			return err
		}
		fields, _ := doc["fields"].(map[string]any)
		for k, v := range set {
			if v == nil {
				delete(fields, k)
			} else {
				fields[k] = v
			}
		}
		doc["lastModifiedBy"] = by
		if o.Data, err = docjson.Marshal(doc); err != nil {
			return err
		}
		o.Updated = c.Now
		if err := tx.UpdateObject(ctx, &o); err != nil {
			return err
		}
		full, err := itemDoc(o, true)
		if err != nil {
			return err
		}
		after, err := json.Marshal(full)
		if err != nil {
			return err
		}
		out = full["fields"].(map[string]any)
		return recordItem(ctx, tx, site, o.Parent, o.ID, store.Updated, before, after, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, listPath(c)+"items('"+c.Param("item")+"')/fields/$entity", out)
}

func (w *Workload) deleteItem(c *httpapi.Ctx) error {
	if err := w.prepare(c, true); err != nil {
		return err
	}
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, _, _, o, err := w.loadItem(c, tx)
		if err != nil {
			return err
		}
		doc, err := itemDoc(o, true)
		if err != nil {
			return err
		}
		before, err := docjson.Marshal(doc)
		if err != nil {
			return err
		}
		if err := tx.DeleteObject(ctx, o.Tenant, o.Kind, o.ID); err != nil {
			return err
		}
		return recordItem(ctx, tx, site, o.Parent, o.ID, store.Deleted, before, nil, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

func (w *Workload) listItems(c *httpapi.Ctx) error {
	if err := w.prepare(c, false); err != nil {
		return err
	}
	top, err := rest.TopAs(c, defaultTop, maxTop, graph.SharePointInvalidRequest)
	if err != nil {
		return err
	}
	var after string
	if _, err := rest.SkipTokenAs(c, &after, graph.SharePointInvalidRequest); err != nil {
		return err
	}
	withFields := expands(c, "fields")
	next := ""
	value := []map[string]any{}
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, lo, _, err := w.listRequest(c, tx)
		if err != nil {
			return err
		}
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: site.Tenant, Kind: KindListItem, Parent: lo.ID, AfterID: after, Limit: top + 1})
		if err != nil {
			return err
		}
		if len(objs) > top {
			objs = objs[:top]
			next = rest.NextToken(c, objs[top-1].ID)
		}
		for _, o := range objs {
			doc, err := itemDoc(o, withFields)
			if err != nil {
				return err
			}
			value = append(value, doc)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rest.Collection(c, listPath(c)+"items", value, next)
}

// itemsDelta serves /sites/{site}/lists/{list}/items/delta: a first round lists every
// item (paged by store id) and ends with a deltaLink at the log position the round
// began; later rounds replay the list's change records after that position, each
// item once in its latest state, deleted items with the deleted facet.
func (w *Workload) itemsDelta(c *httpapi.Ctx) error {
	if err := w.prepare(c, false); err != nil {
		return err
	}
	top, err := rest.TopAs(c, defaultTop, maxTop, graph.SharePointInvalidRequest)
	if err != nil {
		return err
	}
	tokenText := cmp.Or(c.Query("token"), c.Query("$deltatoken"), c.Query("$skiptoken"))
	withFields := expands(c, "fields")
	var value []map[string]any
	var next delta.Link
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, lo, _, err := w.listRequest(c, tx)
		if err != nil {
			return err
		}
		value, next, err = delta.Round{
			Tenant: site.Tenant, Topic: change.SiteList(site.ID, lo.ID), Top: top,
			Objects: store.ObjectQuery{Tenant: site.Tenant, Kind: KindListItem, Parent: lo.ID},
			Render:  func(o store.Object) (map[string]any, error) { return itemDoc(o, withFields) },
			Changed: func(e delta.Entry) (map[string]any, error) { return deltaEntry(ctx, tx, site.Tenant, e, withFields) },
		}.Run(ctx, tx, tokenText)
		return err
	})
	if err != nil {
		return err
	}
	link := c.LinkWith(map[string]string{"token": delta.Encode(next.Token), "$deltatoken": "", "$skiptoken": "", "$top": ""})
	return rest.DeltaPage(c, "Collection(listItem)", value, next.Key, link)
}

// deltaEntry renders one changed item: its current state, or the deleted facet.
func deltaEntry(ctx context.Context, tx store.Tx, tenant string, e delta.Entry, withFields bool) (map[string]any, error) {
	id := e.ID[strings.LastIndexByte(e.ID, '/')+1:]
	if !e.Removed {
		o, err := tx.GetObject(ctx, tenant, KindListItem, e.ID)
		if err == nil {
			return itemDoc(o, withFields)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return map[string]any{"id": id, "deleted": map[string]any{"state": "deleted"}}, nil
}
