package teams

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// maxChatMembers is Graph's limit on the members of a chat created in one request.
const maxChatMembers = 250

// chatMemberID is the store id of a chat membership.
func chatMemberID(chat, user string) string { return chat + "|" + strings.ToLower(user) }

// oneOnOneID is the id Teams gives the one-on-one chat of two users, whichever of them
// starts it.
func oneOnOneID(a, b string) string {
	ids := []string{strings.ToLower(a), strings.ToLower(b)}
	slices.Sort(ids)
	return "19:" + ids[0] + "_" + ids[1] + "@unq.gbl.spaces"
}

func (w *Workload) loadChat(ctx context.Context, tx store.Tx, tenant, id string) (map[string]any, error) {
	_, doc, err := rest.Load(ctx, tx, tenant, KindChat, id, graph.Errorf(http.StatusNotFound, codeNotFound, "Chat '%s' was not found.", id))
	return doc, err
}

// chatAccess loads a chat and checks that a delegated caller is a member.
func (w *Workload) chatAccess(ctx context.Context, tx store.Tx, p *identity.Principal, id string) (map[string]any, error) {
	chat, err := w.loadChat(ctx, tx, p.TenantID, id)
	if err != nil {
		return nil, err
	}
	if p.Type.Delegated() {
		_, err := tx.GetObject(ctx, p.TenantID, KindChatMember, chatMemberID(id, p.UserID))
		if errors.Is(err, store.ErrNotFound) {
			return nil, notMember("chat")
		}
		if err != nil {
			return nil, err
		}
	}
	return chat, nil
}

// chatMembers returns the user ids of a chat's members.
func chatMembers(ctx context.Context, tx store.Tx, tenant, chat string) ([]string, error) {
	objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: KindChatMember, Owner: chat})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		ids = append(ids, o.Parent)
	}
	return ids, nil
}

type newMember struct {
	userID string
	roles  []any
}

func parseMembers(body map[string]any) ([]newMember, error) {
	raw, ok := body["members"].([]any)
	if !ok || len(raw) == 0 {
		return nil, graph.BadRequest("'members' is required: the conversationMembers of the chat, each with 'user@odata.bind'.")
	}
	if len(raw) > maxChatMembers {
		return nil, graph.BadRequest("A chat can be created with at most %d members.", maxChatMembers)
	}
	var out []newMember
	for _, e := range raw {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, graph.BadRequest("Each member must be an aadUserConversationMember object.")
		}
		if t := rest.Str(m["@odata.type"]); t != "" && !strings.EqualFold(t, "#microsoft.graph.aadUserConversationMember") {
			return nil, graph.BadRequest("Member type '%s' is not supported; use #microsoft.graph.aadUserConversationMember.", t)
		}
		uid, ok := bindID(m["user@odata.bind"], "users")
		if !ok {
			return nil, graph.BadRequest("Each member needs 'user@odata.bind', for example \"https://graph.microsoft.com/v1.0/users('{id}')\".")
		}
		roles, _ := m["roles"].([]any)
		if roles == nil {
			roles = []any{}
		}
		for _, r := range roles {
			if s := rest.Str(r); s != "owner" && s != "guest" {
				return nil, graph.BadRequest("Invalid member role '%v': owner or guest expected.", r)
			}
		}
		out = append(out, newMember{userID: uid, roles: roles})
	}
	return out, nil
}

