package outlook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// kindAttachment is a message's file attachment: owner the user, parent the message.
const kindAttachment = "attachment"

// maxAttachmentSize is the largest attachment Graph accepts in one request (3 MB);
// larger files need an upload session, which graphhook does not offer.
const maxAttachmentSize = 3 << 20

// fileAttachmentType is the only attachment type graphhook stores.
const fileAttachmentType = "#microsoft.graph.fileAttachment"

// attachmentBodyLimit lets a request carry an attachment of exactly maxAttachmentSize
// (4 MiB once base64-encoded) plus its JSON, so that the attachment's own limit, with
// its clearer error, is the one a client meets.
const attachmentBodyLimit = 5 << 20

func (w *Workload) attachmentRoutes(r *httpapi.Router) {
	for _, base := range []string{"users/{user}/messages/{id}/attachments", "users/{user}/mailFolders/{folder}/messages/{id}/attachments"} {
		r.Handle("GET", base, w.listAttachments)
		r.Handle("POST", base, w.addAttachment, httpapi.RouteOptions{MaxBody: attachmentBodyLimit})
		r.Handle("GET", base+"/{att}", w.getAttachment)
		r.Handle("GET", base+"/{att}/$value", w.attachmentValue)
		r.Handle("DELETE", base+"/{att}", w.deleteAttachment)
	}
}

// takeAttachments removes the "attachments" property from a message's create body and
// parses it. It must run before the body's annotations are stripped, since each
// attachment's @odata.type says what it is.
func takeAttachments(body map[string]any) ([]map[string]any, error) {
	for k, v := range body {
		if !strings.EqualFold(k, "attachments") {
			continue
		}
		delete(body, k)
		if v == nil {
			return nil, nil
		}
		list, ok := v.([]any)
		if !ok {
			return nil, badValue("attachments", "a collection of attachments")
		}
		atts := make([]map[string]any, 0, len(list))
		for _, e := range list {
			att, err := parseAttachment(e)
			if err != nil {
				return nil, err
			}
			atts = append(atts, att)
		}
		return atts, nil
	}
	return nil, nil
}

// parseAttachment checks a fileAttachment sent by a client and returns it as stored,
// without id and lastModifiedDateTime (set when it is stored).
func parseAttachment(v any) (map[string]any, error) {
	in, ok := v.(map[string]any)
	if !ok {
		return nil, badValue("attachments", "an object of type 'microsoft.graph.fileAttachment'")
	}
	typ := ""
	for k, v := range in {
		if strings.EqualFold(k, "@odata.type") {
			typ, _ = v.(string)
		}
	}
	if typ == "" {
		return nil, graph.ExchangeInvalidRequest("The @odata.type annotation is required on an attachment; '%s' is supported.", fileAttachmentType)
	}
	if !strings.EqualFold(strings.TrimPrefix(typ, "#"), strings.TrimPrefix(fileAttachmentType, "#")) {
		return nil, graph.ExchangeInvalidRequest("Attachments of type '%s' are not supported; only '%s' is.", typ, fileAttachmentType)
	}
	att := map[string]any{
		"@odata.type": fileAttachmentType, "name": nil, "contentType": "application/octet-stream",
		"isInline": false, "contentId": nil, "contentLocation": nil,
	}
	var content []byte
	haveContent := false
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	slices.Sort(names) // report the first bad property deterministically
	for _, k := range names {
		v := in[k]
		switch strings.ToLower(k) {
		case "name", "contenttype", "contentid", "contentlocation":
			name := map[string]string{"name": "name", "contenttype": "contentType", "contentid": "contentId", "contentlocation": "contentLocation"}[strings.ToLower(k)]
			s, err := str(name, v)
			if err != nil {
				return nil, err
			}
			if s != nil || name != "contentType" {
				att[name] = s
			}
		case "isinline":
			b, err := boolean("isInline", v)
			if err != nil {
				return nil, err
			}
			att["isInline"] = b
		case "contentbytes":
			s, ok := v.(string)
			if !ok {
				return nil, graph.ExchangeInvalidRequest("Invalid value for property 'contentBytes': a base64-encoded string is expected.")
			}
			b, err := decodeBase64(s)
			if err != nil {
				return nil, graph.ExchangeInvalidRequest("Invalid value for property 'contentBytes': the value is not valid base64.")
			}
			content, haveContent = b, true
		case "id", "size", "lastmodifieddatetime":
			return nil, graph.ExchangeInvalidProperty("The property '%s' is read-only and cannot be set.", k)
		default:
			if strings.Contains(k, "@") {
				continue // annotations are accepted and ignored, as on every write
			}
			return nil, graph.ExchangeInvalidProperty("The property '%s' does not exist on type 'Microsoft.OutlookServices.FileAttachment'. Make sure to only use property names that are defined by the type.", k)
		}
	}
	if s, _ := att["name"].(string); s == "" {
		return nil, graph.ExchangeInvalidRequest("The property 'name' is required on a file attachment.")
	}
	if !haveContent {
		return nil, graph.ExchangeInvalidRequest("The property 'contentBytes' is required on a file attachment.")
	}
	if len(content) > maxAttachmentSize {
		return nil, graph.Errorf(http.StatusRequestEntityTooLarge, graph.CodeRequestEntityTooLarge,
			"The attachment is %d bytes; at most %d bytes can be attached in one request. Use an upload session for larger files.", len(content), maxAttachmentSize)
	}
	// Stored in canonical base64 whatever alphabet the client used.
	att["contentBytes"] = base64.StdEncoding.EncodeToString(content)
	att["size"] = len(content)
	att["@odata.mediaContentType"] = att["contentType"]
	return att, nil
}

