package subscription_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/testserver"
)

// permissionRow is one row of Graph's permission table for subscriptions: a
// resource (and path variant) and the permissions each permission type may
// subscribe with ("-" where the type is not supported).
type permissionRow struct {
	resource, variant string
	application       string
	delegatedWork     string
	delegatedPersonal string
}

// todaysPermissions is Graph's current table, written out from Microsoft's pages
// ("Create subscription", "Change notifications for Outlook resources", "Get change
// notifications for messages in Teams channels and chats", …), not derived from
// the descriptors under test. A workload that adds a subscribable resource adds its
// rows here.
var todaysPermissions = []permissionRow{
	{"callRecord", "", "CallRecords.Read.All", "-", "-"},
	{"conversation", "", "-", "Group.Read.All", "-"},
	{"user", "", "User.Read.All", "User.Read.All", "-"},
	{"group", "", "Group.Read.All", "Group.Read.All", "-"},
	{"driveItem", "", "Files.Read.All, Files.ReadWrite.All", "Files.Read.All, Files.ReadWrite.All", "-"},
	{"driveItem", "personalDrive", "-", "-", "Files.Read, Files.ReadWrite"},
	{"message", "", "Mail.ReadBasic.All, Mail.Read", "Mail.ReadBasic, Mail.Read", "Mail.ReadBasic, Mail.Read"},
	{"event", "", "Calendars.Read", "Calendars.Read", "Calendars.Read"},
	{"contact", "", "Contacts.Read", "Contacts.Read", "Contacts.Read"},
	{"alert", "", "SecurityEvents.ReadWrite.All", "SecurityEvents.ReadWrite.All", "-"},
	{"list", "", "Sites.Read.All, Sites.ReadWrite.All", "Sites.Read.All, Sites.ReadWrite.All", "Sites.Read.All, Sites.ReadWrite.All"},
	{"chatMessage", "channel", "ChannelMessage.Read.Group, ChannelMessage.Read.All", "ChannelMessage.Read.All", "-"},
	{"chatMessage", "allChannels", "ChannelMessage.Read.All", "-", "-"},
	{"chatMessage", "chat", "ChatMessage.Read.Chat, Chat.Read.All, Chat.ReadWrite.All", "Chat.Read, Chat.ReadWrite", "-"},
	{"chatMessage", "allChats", "Chat.Read.All, Chat.ReadWrite.All", "-", "-"},
	{"chatMessage", "userChats", "Chat.Read.All, Chat.ReadWrite.All", "Chat.Read, Chat.ReadWrite", "-"},
	{"todoTask", "", "-", "Tasks.ReadWrite", "Tasks.ReadWrite"},
	// "Get change notifications for presence updates in Microsoft Teams", "… for
	// Microsoft Teams meeting call event updates", "… for meeting transcripts and
	// recordings".
	{"presence", "", "-", "Presence.Read.All", "-"},
	{"onlineMeeting", "", "OnlineMeetings.Read.All, OnlineMeetings.ReadWrite.All", "-", "-"},
	{"callTranscript", "tenant", "OnlineMeetingTranscript.Read.All", "-", "-"},
	{"callTranscript", "meeting", "OnlineMeetingTranscript.Read.Chat, OnlineMeetingTranscript.Read.All", "-", "-"},
	{"callTranscript", "user", "OnlineMeetingTranscript.Read.All", "-", "-"},
	{"callRecording", "tenant", "OnlineMeetingRecording.Read.All", "-", "-"},
	{"callRecording", "meeting", "OnlineMeetingRecording.Read.Chat, OnlineMeetingRecording.Read.All", "-", "-"},
	{"callRecording", "user", "OnlineMeetingRecording.Read.All", "-", "-"},
	// "Get change notifications for teams and channels", "… for chats", "… for
	// membership changes in teams and channels", "… for chat membership".
	{"team", "allTeams", "Team.ReadBasic.All, TeamSettings.Read.All, TeamSettings.ReadWrite.All", "-", "-"},
	{"team", "team", "TeamSettings.Read.Group, TeamSettings.ReadWrite.Group, Team.ReadBasic.All, TeamSettings.Read.All, TeamSettings.ReadWrite.All",
		"Team.ReadBasic.All, TeamSettings.Read.All, TeamSettings.ReadWrite.All", "-"},
	{"channel", "allTeamChannels", "Channel.ReadBasic.All, ChannelSettings.Read.All, ChannelSettings.ReadWrite.All", "-", "-"},
	{"channel", "teamChannels", "ChannelSettings.Read.Group, ChannelSettings.ReadWrite.Group, Channel.ReadBasic.All, ChannelSettings.Read.All, ChannelSettings.ReadWrite.All",
		"Channel.ReadBasic.All, ChannelSettings.Read.All, ChannelSettings.ReadWrite.All", "-"},
	{"chat", "allChatsList", "Chat.ReadBasic.All, Chat.Read.All, Chat.ReadWrite.All", "-", "-"},
	{"chat", "oneChat", "ChatSettings.Read.Chat, ChatSettings.ReadWrite.Chat, Chat.Manage.Chat, Chat.ReadBasic.All, Chat.Read.All, Chat.ReadWrite.All",
		"Chat.ReadBasic, Chat.Read, Chat.ReadWrite", "-"},
	{"conversationMember", "allTeamMembers", "TeamMember.Read.All, TeamMember.ReadWrite.All", "-", "-"},
	{"conversationMember", "teamMembers", "TeamMember.Read.Group, TeamMember.Read.All, TeamMember.ReadWrite.All", "TeamMember.Read.All, TeamMember.ReadWrite.All", "-"},
	{"conversationMember", "teamChannelMembers", "ChannelMember.Read.All", "ChannelMember.Read.All", "-"},
	{"conversationMember", "allChatMembers", "ChatMember.Read.All, ChatMember.ReadWrite.All, Chat.ReadBasic.All, Chat.Read.All, Chat.ReadWrite.All", "-", "-"},
	{"conversationMember", "chatMembers", "ChatMember.Read.Chat, Chat.Manage.Chat, ChatMember.Read.All, ChatMember.ReadWrite.All, Chat.ReadBasic.All, Chat.Read.All, Chat.ReadWrite.All",
		"ChatMember.Read, ChatMember.ReadWrite, Chat.ReadBasic, Chat.Read, Chat.ReadWrite", "-"},
}