func (w *Workload) createChat(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatCreate.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	chatType := rest.Str(body["chatType"])
	if chatType != "oneOnOne" && chatType != "group" {
		return graph.BadRequest("'chatType' is required: oneOnOne or group.")
	}
	members, err := parseMembers(body)
	if err != nil {
		return err
	}
	topic, hasTopic := body["topic"]
	if hasTopic && topic != nil {
		if _, ok := topic.(string); !ok {
			return graph.BadRequest("Invalid value for 'topic': a string expected.")
		}
	}
	var chat map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		// Resolve members to user objects, once each.
		var ids []string
		docs := map[string]map[string]any{}
		roles := map[string][]any{}
		for _, m := range members {
			o, doc, err := userDoc(ctx, tx, p.TenantID, m.userID)
			if err != nil {
				return graph.BadRequest("Member '%s' is not a user of this tenant.", m.userID)
			}
			if _, dup := docs[o.ID]; dup {
				return graph.BadRequest("User '%s' is listed twice in members.", m.userID)
			}
			ids = append(ids, o.ID)
			docs[o.ID], roles[o.ID] = doc, m.roles
		}
		if p.Type.Delegated() && !slices.Contains(ids, p.UserID) {
			return graph.BadRequest("The signed-in user must be one of the chat's members.")
		}
		var id string
		switch chatType {
		case "oneOnOne":
			if len(ids) != 2 {
				return graph.BadRequest("A oneOnOne chat has exactly 2 members; %d were given.", len(ids))
			}
			if hasTopic && topic != nil {
				return graph.BadRequest("A oneOnOne chat cannot have a topic.")
			}
			id = oneOnOneID(ids[0], ids[1])
			// Teams keeps one chat per pair: creating it again returns the existing one.
			existing, err := w.loadChat(ctx, tx, p.TenantID, id)
			if err == nil {
				chat = existing
				return nil
			}
			if ge, ok := graph.AsError(err); !ok || ge.Status != http.StatusNotFound {
				return err
			}
		case "group":
			if len(ids) < 2 {
				return graph.BadRequest("A group chat needs at least 2 members; %d were given.", len(ids))
			}
			id = threadID("thread.v2")
		}
		stamp := graph.FormatTime(c.Now)
		chat = map[string]any{
			"id": id, "topic": topic, "createdDateTime": stamp, "lastUpdatedDateTime": stamp, "chatType": chatType,
			"webUrl": "https://teams.microsoft.com/l/chat/" + url.PathEscape(id) + "/0?tenantId=" + p.TenantID, "tenantId": p.TenantID,
			"onlineMeetingInfo": nil, "viewpoint": nil, "isHiddenForAllMembers": false,
		}
		data, _ := json.Marshal(chat)
		if err := tx.InsertObject(ctx, &store.Object{Tenant: p.TenantID, Kind: KindChat, ID: id, Data: data, Created: c.Now, Updated: c.Now}); err != nil {
			return err
		}
		if err := chatChange(p.TenantID, id, store.Created, nil, chat).record(ctx, tx, c.Now); err != nil {
			return err
		}
		for _, uid := range ids {
			doc := docs[uid]
			mdoc := map[string]any{
				"@odata.type": "#microsoft.graph.aadUserConversationMember",
				"id":          base64.StdEncoding.EncodeToString([]byte("1#" + id + "#" + uid)),
				"roles":       roles[uid], "displayName": doc["displayName"],
				"visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
				"userId":                      uid, "email": doc["mail"], "tenantId": p.TenantID,
			}
			data, _ := json.Marshal(mdoc)
			if err := tx.InsertObject(ctx, &store.Object{Tenant: p.TenantID, Kind: KindChatMember, ID: chatMemberID(id, uid), Owner: id, Parent: uid, Data: data, Created: c.Now, Updated: c.Now}); err != nil {
				return err
			}
			if err := chatMemberChange(p.TenantID, id, rest.Str(mdoc["id"]), store.Created, nil, mdoc).record(ctx, tx, c.Now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, "chats/$entity", chat)
}

func (w *Workload) getChat(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatRead.Check(p); err != nil {
		return err
	}
	return rest.Get(c, w.st, "chats/$entity", func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		if u := c.Param("user"); u != "" {
			o, _, err := userDoc(ctx, tx, p.TenantID, u)
			if err != nil {
				return nil, err
			}
			if p.Type.Delegated() && o.ID != p.UserID {
				return nil, graph.Errorf(http.StatusForbidden, codeForbidden, "A delegated caller can only read its own chats.")
			}
			if _, err := tx.GetObject(ctx, p.TenantID, KindChatMember, chatMemberID(c.Param("chat"), o.ID)); errors.Is(err, store.ErrNotFound) {
				return nil, graph.Errorf(http.StatusNotFound, codeNotFound, "Chat '%s' was not found for user '%s'.", c.Param("chat"), u)
			}
		}
		return w.chatAccess(ctx, tx, p, c.Param("chat"))
	})
}

