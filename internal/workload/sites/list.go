package sites

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// storedList is a list object's data: the API document, the column definitions
// (served with $expand=columns and used to validate item fields), and the id the next
// item gets, since SharePoint numbers items per list and never reuses a number.
type storedList struct {
	List    map[string]any `json:"list"`
	Columns []column       `json:"columns"`
	NextID  int            `json:"nextId"`
}

// column is a columnDefinition; exactly one of the type facets is set.
type column struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	ColumnGroup string `json:"columnGroup"`
	Hidden      bool   `json:"hidden"`
	Indexed     bool   `json:"indexed"`
	ReadOnly    bool   `json:"readOnly"`
	Required    bool   `json:"required"`
	Text        *facet `json:"text,omitempty"`
	Number      *facet `json:"number,omitempty"`
	Boolean     *facet `json:"boolean,omitempty"`
	DateTime    *facet `json:"dateTime,omitempty"`
	Choice      *facet `json:"choice,omitempty"`
}

// facet is a column type's settings; a pointer, because an empty facet ({"text": {}})
// still says which type the column has.
type facet map[string]any

// columnTypes are the column facets graphhook understands.
var columnTypes = []string{"text", "number", "boolean", "dateTime", "choice"}

func (c column) kind() string {
	switch {
	case c.Text != nil:
		return "text"
	case c.Number != nil:
		return "number"
	case c.Boolean != nil:
		return "boolean"
	case c.DateTime != nil:
		return "dateTime"
	case c.Choice != nil:
		return "choice"
	}
	return ""
}

// readOnlyFields are the built-in item fields SharePoint maintains itself.
var readOnlyFields = []string{"id", "ID", "Created", "Modified", "ContentType", "_UIVersionString", "Attachments", "Edit", "LinkTitle", "LinkTitleNoMenu", "AuthorLookupId", "EditorLookupId"}

// Limits of list creation.
const (
	maxColumns        = 100
	maxListNameLength = 255
)

var columnName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func listNotFound(ref string) error {
	return graph.Errorf(http.StatusNotFound, codeItemNotFound, "List '%s' does not exist at site.", ref)
}

// resolveList finds a list of the site by id or by display name (Graph accepts both).
func resolveList(ctx context.Context, tx store.Tx, site Site, ref string) (store.Object, storedList, error) {
	var sl storedList
	o, err := tx.GetObject(ctx, site.Tenant, KindList, strings.ToLower(ref))
	if err == nil && (o.Owner != site.ID || o.Deleted) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		o, err = listByName(ctx, tx, site, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return o, sl, listNotFound(ref)
	}
	if err != nil {
		return o, sl, err
	}
	err = json.Unmarshal(o.Data, &sl)
	return o, sl, err
}

// listByName finds the site's live list whose display name is name ignoring case
// (strings.EqualFold; the first by id) with index reads only. Its alt key is the
// lower-cased name, so the lookup of the lower-cased name finds it, except where
// case folding matches letters lower-casing keeps apart: an ASCII alt key is then
// store.Fold of the name (a long s in it), and a key that is not ASCII belongs to
// a name that is not, which store.CondUnplain finds in an index that is normally
// empty. store.ErrNotFound when there is none.
func listByName(ctx context.Context, tx store.Tx, site Site, name string) (store.Object, error) {
	lists := store.ObjectQuery{Tenant: site.Tenant, Kind: KindList, Owner: site.ID}
	byAlt := func(alt string) store.ObjectQuery {
		q := lists
		q.Alt = alt
		return q
	}
	queries := []store.ObjectQuery{byAlt(strings.ToLower(name))}
	if f := store.Fold(name); f != strings.ToLower(name) {
		queries = append(queries, byAlt(f))
	}
	unplain := lists
	unplain.Where = &store.Cond{Op: store.CondUnplain, Prop: store.Prop{Path: "list/displayName"}}
	queries = append(queries, unplain)
	var found *store.Object
	for _, q := range queries {
		objs, err := tx.ListObjects(ctx, q)
		if err != nil {
			return store.Object{}, err
		}
		for _, o := range objs {
			if strings.EqualFold(o.Alt, name) && (found == nil || o.ID < found.ID) {
				found = &o
			}
		}
	}
	if found == nil {
		return store.Object{}, store.ErrNotFound
	}
	return *found, nil
}

// listDoc is the API form of a list; columns are added only when expanded.
func listDoc(o store.Object, sl storedList, expandColumns bool) map[string]any {
	out := clone(sl.List)
	out["eTag"] = etag(sl.List["id"].(string), o.Version)
	out["lastModifiedDateTime"] = graph.FormatTime(o.Updated)
	if expandColumns {
		out["columns"] = sl.Columns
	}
	return out
}

func etag(id string, version int64) string {
	return `"` + id + "," + itoa(version) + `"`
}

