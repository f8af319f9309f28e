// Package subscription is graphhook's /subscriptions API: the subscription rules of
// Microsoft Graph (Microsoft's "subscription resource type", "Create subscription" and "Receive change notifications through webhooks"), the endpoint validation handshake, and the
// expiry sweeper.
//
// # Creating a subscription
//
// A create is checked in the order Graph documents, cheapest and least revealing
// first, and nothing is stored until every check passed:
//
//	body syntax → resource path and query options → changeType → URLs → expiration,
//	clientState, TLS version, rich-data fields → permission type and names →
//	(delegated) own data only → the resource's read-access rule → resource
//	exists → duplicate → quotas →
//	handshake(notificationUrl) → handshake(lifecycleNotificationUrl) →
//	checks again and insert, in one transaction
//
// The handshakes are network calls, so they run outside any transaction; the store
// checks run again in the inserting transaction so that racing creates cannot both
// pass a quota or duplicate check.
//
// # Normalisation
//
// The package knows no resource: Config.Resources hands it the workloads'
// resource.Descriptors, whose paths are the accepted resource paths. Each is
// normalised once, at creation, into a Target: the resource type and permission
// variant of its descriptor, the topic key its resolve function builds with
// internal/change (the matcher's index), and the $filter text. me is resolved to
// the caller then; the stored representation keeps the resource string exactly as
// it was sent. Lifetimes, quotas, the Teams lifecycle URL rule and whether rich
// data is allowed come from the descriptor too.
//
// # Visibility
//
// Applications see and manage their app's subscriptions in their tenant; delegated
// callers those their app created for them, and with Subscription.Read.All also other
// apps' (read only). Expired subscriptions are invisible everywhere at once, before
// the sweeper deletes them. Get, update, delete and reauthorize re-check the
// permission the create needed.
//
// # Authorization and reminders
//
// Create, renewal (a PATCH of expirationDateTime) and reauthorize set AuthorizedUntil
// to now + 60 minutes and, for subscriptions with a lifecycle URL, NextReminder to 15
// minutes before the authorization or the subscription runs out, for the delivery
// pipeline's reauthorization scheduler (store.SubscriptionTx.DueReminders).
//
// # Deletion
//
// Config.OnDelete runs inside every transaction that deletes a subscription (the API
// and the sweeper), for the delivery pipeline to drop the subscription's queued
// notifications; queue rows whose subscription is gone must be discarded in any case.
package subscription
