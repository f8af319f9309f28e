package outlook

import (
	"net/http"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// itemAPI describes one kind of mailbox item (message, event, contact) to the
// handlers the three share. Graph gives them the same get, create, update and delete
// semantics (If-Match, change keys, 201/200/204); what differs is only how the item is
// found, validated and rendered, and that is what the fields hold.
type itemAPI struct {
	t           itemType
	read, write []string // permission sets, any one of which suffices
	collection  string   // the segment under users('id') in @odata.context: messages, events, contacts
	attachments bool     // a create body may carry "attachments"
	// load finds the addressed item ({id}), checking the {folder} of the path if any.
	load func(o *op, c *httpapi.Ctx, mb mailbox) (store.Object, map[string]any, error)
	// parent is the folder a POST to the collection creates the item in.
	parent func(o *op, c *httpapi.Ctx, mb mailbox) (string, error)
	// create returns a new item in folder with every property at its default.
	create func(o *op, mb mailbox, folder string) map[string]any
	// apply sets a request body's properties on doc (the stored item, or a new one)
	// and checks the result.
	apply func(doc, body map[string]any) error
	// topics are the topics a change to an item in folder touches.
	topics func(mb mailbox, folder string) []string
	// view renders items for the caller, limited to $select.
	view func(p *identity.Principal, fields []string) func(map[string]any) map[string]any
}

var (
	messageAPI = &itemAPI{
		t: messageType, read: mailReadBasic, write: mailWrite, collection: "messages",
		load: (*op).message, parent: (*op).draftParent, create: (*op).newMessage,
		apply: applyMessage, topics: messageTopics, view: messageView, attachments: true,
	}
	eventAPI = &itemAPI{
		t: eventType, read: calRead, write: calWrite, collection: "events",
		load: (*op).event, parent: calendarParent, create: (*op).newEvent,
		apply: applyEvent, topics: eventTopics, view: selectView,
	}
	contactAPI = &itemAPI{
		t: contactType, read: contactRead, write: contactWrite, collection: "contacts",
		load: (*op).contact, parent: (*op).contactParent, create: (*op).newContact,
		apply: applyContact, topics: contactTopics, view: selectView,
	}
)

// selectView is the view of items every caller may read in full.
func selectView(_ *identity.Principal, fields []string) func(map[string]any) map[string]any {
	return func(d map[string]any) map[string]any { return rest.Select(d, fields) }
}

func (a *itemAPI) entityPath(mb mailbox) string {
	return userPath(mb) + "/" + a.collection + "/$entity"
}

func (w *Workload) getOne(c *httpapi.Ctx, a *itemAPI) error {
	fields, err := rest.Fields(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var mb mailbox
	err = w.run(c, false, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), a.read); err != nil {
			return err
		}
		_, doc, err = a.load(o, c, mb)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, a.entityPath(mb), a.view(c.Principal, fields)(doc))
}

func (w *Workload) createOne(c *httpapi.Ctx, a *itemAPI) error {
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	var atts []map[string]any
	if a.attachments {
		if atts, err = takeAttachments(body); err != nil {
			return err
		}
	}
	httpapi.StripAnnotations(body)
	var stored []byte
	var mb mailbox
	err = w.run(c, true, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), a.write); err != nil {
			return err
		}
		folder, err := a.parent(o, c, mb)
		if err != nil {
			return err
		}
		doc := a.create(o, mb, folder)
		if err := a.apply(doc, body); err != nil {
			return err
		}
		if a.attachments {
			doc["hasAttachments"] = hasAttachments(atts)
			if _, err := o.insertAttachments(mb, doc["id"].(string), atts); err != nil {
				return err
			}
		}
		err = o.insertItem(a.t, mb, folder, doc, a.topics(mb, folder))
		stored = o.stored
		return err
	})
	if err != nil {
		return err
	}
	return rest.EntityEncoded(c, http.StatusCreated, a.entityPath(mb), stored)
}

func (w *Workload) updateOne(c *httpapi.Ctx, a *itemAPI) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var stored []byte
	var mb mailbox
	err = w.run(c, true, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), a.write); err != nil {
			return err
		}
		obj, doc, err := a.load(o, c, mb)
		if err != nil {
			return err
		}
		if err := checkIfMatch(c, doc); err != nil {
			return err
		}
		if err := a.apply(doc, body); err != nil {
			return err
		}
		err = o.updateItem(a.t, mb, obj, doc, a.topics(mb, obj.Parent))
		stored = o.stored
		return err
	})
	if err != nil {
		return err
	}
	return rest.EntityEncoded(c, http.StatusOK, a.entityPath(mb), stored)
}

func (w *Workload) deleteOne(c *httpapi.Ctx, a *itemAPI) error {
	err := w.run(c, true, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), a.write)
		if err != nil {
			return err
		}
		obj, doc, err := a.load(o, c, mb)
		if err != nil {
			return err
		}
		if err := checkIfMatch(c, doc); err != nil {
			return err
		}
		return o.deleteItem(a.t, mb, obj, a.topics(mb, obj.Parent))
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// listDocs decodes the objects q finds, keeping those keep accepts (nil keeps all).
func (o *op) listDocs(q store.ObjectQuery, keep func(map[string]any) bool) ([]map[string]any, error) {
	objs, err := o.tx.ListObjects(o.ctx, q)
	if err != nil {
		return nil, err
	}
	var docs []map[string]any
	for _, obj := range objs {
		doc, err := rest.Decode(obj.Data)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(doc) {
			docs = append(docs, doc)
		}
	}
	return docs, nil
}

// serveDeltaOf answers a delta request on the collection round describes in the
// mailbox of {user}; opts are those of a first request (see serveDelta).
func (w *Workload) serveDeltaOf(c *httpapi.Ctx, perms []string, opts map[string]string, round func(o *op, mb mailbox) (deltaRound, error)) error {
	var out map[string]any
	err := w.run(c, false, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), perms)
		if err != nil {
			return err
		}
		d, err := round(o, mb)
		if err != nil {
			return err
		}
		out, err = w.serveDelta(c, o, d, opts)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
