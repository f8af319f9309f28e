package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/sortid"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

// storedItem is a driveItem object's data: the item's own properties. Computed ones
// (path, childCount, folder size, webUrl, eTag) are derived when rendering.
type storedItem struct {
	Name        string         `json:"name"`
	Folder      bool           `json:"folder,omitempty"`
	Size        int64          `json:"size,omitempty"`
	MimeType    string         `json:"mimeType,omitempty"`
	QuickXor    string         `json:"quickXorHash,omitempty"`
	SHA256      string         `json:"sha256Hash,omitempty"`
	Blob        string         `json:"blob,omitempty"`
	Description string         `json:"description,omitempty"`
	Created     time.Time      `json:"created"`
	Modified    time.Time      `json:"modified"`
	CreatedBy   map[string]any `json:"createdBy"`
	ModifiedBy  map[string]any `json:"modifiedBy"`
}

// Limits on names, as OneDrive for Business applies them.
const (
	maxNameLength = 255
	maxPathLength = 400
	maxDepth      = 64 // guards the ancestor walk against a corrupt parent cycle
)

func itemNotFound() error {
	return graph.Errorf(http.StatusNotFound, graph.CodeItemNotFound, "The resource could not be found.")
}

func nameExists() error {
	return graph.Errorf(http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
}

var reservedName = regexp.MustCompile(`(?i)^(\.lock|con|prn|aux|nul|com[0-9]|lpt[0-9]|desktop\.ini|_vti_)$`)

// checkName refuses names OneDrive refuses.
func checkName(name string) error {
	switch {
	case name == "" || strings.TrimSpace(name) == "":
		return graph.SharePointInvalidRequest("The item name must not be empty.")
	case len([]rune(name)) > maxNameLength:
		return graph.SharePointInvalidRequest("The item name is longer than %d characters.", maxNameLength)
	case strings.ContainsAny(name, `"*:<>?/\|`) || strings.ContainsFunc(name, func(r rune) bool { return r < 32 }):
		return graph.SharePointInvalidRequest("The provided name cannot contain any illegal characters: \" * : < > ? / \\ |")
	case name != strings.TrimSpace(name) || strings.HasSuffix(name, "."):
		return graph.SharePointInvalidRequest("The provided name cannot begin or end with a space or end with a period.")
	case reservedName.MatchString(name) || strings.Contains(name, "_vti_"):
		return graph.SharePointInvalidRequest("The provided name '%s' is reserved.", name)
	}
	return nil
}

// newItemID makes a OneDrive-style item id: "01" and 32 base32 characters, in
// creation order (see sortid).
func newItemID() string {
	return sortid.Base32("01", 20)
}

func decodeItem(o store.Object) (storedItem, error) {
	var si storedItem
	err := json.Unmarshal(o.Data, &si)
	return si, err
}

// getItemObj reads a live item of the drive; "root" names the root.
func getItemObj(ctx context.Context, tx store.Tx, d drive, id string) (store.Object, error) {
	if strings.EqualFold(id, "root") {
		id = d.rootID()
	}
	o, err := tx.GetObject(ctx, d.Tenant, KindDriveItem, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (o.Owner != d.ID || o.Deleted)) {
		return o, itemNotFound()
	}
	return o, err
}

// childByName finds a live child of parent by name, ignoring case as OneDrive
// does, through the store's alt index (childAlt): its cost does not grow with the
// folder.
func childByName(ctx context.Context, tx store.Tx, d drive, parent, name string) (store.Object, bool, error) {
	o, err := tx.GetObjectByAlt(ctx, d.Tenant, KindDriveItem, childAlt(parent, name))
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.Owner != d.ID) {
		return store.Object{}, false, nil
	}
	return o, err == nil, err
}

// childAlt is a drive item's alt key: its parent and its name, lower-cased, so
// that a name is looked up in a folder with one index read. Every write that
// names or moves an item sets it.
func childAlt(parent, name string) string { return parent + "/" + strings.ToLower(name) }

