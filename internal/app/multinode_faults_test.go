package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/wait"
)

// TestFaultsSharedAcrossNodes injects a fault through one node's admin API and
// expects it applied wherever the notification is dispatched, its count charged
// once per POST in the shared database: three injected attempts, then the real one,
// all in the delivery log that either node shows.
func TestFaultsSharedAcrossNodes(t *testing.T) {
	db := pgtest.URL(t)
	start := func() *app.Main {
		t.Helper()
		m := app.New(app.Config{Addr: "127.0.0.1:0", Database: db, PublicURL: "http://graphhook.test", LogLevel: "warn", LeaseTTL: time.Second,
			Delivery: delivery.Config{Retry: delivery.RetryPolicy{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond}, PollInterval: 20 * time.Millisecond}},
			io.Discard, io.Discard)
		if err := m.Run(context.Background()); err != nil {
			m.Close()
			t.Fatalf("Run: %v", err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	a, b := start(), start()
	tok := appToken(t, a.URL)
	recv := newNotificationReceiver(t)
	sub := call(t, a.URL, tok, "POST", "/v1.0/subscriptions", map[string]any{
		"changeType": "created", "notificationUrl": recv.url + "/hook", "clientState": "faults",
		"resource": "/users/" + demoAdele + "/messages", "expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
	}, http.StatusCreated)
	subID := sub["id"].(string)
	call(t, b.URL, b.Config.AdminKey, "POST", "/_graphhook/faults", map[string]any{
		"url": recv.url + "/hook", "mode": "status", "statusCode": 503, "count": 3}, http.StatusCreated)
	call(t, a.URL, tok, "POST", "/v1.0/users/"+demoAdele+"/messages", map[string]any{"subject": "through a fault"}, http.StatusCreated)

	var attempts []any
	delivered := wait.Poll(30*time.Second, func() bool {
		log := call(t, a.URL, a.Config.AdminKey, "GET", "/_graphhook/deliveries?subscriptionId="+subID, nil, http.StatusOK)
		rows, _ := log["value"].([]any)
		if len(rows) != 1 {
			return false
		}
		row := rows[0].(map[string]any)
		attempts, _ = row["attempts"].([]any)
		return row["state"] == "delivered"
	})
	if !delivered {
		t.Fatalf("notification not delivered; attempts %v", attempts)
	}
	if len(attempts) != 4 {
		t.Fatalf("attempts = %v, want 3 injected and 1 real", attempts)
	}
	for i, x := range attempts {
		at := x.(map[string]any)
		if injected := at["injected"] == true; injected != (i < 3) {
			t.Errorf("attempt %d = %v, want injected %v", i+1, at, i < 3)
		}
	}
	recv.mu.Lock()
	posts := 0
	for _, n := range recv.got {
		posts += n
	}
	recv.mu.Unlock()
	if posts != 1 {
		t.Errorf("POSTs that reached the receiver = %d, want 1 (the injected ones are not made)", posts)
	}
}
