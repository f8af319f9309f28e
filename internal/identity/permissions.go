package identity

// SubscriptionReadAll lets delegated callers list other apps' subscriptions.
const SubscriptionReadAll = "Subscription.Read.All"