func expands(c *httpapi.Ctx, what string) bool {
	for _, e := range strings.Split(c.Query("$expand"), ",") {
		if strings.EqualFold(strings.TrimSpace(e), what) {
			return true
		}
	}
	return false
}

func (w *Workload) listLists(c *httpapi.Ctx) error {
	p := c.Principal
	if err := authorize(p, false); err != nil {
		return err
	}
	if err := w.EnsureRoot(c.R.Context(), p.TenantID, c.Now); err != nil {
		return err
	}
	value := []map[string]any{}
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, err := w.siteRequest(c, tx, c.Param("site"))
		if err != nil {
			return err
		}
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: KindList, Owner: site.ID})
		if err != nil {
			return err
		}
		for _, o := range objs {
			var sl storedList
			if err := json.Unmarshal(o.Data, &sl); err != nil {
				return err
			}
			value = append(value, listDoc(o, sl, expands(c, "columns")))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rest.Collection(c, sitePath(c)+"lists", value, "")
}

func (w *Workload) getList(c *httpapi.Ctx) error {
	p := c.Principal
	if err := authorize(p, false); err != nil {
		return err
	}
	if err := w.EnsureRoot(c.R.Context(), p.TenantID, c.Now); err != nil {
		return err
	}
	return rest.Get(c, w.st, sitePath(c)+"lists/$entity", func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		site, err := w.siteRequest(c, tx, c.Param("site"))
		if err != nil {
			return nil, err
		}
		o, sl, err := resolveList(ctx, tx, site, c.Param("list"))
		if err != nil {
			return nil, err
		}
		return listDoc(o, sl, expands(c, "columns")), nil
	})
}

func (w *Workload) listColumns(c *httpapi.Ctx) error {
	p := c.Principal
	if err := authorize(p, false); err != nil {
		return err
	}
	if err := w.EnsureRoot(c.R.Context(), p.TenantID, c.Now); err != nil {
		return err
	}
	var cols []column
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, err := w.siteRequest(c, tx, c.Param("site"))
		if err != nil {
			return err
		}
		_, sl, err := resolveList(ctx, tx, site, c.Param("list"))
		cols = sl.Columns
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"@odata.context": c.ContextURL(listPath(c) + "columns"), "value": cols})
}

// parseColumns validates the columns of a create-list body.
func parseColumns(raw any) ([]column, error) {
	title := column{ID: "fa564e0f-0c70-4ab9-b863-0177e6ddd247", Name: "Title", DisplayName: "Title", ColumnGroup: "Custom Columns", Text: &facet{"allowMultipleLines": false, "appendChangesToExistingText": false, "linesForEditing": 0, "maxLength": 255}}
	cols := []column{title}
	if raw == nil {
		return cols, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, graph.SharePointInvalidRequest("'columns' must be an array of column definitions.")
	}
	if len(list) > maxColumns {
		return nil, graph.SharePointInvalidRequest("A list can be created with at most %d columns; the request has %d.", maxColumns, len(list))
	}
	for i, r := range list {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, graph.SharePointInvalidRequest("columns[%d] must be an object.", i)
		}
		name, _ := m["name"].(string)
		if !columnName.MatchString(name) {
			return nil, graph.SharePointInvalidRequest("columns[%d].name '%s' is not a valid column name: use 1 to 64 letters, digits or '_', not starting with a digit.", i, name)
		}
		if slices.ContainsFunc(cols, func(c column) bool { return strings.EqualFold(c.Name, name) }) || slices.ContainsFunc(readOnlyFields, func(f string) bool { return strings.EqualFold(f, name) }) {
			return nil, graph.Errorf(http.StatusConflict, codeNameExists, "A duplicate field name \"%s\" was found.", name)
		}
		col := column{ID: uuid.NewString(), Name: name, DisplayName: name, ColumnGroup: "Custom Columns"}
		if d, ok := m["displayName"].(string); ok && d != "" {
			col.DisplayName = d
		}
		col.Description, _ = m["description"].(string)
		col.Required, _ = m["required"].(bool)
		col.Indexed, _ = m["indexed"].(bool)
		col.Hidden, _ = m["hidden"].(bool)
		facets := 0
		for _, t := range columnTypes {
			v, present := m[t]
			if !present {
				continue
			}
			facets++
			m, ok := v.(map[string]any)
			f := facet(m)
			if !ok {
				return nil, graph.SharePointInvalidRequest("columns[%d].%s must be an object.", i, t)
			}
			switch t {
			case "text":
				col.Text = &f
			case "number":
				col.Number = &f
			case "boolean":
				col.Boolean = &f
			case "dateTime":
				col.DateTime = &f
			case "choice":
				if choices, ok := f["choices"]; ok {
					arr, ok := choices.([]any)
					if !ok || slices.ContainsFunc(arr, func(v any) bool { _, s := v.(string); return !s }) {
						return nil, graph.SharePointInvalidRequest("columns[%d].choice.choices must be an array of strings.", i)
					}
				}
				col.Choice = &f
			}
		}
		if facets != 1 {
			return nil, graph.SharePointInvalidRequest("columns[%d] must have exactly one type facet (%s).", i, strings.Join(columnTypes, ", "))
		}
		cols = append(cols, col)
	}
	return cols, nil
}

