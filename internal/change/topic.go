package change

// Topic keys. Ids inside keys are the store ids of the objects (lower-case GUIDs for
// directory objects; Teams ids as Teams spells them). Literal segments are spelled as
// below, exactly; nothing compares them case-insensitively.

// Users is the topic of every user of a tenant.
func Users() string { return "users" }

// User is the topic of one user.
func User(u string) string { return "users/" + u }

// Groups is the topic of every group of a tenant.
func Groups() string { return "groups" }

// Group is the topic of one group.
func Group(g string) string { return "groups/" + g }

// GroupMembers is the topic of one group's membership.
func GroupMembers(g string) string { return "groups/" + g + "/members" }

// GroupOwners is the topic of one group's owners.
func GroupOwners(g string) string { return "groups/" + g + "/owners" }

// GroupConversations is the topic of one group's conversations.
func GroupConversations(g string) string { return "groups/" + g + "/conversations" }

// UserMessages is the topic of all messages of a mailbox.
func UserMessages(u string) string { return "users/" + u + "/messages" }

// FolderMessages is the topic of the messages of one mail folder (by folder id).
func FolderMessages(u, folder string) string {
	return "users/" + u + "/mailFolders/" + folder + "/messages"
}

// UserEvents is the topic of all events of a mailbox.
func UserEvents(u string) string { return "users/" + u + "/events" }

// UserContacts is the topic of all contacts of a mailbox.
func UserContacts(u string) string { return "users/" + u + "/contacts" }

// FolderContacts is the topic of the contacts of one contact folder.
func FolderContacts(u, folder string) string {
	return "users/" + u + "/contactFolders/" + folder + "/contacts"
}

// DriveRoot is the topic of everything under a drive's root.
func DriveRoot(d string) string { return "drives/" + d + "/root" }

// DriveFolder is the topic of everything under one folder of a personal drive.
func DriveFolder(d, item string) string { return "drives/" + d + "/items/" + item }

// SiteList is the topic of one SharePoint list's content.
func SiteList(site, list string) string { return "sites/" + site + "/lists/" + list }

// Alerts is the topic of every security alert of a tenant.
func Alerts() string { return "security/alerts" }

// Alert is the topic of one security alert.
func Alert(a string) string { return "security/alerts/" + a }

// CallRecords is the topic of every call record of a tenant.
func CallRecords() string { return "communications/callRecords" }

// ChannelMessages is the topic of one channel's messages (and replies).
func ChannelMessages(team, channel string) string {
	return "teams/" + team + "/channels/" + channel + "/messages"
}

// AllChannelMessages is the topic of every channel message of a tenant.
func AllChannelMessages() string { return "teams/getAllMessages" }

// ChatMessages is the topic of one chat's messages.
func ChatMessages(chat string) string { return "chats/" + chat + "/messages" }

// AllChatMessages is the topic of every chat message of a tenant.
func AllChatMessages() string { return "chats/getAllMessages" }

// UserChatMessages is the topic of the messages of every chat a user is a member of.
func UserChatMessages(u string) string { return "users/" + u + "/chats/getAllMessages" }

// TodoLists is the topic of a user's To Do task lists.
func TodoLists(u string) string { return "users/" + u + "/todo/lists" }

// TodoTasks is the topic of the tasks of one To Do task list of a user.
func TodoTasks(u, list string) string { return "users/" + u + "/todo/lists/" + list + "/tasks" }
