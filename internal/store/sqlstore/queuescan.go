package sqlstore

import (
	"context"

	"github.com/graphhook/graphhook/internal/store"
)

// LastNotificationID implements store.QueueScanTx (the primary key's end: no scan).
func (t *Tx) LastNotificationID(ctx context.Context) (int64, error) {
	var id int64
	err := t.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM notifications`).Scan(&id)
	return id, t.translate(err)
}

// NotificationsAfter implements store.QueueScanTx: a range of the primary key.
func (t *Tx) NotificationsAfter(ctx context.Context, afterID int64, limit int) ([]store.Notification, error) {
	q := `SELECT ` + queueCols + ` FROM notifications WHERE id > ? ORDER BY id`
	args := []any{afterID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := t.Query(ctx, q, args...)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var out []store.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, t.translate(err)
		}
		out = append(out, n)
	}
	return out, t.translate(rows.Err())
}
