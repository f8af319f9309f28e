package outlook

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// folderAPI describes one kind of mailbox folder (mail folders, contact folders) to the
// handlers both share: Exchange lists, creates, renames and deletes them alike, with
// unique names among siblings and distinguished folders that cannot be deleted.
type folderAPI struct {
	kind        string   // store kind
	collection  string   // the segment under users('id'): mailFolders, contactFolders
	noun        string   // for messages: "mail folder", "contact folder"
	idPrefix    string   // of new folder ids, in the shape of Exchange's
	read, write []string // permission sets, any one of which suffices
	schema      schema
	items       *itemAPI // what the folders hold; deleted with them
	// load finds a folder by its path segment: an id or a well-known name.
	load func(o *op, mb mailbox, seg string) (store.Object, map[string]any, error)
	// root is the id of the (unstored) parent of the top-level folders.
	root func(user string) string
	// view adds computed properties to a folder's document; nil adds none.
	view func(o *op, mb mailbox, doc map[string]any) (map[string]any, error)
	// selectable says whether GET of one folder honours $select.
	selectable bool
	// newDoc is a new folder's document before the request body is applied.
	newDoc func(id, parent string) map[string]any
	// locked reports a folder that cannot be renamed.
	locked func(obj store.Object) bool
}

// folderRoutes registers the routes of both kinds of folder.
func (w *Workload) folderRoutes(r *httpapi.Router) {
	for _, f := range []*folderAPI{mailFolderAPI, contactFolderAPI} {
		base := "users/{user}/" + f.collection
		r.Handle("GET", base, w.listFolders(f))
		r.Handle("POST", base, w.createFolder(f))
		r.Handle("GET", base+"/{folder}", w.getFolder(f))
		r.Handle("PATCH", base+"/{folder}", w.updateFolder(f))
		r.Handle("DELETE", base+"/{folder}", w.deleteFolder(f))
		r.Handle("GET", base+"/{folder}/childFolders", w.listFolders(f))
		r.Handle("POST", base+"/{folder}/childFolders", w.createFolder(f))
	}
}

// parent is the parent of the folders a request lists or creates: {folder}, or the
// root of the top-level ones.
func (f *folderAPI) parent(o *op, c *httpapi.Ctx, mb mailbox) (string, error) {
	if c.Param("folder") == "" {
		return f.root(mb.user), nil
	}
	_, doc, err := f.load(o, mb, c.Param("folder"))
	if err != nil {
		return "", err
	}
	return doc["id"].(string), nil
}

// open resolves the mailbox of {user}, checking perms, and loads its {folder}.
func (f *folderAPI) open(o *op, c *httpapi.Ctx, perms []string) (mailbox, store.Object, map[string]any, error) {
	mb, err := o.mailbox(c.Param("user"), perms)
	if err != nil {
		return mb, store.Object{}, nil, err
	}
	obj, doc, err := f.load(o, mb, c.Param("folder"))
	return mb, obj, doc, err
}

func (f *folderAPI) render(o *op, mb mailbox, doc map[string]any) (map[string]any, error) {
	if f.view == nil {
		return doc, nil
	}
	return f.view(o, mb, doc)
}

func (f *folderAPI) entityPath(mb mailbox) string {
	return userPath(mb) + "/" + f.collection + "/$entity"
}

func (w *Workload) getFolder(f *folderAPI) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		var fields []string
		if f.selectable {
			var err error
			if fields, err = rest.Fields(c); err != nil {
				return err
			}
		}
		var out map[string]any
		var mb mailbox
		err := w.run(c, false, func(o *op) error {
			var doc map[string]any
			var err error
			if mb, _, doc, err = f.open(o, c, f.read); err != nil {
				return err
			}
			out, err = f.render(o, mb, doc)
			return err
		})
		if err != nil {
			return err
		}
		return rest.Entity(c, http.StatusOK, f.entityPath(mb), rest.Select(out, fields))
	}
}

