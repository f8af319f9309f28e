package outlook

import (
	"encoding/json"
	"errors"
	"html"
	"maps"
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

func (w *Workload) sendRoutes(r *httpapi.Router) {
	r.Handle("POST", "users/{user}/sendMail", w.sendMail)
	for _, base := range []string{"users/{user}/messages/{id}", "users/{user}/mailFolders/{folder}/messages/{id}"} {
		r.Handle("POST", base+"/send", w.sendDraft)
		for _, kind := range []replyKind{replyOne, replyAll, forward} {
			r.Handle("POST", base+"/"+kind.action(false), w.respond(kind, false))
			r.Handle("POST", base+"/"+kind.action(true), w.respond(kind, true))
		}
	}
}

// deliver sends msg with its attachments atts from mb: a copy in the inbox of each
// recipient that is a mailbox of the same tenant (Bcc hidden from them), and, when
// save is set, a copy in the sender's Sent Items. Addresses outside the tenant go
// nowhere. Every copy gets its own copy of the attachments.
func (o *op) deliver(mb mailbox, msg map[string]any, atts []map[string]any, save bool) error {
	now := o.now.Format(timeLayout)
	msg["hasAttachments"] = hasAttachments(atts)
	if msg["from"] == nil {
		msg["from"] = mb.recipient()
	}
	if msg["sender"] == nil {
		msg["sender"] = msg["from"]
	}
	msg["sentDateTime"] = now
	msg["receivedDateTime"] = now
	msg["isDraft"] = false
	seen := map[string]bool{}
	for _, field := range []string{"toRecipients", "ccRecipients", "bccRecipients"} {
		list, _ := msg[field].([]any)
		for _, r := range list {
			addr := recipientAddress(r)
			if addr == "" || seen[addr] {
				continue
			}
			seen[addr] = true
			to, ok, err := o.localMailbox(mb.tenant, addr)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := o.provision(to); err != nil {
				return err
			}
			inbox := change.WellKnownFolderID(to.user, "inbox")
			copy := maps.Clone(msg)
			copy["id"] = newID("AAMkAG")
			copy["parentFolderId"] = inbox
			copy["isRead"] = false
			copy["createdDateTime"] = now
			copy["bccRecipients"] = []any{}
			copy["categories"] = []any{}
			copy["flag"] = map[string]any{"flagStatus": "notFlagged"}
			if _, err := o.insertAttachments(to, copy["id"].(string), atts); err != nil {
				return err
			}
			if err := o.insertItem(messageType, to, inbox, copy, messageTopics(to, inbox)); err != nil {
				return err
			}
		}
	}
	if len(seen) == 0 {
		return invalidRequestCode(codeInvalidRecipients, "At least one recipient isn't valid., A message can't be sent because it contains no recipients.")
	}
	if !save {
		return nil
	}
	sent := change.WellKnownFolderID(mb.user, "sentitems")
	copy := maps.Clone(msg)
	copy["id"] = newID("AAMkAG")
	copy["parentFolderId"] = sent
	copy["isRead"] = true
	copy["createdDateTime"] = now
	if _, err := o.insertAttachments(mb, copy["id"].(string), atts); err != nil {
		return err
	}
	return o.insertItem(messageType, mb, sent, copy, messageTopics(mb, sent))
}

func recipientAddress(r any) string {
	m, _ := r.(map[string]any)
	ea, _ := m["emailAddress"].(map[string]any)
	s, _ := ea["address"].(string)
	return strings.ToLower(s)
}

// localMailbox finds the mailbox of addr in tenant: a user whose user principal name
// or mail is addr.
func (o *op) localMailbox(tenant, addr string) (mailbox, bool, error) {
	u, err := o.tx.GetObjectByAlt(o.ctx, tenant, identity.KindUser, addr)
	if errors.Is(err, store.ErrNotFound) {
		// Mail may differ from the UPN; look through the tenant's users, or let the
		// store find the first whose mail is addr (from an index) when it compares
		// as EqualFold does: for an address of ASCII characters.
		q := store.ObjectQuery{Tenant: tenant, Kind: identity.KindUser}
		if addr != "" && isASCII(addr) {
			q.Where, q.Limit = &store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "mail"}, Value: addr}, 1
		}
		users, err := o.tx.ListObjects(o.ctx, q)
		if err != nil {
			return mailbox{}, false, err
		}
		found := false
		for _, cand := range users {
			var d struct {
				Mail string `json:"mail"`
			}
			json.Unmarshal(cand.Data, &d)
			if strings.EqualFold(d.Mail, addr) {
				u, found = cand, true
				break
			}
		}
		if !found {
			return mailbox{}, false, nil
		}
	} else if err != nil {
		return mailbox{}, false, err
	}
	var d struct {
		DisplayName string `json:"displayName"`
		Mail        string `json:"mail"`
	}
	json.Unmarshal(u.Data, &d)
	return mailbox{tenant: tenant, user: u.ID, name: d.DisplayName, address: addr}, true, nil
}

