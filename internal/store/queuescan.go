package store

import "context"

// QueueScanTx reads the queue in the order rows were enqueued, for tools that make a
// change and then want the notifications it queued (graphhook trigger): they note
// LastNotificationID before the change and read the rows after it.
type QueueScanTx interface {
	// LastNotificationID returns the highest queue row id (0 when the queue is empty).
	// Rows enqueued after the call get higher ids. Errors: backend errors only.
	LastNotificationID(ctx context.Context) (int64, error)
	// NotificationsAfter returns up to limit rows (0 = no cap) whose id is greater than
	// afterID, in id order, whatever their state. Errors: backend errors only.
	NotificationsAfter(ctx context.Context, afterID int64, limit int) ([]Notification, error)
}
