package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

var queueBase = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func sampleNotification(url string, offset time.Duration) *store.Notification {
	return &store.Notification{
		URL: url, Tenant: "t", SubscriptionID: "s1", ResourceType: "message", Event: "created",
		Resource: "Users/u/Messages/m", Payload: []byte(`{"id":"m"}`), Seq: 7, Created: queueBase.Add(offset),
	}
}

func enqueue(t *testing.T, s store.Store, ns ...*store.Notification) {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.Enqueue(context.Background(), ns) })
}

func claim(t *testing.T, s store.Store, url string, due time.Time, limit int) []store.Notification {
	t.Helper()
	var got []store.Notification
	update(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.ClaimNotifications(context.Background(), url, "", due, due, limit)
		return err
	})
	return got
}

func ids(ns []store.Notification) []int64 {
	out := make([]int64, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

func testQueueEnqueueClaim(t *testing.T, s store.Store) {
	ctx := context.Background()
	// More rows than one INSERT chunk, to cover the chunking.
	var ns []*store.Notification
	for i := 0; i < 300; i++ {
		ns = append(ns, sampleNotification("https://a.test/hook", time.Duration(i)*time.Second))
	}
	rich := sampleNotification("https://b.test/hook", 0)
	rich.Rich = []byte(`{"body":"secret"}`)
	rich.Scheduled = queueBase.Add(time.Hour)
	ns = append(ns, rich)
	enqueue(t, s, ns...)
	for i, n := range ns {
		if n.ID <= 0 || (i > 0 && n.ID <= ns[i-1].ID) || n.State != store.NotificationAvailable {
			t.Fatalf("Enqueue: row %d has ID %d, state %q; want increasing ids, available", i, n.ID, n.State)
		}
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetNotification(ctx, rich.ID)
		if err != nil {
			return err
		}
		want := *rich
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetNotification (-want +got):\n%s", diff)
		}
		if _, err := tx.GetNotification(ctx, 1<<40); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetNotification(missing) = %v, want ErrNotFound", err)
		}
		due, err := tx.DueURLs(ctx, 0)
		if err != nil {
			return err
		}
		want2 := []store.DueURL{{URL: "https://a.test/hook", Next: queueBase}, {URL: "https://b.test/hook", Next: queueBase.Add(time.Hour)}}
		if diff := cmp.Diff(want2, due); diff != "" {
			t.Errorf("DueURLs (-want +got):\n%s", diff)
		}
		one, err := tx.DueURLs(ctx, 1)
		if err != nil || len(one) != 1 {
			t.Errorf("DueURLs(limit 1) = %v, %v; want 1 URL", one, err)
		}
		return nil
	})
	// Only rows due by the cutoff, oldest first, at most limit.
	got := claim(t, s, "https://a.test/hook", queueBase.Add(9*time.Second), 4)
	if diff := cmp.Diff([]int64{ns[0].ID, ns[1].ID, ns[2].ID, ns[3].ID}, ids(got)); diff != "" {
		t.Errorf("ClaimNotifications(limit 4) ids (-want +got):\n%s", diff)
	}
	for _, n := range got {
		if n.State != store.NotificationRunning || n.Attempt != 1 || !n.Claimed.Equal(queueBase.Add(9*time.Second)) {
			t.Errorf("claimed row %d: state %q attempt %d claimed %v; want running, 1, the claim time", n.ID, n.State, n.Attempt, n.Claimed)
		}
	}
	got = claim(t, s, "https://a.test/hook", queueBase.Add(9*time.Second), 100)
	if len(got) != 6 {
		t.Errorf("second ClaimNotifications = %d rows, want the 6 left due by the cutoff", len(got))
	}
	if got := claim(t, s, "https://b.test/hook", queueBase.Add(time.Hour-time.Nanosecond), 10); len(got) != 0 {
		t.Errorf("ClaimNotifications before the row is due = %d rows, want 0", len(got))
	}
	if got := claim(t, s, "https://nobody.test/", queueBase.Add(24*time.Hour), 10); len(got) != 0 {
		t.Errorf("ClaimNotifications(other URL) = %d rows, want 0", len(got))
	}
}

func testQueueGuardedStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	const url = "https://g.test/hook"
	var ns []*store.Notification
	for i := 0; i < 5; i++ {
		ns = append(ns, sampleNotification(url, 0))
	}
	enqueue(t, s, ns...)
	got := claim(t, s, url, queueBase, 10)
	if len(got) != 5 {
		t.Fatalf("ClaimNotifications = %d rows, want 5", len(got))
	}
	at := queueBase.Add(time.Second)
	mark := func(name string, fn func(tx store.Tx) (int, error), want int) {
		t.Helper()
		var n int
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = fn(tx)
			return err
		})
		if n != want {
			t.Errorf("%s moved %d rows, want %d", name, n, want)
		}
	}
	a, b, c, d, e := ns[0].ID, ns[1].ID, ns[2].ID, ns[3].ID, ns[4].ID
	mark("MarkDelivered", func(tx store.Tx) (int, error) { return tx.MarkDelivered(ctx, []int64{a}, at) }, 1)
	mark("MarkRetryable", func(tx store.Tx) (int, error) { return tx.MarkRetryable(ctx, []int64{b}, at.Add(time.Minute), "500") }, 1)
	mark("MarkDiscarded", func(tx store.Tx) (int, error) { return tx.MarkDiscarded(ctx, []int64{c}, at, "horizon") }, 1)
	mark("ReleaseNotifications", func(tx store.Tx) (int, error) { return tx.ReleaseNotifications(ctx, []int64{d}, at.Add(time.Hour)) }, 1)
	// Every state write is guarded by "running": a late worker touching rows that
	// moved on changes nothing.
	mark("MarkDelivered(stale)", func(tx store.Tx) (int, error) { return tx.MarkDelivered(ctx, []int64{a, b, c, d}, at) }, 0)
	mark("MarkRetryable(stale)", func(tx store.Tx) (int, error) { return tx.MarkRetryable(ctx, []int64{a, c}, at, "x") }, 0)
	mark("MarkDiscarded(stale)", func(tx store.Tx) (int, error) { return tx.MarkDiscarded(ctx, []int64{a, b, d}, at, "x") }, 0)
	mark("MarkDelivered(mixed)", func(tx store.Tx) (int, error) { return tx.MarkDelivered(ctx, []int64{a, e}, at) }, 1)
	want := map[int64]struct {
		state   store.NotificationState
		attempt int
		err     string
	}{
		a: {store.NotificationDelivered, 1, ""},
		b: {store.NotificationRetryable, 1, "500"},
		c: {store.NotificationDiscarded, 1, "horizon"},
		d: {store.NotificationAvailable, 0, ""},
		e: {store.NotificationDelivered, 1, ""},
	}
	view(t, s, func(tx store.Tx) error {
		for id, w := range want {
			n, err := tx.GetNotification(ctx, id)
			if err != nil {
				return err
			}
			if n.State != w.state || n.Attempt != w.attempt || n.Error != w.err {
				t.Errorf("row %d: state %q attempt %d error %q; want %q %d %q", id, n.State, n.Attempt, n.Error, w.state, w.attempt, w.err)
			}
			if (w.state == store.NotificationDelivered || w.state == store.NotificationDiscarded) && !n.Finished.Equal(at) {
				t.Errorf("row %d: Finished = %v, want %v", id, n.Finished, at)
			}
		}
		counts, err := tx.CountNotifications(ctx)
		if err != nil {
			return err
		}
		wantCounts := map[store.NotificationState]int{store.NotificationDelivered: 2, store.NotificationRetryable: 1, store.NotificationDiscarded: 1, store.NotificationAvailable: 1}
		if diff := cmp.Diff(wantCounts, counts); diff != "" {
			t.Errorf("CountNotifications (-want +got):\n%s", diff)
		}
		return nil
	})
	// The retryable row is claimable again once due, with its attempt counted.
	if got := claim(t, s, url, at.Add(time.Minute-time.Nanosecond), 10); len(got) != 0 {
		t.Errorf("claim before the retry is due = %v, want none", ids(got))
	}
	got = claim(t, s, url, at.Add(time.Minute), 10)
	if len(got) != 1 || got[0].ID != b || got[0].Attempt != 2 {
		t.Errorf("claim of the due retry = %+v, want row %d at attempt 2", got, b)
	}
}

