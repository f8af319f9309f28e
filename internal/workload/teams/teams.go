// Package teams is the Microsoft Teams workload: teams (made from Microsoft 365
// groups) with their members, channels, channel messages and their replies, chats with
// their members, chat messages, and the channel messages delta query.
//
// Messages are chatMessage documents stored exactly as GET serves them (less the
// @odata.context), because the After document of a message change is what rich
// notifications encrypt and send: a subscriber must decrypt the same JSON a GET returns.
//
// Change records:
//   - channel message or reply in team T, channel C: kind "channelMessage", topics
//     teams/T/channels/C/messages and teams/getAllMessages;
//   - chat message in chat C: kind "chatMessage", topics chats/C/messages,
//     chats/getAllMessages and users/M/chats/getAllMessages for every member M.
//
// Posting is "created"; an edit, a softDelete (deletedDateTime set) and an
// undoSoftDelete are "updated". Graph has no hard delete of messages, so this package
// never records "deleted" itself: a subscriber sees "deleted" only when a change moves
// a message out of its subscription's $filter (the matcher derives that from the
// before and after documents), as Graph reports a message that stops matching.
//
// Teams, channels, chats and their members (conversationMember) have change records
// too (notify.go), each carrying the resource as GET serves it for rich notifications:
//   - team T: kind "team", topics teams and teams/T;
//   - channel C of team T: kind "channel", topics teams/getAllChannels and teams/T/channels;
//   - chat C: kind "chat", topics chats and chats/C;
//   - member of team T: kind "teamMember", topics teams/getAllMembers and teams/T/members
//     (a team's roster is its group's membership, written through the directory);
//   - member of chat C: kind "chatMember", topics chats/getAllMembers and chats/C/members.
//
// Deleting a chat removes the subscriptions under chats/C, and purging a team's group
// those under teams/T, with subscriptionRemoved lifecycle notifications.
package teams

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Store kinds (docs/architecture.md, store conventions).
const (
	KindTeam           = "team"           // id = group id
	KindChannel        = "channel"        // owner: team id
	KindChannelMessage = "channelMessage" // owner: team id; parent: channel id
	KindChat           = "chat"
	KindChatMember     = "chatMember"  // owner: chat id; parent: user id
	KindChatMessage    = "chatMessage" // owner: chat id
)

// Workload serves Teams.
type Workload struct {
	st    store.Store
	ident *identity.Service

	// mu guards lastID: message ids are millisecond timestamps, kept strictly
	// increasing so that two messages posted in the same millisecond differ.
	mu     sync.Mutex
	lastID int64
}

// New returns the Teams workload.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

// Routes registers the Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("PUT", "groups/{group}/team", w.putGroupTeam)
	r.Handle("POST", "teams", w.postTeam)
	r.Handle("GET", "teams/{team}", w.getTeam)
	r.Handle("GET", "groups/{group}/team", w.getGroupTeam)
	r.Handle("GET", "teams/{team}/operations/{op}", w.getOperation)
	r.Handle("GET", "users/{user}/joinedTeams", w.joinedTeams)

	r.Handle("GET", "teams/{team}/channels", w.listChannels)
	r.Handle("POST", "teams/{team}/channels", w.createChannel)
	r.Handle("GET", "teams/{team}/channels/{channel}", w.getChannel)
	r.Handle("GET", "teams/{team}/primaryChannel", w.getPrimaryChannel)

	base := "teams/{team}/channels/{channel}/messages"
	r.Handle("GET", base, w.listChannelMessages)
	r.Handle("POST", base, w.postChannelMessage)
	r.Handle("GET", base+"/delta", w.channelMessagesDelta)
	r.Handle("GET", base+"/{id}", w.getChannelMessage)
	r.Handle("PATCH", base+"/{id}", w.patchChannelMessage)
	r.Handle("POST", base+"/{id}/softDelete", w.softDeleteChannelMessage(true))
	r.Handle("POST", base+"/{id}/undoSoftDelete", w.softDeleteChannelMessage(false))
	r.Handle("GET", base+"/{id}/replies", w.listReplies)
	r.Handle("POST", base+"/{id}/replies", w.postReply)
	r.Handle("GET", base+"/{id}/replies/{reply}", w.getChannelMessage)
	r.Handle("PATCH", base+"/{id}/replies/{reply}", w.patchChannelMessage)
	r.Handle("POST", base+"/{id}/replies/{reply}/softDelete", w.softDeleteChannelMessage(true))
	r.Handle("POST", base+"/{id}/replies/{reply}/undoSoftDelete", w.softDeleteChannelMessage(false))

	r.Handle("POST", "chats", w.createChat)
	r.Handle("GET", "chats", w.listMyChats)
	r.Handle("GET", "chats/{chat}", w.getChat)
	r.Handle("GET", "chats/{chat}/members", w.listChatMembers)
	r.Handle("GET", "users/{user}/chats", w.listUserChats)
	r.Handle("GET", "users/{user}/chats/{chat}", w.getChat)
	r.Handle("GET", "chats/{chat}/messages", w.listChatMessages)
	r.Handle("POST", "chats/{chat}/messages", w.postChatMessage)
	r.Handle("GET", "chats/{chat}/messages/{id}", w.getChatMessage)
	r.Handle("PATCH", "chats/{chat}/messages/{id}", w.patchChatMessage)
	r.Handle("POST", "chats/{chat}/messages/{id}/softDelete", w.softDeleteChatMessage(true))
	r.Handle("POST", "chats/{chat}/messages/{id}/undoSoftDelete", w.softDeleteChatMessage(false))
	// Graph documents chat message softDelete under the user.
	r.Handle("POST", "users/{user}/chats/{chat}/messages/{id}/softDelete", w.softDeleteChatMessage(true))
	r.Handle("POST", "users/{user}/chats/{chat}/messages/{id}/undoSoftDelete", w.softDeleteChatMessage(false))
	w.changeRoutes(r)
}

