package delivery

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
)

// The delivery log is the queue itself: rows stay after they are delivered or
// discarded for Config.Retention, each with the attempts the acker recorded in the
// transaction of its outcomes. The methods below are what the admin API offers on
// it: reading it, replaying rows, lifecycle notifications on demand, and faults.

// Delivery is one queued notification as the delivery log shows it.
type Delivery struct {
	store.Notification
	Attempts []store.Attempt
	// Item is the notification item as POSTed, with the subscription's current
	// half; a rich item carries "rich":true in place of its encryptedContent.
	Item []byte
}

// Deliveries returns the rows f selects, newest first, with their attempts.
func (p *Pipeline) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]Delivery, error) {
	var out []Delivery
	err := p.st.View(ctx, func(tx store.Tx) error {
		ns, err := tx.ListNotifications(ctx, f)
		if err != nil {
			return err
		}
		out, err = p.describe(ctx, tx, ns)
		return err
	})
	return out, err
}

// Delivery returns one row of the log. store.ErrNotFound if it is not (or no
// longer) there.
func (p *Pipeline) Delivery(ctx context.Context, id int64) (Delivery, error) {
	var out []Delivery
	err := p.st.View(ctx, func(tx store.Tx) error {
		n, err := tx.GetNotification(ctx, id)
		if err != nil {
			return err
		}
		out, err = p.describe(ctx, tx, []store.Notification{n})
		return err
	})
	if err != nil {
		return Delivery{}, err
	}
	return out[0], nil
}

func (p *Pipeline) describe(ctx context.Context, tx store.Tx, ns []store.Notification) ([]Delivery, error) {
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	attempts, err := tx.Attempts(ctx, ids)
	if err != nil {
		return nil, err
	}
	heads := map[string]*subHead{}
	out := make([]Delivery, len(ns))
	for i, n := range ns {
		d := Delivery{Notification: n, Attempts: attempts[n.ID]}
		if n.Lifecycle {
			d.Item = n.Payload
		} else {
			h, ok := heads[n.SubscriptionID]
			if !ok {
				s, err := tx.GetSubscription(ctx, n.SubscriptionID)
				switch {
				case errors.Is(err, store.ErrNotFound):
					// Gone: the item as it can still be told.
					s = store.Subscription{ID: n.SubscriptionID, Tenant: n.Tenant}
				case err != nil:
					return nil, err
				}
				hd := renderHead(&s)
				h = &hd
				heads[n.SubscriptionID] = h
			}
			item := appendItem(nil, h, &n, nil)
			if n.Rich != nil {
				item = append(item[:len(item)-1], `,"rich":true}`...)
			}
			d.Item = item
		}
		out[i] = d
	}
	return out, nil
}

// Replay queues the row id again as a new row (ReplayOf id), due now, to the
// subscription's current notification URL (lifecycle URL for a lifecycle
// notification); a rich one is encrypted at dispatch with the subscription's
// current certificate, under fresh validation tokens, as every row is.
// store.ErrNotFound if the row is gone; a graph error 400 if its subscription is.
func (p *Pipeline) Replay(ctx context.Context, id int64) (Delivery, error) {
	var row *store.Notification
	err := p.st.Update(ctx, func(tx store.Tx) error {
		n, err := tx.GetNotification(ctx, id)
		if err != nil {
			return err
		}
		row, err = p.replayRow(ctx, tx, n)
		if err != nil {
			return err
		}
		return tx.Enqueue(ctx, []*store.Notification{row})
	})
	if err != nil {
		return Delivery{}, err
	}
	return p.Delivery(ctx, row.ID)
}

// replayRow is the new row that repeats n.
func (p *Pipeline) replayRow(ctx context.Context, tx store.Tx, n store.Notification) (*store.Notification, error) {
	s, err := tx.GetSubscription(ctx, n.SubscriptionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !n.Lifecycle {
			return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest,
				"Notification %d cannot be replayed: its subscription %s no longer exists.", n.ID, n.SubscriptionID)
		}
	case err != nil:
		return nil, err
	case n.Lifecycle:
		if s.LifecycleURL != "" {
			n.URL = s.LifecycleURL
		}
	default:
		n.URL = s.NotificationURL
	}
	now := p.clock.Now()
	return &store.Notification{
		URL: n.URL, Tenant: n.Tenant, SubscriptionID: n.SubscriptionID, ResourceType: n.ResourceType,
		Lifecycle: n.Lifecycle, Event: n.Event, Resource: n.Resource, Payload: n.Payload, Rich: n.Rich,
		Seq: n.Seq, Created: now, ReplayOf: n.ID,
	}, nil
}

