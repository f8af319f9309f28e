package identity

// ResourceType names a subscribable resource type, as Graph's subscription
// documentation does.
type ResourceType string

// The resource types Graph's change notifications support.
const (
	Message      ResourceType = "message"
	Event        ResourceType = "event"
	Contact      ResourceType = "contact"
	User         ResourceType = "user"
	Group        ResourceType = "group"
	Conversation ResourceType = "conversation"
	DriveItem    ResourceType = "driveItem"
	List         ResourceType = "list"
	Alert        ResourceType = "alert"
	CallRecord   ResourceType = "callRecord"
	ChatMessage  ResourceType = "chatMessage"
)

// Variants distinguish paths of one resource type that need different permissions.
const (
	VariantNone          = ""
	VariantChannel       = "channel"       // /teams/{id}/channels/{id}/messages
	VariantAllChannels   = "allChannels"   // /teams/getAllMessages
	VariantChat          = "chat"          // /chats/{id}/messages
	VariantAllChats      = "allChats"      // /chats/getAllMessages
	VariantUserChats     = "userChats"     // /users/{id}/chats/getAllMessages
	VariantPersonalDrive = "personalDrive" // a personal account's OneDrive
)

// SubscriptionRule says, for one resource type (and path variant), which permission
// names let each permission type subscribe. An empty list means that permission type
// may not subscribe at all. Any one listed name suffices.
type SubscriptionRule struct {
	Resource          ResourceType
	Variant           string
	DelegatedWork     []string
	DelegatedPersonal []string
	Application       []string
}

// subscriptionRules is Graph's table of which permission types may subscribe to which
// resource, joined with the permission names each resource requires. Where Graph's
// pages disagree the resource table wins: delegated personal accounts may subscribe to
// lists, delegated callers may not subscribe to call records or chat messages, and
// application callers may not subscribe to group conversations.
var subscriptionRules = []SubscriptionRule{
	{Resource: Message, DelegatedWork: []string{"Mail.ReadBasic", "Mail.Read"}, DelegatedPersonal: []string{"Mail.ReadBasic", "Mail.Read"}, Application: []string{"Mail.Read"}},
	{Resource: Event, DelegatedWork: []string{"Calendars.Read"}, DelegatedPersonal: []string{"Calendars.Read"}, Application: []string{"Calendars.Read"}},
	{Resource: Contact, DelegatedWork: []string{"Contacts.Read"}, DelegatedPersonal: []string{"Contacts.Read"}, Application: []string{"Contacts.Read"}},
	{Resource: User, DelegatedWork: []string{"User.Read.All"}, Application: []string{"User.Read.All"}},
	{Resource: Group, DelegatedWork: []string{"Group.Read.All"}, Application: []string{"Group.Read.All"}},
	{Resource: Conversation, DelegatedWork: []string{"Group.Read.All"}},
	{Resource: DriveItem, DelegatedWork: []string{"Files.Read.All", "Files.ReadWrite.All"}, Application: []string{"Files.Read.All", "Files.ReadWrite.All"}},
	{Resource: DriveItem, Variant: VariantPersonalDrive, DelegatedPersonal: []string{"Files.Read", "Files.ReadWrite"}},
	{Resource: List, DelegatedWork: []string{"Sites.Read.All", "Sites.ReadWrite.All"}, DelegatedPersonal: []string{"Sites.Read.All", "Sites.ReadWrite.All"}, Application: []string{"Sites.Read.All", "Sites.ReadWrite.All"}},
	{Resource: Alert, DelegatedWork: []string{"SecurityEvents.ReadWrite.All"}, Application: []string{"SecurityEvents.ReadWrite.All"}},
	{Resource: CallRecord, Application: []string{"CallRecords.Read.All"}},
	{Resource: ChatMessage, Variant: VariantChannel, Application: []string{"ChannelMessage.Read.Group", "ChannelMessage.Read.All"}},
	{Resource: ChatMessage, Variant: VariantAllChannels, Application: []string{"ChannelMessage.Read.All"}},
	{Resource: ChatMessage, Variant: VariantChat, Application: []string{"Chat.Read.All"}},
	{Resource: ChatMessage, Variant: VariantAllChats, Application: []string{"Chat.Read.All"}},
	{Resource: ChatMessage, Variant: VariantUserChats, Application: []string{"Chat.Read.All", "Chat.ReadWrite.All"}},
}

// SubscriptionRules returns the table (for documentation and tests).
func SubscriptionRules() []SubscriptionRule { return subscriptionRules }

// SubscriptionPermissions returns the permission names that let a caller of type t
// subscribe to the resource type (and variant); ok is false when the type may not
// subscribe at all, or the resource is unknown.
func SubscriptionPermissions(r ResourceType, variant string, t PermissionType) (names []string, ok bool) {
	for _, rule := range subscriptionRules {
		if rule.Resource != r || rule.Variant != variant {
			continue
		}
		switch t {
		case DelegatedWork:
			names = rule.DelegatedWork
		case DelegatedPersonal:
			names = rule.DelegatedPersonal
		case Application:
			names = rule.Application
		}
		return names, len(names) > 0
	}
	return nil, false
}

// CanSubscribe reports whether p may subscribe to the resource type (and variant).
func CanSubscribe(p *Principal, r ResourceType, variant string) bool {
	names, ok := SubscriptionPermissions(r, variant, p.Type)
	return ok && p.Has(names...)
}

// SubscriptionReadAll lets delegated callers list other apps' subscriptions.
const SubscriptionReadAll = "Subscription.Read.All"
