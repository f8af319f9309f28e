package teams

import (
	"context"
	"errors"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// ChatMessageResource is the resource type name of channel and chat messages.
const ChatMessageResource = "chatMessage"

// Permission variants of chat message paths: each needs its own permissions.
const (
	VariantChannel     = "channel"     // /teams/{id}/channels/{id}/messages
	VariantAllChannels = "allChannels" // /teams/getAllMessages
	VariantChat        = "chat"        // /chats/{id}/messages
	VariantAllChats    = "allChats"    // /chats/getAllMessages
	VariantUserChats   = "userChats"   // /users/{id}/chats/getAllMessages
)

// Resources describes the subscribable Teams resources: messages, after "Get change
// notifications for messages in Teams channels and chats": tenant-wide paths for
// applications, a team's channels and a user's chats also for that signed-in user,
// with resource data allowed; then teams, channels, chats and members
// (teamResources).
func Resources() []resource.Descriptor {
	return append([]resource.Descriptor{{
		Type:        ChatMessageResource,
		Workload:    "Microsoft Teams",
		Kinds:       []string{KindChannelMessage, KindChatMessage},
		ChangeTypes: []string{store.Created, store.Updated, store.Deleted},
		MaxLifetime: 4320 * time.Minute,
		RichData:    true,
		Teams:       true,
		Lifecycle:   []string{graph.LifecycleSubscriptionRemoved},
		Paths: []resource.Path{
			{Pattern: "users/{user}/chats/getAllMessages", OwnUser: true, Variant: VariantUserChats, Options: resource.AllowFilter | resource.AllowModel, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				u, err := directory.SubscribedUser(r, ids[0])
				return resource.Target{Topic: change.UserChatMessages(u), User: u}, err
			}},
			{Pattern: "teams/getAllMessages", Variant: VariantAllChannels, Options: resource.AllowModel, Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: change.AllChannelMessages()}, nil
			}},
			{Pattern: "teams/{team}/channels/{channel}/messages", Variant: VariantChannel, Options: resource.AllowFilter | resource.AllowSearch, SearchIn: "body/content", CanRead: canReadTeam, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				team, err := r.Object(KindTeam, ids[0], "", "Team '%s' does not exist.")
				if err != nil {
					return resource.Target{}, err
				}
				ch, err := r.Object(KindChannel, ids[1], team.ID, "Channel '%s' does not exist in the team.")
				return resource.Target{Topic: change.ChannelMessages(team.ID, ch.ID)}, err
			}},
			{Pattern: "chats/getAllMessages", Variant: VariantAllChats, Options: resource.AllowModel, Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: change.AllChatMessages()}, nil
			}},
			{Pattern: "chats/{chat}/messages", Variant: VariantChat, Options: resource.AllowFilter | resource.AllowSearch, SearchIn: "body/content", CanRead: canReadChat, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				c, err := r.Object(KindChat, ids[0], "", "Chat '%s' does not exist.")
				return resource.Target{Topic: change.ChatMessages(c.ID)}, err
			}},
		},
		// Microsoft's "Get change notifications for messages in Teams channels and
		// chats": a signed-in user may watch the channels of their teams and their
		// own chats; tenant-wide paths are for applications only.
		Permissions: []resource.Permission{
			{Variant: VariantChannel, DelegatedWork: []string{"ChannelMessage.Read.All"},
				Application: []string{"ChannelMessage.Read.Group", "ChannelMessage.Read.All"}},
			{Variant: VariantAllChannels, Application: []string{"ChannelMessage.Read.All"}},
			{Variant: VariantChat, DelegatedWork: []string{"Chat.Read", "Chat.ReadWrite"},
				Application: []string{"ChatMessage.Read.Chat", "Chat.Read.All", "Chat.ReadWrite.All"}},
			{Variant: VariantAllChats, Application: []string{"Chat.Read.All", "Chat.ReadWrite.All"}},
			{Variant: VariantUserChats, DelegatedWork: []string{"Chat.Read", "Chat.ReadWrite"},
				Application: []string{"Chat.Read.All", "Chat.ReadWrite.All"}},
		},
		Quotas: teamsQuotas,
		// A deleted team takes its channels' subscriptions with it, a deleted chat its
		// messages' subscriptions (removedWithTeamOrChat).
		RemovedWith: removedWithTeamOrChat,
		Samples: []resource.Sample{
			{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "chats/{chat}/messages", `{"body":{"content":"Hello"}}`)}, Permission: "Chat.ReadWrite.All"},
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "chats/{chat}/messages/{id}", `{"body":{"content":"Changed"}}`)}, Permission: "Chat.ReadWrite", Delegated: true},
			// A message posted in a channel: the same type, on the channel's paths.
			{Name: "channelMessage", ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "teams/{team}/channels/{channel}/messages", `{"body":{"content":"Hello channel"}}`)}, Permission: "Group.ReadWrite.All"},
			// Soft deletion is recorded as an update; "deleted" reaches a subscription
			// whose $filter the message stops matching, so no request has it as such.
		},
	}}, teamResources()...)
}

// canReadTeam is the read rule of a channel's messages: a signed-in user must be a
// member of the team, as GET of the channel's messages requires.
func canReadTeam(ctx context.Context, tx store.Tx, p *identity.Principal, ids []string) error {
	if !p.Type.Delegated() {
		return nil
	}
	member, err := identity.IsGroupMember(ctx, tx, p.TenantID, ids[0], p.UserID)
	if err != nil {
		return err
	}
	if !member {
		return resource.Denied("The signed-in user is not a member of the team.")
	}
	return nil
}

// canReadChat is the read rule of a chat's messages: a signed-in user must be a
// member of the chat.
func canReadChat(ctx context.Context, tx store.Tx, p *identity.Principal, ids []string) error {
	if !p.Type.Delegated() {
		return nil
	}
	_, err := tx.GetObject(ctx, p.TenantID, KindChatMember, chatMemberID(ids[0], p.UserID))
	if errors.Is(err, store.ErrNotFound) {
		return resource.Denied("The signed-in user is not a member of the chat.")
	}
	return err
}

// teamsQuotas: Teams subscriptions per organization, every kind together; and one
// app's subscriptions on one channel or chat, or anyone's on one user's chats.
func teamsQuotas(p *identity.Principal, t resource.Target, q resource.Quotas) []resource.Quota {
	out := []resource.Quota{{
		Query:   store.SubscriptionQuery{Tenant: p.TenantID, ResourceTypes: teamsResourceTypes()},
		Limit:   q.TeamsPerTenant,
		Message: "The limit of %d Teams subscriptions per organization has been reached.",
	}}
	switch t.Variant {
	case VariantChannel, VariantChat:
		out = append(out, resource.Quota{
			Query:   store.SubscriptionQuery{Tenant: p.TenantID, AppID: p.AppID, Topic: t.Topic},
			Limit:   q.ChatMessagesPerAppTarget,
			Message: "The limit of %d chat message subscriptions per application per channel or chat has been reached.",
		})
	case VariantUserChats:
		out = append(out, resource.Quota{
			Query:   store.SubscriptionQuery{Tenant: p.TenantID, Topic: t.Topic},
			Limit:   q.ChatMessagesPerUser,
			Message: "The limit of %d subscriptions per user to /users/{id}/chats/getAllMessages has been reached.",
		})
	}
	return out
}
