package store

import (
	"context"
	"time"
)

// Attempt is one try to deliver one queued notification: a POST, or a try a fault
// stood in for (Injected).
type Attempt struct {
	NotificationID int64
	// Number is the row's Attempt count when it was tried (1 for the first try).
	Number  int
	Started time.Time
	// StatusCode is the endpoint's answer; 0 when there was none (timeout,
	// connection refused).
	StatusCode int
	// Latency is how long the try took, including an injected delay.
	Latency time.Duration
	// Error says why the try failed; "" when it succeeded.
	Error string
	// Injected marks a try shaped by a fault the admin API injected.
	Injected bool
}

// DeliveryFilter selects queued notifications for the delivery log. Empty fields do
// not filter.
type DeliveryFilter struct {
	SubscriptionID string
	URL            string
	State          NotificationState
	// Since and Until bound Created: Since <= Created < Until.
	Since, Until time.Time
	// BeforeID returns rows whose id is below it (keyset paging, newest first).
	BeforeID int64
	// Limit caps the result; 0 means no cap.
	Limit int
}

// FaultMode is how an injected fault shapes the tries to its URL.
type FaultMode string

const (
	// FaultStatus: the POST is not made; the try fails with StatusCode.
	FaultStatus FaultMode = "status"
	// FaultTimeout: the POST is not made; the try fails as if no answer came in time.
	FaultTimeout FaultMode = "timeout"
	// FaultSlow: the real POST is made after Delay.
	FaultSlow FaultMode = "slow"
)

// Fault is a push-side fault on one notification URL, injected through the admin
// API. It applies to the POSTs to URL while Remaining is not 0 and Expires (when
// set) has not passed.
type Fault struct {
	ID         string
	URL        string
	Mode       FaultMode
	StatusCode int           // FaultStatus
	Delay      time.Duration // FaultSlow
	// Remaining is how many POSTs it still applies to; -1 when it is bounded by
	// Expires only.
	Remaining int
	// Expires is when it ends; zero when it is bounded by Remaining only.
	Expires time.Time
	Created time.Time
}

// Active reports whether f still applies at now.
func (f *Fault) Active(now time.Time) bool {
	return f.Remaining != 0 && (f.Expires.IsZero() || now.Before(f.Expires))
}

// DeliveryLogTx reads the queue as a delivery log, records attempts, and keeps the
// injected faults. Attempts go with their row: PruneNotifications deletes them too.
type DeliveryLogTx interface {
	// RecordAttempts inserts the attempts, in a few multi-row statements. Errors:
	// backend errors only.
	RecordAttempts(ctx context.Context, as []Attempt) error
	// Attempts returns the attempts of the given rows, by row id, each row's in
	// Number order. Rows without attempts are absent. Errors: backend errors only.
	Attempts(ctx context.Context, ids []int64) (map[int64][]Attempt, error)
	// ListNotifications returns the rows f selects, newest (highest id) first.
	// Errors: backend errors only.
	ListNotifications(ctx context.Context, f DeliveryFilter) ([]Notification, error)
	// InsertFault stores a new fault. ErrConflict if its id exists. Errors: backend
	// errors otherwise.
	InsertFault(ctx context.Context, f Fault) error
	// Faults returns every stored fault, oldest first, spent ones included until
	// PruneFaults removes them. Errors: backend errors only.
	Faults(ctx context.Context) ([]Fault, error)
	// UseFault counts one POST against a fault bounded by count: it decrements
	// Remaining when it is above 0 and reports whether it did; a fault bounded by
	// time only (Remaining -1) is left alone and reported used. ErrNotFound if the
	// fault is gone.
	UseFault(ctx context.Context, id string) (bool, error)
	// DeleteFault removes a fault. ErrNotFound if absent.
	DeleteFault(ctx context.Context, id string) error
	// PruneFaults removes the faults spent (Remaining 0) or expired at now and
	// returns how many went. Errors: backend errors only.
	PruneFaults(ctx context.Context, now time.Time) (int, error)
}
