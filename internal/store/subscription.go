package store

// SubscriptionTx stores subscriptions and finds them by topic. The subscriptions
// issue fills this in.
type SubscriptionTx interface{}
