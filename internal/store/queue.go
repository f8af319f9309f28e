package store

import (
	"context"
	"time"
)

// NotificationState is where a queued notification is in its life. The delivery
// package's doc.go draws the state machine; in short:
//
//	available ──claim──▶ running ──▶ delivered
//	    ▲                  │  │ └──▶ discarded
//	    └──── release ─────┘  └────▶ retryable ──claim──▶ running …
//	                  (rescuer: running too long, or its node's heartbeat lapsed ──▶ retryable)
type NotificationState string

const (
	// NotificationAvailable: waiting for a dispatcher; due at Scheduled.
	NotificationAvailable NotificationState = "available"
	// NotificationRunning: claimed by a dispatcher, a POST is (or was, before a
	// crash) in flight. Only the claimer, or the rescuer (after a timeout, or once
	// the claiming node's heartbeat lapsed), moves it on.
	NotificationRunning NotificationState = "running"
	// NotificationRetryable: the last attempt failed; due again at Scheduled.
	NotificationRetryable NotificationState = "retryable"
	// NotificationDelivered: the endpoint answered 2xx in time. Kept until retention
	// prunes it.
	NotificationDelivered NotificationState = "delivered"
	// NotificationDiscarded: given up for good (retry horizon passed, endpoint in the
	// drop state, subscription gone). Kept until retention prunes it.
	NotificationDiscarded NotificationState = "discarded"
)

// Notification is one queued notification: one item of a future
// {"value":[…]} POST to URL.
type Notification struct {
	ID int64 // assigned by Enqueue, increasing
	// URL is where it goes: the subscription's notificationUrl, or its
	// lifecycleNotificationUrl for lifecycle notifications.
	URL            string
	Tenant         string
	SubscriptionID string
	// ResourceType is the subscription's resource type (it decides which lifecycle
	// events apply after the subscription is gone).
	ResourceType string
	// Lifecycle marks a lifecycle notification; Event is then the lifecycleEvent,
	// otherwise the changeType.
	Lifecycle bool
	Event     string
	// Resource is the notification's resource string ("" for lifecycle).
	Resource string
	// Payload is pre-rendered JSON the dispatcher splices into the item (see the
	// delivery package); opaque to the store.
	Payload []byte
	// Rich is the resource's JSON to encrypt at dispatch (rich notifications); nil
	// otherwise.
	Rich []byte
	// Seq is the change log sequence number the notification comes from (0 for
	// lifecycle notifications).
	Seq   int64
	State NotificationState
	// Attempt counts claims that led to a POST (the claim increments it).
	Attempt int
	// Created is when the change happened: the retry horizon and the latency
	// histogram count from it.
	Created time.Time
	// Scheduled is when the row is (next) due.
	Scheduled time.Time
	// Claimed is when the row was last claimed; zero if never.
	Claimed time.Time
	// Node is the node that made the last claim, as it names itself in its
	// heartbeats; "" if never claimed or claimed by a caller that named no node.
	Node string
	// Finished is when the row reached delivered or discarded; zero before.
	Finished time.Time
	// Error is the last failure, for operators.
	Error string
	// ReplayOf is the row this one repeats, on the admin API's request; 0 for an
	// original.
	ReplayOf int64
}

// DueURL is a notification URL with waiting notifications.
type DueURL struct {
	URL string
	// Next is the earliest Scheduled among its available and retryable rows.
	Next time.Time
}

// Retry is when one notification that failed is due again.
type Retry struct {
	ID        int64
	Scheduled time.Time
}

