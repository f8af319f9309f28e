package outlook

import (
	"html"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// timeLayout is how Outlook writes an item's timestamps: UTC, whole seconds.
const timeLayout = "2006-01-02T15:04:05Z"

var messageSchema = schema{
	typeName: "Microsoft.OutlookServices.Message",
	writable: map[string]rule{
		"subject":                    str,
		"body":                       itemBody,
		"importance":                 enum("low", "normal", "high"),
		"isRead":                     boolean,
		"isDeliveryReceiptRequested": boolean,
		"isReadReceiptRequested":     boolean,
		"categories":                 strList,
		"toRecipients":               recipients,
		"ccRecipients":               recipients,
		"bccRecipients":              recipients,
		"replyTo":                    recipients,
		"from":                       nullable(recipient),
		"sender":                     nullable(recipient),
		"flag":                       followupFlag,
		"inferenceClassification":    enum("focused", "other"),
		"internetMessageId":          str,
	},
	readOnly: []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "bodyPreview", "hasAttachments",
		"parentFolderId", "conversationId", "isDraft", "receivedDateTime", "sentDateTime", "webLink"},
}

// draftOnly are the properties Exchange lets a client change only while a message is
// a draft.
var draftOnly = []string{"subject", "body", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "from", "sender", "internetMessageId"}

func (w *Workload) messageRoutes(r *httpapi.Router) {
	for _, base := range []string{"users/{user}/messages", "users/{user}/mailFolders/{folder}/messages"} {
		r.Handle("GET", base, w.listMessages)
		r.Handle("POST", base, w.createMessage)
		r.Handle("GET", base+"/{id}", w.getMessage)
		r.Handle("PATCH", base+"/{id}", w.updateMessage)
		r.Handle("DELETE", base+"/{id}", w.deleteMessage)
		r.Handle("POST", base+"/{id}/move", w.moveMessage)
		r.Handle("POST", base+"/{id}/copy", w.copyMessage)
	}
	r.Handle("GET", "users/{user}/mailFolders/{folder}/messages/delta", w.messagesDelta)
}

// messageTopics are the topics a change to a message in folder touches.
func messageTopics(mb mailbox, folder string) []string {
	return []string{change.UserMessages(mb.user), change.FolderMessages(mb.user, folder)}
}

// newMessage returns a draft in folder with every property Graph serves at its
// default.
func (o *op) newMessage(mb mailbox, folder string) map[string]any {
	now := o.now.Format(timeLayout)
	domain := mb.address[strings.IndexByte(mb.address, '@')+1:]
	return map[string]any{
		"id":                         newID("AAMkAG"),
		"createdDateTime":            now,
		"lastModifiedDateTime":       now,
		"changeKey":                  "",
		"categories":                 []any{},
		"receivedDateTime":           now,
		"sentDateTime":               nil,
		"hasAttachments":             false,
		"internetMessageId":          "<" + newID("")[:24] + "@" + domain + ">",
		"subject":                    "",
		"bodyPreview":                "",
		"importance":                 "normal",
		"parentFolderId":             folder,
		"conversationId":             newID("AAQkAG"),
		"isDeliveryReceiptRequested": false,
		"isReadReceiptRequested":     false,
		"isRead":                     true,
		"isDraft":                    true,
		"inferenceClassification":    "focused",
		"body":                       map[string]any{"contentType": "text", "content": ""},
		"sender":                     nil,
		"from":                       nil,
		"toRecipients":               []any{},
		"ccRecipients":               []any{},
		"bccRecipients":              []any{},
		"replyTo":                    []any{},
		"flag":                       map[string]any{"flagStatus": "notFlagged"},
	}
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// setPreview derives bodyPreview from the body: its text, whitespace collapsed, at
// most 255 characters, as Exchange does.
func setPreview(doc map[string]any) {
	body, _ := doc["body"].(map[string]any)
	text, _ := body["content"].(string)
	if body["contentType"] == "html" {
		text = html.UnescapeString(tagRE.ReplaceAllString(text, " "))
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > 255 {
		text = string([]rune(text)[:255])
	}
	doc["bodyPreview"] = text
}

// messageView renders messages for the caller: without body when it holds only
// Mail.ReadBasic, and limited to $select.
func messageView(p *identity.Principal, fields []string) func(map[string]any) map[string]any {
	basic := !p.Has(mailRead...)
	return func(d map[string]any) map[string]any {
		if basic {
			d = maps.Clone(d)
			delete(d, "body")
			delete(d, "bodyPreview")
		}
		return rest.Select(d, fields)
	}
}

// message loads a message of the mailbox; under mailFolders/{folder}/messages it must
// be in that folder.
func (o *op) message(c *httpapi.Ctx, mb mailbox) (store.Object, map[string]any, error) {
	obj, doc, err := o.getItem(mb, kindMessage, c.Param("id"))
	if err != nil {
		return obj, nil, err
	}
	if seg := c.Param("folder"); seg != "" && folderID(mb, seg) != obj.Parent {
		return obj, nil, graph.ExchangeItemNotFound()
	}
	return obj, doc, nil
}

// draftParent is the folder a new message goes to: {folder}, or Drafts.
func (o *op) draftParent(c *httpapi.Ctx, mb mailbox) (string, error) {
	if c.Param("folder") == "" {
		return change.WellKnownFolderID(mb.user, "drafts"), nil
	}
	return o.folderParam(c, mb)
}

// applyMessage sets body's properties on a message; once sent, a message keeps its
// draftOnly properties as Exchange does.
func applyMessage(doc, body map[string]any) error {
	sent := doc["isDraft"] != true
	allowed := func(name string) error {
		if sent && contains(draftOnly, name) {
			return invalidRequestCode(codeSentMessageUpdate, "Update operation is invalid for property of a sent message.")
		}
		return nil
	}
	if err := messageSchema.apply(doc, body, allowed); err != nil {
		return err
	}
	setPreview(doc)
	return nil
}

func (w *Workload) listMessages(c *httpapi.Ctx) error {
	q, err := parseList(c, []odata.OrderKey{{Property: "receivedDateTime", Desc: true}})
	if err != nil {
		return err
	}
	var docs []map[string]any
	var fragment string
	var paged bool
	err = w.run(c, false, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), mailReadBasic)
		if err != nil {
			return err
		}
		query := store.ObjectQuery{Tenant: mb.tenant, Kind: kindMessage, Owner: mb.user}
		fragment = userPath(mb) + "/messages"
		if c.Param("folder") != "" {
			if query.Parent, err = o.folderParam(c, mb); err != nil {
				return err
			}
			fragment = userPath(mb) + "/mailFolders('" + query.Parent + "')/messages"
		}
		if query, paged, err = q.storeQuery(o, messageType, query); err != nil {
			return err
		}
		docs, err = o.listDocs(query, nil)
		return err
	})
	if err != nil {
		return err
	}
	if paged {
		return writeStorePage(c, fragment, q, docs, messageView(c.Principal, q.fields))
	}
	return writeList(c, fragment, q, docs, messageView(c.Principal, q.fields))
}

