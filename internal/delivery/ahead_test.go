package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
)

// heldEndpoint starts a harness with cfg whose URLs have one slot and one
// notification per POST, subscribed to Adele's messages, and a receiver whose first
// POST waits until the returned function is called (within the POST's timeout,
// 30 s); later POSTs are answered at once.
func heldEndpoint(t *testing.T, cfg delivery.Config) (*harness, *receiver, func()) {
	t.Helper()
	cfg.PerURL, cfg.BatchSize = 1, 1
	cfg.Timeout, cfg.RetryTimeout = 30*time.Second, 30*time.Second
	h := setup(t, cfg)
	hold := make(chan struct{})
	r := newReceiver(t)
	r.answer = func(n int, w http.ResponseWriter) {
		if n == 1 {
			<-hold
		}
		w.WriteHeader(http.StatusAccepted)
	}
	released := false
	release := func() {
		if !released {
			released = true
			close(hold)
		}
	}
	t.Cleanup(release)
	h.subscribe(t, h.AppToken(), map[string]any{"changeType": "created", "notificationUrl": r.URL, "resource": "users/" + testserver.Adele + "/messages"})
	return h, r, release
}

// createMessages creates n messages in Adele's mailbox through the Graph API and
// returns their subjects in creation order.
func createMessages(t *testing.T, h *harness, n int) []string {
	t.Helper()
	app := h.AppToken()
	var subjects []string
	for i := range n {
		subject := fmt.Sprintf("ahead %d", i)
		if resp := h.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages", app, map[string]any{"subject": subject}); resp.Status != http.StatusCreated {
			t.Fatalf("POST message %d = %s", i, resp)
		}
		subjects = append(subjects, subject)
	}
	return subjects
}

// TestClaimAhead: while the URL's one slot is busy with a POST that does not end,
// the dispatcher claims the next batches and holds them until the slot is free,
// instead of waiting for the slot before it claims, up to eight batches waiting (2×4
// tickets per slot); only one POST is in flight at a time, and the notifications
// arrive in the order of their changes. Claims sized by the free slots would leave
// one row running here; unbounded ones, all ten.
func TestClaimAhead(t *testing.T) {
	t.Parallel()
	h, r, release := heldEndpoint(t, testConfig())
	ids := createMessages(t, h, 10)
	want := map[store.NotificationState]int{store.NotificationRunning: 9, store.NotificationAvailable: 1}
	if !h.until(func() bool { return fmt.Sprint(h.counts(t)) == fmt.Sprint(want) }) {
		t.Fatalf("queue while the first POST is held = %v, want %v (1 posting, 8 claimed ahead)", h.counts(t), want)
	}
	if n := r.postCount(); n != 1 {
		t.Fatalf("POSTs in flight to a URL with one slot = %d, want 1", n)
	}
	release()
	items := r.waitItems(t, 10)
	h.settle(t)
	if len(items) != 10 {
		t.Fatalf("received %d items, want 10", len(items))
	}
	// Each item names the message it is about; the order of the items is the order
	// the messages were created in.
	var got []string
	app := h.AppToken()
	for _, it := range items {
		rd, _ := it["resourceData"].(map[string]any)
		id, _ := rd["id"].(string)
		resp := h.Do("GET", "/v1.0/users/"+testserver.Adele+"/messages/"+id, app, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("GET message %s = %s", id, resp)
		}
		got = append(got, resp.JSON()["subject"].(string))
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("notifications arrived for %v, want %v (the order of the changes)", got, ids)
	}
}

// TestClaimedAheadReleasedOnStop: batches claimed ahead and still waiting for the
// slot when the dispatcher stops go back to available, with the attempt their
// claim counted taken back; the POST in flight runs to its end and is recorded.
// A new dispatcher then delivers them.
func TestClaimedAheadReleasedOnStop(t *testing.T) {
	t.Parallel()
	h, r, release := heldEndpoint(t, testConfig())
	createMessages(t, h, 6)
	if !h.until(func() bool { return h.counts(t)[store.NotificationRunning] == 6 }) {
		t.Fatalf("queue while the first POST is held = %v, want 6 running", h.counts(t))
	}
	d := h.P.Dispatcher()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		d.Stop()
	}()
	// Stop waits for the POST in flight; the batches behind it give their rows back
	// meanwhile.
	if !h.until(func() bool { return h.counts(t)[store.NotificationRunning] == 1 }) {
		t.Fatalf("queue after Stop with the POST still held = %v, want 1 running", h.counts(t))
	}
	release()
	<-stopped
	c := h.counts(t)
	if c[store.NotificationDelivered] != 1 || c[store.NotificationAvailable] != 5 || c[store.NotificationRunning] != 0 {
		t.Fatalf("queue after Stop = %v, want 1 delivered and 5 available", c)
	}
	var rows []store.Notification
	if err := h.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		rows, err = tx.NotificationsAfter(context.Background(), 0, 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, n := range rows {
		if n.State == store.NotificationAvailable && n.Attempt != 0 {
			t.Errorf("row %d given back with attempt %d, want 0 (it was never tried)", n.ID, n.Attempt)
		}
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.waitItems(t, 6)
	h.settle(t)
}
