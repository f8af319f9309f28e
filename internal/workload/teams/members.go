package teams

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Member permissions. Group.Read.All and Group.ReadWrite.All are the broader group
// permissions the Teams APIs still accept.
var (
	teamMemberRead  = rest.Permissions{Personal: noPersonal, Delegated: []string{"TeamMember.Read.All", "TeamMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All"}, Application: []string{"TeamMember.Read.All", "TeamMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All"}}
	teamMemberWrite = rest.Permissions{Personal: noPersonal, Delegated: []string{"TeamMember.ReadWrite.All", "Group.ReadWrite.All"}, Application: []string{"TeamMember.ReadWrite.All", "Group.ReadWrite.All"}}
	chatMemberWrite = rest.Permissions{Personal: noPersonal, Delegated: []string{"ChatMember.ReadWrite", "Chat.ReadWrite"}, Application: []string{"ChatMember.ReadWrite.All", "Chat.ReadWrite.All"}}
)

// memberRoutes registers the team and chat members API.
func (w *Workload) memberRoutes(r *httpapi.Router) {
	r.Handle("GET", "teams/{team}/members", w.listTeamMembers)
	r.Handle("POST", "teams/{team}/members", w.addTeamMember)
	r.Handle("GET", "teams/{team}/members/{member}", w.getTeamMember)
	r.Handle("PATCH", "teams/{team}/members/{member}", w.updateTeamMember)
	r.Handle("DELETE", "teams/{team}/members/{member}", w.removeTeamMember)
	r.Handle("POST", "chats/{chat}/members", w.addChatMember)
	r.Handle("GET", "chats/{chat}/members/{member}", w.getChatMember)
	r.Handle("DELETE", "chats/{chat}/members/{member}", w.removeChatMember)
}

// teamMemberID is the id of user's membership of team, as Teams forms it: the
// base64 of "{team}##{user}".
func teamMemberID(team, user string) string {
	return base64.StdEncoding.EncodeToString([]byte(team + "##" + user))
}

// teamMemberUser returns the user of a team membership id; false when id is not a
// membership of team.
func teamMemberUser(team, id string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return "", false
	}
	t, u, ok := strings.Cut(string(raw), "##")
	return u, ok && strings.EqualFold(t, team) && u != ""
}

// conversationMember is the aadUserConversationMember document of user in a team
// or chat.
func conversationMember(id, tenant, uid string, udoc map[string]any, roles []any) map[string]any {
	if roles == nil {
		roles = []any{}
	}
	return map[string]any{
		"@odata.type": "#microsoft.graph.aadUserConversationMember",
		"id":          id, "roles": roles, "displayName": udoc["displayName"],
		"visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
		"userId":                      uid, "email": udoc["mail"], "tenantId": tenant,
	}
}

