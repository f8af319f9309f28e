package outlook

import (
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
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

// contactFolderAPI is the contact folders of a mailbox, under
// users/{user}/contactFolders.
var contactFolderAPI = &folderAPI{
	kind: kindContactFolder, collection: "contactFolders", noun: "contact folder", idPrefix: "AAMkAC",
	read: contactRead, write: contactWrite, schema: contactFolderSchema, items: contactAPI,
	load: (*op).contactFolder, root: contactRootID,
	newDoc: func(id, parent string) map[string]any {
		return map[string]any{"id": id, "parentFolderId": parent}
	},
	// The default contact folder keeps its name.
	locked: func(obj store.Object) bool { return obj.Alt != "" },
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
	var paged bool
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
		if query, paged, err = q.storeQuery(o, contactType, query); err != nil {
			return err
		}
		docs, err = o.listDocs(query, nil)
		return err
	})
	if err != nil {
		return err
	}
	if paged {
		return writeStorePage(c, fragment, q, docs, selectView(nil, q.fields))
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
			return obj, nil, graph.ExchangeItemNotFound()
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
				return rest.Select(doc, selected(opts))
			},
		}, err
	})
}