func (w *Workload) sendMail(c *httpapi.Ctx) error {
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	// Attachments are taken out before annotations are stripped: their @odata.type
	// says what they are.
	var atts []map[string]any
	for k, v := range body {
		if m, ok := v.(map[string]any); ok && strings.EqualFold(k, "message") {
			if atts, err = takeAttachments(m); err != nil {
				return err
			}
		}
	}
	httpapi.StripAnnotations(body)
	save := true
	var msgBody map[string]any
	for k, v := range body {
		switch strings.ToLower(k) {
		case "message":
			m, ok := v.(map[string]any)
			if !ok {
				return graph.ExchangeInvalidProperty("Invalid value for property 'message': an object of type 'Microsoft.OutlookServices.Message' is expected.")
			}
			msgBody = m
		case "savetosentitems":
			b, ok := v.(bool)
			if !ok {
				return graph.ExchangeInvalidProperty("Invalid value for property 'saveToSentItems': a Boolean is expected.")
			}
			save = b
		default:
			return graph.ExchangeInvalidProperty("The property '%s' does not exist on the sendMail action; 'message' and 'saveToSentItems' are accepted.", k)
		}
	}
	if msgBody == nil {
		return graph.ExchangeInvalidRequest("The parameter 'message' is required.")
	}
	err = w.run(c, true, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), mailSend)
		if err != nil {
			return err
		}
		msg := o.newMessage(mb, "")
		if err := messageSchema.apply(msg, msgBody, nil); err != nil {
			return err
		}
		setPreview(msg)
		return o.deliver(mb, msg, atts, save)
	})
	if err != nil {
		return err
	}
	return rest.Accepted(c)
}

// sendDraft sends a draft; the draft leaves Drafts (its change is "deleted") and the
// sent copy appears in Sent Items with a new id.
func (w *Workload) sendDraft(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		mb, err := o.mailbox(c.Param("user"), mailSend)
		if err != nil {
			return err
		}
		obj, doc, err := o.message(c, mb)
		if err != nil {
			return err
		}
		if doc["isDraft"] != true {
			return graph.ExchangeInvalidRequest("Only draft messages can be sent; this message has already been sent.")
		}
		_, atts, err := o.attachments(mb, obj.ID)
		if err != nil {
			return err
		}
		if err := o.deleteItem(messageType, mb, obj, messageTopics(mb, obj.Parent)); err != nil {
			return err
		}
		return o.deliver(mb, doc, atts, true)
	})
	if err != nil {
		return err
	}
	return rest.Accepted(c)
}

// replyKind is reply, replyAll or forward.
type replyKind int

const (
	replyOne replyKind = iota
	replyAll
	forward
)

// action is the Graph action name: reply, createReply, replyAll, ….
func (k replyKind) action(create bool) string {
	name := [...]string{"reply", "replyAll", "forward"}[k]
	if create {
		return "create" + strings.ToUpper(name[:1]) + name[1:]
	}
	return name
}

