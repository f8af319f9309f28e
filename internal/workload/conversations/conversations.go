// Package conversations is the group conversations workload: the conversations,
// threads and posts of Microsoft 365 groups (groups whose groupTypes contain
// "Unified"), reachable as Graph serves them, under groups/{id}/conversations and
// groups/{id}/threads.
//
// Conversations are what clients subscribe to (groups/{id}/conversations), so every
// write that changes one records a change of kind "conversation" on
// change.GroupConversations(g): "created" for a new conversation, "updated" when a
// thread or post is added to it, "deleted" when it is deleted. Threads and posts have
// no topic of their own. A conversation's summary (lastDeliveredDateTime,
// uniqueSenders, preview, hasAttachments) is recomputed on each post and stored, so
// the change record's Before and After show it move.
//
// Store columns (docs/architecture.md): conversation (owner group), thread (owner group,
// parent conversation), post (owner group, parent thread).
package conversations

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// Workload serves group conversations.
type Workload struct {
	st    store.Store
	ident *identity.Service
}

// New returns the conversations workload; ident supplies tenant domains for the
// address of a group.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

const (
	kindConversation = "conversation"
	kindThread       = "thread"
	kindPost         = "post"
)

var (
	readPerms  = []string{"Group.Read.All", "Group.ReadWrite.All"}
	writePerms = []string{"Group.ReadWrite.All"}
)

// Routes registers the workload's Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("GET", "groups/{group}/conversations", w.listConversations)
	r.Handle("POST", "groups/{group}/conversations", w.createConversation)
	r.Handle("GET", "groups/{group}/conversations/{conv}", w.getConversation)
	r.Handle("DELETE", "groups/{group}/conversations/{conv}", w.deleteConversation)
	for _, base := range []string{"groups/{group}/threads", "groups/{group}/conversations/{conv}/threads"} {
		r.Handle("GET", base, w.listThreads)
		r.Handle("POST", base, w.createThread)
		r.Handle("GET", base+"/{thread}", w.getThread)
		r.Handle("POST", base+"/{thread}/reply", w.reply)
		r.Handle("GET", base+"/{thread}/posts", w.listPosts)
		r.Handle("GET", base+"/{thread}/posts/{post}", w.getPost)
		r.Handle("POST", base+"/{thread}/posts/{post}/reply", w.reply)
	}
}