func (w *Workload) getMessage(c *httpapi.Ctx) error    { return w.getOne(c, messageAPI) }
func (w *Workload) createMessage(c *httpapi.Ctx) error { return w.createOne(c, messageAPI) }
func (w *Workload) updateMessage(c *httpapi.Ctx) error { return w.updateOne(c, messageAPI) }
func (w *Workload) deleteMessage(c *httpapi.Ctx) error { return w.deleteOne(c, messageAPI) }

// destination reads {"destinationId": "..."} (an id or a well-known name) and loads
// that folder.
func (o *op) destination(c *httpapi.Ctx, mb mailbox, body map[string]any) (string, error) {
	var dest string
	for k, v := range body {
		if !strings.EqualFold(k, "destinationId") {
			return "", graph.ExchangeInvalidProperty("The property '%s' does not exist on this action; only 'destinationId' is accepted.", k)
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return "", graph.ExchangeInvalidProperty("Invalid value for property 'destinationId': a folder id or well-known folder name is expected.")
		}
		dest = s
	}
	if dest == "" {
		return "", graph.ExchangeInvalidRequest("The parameter 'destinationId' is required.")
	}
	obj, _, err := o.folder(mb, dest)
	if err != nil {
		return "", err
	}
	if obj.ID == "" {
		return "", graph.ExchangeInvalidRequest("Messages cannot be placed in the folder root.")
	}
	return obj.ID, nil
}

func (w *Workload) moveMessage(c *httpapi.Ctx) error { return w.relocate(c, true) }

func (w *Workload) copyMessage(c *httpapi.Ctx) error { return w.relocate(c, false) }

// relocate moves or copies a message to another folder. Both give the message in the
// destination a new id (see the package doc); a move also removes the original.
func (w *Workload) relocate(c *httpapi.Ctx, move bool) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var out map[string]any
	var mb mailbox
	err = w.run(c, true, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), mailWrite); err != nil {
			return err
		}
		obj, doc, err := o.message(c, mb)
		if err != nil {
			return err
		}
		dest, err := o.destination(c, mb, body)
		if err != nil {
			return err
		}
		if move && dest == obj.Parent {
			out = doc
			return nil
		}
		out = maps.Clone(doc)
		out["id"] = newID("AAMkAG")
		out["parentFolderId"] = dest
		if !move {
			out["createdDateTime"] = o.now.Format(timeLayout)
		}
		// The attachments follow a moved message and are duplicated for a copy.
		if move {
			if err := o.moveAttachments(mb, obj.ID, out["id"].(string)); err != nil {
				return err
			}
			if err := o.deleteItem(messageType, mb, obj, messageTopics(mb, obj.Parent)); err != nil {
				return err
			}
		} else {
			_, atts, err := o.attachments(mb, obj.ID)
			if err != nil {
				return err
			}
			if _, err := o.insertAttachments(mb, out["id"].(string), atts); err != nil {
				return err
			}
		}
		return o.insertItem(messageType, mb, dest, out, messageTopics(mb, dest))
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, userPath(mb)+"/messages/$entity", out)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
