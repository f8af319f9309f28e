package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
)

// TestTakeoverOnPostgres: on a shared database a node beats under its lease name
// from the moment Run returns, and its leader's rescuer takes back the row of a node
// whose heartbeat lapsed as soon as the server's clock (moved forward here, not
// waited for) passes the lease TTL, while the row its own node holds stays in
// flight.
func TestTakeoverOnPostgres(t *testing.T) {
	db := pgtest.URL(t)
	const ttl = 30 * time.Second
	// A short rescuer interval, so that a pass follows the clock's move at once.
	m := start(t, app.Config{Database: db, LeaseTTL: ttl, Delivery: delivery.Config{RescueInterval: 20 * time.Millisecond}})
	ctx := context.Background()
	self := m.Leader.Node()
	if err := m.Store.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetHeartbeat(ctx, self)
		return err
	}); err != nil {
		t.Fatalf("GetHeartbeat(%s) right after Run = %v, want the node's first beat", self, err)
	}

	// "ghost" beat, claimed a row and was killed; this node holds a row in flight.
	now := m.Clock.Now()
	rows := map[string]int64{}
	err := m.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Heartbeat(ctx, "ghost", now); err != nil {
			return err
		}
		for _, node := range []string{"ghost", self} {
			url := "http://127.0.0.1:9/" + node
			n := &store.Notification{URL: url, Tenant: demoTenant, SubscriptionID: "gone", Event: "created", Payload: []byte(`{}`), Created: now}
			if err := tx.Enqueue(ctx, []*store.Notification{n}); err != nil {
				return err
			}
			got, err := tx.ClaimNotifications(ctx, url, node, now, now, 1)
			if err != nil {
				return err
			}
			if len(got) != 1 {
				return fmt.Errorf("claim as %s: %d rows, want 1", node, len(got))
			}
			rows[node] = got[0].ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	row := func(node string) store.Notification {
		t.Helper()
		var n store.Notification
		if err := m.Store.View(ctx, func(tx store.Tx) (err error) { n, err = tx.GetNotification(ctx, rows[node]); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}

	m.Clock.Advance(ttl + time.Second)
	eventually(t, 10*time.Second, "the ghost's row leaves running", func() bool {
		return row("ghost").State != store.NotificationRunning
	})
	if got := row(self); got.State != store.NotificationRunning || got.Node != self {
		t.Errorf("this node's row after the rescue: state %s, node %q; want running, %q", got.State, got.Node, self)
	}
}