// respond serves reply/replyAll/forward (sent at once, 202) and their create* forms
// (a draft in Drafts, 201).
func (w *Workload) respond(kind replyKind, create bool) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		var body map[string]any
		if c.R.ContentLength != 0 {
			var err error
			if body, err = c.DecodeObject(); err != nil {
				return err
			}
			httpapi.StripAnnotations(body)
		}
		comment, msgBody, to, err := replyBody(kind, body)
		if err != nil {
			return err
		}
		perms := mailSend
		if create {
			perms = mailWrite
		}
		var draft map[string]any
		var mb mailbox
		err = w.run(c, true, func(o *op) error {
			if mb, err = o.mailbox(c.Param("user"), perms); err != nil {
				return err
			}
			origObj, orig, err := o.message(c, mb)
			if err != nil {
				return err
			}
			// A forward carries the original's attachments; a reply does not.
			var atts []map[string]any
			if kind == forward {
				if _, atts, err = o.attachments(mb, origObj.ID); err != nil {
					return err
				}
			}
			drafts := change.WellKnownFolderID(mb.user, "drafts")
			draft = o.newMessage(mb, drafts)
			draft["conversationId"] = orig["conversationId"]
			draft["from"] = mb.recipient()
			subject, _ := orig["subject"].(string)
			prefix := "RE: "
			if kind == forward {
				prefix = "FW: "
			}
			if !strings.HasPrefix(strings.ToUpper(subject), strings.TrimSpace(prefix)) {
				subject = prefix + subject
			}
			draft["subject"] = subject
			draft["toRecipients"] = replyRecipients(kind, mb, orig, to)
			if kind == replyAll {
				draft["ccRecipients"] = withoutAddress(orig["ccRecipients"], mb.address)
			}
			draft["body"] = quoteBody(comment, orig)
			if msgBody != nil {
				if err := messageSchema.apply(draft, msgBody, nil); err != nil {
					return err
				}
			}
			setPreview(draft)
			if create {
				draft["hasAttachments"] = hasAttachments(atts)
				if _, err := o.insertAttachments(mb, draft["id"].(string), atts); err != nil {
					return err
				}
				return o.insertItem(messageType, mb, drafts, draft, messageTopics(mb, drafts))
			}
			return o.deliver(mb, draft, atts, true)
		})
		if err != nil {
			return err
		}
		if create {
			return rest.Entity(c, http.StatusCreated, userPath(mb)+"/messages/$entity", draft)
		}
		return rest.Accepted(c)
	}
}

// replyBody reads {"comment", "message", "toRecipients"} (toRecipients for forwards).
func replyBody(kind replyKind, body map[string]any) (comment string, msg map[string]any, to []any, err error) {
	for k, v := range body {
		switch {
		case strings.EqualFold(k, "comment"):
			s, ok := v.(string)
			if !ok && v != nil {
				return "", nil, nil, graph.ExchangeInvalidProperty("Invalid value for property 'comment': a string is expected.")
			}
			comment = s
		case strings.EqualFold(k, "message"):
			m, ok := v.(map[string]any)
			if !ok {
				return "", nil, nil, graph.ExchangeInvalidProperty("Invalid value for property 'message': an object of type 'Microsoft.OutlookServices.Message' is expected.")
			}
			msg = m
		case strings.EqualFold(k, "toRecipients") && kind == forward:
			r, err := recipients("toRecipients", v)
			if err != nil {
				return "", nil, nil, err
			}
			to = r.([]any)
		default:
			return "", nil, nil, graph.ExchangeInvalidProperty("The property '%s' does not exist on this action.", k)
		}
	}
	return comment, msg, to, nil
}

// replyRecipients: a reply goes to the original's replyTo (or its sender), reply-all
// also to its other To recipients, a forward to whom the caller names.
func replyRecipients(kind replyKind, mb mailbox, orig map[string]any, to []any) []any {
	if kind == forward {
		if to == nil {
			return []any{}
		}
		return to
	}
	out := []any{}
	if rt, _ := orig["replyTo"].([]any); len(rt) > 0 {
		out = append(out, rt...)
	} else if from := orig["from"]; from != nil {
		out = append(out, from)
	}
	if kind == replyAll {
		out = append(out, withoutAddress(orig["toRecipients"], mb.address)...)
	}
	return out
}

func withoutAddress(list any, addr string) []any {
	out := []any{}
	arr, _ := list.([]any)
	for _, r := range arr {
		if !strings.EqualFold(recipientAddress(r), addr) {
			out = append(out, r)
		}
	}
	return out
}

// quoteBody is the comment followed by the original text, in the original's format.
func quoteBody(comment string, orig map[string]any) map[string]any {
	ob, _ := orig["body"].(map[string]any)
	ct, _ := ob["contentType"].(string)
	content, _ := ob["content"].(string)
	if ct == "html" {
		return map[string]any{"contentType": "html", "content": "<div>" + html.EscapeString(comment) + "</div><hr>" + content}
	}
	return map[string]any{"contentType": "text", "content": comment + "\n\n" + content}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
