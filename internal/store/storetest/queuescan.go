package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// testQueueScan: the rows enqueued after LastNotificationID are what
// NotificationsAfter returns, in id order, whatever their state, within its limit.
func testQueueScan(t *testing.T, s store.Store) {
	ctx := context.Background()
	var before int64
	view(t, s, func(tx store.Tx) error {
		var err error
		before, err = tx.LastNotificationID(ctx)
		return err
	})
	if before != 0 {
		t.Fatalf("LastNotificationID() on an empty queue = %d, want 0", before)
	}
	enqueue(t, s, sampleNotification("https://a.test/scan", 0))
	var mark int64
	view(t, s, func(tx store.Tx) error {
		var err error
		mark, err = tx.LastNotificationID(ctx)
		return err
	})
	later := []*store.Notification{sampleNotification("https://a.test/scan", 1), sampleNotification("https://b.test/scan", 2), sampleNotification("https://a.test/scan", 3)}
	later[1].Seq = 8
	enqueue(t, s, later...)
	claim(t, s, "https://b.test/scan", queueBase.Add(10), 10)
	want := []int64{later[0].ID, later[1].ID, later[2].ID}
	if mark == 0 || mark >= want[0] {
		t.Fatalf("LastNotificationID() = %d after the first row, want it below the later rows' %v", mark, want)
	}
	var got, capped []store.Notification
	var last int64
	view(t, s, func(tx store.Tx) error {
		var err error
		if got, err = tx.NotificationsAfter(ctx, mark, 0); err != nil {
			return err
		}
		if capped, err = tx.NotificationsAfter(ctx, mark, 2); err != nil {
			return err
		}
		last, err = tx.LastNotificationID(ctx)
		return err
	})
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("NotificationsAfter(%d, 0) ids (-want +got):\n%s", mark, diff)
	}
	if diff := cmp.Diff(want[:2], ids(capped)); diff != "" {
		t.Errorf("NotificationsAfter(%d, 2) ids (-want +got):\n%s", mark, diff)
	}
	if last != want[2] {
		t.Errorf("LastNotificationID() = %d, want %d", last, want[2])
	}
	if len(got) == 3 && (got[1].Seq != 8 || got[1].State != store.NotificationRunning || got[0].State != store.NotificationAvailable || got[0].SubscriptionID != "s1") {
		t.Errorf("NotificationsAfter rows = %+v, want the enqueued rows with their seq and states", got)
	}
}
