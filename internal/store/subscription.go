package store

import (
	"context"
	"time"
)

// Subscription is a stored subscription: the columns the pipeline looks up by, plus
// the full API representation in Data.
type Subscription struct {
	ID     string
	Tenant string
	AppID  string
	// CreatorID is the signed-in user's id (delegated) or the app's service principal
	// id (application).
	CreatorID string
	// PermissionType is the identity.PermissionType the subscription was created with.
	PermissionType int
	// ResourceType is the watched resource's type name (resource.Descriptor.Type).
	ResourceType string
	// Variant is the path variant (resource.Path.Variant) whose permission row the
	// resource's permission check uses; "" for most resources.
	Variant string
	// Topic is the normalised topic key (internal/change); the matcher's index.
	Topic string
	// ChangeTypes is the normalised, comma-separated change type list.
	ChangeTypes string
	// Filter is the subscription's $filter text, "" when none.
	Filter string
	// NotificationURL and LifecycleURL are where notifications go.
	NotificationURL string
	LifecycleURL    string
	ClientState     string
	// IncludeResourceData asks for rich notifications.
	IncludeResourceData bool
	Expiration          time.Time
	// AuthorizedUntil is when the subscription's authorization lapses (60 minutes
	// after create, renew or reauthorize); notifications are held afterwards.
	AuthorizedUntil time.Time
	// NextReminder is when the reauthorization scheduler should look at it next.
	NextReminder time.Time
	Created      time.Time
	// Version grows by one on every write (guards updates).
	Version int64
	// Data is the JSON representation served by the API (every property).
	Data []byte
}

// SubscriptionQuery selects subscriptions. Empty fields do not filter.
type SubscriptionQuery struct {
	Tenant    string
	AppID     string
	CreatorID string
	Topic     string
	// TopicPrefix selects topics that start with it (for example every topic of one
	// mailbox, "users/{id}/").
	TopicPrefix string
	// ActiveAt, when set, selects only subscriptions that have not expired at that
	// instant (Expiration after it): expired ones are invisible before the sweeper
	// deletes them.
	ActiveAt time.Time
	// NotificationURL selects by exact URL.
	NotificationURL string
	// ResourceTypes selects any of these resource types.
	ResourceTypes []string
	// AfterID pages by id (results are ordered by id).
	AfterID string
	Limit   int
}

// SubscriptionTx stores subscriptions and finds them by topic.
type SubscriptionTx interface {
	// InsertSubscription stores a new subscription; Version becomes 1.
	// ErrConflict if the id exists.
	InsertSubscription(ctx context.Context, s *Subscription) error
	// GetSubscription returns a subscription by id. ErrNotFound if absent.
	GetSubscription(ctx context.Context, id string) (Subscription, error)
	// UpdateSubscription replaces a subscription, guarded by s.Version, which then
	// grows by one. ErrNotFound if absent, ErrVersionMismatch if changed meanwhile.
	UpdateSubscription(ctx context.Context, s *Subscription) error
	// DeleteSubscription removes a subscription. ErrNotFound if absent.
	DeleteSubscription(ctx context.Context, id string) error
	// ListSubscriptions returns the subscriptions matching q, ordered by id.
	ListSubscriptions(ctx context.Context, q SubscriptionQuery) ([]Subscription, error)
	// CountSubscriptions counts the subscriptions matching q (AfterID, Limit ignored).
	CountSubscriptions(ctx context.Context, q SubscriptionQuery) (int, error)
	// SubscriptionsByTopics returns the subscriptions of tenant on any of the topics,
	// through the topic index (cost grows with matches, not with the total).
	SubscriptionsByTopics(ctx context.Context, tenant string, topics []string) ([]Subscription, error)
	// ExpiredSubscriptions returns up to limit subscriptions whose Expiration is at or
	// before t, oldest first.
	ExpiredSubscriptions(ctx context.Context, t time.Time, limit int) ([]Subscription, error)
	// DueReminders returns up to limit subscriptions with a lifecycle URL whose
	// NextReminder is set and at or before t.
	DueReminders(ctx context.Context, t time.Time, limit int) ([]Subscription, error)
}
