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
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/sortid"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
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

// Permissions. Personal Microsoft accounts have no groups.
var (
	readPerms  = rest.Permissions{Personal: noPersonal, Delegated: readList, Application: readList}
	writePerms = rest.Permissions{Personal: noPersonal, Delegated: writeList, Application: writeList}
	readList   = []string{"Group.Read.All", "Group.ReadWrite.All"}
	writeList  = []string{"Group.ReadWrite.All"}
)

const noPersonal = "Group conversations are not available for personal Microsoft accounts."

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
	if !perms.Allows(p) {
		return graph.ExchangeAccessDenied()
	}
	body := func(ctx context.Context, tx store.Tx) error {
		o := &op{ctx: ctx, tx: tx, now: c.Now.UTC(), p: p}
		if err := w.openGroup(o, c.Param("group")); err != nil {
			return err
		}
		return fn(o)
	}
	return rest.Run(c, w.st, write, body)
}

// get loads an object of the group.
func (o *op) get(kind, id, parent string) (store.Object, map[string]any, error) {
	obj, err := o.tx.GetObject(o.ctx, o.p.TenantID, kind, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (obj.Owner != o.group || (parent != "" && obj.Parent != parent))) {
		return store.Object{}, nil, graph.ExchangeItemNotFound()
	}
	if err != nil {
		return store.Object{}, nil, err
	}
	doc, err := rest.Decode(obj.Data)
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

// query is the store query of the group's objects of a kind, under parent when set.
func (o *op) query(kind, parent string) store.ObjectQuery {
	return store.ObjectQuery{Tenant: o.p.TenantID, Kind: kind, Owner: o.group, Parent: parent}
}

func (o *op) put(obj *store.Object, doc map[string]any, insert bool) error {
	data, err := docjson.Marshal(doc)
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

// newID returns a new conversation, thread or post id in the shape of Exchange ids,
// in creation order (see sortid).
func newID(prefix string) string {
	return sortid.Base64(prefix, 32)
}

// getOne answers one object of the group, with $select; set is its collection in
// the @odata.context.
func (w *Workload) getOne(c *httpapi.Ctx, set string, load func(o *op) (map[string]any, error)) error {
	fields, err := rest.Fields(c)
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
	return rest.Entity(c, http.StatusOK, groupPath(c)+set+"/$entity", rest.Select(doc, fields))
}

// groupPath is the @odata.context prefix of the group in the path: groups('id')/.
func groupPath(c *httpapi.Ctx) string {
	return "groups('" + strings.ToLower(c.Param("group")) + "')/"
}

// listOf answers a collection in order, with $top, $skip and $select. query checks
// the path and returns the store query of the whole collection; the store orders it
// and cuts the page, one object past it to tell whether more remain.
func (w *Workload) listOf(c *httpapi.Ctx, set string, order []store.OrderKey, query func(o *op) (store.ObjectQuery, error)) error {
	fields, err := rest.Fields(c)
	if err != nil {
		return err
	}
	top, err := rest.Top(c, 100, 999)
	if err != nil {
		return err
	}
	skip, err := rest.Skip(c)
	if err != nil {
		return err
	}
	var docs []map[string]any
	err = w.run(c, false, func(o *op) error {
		q, err := query(o)
		if err != nil {
			return err
		}
		docs, err = listPage(o.ctx, o.tx, q, order, skip, top)
		return err
	})
	if err != nil {
		return err
	}
	next := ""
	if len(docs) > top {
		docs = docs[:top]
		next = rest.NextSkip(c, skip+top)
	}
	value := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		value = append(value, rest.Select(d, fields))
	}
	return rest.Collection(c, groupPath(c)+set, value, next)
}