// splitPath turns "a/b/c.txt" into its names, refusing empty and dot segments.
func splitPath(p string) ([]string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil, nil
	}
	if len(p) > maxPathLength {
		return nil, graph.SharePointInvalidRequest("The path is longer than %d characters.", maxPathLength)
	}
	parts := strings.Split(p, "/")
	for _, s := range parts {
		if s == "" || s == "." || s == ".." {
			return nil, graph.SharePointInvalidRequest("The path '%s' is not valid.", p)
		}
	}
	return parts, nil
}

// walkPath follows names from the item start; it fails with itemNotFound at the first
// missing name.
func walkPath(ctx context.Context, tx store.Tx, d drive, start store.Object, names []string) (store.Object, error) {
	cur := start
	for _, n := range names {
		next, ok, err := childByName(ctx, tx, d, cur.ID, n)
		if err != nil {
			return cur, err
		}
		if !ok {
			return cur, itemNotFound()
		}
		cur = next
	}
	return cur, nil
}

// target resolves the item a request addresses: {item}, root, root:/{path}, or
// {item}:/{path}.
func target(c *httpapi.Ctx, tx store.Tx, d drive) (store.Object, error) {
	ctx := c.R.Context()
	start := "root"
	if id := c.Param("item"); id != "" {
		start = id
	}
	o, err := getItemObj(ctx, tx, d, start)
	if err != nil {
		return o, err
	}
	names, err := splitPath(c.Param("path"))
	if err != nil {
		return o, err
	}
	return walkPath(ctx, tx, d, o, names)
}

