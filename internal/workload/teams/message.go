package teams

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// maxContent is Teams' limit on a message's body, about 28 KB.
const maxContent = 28 * 1024

// Message page sizes: Graph serves at most 50 messages per page.
const (
	defaultMessageTop = 20
	maxMessageTop     = 50
)

var importances = []string{"normal", "high", "urgent"}

// writable are the chatMessage properties a client may send when posting or editing;
// readOnly are those Graph serves that a client may echo back and that are ignored.
var (
	writable = []string{"body", "subject", "summary", "importance", "mentions", "attachments", "from"}
	readOnly = []string{"id", "replyToId", "etag", "messageType", "createdDateTime", "lastModifiedDateTime", "lastEditedDateTime",
		"deletedDateTime", "chatId", "channelIdentity", "locale", "webUrl", "policyViolation", "reactions", "eventDetail", "hostedContents", "replies"}
)

// messageInput is a checked post or edit body.
type messageInput struct {
	set map[string]any // writable properties present in the body, "from" excluded
	// fromUser is the user id an application post names as its sender (migration
	// style); "" when the body has no from.
	fromUser string
}

func parseMessage(body map[string]any, post bool) (messageInput, error) {
	in := messageInput{set: map[string]any{}}
	for k, v := range body {
		if strings.Contains(k, "@") || slices.Contains(readOnly, k) {
			continue
		}
		if !slices.Contains(writable, k) {
			return in, graph.BadRequest("Property '%s' does not exist on type 'microsoft.graph.chatMessage'.", k)
		}
		switch k {
		case "body":
			b, ok := v.(map[string]any)
			if !ok {
				return in, graph.BadRequest("Invalid value for 'body': an itemBody object expected.")
			}
			content, ok := b["content"].(string)
			if !ok {
				return in, graph.BadRequest("The message body's content is required.")
			}
			if len(content) > maxContent {
				return in, graph.Errorf(http.StatusRequestEntityTooLarge, graph.CodeRequestEntityTooLarge, "Message size limit exceeded: the body can have at most %d bytes.", maxContent)
			}
			ct := strings.ToLower(rest.Str(b["contentType"]))
			if ct == "" {
				ct = "text"
			}
			if ct != "text" && ct != "html" {
				return in, graph.BadRequest("Invalid contentType '%v': text or html expected.", b["contentType"])
			}
			in.set["body"] = map[string]any{"contentType": ct, "content": content}
		case "subject", "summary":
			if _, ok := v.(string); v != nil && !ok {
				return in, graph.BadRequest("Invalid value for '%s': a string expected.", k)
			}
			in.set[k] = v
		case "importance":
			s, _ := v.(string)
			if !slices.Contains(importances, s) {
				return in, graph.BadRequest("Invalid importance '%v': normal, high or urgent expected.", v)
			}
			in.set[k] = s
		case "mentions", "attachments":
			if v == nil {
				v = []any{}
			}
			arr, ok := v.([]any)
			if !ok {
				return in, graph.BadRequest("Invalid value for '%s': an array expected.", k)
			}
			for _, e := range arr {
				if _, ok := e.(map[string]any); !ok {
					return in, graph.BadRequest("Invalid value for '%s': an array of objects expected.", k)
				}
			}
			in.set[k] = arr
		case "from":
			f, _ := v.(map[string]any)
			u, _ := f["user"].(map[string]any)
			id, _ := u["id"].(string)
			if id == "" {
				return in, graph.BadRequest("Invalid value for 'from': {\"user\": {\"id\": …}} expected.")
			}
			in.fromUser = id
		}
	}
	if post {
		if _, ok := in.set["body"]; !ok {
			return in, graph.BadRequest("The message body is required.")
		}
	}
	return in, nil
}

