package outlook

import (
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

var contactEmail = object("Microsoft.OutlookServices.EmailAddress", map[string]rule{
	"name":    str,
	"address": address,
}, map[string]any{"name": nil})

var contactSchema = schema{
	typeName: "Microsoft.OutlookServices.Contact",
	writable: map[string]rule{
		"givenName": str, "surname": str, "middleName": str, "displayName": str, "nickName": str,
		"initials": str, "title": str, "generation": str, "fileAs": str,
		"jobTitle": str, "companyName": str, "department": str, "officeLocation": str, "profession": str,
		"businessHomePage": str, "assistantName": str, "manager": str, "spouseName": str, "personalNotes": str,
		"mobilePhone": str, "homePhones": strList, "businessPhones": strList, "imAddresses": strList,
		"children": strList, "categories": strList,
		"emailAddresses":  list(contactEmail),
		"homeAddress":     physicalAddress,
		"businessAddress": physicalAddress,
		"otherAddress":    physicalAddress,
		"birthday":        nullable(dateTimeOffset),
	},
	readOnly: []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "parentFolderId"},
}

var contactFolderSchema = schema{
	typeName: "Microsoft.OutlookServices.ContactFolder",
	writable: map[string]rule{"displayName": requiredStr},
	readOnly: []string{"id", "parentFolderId"},
}

func (w *Workload) contactRoutes(r *httpapi.Router) {
	for _, base := range []string{"users/{user}/contacts", "users/{user}/contactFolders/{folder}/contacts"} {
		r.Handle("GET", base, w.listContacts)
		r.Handle("POST", base, w.createContact)
		r.Handle("GET", base+"/{id}", w.getContact)
		r.Handle("PATCH", base+"/{id}", w.updateContact)
		r.Handle("DELETE", base+"/{id}", w.deleteContact)
	}
	r.Handle("GET", "users/{user}/contactFolders/{folder}/contacts/delta", w.contactsDelta)
	r.Handle("GET", "users/{user}/contactFolders", w.listContactFolders)
	r.Handle("POST", "users/{user}/contactFolders", w.createContactFolder)
	r.Handle("GET", "users/{user}/contactFolders/{folder}", w.getContactFolder)
	r.Handle("PATCH", "users/{user}/contactFolders/{folder}", w.updateContactFolder)
	r.Handle("DELETE", "users/{user}/contactFolders/{folder}", w.deleteContactFolder)
	r.Handle("GET", "users/{user}/contactFolders/{folder}/childFolders", w.listContactFolders)
	r.Handle("POST", "users/{user}/contactFolders/{folder}/childFolders", w.createContactFolder)
}

func contactTopics(mb mailbox, folder string) []string {
	return []string{change.UserContacts(mb.user), change.FolderContacts(mb.user, folder)}
}

// contactFolder loads a contact folder by id, or the default one by its well-known
// name "contacts".
func (o *op) contactFolder(mb mailbox, seg string) (store.Object, map[string]any, error) {
	id := seg
	if strings.EqualFold(seg, "contacts") {
		id = change.WellKnownContactFolderID(mb.user)
	}
	return o.getItem(mb, kindContactFolder, id)
}

// contactParent is the folder a contacts request addresses: {folder} or the default.
func (o *op) contactParent(c *httpapi.Ctx, mb mailbox) (string, error) {
	return o.contactFolderParam(c, mb, change.WellKnownContactFolderID(mb.user))
}

// contactFolderParent is the parent of the contact folders a request lists or
// creates: {folder}, or the root of the top-level ones.
func (o *op) contactFolderParent(c *httpapi.Ctx, mb mailbox) (string, error) {
	return o.contactFolderParam(c, mb, contactRootID(mb.user))
}

// contactFolderParam loads the {folder} of the path and returns its id, or def when
// the path has none.
func (o *op) contactFolderParam(c *httpapi.Ctx, mb mailbox, def string) (string, error) {
	seg := c.Param("folder")
	if seg == "" {
		return def, nil
	}
	obj, _, err := o.contactFolder(mb, seg)
	return obj.ID, err
}