func accessDenied() error {
	return graph.Errorf(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
}

func itemNotFound() error {
	return graph.Errorf(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

func invalidProperty(format string, args ...any) error {
	return graph.Errorf(http.StatusBadRequest, "ErrorInvalidProperty", format, args...)
}

func invalidRequest(format string, args ...any) error {
	return graph.Errorf(http.StatusBadRequest, "ErrorInvalidRequest", format, args...)
}

// op is one request's work in a transaction.
type op struct {
	ctx   context.Context
	tx    store.Tx
	now   time.Time
	p     *identity.Principal
	group string
	// sender is the caller as a post's from: the signed-in user, or the group itself
	// for application callers.
	sender map[string]any
	// groupDoc is the group's stored document.
	groupDoc map[string]any
	// posts counts the posts this request wrote.
	posts int
}

// run opens a transaction, checks the caller's permission and the group, and calls fn.
func (w *Workload) run(c *httpapi.Ctx, write bool, fn func(o *op) error) error {
	p := c.Principal
	perms := readPerms
	if write {
		perms = writePerms
	}
	if p.Type == identity.DelegatedPersonal || !p.Has(perms...) {
		return accessDenied()
	}
	ctx := c.R.Context()
	body := func(tx store.Tx) error {
		o := &op{ctx: ctx, tx: tx, now: c.Now.UTC(), p: p}
		if err := w.openGroup(o, c.Param("group")); err != nil {
			return err
		}
		return fn(o)
	}
	if write {
		return w.st.Update(ctx, body)
	}
	return w.st.View(ctx, body)
}

// openGroup loads the group, refuses groups without conversations, and checks that a
// delegated caller belongs to it.
func (w *Workload) openGroup(o *op, id string) error {
	id = strings.ToLower(id)
	g, err := o.tx.GetObject(o.ctx, o.p.TenantID, identity.KindGroup, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleted) {
		return graph.Errorf(http.StatusNotFound, graph.CodeRequestResourceNotFound, "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(g.Data, &o.groupDoc); err != nil {
		return err
	}
	types, _ := o.groupDoc["groupTypes"].([]any)
	if !slices.ContainsFunc(types, func(t any) bool { s, _ := t.(string); return strings.EqualFold(s, "Unified") }) {
		return invalidRequest("Conversations are available only in Microsoft 365 groups (groupTypes containing 'Unified').")
	}
	o.group = g.ID
	if !o.p.Type.Delegated() {
		name, _ := o.groupDoc["displayName"].(string)
		nick, _ := o.groupDoc["mailNickname"].(string)
		addr, _ := o.groupDoc["mail"].(string)
		if addr == "" {
			if t, ok := w.ident.Tenant(o.p.TenantID); ok {
				addr = nick + "@" + t.Domain
			}
		}
		o.sender = map[string]any{"emailAddress": map[string]any{"name": name, "address": addr}}
		return nil
	}
	member := false
	for _, kind := range []string{identity.KindMember, identity.KindOwner} {
		_, err := o.tx.GetObject(o.ctx, o.p.TenantID, kind, identity.MembershipID(g.ID, o.p.UserID))
		if err == nil {
			member = true
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if !member {
		return accessDenied()
	}
	u, err := o.tx.GetObject(o.ctx, o.p.TenantID, identity.KindUser, strings.ToLower(o.p.UserID))
	if err != nil {
		return err
	}
	var ud struct {
		DisplayName string `json:"displayName"`
		Mail        string `json:"mail"`
		UPN         string `json:"userPrincipalName"`
	}
	json.Unmarshal(u.Data, &ud)
	if ud.Mail == "" {
		ud.Mail = ud.UPN
	}
	o.sender = map[string]any{"emailAddress": map[string]any{"name": ud.DisplayName, "address": ud.Mail}}
	return nil
}

// get loads an object of the group.
func (o *op) get(kind, id, parent string) (store.Object, map[string]any, error) {
	obj, err := o.tx.GetObject(o.ctx, o.p.TenantID, kind, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (obj.Owner != o.group || (parent != "" && obj.Parent != parent))) {
		return store.Object{}, nil, itemNotFound()
	}
	if err != nil {
		return store.Object{}, nil, err
	}
	var doc map[string]any
	err = json.Unmarshal(obj.Data, &doc)
	return obj, doc, err
}

// thread loads the {thread} of the path, inside {conv} when the path names one.
func (o *op) thread(c *httpapi.Ctx) (store.Object, map[string]any, error) {
	if conv := c.Param("conv"); conv != "" {
		if _, _, err := o.get(kindConversation, conv, ""); err != nil {
			return store.Object{}, nil, err
		}
		return o.get(kindThread, c.Param("thread"), conv)
	}
	return o.get(kindThread, c.Param("thread"), "")
}

func (o *op) list(kind, parent string) ([]map[string]any, error) {
	objs, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: o.p.TenantID, Kind: kind, Owner: o.group, Parent: parent})
	if err != nil {
		return nil, err
	}
	docs := make([]map[string]any, 0, len(objs))
	for _, obj := range objs {
		var d map[string]any
		if err := json.Unmarshal(obj.Data, &d); err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}

func (o *op) put(obj *store.Object, doc map[string]any, insert bool) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	obj.Data, obj.Updated = data, o.now
	if insert {
		obj.Tenant, obj.Owner, obj.Created = o.p.TenantID, o.group, o.now
		return o.tx.InsertObject(o.ctx, obj)
	}
	return o.tx.UpdateObject(o.ctx, obj)
}

// record appends the change of a conversation.
func (o *op) record(id, changeType string, before, after []byte) error {
	res := "groups('" + o.group + "')/conversations('" + id + "')"
	n := change.Notice{Resource: res, ODataType: "#Microsoft.Graph.Conversation", ODataID: res, ID: id}
	return change.Record(o.ctx, o.tx, o.p.TenantID, kindConversation, id, changeType, []string{change.GroupConversations(o.group)}, before, after, n, o.now)
}

func newID(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// preview is a body's text, whitespace collapsed, at most 255 characters.
func preview(body map[string]any) string {
	text, _ := body["content"].(string)
	if body["contentType"] == "html" {
		text = html.UnescapeString(tagRE.ReplaceAllString(text, " "))
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > 255 {
		text = string(r[:255])
	}
	return text
}

// parsePost checks a post the client sent: body (required), newParticipants, and for
// application callers from.
func (o *op) parsePost(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidProperty("Invalid value for property 'post': an object of type 'Microsoft.OutlookServices.Post' is expected.")
	}
	post := map[string]any{"body": nil, "newParticipants": []any{}, "from": o.sender}
	for k, val := range m {
		switch strings.ToLower(k) {
		case "body":
			b, ok := val.(map[string]any)
			if !ok {
				return nil, invalidProperty("Invalid value for property 'body': an object of type 'Microsoft.OutlookServices.ItemBody' is expected.")
			}
			ct, _ := b["contentType"].(string)
			ct = strings.ToLower(cmpOr(ct, "html"))
			content, ok := b["content"].(string)
			if (ct != "html" && ct != "text") || !ok {
				return nil, invalidProperty("Invalid value for property 'body': contentType must be 'text' or 'html' and content a string.")
			}
			post["body"] = map[string]any{"contentType": ct, "content": content}
		case "newparticipants":
			list, err := recipients("newParticipants", val)
			if err != nil {
				return nil, err
			}
			post["newParticipants"] = list
		case "from":
			if o.p.Type.Delegated() {
				return nil, invalidProperty("The property 'from' can be set only by application callers; delegated posts are from the signed-in user.")
			}
			list, err := recipients("from", []any{val})
			if err != nil {
				return nil, err
			}
			post["from"] = list[0]
		default:
			return nil, invalidProperty("The property '%s' does not exist on type 'Microsoft.OutlookServices.Post'.", k)
		}
	}
	if post["body"] == nil {
		return nil, invalidRequest("A post needs a body.")
	}
	return post, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func recipients(name string, v any) ([]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, invalidProperty("Invalid value for property '%s': an array of recipients is expected.", name)
	}
	out := make([]any, 0, len(arr))
	for _, r := range arr {
		m, _ := r.(map[string]any)
		ea, _ := m["emailAddress"].(map[string]any)
		addr, _ := ea["address"].(string)
		if at := strings.IndexByte(addr, '@'); at <= 0 || at == len(addr)-1 || strings.ContainsAny(addr, " <>") {
			return nil, invalidProperty("Invalid value for property '%s': each recipient needs a valid emailAddress/address.", name)
		}
		nm, _ := ea["name"].(string)
		out = append(out, map[string]any{"emailAddress": map[string]any{"name": cmpOr(nm, addr), "address": addr}})
	}
	return out, nil
}

// addPost stores a post in thread and refreshes the thread's and conversation's
// summaries; the conversation's change ("created" for a new one, else "updated") is
// recorded by the caller through touch.
func (o *op) addPost(conv, thread *store.Object, convDoc, threadDoc, post map[string]any) error {
	// Posts are read in delivery order; posts written by one request get distinct
	// times so that the order holds within it too.
	now := graph.FormatTime(o.now.Add(time.Duration(o.posts) * 100 * time.Nanosecond))
	o.posts++
	post["id"] = newID("AAMkAG")
	key := newID("CQAAABYAAAA")[:28]
	post["changeKey"], post["@odata.etag"] = key, `W/"`+key+`"`
	post["createdDateTime"], post["lastModifiedDateTime"], post["receivedDateTime"] = now, now, now
	post["categories"], post["hasAttachments"] = []any{}, false
	post["sender"] = post["from"]
	post["conversationThreadId"], post["conversationId"] = thread.ID, conv.ID
	if err := o.put(&store.Object{Kind: kindPost, ID: post["id"].(string), Parent: thread.ID}, post, true); err != nil {
		return err
	}
	sender := post["from"].(map[string]any)["emailAddress"].(map[string]any)["name"]
	text := preview(post["body"].(map[string]any))
	for _, doc := range []map[string]any{threadDoc, convDoc} {
		doc["lastDeliveredDateTime"] = now
		doc["preview"] = text
		senders, _ := doc["uniqueSenders"].([]any)
		if !slices.Contains(senders, sender) {
			doc["uniqueSenders"] = append(senders, sender)
		}
	}
	return nil
}

// saveConversation writes a conversation and records its change.
func (o *op) saveConversation(obj *store.Object, doc map[string]any, created bool) error {
	before := obj.Data
	if err := o.put(obj, doc, created); err != nil {
		return err
	}
	if created {
		return o.record(obj.ID, store.Created, nil, obj.Data)
	}
	return o.record(obj.ID, store.Updated, before, obj.Data)
}

func summary(topic string) map[string]any {
	return map[string]any{"topic": topic, "hasAttachments": false, "lastDeliveredDateTime": nil, "uniqueSenders": []any{}, "preview": ""}
}

// newThread reads {"topic", "posts": [...]} into a thread of conv with its posts.
func (o *op) newThread(conv *store.Object, convDoc map[string]any, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return invalidProperty("Invalid value for property 'threads': an array of conversationThread objects is expected.")
	}
	topic, _ := convDoc["topic"].(string)
	var posts []any
	for k, val := range m {
		switch strings.ToLower(k) {
		case "topic":
			s, ok := val.(string)
			if !ok {
				return invalidProperty("Invalid value for property 'topic': a string is expected.")
			}
			topic = s
		case "posts":
			if posts, ok = val.([]any); !ok {
				return invalidProperty("Invalid value for property 'posts': an array of posts is expected.")
			}
		case "torecipients", "ccrecipients":
			if _, err := recipients(k, val); err != nil {
				return err
			}
		default:
			return invalidProperty("The property '%s' does not exist on type 'Microsoft.OutlookServices.ConversationThread'.", k)
		}
	}
	if len(posts) == 0 {
		return invalidRequest("A new thread needs at least one post.")
	}
	thread := &store.Object{Kind: kindThread, ID: newID("AAQkAG"), Parent: conv.ID}
	doc := summary(topic)
	doc["id"], doc["isLocked"], doc["toRecipients"], doc["ccRecipients"] = thread.ID, false, []any{}, []any{}
	for _, p := range posts {
		post, err := o.parsePost(p)
		if err != nil {
			return err
		}
		if err := o.addPost(conv, thread, convDoc, doc, post); err != nil {
			return err
		}
	}
	return o.put(thread, doc, true)
}

func (w *Workload) createConversation(c *httpapi.Ctx) error {
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	httpapi.StripAnnotations(body)
	var doc map[string]any
	err = w.run(c, true, func(o *op) error {
		var threads []any
		topic := ""
		for k, v := range body {
			switch strings.ToLower(k) {
			case "topic":
				s, ok := v.(string)
				if !ok {
					return invalidProperty("Invalid value for property 'topic': a string is expected.")
				}
				topic = s
			case "threads":
				var ok bool
				if threads, ok = v.([]any); !ok {
					return invalidProperty("Invalid value for property 'threads': an array is expected.")
				}
			default:
				return invalidProperty("The property '%s' does not exist on type 'Microsoft.OutlookServices.Conversation'.", k)
			}
		}
		if strings.TrimSpace(topic) == "" {
			return invalidRequest("A conversation needs a topic.")
		}
		if len(threads) == 0 {
			return invalidRequest("A conversation needs at least one thread with a post.")
		}
		conv := &store.Object{Kind: kindConversation, ID: newID("AAQkAG")}
		doc = summary(topic)
		doc["id"] = conv.ID
		for _, t := range threads {
			if err := o.newThread(conv, doc, t); err != nil {
				return err
			}
		}
		return o.saveConversation(conv, doc, true)
	})
	if err != nil {
		return err
	}
	doc["@odata.context"] = c.ContextURL("groups('" + strings.ToLower(c.Param("group")) + "')/conversations/$entity")
	return c.JSON(http.StatusCreated, doc)
}

// createThread adds a thread: to the conversation in the path, or, under
// groups/{id}/threads, in a new conversation of its own, as Graph does.
func (w *Workload) createThread(c *httpapi.Ctx) error {
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	httpapi.StripAnnotations(body)
	err = w.run(c, true, func(o *op) error {
		if id := c.Param("conv"); id != "" {
			obj, doc, err := o.get(kindConversation, id, "")
			if err != nil {
				return err
			}
			if err := o.newThread(&obj, doc, body); err != nil {
				return err
			}
			return o.saveConversation(&obj, doc, false)
		}
		topic, _ := body["topic"].(string)
		if strings.TrimSpace(topic) == "" {
			return invalidRequest("A thread needs a topic.")
		}
		conv := &store.Object{Kind: kindConversation, ID: newID("AAQkAG")}
		doc := summary(topic)
		doc["id"] = conv.ID
		if err := o.newThread(conv, doc, body); err != nil {
			return err
		}
		return o.saveConversation(conv, doc, true)
	})
	if err != nil {
		return err
	}
	return accepted(c)
}

func accepted(c *httpapi.Ctx) error {
	c.W.Header().Set("Content-Length", "0")
	c.W.WriteHeader(http.StatusAccepted)
	return nil
}

// reply adds a post to a thread (threads/{id}/reply, posts/{id}/reply): {"post": …}.
func (w *Workload) reply(c *httpapi.Ctx) error {
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	httpapi.StripAnnotations(body)
	err = w.run(c, true, func(o *op) error {
		var raw any
		for k, v := range body {
			if !strings.EqualFold(k, "post") {
				return invalidProperty("The property '%s' does not exist on the reply action; 'post' is expected.", k)
			}
			raw = v
		}
		if raw == nil {
			return invalidRequest("The parameter 'post' is required.")
		}
		post, err := o.parsePost(raw)
		if err != nil {
			return err
		}
		thread, threadDoc, err := o.thread(c)
		if err != nil {
			return err
		}
		if threadDoc["isLocked"] == true {
			return accessDenied()
		}
		if id := c.Param("post"); id != "" {
			if _, _, err := o.get(kindPost, id, thread.ID); err != nil {
				return err
			}
		}
		conv, convDoc, err := o.get(kindConversation, thread.Parent, "")
		if err != nil {
			return err
		}
		if err := o.addPost(&conv, &thread, convDoc, threadDoc, post); err != nil {
			return err
		}
		if err := o.put(&thread, threadDoc, false); err != nil {
			return err
		}
		return o.saveConversation(&conv, convDoc, false)
	})
	if err != nil {
		return err
	}
	return accepted(c)
}

func (w *Workload) deleteConversation(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		conv, _, err := o.get(kindConversation, c.Param("conv"), "")
		if err != nil {
			return err
		}
		threads, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: o.p.TenantID, Kind: kindThread, Owner: o.group, Parent: conv.ID})
		if err != nil {
			return err
		}
		for _, t := range threads {
			posts, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: o.p.TenantID, Kind: kindPost, Owner: o.group, Parent: t.ID})
			if err != nil {
				return err
			}
			for _, p := range posts {
				if err := o.tx.DeleteObject(o.ctx, o.p.TenantID, kindPost, p.ID); err != nil {
					return err
				}
			}
			if err := o.tx.DeleteObject(o.ctx, o.p.TenantID, kindThread, t.ID); err != nil {
				return err
			}
		}
		if err := o.tx.DeleteObject(o.ctx, o.p.TenantID, kindConversation, conv.ID); err != nil {
			return err
		}
		return o.record(conv.ID, store.Deleted, conv.Data, nil)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

func (w *Workload) getConversation(c *httpapi.Ctx) error {
	return w.getOne(c, "conversations", func(o *op) (map[string]any, error) {
		_, doc, err := o.get(kindConversation, c.Param("conv"), "")
		return doc, err
	})
}

func (w *Workload) getThread(c *httpapi.Ctx) error {
	return w.getOne(c, "threads", func(o *op) (map[string]any, error) {
		_, doc, err := o.thread(c)
		return doc, err
	})
}

func (w *Workload) getPost(c *httpapi.Ctx) error {
	return w.getOne(c, "threads('"+c.Param("thread")+"')/posts", func(o *op) (map[string]any, error) {
		thread, _, err := o.thread(c)
		if err != nil {
			return nil, err
		}
		_, doc, err := o.get(kindPost, c.Param("post"), thread.ID)
		return doc, err
	})
}

func (w *Workload) getOne(c *httpapi.Ctx, set string, load func(o *op) (map[string]any, error)) error {
	fields, err := selectOption(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	err = w.run(c, false, func(o *op) error {
		doc, err = load(o)
		return err
	})
	if err != nil {
		return err
	}
	if fields != nil {
		doc = odata.Select(doc, fields)
	}
	doc["@odata.context"] = c.ContextURL("groups('" + strings.ToLower(c.Param("group")) + "')/" + set + "/$entity")
	return c.JSON(http.StatusOK, doc)
}

func (w *Workload) listConversations(c *httpapi.Ctx) error {
	return w.listOf(c, "conversations", "lastDeliveredDateTime", func(o *op) ([]map[string]any, error) {
		return o.list(kindConversation, "")
	})
}

func (w *Workload) listThreads(c *httpapi.Ctx) error {
	return w.listOf(c, "threads", "lastDeliveredDateTime", func(o *op) ([]map[string]any, error) {
		if id := c.Param("conv"); id != "" {
			if _, _, err := o.get(kindConversation, id, ""); err != nil {
				return nil, err
			}
			return o.list(kindThread, id)
		}
		return o.list(kindThread, "")
	})
}

func (w *Workload) listPosts(c *httpapi.Ctx) error {
	return w.listOf(c, "threads('"+c.Param("thread")+"')/posts", "", func(o *op) ([]map[string]any, error) {
		thread, _, err := o.thread(c)
		if err != nil {
			return nil, err
		}
		docs, err := o.list(kindPost, thread.ID)
		// Posts read in the order they were written.
		odata.SortDocs(docs, []odata.OrderKey{{Property: "receivedDateTime"}})
		return docs, err
	})
}

func selectOption(c *httpapi.Ctx) ([]string, error) {
	s := c.Query("$select")
	if s == "" {
		return nil, nil
	}
	fields, err := odata.ParseSelect(s)
	if err != nil {
		return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "%s", err.Error())
	}
	return fields, nil
}

// listOf answers a collection, newest first by order (when set), with $top, $skip and
// $select.
func (w *Workload) listOf(c *httpapi.Ctx, set, order string, load func(o *op) ([]map[string]any, error)) error {
	fields, err := selectOption(c)
	if err != nil {
		return err
	}
	top, skip := 100, 0
	if s := c.Query("$top"); s != "" {
		if top, err = odata.ParseTop(s, 999); err != nil {
			return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "%s", err.Error())
		}
	}
	if s := c.Query("$skip"); s != "" {
		if skip, err = strconv.Atoi(s); err != nil || skip < 0 {
			return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid value '%s' for $skip: it must be a non-negative integer.", s)
		}
	}
	var docs []map[string]any
	err = w.run(c, false, func(o *op) error {
		docs, err = load(o)
		return err
	})
	if err != nil {
		return err
	}
	if order != "" {
		odata.SortDocs(docs, []odata.OrderKey{{Property: order, Desc: true}, {Property: "id"}})
	}
	out := map[string]any{"@odata.context": c.ContextURL("groups('" + strings.ToLower(c.Param("group")) + "')/" + set)}
	docs = docs[min(skip, len(docs)):]
	if len(docs) > top {
		docs = docs[:top]
		out["@odata.nextLink"] = c.LinkWith(map[string]string{"$skip": strconv.Itoa(skip + top)})
	}
	value := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		if fields != nil {
			d = odata.Select(d, fields)
		}
		value = append(value, d)
	}
	out["value"] = value
	return c.JSON(http.StatusOK, out)
}