// maxReplay bounds one range replay.
const maxReplay = 1000

// ReplaySubscription queues again the change notifications of a subscription
// created in [since, until) (zero: unbounded), originals only, oldest first, at most
// 1000 (the newest). A graph error 404 if the subscription does not exist.
func (p *Pipeline) ReplaySubscription(ctx context.Context, subID string, since, until time.Time) ([]Delivery, error) {
	var rows []*store.Notification
	err := p.st.Update(ctx, func(tx store.Tx) error {
		rows = nil
		if _, err := tx.GetSubscription(ctx, subID); errors.Is(err, store.ErrNotFound) {
			return subscriptionNotFound(subID)
		} else if err != nil {
			return err
		}
		ns, err := tx.ListNotifications(ctx, store.DeliveryFilter{SubscriptionID: subID, Since: since, Until: until})
		if err != nil {
			return err
		}
		slices.Reverse(ns)
		for _, n := range ns {
			if n.Lifecycle || n.ReplayOf != 0 {
				continue
			}
			row, err := p.replayRow(ctx, tx, n)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		if len(rows) > maxReplay {
			rows = rows[len(rows)-maxReplay:]
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.Enqueue(ctx, rows)
	})
	if err != nil || len(rows) == 0 {
		return []Delivery{}, err
	}
	var out []Delivery
	err = p.st.View(ctx, func(tx store.Tx) error {
		ns := make([]store.Notification, len(rows))
		for i, r := range rows {
			ns[i] = *r
		}
		var err error
		out, err = p.describe(ctx, tx, ns)
		return err
	})
	return out, err
}

func subscriptionNotFound(id string) error {
	return graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, "Subscription '%s' does not exist.", id)
}

// SendLifecycle queues a lifecycle notification of the given event for a
// subscription now, as graphhook would send it by itself; subscriptionRemoved also
// removes the subscription (and discards its queued notifications). Graph errors:
// 404 when the subscription does not exist, 400 when it has no
// lifecycleNotificationUrl or its resource does not get that event.
func (p *Pipeline) SendLifecycle(ctx context.Context, subID, event string) error {
	switch event {
	case graph.LifecycleReauthorizationRequired, graph.LifecycleSubscriptionRemoved, graph.LifecycleMissed:
	default:
		return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest,
			"Invalid lifecycle event '%s': use reauthorizationRequired, subscriptionRemoved or missed.", event)
	}
	return p.st.Update(ctx, func(tx store.Tx) error {
		s, err := tx.GetSubscription(ctx, subID)
		if errors.Is(err, store.ErrNotFound) {
			return subscriptionNotFound(subID)
		}
		if err != nil {
			return err
		}
		if s.LifecycleURL == "" {
			return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest,
				"Subscription '%s' has no lifecycleNotificationUrl, so it gets no lifecycle notifications.", subID)
		}
		if !p.supports(&s, event) {
			return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest,
				"Subscriptions on %s do not get %s notifications.", s.ResourceType, event)
		}
		row := lifecycleRow(&s, event, p.clock.Now())
		if event == graph.LifecycleSubscriptionRemoved {
			if row, err = p.removeSubscription(ctx, tx, &s, "removed on the admin API's request"); err != nil {
				return err
			}
		}
		tx.AfterCommit(p.metrics.lifecycle.WithLabelValues(event).Inc)
		return tx.Enqueue(ctx, []*store.Notification{row})
	})
}

// AddFault stores a fault (its ID and Created set by the caller) and has this
// node's dispatcher see it at once. store.ErrConflict if the id exists.
func (p *Pipeline) AddFault(ctx context.Context, f store.Fault) error {
	return p.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertFault(ctx, f); err != nil {
			return err
		}
		return p.refreshFaults(ctx, tx)
	})
}

// Faults returns the stored faults, oldest first.
func (p *Pipeline) Faults(ctx context.Context) ([]store.Fault, error) {
	var out []store.Fault
	err := p.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.Faults(ctx)
		return err
	})
	return out, err
}

// DeleteFault removes a fault. store.ErrNotFound if absent.
func (p *Pipeline) DeleteFault(ctx context.Context, id string) error {
	return p.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteFault(ctx, id); err != nil {
			return err
		}
		return p.refreshFaults(ctx, tx)
	})
}