func (o *op) newContact(_ mailbox, folder string) map[string]any {
	now := o.now.Format(timeLayout)
	doc := map[string]any{
		"id": newID("AAMkAC"), "createdDateTime": now, "lastModifiedDateTime": now, "changeKey": "",
		"categories": []any{}, "parentFolderId": folder, "birthday": nil,
		"homePhones": []any{}, "businessPhones": []any{}, "imAddresses": []any{}, "children": []any{},
		"emailAddresses": []any{}, "homeAddress": map[string]any{}, "businessAddress": map[string]any{}, "otherAddress": map[string]any{},
	}
	for _, k := range []string{"fileAs", "displayName", "givenName", "initials", "middleName", "nickName", "surname", "title",
		"generation", "jobTitle", "companyName", "department", "officeLocation", "profession", "businessHomePage",
		"assistantName", "manager", "mobilePhone", "spouseName", "personalNotes"} {
		doc[k] = nil
	}
	return doc
}

// applyContact sets body's properties; without a displayName Outlook composes one
// from the name parts.
func applyContact(doc, body map[string]any) error {
	if err := contactSchema.apply(doc, body, nil); err != nil {
		return err
	}
	if s, _ := doc["displayName"].(string); s == "" {
		var parts []string
		for _, k := range []string{"givenName", "middleName", "surname"} {
			if s, _ := doc[k].(string); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			doc["displayName"] = strings.Join(parts, " ")
		}
	}
	return nil
}

func (w *Workload) listContacts(c *httpapi.Ctx) error {
	q, err := parseList(c, []odata.OrderKey{{Property: "displayName"}})
	if err != nil {
		return err
	}
	var docs []map[string]any
	var fragment string
	err = w.run(c, false, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), contactRead)
		if err != nil {
			return err
		}
		query := store.ObjectQuery{Tenant: mb.tenant, Kind: kindContact, Owner: mb.user}
		fragment = userPath(mb) + "/contacts"
		if c.Param("folder") != "" {
			if query.Parent, err = o.contactParent(c, mb); err != nil {
				return err
			}
			fragment = userPath(mb) + "/contactFolders('" + query.Parent + "')/contacts"
		}
		docs, err = o.listDocs(query, nil)
		return err
	})
	if err != nil {
		return err
	}
	return writeList(c, fragment, q, docs, selectView(nil, q.fields))
}

// contact loads a contact; under contactFolders/{folder} it must be in that folder.
func (o *op) contact(c *httpapi.Ctx, mb mailbox) (store.Object, map[string]any, error) {
	obj, doc, err := o.getItem(mb, kindContact, c.Param("id"))
	if err != nil {
		return obj, nil, err
	}
	if c.Param("folder") != "" {
		parent, err := o.contactParent(c, mb)
		if err != nil {
			return obj, nil, err
		}
		if parent != obj.Parent {
			return obj, nil, itemNotFound()
		}
	}
	return obj, doc, nil
}

func (w *Workload) getContact(c *httpapi.Ctx) error    { return w.getOne(c, contactAPI) }
func (w *Workload) createContact(c *httpapi.Ctx) error { return w.createOne(c, contactAPI) }
func (w *Workload) updateContact(c *httpapi.Ctx) error { return w.updateOne(c, contactAPI) }
func (w *Workload) deleteContact(c *httpapi.Ctx) error { return w.deleteOne(c, contactAPI) }

func (w *Workload) contactsDelta(c *httpapi.Ctx) error {
	opts, err := deltaSelect(c)
	if err != nil {
		return err
	}
	return w.serveDeltaOf(c, contactRead, opts, func(o *op, mb mailbox) (deltaRound, error) {
		folder, err := o.contactParent(c, mb)
		return deltaRound{
			topic:     change.FolderContacts(mb.user, folder),
			odataType: "#microsoft.graph.contact",
			fragment:  "Collection(contact)",
			query:     store.ObjectQuery{Tenant: mb.tenant, Kind: kindContact, Owner: mb.user, Parent: folder},
			render: func(doc map[string]any, opts map[string]string) map[string]any {
				return selectFields(doc, selected(opts))
			},
		}, err
	})
}

