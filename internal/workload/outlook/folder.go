package outlook

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// wellKnownFolders are the distinguished folders every mailbox has, with the display
// names Exchange gives them.
var wellKnownFolders = []struct{ name, display string }{
	{"inbox", "Inbox"},
	{"drafts", "Drafts"},
	{"sentitems", "Sent Items"},
	{"deleteditems", "Deleted Items"},
	{"archive", "Archive"},
	{"junkemail", "Junk Email"},
	{"outbox", "Outbox"},
}

// rootName is the well-known name of the folder root; it is addressable but not stored.
const rootName = "msgfolderroot"

func isWellKnownFolder(name string) bool {
	for _, wk := range wellKnownFolders {
		if strings.EqualFold(wk.name, name) {
			return true
		}
	}
	return false
}

var folderSchema = schema{
	typeName: "Microsoft.OutlookServices.MailFolder",
	writable: map[string]rule{"displayName": requiredStr, "isHidden": boolean},
	readOnly: []string{"id", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount"},
}

func (w *Workload) folderRoutes(r *httpapi.Router) {
	r.Handle("GET", "users/{user}/mailFolders", w.listFolders)
	r.Handle("POST", "users/{user}/mailFolders", w.createFolder)
	r.Handle("GET", "users/{user}/mailFolders/{folder}", w.getFolder)
	r.Handle("PATCH", "users/{user}/mailFolders/{folder}", w.updateFolder)
	r.Handle("DELETE", "users/{user}/mailFolders/{folder}", w.deleteFolder)
	r.Handle("GET", "users/{user}/mailFolders/{folder}/childFolders", w.listFolders)
	r.Handle("POST", "users/{user}/mailFolders/{folder}/childFolders", w.createFolder)
}

// folderID turns a folder segment (an id or a well-known name in any case) into an id.
func folderID(mb mailbox, seg string) string {
	if isWellKnownFolder(seg) || strings.EqualFold(seg, rootName) {
		return change.WellKnownFolderID(mb.user, seg)
	}
	return seg
}

// folder loads a mail folder of the mailbox. The root answers with a document of its
// own and no stored object (obj.ID is empty).
func (o *op) folder(mb mailbox, seg string) (store.Object, map[string]any, error) {
	id := folderID(mb, seg)
	if id == rootFolderID(mb.user) {
		return store.Object{}, map[string]any{"id": id, "displayName": "Top of Information Store", "parentFolderId": "", "isHidden": false}, nil
	}
	return o.getItem(mb, kindMailFolder, id)
}

// folderParam loads the {folder} of the path and returns its id (the root's too).
func (o *op) folderParam(c *httpapi.Ctx, mb mailbox) (string, error) {
	_, doc, err := o.folder(mb, c.Param("folder"))
	if err != nil {
		return "", err
	}
	return doc["id"].(string), nil
}

// folderParent is the parent of the mail folders a request lists or creates:
// {folder}, or the root of the top-level ones.
func (o *op) folderParent(c *httpapi.Ctx, mb mailbox) (string, error) {
	if c.Param("folder") == "" {
		return rootFolderID(mb.user), nil
	}
	return o.folderParam(c, mb)
}

// folderView adds the counts Graph reports, computed from the folder's contents.
func (o *op) folderView(mb mailbox, doc map[string]any) (map[string]any, error) {
	id := doc["id"].(string)
	children, err := o.tx.CountObjects(o.ctx, store.ObjectQuery{Tenant: mb.tenant, Kind: kindMailFolder, Owner: mb.user, Parent: id})
	if err != nil {
		return nil, err
	}
	msgs, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: mb.tenant, Kind: kindMessage, Owner: mb.user, Parent: id})
	if err != nil {
		return nil, err
	}
	unread := 0
	for _, m := range msgs {
		var state struct {
			IsRead bool `json:"isRead"`
		}
		if err := json.Unmarshal(m.Data, &state); err != nil {
			return nil, err
		}
		if !state.IsRead {
			unread++
		}
	}
	doc["childFolderCount"] = children
	doc["unreadItemCount"] = unread
	doc["totalItemCount"] = len(msgs)
	return doc, nil
}

func (w *Workload) getFolder(c *httpapi.Ctx) error {
	fields, err := parseSelect(c)
	if err != nil {
		return err
	}
	var out map[string]any
	var mb mailbox
	err = w.run(c, false, func(o *op) error {
		var err error
		if mb, err = o.mailbox(c.Param("user"), mailReadBasic); err != nil {
			return err
		}
		_, doc, err := o.folder(mb, c.Param("folder"))
		if err != nil {
			return err
		}
		out, err = o.folderView(mb, doc)
		return err
	})
	if err != nil {
		return err
	}
	return entity(c, http.StatusOK, userPath(mb)+"/mailFolders/$entity", selectFields(out, fields))
}