func (w *Workload) listChatMembers(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatRead.Check(p); err != nil {
		return err
	}
	var value []map[string]any
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if _, err := w.chatAccess(ctx, tx, p, c.Param("chat")); err != nil {
			return err
		}
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: KindChatMember, Owner: c.Param("chat")})
		if err != nil {
			return err
		}
		for _, o := range objs {
			doc, err := rest.Decode(o.Data)
			if err != nil {
				return err
			}
			value = append(value, doc)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rest.Counted(c, "chats('"+c.Param("chat")+"')/members", value)
}

// listMyChats serves GET /chats: the signed-in user's chats. Graph offers it to
// delegated callers only; applications list a user's chats under /users/{id}/chats.
func (w *Workload) listMyChats(c *httpapi.Ctx) error {
	p := c.Principal
	if err := myChatsRead.Check(p); err != nil {
		return err
	}
	return w.serveUserChats(c, p.UserID)
}

func (w *Workload) listUserChats(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatRead.Check(p); err != nil {
		return err
	}
	return w.serveUserChats(c, c.Param("user"))
}

func (w *Workload) serveUserChats(c *httpapi.Ctx, user string) error {
	p := c.Principal
	var value []map[string]any
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := userDoc(ctx, tx, p.TenantID, user)
		if err != nil {
			return err
		}
		if p.Type.Delegated() && u.ID != p.UserID {
			return graph.Errorf(http.StatusForbidden, codeForbidden, "A delegated caller can only list its own chats.")
		}
		memberships, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: KindChatMember, Parent: u.ID})
		if err != nil {
			return err
		}
		for _, m := range memberships {
			chat, err := w.loadChat(ctx, tx, p.TenantID, m.Owner)
			if err != nil {
				return err
			}
			value = append(value, chat)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if value == nil {
		value = []map[string]any{}
	}
	slices.SortStableFunc(value, func(a, b map[string]any) int {
		return strings.Compare(rest.Str(b["lastUpdatedDateTime"]), rest.Str(a["lastUpdatedDateTime"]))
	})
	return rest.Counted(c, "chats", value)
}

// chatRef names a chat the caller may use, with its members (whose topics a message
// change touches).
type chatRef struct {
	tenant, chat string
	members      []string
}

func (r chatRef) topics() []string {
	t := []string{change.ChatMessages(r.chat), change.AllChatMessages()}
	for _, m := range r.members {
		t = append(t, change.UserChatMessages(m))
	}
	return t
}

func (r chatRef) resource(id string) string { return "chats('" + r.chat + "')/messages('" + id + "')" }

func (r chatRef) contextFragment() string { return "chats('" + r.chat + "')/messages/$entity" }

func (w *Workload) chatScope(c *httpapi.Ctx, tx store.Tx) (chatRef, error) {
	p := c.Principal
	chat, err := w.chatAccess(c.R.Context(), tx, p, c.Param("chat"))
	if err != nil {
		return chatRef{}, err
	}
	ref := chatRef{tenant: p.TenantID, chat: rest.Str(chat["id"])}
	if u := c.Param("user"); u != "" {
		o, _, err := userDoc(c.R.Context(), tx, p.TenantID, u)
		if err != nil {
			return chatRef{}, err
		}
		if p.Type.Delegated() && o.ID != p.UserID {
			return chatRef{}, graph.Errorf(http.StatusForbidden, codeForbidden, "A delegated caller can only act on its own chats.")
		}
	}
	ref.members, err = chatMembers(c.R.Context(), tx, p.TenantID, ref.chat)
	return ref, err
}

