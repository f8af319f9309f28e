package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// attemptChunk rows per INSERT of attempts: 7 parameters each.
const attemptChunk = 256

// RecordAttempts implements store.DeliveryLogTx.
func (t *Tx) RecordAttempts(ctx context.Context, as []store.Attempt) error {
	if t.readOnly {
		return ErrReadOnly
	}
	for len(as) > 0 {
		chunk := as[:rowChunk(len(as), attemptChunk)]
		as = as[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO delivery_attempts (notification_id, number, started, status, latency, error, injected) VALUES `)
		args := make([]any, 0, len(chunk)*7)
		for i, a := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, a.NotificationID, a.Number, nanos(a.Started), a.StatusCode, int64(a.Latency), a.Error, boolInt(a.Injected))
		}
		if _, err := t.Exec(ctx, b.String(), args...); err != nil {
			return t.translate(err)
		}
	}
	return nil
}

// Attempts implements store.DeliveryLogTx.
func (t *Tx) Attempts(ctx context.Context, ids []int64) (map[int64][]store.Attempt, error) {
	out := map[int64][]store.Attempt{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), idChunk)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := t.Query(ctx, `SELECT notification_id, number, started, status, latency, error, injected
			FROM delivery_attempts WHERE notification_id IN (`+marks(len(chunk))+`) ORDER BY notification_id, number, started`, args...)
		if err != nil {
			return nil, t.translate(err)
		}
		for rows.Next() {
			var a store.Attempt
			var started, latency int64
			var injected int
			if err := rows.Scan(&a.NotificationID, &a.Number, &started, &a.StatusCode, &latency, &a.Error, &injected); err != nil {
				rows.Close()
				return nil, err
			}
			a.Started, a.Latency, a.Injected = fromNanos(started), time.Duration(latency), injected != 0
			out[a.NotificationID] = append(out[a.NotificationID], a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, t.translate(err)
		}
	}
	return out, nil
}

// ListNotifications implements store.DeliveryLogTx. It walks the primary key
// downwards; the delivery log is an operator's tool, so it adds no index that
// every enqueue would pay for.
func (t *Tx) ListNotifications(ctx context.Context, f store.DeliveryFilter) ([]store.Notification, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.SubscriptionID != "" {
		add("subscription_id = ?", f.SubscriptionID)
	}
	if f.URL != "" {
		add("url = ?", f.URL)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if !f.Since.IsZero() {
		add("created >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("created < ?", nanos(f.Until))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	query := `SELECT ` + queueCols + ` FROM notifications`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var out []store.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, t.translate(rows.Err())
}

const faultCols = `id, url, mode, status, delay, remaining, expires, created`

// InsertFault implements store.DeliveryLogTx.
func (t *Tx) InsertFault(ctx context.Context, f store.Fault) error {
	if t.readOnly {
		return ErrReadOnly
	}
	_, err := t.Exec(ctx, `INSERT INTO delivery_faults (`+faultCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.URL, string(f.Mode), f.StatusCode, int64(f.Delay), f.Remaining, nanos(f.Expires), nanos(f.Created))
	return t.translate(err)
}

// Faults implements store.DeliveryLogTx.
func (t *Tx) Faults(ctx context.Context) ([]store.Fault, error) {
	rows, err := t.Query(ctx, `SELECT `+faultCols+` FROM delivery_faults ORDER BY created, id`)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var out []store.Fault
	for rows.Next() {
		var f store.Fault
		var mode string
		var delay, expires, created int64
		if err := rows.Scan(&f.ID, &f.URL, &mode, &f.StatusCode, &delay, &f.Remaining, &expires, &created); err != nil {
			return nil, err
		}
		f.Mode, f.Delay, f.Expires, f.Created = store.FaultMode(mode), time.Duration(delay), fromNanos(expires), fromNanos(created)
		out = append(out, f)
	}
	return out, t.translate(rows.Err())
}

// UseFault implements store.DeliveryLogTx.
func (t *Tx) UseFault(ctx context.Context, id string) (bool, error) {
	if t.readOnly {
		return false, ErrReadOnly
	}
	var remaining int
	if err := t.QueryRow(ctx, `SELECT remaining FROM delivery_faults WHERE id = ?`, id).Scan(&remaining); err != nil {
		return false, t.translate(err)
	}
	if remaining < 0 {
		return true, nil
	}
	res, err := t.Exec(ctx, `UPDATE delivery_faults SET remaining = remaining - 1 WHERE id = ? AND remaining > 0`, id)
	if err != nil {
		return false, t.translate(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteFault implements store.DeliveryLogTx.
func (t *Tx) DeleteFault(ctx context.Context, id string) error {
	if t.readOnly {
		return ErrReadOnly
	}
	res, err := t.Exec(ctx, `DELETE FROM delivery_faults WHERE id = ?`, id)
	if err != nil {
		return t.translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// PruneFaults implements store.DeliveryLogTx.
func (t *Tx) PruneFaults(ctx context.Context, now time.Time) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	res, err := t.Exec(ctx, `DELETE FROM delivery_faults WHERE remaining = 0 OR (expires > 0 AND expires <= ?)`, nanos(now))
	if err != nil {
		return 0, t.translate(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
