package teams

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// channelRef names a channel the caller may use.
type channelRef struct {
	tenant, team, channel string
}

func (r channelRef) topics() []string {
	return []string{change.ChannelMessages(r.team, r.channel), change.AllChannelMessages()}
}

func (r channelRef) prefix() string {
	return "teams('" + r.team + "')/channels('" + r.channel + "')/messages"
}

// resource is the notification resource and @odata.id of a message or reply.
func (r channelRef) resource(id, parent string) string {
	if parent != "" {
		return r.prefix() + "('" + parent + "')/replies('" + id + "')"
	}
	return r.prefix() + "('" + id + "')"
}

// contextFragment is the @odata.context fragment of a message or reply.
func (r channelRef) contextFragment(parent string) string {
	if parent != "" {
		return r.prefix() + "('" + parent + "')/replies/$entity"
	}
	return r.prefix() + "/$entity"
}

// channelScope loads the team and channel of the request and checks the caller's
// membership.
func (w *Workload) channelScope(c *httpapi.Ctx, tx store.Tx) (channelRef, error) {
	p := c.Principal
	team, err := w.teamAccess(c.R.Context(), tx, p, c.Param("team"))
	if err != nil {
		return channelRef{}, err
	}
	ref := channelRef{tenant: p.TenantID, team: rest.Str(team["id"])}
	ch, err := w.loadChannel(c.R.Context(), tx, p.TenantID, ref.team, c.Param("channel"))
	if err != nil {
		return channelRef{}, err
	}
	ref.channel = rest.Str(ch["id"])
	return ref, nil
}

// loadChannelMessage loads a message (parent "") or a reply to parent in the channel.
func loadChannelMessage(ctx context.Context, tx store.Tx, ref channelRef, id, parent string) (store.Object, map[string]any, error) {
	missing := graph.Errorf(http.StatusNotFound, codeNotFound, "Message '%s' was not found in the channel.", id)
	o, err := tx.GetObject(ctx, ref.tenant, KindChannelMessage, id)
	if errors.Is(err, store.ErrNotFound) {
		return o, nil, missing
	}
	if err != nil {
		return o, nil, err
	}
	if o.Owner != ref.team || o.Parent != ref.channel {
		return o, nil, missing
	}
	doc, err := rest.Decode(o.Data)
	if err != nil {
		return o, nil, err
	}
	if replyTo := rest.Str(doc["replyToId"]); replyTo != parent {
		return o, nil, missing
	}
	return o, doc, nil
}

// target reads the {id} and optional {reply} of a message route: the message
// addressed and its parent ("" for a top-level message).
func target(c *httpapi.Ctx) (id, parent string) {
	if r := c.Param("reply"); r != "" {
		return r, c.Param("id")
	}
	return c.Param("id"), ""
}

// locateChannelMessage finds the message or reply the request addresses in its
// channel.
func (w *Workload) locateChannelMessage(c *httpapi.Ctx, tx store.Tx) (storedMessage, error) {
	id, parent := target(c)
	ref, err := w.channelScope(c, tx)
	if err != nil {
		return storedMessage{}, err
	}
	o, doc, err := loadChannelMessage(c.R.Context(), tx, ref, id, parent)
	if err != nil {
		return storedMessage{}, err
	}
	return storedMessage{obj: o, doc: doc, kind: KindChannelMessage, topics: ref.topics(), resource: ref.resource(id, parent), fragment: ref.contextFragment(parent)}, nil
}

func (w *Workload) getChannelMessage(c *httpapi.Ctx) error {
	return w.serveMessage(c, channelMsgRead, w.locateChannelMessage)
}

func (w *Workload) postChannelMessage(c *httpapi.Ctx) error { return w.postInChannel(c, "") }

func (w *Workload) postReply(c *httpapi.Ctx) error { return w.postInChannel(c, c.Param("id")) }

func (w *Workload) postInChannel(c *httpapi.Ctx, parent string) error {
	in, err := readPost(c, channelMsgSend)
	if err != nil {
		return err
	}
	var out []byte
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		ctx, p := ctx, c.Principal
		ref, err := w.channelScope(c, tx)
		if err != nil {
			return err
		}
		if parent != "" {
			if _, _, err := loadChannelMessage(ctx, tx, ref, parent, ""); err != nil {
				return err
			}
		}
		from, _, err := w.sender(ctx, tx, p, in)
		if err != nil {
			return err
		}
		id, created, err := w.nextID(ctx, tx, p.TenantID, KindChannelMessage, c.Now)
		if err != nil {
			return err
		}
		doc := newMessage(id, created, from, in)
		if parent != "" {
			doc["replyToId"] = parent
		}
		doc["channelIdentity"] = map[string]any{"teamId": ref.team, "channelId": ref.channel}
		doc["webUrl"] = channelMessageURL(ref.tenant, ref.team, ref.channel, id, parent, created)
		out, err = insertMessage(c, tx, store.Object{Kind: KindChannelMessage, Owner: ref.team, Parent: ref.channel}, doc, ref.topics(), ref.resource(id, parent), ref.contextFragment(parent))
		return err
	})
	if err != nil {
		return err
	}
	return messageJSON(c, http.StatusCreated, out)
}