// teamMember reads user's membership of team; 404 when user is not on its roster.
func teamMember(ctx context.Context, tx store.Tx, tenant, team, uid string) (map[string]any, error) {
	notFound := graph.Errorf(http.StatusNotFound, codeNotFound, "Member '%s' was not found in team '%s'.", teamMemberID(team, uid), team)
	ok, err := identity.IsGroupMember(ctx, tx, tenant, team, uid)
	if err != nil || !ok {
		return nil, cmpErr(err, notFound)
	}
	_, udoc, err := userDoc(ctx, tx, tenant, uid)
	if err != nil {
		return nil, notFound
	}
	owner, err := isOwner(ctx, tx, tenant, team, uid)
	if err != nil {
		return nil, err
	}
	var roles []any
	if owner {
		roles = []any{"owner"}
	}
	return conversationMember(teamMemberID(team, uid), tenant, uid, udoc, roles), nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func isOwner(ctx context.Context, tx store.Tx, tenant, group, user string) (bool, error) {
	_, err := tx.GetObject(ctx, tenant, identity.KindOwner, identity.MembershipID(group, user))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// memberInput is a checked conversationMember body: the user it binds and whether it
// makes an owner.
type memberInput struct {
	user  string
	owner bool
	roles []any
}

// parseMemberBody reads a conversationMember body; bind requires user@odata.bind.
func parseMemberBody(body map[string]any, bind bool) (memberInput, error) {
	if t := rest.Str(body["@odata.type"]); t != "" && !strings.EqualFold(t, "#microsoft.graph.aadUserConversationMember") {
		return memberInput{}, graph.BadRequest("Member type '%s' is not supported; use #microsoft.graph.aadUserConversationMember.", t)
	}
	var in memberInput
	if bind {
		uid, ok := bindID(body["user@odata.bind"], "users")
		if !ok {
			return in, graph.BadRequest("'user@odata.bind' is required, for example \"https://graph.microsoft.com/v1.0/users('{id}')\".")
		}
		in.user = uid
	}
	raw, given := body["roles"]
	roles, ok := raw.([]any)
	if given && raw != nil && !ok {
		return in, graph.BadRequest("Invalid value for 'roles': an array of strings expected.")
	}
	if !bind && !given {
		return in, graph.BadRequest("'roles' is required.")
	}
	for _, r := range roles {
		switch strings.ToLower(rest.Str(r)) {
		case "owner":
			in.owner = true
		case "guest":
		default:
			return in, graph.BadRequest("Invalid member role '%v': owner or guest expected.", r)
		}
	}
	in.roles = roles
	return in, nil
}

// teamOf returns the id of the request's team, after the (delegated) roster check.
func (w *Workload) teamOf(ctx context.Context, tx store.Tx, c *httpapi.Ctx) (string, error) {
	team, err := w.teamAccess(ctx, tx, c.Principal, c.Param("team"))
	if err != nil {
		return "", err
	}
	return rest.Str(team["id"]), nil
}

func (w *Workload) listTeamMembers(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamMemberRead.Check(p); err != nil {
		return err
	}
	var value []map[string]any
	var teamID string
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		if teamID, err = w.teamOf(ctx, tx, c); err != nil {
			return err
		}
		// The roster is the group's members and owners (an owner of a group made
		// through PUT /groups/{id}/team need not be listed as a member too).
		var links []store.Object
		for _, kind := range []string{identity.KindMember, identity.KindOwner} {
			l, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: kind, Owner: teamID})
			if err != nil {
				return err
			}
			links = append(links, l...)
		}
		seen := map[string]bool{}
		for _, l := range links {
			if seen[l.Parent] {
				continue
			}
			seen[l.Parent] = true
			m, err := teamMember(ctx, tx, p.TenantID, teamID, l.Parent)
			if ge, ok := graph.AsError(err); ok && ge.Status == http.StatusNotFound {
				continue // a group or a deleted user: not a conversation member
			}
			if err != nil {
				return err
			}
			value = append(value, m)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if value == nil {
		value = []map[string]any{}
	}
	return rest.Counted(c, "teams('"+teamID+"')/members", value)
}

func (w *Workload) getTeamMember(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamMemberRead.Check(p); err != nil {
		return err
	}
	fragment := "teams('" + strings.ToLower(c.Param("team")) + "')/members/$entity"
	return rest.Get(c, w.st, fragment, func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		teamID, err := w.teamOf(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		uid, ok := teamMemberUser(teamID, c.Param("member"))
		if !ok {
			return nil, graph.Errorf(http.StatusNotFound, codeNotFound, "Member '%s' was not found in team '%s'.", c.Param("member"), teamID)
		}
		return teamMember(ctx, tx, p.TenantID, teamID, uid)
	})
}

// addTeamMember adds a user to the team's group (and its owners for the owner
// role) and records the membership's creation.
func (w *Workload) addTeamMember(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamMemberWrite.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	in, err := parseMemberBody(body, true)
	if err != nil {
		return err
	}
	var teamID string
	var doc map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if teamID, err = w.teamOf(ctx, tx, c); err != nil {
			return err
		}
		u, _, err := userDoc(ctx, tx, p.TenantID, in.user)
		if err != nil {
			return err
		}
		if ok, err := identity.IsGroupMember(ctx, tx, p.TenantID, teamID, u.ID); err != nil || ok {
			return cmpErr(err, graph.Errorf(http.StatusConflict, graph.CodeConflict, "User '%s' is already a member of the team.", in.user))
		}
		if _, err := directory.AddGroupUser(ctx, tx, p.TenantID, teamID, u.ID, in.owner, c.Now); err != nil {
			return err
		}
		if doc, err = teamMember(ctx, tx, p.TenantID, teamID, u.ID); err != nil {
			return err
		}
		return teamMemberChange(p.TenantID, teamID, rest.Str(doc["id"]), "created", nil, doc).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, "teams('"+teamID+"')/members/$entity", doc)
}

// updateTeamMember changes a member's roles: owner or not.
func (w *Workload) updateTeamMember(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamMemberWrite.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	in, err := parseMemberBody(body, false)
	if err != nil {
		return err
	}
	var teamID string
	var doc map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if teamID, err = w.teamOf(ctx, tx, c); err != nil {
			return err
		}
		uid, before, err := w.locateTeamMember(ctx, tx, p.TenantID, teamID, c.Param("member"))
		if err != nil {
			return err
		}
		if in.owner {
			_, err = directory.AddGroupUser(ctx, tx, p.TenantID, teamID, uid, true, c.Now)
		} else {
			_, err = directory.RemoveGroupOwner(ctx, tx, p.TenantID, teamID, uid, c.Now)
		}
		if err != nil {
			return err
		}
		if doc, err = teamMember(ctx, tx, p.TenantID, teamID, uid); err != nil {
			return err
		}
		if slices.Equal(before["roles"].([]any), doc["roles"].([]any)) {
			return nil
		}
		return teamMemberChange(p.TenantID, teamID, rest.Str(doc["id"]), "updated", before, doc).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, "teams('"+teamID+"')/members/$entity", doc)
}

