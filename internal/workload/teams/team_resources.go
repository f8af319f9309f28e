package teams

import (
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// Resource type names of the Teams resources besides messages.
const (
	TeamResource    = "team"
	ChannelResource = "channel"
	ChatResource    = "chat"
	MemberResource  = "conversationMember"
)

// Permission variants of the team, channel, chat and member paths.
const (
	VariantAnyTeam            = "allTeams"           // /teams
	VariantTeam               = "team"               // /teams/{id}
	VariantAnyChannel         = "allTeamChannels"    // /teams/getAllChannels
	VariantTeamChannels       = "teamChannels"       // /teams/{id}/channels
	VariantAnyChat            = "allChatsList"       // /chats
	VariantChatItself         = "oneChat"            // /chats/{id}
	VariantAllTeamMembers     = "allTeamMembers"     // /teams/getAllMembers
	VariantTeamMembers        = "teamMembers"        // /teams/{id}/members
	VariantTeamChannelMembers = "teamChannelMembers" // /teams/{id}/channels/getAllMembers
	VariantAllChatMembers     = "allChatMembers"     // /chats/getAllMembers
	VariantChatMembers        = "chatMembers"        // /chats/{id}/members
)

// teamsLifetime is the longest subscription on a team, channel, chat or member
// ("Maximum length of subscription per resource type": 4,320 minutes).
const teamsLifetime = 4320 * time.Minute

// teamsResourceTypes are every Teams resource type: the 10,000 subscriptions per
// organization are counted across them all.
func teamsResourceTypes() []string {
	return []string{ChatMessageResource, TeamResource, ChannelResource, ChatResource, MemberResource}
}

// teamResources describes teams, channels, chats and their members, after "Get
// change notifications for teams and channels", "… for chats", "… for membership
// changes in teams and channels" and "… for chat membership". Every one may carry
// resource data, encrypted as chat messages are. The member descriptor comes first:
// its literal paths (teams/getAllMembers, chats/getAllMembers) must be tried before
// teams/{id} and chats/{id}.
func teamResources() []resource.Descriptor {
	read := func(kind, what string) func(r *resource.Resolver, id string) (string, error) {
		return func(r *resource.Resolver, id string) (string, error) {
			o, err := r.Object(kind, id, "", what+" '%s' does not exist.")
			return o.ID, err
		}
	}
	team, chat := read(KindTeam, "Team"), read(KindChat, "Chat")
	fixed := func(topic string) func(*resource.Resolver, []string) (resource.Target, error) {
		return func(*resource.Resolver, []string) (resource.Target, error) { return resource.Target{Topic: topic}, nil }
	}
	under := func(parent func(*resource.Resolver, string) (string, error), topic func(string) string) func(*resource.Resolver, []string) (resource.Target, error) {
		return func(r *resource.Resolver, ids []string) (resource.Target, error) {
			id, err := parent(r, ids[0])
			return resource.Target{Topic: topic(id)}, err
		}
	}
	base := func(typ string, kinds []string, changeTypes []string) resource.Descriptor {
		return resource.Descriptor{
			Type: typ, Workload: "Microsoft Teams", Kinds: kinds, ChangeTypes: changeTypes,
			MaxLifetime: teamsLifetime, RichData: true, Teams: true,
			Lifecycle:   []string{graph.LifecycleSubscriptionRemoved},
			Quotas:      teamResourceQuotas,
			RemovedWith: removedWithTeamOrChat,
		}
	}
	all := []string{store.Created, store.Updated, store.Deleted}
	// The licensing parameter model=A|B is documented on chats/getAllMembers and
	// teams/{id}/channels/getAllMembers only.

	member := base(MemberResource, []string{KindTeamMember, KindChatMember}, all)
	member.Paths = []resource.Path{
		{Pattern: "teams/getAllMembers", Variant: VariantAllTeamMembers, Resolve: fixed(change.AllTeamMembers())},
		{Pattern: "chats/getAllMembers", Variant: VariantAllChatMembers, Options: resource.AllowModel, Resolve: fixed(change.AllChatMembers()),
			ChangeTypes: []string{store.Created, store.Deleted}},
		{Pattern: "teams/{team}/members", Variant: VariantTeamMembers, CanRead: canReadTeam, Resolve: under(team, change.TeamMembers)},
		{Pattern: "teams/{team}/channels/getAllMembers", Variant: VariantTeamChannelMembers, Options: resource.AllowModel, CanRead: canReadTeam, Resolve: under(team, change.TeamChannelMembers)},
		{Pattern: "chats/{chat}/members", Variant: VariantChatMembers, CanRead: canReadChat, Resolve: under(chat, change.ChatMembers),
			ChangeTypes: []string{store.Created, store.Deleted}},
	}
	member.Permissions = MemberPermissions()
	// Team members: the created sample's answer is the membership whose id the
	// updated and deleted samples name.
	member.Samples = []resource.Sample{
		{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "teams/{team}/members",
			`{"@odata.type":"#microsoft.graph.aadUserConversationMember","roles":[],"user@odata.bind":"https://graph.microsoft.com/v1.0/users('{user}')"}`)},
			Permission: "TeamMember.ReadWrite.All", Fresh: []string{"user"}},
		{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "teams/{team}/members/{id}",
			`{"@odata.type":"#microsoft.graph.aadUserConversationMember","roles":["owner"]}`)}, Permission: "TeamMember.ReadWrite.All"},
		{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "teams/{team}/members/{id}", "")},
			Permission: "TeamMember.ReadWrite.All"},
	}

	channel := base(ChannelResource, []string{KindChannel}, all)
	channel.Paths = []resource.Path{
		{Pattern: "teams/getAllChannels", Variant: VariantAnyChannel, Resolve: fixed(change.AllChannels())},
		{Pattern: "teams/{team}/channels", Variant: VariantTeamChannels, CanRead: canReadTeam, Resolve: under(team, change.TeamChannels)},
	}
	channel.Permissions = ChannelPermissions()
	channel.Samples = []resource.Sample{
		{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "teams/{team}/channels",
			`{"displayName":"Trigger channel {unique}","membershipType":"standard"}`)}, Permission: "Channel.Create"},
		{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "teams/{team}/channels/{id}",
			`{"description":"Changed by graphhook"}`)}, Permission: "ChannelSettings.ReadWrite.All"},
		{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "teams/{team}/channels/{id}", "")},
			Permission: "Channel.Delete.All"},
	}

	teamD := base(TeamResource, []string{KindTeam}, all)
	teamD.Paths = []resource.Path{
		{Pattern: "teams", Variant: VariantAnyTeam, Resolve: fixed(change.Teams())},
		{Pattern: "teams/{team}", Variant: VariantTeam, CanRead: canReadTeam, Resolve: under(team, change.Team)},
	}
	teamD.Permissions = TeamPermissions()
	teamD.Samples = []resource.Sample{
		{ChangeType: store.Created, Requests: []resource.Request{resource.Req("PUT", "groups/{group}/team", `{}`)}, Permission: "Team.Create", Fresh: []string{"group"}},
		{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "teams/{team}",
			`{"funSettings":{"allowGiphy":false}}`)}, Permission: "TeamSettings.ReadWrite.All"},
		// A team goes with its group; the created sample's team has its group's id.
		{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "groups/{id}", "")}, Permission: "Group.ReadWrite.All"},
	}

	chatD := base(ChatResource, []string{KindChat}, []string{store.Created, store.Updated})
	chatD.Paths = []resource.Path{
		{Pattern: "chats", Variant: VariantAnyChat, Resolve: fixed(change.Chats())},
		{Pattern: "chats/{chat}", Variant: VariantChatItself, CanRead: canReadChat, Resolve: under(chat, change.Chat)},
	}
	chatD.Permissions = ChatPermissions()
	// No sample creates a chat: a chat needs two members and a sample names one
	// user.
	chatD.Samples = []resource.Sample{
		{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "chats/{chat}", `{"topic":"Renamed by graphhook {unique}"}`)},
			Permission: "Chat.ReadWrite.All"},
	}
	return []resource.Descriptor{member, channel, teamD, chatD}
}