func testQueueConcurrentClaims(t *testing.T, s store.Store) {
	const url, rows, workers = "https://c.test/hook", 200, 8
	var ns []*store.Notification
	for i := 0; i < rows; i++ {
		ns = append(ns, sampleNotification(url, 0))
	}
	enqueue(t, s, ns...)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var got []store.Notification
				err := s.Update(context.Background(), func(tx store.Tx) error {
					var err error
					got, err = tx.ClaimNotifications(context.Background(), url, "", queueBase, queueBase, 7)
					return err
				})
				if err != nil {
					t.Errorf("ClaimNotifications: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, n := range got {
					seen[n.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != rows {
		t.Errorf("concurrent claims got %d distinct rows, want %d", len(seen), rows)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("row %d claimed %d times, want once", id, n)
		}
	}
}

func testQueueRescuePrune(t *testing.T, s store.Store) {
	ctx := context.Background()
	const url = "https://r.test/hook"
	ns := []*store.Notification{sampleNotification(url, 0), sampleNotification(url, 0), sampleNotification(url, 0)}
	enqueue(t, s, ns...)
	var early, late []store.Notification
	update(t, s, func(tx store.Tx) error {
		var err error
		early, err = tx.ClaimNotifications(ctx, url, "", queueBase, queueBase, 1)
		return err
	})
	update(t, s, func(tx store.Tx) error {
		var err error
		late, err = tx.ClaimNotifications(ctx, url, "", queueBase, queueBase.Add(time.Minute), 1)
		return err
	})
	now := queueBase.Add(2 * time.Minute)
	var rescued int
	update(t, s, func(tx store.Tx) error {
		var err error
		rescued, err = tx.RescueNotifications(ctx, queueBase.Add(30*time.Second), now)
		return err
	})
	if rescued != 1 {
		t.Fatalf("RescueNotifications = %d, want 1 (only the row claimed before the cutoff)", rescued)
	}
	// The crashed worker comes back late: its write must not land.
	update(t, s, func(tx store.Tx) error {
		n, err := tx.MarkDelivered(ctx, ids(early), now)
		if n != 0 {
			t.Errorf("MarkDelivered of a rescued row moved %d, want 0", n)
		}
		return err
	})
	view(t, s, func(tx store.Tx) error {
		n, err := tx.GetNotification(ctx, early[0].ID)
		if err != nil {
			return err
		}
		if n.State != store.NotificationRetryable || !n.Scheduled.Equal(now) {
			t.Errorf("rescued row: state %q scheduled %v; want retryable at %v", n.State, n.Scheduled, now)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.MarkDelivered(ctx, ids(late), queueBase.Add(time.Minute)); err != nil {
			return err
		}
		n, err := tx.PruneNotifications(ctx, queueBase.Add(time.Minute), 10)
		if n != 0 {
			t.Errorf("PruneNotifications(before it finished) = %d, want 0", n)
		}
		if err != nil {
			return err
		}
		n, err = tx.PruneNotifications(ctx, queueBase.Add(time.Minute+1), 10)
		if n != 1 {
			t.Errorf("PruneNotifications = %d, want 1 (waiting rows are never pruned)", n)
		}
		return err
	})
	view(t, s, func(tx store.Tx) error {
		counts, err := tx.CountNotifications(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(map[store.NotificationState]int{store.NotificationAvailable: 1, store.NotificationRetryable: 1}, counts); diff != "" {
			t.Errorf("CountNotifications after prune (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testQueueDiscardSubscription(t *testing.T, s store.Store) {
	ctx := context.Background()
	const url, other = "https://d.test/hook", "https://d.test/lifecycle"
	running, retryable, available := sampleNotification(url, 0), sampleNotification(url, 0), sampleNotification(url, time.Hour)
	otherSub := sampleNotification(url, 0)
	otherSub.SubscriptionID = "s2"
	otherURL := sampleNotification(other, 0)
	enqueue(t, s, running, retryable, otherSub, otherURL)
	update(t, s, func(tx store.Tx) error {
		if got, err := tx.ClaimNotifications(ctx, url, "", queueBase, queueBase, 1); err != nil || len(got) != 1 || got[0].ID != running.ID {
			return fmt.Errorf("ClaimNotifications = %v, %v; want row %d", ids(got), err, running.ID)
		}
		got, err := tx.ClaimNotifications(ctx, url, "", queueBase, queueBase, 1)
		if err != nil || len(got) != 1 || got[0].ID != retryable.ID {
			return fmt.Errorf("ClaimNotifications = %v, %v; want row %d", ids(got), err, retryable.ID)
		}
		_, err = tx.MarkRetryable(ctx, ids(got), queueBase.Add(time.Minute), "500")
		return err
	})
	enqueue(t, s, available)
	at := queueBase.Add(2 * time.Minute)
	discard := func() int {
		var n int
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.DiscardSubscriptionNotifications(ctx, url, "s1", at, "subscription deleted")
			return err
		})
		return n
	}
	if n := discard(); n != 2 {
		t.Errorf("DiscardSubscriptionNotifications = %d, want 2 (the retryable and the available row)", n)
	}
	if n := discard(); n != 0 {
		t.Errorf("DiscardSubscriptionNotifications again = %d, want 0", n)
	}
	want := map[int64]store.NotificationState{
		running.ID: store.NotificationRunning, retryable.ID: store.NotificationDiscarded, available.ID: store.NotificationDiscarded,
		otherSub.ID: store.NotificationAvailable, otherURL.ID: store.NotificationAvailable,
	}
	view(t, s, func(tx store.Tx) error {
		for id, state := range want {
			n, err := tx.GetNotification(ctx, id)
			if err != nil {
				return err
			}
			if n.State != state {
				t.Errorf("row %d: state %q, want %q", id, n.State, state)
			}
			if state == store.NotificationDiscarded && (!n.Finished.Equal(at) || n.Error != "subscription deleted") {
				t.Errorf("row %d: finished %v error %q, want %v and %q", id, n.Finished, n.Error, at, "subscription deleted")
			}
		}
		return nil
	})
}

func testSubscriptionsUnderTopic(t *testing.T, s store.Store) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error {
		for i, topic := range []string{"users/u1", "users/u1/messages", "users/u1/mailFolders/f/messages", "users/u10/messages", "users", "users/u1/events"} {
			sub := sampleSub(fmt.Sprintf("p%d", i))
			sub.Topic = topic
			if i == 5 {
				sub.Tenant = "other"
			}
			if err := tx.InsertSubscription(ctx, &sub); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.SubscriptionsUnderTopic(ctx, "t", "users/u1")
		if err != nil {
			return err
		}
		var names []string
		for _, x := range got {
			names = append(names, x.ID)
		}
		if diff := cmp.Diff([]string{"p0", "p1", "p2"}, names); diff != "" {
			t.Errorf("SubscriptionsUnderTopic(users/u1) (-want +got):\n%s", diff)
		}
		return nil
	})
}

// testQueueClaimedRows: a claimed row carries every column as the table holds it,
// whether the claim took its write-once columns from what this store kept when it
// queued the row or read them from the table: rows queued earlier than the store
// keeps (more than two generations of the claim cache of payloads ago), rows
// claimed again after a failed attempt (their attempt and error changed), and all
// kinds of column (lifecycle, replay, rich data, an empty payload).
func testQueueClaimedRows(t *testing.T, s store.Store) {
	ctx := context.Background()
	const url = "https://claimed.test/hook"
	// 160 rows of 64 KiB push the first ones out of the store's claim cache (two
	// generations of 4 MiB); the last 40 are ordinary.
	var ns []*store.Notification
	for i := range 200 {
		n := sampleNotification(url, time.Duration(i)*time.Millisecond)
		n.SubscriptionID = fmt.Sprintf("s%03d", i)
		n.Seq = int64(1000 + i)
		n.Payload = []byte(fmt.Sprintf(`{"id":"m%d"}`, i))
		if i < 160 {
			n.Payload = append(n.Payload, bytes.Repeat([]byte{' '}, 64<<10)...)
		}
		switch i % 5 {
		case 1:
			n.Lifecycle, n.Event = true, "missed"
		case 2:
			n.Rich = []byte(fmt.Sprintf(`{"data":"%d"}`, i))
		case 3:
			n.ReplayOf = int64(i)
		case 4:
			n.Payload = nil
		}
		ns = append(ns, n)
	}
	// In several transactions, so that the cache holds rows of several commits.
	for i := 0; i < len(ns); i += 50 {
		enqueue(t, s, ns[i:i+50]...)
	}
	asStored := func(got []store.Notification) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			for _, g := range got {
				want, err := tx.GetNotification(ctx, g.ID)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, g); diff != "" {
					t.Errorf("claimed row %d differs from the table's (-table +claimed):\n%s", g.ID, diff)
				}
			}
			return nil
		})
	}
	due := queueBase.Add(time.Hour)
	first := claim(t, s, url, due, 1000)
	queued := make([]int64, len(ns))
	for i, n := range ns {
		queued[i] = n.ID
	}
	if diff := cmp.Diff(queued, ids(first)); diff != "" {
		t.Fatalf("claimed ids (-queued +claimed):\n%s", diff)
	}
	asStored(first)
	for i, g := range first {
		if want := fmt.Sprintf(`{"id":"m%d"}`, i); !bytes.HasPrefix(g.Payload, []byte(want)) && ns[i].Payload != nil {
			t.Errorf("claimed row %d payload starts %.20q, want %q", g.ID, g.Payload, want)
		}
	}
	// Every other row fails and is claimed again: its attempt and error come from
	// the table, the rest as queued.
	var failed []int64
	for i := 0; i < len(first); i += 2 {
		failed = append(failed, first[i].ID)
	}
	update(t, s, func(tx store.Tx) error {
		n, err := tx.MarkRetryable(ctx, failed, queueBase, "HTTP 503")
		if err == nil && n != len(failed) {
			err = fmt.Errorf("MarkRetryable moved %d of %d rows", n, len(failed))
		}
		return err
	})
	again := claim(t, s, url, due, 1000)
	if diff := cmp.Diff(failed, ids(again)); diff != "" {
		t.Fatalf("claimed again (-failed +claimed):\n%s", diff)
	}
	for _, g := range again {
		if g.Attempt != 2 || g.Error != "HTTP 503" {
			t.Errorf("row %d claimed again: attempt %d, error %q; want 2, HTTP 503", g.ID, g.Attempt, g.Error)
		}
	}
	asStored(again)
}