// nextID returns a message id: the millisecond of now, or the next free one after the
// last id given out, so ids grow strictly and stay unique in the tenant's store rows.
func (w *Workload) nextID(ctx context.Context, tx store.Tx, tenant, kind string, now time.Time) (string, time.Time, error) {
	w.mu.Lock()
	ms := now.UnixMilli()
	if ms <= w.lastID {
		ms = w.lastID + 1
	}
	w.lastID = ms
	w.mu.Unlock()
	for {
		id := strconv.FormatInt(ms, 10)
		_, err := tx.GetObject(ctx, tenant, kind, id)
		if errors.Is(err, store.ErrNotFound) {
			return id, time.UnixMilli(ms).UTC(), nil
		}
		if err != nil {
			return "", time.Time{}, err
		}
		ms++
		w.mu.Lock()
		if ms > w.lastID {
			w.lastID = ms
		}
		w.mu.Unlock()
	}
}

// sender is the "from" of a new message.
func (w *Workload) sender(ctx context.Context, tx store.Tx, p *identity.Principal, in messageInput) (map[string]any, string, error) {
	uid := p.UserID
	if !p.Type.Delegated() {
		if in.fromUser == "" {
			name := "graphhook app"
			if app, err := w.ident.App(ctx, p.AppID); err == nil && app.DisplayName != "" {
				name = app.DisplayName
			}
			return map[string]any{"application": map[string]any{"@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
				"id": p.AppID, "displayName": name, "applicationIdentityType": "aadApplication"}, "device": nil, "user": nil}, "", nil
		}
		uid = in.fromUser
	} else if in.fromUser != "" && !strings.EqualFold(in.fromUser, p.UserID) {
		return nil, "", graph.BadRequest("A delegated caller posts as the signed-in user; 'from' must be omitted or name that user.")
	}
	u, doc, err := userDoc(ctx, tx, p.TenantID, uid)
	if err != nil {
		return nil, "", err
	}
	return map[string]any{"application": nil, "device": nil, "user": map[string]any{
		"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": u.ID, "displayName": doc["displayName"],
		"userIdentityType": "aadUser", "tenantId": p.TenantID}}, u.ID, nil
}

// newMessage builds a chatMessage as GET serves it.
func newMessage(id string, created time.Time, from map[string]any, in messageInput) map[string]any {
	stamp := msTime(created)
	doc := map[string]any{
		"id":                   id,
		"replyToId":            nil,
		"etag":                 id,
		"messageType":          "message",
		"createdDateTime":      stamp,
		"lastModifiedDateTime": stamp,
		"lastEditedDateTime":   nil,
		"deletedDateTime":      nil,
		"subject":              nil,
		"summary":              nil,
		"chatId":               nil,
		"importance":           "normal",
		"locale":               "en-us",
		"webUrl":               nil,
		"channelIdentity":      nil,
		"policyViolation":      nil,
		"eventDetail":          nil,
		"from":                 from,
		"body":                 nil,
		"attachments":          []any{},
		"mentions":             []any{},
		"reactions":            []any{},
	}
	for k, v := range in.set {
		doc[k] = v
	}
	return doc
}

// senderID returns the user id of a message's sender ("" for an application).
func senderID(doc map[string]any) string {
	from, _ := doc["from"].(map[string]any)
	u, _ := from["user"].(map[string]any)
	return rest.Str(u["id"])
}

// edit applies an edit by the sender.
func edit(doc map[string]any, in messageInput, now time.Time) {
	for k, v := range in.set {
		doc[k] = v
	}
	touch(doc, now)
	doc["lastEditedDateTime"] = msTime(now)
}

// touch marks a message modified: Teams' etag is the millisecond of the last change.
func touch(doc map[string]any, now time.Time) {
	doc["lastModifiedDateTime"] = msTime(now)
	doc["etag"] = strconv.FormatInt(now.UnixMilli(), 10)
}

// checkEdit refuses edits Graph refuses: by anyone but the sender, by applications,
// and of deleted messages.
func checkEdit(p *identity.Principal, doc map[string]any) error {
	if !p.Type.Delegated() {
		return graph.Errorf(http.StatusForbidden, codeForbidden, "Application permissions can only update a message's policyViolation, which graphhook does not model; edit messages as their sender.")
	}
	if !strings.EqualFold(senderID(doc), p.UserID) {
		return graph.Errorf(http.StatusForbidden, codeForbidden, "Only the sender of a message can update or delete it.")
	}
	return nil
}