// noPersonal refuses personal Microsoft accounts, which have no Teams.
const noPersonal = "Microsoft Teams is not available for personal Microsoft accounts."

// Permission sets. Group.Read.All and Group.ReadWrite.All are Graph's older, broader
// permissions that its Teams APIs still accept.
var (
	teamCreate     = rest.Permissions{Personal: noPersonal, Delegated: []string{"Team.Create", "Group.ReadWrite.All"}, Application: []string{"Team.Create", "Group.ReadWrite.All"}}
	teamRead       = rest.Permissions{Personal: noPersonal, Delegated: []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}, Application: []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}}
	channelCreate  = rest.Permissions{Personal: noPersonal, Delegated: []string{"Channel.Create", "Group.ReadWrite.All"}, Application: []string{"Channel.Create", "Group.ReadWrite.All"}}
	channelRead    = rest.Permissions{Personal: noPersonal, Delegated: []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}, Application: []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"}}
	channelMsgRead = rest.Permissions{Personal: noPersonal, Delegated: []string{"ChannelMessage.Read.All", "Group.Read.All", "Group.ReadWrite.All"}, Application: []string{"ChannelMessage.Read.All", "ChannelMessage.Read.Group"}}
	// Graph allows application permissions to post channel messages only to migrate
	// history (Teamwork.Migrate.All). graphhook allows them generally, because tests and
	// demos need application writers; an app's post is "from" the app unless the body
	// names a user, as a migration would.
	channelMsgSend  = rest.Permissions{Personal: noPersonal, Delegated: []string{"ChannelMessage.Send", "Group.ReadWrite.All"}, Application: []string{"ChannelMessage.Send", "ChannelMessage.ReadWrite", "Group.ReadWrite.All"}}
	channelMsgWrite = rest.Permissions{Personal: noPersonal, Delegated: []string{"ChannelMessage.ReadWrite", "Group.ReadWrite.All"}}

	chatCreate = rest.Permissions{Personal: noPersonal, Delegated: []string{"Chat.Create", "Chat.ReadWrite"}, Application: []string{"Chat.Create"}}
	chatRead   = rest.Permissions{Personal: noPersonal, Delegated: []string{"Chat.ReadBasic", "Chat.Read", "Chat.ReadWrite"}, Application: []string{"Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"}}
	// GET /chats lists the signed-in user's chats: delegated callers only.
	myChatsRead = rest.Permissions{Personal: noPersonal, Delegated: chatRead.Delegated}
	chatMsgRead = rest.Permissions{Personal: noPersonal, Delegated: []string{"Chat.Read", "Chat.ReadWrite"}, Application: []string{"Chat.Read.All", "Chat.ReadWrite.All"}}
	// As for channels, Graph's application posting is migration-only; graphhook allows
	// it with Chat.ReadWrite.All.
	chatMsgSend  = rest.Permissions{Personal: noPersonal, Delegated: []string{"ChatMessage.Send", "Chat.ReadWrite"}, Application: []string{"Chat.ReadWrite.All"}}
	chatMsgWrite = rest.Permissions{Personal: noPersonal, Delegated: []string{"Chat.ReadWrite"}}
)

// Error codes, as Teams spells them.
const (
	codeForbidden = "Forbidden"
	codeNotFound  = "NotFound"
)

func notMember(what string) error {
	return graph.Errorf(http.StatusForbidden, codeForbidden, "The signed-in user is not a member of the %s.", what)
}

// msTime renders times the way Teams does: UTC with milliseconds.
func msTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// userDoc reads a user of the tenant by id or UPN; 404 when unknown.
func userDoc(ctx context.Context, tx store.Tx, tenant, idOrUPN string) (store.Object, map[string]any, error) {
	o, err := directory.ResolveUser(ctx, tx, tenant, idOrUPN)
	if errors.Is(err, store.ErrNotFound) {
		return o, nil, graph.Errorf(http.StatusNotFound, codeNotFound, "User '%s' was not found.", idOrUPN)
	}
	if err != nil {
		return o, nil, err
	}
	doc, err := rest.Decode(o.Data)
	return o, doc, err
}

// bindID extracts the key of an @odata.bind URL such as
// https://graph.microsoft.com/v1.0/users('id') or …/groups/id, for the given
// collection name.
func bindID(v any, collection string) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	lower := strings.ToLower(s)
	i := strings.LastIndex(lower, strings.ToLower(collection))
	if i < 0 {
		return "", false
	}
	rest := s[i+len(collection):]
	switch {
	case strings.HasPrefix(rest, "('") && strings.HasSuffix(rest, "')"):
		rest = rest[2 : len(rest)-2]
	case strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")"):
		rest = rest[1 : len(rest)-1]
	case strings.HasPrefix(rest, "/"):
		rest = rest[1:]
	default:
		return "", false
	}
	if rest == "" || strings.ContainsAny(rest, "/()'") {
		return "", false
	}
	return rest, true
}
