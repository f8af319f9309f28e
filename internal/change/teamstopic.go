package change

// Topic keys of Teams' teams, channels, chats and their members ("Get change
// notifications for teams and channels", "… for chats", "… for membership changes").

// Teams is the topic of every team of a tenant.
func Teams() string { return "teams" }

// Team is the topic of one team.
func Team(team string) string { return "teams/" + team }

// AllChannels is the topic of every channel of a tenant.
func AllChannels() string { return "teams/getAllChannels" }

// TeamChannels is the topic of one team's channels.
func TeamChannels(team string) string { return "teams/" + team + "/channels" }

// Chats is the topic of every chat of a tenant.
func Chats() string { return "chats" }

// Chat is the topic of one chat.
func Chat(chat string) string { return "chats/" + chat }

// AllTeamMembers is the topic of the members of every team of a tenant.
func AllTeamMembers() string { return "teams/getAllMembers" }

// TeamMembers is the topic of one team's members.
func TeamMembers(team string) string { return "teams/" + team + "/members" }

// TeamChannelMembers is the topic of the members of one team's private and shared
// channels.
func TeamChannelMembers(team string) string { return "teams/" + team + "/channels/getAllMembers" }

// AllChatMembers is the topic of the members of every chat of a tenant.
func AllChatMembers() string { return "chats/getAllMembers" }

// ChatMembers is the topic of one chat's members.
func ChatMembers(chat string) string { return "chats/" + chat + "/members" }