// ancestors returns the ids of o's ancestors, root first.
func ancestors(ctx context.Context, tx store.Tx, d drive, o store.Object) ([]store.Object, error) {
	var chain []store.Object
	for cur := o; cur.Parent != ""; {
		if len(chain) > maxDepth {
			return nil, fmt.Errorf("files: item %s: parent chain too deep", o.ID)
		}
		p, err := tx.GetObject(ctx, d.Tenant, KindDriveItem, cur.Parent)
		if err != nil {
			return nil, err
		}
		chain = append(chain, p)
		cur = p
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

func ids(objs []store.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.ID
	}
	return out
}

// renderer renders items of one drive, caching paths of the folders it walks and
// the folder totals it reads.
type renderer struct {
	ctx    context.Context
	tx     store.Tx
	d      drive
	paths  map[string]string       // folder id → path below root ("" for root)
	totals map[string]store.Totals // folder id → its totals (see totals.go)
}

func newRenderer(ctx context.Context, tx store.Tx, d drive) *renderer {
	return &renderer{ctx: ctx, tx: tx, d: d, paths: map[string]string{d.rootID(): ""}, totals: map[string]store.Totals{}}
}

// pathOf is the item's path below the root ("/a/b"), "" for the root.
func (r *renderer) pathOf(o store.Object) (string, error) {
	if p, ok := r.paths[o.ID]; ok {
		return p, nil
	}
	if o.Parent == "" {
		return "", nil
	}
	// The siblings of a page share their parent's path: read the parent once.
	pp, ok := r.paths[o.Parent]
	if !ok {
		parent, err := r.tx.GetObject(r.ctx, r.d.Tenant, KindDriveItem, o.Parent)
		if err != nil {
			return "", err
		}
		if pp, err = r.pathOf(parent); err != nil {
			return "", err
		}
	}
	si, err := decodeItem(o)
	if err != nil {
		return "", err
	}
	p := pp + "/" + si.Name
	r.paths[o.ID] = p
	return p, nil
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// render is the API form of an item.
func (r *renderer) render(o store.Object) (map[string]any, error) {
	si, err := decodeItem(o)
	if err != nil {
		return nil, err
	}
	p, err := r.pathOf(o)
	if err != nil {
		return nil, err
	}
	doc := map[string]any{
		"id":                   o.ID,
		"name":                 si.Name,
		"eTag":                 fmt.Sprintf(`"{%s},%d"`, o.ID, o.Version),
		"cTag":                 fmt.Sprintf(`"c:{%s},%d"`, o.ID, o.Version),
		"createdDateTime":      graph.FormatTime(si.Created),
		"lastModifiedDateTime": graph.FormatTime(si.Modified),
		"createdBy":            si.CreatedBy,
		"lastModifiedBy":       si.ModifiedBy,
		"webUrl":               r.d.WebURL + escapePath(p),
		"fileSystemInfo":       map[string]any{"createdDateTime": graph.FormatTime(si.Created), "lastModifiedDateTime": graph.FormatTime(si.Modified)},
		"size":                 si.Size,
	}
	if si.Description != "" {
		doc["description"] = si.Description
	}
	ref := map[string]any{"driveId": r.d.ID, "driveType": r.d.Type}
	if r.d.SiteID != "" {
		ref["siteId"] = r.d.SiteID
	}
	if o.Parent != "" {
		pp := path.Dir(p)
		if pp == "/" {
			pp = ""
		}
		ref["id"] = o.Parent
		ref["path"] = "/drives/" + r.d.ID + "/root:" + pp
		if pp == "" {
			ref["name"] = "root"
		} else {
			ref["name"] = path.Base(pp)
		}
	} else {
		doc["root"] = map[string]any{}
	}
	doc["parentReference"] = ref
	if si.Folder {
		t, err := r.folderTotals(o.ID)
		if err != nil {
			return nil, err
		}
		doc["size"] = t.Size
		doc["folder"] = map[string]any{"childCount": t.Count}
	} else {
		doc["file"] = map[string]any{"mimeType": si.MimeType, "hashes": map[string]any{"quickXorHash": si.QuickXor, "sha256Hash": si.SHA256}}
	}
	return doc, nil
}

func (r *renderer) renderJSON(o store.Object) ([]byte, map[string]any, error) {
	doc, err := r.render(o)
	if err != nil {
		return nil, nil, err
	}
	data, err := docjson.Marshal(doc)
	return data, doc, err
}

// record appends a driveItem change record. chain lists the ancestors whose folder
// topics the change touches on a personal drive (old and new ones for a move).
func record(ctx context.Context, tx store.Tx, d drive, id, changeType string, chain []string, before, after []byte, at time.Time) error {
	topics := []string{change.DriveRoot(d.ID)}
	if d.Type == typePersonal {
		seen := map[string]bool{}
		for _, a := range chain {
			if !seen[a] {
				seen[a] = true
				topics = append(topics, change.DriveFolder(d.ID, a))
			}
		}
	}
	n := change.Notice{RootResource: true, Resource: change.DriveRoot(d.ID), ODataType: "#Microsoft.Graph.driveItem", ID: id, SiteURL: d.SiteURL, WebID: d.WebID}
	return change.Record(ctx, tx, d.Tenant, KindDriveItem, id, changeType, topics, before, after, n, at)
}

// conflictBehavior reads @microsoft.graph.conflictBehavior from the body or the query.
func conflictBehavior(c *httpapi.Ctx, body map[string]any, def string) (string, error) {
	v, _ := body["@microsoft.graph.conflictBehavior"].(string)
	if v == "" {
		v = c.Query("@microsoft.graph.conflictBehavior")
	}
	if v == "" {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "fail", "replace", "rename":
		return strings.ToLower(v), nil
	}
	return "", graph.SharePointInvalidRequest("Invalid value '%s' for @microsoft.graph.conflictBehavior: use fail, replace or rename.", v)
}

// freeName finds the name "name 1.ext", "name 2.ext", … that no child of parent has.
func freeName(ctx context.Context, tx store.Tx, d drive, parent, name string) (string, error) {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 1; i < 10000; i++ {
		cand := fmt.Sprintf("%s %d%s", base, i, ext)
		_, taken, err := childByName(ctx, tx, d, parent, cand)
		if err != nil || !taken {
			return cand, err
		}
	}
	return "", nameExists()
}

func (w *Workload) getItem(c *httpapi.Ctx) error {
	d, err := w.open(c, false)
	if err != nil {
		return err
	}
	var doc map[string]any
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := target(c, tx, d)
		if err != nil {
			return err
		}
		doc, err = newRenderer(ctx, tx, d).render(o)
		return err
	})
	if err != nil {
		return err
	}
	if s := c.Query("$select"); s != "" {
		fields, err := odata.ParseSelect(s)
		if err != nil {
			return graph.SharePointInvalidRequest("%s", err.Error())
		}
		doc = odata.Select(doc, fields)
	}
	return rest.Entity(c, http.StatusOK, itemEntity(d.ID), doc)
}