// listFolders lists the top-level folders (mailFolders) or one folder's children
// (mailFolders/{id}/childFolders).
func (w *Workload) listFolders(c *httpapi.Ctx) error {
	q, err := parseList(c, []odata.OrderKey{{Property: "displayName"}})
	if err != nil {
		return err
	}
	var docs []map[string]any
	var mb mailbox
	var parent string
	err = w.run(c, false, func(o *op) error {
		var err error
		if mb, err = o.mailbox(c.Param("user"), mailReadBasic); err != nil {
			return err
		}
		if parent, err = o.folderParent(c, mb); err != nil {
			return err
		}
		if docs, err = o.listDocs(store.ObjectQuery{Tenant: mb.tenant, Kind: kindMailFolder, Owner: mb.user, Parent: parent}, nil); err != nil {
			return err
		}
		for _, doc := range docs {
			if _, err := o.folderView(mb, doc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fragment := userPath(mb) + "/mailFolders"
	if c.Param("folder") != "" {
		fragment = userPath(mb) + "/mailFolders('" + parent + "')/childFolders"
	}
	return writeList(c, fragment, q, docs, selectView(nil, q.fields))
}

func (w *Workload) createFolder(c *httpapi.Ctx) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var out map[string]any
	var mb mailbox
	err = w.run(c, true, func(o *op) error {
		var err error
		if mb, err = o.mailbox(c.Param("user"), mailWrite); err != nil {
			return err
		}
		parent, err := o.folderParent(c, mb)
		if err != nil {
			return err
		}
		doc := map[string]any{"id": newID("AAMkAG"), "parentFolderId": parent, "isHidden": false}
		if err := folderSchema.apply(doc, body, nil); err != nil {
			return err
		}
		if doc["displayName"] == nil {
			return invalidRequest("The property 'displayName' is required to create a mail folder.")
		}
		if err := o.checkFolderName(mb, kindMailFolder, parent, "", doc["displayName"].(string)); err != nil {
			return err
		}
		if err := o.insertIfMissing(&store.Object{Tenant: mb.tenant, Kind: kindMailFolder, ID: doc["id"].(string), Owner: mb.user, Parent: parent}, doc); err != nil {
			return err
		}
		out, err = o.folderView(mb, doc)
		return err
	})
	if err != nil {
		return err
	}
	return entity(c, http.StatusCreated, userPath(mb)+"/mailFolders/$entity", out)
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

func (w *Workload) updateFolder(c *httpapi.Ctx) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var out map[string]any
	var mb mailbox
	err = w.run(c, true, func(o *op) error {
		var err error
		if mb, err = o.mailbox(c.Param("user"), mailWrite); err != nil {
			return err
		}
		obj, doc, err := o.folder(mb, c.Param("folder"))
		if err != nil {
			return err
		}
		if obj.ID == "" {
			return accessDenied()
		}
		onlyName := func(name string) error {
			if name != "displayName" {
				return invalidProperty("The property '%s' cannot be updated on a mail folder.", name)
			}
			return nil
		}
		if err := folderSchema.apply(doc, body, onlyName); err != nil {
			return err
		}
		if err := o.checkFolderName(mb, kindMailFolder, obj.Parent, obj.ID, doc["displayName"].(string)); err != nil {
			return err
		}
		if obj.Data, err = json.Marshal(doc); err != nil {
			return err
		}
		obj.Updated = o.now
		if err := o.tx.UpdateObject(o.ctx, &obj); err != nil {
			return err
		}
		out, err = o.folderView(mb, doc)
		return err
	})
	if err != nil {
		return err
	}
	return entity(c, http.StatusOK, userPath(mb)+"/mailFolders/$entity", out)
}

func (w *Workload) deleteFolder(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), mailWrite)
		if err != nil {
			return err
		}
		obj, _, err := o.folder(mb, c.Param("folder"))
		if err != nil {
			return err
		}
		if obj.ID == "" || obj.Alt != "" {
			return graph.Errorf(http.StatusForbidden, codeDeleteDistinguished, "Distinguished folders cannot be deleted.")
		}
		return o.deleteFolderTree(mb, kindMailFolder, messageAPI, obj.ID)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
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
