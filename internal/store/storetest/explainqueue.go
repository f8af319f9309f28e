package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// QueueExplainer returns a backend's plans for the queue's statements that must
// read an index, by name: "claim", "rescue", "rescue lapsed" and "prune
// heartbeats".
type QueueExplainer func(ctx context.Context) (map[string]string, error)

// RunExplainQueue fills s's queue as a server that has run a while leaves it (most
// rows delivered and kept for the delivery log, a few waiting, a few in flight on
// two nodes) and checks, from the backend's own plans, that a claim reads the due
// index and that the rescuer and the heartbeats' prune read the index of in-flight
// rows: none of them may read the delivered rows. analyze, when set, refreshes the
// planner's statistics after the load.
func RunExplainQueue(t *testing.T, s store.Store, explain QueueExplainer, analyze func(ctx context.Context) error) {
	ctx := context.Background()
	now := time.Now()
	const urls, perURL = 4, 1500
	update(t, s, func(tx store.Tx) error {
		for u := range urls {
			rows := make([]*store.Notification, perURL)
			for i := range rows {
				rows[i] = &store.Notification{URL: fmt.Sprintf("https://example.com/%d", u), Tenant: "t", SubscriptionID: fmt.Sprintf("s%d", i%10),
					Event: "created", Resource: "users/u/messages/m", Payload: []byte(`"resourceData":{}`), Created: now}
			}
			if err := tx.Enqueue(ctx, rows); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		for u := range urls {
			url := fmt.Sprintf("https://example.com/%d", u)
			done, err := tx.ClaimNotifications(ctx, url, "a", now, now, perURL-40)
			if err != nil {
				return err
			}
			ids := make([]int64, len(done))
			for i, n := range done {
				ids[i] = n.ID
			}
			if _, err := tx.MarkDelivered(ctx, ids, now); err != nil {
				return err
			}
			// Of the 40 left, 20 are in flight, half on each node.
			for _, node := range []string{"a", "b"} {
				if _, err := tx.ClaimNotifications(ctx, url, node, now, now, 10); err != nil {
					return err
				}
			}
		}
		for _, node := range []string{"a", "b"} {
			if err := tx.Heartbeat(ctx, node, now); err != nil {
				return err
			}
		}
		return nil
	})
	refreshStatistics(t, analyze)
	plans, err := explain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, index := range map[string]string{
		"claim":            "notifications_due",
		"rescue":           "notifications_running",
		"rescue lapsed":    "notifications_running",
		"prune heartbeats": "notifications_running",
	} {
		plan, ok := plans[name]
		if !ok {
			t.Errorf("no plan for %s", name)
			continue
		}
		if !strings.Contains(plan, index) {
			t.Errorf("%s: the plan does not read %s:\n%s", name, index, plan)
		}
	}
}