// decodeBase64 accepts standard base64 (what Graph documents) and the URL-safe
// alphabet of OData's Edm.Binary, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// hasAttachments is Graph's hasAttachments of a message with atts: inline attachments
// (pictures in the body) do not count.
func hasAttachments(atts []map[string]any) bool {
	for _, a := range atts {
		if a["isInline"] != true {
			return true
		}
	}
	return false
}

// attachments returns the attachments of a message of the mailbox, ordered by id.
func (o *op) attachments(mb mailbox, message string) ([]store.Object, []map[string]any, error) {
	objs, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: mb.tenant, Kind: kindAttachment, Owner: mb.user, Parent: message})
	if err != nil {
		return nil, nil, err
	}
	docs := make([]map[string]any, 0, len(objs))
	for _, obj := range objs {
		doc, err := rest.Decode(obj.Data)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, doc)
	}
	return objs, docs, nil
}

// insertAttachments stores copies of atts on a message, each with a new id, and
// returns the copies.
func (o *op) insertAttachments(mb mailbox, message string, atts []map[string]any) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(atts))
	for _, a := range atts {
		doc := make(map[string]any, len(a)+2)
		for k, v := range a {
			doc[k] = v
		}
		doc["id"] = newID("AAMkAGAtt")
		doc["lastModifiedDateTime"] = o.now.Format(timeLayout)
		data, err := jsonBytes(doc)
		if err != nil {
			return nil, err
		}
		obj := &store.Object{Tenant: mb.tenant, Kind: kindAttachment, ID: doc["id"].(string), Owner: mb.user, Parent: message, Data: data, Created: o.now, Updated: o.now}
		if err := o.tx.InsertObject(o.ctx, obj); err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}

// moveAttachments gives a message's attachments to the message's new id (a move).
func (o *op) moveAttachments(mb mailbox, from, to string) error {
	objs, _, err := o.attachments(mb, from)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		obj.Parent, obj.Updated = to, o.now
		if err := o.tx.UpdateObject(o.ctx, &obj); err != nil {
			return err
		}
	}
	return nil
}

