package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
)

// supports reports whether s gets lifecycle notifications of this kind:
// reauthorizationRequired for every resource, the others as the resource's
// descriptor lists them. None without a lifecycleNotificationUrl.
func (p *Pipeline) supports(s *store.Subscription, event string) bool {
	if s.LifecycleURL == "" {
		return false
	}
	if d := p.catalog.Lookup(s.ResourceType); d != nil {
		return d.Supports(event)
	}
	return event == graph.LifecycleReauthorizationRequired
}

// DiscardQueued discards the notifications of sub still waiting in the queue (to its
// notification URL and its lifecycle URL); rows in flight finish their POST. It is
// the subscriptions API's OnDelete hook, so it runs in the transaction that deletes
// sub (through the API or the expiry sweeper): a deleted subscription's backlog goes
// with it, instead of lingering until a dispatcher claims and drops it, which for a
// slow endpoint is ten minutes later.
func (p *Pipeline) DiscardQueued(ctx context.Context, tx store.Tx, sub store.Subscription) error {
	now := p.clock.Now()
	total := 0
	urls := []string{sub.NotificationURL}
	if sub.LifecycleURL != "" && sub.LifecycleURL != sub.NotificationURL {
		urls = append(urls, sub.LifecycleURL)
	}
	for _, url := range urls {
		n, err := tx.DiscardSubscriptionNotifications(ctx, url, sub.ID, now, "subscription deleted")
		if err != nil {
			return err
		}
		total += n
	}
	if total > 0 {
		p.countAfter(tx, outcomeDiscarded, total)
	}
	return nil
}

// lifecycleRow is a queued lifecycle notification for s, rendered in full now.
func lifecycleRow(s *store.Subscription, event string, now time.Time) *store.Notification {
	return &store.Notification{
		URL: s.LifecycleURL, Tenant: s.Tenant, SubscriptionID: s.ID, ResourceType: s.ResourceType,
		Lifecycle: true, Event: event, Payload: renderLifecycle(s, event), Created: now,
	}
}

// Reminder decides, for the reauthorization scheduler, whether a subscription whose
// authorization lapses (or which expires) at authorizedUntil gets a reauthorizationRequired now, and
// when to look at it next (zero: never again until it is reauthorized). Reminders
// start lead before the lapse and repeat every interval (Microsoft's "Reduce missing subscriptions and change notifications" page's 15-minute
// cadence) while notifications are held, until the horizon after the lapse, after
// which held notifications are gone anyway.
func Reminder(now, authorizedUntil time.Time, lead, every, horizon time.Duration) (send bool, next time.Time) {
	if authorizedUntil.IsZero() {
		return false, time.Time{}
	}
	if start := authorizedUntil.Add(-lead); now.Before(start) {
		return false, start
	}
	if now.After(authorizedUntil.Add(horizon)) {
		return false, time.Time{}
	}
	return true, now.Add(every)
}

// remind runs one pass of the reauthorization scheduler.
func (p *Pipeline) remind(ctx context.Context) error {
	now := p.clock.Now()
	var due []store.Subscription
	if err := p.st.View(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.DueReminders(ctx, now, 200)
		return err
	}); err != nil {
		return err
	}
	for i := range due {
		s := due[i]
		deadline := s.AuthorizedUntil
		if !s.Expiration.IsZero() && (deadline.IsZero() || s.Expiration.Before(deadline)) {
			deadline = s.Expiration
		}
		send, next := Reminder(now, deadline, p.cfg.ReminderLead, p.cfg.ReminderEvery, p.cfg.Horizon)
		err := p.st.Update(ctx, func(tx store.Tx) error {
			cur, err := tx.GetSubscription(ctx, s.ID)
			if err != nil {
				return err
			}
			if cur.Version != s.Version {
				return nil // renewed or reauthorized meanwhile; the next pass sees it
			}
			cur.NextReminder = next
			if err := tx.UpdateSubscription(ctx, &cur); err != nil {
				return err
			}
			if !send {
				return nil
			}
			p.metrics.lifecycle.WithLabelValues(graph.LifecycleReauthorizationRequired).Inc()
			return tx.Enqueue(ctx, []*store.Notification{lifecycleRow(&cur, graph.LifecycleReauthorizationRequired, now)})
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrVersionMismatch) {
			return err
		}
	}
	return nil
}