// QueueTx is the durable notification queue. The matcher enqueues inside the
// transaction that appends the change (transactional fan-out); dispatchers claim,
// and every later state write is guarded by the state it expects, so a late
// dispatcher cannot overwrite a row the rescuer already moved.
type QueueTx interface {
	// Enqueue inserts the notifications as available, setting ID, State and Attempt
	// (0) on each; Scheduled defaults to Created. The whole slice goes in a few
	// multi-row statements. Errors: backend errors only.
	Enqueue(ctx context.Context, ns []*Notification) error
	// DueURLs returns the URLs that have available or retryable rows, each with the
	// earliest Scheduled time, earliest first, at most limit (0 = no cap). Errors:
	// backend errors only.
	DueURLs(ctx context.Context, limit int) ([]DueURL, error)
	// ClaimNotifications moves up to limit available or retryable rows of url whose
	// Scheduled is at or before due to running, rows locked as they are read (FOR
	// UPDATE SKIP LOCKED on PostgreSQL), setting Claimed to now, Node to node and
	// incrementing Attempt. node names the claiming node as its heartbeats do (see HeartbeatTx),
	// or is "" when the caller does not beat. It returns the claimed rows ordered by
	// ID; none is not an error. Concurrent claimers never get the same row. Errors:
	// backend errors only.
	ClaimNotifications(ctx context.Context, url, node string, due, now time.Time, limit int) ([]Notification, error)
	// MarkDelivered moves the rows among ids that are running to delivered
	// (Finished = at) and returns how many moved; rows in any other state are left
	// alone and not counted. Errors: backend errors only.
	MarkDelivered(ctx context.Context, ids []int64, at time.Time) (int, error)
	// MarkRetryable moves the running rows among ids to retryable, due at scheduled,
	// recording errText; returns how many moved (others are left alone). Errors:
	// backend errors only.
	MarkRetryable(ctx context.Context, ids []int64, scheduled time.Time, errText string) (int, error)
	// RetryNotifications moves the running rows among rs to retryable, each due at
	// its own Scheduled, recording errText, in one statement per few hundred rows
	// (the acknowledgement of many failed POSTs); returns how many moved (others are
	// left alone). Errors: backend errors only.
	RetryNotifications(ctx context.Context, rs []Retry, errText string) (int, error)
	// MarkDiscarded moves the running rows among ids to discarded (Finished = at),
	// recording errText; returns how many moved. Errors: backend errors only.
	MarkDiscarded(ctx context.Context, ids []int64, at time.Time, errText string) (int, error)
	// DiscardSubscriptionNotifications moves the available and retryable rows of
	// subscriptionID queued for url to discarded (Finished = at), recording errText,
	// and returns how many moved; rows in flight are left to their dispatcher. url
	// keeps the search within one notification URL's waiting rows (the queue is
	// indexed by URL), so a subscription's rows take one call per URL it has (its
	// notification and lifecycle URLs). Errors: backend errors only.
	DiscardSubscriptionNotifications(ctx context.Context, url, subscriptionID string, at time.Time, errText string) (int, error)
	// ReleaseNotifications moves the running rows among ids back to available, due
	// at scheduled, and takes back the attempt their claim counted (used when a
	// notification is held, not tried). Returns how many moved. Errors: backend
	// errors only.
	ReleaseNotifications(ctx context.Context, ids []int64, scheduled time.Time) (int, error)
	// RescueNotifications moves rows running since before claimedBefore (their
	// dispatcher crashed or hung) to retryable, due at now, and returns how many
	// moved, whatever node claimed them (HeartbeatTx.RescueLapsed is the faster rule
	// for nodes that beat). Errors: backend errors only.
	RescueNotifications(ctx context.Context, claimedBefore, now time.Time) (int, error)
	// PruneNotifications deletes up to limit delivered or discarded rows finished
	// before the given time, with their attempts, and returns how many rows went.
	// Errors: backend errors only.
	PruneNotifications(ctx context.Context, before time.Time, limit int) (int, error)
	// CountNotifications returns how many rows are in each state (states without
	// rows are absent). Errors: backend errors only.
	CountNotifications(ctx context.Context) (map[NotificationState]int, error)
	// GetNotification returns one row. ErrNotFound if absent.
	GetNotification(ctx context.Context, id int64) (Notification, error)
	// SubscriptionVersions returns the Version of each subscription among ids that
	// exists, read in one statement per few hundred ids; a subscription that is gone
	// is absent from the map. The dispatcher asks it for every subscription of a
	// claim, so that it re-reads (GetSubscription) only the ones that changed since
	// it last rendered them. Errors: backend errors only.
	SubscriptionVersions(ctx context.Context, ids []string) (map[string]int64, error)
	// SubscriptionsUnderTopic returns the subscriptions of tenant whose topic is
	// prefix or starts with prefix+"/", through the topic index. The matcher uses it
	// to find the subscriptions watching inside an object that was deleted (a user's
	// mailbox, a team's channels). Errors: backend errors only.
	SubscriptionsUnderTopic(ctx context.Context, tenant, prefix string) ([]Subscription, error)
}
