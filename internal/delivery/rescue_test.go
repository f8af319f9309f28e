package delivery_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
)

// TestRescueOnStart: with RescueOnStart (the embedded store's single node), the
// dispatcher's start takes back a row that an earlier process left running, which
// is then delivered; and the rows this dispatcher has claimed and is posting stay
// its own when the other services start again (as a new term of leadership starts
// them): started after the dispatcher, the rescuer's start used to take them back,
// and they were posted a second time.
func TestRescueOnStart(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.RescueOnStart = true
	h, r, release := heldEndpoint(t, cfg)
	createMessages(t, h, 1)
	if !h.until(func() bool { return r.postCount() == 1 }) {
		t.Fatal("the first notification was not posted")
	}
	ctx := context.Background()
	for _, s := range h.P.LeaderServices() {
		s.Stop()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	page := h.deliveries(t, "")
	if len(page.Value) != 1 || page.Value[0].State != "running" || page.Value[0].Attempt != 1 {
		t.Fatalf("while its POST is held, the row is %+v; want the one row running at attempt 1", page.Value)
	}
	release()
	first := h.waitDelivery(t, page.Value[0].ID, "delivered")
	if first.Attempt != 1 || r.postCount() != 1 {
		t.Errorf("delivered at attempt %d in %d POSTs, want 1 and 1", first.Attempt, r.postCount())
	}

	// A row left running by an earlier process: the dispatcher is stopped, and the
	// row is claimed as that process's dispatcher would have.
	h.P.Dispatcher().Stop()
	createMessages(t, h, 1)
	var claimed []store.Notification
	err := h.Store.Update(ctx, func(tx store.Tx) error {
		now := h.Clock.Now()
		var err error
		claimed, err = tx.ClaimNotifications(ctx, r.URL, "", now, now, 10)
		return err
	})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim as an earlier process: %d rows, %v; want 1", len(claimed), err)
	}
	if err := h.P.Dispatcher().Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !h.until(func() bool { return r.postCount() == 2 }) {
		t.Fatalf("the row an earlier process left running was not delivered: %+v", h.deliveries(t, "?state=running").Value)
	}
	var left deliveryJSON
	for _, d := range h.deliveries(t, "").Value {
		if d.ID != first.ID {
			left = h.waitDelivery(t, d.ID, "delivered")
		}
	}
	if left.Attempt != 2 || len(left.Attempts) != 1 || left.Attempts[0].Number != 2 {
		t.Errorf("the rescued row: attempt %d, attempts %+v; want attempt 2, posted once", left.Attempt, left.Attempts)
	}
	r.mu.Lock()
	got := r.posts[1].header.Get("X-Graphhook-Attempt")
	r.mu.Unlock()
	if got != "2" {
		t.Errorf("the rescued row's POST carried attempt %q, want 2", got)
	}
}