const (
	defaultPage = 200
	maxPage     = 1000
)

func (w *Workload) listChildren(c *httpapi.Ctx) error {
	d, err := w.open(c, false)
	if err != nil {
		return err
	}
	top, err := rest.TopAs(c, defaultPage, maxPage, graph.SharePointInvalidRequest)
	if err != nil {
		return err
	}
	keys, err := childrenOrder(c)
	if err != nil {
		return err
	}
	var after string
	var skip int
	if keys != nil {
		skip, err = orderedSkip(c)
	} else {
		_, err = rest.SkipTokenAs(c, &after, graph.SharePointInvalidRequest)
	}
	if err != nil {
		return err
	}
	out := map[string]any{}
	value := []map[string]any{}
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		parent, err := target(c, tx, d)
		if err != nil {
			return err
		}
		out["@odata.context"] = c.ContextURL("drives('" + d.ID + "')/items('" + parent.ID + "')/children")
		if keys != nil {
			page, more, err := orderedChildrenPage(ctx, tx, d, parent, keys, top, skip)
			if more {
				out["@odata.nextLink"] = c.LinkWith(map[string]string{"$skiptoken": odata.EncodeSkipToken(orderedPageToken{Skip: skip + len(page)})})
			}
			value = append(value, page...)
			return err
		}
		page, next, err := childrenPage(ctx, tx, d, parent, top, after)
		if next != "" {
			out["@odata.nextLink"] = c.LinkWith(map[string]string{"$skiptoken": odata.EncodeSkipToken(next)})
		}
		value = append(value, page...)
		return err
	})
	if err != nil {
		return err
	}
	out["value"] = value
	return c.JSON(http.StatusOK, out)
}

// childrenPage renders up to top children of parent, in id order after the id
// after, and returns the id the next page starts after ("" on the last page). Its
// store reads do not grow with the drive: one read of the page from the parent
// index, one of the listed folders' totals, and the parent's ancestors for paths.
func childrenPage(ctx context.Context, tx store.Tx, d drive, parent store.Object, top int, after string) ([]map[string]any, string, error) {
	kids, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: d.Tenant, Kind: KindDriveItem, Parent: parent.ID, AfterID: after, Limit: top + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(kids) > top {
		kids = kids[:top]
		next = kids[top-1].ID
	}
	r := newRenderer(ctx, tx, d)
	if err := r.prefetch(kids); err != nil {
		return nil, "", err
	}
	value := make([]map[string]any, 0, len(kids))
	for _, k := range kids {
		doc, err := r.render(k)
		if err != nil {
			return nil, "", err
		}
		value = append(value, doc)
	}
	return value, next, nil
}

