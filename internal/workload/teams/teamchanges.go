package teams

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Permissions of the team, channel and chat updates and deletions ("Update team",
// "Patch channel", "Delete channel", "Update chat", "Delete chat").
var (
	teamSettingsWrite    = rest.Permissions{Personal: noPersonal, Delegated: []string{"TeamSettings.ReadWrite.All", "Group.ReadWrite.All"}, Application: []string{"TeamSettings.ReadWrite.Group", "TeamSettings.ReadWrite.All", "Group.ReadWrite.All"}}
	channelSettingsWrite = rest.Permissions{Personal: noPersonal, Delegated: []string{"ChannelSettings.ReadWrite.All", "Group.ReadWrite.All"}, Application: []string{"ChannelSettings.ReadWrite.Group", "ChannelSettings.ReadWrite.All", "Group.ReadWrite.All"}}
	channelDelete        = rest.Permissions{Personal: noPersonal, Delegated: []string{"Channel.Delete.All", "Group.ReadWrite.All"}, Application: []string{"Channel.Delete.Group", "Channel.Delete.All", "Group.ReadWrite.All"}}
	chatWrite            = rest.Permissions{Personal: noPersonal, Delegated: []string{"Chat.ReadWrite"}, Application: []string{"ChatSettings.ReadWrite.Chat", "Chat.ReadWrite.All"}}
	// Deleting a chat is for applications only.
	chatDelete = rest.Permissions{Personal: noPersonal, Application: []string{"Chat.ManageDeletion.All"}}
)

// changeRoutes registers the updates and deletions of teams, channels and chats, and
// the members API: the changes the team, channel, chat and conversationMember
// subscriptions report.
func (w *Workload) changeRoutes(r *httpapi.Router) {
	r.Handle("PATCH", "teams/{team}", w.updateTeam)
	r.Handle("PATCH", "teams/{team}/channels/{channel}", w.updateChannel)
	r.Handle("DELETE", "teams/{team}/channels/{channel}", w.deleteChannel)
	r.Handle("PATCH", "chats/{chat}", w.updateChat)
	r.Handle("DELETE", "chats/{chat}", w.deleteChat)
	w.memberRoutes(r)
}

// updateTeam changes a team's settings, name or description; 204 as Graph answers.
func (w *Workload) updateTeam(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamSettingsWrite.Check(p); err != nil {
		return err
	}
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		team, err := w.teamAccess(ctx, tx, p, c.Param("team"))
		if err != nil {
			return err
		}
		before := cloneDoc(team)
		for k, v := range body {
			switch k {
			case "displayName", "description":
				if _, ok := v.(string); !ok {
					return graph.BadRequest("Invalid value for '%s': a string expected.", k)
				}
				team[k] = v
			default:
				defaults, ok := teamSettings[k]
				if !ok {
					return graph.BadRequest("Property '%s' does not exist on type 'microsoft.graph.team' or cannot be changed.", k)
				}
				m, ok := v.(map[string]any)
				if !ok {
					return graph.BadRequest("Invalid value for '%s': an object expected.", k)
				}
				merged, _ := team[k].(map[string]any)
				if merged == nil {
					merged = map[string]any{}
					team[k] = merged
				}
				for sk, sv := range m {
					if _, known := defaults[sk]; !known {
						return graph.BadRequest("Property '%s' does not exist on '%s'.", sk, k)
					}
					merged[sk] = sv
				}
			}
		}
		id := rest.Str(team["id"])
		if err := saveDoc(ctx, tx, p.TenantID, KindTeam, id, team, c); err != nil {
			return err
		}
		return teamChange(p.TenantID, id, store.Updated, before, team).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// updateChannel changes a channel's name or description; the General channel keeps
// its name.
func (w *Workload) updateChannel(c *httpapi.Ctx) error {
	p := c.Principal
	if err := channelSettingsWrite.Check(p); err != nil {
		return err
	}
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		team, ch, err := w.channelOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before := cloneDoc(ch)
		for k, v := range body {
			s, ok := v.(string)
			switch {
			case k != "displayName" && k != "description":
				return graph.BadRequest("Property '%s' does not exist on type 'microsoft.graph.channel' or cannot be changed.", k)
			case !ok:
				return graph.BadRequest("Invalid value for '%s': a string expected.", k)
			case k == "displayName" && rest.Str(ch["id"]) == rest.Str(team["internalId"]):
				return graph.BadRequest("The General channel cannot be renamed.")
			case k == "displayName" && (strings.TrimSpace(s) == "" || len([]rune(s)) > maxChannelName || strings.ContainsAny(s, channelBadChar)):
				return graph.BadRequest("Invalid channel displayName '%s'.", s)
			}
			ch[k] = s
		}
		teamID, id := rest.Str(team["id"]), rest.Str(ch["id"])
		if err := saveDoc(ctx, tx, p.TenantID, KindChannel, id, ch, c); err != nil {
			return err
		}
		return channelChange(p.TenantID, teamID, id, store.Updated, before, ch).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// deleteChannel deletes a channel other than General.
func (w *Workload) deleteChannel(c *httpapi.Ctx) error {
	p := c.Principal
	if err := channelDelete.Check(p); err != nil {
		return err
	}
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		team, ch, err := w.channelOf(ctx, tx, c)
		if err != nil {
			return err
		}
		teamID, id := rest.Str(team["id"]), rest.Str(ch["id"])
		if id == rest.Str(team["internalId"]) {
			return graph.BadRequest("The General channel cannot be deleted.")
		}
		if err := tx.DeleteObject(ctx, p.TenantID, KindChannel, id); err != nil {
			return err
		}
		return channelChange(p.TenantID, teamID, id, store.Deleted, ch, nil).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// channelOf loads the request's team and channel.
func (w *Workload) channelOf(ctx context.Context, tx store.Tx, c *httpapi.Ctx) (team, ch map[string]any, err error) {
	if team, err = w.teamAccess(ctx, tx, c.Principal, c.Param("team")); err != nil {
		return nil, nil, err
	}
	ch, err = w.loadChannel(ctx, tx, c.Principal.TenantID, rest.Str(team["id"]), c.Param("channel"))
	return team, ch, err
}

// updateChat changes a group chat's topic and answers the chat.
func (w *Workload) updateChat(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatWrite.Check(p); err != nil {
		return err
	}
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	for k := range body {
		if k != "topic" {
			return graph.BadRequest("Property '%s' does not exist on type 'microsoft.graph.chat' or cannot be changed.", k)
		}
	}
	topic, ok := body["topic"].(string)
	if !ok {
		return graph.BadRequest("'topic' is required: a string.")
	}
	var chat map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if chat, err = w.chatAccess(ctx, tx, p, c.Param("chat")); err != nil {
			return err
		}
		if chat["chatType"] != "group" {
			return graph.BadRequest("Only a group chat has a topic.")
		}
		before := cloneDoc(chat)
		chat["topic"] = topic
		chat["lastUpdatedDateTime"] = graph.FormatTime(c.Now)
		id := rest.Str(chat["id"])
		if err := saveDoc(ctx, tx, p.TenantID, KindChat, id, chat, c); err != nil {
			return err
		}
		return chatChange(p.TenantID, id, store.Updated, before, chat).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, "chats/$entity", chat)
}

// deleteChat deletes a chat with its memberships. Its deletion removes the
// subscriptions on the chat, its members and its messages (subscriptionRemoved).
func (w *Workload) deleteChat(c *httpapi.Ctx) error {
	p := c.Principal
	if err := chatDelete.Check(p); err != nil {
		return err
	}
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		chat, err := w.loadChat(ctx, tx, p.TenantID, c.Param("chat"))
		if err != nil {
			return err
		}
		id := rest.Str(chat["id"])
		members, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: KindChatMember, Owner: id})
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.DeleteObject(ctx, p.TenantID, KindChatMember, m.ID); err != nil {
				return err
			}
		}
		if err := tx.DeleteObject(ctx, p.TenantID, KindChat, id); err != nil {
			return err
		}
		return chatChange(p.TenantID, id, store.Deleted, chat, nil).record(ctx, tx, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// saveDoc stores doc as the object kind/id's new document.
func saveDoc(ctx context.Context, tx store.Tx, tenant, kind, id string, doc map[string]any, c *httpapi.Ctx) error {
	o, err := tx.GetObject(ctx, tenant, kind, id)
	if err != nil {
		return err
	}
	o.Data, _ = docjson.Marshal(doc)
	o.Updated = c.Now
	return tx.UpdateObject(ctx, &o)
}

// cloneDoc copies a document deeply enough that changing its nested settings objects
// leaves the copy as it was.
func cloneDoc(doc map[string]any) map[string]any {
	data, _ := docjson.Marshal(doc)
	var out map[string]any
	json.Unmarshal(data, &out)
	return out
}