func (w *Workload) listContactFolders(c *httpapi.Ctx) error {
	q, err := parseList(c, []odata.OrderKey{{Property: "displayName"}})
	if err != nil {
		return err
	}
	var docs []map[string]any
	var fragment string
	err = w.run(c, false, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), contactRead)
		if err != nil {
			return err
		}
		parent, err := o.contactFolderParent(c, mb)
		if err != nil {
			return err
		}
		fragment = userPath(mb) + "/contactFolders"
		if c.Param("folder") != "" {
			fragment = userPath(mb) + "/contactFolders('" + parent + "')/childFolders"
		}
		docs, err = o.listDocs(store.ObjectQuery{Tenant: mb.tenant, Kind: kindContactFolder, Owner: mb.user, Parent: parent}, nil)
		return err
	})
	if err != nil {
		return err
	}
	return writeList(c, fragment, q, docs, selectView(nil, q.fields))
}

func (w *Workload) getContactFolder(c *httpapi.Ctx) error {
	var doc map[string]any
	var mb mailbox
	err := w.run(c, false, func(o *op) error {
		var err error
		if mb, err = o.mailbox(c.Param("user"), contactRead); err != nil {
			return err
		}
		_, doc, err = o.contactFolder(mb, c.Param("folder"))
		return err
	})
	if err != nil {
		return err
	}
	return entity(c, http.StatusOK, userPath(mb)+"/contactFolders/$entity", doc)
}

func (w *Workload) createContactFolder(c *httpapi.Ctx) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var mb mailbox
	err = w.run(c, true, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), contactWrite); err != nil {
			return err
		}
		parent, err := o.contactFolderParent(c, mb)
		if err != nil {
			return err
		}
		doc = map[string]any{"id": newID("AAMkAC"), "parentFolderId": parent}
		if err := contactFolderSchema.apply(doc, body, nil); err != nil {
			return err
		}
		if doc["displayName"] == nil {
			return invalidRequest("The property 'displayName' is required to create a contact folder.")
		}
		if err := o.checkFolderName(mb, kindContactFolder, parent, "", doc["displayName"].(string)); err != nil {
			return err
		}
		return o.insertIfMissing(&store.Object{Tenant: mb.tenant, Kind: kindContactFolder, ID: doc["id"].(string), Owner: mb.user, Parent: parent}, doc)
	})
	if err != nil {
		return err
	}
	return entity(c, http.StatusCreated, userPath(mb)+"/contactFolders/$entity", doc)
}

func (w *Workload) updateContactFolder(c *httpapi.Ctx) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var mb mailbox
	err = w.run(c, true, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), contactWrite); err != nil {
			return err
		}
		var obj store.Object
		if obj, doc, err = o.contactFolder(mb, c.Param("folder")); err != nil {
			return err
		}
		if obj.Alt != "" {
			return accessDenied()
		}
		if err := contactFolderSchema.apply(doc, body, nil); err != nil {
			return err
		}
		if err := o.checkFolderName(mb, kindContactFolder, obj.Parent, obj.ID, doc["displayName"].(string)); err != nil {
			return err
		}
		if obj.Data, err = jsonBytes(doc); err != nil {
			return err
		}
		obj.Updated = o.now
		return o.tx.UpdateObject(o.ctx, &obj)
	})
	if err != nil {
		return err
	}
	return entity(c, http.StatusOK, userPath(mb)+"/contactFolders/$entity", doc)
}

func (w *Workload) deleteContactFolder(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), contactWrite)
		if err != nil {
			return err
		}
		obj, _, err := o.contactFolder(mb, c.Param("folder"))
		if err != nil {
			return err
		}
		if obj.Alt != "" {
			return graph.Errorf(http.StatusForbidden, codeDeleteDistinguished, "Distinguished folders cannot be deleted.")
		}
		return o.deleteFolderTree(mb, kindContactFolder, contactAPI, obj.ID)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