// TeamPermissions is the team permission table.
func TeamPermissions() []resource.Permission {
	return []resource.Permission{
		{Variant: VariantAnyTeam, Application: []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All"}},
		{Variant: VariantTeam,
			DelegatedWork: []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All"},
			Application:   []string{"TeamSettings.Read.Group", "TeamSettings.ReadWrite.Group", "Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All"}},
	}
}

// ChannelPermissions is the channel permission table.
func ChannelPermissions() []resource.Permission {
	return []resource.Permission{
		{Variant: VariantAnyChannel, Application: []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All"}},
		{Variant: VariantTeamChannels,
			DelegatedWork: []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All"},
			Application:   []string{"ChannelSettings.Read.Group", "ChannelSettings.ReadWrite.Group", "Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All"}},
	}
}

// ChatPermissions is the chat permission table.
func ChatPermissions() []resource.Permission {
	return []resource.Permission{
		{Variant: VariantAnyChat, Application: []string{"Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"}},
		{Variant: VariantChatItself,
			DelegatedWork: []string{"Chat.ReadBasic", "Chat.Read", "Chat.ReadWrite"},
			Application:   []string{"ChatSettings.Read.Chat", "ChatSettings.ReadWrite.Chat", "Chat.Manage.Chat", "Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"}},
	}
}

// MemberPermissions is the conversationMember permission table.
func MemberPermissions() []resource.Permission {
	return []resource.Permission{
		{Variant: VariantAllTeamMembers, Application: []string{"TeamMember.Read.All", "TeamMember.ReadWrite.All"}},
		{Variant: VariantTeamMembers,
			DelegatedWork: []string{"TeamMember.Read.All", "TeamMember.ReadWrite.All"},
			Application:   []string{"TeamMember.Read.Group", "TeamMember.Read.All", "TeamMember.ReadWrite.All"}},
		{Variant: VariantTeamChannelMembers, DelegatedWork: []string{"ChannelMember.Read.All"}, Application: []string{"ChannelMember.Read.All"}},
		{Variant: VariantAllChatMembers, Application: []string{"ChatMember.Read.All", "ChatMember.ReadWrite.All", "Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"}},
		{Variant: VariantChatMembers,
			DelegatedWork: []string{"ChatMember.Read", "ChatMember.ReadWrite", "Chat.ReadBasic", "Chat.Read", "Chat.ReadWrite"},
			Application:   []string{"ChatMember.Read.Chat", "Chat.Manage.Chat", "ChatMember.Read.All", "ChatMember.ReadWrite.All", "Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"}},
	}
}

// removedWithTeamOrChat: a deleted team (its group deleted) takes with it the
// subscriptions on its channels, members and messages, sparing the one on the team
// itself, which is told "deleted"; a deleted chat takes every subscription under it
// (a chat subscription has no "deleted").
func removedWithTeamOrChat(kind, id string) []string {
	switch kind {
	case KindTeam:
		return []string{change.Team(id) + "/"}
	case KindChat:
		return []string{change.Chat(id)}
	}
	return nil
}

// teamResourceQuotas: the Teams subscriptions of one organization, every Teams
// resource type together; and one app's on one team or chat path ("1 per app and
// team", "1 per app and chat" in Microsoft's limits).
func teamResourceQuotas(p *identity.Principal, t resource.Target, q resource.Quotas) []resource.Quota {
	out := []resource.Quota{{
		Query:   store.SubscriptionQuery{Tenant: p.TenantID, ResourceTypes: teamsResourceTypes()},
		Limit:   q.TeamsPerTenant,
		Message: "The limit of %d Teams subscriptions per organization has been reached.",
	}}
	switch t.Variant {
	case VariantTeam, VariantTeamChannels, VariantTeamMembers, VariantTeamChannelMembers, VariantChatItself, VariantChatMembers:
		out = append(out, resource.Quota{
			Query:   store.SubscriptionQuery{Tenant: p.TenantID, AppID: p.AppID, Topic: t.Topic},
			Limit:   q.TeamsPerAppTarget,
			Message: "The limit of %d subscriptions per application per team or chat has been reached.",
		})
	}
	return out
}
