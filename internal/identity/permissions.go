package identity

// SubscriptionReadAll lets delegated callers list other apps' subscriptions.
const SubscriptionReadAll = "Subscription.Read.All"

// KnownPermissions lists the Graph permission names graphhook understands; the fixture
// refuses others, and ".default" expands to an app's consented subset of them.
var KnownPermissions = []string{
	"User.Read", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite", "User.ReadWrite.All",
	"Directory.Read.All", "Directory.ReadWrite.All",
	"Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All",
	"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite", "Mail.Send",
	"Calendars.Read", "Calendars.ReadWrite", "Contacts.Read", "Contacts.ReadWrite",
	"Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All",
	"Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All",
	"SecurityEvents.Read.All", "SecurityEvents.ReadWrite.All",
	"CallRecords.Read.All",
	"ChannelMessage.Read.All", "ChannelMessage.Read.Group", "ChannelMessage.Send", "ChannelMessage.ReadWrite",
	"Channel.ReadBasic.All", "Channel.Create", "ChannelSettings.Read.All",
	"Chat.Read", "Chat.ReadWrite", "Chat.Read.All", "Chat.ReadWrite.All", "Chat.Create", "ChatMessage.Send", "ChatMessage.Read",
	"Team.ReadBasic.All", "Team.Create", "TeamSettings.Read.All",
	"Subscription.Read.All",
	"Organization.Read.All",
}

// IsKnownPermission reports whether name is in KnownPermissions (case-insensitive).
func IsKnownPermission(name string) bool {
	for _, k := range KnownPermissions {
		if equalFold(k, name) {
			return true
		}
	}
	return false
}