func loadChatMessage(ctx context.Context, tx store.Tx, ref chatRef, id string) (store.Object, map[string]any, error) {
	o, err := tx.GetObject(ctx, ref.tenant, KindChatMessage, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.Owner != ref.chat) {
		return o, nil, graph.Errorf(http.StatusNotFound, codeNotFound, "Message '%s' was not found in the chat.", id)
	}
	if err != nil {
		return o, nil, err
	}
	doc, err := rest.Decode(o.Data)
	return o, doc, err
}

func (w *Workload) postChatMessage(c *httpapi.Ctx) error {
	in, err := readPost(c, chatMsgSend)
	if err != nil {
		return err
	}
	var out []byte
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		ctx, p := ctx, c.Principal
		ref, err := w.chatScope(c, tx)
		if err != nil {
			return err
		}
		from, uid, err := w.sender(ctx, tx, p, in)
		if err != nil {
			return err
		}
		if uid != "" && !slices.Contains(ref.members, uid) {
			return graph.BadRequest("The sender '%s' is not a member of the chat.", uid)
		}
		id, created, err := w.nextID(ctx, tx, p.TenantID, KindChatMessage, c.Now)
		if err != nil {
			return err
		}
		doc := newMessage(id, created, from, in)
		doc["chatId"] = ref.chat
		out, err = insertMessage(c, tx, store.Object{Kind: KindChatMessage, Owner: ref.chat}, doc, ref.topics(), ref.resource(id), ref.contextFragment())
		if err != nil {
			return err
		}
		return w.touchChat(ctx, tx, p.TenantID, ref.chat, c)
	})
	if err != nil {
		return err
	}
	return messageJSON(c, http.StatusCreated, out)
}

// touchChat moves a chat's lastUpdatedDateTime, which orders a user's chat list.
func (w *Workload) touchChat(ctx context.Context, tx store.Tx, tenant, id string, c *httpapi.Ctx) error {
	o, err := tx.GetObject(ctx, tenant, KindChat, id)
	if err != nil {
		return err
	}
	doc, err := rest.Decode(o.Data)
	if err != nil {
		return err
	}
	doc["lastUpdatedDateTime"] = graph.FormatTime(c.Now)
	o.Data, _ = docjson.Marshal(doc)
	o.Updated = c.Now
	return tx.UpdateObject(ctx, &o)
}

// locateChatMessage finds the chat message {id} of the request's chat.
func (w *Workload) locateChatMessage(c *httpapi.Ctx, tx store.Tx) (storedMessage, error) {
	ref, err := w.chatScope(c, tx)
	if err != nil {
		return storedMessage{}, err
	}
	o, doc, err := loadChatMessage(c.R.Context(), tx, ref, c.Param("id"))
	if err != nil {
		return storedMessage{}, err
	}
	return storedMessage{obj: o, doc: doc, kind: KindChatMessage, topics: ref.topics(), resource: ref.resource(o.ID), fragment: ref.contextFragment()}, nil
}

func (w *Workload) getChatMessage(c *httpapi.Ctx) error {
	return w.serveMessage(c, chatMsgRead, w.locateChatMessage)
}

func (w *Workload) listChatMessages(c *httpapi.Ctx) error {
	top, after, err := pageOptions(c, chatMsgRead)
	if err != nil {
		return err
	}
	var docs []map[string]any
	var ref chatRef
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		ref, err = w.chatScope(c, tx)
		if err != nil {
			return err
		}
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: ref.tenant, Kind: KindChatMessage, Owner: ref.chat, AfterID: after, Limit: top + 1})
		if err != nil {
			return err
		}
		docs, err = decodeAll(objs, nil)
		return err
	})
	if err != nil {
		return err
	}
	return page(c, "chats('"+ref.chat+"')/messages", docs, top)
}

func (w *Workload) patchChatMessage(c *httpapi.Ctx) error {
	return w.editMessage(c, chatMsgWrite, w.locateChatMessage)
}

func (w *Workload) softDeleteChatMessage(del bool) httpapi.HandlerFunc {
	return w.softDeleteMessage(chatMsgWrite, w.locateChatMessage, del)
}
