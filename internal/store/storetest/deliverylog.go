package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// testDeliveryLog pins the delivery log: replays keep the row they repeat, attempts
// are recorded and read back in order, filters select, paging walks newest first,
// and pruning takes a row's attempts with it.
func testDeliveryLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	a1 := sampleNotification("https://a.test/hook", 0)
	a2 := sampleNotification("https://a.test/hook", time.Minute)
	b1 := sampleNotification("https://b.test/hook", 2*time.Minute)
	b1.SubscriptionID = "s2"
	enqueue(t, s, a1, a2, b1)
	replay := sampleNotification("https://a.test/hook", 3*time.Minute)
	replay.ReplayOf = a1.ID
	enqueue(t, s, replay)

	got := claim(t, s, "https://a.test/hook", queueBase.Add(time.Hour), 1)
	if len(got) != 1 || got[0].ID != a1.ID {
		t.Fatalf("claim = %v, want row %d", ids(got), a1.ID)
	}
	started := queueBase.Add(time.Second)
	attempts := []store.Attempt{
		{NotificationID: a1.ID, Number: 2, Started: started.Add(time.Minute), StatusCode: 200, Latency: 12500 * time.Microsecond},
		{NotificationID: a1.ID, Number: 1, Started: started, Latency: 3 * time.Second, Error: "no response within 3s", Injected: true},
		{NotificationID: b1.ID, Number: 1, Started: started, StatusCode: 503, Latency: time.Millisecond, Error: "HTTP 503"},
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.RecordAttempts(ctx, attempts); err != nil {
			return err
		}
		_, err := tx.MarkDelivered(ctx, []int64{a1.ID}, queueBase.Add(2*time.Minute))
		return err
	})
	view(t, s, func(tx store.Tx) error {
		byRow, err := tx.Attempts(ctx, []int64{a1.ID, a2.ID, b1.ID})
		if err != nil {
			return err
		}
		want := map[int64][]store.Attempt{a1.ID: {attempts[1], attempts[0]}, b1.ID: {attempts[2]}}
		if diff := cmp.Diff(want, byRow); diff != "" {
			t.Errorf("Attempts (-want +got):\n%s", diff)
		}
		r, err := tx.GetNotification(ctx, replay.ID)
		if err != nil {
			return err
		}
		if r.ReplayOf != a1.ID {
			t.Errorf("GetNotification(replay).ReplayOf = %d, want %d", r.ReplayOf, a1.ID)
		}
		return nil
	})

	list := func(f store.DeliveryFilter) []int64 {
		t.Helper()
		var ns []store.Notification
		view(t, s, func(tx store.Tx) error {
			var err error
			ns, err = tx.ListNotifications(ctx, f)
			return err
		})
		return ids(ns)
	}
	for _, tc := range []struct {
		name string
		f    store.DeliveryFilter
		want []int64
	}{
		{"all", store.DeliveryFilter{}, []int64{replay.ID, b1.ID, a2.ID, a1.ID}},
		{"subscription", store.DeliveryFilter{SubscriptionID: "s2"}, []int64{b1.ID}},
		{"url", store.DeliveryFilter{URL: "https://a.test/hook"}, []int64{replay.ID, a2.ID, a1.ID}},
		{"state", store.DeliveryFilter{State: store.NotificationDelivered}, []int64{a1.ID}},
		{"since until", store.DeliveryFilter{Since: queueBase.Add(time.Minute), Until: queueBase.Add(3 * time.Minute)}, []int64{b1.ID, a2.ID}},
		{"page 1", store.DeliveryFilter{Limit: 2}, []int64{replay.ID, b1.ID}},
		{"page 2", store.DeliveryFilter{BeforeID: b1.ID, Limit: 2}, []int64{a2.ID, a1.ID}},
		{"none", store.DeliveryFilter{SubscriptionID: "nobody"}, []int64{}},
	} {
		if diff := cmp.Diff(tc.want, list(tc.f)); diff != "" {
			t.Errorf("ListNotifications(%s) (-want +got):\n%s", tc.name, diff)
		}
	}

	// Pruning the delivered row takes its attempts; the others keep theirs.
	update(t, s, func(tx store.Tx) error {
		n, err := tx.PruneNotifications(ctx, queueBase.Add(time.Hour), 10)
		if n != 1 {
			t.Errorf("PruneNotifications = %d, want 1", n)
		}
		return err
	})
	view(t, s, func(tx store.Tx) error {
		byRow, err := tx.Attempts(ctx, []int64{a1.ID, b1.ID})
		if err != nil {
			return err
		}
		if len(byRow[a1.ID]) != 0 || len(byRow[b1.ID]) != 1 {
			t.Errorf("Attempts after prune = %v, want none for the pruned row and 1 for the other", byRow)
		}
		return nil
	})
}

// testFaults pins the fault table: insert, list, use by count, delete, prune.
func testFaults(t *testing.T, s store.Store) {
	ctx := context.Background()
	byCount := store.Fault{ID: "f1", URL: "https://a.test/hook", Mode: store.FaultStatus, StatusCode: 503, Remaining: 2, Created: queueBase}
	byTime := store.Fault{ID: "f2", URL: "https://b.test/hook", Mode: store.FaultSlow, Delay: 2 * time.Second, Remaining: -1,
		Expires: queueBase.Add(5 * time.Minute), Created: queueBase.Add(time.Second)}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertFault(ctx, byCount); err != nil {
			return err
		}
		return tx.InsertFault(ctx, byTime)
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertFault(ctx, byCount) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("InsertFault(duplicate) = %v, want ErrConflict", err)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Faults(ctx)
		if diff := cmp.Diff([]store.Fault{byCount, byTime}, got); diff != "" {
			t.Errorf("Faults (-want +got):\n%s", diff)
		}
		return err
	})
	use := func(id string) bool {
		t.Helper()
		var ok bool
		update(t, s, func(tx store.Tx) error {
			var err error
			ok, err = tx.UseFault(ctx, id)
			return err
		})
		return ok
	}
	if got := []bool{use("f1"), use("f1"), use("f1"), use("f2")}; !cmp.Equal(got, []bool{true, true, false, true}) {
		t.Errorf("UseFault f1 ×3, f2 = %v, want [true true false true]", got)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { _, err := tx.UseFault(ctx, "nope"); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UseFault(absent) = %v, want ErrNotFound", err)
	}
	update(t, s, func(tx store.Tx) error {
		n, err := tx.PruneFaults(ctx, queueBase.Add(time.Minute))
		if n != 1 {
			t.Errorf("PruneFaults(spent f1) = %d, want 1", n)
		}
		return err
	})
	update(t, s, func(tx store.Tx) error {
		n, err := tx.PruneFaults(ctx, queueBase.Add(5*time.Minute))
		if n != 1 {
			t.Errorf("PruneFaults(expired f2) = %d, want 1", n)
		}
		return err
	})
	update(t, s, func(tx store.Tx) error { return tx.InsertFault(ctx, byTime) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteFault(ctx, "f2") })
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteFault(ctx, "f2") }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteFault(absent) = %v, want ErrNotFound", err)
	}
}
