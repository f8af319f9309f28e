package delivery_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
)

// TestDeleteDiscardsQueuedRows: deleting a subscription through the API, or its
// expiry, discards its waiting rows (on both its URLs) in the same transaction;
// another subscription's rows on the same URL stay.
func TestDeleteDiscardsQueuedRows(t *testing.T) {
	cfg := testConfig()
	cfg.Retry = delivery.RetryPolicy{Base: time.Hour, Max: time.Hour} // failed rows wait, retryable
	h := setup(t, cfg)
	app := h.AppToken()
	r := newReceiver(t)
	r.setAnswer(func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	life := newReceiver(t)
	expiry := h.Clock.Now().Add(50 * time.Minute)
	body := func(changeType string) map[string]any {
		return map[string]any{"changeType": changeType, "notificationUrl": r.URL, "lifecycleNotificationUrl": life.URL,
			"resource": "/users/" + testserver.Adele + "/messages", "expirationDateTime": graph.FormatTime(expiry)}
	}
	a := h.subscribe(t, app, body("created"))
	h.subscribe(t, app, body("created,updated")) // not a duplicate of a
	if resp := h.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages", app, map[string]any{"subject": "Hi"}); resp.Status != http.StatusCreated {
		t.Fatalf("POST message = %s, want 201", resp)
	}
	h.waitState(t, map[store.NotificationState]int{store.NotificationRetryable: 2})
	// A lifecycle row of a waiting on its lifecycle URL, not due for an hour.
	now := h.Clock.Now()
	err := h.Store.Update(context.Background(), func(tx store.Tx) error {
		return tx.Enqueue(context.Background(), []*store.Notification{{URL: life.URL, Tenant: testserver.Tenant, SubscriptionID: a,
			ResourceType: "message", Lifecycle: true, Event: graph.LifecycleReauthorizationRequired, Payload: []byte(`{}`),
			Created: now, Scheduled: now.Add(time.Hour)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	discarded := metricValue(t, h, "graphhook_delivery_notifications_total", "outcome", "discarded")

	if resp := h.Do("DELETE", "/v1.0/subscriptions/"+a, app, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("DELETE subscription = %s, want 204", resp)
	}
	if got := h.counts(t); got[store.NotificationDiscarded] != 2 || got[store.NotificationRetryable] != 1 || len(got) != 2 {
		t.Errorf("queue after DELETE = %v, want 2 discarded (a's change and lifecycle rows) and 1 retryable (b's)", got)
	}
	if got := metricValue(t, h, "graphhook_delivery_notifications_total", "outcome", "discarded"); got != discarded+2 {
		t.Errorf("notifications_total{outcome=discarded} = %v, want %v", got, discarded+2)
	}

	// b expires; the sweeper deletes it and its row with it.
	h.Clock.Advance(55 * time.Minute) // past the expiry, not yet at the retry
	if n, err := h.Subs.Sweeper().Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("Sweep() = %d, %v; want 1 expired subscription", n, err)
	}
	if got := h.counts(t); got[store.NotificationDiscarded] != 3 || len(got) != 1 {
		t.Errorf("queue after expiry = %v, want 3 discarded", got)
	}
	for id := int64(1); id <= 3; id++ {
		if row := h.row(t, id); row.Error != "subscription deleted" {
			t.Errorf("row %d: error %q, want %q", id, row.Error, "subscription deleted")
		}
	}
	if n := life.postCount(); n != 0 {
		t.Errorf("lifecycle receiver got %d POSTs, want 0", n)
	}
}

// waitState waits until the queue holds exactly want (deadline 10 s).
func (h *harness) waitState(t *testing.T, want map[store.NotificationState]int) {
	t.Helper()
	var got map[store.NotificationState]int
	same := func() bool {
		got = h.counts(t)
		same := len(got) == len(want)
		for k, v := range want {
			same = same && got[k] == v
		}
		return same
	}
	if !h.until(same) {
		t.Fatalf("queue = %v, want %v", got, want)
	}
}