func (w *Workload) removeTeamMember(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamMemberWrite.Check(p); err != nil {
		return err
	}
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		teamID, err := w.teamOf(ctx, tx, c)
		if err != nil {
			return err
		}
		uid, before, err := w.locateTeamMember(ctx, tx, p.TenantID, teamID, c.Param("member"))
		if err != nil {
			return err
		}
		owner, err := isOwner(ctx, tx, p.TenantID, teamID, uid)
		if err != nil {
			return err
		}
		if owner && w.lastOwner(ctx, tx, p.TenantID, teamID) {
			return graph.BadRequest("The last owner of a team cannot be removed.")
		}
		if _, err := directory.RemoveGroupUser(ctx, tx, p.TenantID, teamID, uid, c.Now); err != nil {
			return err
		}
		return teamMemberChange(p.TenantID, teamID, rest.Str(before["id"]), "deleted", before, nil).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// lastOwner tells whether team has one owner left.
func (w *Workload) lastOwner(ctx context.Context, tx store.Tx, tenant, team string) bool {
	owners, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: identity.KindOwner, Owner: team, Limit: 2})
	return err == nil && len(owners) < 2
}

func (w *Workload) locateTeamMember(ctx context.Context, tx store.Tx, tenant, team, id string) (string, map[string]any, error) {
	uid, ok := teamMemberUser(team, id)
	if !ok {
		return "", nil, graph.Errorf(http.StatusNotFound, codeNotFound, "Member '%s' was not found in team '%s'.", id, team)
	}
	doc, err := teamMember(ctx, tx, tenant, team, uid)
	return uid, doc, err
}

// chatMemberDoc is the stored membership of user uid in chat.
func chatMemberDoc(tenant, chat, uid string, udoc map[string]any, roles []any) map[string]any {
	return conversationMember(base64.StdEncoding.EncodeToString([]byte("1#"+chat+"#"+uid)), tenant, uid, udoc, roles)
}

// findChatMember finds the membership id of chat; 404 when it is not there.
func findChatMember(ctx context.Context, tx store.Tx, tenant, chat, id string) (store.Object, map[string]any, error) {
	objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: KindChatMember, Owner: chat})
	if err != nil {
		return store.Object{}, nil, err
	}
	for _, o := range objs {
		doc, err := rest.Decode(o.Data)
		if err != nil {
			return o, nil, err
		}
		if rest.Str(doc["id"]) == id {
			return o, doc, nil
		}
	}
	return store.Object{}, nil, graph.Errorf(http.StatusNotFound, codeNotFound, "Member '%s' was not found in the chat.", id)
}

func (w *Workload) getChatMember(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatRead.Check(p); err != nil {
		return err
	}
	return rest.Get(c, w.st, "chats('"+c.Param("chat")+"')/members/$entity", func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		if _, err := w.chatAccess(ctx, tx, p, c.Param("chat")); err != nil {
			return nil, err
		}
		_, doc, err := findChatMember(ctx, tx, p.TenantID, c.Param("chat"), c.Param("member"))
		return doc, err
	})
}

// addChatMember adds a user to a group chat.
func (w *Workload) addChatMember(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatMemberWrite.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	in, err := parseMemberBody(body, true)
	if err != nil {
		return err
	}
	chatID := c.Param("chat")
	var doc map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		chat, err := w.chatAccess(ctx, tx, p, chatID)
		if err != nil {
			return err
		}
		if chat["chatType"] == "oneOnOne" {
			return graph.BadRequest("Members cannot be added to a oneOnOne chat.")
		}
		u, udoc, err := userDoc(ctx, tx, p.TenantID, in.user)
		if err != nil {
			return err
		}
		doc = chatMemberDoc(p.TenantID, chatID, u.ID, udoc, in.roles)
		data, _ := docjson.Marshal(doc)
		err = tx.InsertObject(ctx, &store.Object{Tenant: p.TenantID, Kind: KindChatMember, ID: chatMemberID(chatID, u.ID), Owner: chatID, Parent: u.ID, Data: data, Created: c.Now, Updated: c.Now})
		if errors.Is(err, store.ErrConflict) {
			return graph.Errorf(http.StatusConflict, graph.CodeConflict, "User '%s' is already a member of the chat.", in.user)
		}
		if err != nil {
			return err
		}
		return chatMemberChange(p.TenantID, chatID, rest.Str(doc["id"]), "created", nil, doc).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, "chats('"+chatID+"')/members/$entity", doc)
}

func (w *Workload) removeChatMember(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatMemberWrite.Check(p); err != nil {
		return err
	}
	chatID := c.Param("chat")
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		chat, err := w.chatAccess(ctx, tx, p, chatID)
		if err != nil {
			return err
		}
		if chat["chatType"] == "oneOnOne" {
			return graph.BadRequest("Members cannot be removed from a oneOnOne chat.")
		}
		o, doc, err := findChatMember(ctx, tx, p.TenantID, chatID, c.Param("member"))
		if err != nil {
			return err
		}
		if err := tx.DeleteObject(ctx, p.TenantID, KindChatMember, o.ID); err != nil {
			return err
		}
		return chatMemberChange(p.TenantID, chatID, rest.Str(doc["id"]), "deleted", doc, nil).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