// createFolder serves POST …/children: a folder facet is required (files are
// created by uploading content).
func (w *Workload) createFolder(c *httpapi.Ctx) error {
	p := c.Principal
	d, err := w.open(c, true)
	if err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	behavior, err := conflictBehavior(c, body, "fail")
	if err != nil {
		return err
	}
	name, _ := body["name"].(string)
	if err := checkName(name); err != nil {
		return err
	}
	if _, ok := body["folder"].(map[string]any); !ok {
		return graph.SharePointInvalidRequest("The request must include a 'folder' facet; files are created by uploading their content.")
	}
	by, err := sites.IdentitySet(c.R.Context(), w.ident, w.st, p)
	if err != nil {
		return err
	}
	var doc map[string]any
	status := http.StatusCreated
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		parent, err := target(c, tx, d)
		if err != nil {
			return err
		}
		if ps, err := decodeItem(parent); err != nil || !ps.Folder {
			if err != nil {
				return err
			}
			return graph.SharePointInvalidRequest("The parent item is not a folder.")
		}
		existing, taken, err := childByName(ctx, tx, d, parent.ID, name)
		if err != nil {
			return err
		}
		if taken {
			es, err := decodeItem(existing)
			if err != nil {
				return err
			}
			switch {
			case behavior == "fail":
				return nameExists()
			case behavior == "rename":
				if name, err = freeName(ctx, tx, d, parent.ID, name); err != nil {
					return err
				}
			case es.Folder:
				// Graph answers replace on an existing folder with that folder, unchanged.
				status = http.StatusOK
				doc, err = newRenderer(ctx, tx, d).render(existing)
				return err
			default:
				if err := w.removeTree(ctx, tx, d, existing, c.Now); err != nil {
					return err
				}
			}
		}
		desc, _ := body["description"].(string)
		si := storedItem{Name: name, Folder: true, Description: desc, Created: c.Now, Modified: c.Now, CreatedBy: by, ModifiedBy: by}
		o, err := w.insertItem(ctx, tx, d, parent, si)
		if err != nil {
			return err
		}
		doc, err = w.recordNew(ctx, tx, d, o, c.Now)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, status, itemEntity(d.ID), doc)
}

func (w *Workload) insertItem(ctx context.Context, tx store.Tx, d drive, parent store.Object, si storedItem) (store.Object, error) {
	o := store.Object{Tenant: d.Tenant, Kind: KindDriveItem, ID: newItemID(), Owner: d.ID, Parent: parent.ID, Alt: childAlt(parent.ID, si.Name), Created: si.Created, Updated: si.Modified}
	if err := si.encode(&o); err != nil {
		return store.Object{}, err
	}
	return o, tx.InsertObject(ctx, &o)
}

// encode sets o's document from si, its sort key (lastModifiedDateTime as Graph
// writes it, whose fixed width makes its bytes sort as its instants) and its
// creation time (createdDateTime), so that the parent's indexes give a folder's
// children in either order (see order.go). Every write of an item goes through it
// (an update keeps the creation time the store has).
func (si storedItem) encode(o *store.Object) error {
	data, err := json.Marshal(si)
	if err != nil {
		return err
	}
	o.Data, o.Sort, o.Created = data, graph.FormatTime(si.Modified), si.Created
	return nil
}

// recordNew renders a just-inserted item, adds it to its ancestors' totals and
// records its creation.
func (w *Workload) recordNew(ctx context.Context, tx store.Tx, d drive, o store.Object, now time.Time) (map[string]any, error) {
	chain, err := ancestors(ctx, tx, d, o)
	if err != nil {
		return nil, err
	}
	si, err := decodeItem(o)
	if err != nil {
		return nil, err
	}
	delta := totalsDelta{}
	delta.sized(chain, si.Size, 1)
	if err := delta.apply(ctx, tx, d); err != nil {
		return nil, err
	}
	r := newRenderer(ctx, tx, d)
	// A new folder is empty: no need to read totals it cannot have.
	r.totals[o.ID] = store.Totals{}
	after, doc, err := r.renderJSON(o)
	if err != nil {
		return nil, err
	}
	return doc, record(ctx, tx, d, o.ID, store.Created, ids(chain), nil, after, now)
}