// listFolders lists the top-level folders ({collection}) or one folder's children
// ({collection}/{id}/childFolders).
func (w *Workload) listFolders(f *folderAPI) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		q, err := parseList(c, []odata.OrderKey{{Property: "displayName"}})
		if err != nil {
			return err
		}
		var docs []map[string]any
		var mb mailbox
		var parent string
		var paged bool
		err = w.run(c, false, func(o *op) error {
			var err error
			if mb, err = o.mailbox(c.Param("user"), f.read); err != nil {
				return err
			}
			if parent, err = f.parent(o, c, mb); err != nil {
				return err
			}
			// The store pages by the stored properties; only the page is rendered
			// then, as each folder's counts cost a query of their own.
			query := store.ObjectQuery{Tenant: mb.tenant, Kind: f.kind, Owner: mb.user, Parent: parent}
			if query, paged, err = q.pushDown(o, propsOf(f.kind), "", query); err != nil {
				return err
			}
			if docs, err = o.listDocs(query, nil); err != nil {
				return err
			}
			for _, doc := range docs {
				if _, err := f.render(o, mb, doc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		fragment := userPath(mb) + "/" + f.collection
		if c.Param("folder") != "" {
			fragment = userPath(mb) + "/" + f.collection + "('" + parent + "')/childFolders"
		}
		if paged {
			return writeStorePage(c, fragment, q, docs, selectView(nil, q.fields))
		}
		return writeList(c, fragment, q, docs, selectView(nil, q.fields))
	}
}

func (w *Workload) createFolder(f *folderAPI) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		body, err := rest.Body(c)
		if err != nil {
			return err
		}
		var out map[string]any
		var mb mailbox
		err = w.run(c, true, func(o *op) error {
			var err error
			if mb, err = o.mailbox(c.Param("user"), f.write); err != nil {
				return err
			}
			parent, err := f.parent(o, c, mb)
			if err != nil {
				return err
			}
			doc := f.newDoc(newID(f.idPrefix), parent)
			if err := f.schema.apply(doc, body, nil); err != nil {
				return err
			}
			if doc["displayName"] == nil {
				return graph.ExchangeInvalidRequest("The property 'displayName' is required to create a %s.", f.noun)
			}
			if err := o.checkFolderName(mb, f.kind, parent, "", doc["displayName"].(string)); err != nil {
				return err
			}
			if err := o.insertIfMissing(&store.Object{Tenant: mb.tenant, Kind: f.kind, ID: doc["id"].(string), Owner: mb.user, Parent: parent}, doc); err != nil {
				return err
			}
			out, err = f.render(o, mb, doc)
			return err
		})
		if err != nil {
			return err
		}
		return rest.Entity(c, http.StatusCreated, f.entityPath(mb), out)
	}
}

// checkFolderName refuses a second folder of the same name (ignoring case) under one
// parent, as Exchange does for mail and contact folders (kind).
func (o *op) checkFolderName(mb mailbox, kind, parent, self, name string) error {
	siblings, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: mb.tenant, Kind: kind, Owner: mb.user, Parent: parent})
	if err != nil {
		return err
	}
	for _, s := range siblings {
		var d struct {
			DisplayName string `json:"displayName"`
		}
		if err := json.Unmarshal(s.Data, &d); err != nil {
			return err
		}
		if s.ID != self && strings.EqualFold(d.DisplayName, name) {
			return graph.Errorf(http.StatusConflict, codeFolderExists, "A folder with the specified name already exists.")
		}
	}
	return nil
}

func (w *Workload) updateFolder(f *folderAPI) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		body, err := rest.Body(c)
		if err != nil {
			return err
		}
		var out map[string]any
		var mb mailbox
		err = w.run(c, true, func(o *op) error {
			var obj store.Object
			var doc map[string]any
			var err error
			if mb, obj, doc, err = f.open(o, c, f.write); err != nil {
				return err
			}
			if f.locked(obj) {
				return graph.ExchangeAccessDenied()
			}
			onlyName := func(name string) error {
				if name != "displayName" {
					return graph.ExchangeInvalidProperty("The property '%s' cannot be updated on a %s.", name, f.noun)
				}
				return nil
			}
			if err := f.schema.apply(doc, body, onlyName); err != nil {
				return err
			}
			if err := o.checkFolderName(mb, f.kind, obj.Parent, obj.ID, doc["displayName"].(string)); err != nil {
				return err
			}
			if obj.Data, err = docjson.Marshal(doc); err != nil {
				return err
			}
			obj.Updated = o.now
			if err := o.tx.UpdateObject(o.ctx, &obj); err != nil {
				return err
			}
			out, err = f.render(o, mb, doc)
			return err
		})
		if err != nil {
			return err
		}
		return rest.Entity(c, http.StatusOK, f.entityPath(mb), out)
	}
}

func (w *Workload) deleteFolder(f *folderAPI) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		err := w.run(c, true, func(o *op) error {
			mb, obj, _, err := f.open(o, c, f.write)
			if err != nil {
				return err
			}
			// The unstored root and the well-known folders are distinguished.
			if obj.ID == "" || obj.Alt != "" {
				return graph.Errorf(http.StatusForbidden, codeDeleteDistinguished, "Distinguished folders cannot be deleted.")
			}
			return o.deleteFolderTree(mb, f.kind, f.items, obj.ID)
		})
		if err != nil {
			return err
		}
		return c.NoContent()
	}
}

// deleteFolderTree removes a folder of kind, its subfolders and the items of a in
// them; each item records its own "deleted" change so folder subscriptions and delta
// see it go.
func (o *op) deleteFolderTree(mb mailbox, kind string, a *itemAPI, id string) error {
	children, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: mb.tenant, Kind: kind, Owner: mb.user, Parent: id})
	if err != nil {
		return err
	}
	for _, ch := range children {
		if err := o.deleteFolderTree(mb, kind, a, ch.ID); err != nil {
			return err
		}
	}
	items, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: mb.tenant, Kind: a.t.kind, Owner: mb.user, Parent: id})
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := o.deleteItem(a.t, mb, it, a.topics(mb, id)); err != nil {
			return err
		}
	}
	return o.tx.DeleteObject(o.ctx, mb.tenant, kind, id)
}