// TestPermissionRows compares every descriptor's permission table with
// todaysPermissions row by row and permission type by permission type, and checks
// that each name exists, for its type, in identity's catalog of Graph permissions.
func TestPermissionRows(t *testing.T) {
	t.Parallel()
	catalog := identity.Permissions()
	want := map[[2]string]permissionRow{}
	for _, r := range todaysPermissions {
		want[[2]string{r.resource, r.variant}] = r
	}
	seen := map[[2]string]bool{}
	for _, d := range testserver.Resources() {
		for _, row := range d.Permissions {
			key := [2]string{d.Type, row.Variant}
			seen[key] = true
			w, ok := want[key]
			if !ok {
				t.Errorf("%s %q: permission row missing from todaysPermissions", d.Type, row.Variant)
				continue
			}
			for _, c := range []struct {
				pt        identity.PermissionType
				got       []string
				want      string
				existsFor func(identity.Permission) bool
			}{
				{identity.Application, row.Application, w.application, func(p identity.Permission) bool { return p.Application }},
				{identity.DelegatedWork, row.DelegatedWork, w.delegatedWork, func(p identity.Permission) bool { return p.DelegatedWork }},
				{identity.DelegatedPersonal, row.DelegatedPersonal, w.delegatedPersonal, func(p identity.Permission) bool { return p.DelegatedPersonal }},
			} {
				got := strings.Join(c.got, ", ")
				if got == "" {
					got = "-"
				}
				if got != c.want {
					t.Errorf("%s %q %s: permissions %q, want %q", d.Type, row.Variant, c.pt, got, c.want)
				}
				for _, name := range c.got {
					if p, ok := catalog.Lookup(name); !ok || p.Name != name || !c.existsFor(p) {
						t.Errorf("%s %q %s: %q is not a %s permission of Graph's catalog", d.Type, row.Variant, c.pt, name, c.pt)
					}
				}
			}
		}
	}
	for _, r := range todaysPermissions {
		if !seen[[2]string{r.resource, r.variant}] {
			t.Errorf("%s %q: row of todaysPermissions has no descriptor row", r.resource, r.variant)
		}
	}
	if i := slices.IndexFunc(todaysPermissions, func(r permissionRow) bool { return r.resource == "" }); i >= 0 {
		t.Errorf("todaysPermissions[%d] names no resource", i)
	}
}
