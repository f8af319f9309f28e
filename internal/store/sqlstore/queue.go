package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// The queue's statements. Waiting rows are found through the partial index
// notifications_due (url, scheduled, id), whose WHERE clause the statements repeat
// word for word so that both planners use it.
const (
	queueCols   = `id, url, tenant, subscription_id, resource_type, lifecycle, event, resource, payload, rich, seq, state, attempt, created, scheduled, claimed, finished, error, node, replay_of`
	waiting     = `state IN ('available', 'retryable')`
	enqueueCols = `url, tenant, subscription_id, resource_type, lifecycle, event, resource, payload, rich, seq, created, scheduled, replay_of, state`
	// enqueueRow is one row's VALUES: the state is written out, not bound (every
	// bound parameter costs a conversion on both sides of the driver).
	enqueueRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'available')`
	// enqueueChunk rows per INSERT: 13 parameters each stays far below both
	// backends' parameter limits.
	enqueueChunk = 128
	// onceCols are the columns of a row written once, when it is queued, but for
	// the url (a claim's own) and the state.
	onceCols = `id, tenant, subscription_id, resource_type, lifecycle, event, resource, payload, rich, seq, created, replay_of`
	// claimQuery finds a claim's rows, through notifications_due, in their due
	// order, and reads of each the columns that change after it is queued; the
	// dialect's row locking follows it. The others come from the claim cache, or
	// from claimRowsQuery for the rows it does not hold.
	claimQuery = `SELECT id, attempt, scheduled, error FROM notifications WHERE url = ? AND ` + waiting + ` AND scheduled <= ?
			ORDER BY scheduled, id LIMIT ? `
	claimRowsQuery = `SELECT ` + onceCols + ` FROM notifications WHERE id IN (`
	// idChunk ids at most per IN list. Lists are padded to a power of two (see
	// inList), so that few statement texts come and stay prepared.
	idChunk = 512
)

func scanNotification(sc interface{ Scan(...any) error }) (store.Notification, error) {
	var n store.Notification
	var lifecycle int
	var state string
	var created, scheduled, claimed, finished int64
	err := sc.Scan(&n.ID, &n.URL, &n.Tenant, &n.SubscriptionID, &n.ResourceType, &lifecycle, &n.Event, &n.Resource,
		&n.Payload, &n.Rich, &n.Seq, &state, &n.Attempt, &created, &scheduled, &claimed, &finished, &n.Error, &n.Node, &n.ReplayOf)
	n.Lifecycle = lifecycle != 0
	n.State = store.NotificationState(state)
	n.Created, n.Scheduled, n.Claimed, n.Finished = fromNanos(created), fromNanos(scheduled), fromNanos(claimed), fromNanos(finished)
	return n, err
}

// Enqueue implements store.QueueTx. A run of rows that differ only in their
// subscription (a change matched by several subscriptions of one URL) goes in one
// INSERT … SELECT over the subscriptions' ids where the dialect reads the ids it
// assigned from LastInsertId (see enqueueGroupQuery); other rows go in multi-row
// INSERTs. Rows are inserted in the slice's order either way, so their ids increase
// along it.
func (t *Tx) Enqueue(ctx context.Context, ns []*store.Notification) error {
	if t.readOnly {
		return ErrReadOnly
	}
	for _, n := range ns {
		if n.Scheduled.IsZero() {
			n.Scheduled = n.Created
		}
	}
	all := ns
	// ns[:i] wait for a multi-row INSERT.
	for i := 0; i < len(ns); {
		run := 1
		if t.s.d.LastInsertID {
			for i+run < len(ns) && sameButSubscription(ns[i], ns[i+run]) {
				run++
			}
		}
		if run < enqueueGroupMin {
			if i++; i == enqueueChunk {
				if err := t.insertRows(ctx, ns[:i]); err != nil {
					return err
				}
				ns, i = ns[i:], 0
			}
			continue
		}
		if err := t.insertRows(ctx, ns[:i]); err != nil {
			return err
		}
		if err := t.insertGroup(ctx, ns[i:i+run]); err != nil {
			return err
		}
		ns, i = ns[i+run:], 0
	}
	if err := t.insertRows(ctx, ns); err != nil {
		return err
	}
	t.signal = true
	t.AfterCommit(func() { t.s.claims.put(all) })
	return nil
}

// enqueueGroupMin is the shortest run of rows that differ only in their
// subscription that is inserted as a group: below it, a multi-row INSERT binds
// about as much as the group's JSON costs to read.
const enqueueGroupMin = 4

// sameButSubscription tells whether two rows differ at most in their subscription.
func sameButSubscription(a, b *store.Notification) bool {
	return a.URL == b.URL && a.Tenant == b.Tenant && a.ResourceType == b.ResourceType && a.Lifecycle == b.Lifecycle &&
		a.Event == b.Event && a.Resource == b.Resource && a.Seq == b.Seq && a.ReplayOf == b.ReplayOf &&
		a.Created.Equal(b.Created) && a.Scheduled.Equal(b.Scheduled) &&
		bytes.Equal(a.Payload, b.Payload) && bytes.Equal(a.Rich, b.Rich) && (a.Rich == nil) == (b.Rich == nil)
}

// enqueueGroupQuery inserts one row per subscription id of a JSON array (its last
// parameter), in the array's order, the other columns bound once. Binding each
// column of each row was most of an enqueue's cost on SQLite, whose driver copies
// every bound string.
const enqueueGroupQuery = `INSERT INTO notifications (` + enqueueCols + `)
	SELECT ?, ?, j.value, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'available' FROM json_each(?) AS j ORDER BY j.key`

// insertGroup inserts rows that differ only in their subscription, and sets their
// ids and states.
func (t *Tx) insertGroup(ctx context.Context, rows []*store.Notification) error {
	ids := make([]string, len(rows))
	for i, n := range rows {
		ids[i] = n.SubscriptionID
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	n := rows[0]
	res, err := t.Exec(ctx, enqueueGroupQuery, n.URL, n.Tenant, n.ResourceType, boolInt(n.Lifecycle), n.Event, n.Resource,
		payloadOf(n), n.Rich, n.Seq, nanos(n.Created), nanos(n.Scheduled), n.ReplayOf, string(list))
	if err != nil {
		return t.translate(err)
	}
	return numberRows(res, rows)
}

// payloadOf is n's Payload as the column takes it: never NULL.
func payloadOf(n *store.Notification) []byte {
	if n.Payload == nil {
		return []byte{}
	}
	return n.Payload
}

// insertRows inserts rows in multi-row INSERTs, and sets their ids and states.
func (t *Tx) insertRows(ctx context.Context, rows []*store.Notification) error {
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), enqueueChunk)]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*13)
		for _, n := range chunk {
			args = append(args, n.URL, n.Tenant, n.SubscriptionID, n.ResourceType, boolInt(n.Lifecycle), n.Event, n.Resource,
				payloadOf(n), n.Rich, n.Seq, nanos(n.Created), nanos(n.Scheduled), n.ReplayOf)
		}
		if err := t.insertNotifications(ctx, chunk, args); err != nil {
			return err
		}
	}
	return nil
}

// insertNotifications inserts chunk's rows, whose values are args, and sets their
// ids.
func (t *Tx) insertNotifications(ctx context.Context, chunk []*store.Notification, args []any) error {
	query := enqueueQuery(len(chunk))
	if t.s.d.LastInsertID {
		res, err := t.Exec(ctx, query, args...)
		if err != nil {
			return t.translate(err)
		}
		return numberRows(res, chunk)
	}
	rows, err := t.Query(ctx, query+" RETURNING id", args...)
	if err != nil {
		return t.translate(err)
	}
	i := 0
	for rows.Next() {
		if err := rows.Scan(&chunk[i].ID); err != nil {
			rows.Close()
			return err
		}
		i++
	}
	if err := rows.Close(); err != nil {
		return t.translate(err)
	}
	if err := rows.Err(); err != nil {
		return t.translate(err)
	}
	for _, n := range chunk {
		n.State, n.Attempt = store.NotificationAvailable, 0
	}
	return nil
}

// numberRows sets the ids of the rows one INSERT wrote, from the last id it
// assigned: under AUTOINCREMENT and the store's one writer, one statement's rows
// take consecutive ids in the order it inserts them. It checks first that the
// statement wrote every row.
func numberRows(res sql.Result, rows []*store.Notification) error {
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(rows)) {
		return fmt.Errorf("store: inserted %d of %d notifications (%v)", n, len(rows), err)
	}
	for i, n := range rows {
		n.ID = last - int64(len(rows)-1-i)
		n.State, n.Attempt = store.NotificationAvailable, 0
	}
	return nil
}

// enqueueQuery is the INSERT of n rows. Unlike other batches (rowChunk, inList) a
// change's rows go in one statement whatever their count: each extra statement
// costs more than the rows it would save binding (SQLite updates the AUTOINCREMENT
// counter once per statement), and the matcher's counts, the subscriptions a
// change matches, are few and stable, so their texts stay prepared.
func enqueueQuery(n int) string {
	var b strings.Builder
	b.Grow(len(enqueueCols) + 64 + n*(len(enqueueRow)+2))
	b.WriteString(`INSERT INTO notifications (` + enqueueCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(enqueueRow)
	}
	return b.String()
}

// DueURLs implements store.QueueTx.
func (t *Tx) DueURLs(ctx context.Context, limit int) ([]store.DueURL, error) {
	// A loose index scan: hop from one URL to the next through the due index, and
	// read each URL's earliest row from it, so the cost grows with the number of URLs,
	// not with the rows waiting (a GROUP BY would read every row of a dead endpoint's
	// backlog on each dispatcher pass).
	query := `WITH RECURSIVE urls(url) AS (
			SELECT MIN(url) FROM notifications WHERE ` + waiting + `
			UNION ALL
			SELECT (SELECT MIN(n.url) FROM notifications n WHERE n.` + waiting + ` AND n.url > urls.url)
			FROM urls WHERE urls.url IS NOT NULL
		)
		SELECT url, (SELECT MIN(n.scheduled) FROM notifications n WHERE n.` + waiting + ` AND n.url = urls.url) AS next
		FROM urls WHERE url IS NOT NULL ORDER BY next, url`
	var args []any
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var out []store.DueURL
	for rows.Next() {
		var d store.DueURL
		var next int64
		if err := rows.Scan(&d.URL, &next); err != nil {
			return nil, err
		}
		d.Next = fromNanos(next)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimNotifications implements store.QueueTx. It reads the rows (their ids and
// the columns that change; see claimCache for the others), then moves them by id:
// SQLite spends more on an UPDATE … RETURNING of the rows' columns than on
// the two statements (measured with the queue's benchmark), and inside the claim's
// transaction nobody else can move a row in between (SQLite's one writer;
// PostgreSQL's row locks, taken by the SELECT).
func (t *Tx) ClaimNotifications(ctx context.Context, url, node string, due, now time.Time, limit int) ([]store.Notification, error) {
	if t.readOnly {
		return nil, ErrReadOnly
	}
	rows, err := t.Query(ctx, claimQuery+t.s.d.SkipLocked, url, nanos(due), limit)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	// Grown as rows come: most claims take a few rows, and a row is large.
	var out []store.Notification
	var missing []int                // of out, the rows the claim cache does not hold
	claimed := fromNanos(nanos(now)) // as a later read of the row would give it
	for rows.Next() {
		n := store.Notification{URL: url, State: store.NotificationRunning, Claimed: claimed, Node: node}
		var scheduled int64
		if err := rows.Scan(&n.ID, &n.Attempt, &scheduled, &n.Error); err != nil {
			return nil, err
		}
		n.Attempt++ // as the UPDATE below counts it
		n.Scheduled = fromNanos(scheduled)
		if !t.s.claims.take(&n) {
			missing = append(missing, len(out))
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, t.translate(err)
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	if err := t.readClaimed(ctx, out, missing); err != nil {
		return nil, err
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].ID
	}
	n, err := t.guarded(ctx, `UPDATE notifications SET state = 'running', attempt = attempt + 1, claimed = ?, node = ? WHERE `+waiting,
		[]any{nanos(now), node}, ids, "id")
	if err != nil {
		return nil, err
	}
	if n != len(ids) {
		// Cannot happen while the rows are the transaction's alone; if it did, the
		// rows claimed would not be the rows returned.
		return nil, fmt.Errorf("store: claimed %d of the %d rows read", n, len(ids))
	}
	// Rows of equal Scheduled come in id order already; the dispatcher sends in id
	// (enqueue) order whatever their due times.
	slices.SortFunc(out, func(a, b store.Notification) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// readClaimed reads from the table the write-once columns of the claimed rows out
// at the indexes missing, which the claim cache did not hold.
func (t *Tx) readClaimed(ctx context.Context, out []store.Notification, missing []int) error {
	if len(missing) == 0 {
		return nil
	}
	at := make(map[int64]*store.Notification, len(missing))
	ids := make([]int64, len(missing))
	for i, m := range missing {
		at[out[m].ID] = &out[m]
		ids[i] = out[m].ID
	}
	err := inChunks(ids, func(list []any, marks string) error {
		rows, err := t.Query(ctx, claimRowsQuery+marks+`)`, list...)
		if err != nil {
			return t.translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			var r store.Notification
			var lifecycle int
			var created int64
			if err := rows.Scan(&r.ID, &r.Tenant, &r.SubscriptionID, &r.ResourceType, &lifecycle, &r.Event, &r.Resource,
				&r.Payload, &r.Rich, &r.Seq, &created, &r.ReplayOf); err != nil {
				return err
			}
			n, ok := at[r.ID]
			if !ok {
				continue
			}
			delete(at, r.ID)
			n.Tenant, n.SubscriptionID, n.ResourceType, n.Lifecycle = r.Tenant, r.SubscriptionID, r.ResourceType, lifecycle != 0
			n.Event, n.Resource, n.Payload, n.Rich = r.Event, r.Resource, r.Payload, r.Rich
			n.Seq, n.Created, n.ReplayOf = r.Seq, fromNanos(created), r.ReplayOf
		}
		if err := rows.Close(); err != nil {
			return t.translate(err)
		}
		return t.translate(rows.Err())
	})
	if err != nil {
		return err
	}
	if len(at) > 0 {
		// Cannot happen while the rows are the transaction's alone.
		return fmt.Errorf("store: %d claimed rows vanished", len(at))
	}
	return nil
}

// SubscriptionVersions implements store.QueueTx.
func (t *Tx) SubscriptionVersions(ctx context.Context, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	err := inChunks(ids, func(list []any, marks string) error {
		rows, err := t.Query(ctx, `SELECT id, version FROM subscriptions WHERE id IN (`+marks+`)`, list...)
		if err != nil {
			return t.translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			out[id] = v
		}
		return t.translate(rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// guarded runs an UPDATE or DELETE whose WHERE clause ends in "AND col IN (…)" over
// ids in chunks, and returns how many rows it changed.
func (t *Tx) guarded(ctx context.Context, prefix string, args []any, ids []int64, col string) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	total := 0
	err := inChunks(ids, func(list []any, marks string) error {
		res, err := t.Exec(ctx, prefix+` AND `+col+` IN (`+marks+`)`, append(slices.Clip(args), list...)...)
		if err != nil {
			return t.translate(err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		return nil
	})
	return total, err
}

// rowChunk is how many of n rows the next multi-row INSERT takes: max while
// there are that many, then the largest power of two that fits. An insert of any
// number of rows then uses at most a handful of statement texts (1, 2, 4, … max
// rows), which stay prepared in the writer's statement cache, instead of a text
// per count that would crowd the cache out. (The attempts of gathered outcomes
// come in any number; see enqueueQuery for the queue's rows.)
func rowChunk(n, max int) int {
	if n >= max {
		return max
	}
	size := 1
	for size*2 <= n {
		size *= 2
	}
	return size
}

// inList is how many items an IN list of n ids is written with: n rounded up to
// a power of two (at least 8), the rest repeating the last id, which matches the
// same rows. Each statement then has a handful of texts, which the writer's
// statement cache keeps prepared, instead of one per count.
func inList(n int) int {
	size := 8
	for size < n {
		size *= 2
	}
	return size
}

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// inChunks calls fn for each run of at most idChunk ids, with the run padded to
// inList's size by repeating its last id, and the IN list's marks for it.
func inChunks[T any](ids []T, fn func(list []any, marks string) error) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), idChunk)]
		ids = ids[len(chunk):]
		size := inList(len(chunk))
		list := make([]any, size)
		for i := range list {
			list[i] = chunk[min(i, len(chunk)-1)]
		}
		if err := fn(list, marks(size)); err != nil {
			return err
		}
	}
	return nil
}

// MarkDelivered implements store.QueueTx.
func (t *Tx) MarkDelivered(ctx context.Context, ids []int64, at time.Time) (int, error) {
	return t.guarded(ctx, `UPDATE notifications SET state = 'delivered', finished = ? WHERE state = 'running'`, []any{nanos(at)}, ids, "id")
}

// MarkRetryable implements store.QueueTx.
func (t *Tx) MarkRetryable(ctx context.Context, ids []int64, scheduled time.Time, errText string) (int, error) {
	return t.guarded(ctx, `UPDATE notifications SET state = 'retryable', scheduled = ?, error = ? WHERE state = 'running'`, []any{nanos(scheduled), errText}, ids, "id")
}

// RetryNotifications implements store.QueueTx: one UPDATE joined to a VALUES list
// of (id, scheduled) per chunk. VALUES columns are column1, column2 on both
// backends; the casts give PostgreSQL their types.
func (t *Tx) RetryNotifications(ctx context.Context, rs []store.Retry, errText string) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	const row = `(CAST(? AS BIGINT), CAST(? AS BIGINT))`
	total := 0
	for len(rs) > 0 {
		chunk := rs[:min(len(rs), idChunk/2)]
		rs = rs[len(chunk):]
		// Padded as IN lists are (inList): a repeated pair joins the same row to the
		// same values.
		size := inList(len(chunk))
		var b strings.Builder
		b.WriteString(`UPDATE notifications SET state = 'retryable', scheduled = v.column2, error = ? FROM (VALUES `)
		args := make([]any, 0, 1+2*size)
		args = append(args, errText)
		for i := range size {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
			r := chunk[min(i, len(chunk)-1)]
			args = append(args, r.ID, nanos(r.Scheduled))
		}
		b.WriteString(`) AS v WHERE notifications.id = v.column1 AND notifications.state = 'running'`)
		res, err := t.Exec(ctx, b.String(), args...)
		if err != nil {
			return total, t.translate(err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// MarkDiscarded implements store.QueueTx.
func (t *Tx) MarkDiscarded(ctx context.Context, ids []int64, at time.Time, errText string) (int, error) {
	return t.guarded(ctx, `UPDATE notifications SET state = 'discarded', finished = ?, error = ? WHERE state = 'running'`, []any{nanos(at), errText}, ids, "id")
}

// DiscardSubscriptionNotifications implements store.QueueTx.
func (t *Tx) DiscardSubscriptionNotifications(ctx context.Context, url, subscriptionID string, at time.Time, errText string) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	res, err := t.Exec(ctx, `UPDATE notifications SET state = 'discarded', finished = ?, error = ?
		WHERE url = ? AND `+waiting+` AND subscription_id = ?`, nanos(at), errText, url, subscriptionID)
	if err != nil {
		return 0, t.translate(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ReleaseNotifications implements store.QueueTx.
func (t *Tx) ReleaseNotifications(ctx context.Context, ids []int64, scheduled time.Time) (int, error) {
	return t.guarded(ctx, `UPDATE notifications SET state = 'available', scheduled = ?, attempt = attempt - 1 WHERE state = 'running'`, []any{nanos(scheduled)}, ids, "id")
}

// The rescuer's statements, and the heartbeats' prune, which keeps the beat of a
// node that still has rows in flight. In-flight rows are found through the partial index
// notifications_running (node, claimed), whose WHERE clause they repeat: a lapsed
// node's rows by its leading column, rows in flight too long by reading the index
// alone, which holds only the rows the dispatchers have claimed.
const (
	rescueQuery = `UPDATE notifications SET state = 'retryable', scheduled = ?, error = 'rescued: in flight too long'
		WHERE state = 'running' AND claimed < ?`
	rescueLapsedQuery = `UPDATE notifications SET state = 'retryable', scheduled = ?, error = 'rescued: its node stopped beating'
		WHERE state = 'running' AND node IN (SELECT node FROM heartbeats WHERE beat < ?)`
	pruneHeartbeatsQuery = `DELETE FROM heartbeats WHERE beat < ? AND NOT EXISTS (
		SELECT 1 FROM notifications WHERE state = 'running' AND notifications.node = heartbeats.node)`
)

// RescueNotifications implements store.QueueTx.
func (t *Tx) RescueNotifications(ctx context.Context, claimedBefore, now time.Time) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	res, err := t.Exec(ctx, rescueQuery, nanos(now), nanos(claimedBefore))
	if err != nil {
		return 0, t.translate(err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		t.signal = true
	}
	return int(n), nil
}

// PruneNotifications implements store.QueueTx. It picks the rows first, so that
// their attempts go by the same ids.
func (t *Tx) PruneNotifications(ctx context.Context, before time.Time, limit int) (int, error) {
	if t.readOnly {
		return 0, ErrReadOnly
	}
	rows, err := t.Query(ctx, `SELECT id FROM notifications
		WHERE state IN ('delivered', 'discarded') AND finished < ? LIMIT ?`, nanos(before), limit)
	if err != nil {
		return 0, t.translate(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, t.translate(err)
	}
	if _, err := t.guarded(ctx, `DELETE FROM delivery_attempts WHERE 1 = 1`, nil, ids, "notification_id"); err != nil {
		return 0, err
	}
	return t.guarded(ctx, `DELETE FROM notifications WHERE 1 = 1`, nil, ids, "id")
}

// CountNotifications implements store.QueueTx.
func (t *Tx) CountNotifications(ctx context.Context) (map[store.NotificationState]int, error) {
	rows, err := t.Query(ctx, `SELECT state, COUNT(*) FROM notifications GROUP BY state`)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	out := map[store.NotificationState]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[store.NotificationState(s)] = n
	}
	return out, rows.Err()
}

// GetNotification implements store.QueueTx.
func (t *Tx) GetNotification(ctx context.Context, id int64) (store.Notification, error) {
	n, err := scanNotification(t.QueryRow(ctx, `SELECT `+queueCols+` FROM notifications WHERE id = ?`, id))
	return n, t.translate(err)
}

// SubscriptionsUnderTopic implements store.QueueTx. It runs on deletions of users,
// groups, teams and chats only, so a comparison on substr (same bytes on both
// backends, whatever PostgreSQL's collation) over the tenant's index range is enough.
func (t *Tx) SubscriptionsUnderTopic(ctx context.Context, tenant, prefix string) ([]store.Subscription, error) {
	return t.querySubs(ctx, `SELECT `+subCols+` FROM subscriptions WHERE tenant = ? AND (topic = ? OR substr(topic, 1, ?) = ?) ORDER BY id`,
		tenant, prefix, len(prefix)+1, prefix+"/")
}