func (w *Workload) createList(c *httpapi.Ctx) error {
	p := c.Principal
	if err := authorize(p, true); err != nil {
		return err
	}
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	display, _ := body["displayName"].(string)
	display = strings.TrimSpace(display)
	if display == "" || len(display) > maxListNameLength {
		return graph.SharePointInvalidRequest("The list needs a 'displayName' of 1 to %d characters.", maxListNameLength)
	}
	template := "genericList"
	if l, ok := body["list"].(map[string]any); ok {
		if t, ok := l["template"].(string); ok && t != "" {
			template = t
		}
	}
	if template != "genericList" {
		return graph.Errorf(http.StatusBadRequest, graph.CodeNotSupported, "List template '%s' is not supported; graphhook creates genericList lists.", template)
	}
	cols, err := parseColumns(body["columns"])
	if err != nil {
		return err
	}
	desc, _ := body["description"].(string)
	if err := w.EnsureRoot(c.R.Context(), p.TenantID, c.Now); err != nil {
		return err
	}
	by, err := IdentitySet(c.R.Context(), w.ident, w.st, p)
	if err != nil {
		return err
	}
	var out map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		site, err := w.siteRequest(c, tx, c.Param("site"))
		if err != nil {
			return err
		}
		_, err = listByName(ctx, tx, site, display)
		if err == nil {
			return graph.Errorf(http.StatusConflict, codeNameExists, "A list, survey, discussion board, or document library with the specified title already exists in this Web site.  Please choose another title.")
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		id := uuid.NewString()
		urlName := strings.ReplaceAll(display, " ", "")
		ts := graph.FormatTime(c.Now)
		doc := map[string]any{
			"id": id, "name": urlName, "displayName": display, "description": desc,
			"createdDateTime": ts, "webUrl": site.WebURL + "/Lists/" + urlName,
			"createdBy": by, "lastModifiedBy": by,
			"parentReference": map[string]any{"siteId": site.ID},
			"list":            map[string]any{"template": template, "hidden": false, "contentTypesEnabled": false},
		}
		sl := storedList{List: doc, Columns: cols, NextID: 1}
		data, err := json.Marshal(sl)
		if err != nil {
			return err
		}
		o := store.Object{Tenant: p.TenantID, Kind: KindList, ID: id, Owner: site.ID, Alt: strings.ToLower(display), Data: data, Created: c.Now, Updated: c.Now}
		if err := tx.InsertObject(ctx, &o); err != nil {
			return err
		}
		out = listDoc(o, sl, true)
		after, err := docjson.Marshal(out)
		if err != nil {
			return err
		}
		// A new list is not content of any subscribable list yet, so the record
		// touches no topic.
		return change.Record(ctx, tx, p.TenantID, KindList, id, store.Created, nil, nil, after, change.Notice{ODataType: "#Microsoft.Graph.List", ID: id, SiteURL: site.SiteURL(), WebID: site.WebID}, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, sitePath(c)+"lists/$entity", out)
}

// IdentitySet is the createdBy / lastModifiedBy value for the caller: the signed-in
// user, or the calling application. It reads the store, so call it before a write
// transaction, not inside one.
func IdentitySet(ctx context.Context, ident *identity.Service, st store.Store, p *identity.Principal) (map[string]any, error) {
	if p.Type.Delegated() {
		user := map[string]any{"id": p.UserID, "email": p.UPN}
		err := st.View(ctx, func(tx store.Tx) error {
			o, err := tx.GetObject(ctx, p.TenantID, identity.KindUser, strings.ToLower(p.UserID))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			var doc struct {
				DisplayName string `json:"displayName"`
			}
			if err := json.Unmarshal(o.Data, &doc); err != nil {
				return err
			}
			user["displayName"] = doc.DisplayName
			return nil
		})
		return map[string]any{"user": user}, err
	}
	app := map[string]any{"id": p.AppID}
	if a, err := ident.App(ctx, p.AppID); err == nil {
		app["displayName"] = a.DisplayName
	}
	return map[string]any{"application": app}, nil
}

// sitePath is the @odata.context prefix of the request's site: sites('id')/.
func sitePath(c *httpapi.Ctx) string { return "sites('" + c.Param("site") + "')/" }

// listPath is the @odata.context prefix of the request's list: sites('id')/lists('id')/.
func listPath(c *httpapi.Ctx) string {
	return sitePath(c) + "lists('" + c.Param("list") + "')/"
}
