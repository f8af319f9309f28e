package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// testQueueBatches drives the queue the way a busy dispatcher does: one change's
// rows enqueued in one call, claims and acknowledgements of hundreds of rows, more
// than one statement's worth (chunks of INSERT rows and of IN lists), with rows
// that moved on mixed in.
func testQueueBatches(t *testing.T, s store.Store) {
	ctx := context.Background()
	const url, n = "https://batch.test/hook", 1000
	var ns []*store.Notification
	for i := range n {
		r := sampleNotification(url, time.Duration(i)*time.Millisecond)
		r.SubscriptionID = fmt.Sprintf("s%03d", i%100)
		r.Payload = fmt.Appendf(nil, `{"id":"m%d"}`, i)
		r.Seq = int64(i)
		ns = append(ns, r)
	}
	enqueue(t, s, ns...)
	for i, r := range ns {
		if r.ID <= 0 || (i > 0 && r.ID <= ns[i-1].ID) || r.State != store.NotificationAvailable || r.Scheduled != r.Created {
			t.Fatalf("Enqueue of %d rows: row %d has ID %d, state %q, scheduled %v; want increasing ids, available, scheduled at creation",
				n, i, r.ID, r.State, r.Scheduled)
		}
	}
	// Every row reads back as it went in, whichever INSERT chunk it was in.
	view(t, s, func(tx store.Tx) error {
		for _, i := range []int{0, 127, 128, 500, n - 1} {
			got, err := tx.GetNotification(ctx, ns[i].ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(*ns[i], got); diff != "" {
				t.Errorf("GetNotification(row %d) (-want +got):\n%s", i, diff)
			}
		}
		return nil
	})

	// One claim of more rows than one IN list holds.
	now := queueBase.Add(time.Hour)
	var got []store.Notification
	update(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.ClaimNotifications(ctx, url, "node-a", now, now, 700)
		return err
	})
	if len(got) != 700 {
		t.Fatalf("ClaimNotifications(limit 700) = %d rows, want 700", len(got))
	}
	for i, g := range got {
		want := *ns[i]
		want.State, want.Attempt, want.Claimed, want.Node = store.NotificationRunning, 1, now, "node-a"
		if diff := cmp.Diff(want, g); diff != "" {
			t.Fatalf("claimed row %d (-want +got):\n%s", i, diff)
		}
	}
	view(t, s, func(tx store.Tx) error {
		counts, err := tx.CountNotifications(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(map[store.NotificationState]int{store.NotificationRunning: 700, store.NotificationAvailable: 300}, counts); diff != "" {
			t.Errorf("CountNotifications after the claim (-want +got):\n%s", diff)
		}
		return nil
	})

	// The outcomes of many POSTs: rows 0–399 failed (each due at its own time),
	// 400–699 were delivered. Rows already moved on, and rows never claimed, are
	// left alone and not counted.
	var retries []store.Retry
	for i := range 400 {
		retries = append(retries, store.Retry{ID: got[i].ID, Scheduled: now.Add(time.Duration(i+1) * time.Second)})
	}
	var delivered []int64
	for i := 400; i < 700; i++ {
		delivered = append(delivered, got[i].ID)
	}
	var moved, done, stale, unclaimed int
	update(t, s, func(tx store.Tx) error {
		var err error
		if moved, err = tx.RetryNotifications(ctx, retries, "HTTP 500"); err != nil {
			return err
		}
		// The same ids again (a late duplicate) and ones never claimed.
		if stale, err = tx.RetryNotifications(ctx, retries[:10], "late"); err != nil {
			return err
		}
		if unclaimed, err = tx.RetryNotifications(ctx, []store.Retry{{ID: ns[900].ID, Scheduled: now}}, "never claimed"); err != nil {
			return err
		}
		done, err = tx.MarkDelivered(ctx, append(delivered, retries[0].ID, ns[999].ID), now)
		return err
	})
	if moved != 400 || stale != 0 || unclaimed != 0 || done != 300 {
		t.Errorf("RetryNotifications = %d, again = %d, unclaimed = %d; MarkDelivered = %d; want 400, 0, 0, 300", moved, stale, unclaimed, done)
	}
	view(t, s, func(tx store.Tx) error {
		for _, i := range []int{0, 1, 255, 256, 399} {
			r, err := tx.GetNotification(ctx, got[i].ID)
			if err != nil {
				return err
			}
			if r.State != store.NotificationRetryable || !r.Scheduled.Equal(retries[i].Scheduled) || r.Error != "HTTP 500" {
				t.Errorf("retried row %d: state %q, scheduled %v, error %q; want retryable, %v, %q",
					i, r.State, r.Scheduled, r.Error, retries[i].Scheduled, "HTTP 500")
			}
		}
		r, err := tx.GetNotification(ctx, ns[900].ID)
		if err != nil {
			return err
		}
		if r.State != store.NotificationAvailable || r.Error != "" {
			t.Errorf("unclaimed row after RetryNotifications: state %q, error %q; want available, no error", r.State, r.Error)
		}
		counts, err := tx.CountNotifications(ctx)
		if err != nil {
			return err
		}
		want := map[store.NotificationState]int{store.NotificationRetryable: 400, store.NotificationDelivered: 300, store.NotificationAvailable: 300}
		if diff := cmp.Diff(want, counts); diff != "" {
			t.Errorf("CountNotifications after the outcomes (-want +got):\n%s", diff)
		}
		return nil
	})
	// Retries come back in the order they fall due, interleaved with the rows
	// waiting since before.
	got = claim(t, s, url, now.Add(2*time.Second), 1000)
	if len(got) != 302 {
		t.Errorf("claim at +2 s = %d rows, want the 300 never claimed and the 2 retries due", len(got))
	}
}

// testSubscriptionVersions: the versions of many subscriptions in one call; a
// missing one is absent.
func testSubscriptionVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := range 600 {
			sub := sampleSub(fmt.Sprintf("v%03d", i))
			if err := tx.InsertSubscription(ctx, &sub); err != nil {
				return err
			}
			ids = append(ids, sub.ID)
		}
		sub, err := tx.GetSubscription(ctx, "v007")
		if err != nil {
			return err
		}
		sub.ClientState = "changed"
		return tx.UpdateSubscription(ctx, &sub)
	})
	var got map[string]int64
	view(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.SubscriptionVersions(ctx, append(ids, "missing"))
		return err
	})
	want := map[string]int64{}
	for _, id := range ids {
		want[id] = 1
	}
	want["v007"] = 2
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SubscriptionVersions (-want +got):\n%s", diff)
	}
	view(t, s, func(tx store.Tx) error {
		none, err := tx.SubscriptionVersions(ctx, nil)
		if err != nil || len(none) != 0 {
			t.Errorf("SubscriptionVersions(none) = %v, %v; want empty", none, err)
		}
		return nil
	})
}