func (w *Workload) patchChannelMessage(c *httpapi.Ctx) error {
	return w.editMessage(c, channelMsgWrite, w.locateChannelMessage)
}

func (w *Workload) softDeleteChannelMessage(del bool) httpapi.HandlerFunc {
	return w.softDeleteMessage(channelMsgWrite, w.locateChannelMessage, del)
}

func setDeleted(doc map[string]any, del bool, c *httpapi.Ctx) {
	if del {
		doc["deletedDateTime"] = msTime(c.Now)
	} else {
		doc["deletedDateTime"] = nil
	}
	touch(doc, c.Now)
}

func (w *Workload) listChannelMessages(c *httpapi.Ctx) error { return w.listInChannel(c, "") }

func (w *Workload) listReplies(c *httpapi.Ctx) error { return w.listInChannel(c, c.Param("id")) }

// listInChannel lists the top-level messages of a channel (parent "") or the replies
// to one, oldest first, paged by id.
func (w *Workload) listInChannel(c *httpapi.Ctx, parent string) error {
	top, after, err := pageOptions(c, channelMsgRead)
	if err != nil {
		return err
	}
	var docs []map[string]any
	var ref channelRef
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		ref, err = w.channelScope(c, tx)
		if err != nil {
			return err
		}
		if parent != "" {
			if _, _, err := loadChannelMessage(ctx, tx, ref, parent, ""); err != nil {
				return err
			}
		}
		objs, err := tx.ListObjects(ctx, replyQuery(ref, parent, after, top))
		if err != nil {
			return err
		}
		docs, err = decodeAll(objs, func(doc map[string]any) bool { return rest.Str(doc["replyToId"]) == parent })
		return err
	})
	if err != nil {
		return err
	}
	frag := ref.prefix()
	if parent != "" {
		frag += "('" + parent + "')/replies"
	}
	return page(c, frag, docs, top)
}

// replyQuery is the store query of the messages of a channel that reply to parent
// ("" for the top-level ones: replyToId not a string, or empty), after the id
// after. The store tells top-level messages exactly, and then reads one past the
// page; replies it matches ignoring case, so they are all read (a message's replies
// are few) and matched exactly by the caller.
func replyQuery(ref channelRef, parent, after string, top int) store.ObjectQuery {
	q := store.ObjectQuery{Tenant: ref.tenant, Kind: KindChannelMessage, Owner: ref.team, Parent: ref.channel, AfterID: after}
	replyTo := store.Prop{Path: "replyToId"}
	if parent != "" {
		q.Where = &store.Cond{Op: store.CondEq, Prop: replyTo, Value: parent}
		return q
	}
	notString := store.Cond{Op: store.CondNot, Sub: []store.Cond{{Op: store.CondPrefix, Prop: replyTo, Value: ""}}}
	q.Where = &store.Cond{Op: store.CondOr, Sub: []store.Cond{notString, {Op: store.CondEq, Prop: replyTo, Value: ""}}}
	q.Limit = top + 1
	return q
}

// page writes one page of a message collection, with @odata.nextLink when more remain.
func page(c *httpapi.Ctx, fragment string, docs []map[string]any, top int) error {
	slices.SortFunc(docs, func(a, b map[string]any) int { return strings.Compare(rest.Str(a["id"]), rest.Str(b["id"])) })
	out := map[string]any{"@odata.context": c.ContextURL(fragment)}
	if len(docs) > top {
		docs = docs[:top]
		out["@odata.nextLink"] = rest.NextToken(c, rest.Str(docs[top-1]["id"]))
	}
	if docs == nil {
		docs = []map[string]any{}
	}
	out["@odata.count"] = len(docs)
	out["value"] = docs
	return c.JSON(http.StatusOK, out)
}

func skipToken(c *httpapi.Ctx) (string, error) {
	var after string
	_, err := rest.SkipToken(c, &after)
	return after, err
}