// messageWrite is one message change to store and record.
type messageWrite struct {
	tenant     string
	kind       string
	obj        *store.Object // Version 0: insert
	doc        map[string]any
	before     []byte // the previous GET JSON; nil when created
	changeType string
	topics     []string
	resource   string
	context    string // @odata.context of the GET JSON
}

// getJSON is a message as GET returns it: the stored document plus @odata.context.
func getJSON(doc map[string]any, contextURL string) ([]byte, error) {
	out := make(map[string]any, len(doc)+1)
	for k, v := range doc {
		out[k] = v
	}
	out["@odata.context"] = contextURL
	return docjson.Marshal(out)
}

func (m messageWrite) apply(ctx context.Context, tx store.Tx, now time.Time) error {
	data, err := json.Marshal(m.doc)
	if err != nil {
		return err
	}
	m.obj.Data, m.obj.Updated = data, now
	if m.obj.Version == 0 {
		m.obj.Created = now
		err = tx.InsertObject(ctx, m.obj)
	} else {
		err = tx.UpdateObject(ctx, m.obj)
	}
	if err != nil {
		return err
	}
	after, err := getJSON(m.doc, m.context)
	if err != nil {
		return err
	}
	id := rest.Str(m.doc["id"])
	return change.Record(ctx, tx, m.tenant, m.kind, id, m.changeType, m.topics, m.before, after,
		change.Notice{Resource: m.resource, ODataType: "#Microsoft.Graph.chatMessage", ODataID: m.resource, ID: id, Rich: true}, now)
}

// channelMessageURL is a channel message's webUrl, as Teams forms it.
func channelMessageURL(tenant, team, channel, id, parent string, created time.Time) string {
	if parent == "" {
		parent = id
	}
	return "https://teams.microsoft.com/l/message/" + url.PathEscape(channel) + "/" + id +
		"?groupId=" + team + "&tenantId=" + tenant + "&createdTime=" + strconv.FormatInt(created.UnixMilli(), 10) + "&parentMessageId=" + parent
}

// parseMessageTop reads $top of a message list.
func parseMessageTop(c *httpapi.Ctx) (int, error) {
	s := c.Query("$top")
	if s == "" {
		return defaultMessageTop, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxMessageTop || strings.TrimLeft(s, "0123456789") != "" {
		return 0, graph.BadRequest("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", s, maxMessageTop)
	}
	return n, nil
}

// storedMessage is a chat or channel message found for a request, with what the
// shared read and edit paths need to serve it and record its changes.
type storedMessage struct {
	obj      store.Object
	doc      map[string]any
	kind     string   // KindChatMessage or KindChannelMessage
	topics   []string // the topics a change to it touches
	resource string   // notification resource and @odata.id
	fragment string   // @odata.context fragment of its GET JSON
}

// locator finds the message a request addresses inside tx.
type locator func(c *httpapi.Ctx, tx store.Tx) (storedMessage, error)

// messageJSON writes a message as Teams does, with its full OData content type.
func messageJSON(c *httpapi.Ctx, status int, body []byte) error {
	return c.Write(status, "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8", body)
}

// serveMessage answers a GET of one message.
func (w *Workload) serveMessage(c *httpapi.Ctx, need rest.Permissions, locate locator) error {
	if err := need.Check(c.Principal); err != nil {
		return err
	}
	var out []byte
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		m, err := locate(c, tx)
		if err != nil {
			return err
		}
		out, err = getJSON(m.doc, c.ContextURL(m.fragment))
		return err
	})
	if err != nil {
		return err
	}
	return messageJSON(c, http.StatusOK, out)
}

