package resource

import "cmp"

// Quotas are the subscription limits of Microsoft's "Change notifications"
// overview and the per-resource pages. A zero field takes its default.
type Quotas struct {
	// PerMailbox caps message, event and contact subscriptions on one mailbox, all
	// apps together (default 1000).
	PerMailbox int
	// DirectoryPerAppTenant caps user and group subscriptions of one app in one
	// tenant (default 100).
	DirectoryPerAppTenant int
	// DirectoryPerTenant caps user and group subscriptions of one tenant, all apps
	// together (default 1000).
	DirectoryPerTenant int
	// DirectoryPerApp caps user and group subscriptions of one app, all tenants
	// together (default 50000).
	DirectoryPerApp int
	// CallRecordsPerTenant caps callRecord subscriptions of one organization
	// (default 100).
	CallRecordsPerTenant int
	// ChatMessagesPerAppTarget caps chat message subscriptions of one app on one
	// channel or chat (default 1).
	ChatMessagesPerAppTarget int
	// ChatMessagesPerUser caps /users/{id}/chats/getAllMessages subscriptions on one
	// user (default 10).
	ChatMessagesPerUser int
	// TeamsPerTenant caps Teams subscriptions of one organization, every kind
	// together (default 10000).
	TeamsPerTenant int
	// TeamsPerAppTarget caps one app's subscriptions on one team's (or chat's)
	// team, channel, chat or member path (default 1).
	TeamsPerAppTarget int
}

// WithDefaults fills zero fields with their defaults.
func (q Quotas) WithDefaults() Quotas {
	q.PerMailbox = cmp.Or(q.PerMailbox, 1000)
	q.DirectoryPerAppTenant = cmp.Or(q.DirectoryPerAppTenant, 100)
	q.DirectoryPerTenant = cmp.Or(q.DirectoryPerTenant, 1000)
	q.DirectoryPerApp = cmp.Or(q.DirectoryPerApp, 50000)
	q.CallRecordsPerTenant = cmp.Or(q.CallRecordsPerTenant, 100)
	q.ChatMessagesPerAppTarget = cmp.Or(q.ChatMessagesPerAppTarget, 1)
	q.ChatMessagesPerUser = cmp.Or(q.ChatMessagesPerUser, 10)
	q.TeamsPerTenant = cmp.Or(q.TeamsPerTenant, 10000)
	q.TeamsPerAppTarget = cmp.Or(q.TeamsPerAppTarget, 1)
	return q
}
