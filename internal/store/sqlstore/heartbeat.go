package sqlstore

import (
	"context"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// Heartbeat implements store.HeartbeatTx. One upsert; the update's guard keeps a
// late, older beat from moving the time back.
func (t *Tx) Heartbeat(ctx context.Context, node string, now time.Time) error {
	if t.readOnly {
		return ErrReadOnly
	}
	if node == "" {
		return store.ErrNoNode
	}
	_, err := t.Exec(ctx, `INSERT INTO heartbeats (node, beat) VALUES (?, ?)
		ON CONFLICT (node) DO UPDATE SET beat = excluded.beat WHERE heartbeats.beat < excluded.beat`,
		node, nanos(now))
	return t.translate(err)
}

// GetHeartbeat implements store.HeartbeatTx.
func (t *Tx) GetHeartbeat(ctx context.Context, node string) (time.Time, error) {
	var beat int64
	err := t.QueryRow(ctx, `SELECT beat FROM heartbeats WHERE node = ?`, node).Scan(&beat)
	if err != nil {
		return time.Time{}, t.translate(err)
	}
	return fromNanos(beat), nil
}

// RescueLapsed implements store.HeartbeatTx (see rescueLapsedQuery).
func (t *Tx) RescueLapsed(ctx context.Context, lapsedBefore, now time.Time) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	res, err := t.Exec(ctx, rescueLapsedQuery, nanos(now), nanos(lapsedBefore))
	if err != nil {
		return 0, t.translate(err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		t.signal = true
	}
	return int(n), nil
}

// PruneHeartbeats implements store.HeartbeatTx (see pruneHeartbeatsQuery).
func (t *Tx) PruneHeartbeats(ctx context.Context, before time.Time) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	res, err := t.Exec(ctx, pruneHeartbeatsQuery, nanos(before))
	if err != nil {
		return 0, t.translate(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