// readPost checks the caller may post and reads the new message from the body.
func readPost(c *httpapi.Ctx, need rest.Permissions) (messageInput, error) {
	if err := need.Check(c.Principal); err != nil {
		return messageInput{}, err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return messageInput{}, err
	}
	return parseMessage(body, true)
}

// insertMessage stores a new message as obj (whose owner and parent the caller set),
// records its "created" change and returns its GET JSON.
func insertMessage(c *httpapi.Ctx, tx store.Tx, obj store.Object, doc map[string]any, topics []string, resource, fragment string) ([]byte, error) {
	ctxURL := c.ContextURL(fragment)
	obj.Tenant, obj.ID = c.Principal.TenantID, rest.Str(doc["id"])
	err := messageWrite{tenant: obj.Tenant, kind: obj.Kind, obj: &obj, doc: doc, changeType: store.Created,
		topics: topics, resource: resource, context: ctxURL}.apply(c.R.Context(), tx, c.Now)
	if err != nil {
		return nil, err
	}
	return getJSON(doc, ctxURL)
}

// editMessage serves a PATCH of a message by its sender.
func (w *Workload) editMessage(c *httpapi.Ctx, need rest.Permissions, locate locator) error {
	if err := need.Check(c.Principal); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	in, err := parseMessage(body, false)
	if err != nil {
		return err
	}
	if in.fromUser != "" {
		return graph.BadRequest("The sender of a message cannot be changed.")
	}
	return w.reviseMessage(c, locate, func(doc map[string]any) (bool, error) {
		if doc["deletedDateTime"] != nil {
			return false, graph.BadRequest("The message has been deleted and cannot be edited.")
		}
		edit(doc, in, c.Now)
		return true, nil
	})
}

// softDeleteMessage serves softDelete (del) and undoSoftDelete (!del). A call that
// finds the message already in the asked state succeeds without a change.
func (w *Workload) softDeleteMessage(need rest.Permissions, locate locator, del bool) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		if err := need.Check(c.Principal); err != nil {
			return err
		}
		return w.reviseMessage(c, locate, func(doc map[string]any) (bool, error) {
			if (doc["deletedDateTime"] != nil) == del {
				return false, nil
			}
			setDeleted(doc, del, c)
			return true, nil
		})
	}
}

// reviseMessage lets the sender change the message locate finds: revise changes doc,
// or reports that there is nothing to change, and the result is stored and recorded
// as "updated". It answers 204, as Graph does for edits and soft deletes.
func (w *Workload) reviseMessage(c *httpapi.Ctx, locate locator, revise func(doc map[string]any) (bool, error)) error {
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		m, err := locate(c, tx)
		if err != nil {
			return err
		}
		if err := checkEdit(c.Principal, m.doc); err != nil {
			return err
		}
		ctxURL := c.ContextURL(m.fragment)
		before, err := getJSON(m.doc, ctxURL)
		if err != nil {
			return err
		}
		if changed, err := revise(m.doc); err != nil || !changed {
			return err
		}
		return messageWrite{tenant: c.Principal.TenantID, kind: m.kind, obj: &m.obj, doc: m.doc, before: before,
			changeType: store.Updated, topics: m.topics, resource: m.resource, context: ctxURL}.apply(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// pageOptions checks the caller may read messages and reads $top and $skiptoken of a
// message list.
func pageOptions(c *httpapi.Ctx, need rest.Permissions) (top int, after string, err error) {
	if err := need.Check(c.Principal); err != nil {
		return 0, "", err
	}
	if top, err = parseMessageTop(c); err != nil {
		return 0, "", err
	}
	if after, err = skipToken(c); err != nil {
		return 0, "", err
	}
	return top, after, nil
}

// decodeAll decodes objects' documents, keeping those keep accepts (nil keeps all).
func decodeAll(objs []store.Object, keep func(map[string]any) bool) ([]map[string]any, error) {
	var docs []map[string]any
	for _, o := range objs {
		doc, err := rest.Decode(o.Data)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(doc) {
			docs = append(docs, doc)
		}
	}
	return docs, nil
}
