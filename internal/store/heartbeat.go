package store

import (
	"context"
	"errors"
	"time"
)

// ErrNoNode: a heartbeat named no node. A nameless node could never be told apart
// from the claims that name none (see Notification.Node), so it is refused.
var ErrNoNode = errors.New("store: heartbeat without a node name")

// HeartbeatTx records which nodes are alive, so that the rescuer can take back the
// rows a dead node left running as soon as its heartbeat lapses, instead of after a
// fixed time in flight. Every node sharing a database beats every so often (a third
// of the lapse time); a node that dies stops beating. Times are the nodes' own: their
// clocks must agree to well within the lapse time, as they must for the lease.
type HeartbeatTx interface {
	// Heartbeat records that node is alive at now. A beat never moves a node's
	// recorded time backwards: an older now leaves the newer beat. ErrNoNode when node
	// is "".
	Heartbeat(ctx context.Context, node string, now time.Time) error
	// GetHeartbeat returns node's last recorded beat. ErrNotFound when node never beat
	// or its heartbeat was pruned.
	GetHeartbeat(ctx context.Context, node string) (time.Time, error)
	// RescueLapsed moves the running rows claimed by a node whose last beat is before
	// lapsedBefore to retryable, due at now, and returns how many moved. Rows claimed
	// by no node, or by a node without a recorded heartbeat, are left alone: nothing
	// says their node is dead (RescueNotifications' age rule covers them). Errors:
	// backend errors only.
	RescueLapsed(ctx context.Context, lapsedBefore, now time.Time) (int, error)
	// PruneHeartbeats deletes the heartbeats older than before of nodes that have no
	// running rows (the heartbeat of a dead node whose rows are still running is what
	// lets RescueLapsed take them back), and returns how many went. Errors: backend
	// errors only.
	PruneHeartbeats(ctx context.Context, before time.Time) (int, error)
}