// testQueueRuns: an Enqueue whose rows come in runs that differ only in their
// subscription (a change matched by many subscriptions of one URL), of every length
// around the backends' grouping (shorter than a group, just long enough, longer
// than a multi-row INSERT), between rows that differ otherwise, gives every row an
// id increasing along the slice, and every row reads back as it went in.
func testQueueRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	const url = "https://runs.test/hook"
	var ns []*store.Notification
	seq := int64(0)
	// run appends n rows that differ only in their subscription; edit, when set,
	// changes the first row of the run before it is copied.
	run := func(n int, edit func(r *store.Notification)) {
		seq++
		first := sampleNotification(url, time.Duration(seq)*time.Millisecond)
		first.Seq, first.Payload = seq, fmt.Appendf(nil, `{"id":"m%d"}`, seq)
		if edit != nil {
			edit(first)
		}
		for i := range n {
			r := *first
			r.SubscriptionID = fmt.Sprintf("s%d-%03d", seq, i)
			ns = append(ns, &r)
		}
	}
	for range 3 {
		run(1, nil)
	}
	run(3, nil)
	run(4, nil)
	run(300, nil)
	run(5, func(r *store.Notification) { r.Rich = []byte(`{"id":"m"}`) })
	run(5, func(r *store.Notification) {
		r.Lifecycle, r.Event, r.Resource, r.Payload = true, "missed", "", []byte{}
	})
	run(6, func(r *store.Notification) { r.Scheduled = r.Created.Add(time.Minute) })
	for range 130 {
		run(1, nil)
	}
	run(4, func(r *store.Notification) { r.URL = url + "/other" })
	run(2, nil)
	// Rows of one change that differ in their payload alone must not be merged.
	run(4, nil)
	ns[len(ns)-1].Payload = []byte(`{"id":"other"}`)
	enqueue(t, s, ns...)
	for i, r := range ns {
		if r.ID <= 0 || (i > 0 && r.ID <= ns[i-1].ID) || r.State != store.NotificationAvailable || r.Scheduled.IsZero() {
			t.Fatalf("Enqueue of %d rows: row %d has ID %d, state %q, scheduled %v; want increasing ids, available, scheduled",
				len(ns), i, r.ID, r.State, r.Scheduled)
		}
	}
	view(t, s, func(tx store.Tx) error {
		for i, r := range ns {
			got, err := tx.GetNotification(ctx, r.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(*r, got); diff != "" {
				t.Fatalf("GetNotification(row %d) (-want +got):\n%s", i, diff)
			}
		}
		return nil
	})
}
