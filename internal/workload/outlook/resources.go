package outlook

import (
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// Resource type names of Outlook's subscribable resources.
const (
	MessageResource = "message"
	EventResource   = "event"
	ContactResource = "contact"
)

// outlookTypes are counted together by the per-mailbox quota.
var outlookTypes = []string{MessageResource, EventResource, ContactResource}

// Resources describes Outlook's subscribable resources: messages, events and
// contacts, after "Change notifications for Outlook resources". Each path names a
// user whose mailbox only that user may watch with a delegated token; the paths take
// $filter and $select.
func Resources() []resource.Descriptor {
	common := resource.Descriptor{
		Workload: "Exchange",
		// Rich Outlook notifications carry only the properties the subscription
		// selects, and live a day at most ("Change notifications for Outlook
		// resources").
		RichData:        true,
		RichNeedsSelect: true,
		RichMaxLifetime: 1440 * time.Minute,
		ChangeTypes:     []string{store.Created, store.Updated, store.Deleted},
		MaxLifetime:     10080 * time.Minute,
		Lifecycle:       []string{graph.LifecycleSubscriptionRemoved, graph.LifecycleMissed},
		Quotas:          mailboxQuota,
	}
	opts := resource.AllowFilter | resource.AllowSelect
	message := common
	message.Type, message.Kinds = MessageResource, []string{kindMessage, kindMailFolder}
	message.Paths = []resource.Path{
		{Pattern: "users/{user}/messages", OwnUser: true, Options: opts, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
			u, err := directory.SubscribedUser(r, ids[0])
			return resource.Target{Topic: change.UserMessages(u), User: u}, err
		}},
		{Pattern: "users/{user}/mailFolders/{folder}/messages", OwnUser: true, Options: opts, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
			u, err := directory.SubscribedUser(r, ids[0])
			if err != nil {
				return resource.Target{}, err
			}
			f, err := subscribedMailFolder(r, u, ids[1])
			return resource.Target{Topic: change.FolderMessages(u, f), User: u}, err
		}},
	}
	// Graph's table names Mail.ReadBasic for applications too: the application
	// role of that name is Mail.ReadBasic.All.
	message.Permissions = []resource.Permission{{DelegatedWork: []string{"Mail.ReadBasic", "Mail.Read"}, DelegatedPersonal: []string{"Mail.ReadBasic", "Mail.Read"}, Application: []string{"Mail.ReadBasic.All", "Mail.Read"}}}
	message.Samples = []resource.Sample{
		{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "users/{user}/messages", `{"subject":"Sample"}`)}, Permission: "Mail.ReadWrite"},
		{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "users/{user}/messages/{id}", `{"isRead":true}`)}, Permission: "Mail.ReadWrite"},
		{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "users/{user}/messages/{id}", "")}, Permission: "Mail.ReadWrite"},
	}

	event := common
	event.Type, event.Kinds = EventResource, []string{kindEvent}
	event.Paths = []resource.Path{
		{Pattern: "users/{user}/events", OwnUser: true, Options: opts, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
			u, err := directory.SubscribedUser(r, ids[0])
			return resource.Target{Topic: change.UserEvents(u), User: u}, err
		}},
	}
	event.Permissions = []resource.Permission{{DelegatedWork: []string{"Calendars.Read"}, DelegatedPersonal: []string{"Calendars.Read"}, Application: []string{"Calendars.Read"}}}
	event.Samples = []resource.Sample{
		{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "users/{user}/events", `{"subject":"Sample","start":{"dateTime":"2030-01-01T10:00:00","timeZone":"UTC"},"end":{"dateTime":"2030-01-01T11:00:00","timeZone":"UTC"}}`)}, Permission: "Calendars.ReadWrite"},
		{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "users/{user}/events/{id}", `{"subject":"Changed"}`)}, Permission: "Calendars.ReadWrite"},
		{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "users/{user}/events/{id}", "")}, Permission: "Calendars.ReadWrite"},
	}

	contact := common
	contact.Type, contact.Kinds = ContactResource, []string{kindContact, kindContactFolder}
	contact.Paths = []resource.Path{
		{Pattern: "users/{user}/contacts", OwnUser: true, Options: opts, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
			u, err := directory.SubscribedUser(r, ids[0])
			return resource.Target{Topic: change.UserContacts(u), User: u}, err
		}},
		{Pattern: "users/{user}/contactFolders/{folder}/contacts", OwnUser: true, Options: opts, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
			u, err := directory.SubscribedUser(r, ids[0])
			if err != nil {
				return resource.Target{}, err
			}
			f, err := subscribedContactFolder(r, u, ids[1])
			return resource.Target{Topic: change.FolderContacts(u, f), User: u}, err
		}},
	}
	contact.Permissions = []resource.Permission{{DelegatedWork: []string{"Contacts.Read"}, DelegatedPersonal: []string{"Contacts.Read"}, Application: []string{"Contacts.Read"}}}
	contact.Samples = []resource.Sample{
		{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "users/{user}/contacts", `{"givenName":"Sample"}`)}, Permission: "Contacts.ReadWrite"},
		{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "users/{user}/contacts/{id}", `{"surname":"Changed"}`)}, Permission: "Contacts.ReadWrite"},
		{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "users/{user}/contacts/{id}", "")}, Permission: "Contacts.ReadWrite"},
	}
	return []resource.Descriptor{message, event, contact}
}

// mailboxQuota caps message, event and contact subscriptions on one mailbox, all
// apps together.
func mailboxQuota(p *identity.Principal, t resource.Target, q resource.Quotas) []resource.Quota {
	return []resource.Quota{{
		Query:   store.SubscriptionQuery{Tenant: p.TenantID, TopicPrefix: change.User(t.User) + "/", ResourceTypes: outlookTypes},
		Limit:   q.PerMailbox,
		Message: "The limit of %d subscriptions per mailbox (all applications together) has been reached.",
	}}
}

// subscribedMailFolder resolves a mail folder of user u for a resource path: a
// well-known name (any case), a well-known folder's derived id, or the id of a
// mailFolder object the user owns.
func subscribedMailFolder(r *resource.Resolver, u, f string) (string, error) {
	for _, wk := range wellKnownFolders {
		if id := change.WellKnownFolderID(u, wk.name); strings.EqualFold(f, wk.name) || f == id {
			return id, nil
		}
	}
	o, err := r.Object(kindMailFolder, f, u, "Mail folder '%s' does not exist in the mailbox.")
	return o.ID, err
}

// subscribedContactFolder resolves a contact folder of user u for a resource path:
// "contacts", the default folder's derived id, or a contactFolder object the user
// owns.
func subscribedContactFolder(r *resource.Resolver, u, f string) (string, error) {
	if id := change.WellKnownContactFolderID(u); strings.EqualFold(f, "contacts") || f == id {
		return id, nil
	}
	o, err := r.Object(kindContactFolder, f, u, "Contact folder '%s' does not exist in the mailbox.")
	return o.ID, err
}
