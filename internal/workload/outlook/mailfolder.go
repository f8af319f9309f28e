package outlook

import (
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/httpapi"
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

// mailFolderAPI is the mail folders of a mailbox, under users/{user}/mailFolders.
var mailFolderAPI = &folderAPI{
	kind: kindMailFolder, collection: "mailFolders", noun: "mail folder", idPrefix: "AAMkAG",
	read: mailReadBasic, write: mailWrite, schema: folderSchema, items: messageAPI,
	load: (*op).folder, root: rootFolderID, view: (*op).folderView, selectable: true,
	newDoc: func(id, parent string) map[string]any {
		return map[string]any{"id": id, "parentFolderId": parent, "isHidden": false}
	},
	// The root is not stored and cannot be renamed; the well-known folders can.
	locked: func(obj store.Object) bool { return obj.ID == "" },
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

// folderView adds the counts Graph reports, computed from the folder's contents. The
// store counts them, so that a folder costs the same whatever it holds: unread are
// the messages whose isRead is not true (false, null or absent).
func (o *op) folderView(mb mailbox, doc map[string]any) (map[string]any, error) {
	id := doc["id"].(string)
	children, err := o.tx.CountObjects(o.ctx, store.ObjectQuery{Tenant: mb.tenant, Kind: kindMailFolder, Owner: mb.user, Parent: id})
	if err != nil {
		return nil, err
	}
	msgs := store.ObjectQuery{Tenant: mb.tenant, Kind: kindMessage, Owner: mb.user, Parent: id}
	total, err := o.tx.CountObjects(o.ctx, msgs)
	if err != nil {
		return nil, err
	}
	msgs.Where = &store.Cond{Op: store.CondNot, Sub: []store.Cond{{Op: store.CondEq, Prop: store.Prop{Path: "isRead", Type: store.PropBool}, Value: true}}}
	unread, err := o.tx.CountObjects(o.ctx, msgs)
	if err != nil {
		return nil, err
	}
	doc["childFolderCount"] = children
	doc["unreadItemCount"] = unread
	doc["totalItemCount"] = total
	return doc, nil
}