// deleteAttachments removes every attachment of a message that is being deleted.
func (o *op) deleteAttachments(mb mailbox, message string) error {
	objs, _, err := o.attachments(mb, message)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := o.tx.DeleteObject(o.ctx, mb.tenant, kindAttachment, obj.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// attachment loads the {att} of the addressed message.
func (o *op) attachment(c *httpapi.Ctx, mb mailbox) (store.Object, map[string]any, error) {
	msg, _, err := o.message(c, mb)
	if err != nil {
		return store.Object{}, nil, err
	}
	obj, doc, err := o.getItem(mb, kindAttachment, c.Param("att"))
	if err != nil {
		return obj, nil, err
	}
	if obj.Parent != msg.ID {
		return obj, nil, graph.ExchangeItemNotFound()
	}
	return obj, doc, nil
}

// attachmentsPath is the @odata.context of a message's attachments.
func attachmentsPath(mb mailbox, message string) string {
	return userPath(mb) + "/messages('" + message + "')/attachments"
}

func (w *Workload) listAttachments(c *httpapi.Ctx) error {
	q, err := parseList(c, []odata.OrderKey{{Property: "name"}})
	if err != nil {
		return err
	}
	var docs []map[string]any
	var fragment string
	var paged bool
	err = w.run(c, false, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), mailRead)
		if err != nil {
			return err
		}
		msg, _, err := o.message(c, mb)
		if err != nil {
			return err
		}
		fragment = attachmentsPath(mb, msg.ID)
		query := store.ObjectQuery{Tenant: mb.tenant, Kind: kindAttachment, Owner: mb.user, Parent: msg.ID}
		if query, paged, err = q.pushDown(o, propsOf(kindAttachment), "", query); err != nil {
			return err
		}
		docs, err = o.listDocs(query, nil)
		return err
	})
	if err != nil {
		return err
	}
	view := func(d map[string]any) map[string]any { return rest.Select(d, q.fields) }
	if paged {
		return writeStorePage(c, fragment, q, docs, view)
	}
	return writeList(c, fragment, q, docs, view)
}

func (w *Workload) getAttachment(c *httpapi.Ctx) error {
	fields, err := rest.Fields(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var mb mailbox
	err = w.run(c, false, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), mailRead); err != nil {
			return err
		}
		_, doc, err = o.attachment(c, mb)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, attachmentsPath(mb, c.Param("id"))+"/$entity", rest.Select(doc, fields))
}

// attachmentValue serves an attachment's raw bytes with its content type.
func (w *Workload) attachmentValue(c *httpapi.Ctx) error {
	var doc map[string]any
	err := w.run(c, false, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), mailRead)
		if err != nil {
			return err
		}
		_, doc, err = o.attachment(c, mb)
		return err
	})
	if err != nil {
		return err
	}
	s, _ := doc["contentBytes"].(string)
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	ct, _ := doc["contentType"].(string)
	h := c.W.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	c.W.WriteHeader(http.StatusOK)
	_, err = c.W.Write(data)
	return err
}

// addAttachment stores a file attachment on a message. The message changes with it
// (change key, hasAttachments), so the add is recorded as the message's "updated".
func (w *Workload) addAttachment(c *httpapi.Ctx) error {
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	var out map[string]any
	var mb mailbox
	var msgID string
	err = w.run(c, true, func(o *op) error {
		if mb, err = o.mailbox(c.Param("user"), mailWrite); err != nil {
			return err
		}
		// Checked after the permission, so a caller without it learns nothing else.
		att, err := parseAttachment(body)
		if err != nil {
			return err
		}
		msg, doc, err := o.message(c, mb)
		if err != nil {
			return err
		}
		msgID = msg.ID
		added, err := o.insertAttachments(mb, msg.ID, []map[string]any{att})
		if err != nil {
			return err
		}
		out = added[0]
		_, atts, err := o.attachments(mb, msg.ID)
		if err != nil {
			return err
		}
		doc["hasAttachments"] = hasAttachments(atts)
		return o.updateItem(messageType, mb, msg, doc, messageTopics(mb, msg.Parent))
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, attachmentsPath(mb, msgID)+"/$entity", out)
}

// deleteAttachment removes an attachment; like adding one, it updates the message.
func (w *Workload) deleteAttachment(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), mailWrite)
		if err != nil {
			return err
		}
		obj, _, err := o.attachment(c, mb)
		if err != nil {
			return err
		}
		if err := o.tx.DeleteObject(o.ctx, mb.tenant, kindAttachment, obj.ID); err != nil {
			return err
		}
		msg, doc, err := o.message(c, mb)
		if err != nil {
			return err
		}
		_, atts, err := o.attachments(mb, msg.ID)
		if err != nil {
			return err
		}
		doc["hasAttachments"] = hasAttachments(atts)
		return o.updateItem(messageType, mb, msg, doc, messageTopics(mb, msg.Parent))
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
