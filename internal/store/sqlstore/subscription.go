package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

const subCols = `id, tenant, app_id, creator_id, permission_type, resource_type, variant, topic, change_types, filter,
	notification_url, lifecycle_url, client_state, include_data, expiration, authorized_until, next_reminder, created, version, data`

func scanSub(sc interface{ Scan(...any) error }) (store.Subscription, error) {
	var s store.Subscription
	var include int
	var exp, auth, next, created int64
	err := sc.Scan(&s.ID, &s.Tenant, &s.AppID, &s.CreatorID, &s.PermissionType, &s.ResourceType, &s.Variant, &s.Topic, &s.ChangeTypes, &s.Filter,
		&s.NotificationURL, &s.LifecycleURL, &s.ClientState, &include, &exp, &auth, &next, &created, &s.Version, &s.Data)
	s.IncludeResourceData = include != 0
	s.Expiration, s.AuthorizedUntil, s.NextReminder, s.Created = fromNanos(exp), fromNanos(auth), fromNanos(next), fromNanos(created)
	return s, err
}

func (t *Tx) querySubs(ctx context.Context, query string, args ...any) ([]store.Subscription, error) {
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var out []store.Subscription
	for rows.Next() {
		s, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// InsertSubscription implements store.SubscriptionTx.
func (t *Tx) InsertSubscription(ctx context.Context, s *store.Subscription) error {
	if s.Created.IsZero() {
		s.Created = time.Now().UTC()
	}
	s.Version = 1
	t.wroteSubscriptions()
	_, err := t.Exec(ctx, `INSERT INTO subscriptions (`+subCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Tenant, s.AppID, s.CreatorID, s.PermissionType, s.ResourceType, s.Variant, s.Topic, s.ChangeTypes, s.Filter,
		s.NotificationURL, s.LifecycleURL, s.ClientState, boolInt(s.IncludeResourceData), nanos(s.Expiration), nanos(s.AuthorizedUntil),
		nanos(s.NextReminder), nanos(s.Created), s.Version, s.Data)
	return t.translate(err)
}

// GetSubscription implements store.SubscriptionTx.
func (t *Tx) GetSubscription(ctx context.Context, id string) (store.Subscription, error) {
	s, err := scanSub(t.QueryRow(ctx, `SELECT `+subCols+` FROM subscriptions WHERE id = ?`, id))
	return s, t.translate(err)
}

// UpdateSubscription implements store.SubscriptionTx.
func (t *Tx) UpdateSubscription(ctx context.Context, s *store.Subscription) error {
	t.wroteSubscriptions()
	res, err := t.Exec(ctx, `UPDATE subscriptions SET tenant = ?, app_id = ?, creator_id = ?, permission_type = ?, resource_type = ?, variant = ?, topic = ?,
		change_types = ?, filter = ?, notification_url = ?, lifecycle_url = ?, client_state = ?, include_data = ?, expiration = ?,
		authorized_until = ?, next_reminder = ?, version = version + 1, data = ? WHERE id = ? AND version = ?`,
		s.Tenant, s.AppID, s.CreatorID, s.PermissionType, s.ResourceType, s.Variant, s.Topic, s.ChangeTypes, s.Filter, s.NotificationURL,
		s.LifecycleURL, s.ClientState, boolInt(s.IncludeResourceData), nanos(s.Expiration), nanos(s.AuthorizedUntil), nanos(s.NextReminder),
		s.Data, s.ID, s.Version)
	if err != nil {
		return t.translate(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		s.Version++
		return nil
	}
	if _, err := t.GetSubscription(ctx, s.ID); err != nil {
		return err
	}
	return store.ErrVersionMismatch
}

// DeleteSubscription implements store.SubscriptionTx.
func (t *Tx) DeleteSubscription(ctx context.Context, id string) error {
	t.wroteSubscriptions()
	res, err := t.Exec(ctx, `DELETE FROM subscriptions WHERE id = ?`, id)
	if err != nil {
		return t.translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func subWhere(q store.SubscriptionQuery, paging bool) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if q.Tenant != "" {
		add("tenant = ?", q.Tenant)
	}
	if q.AppID != "" {
		add("app_id = ?", q.AppID)
	}
	if q.CreatorID != "" {
		add("creator_id = ?", q.CreatorID)
	}
	if q.Topic != "" {
		add("topic = ?", q.Topic)
	}
	if q.TopicPrefix != "" {
		// A range rather than LIKE: it uses the (tenant, topic) index on both backends
		// and treats '%' and '_' in ids literally. Topic keys are ASCII, so the prefix
		// followed by U+FFFF bounds every key that starts with it.
		add("topic >= ?", q.TopicPrefix)
		add("topic < ?", q.TopicPrefix+"\uffff")
	}
	if !q.ActiveAt.IsZero() {
		add("expiration > ?", nanos(q.ActiveAt))
	}
	if q.NotificationURL != "" {
		add("notification_url = ?", q.NotificationURL)
	}
	if len(q.ResourceTypes) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.ResourceTypes)), ", ")
		where = append(where, "resource_type IN ("+marks+")")
		for _, rt := range q.ResourceTypes {
			args = append(args, rt)
		}
	}
	if paging && q.AfterID != "" {
		add("id > ?", q.AfterID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListSubscriptions implements store.SubscriptionTx.
func (t *Tx) ListSubscriptions(ctx context.Context, q store.SubscriptionQuery) ([]store.Subscription, error) {
	where, args := subWhere(q, true)
	query := `SELECT ` + subCols + ` FROM subscriptions` + where + ` ORDER BY id`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	return t.querySubs(ctx, query, args...)
}

// CountSubscriptions implements store.SubscriptionTx.
func (t *Tx) CountSubscriptions(ctx context.Context, q store.SubscriptionQuery) (int, error) {
	where, args := subWhere(q, false)
	var n int
	err := t.QueryRow(ctx, `SELECT COUNT(*) FROM subscriptions`+where, args...).Scan(&n)
	return n, t.translate(err)
}

// SubscriptionsByTopics implements store.SubscriptionTx.
func (t *Tx) SubscriptionsByTopics(ctx context.Context, tenant string, topics []string) ([]store.Subscription, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	if subs, ok := t.takePrefetched(tenant, topics); ok {
		return subs, nil
	}
	if c := t.writeCache(); c != nil {
		return c.subscriptionsByTopics(tenant, topics, func(topic string) ([]store.Subscription, error) {
			return t.querySubs(ctx, `SELECT `+subCols+` FROM subscriptions WHERE tenant = ? AND topic = ? ORDER BY id`, tenant, topic)
		})
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(topics)), ", ")
	args := []any{tenant}
	for _, tp := range topics {
		args = append(args, tp)
	}
	return t.querySubs(ctx, `SELECT `+subCols+` FROM subscriptions WHERE tenant = ? AND topic IN (`+marks+`) ORDER BY id`, args...)
}

// wroteSubscriptions tells the write cache, before a write, that subscriptions change.
func (t *Tx) wroteSubscriptions() {
	t.prefetched = nil
	if c := t.writeCache(); c != nil {
		c.wroteSubscriptions()
	}
}

// ExpiredSubscriptions implements store.SubscriptionTx.
func (t *Tx) ExpiredSubscriptions(ctx context.Context, at time.Time, limit int) ([]store.Subscription, error) {
	return t.querySubs(ctx, `SELECT `+subCols+` FROM subscriptions WHERE expiration <= ? ORDER BY expiration, id LIMIT ?`, nanos(at), limit)
}

// DueReminders implements store.SubscriptionTx.
func (t *Tx) DueReminders(ctx context.Context, at time.Time, limit int) ([]store.Subscription, error) {
	return t.querySubs(ctx, `SELECT `+subCols+` FROM subscriptions WHERE lifecycle_url <> '' AND next_reminder > 0 AND next_reminder <= ? ORDER BY next_reminder, id LIMIT ?`, nanos(at), limit)
}
