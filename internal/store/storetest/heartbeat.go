package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// testHeartbeats walks node heartbeats: recording them (never backwards), claims
// naming their node, the rescue of a lapsed node's running rows (and of no other
// rows), and the pruning of heartbeats no running row needs.
func testHeartbeats(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := queueBase
	beat := func(node string, at time.Time) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.Heartbeat(ctx, node, at) })
	}
	lastBeat := func(node string) (time.Time, error) {
		var got time.Time
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			got, err = tx.GetHeartbeat(ctx, node)
			return err
		})
		return got, err
	}
	if err := beat("", t0); !errors.Is(err, store.ErrNoNode) {
		t.Errorf("Heartbeat(\"\") = %v, want ErrNoNode", err)
	}
	if _, err := lastBeat("a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetHeartbeat(a) before any beat = %v, want ErrNotFound", err)
	}
	for _, b := range []struct {
		at   time.Duration
		want time.Duration
	}{{0, 0}, {-time.Second, 0}, {5 * time.Second, 5 * time.Second}} {
		if err := beat("a", t0.Add(b.at)); err != nil {
			t.Fatalf("Heartbeat(a, t0+%v) = %v", b.at, err)
		}
		if got, err := lastBeat("a"); err != nil || !got.Equal(t0.Add(b.want)) {
			t.Errorf("GetHeartbeat(a) after a beat at t0+%v = %v, %v; want t0+%v", b.at, got, err, b.want)
		}
	}
	if err := beat("b", t0.Add(10*time.Second)); err != nil {
		t.Fatalf("Heartbeat(b) = %v", err)
	}

	// One row claimed by each of: a, b, no node, a node that never beat.
	const url = "https://hb.test/hook"
	enqueue(t, s, sampleNotification(url, 0), sampleNotification(url, 0), sampleNotification(url, 0), sampleNotification(url, 0))
	claimed := map[string]store.Notification{}
	for _, node := range []string{"a", "b", "", "ghost"} {
		update(t, s, func(tx store.Tx) error {
			got, err := tx.ClaimNotifications(ctx, url, node, t0, t0.Add(6*time.Second), 1)
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].Node != node {
				return fmt.Errorf("ClaimNotifications(node %q) = %d rows %+v, want 1 naming %q", node, len(got), got, node)
			}
			claimed[node] = got[0]
			return nil
		})
	}

	rescue := func(lapsedBefore, now time.Time) int {
		t.Helper()
		var n int
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.RescueLapsed(ctx, lapsedBefore, now)
			return err
		})
		return n
	}
	now := t0.Add(20 * time.Second)
	// a's last beat at t0+5s is not before t0+5s: not lapsed yet.
	if n := rescue(t0.Add(5*time.Second), now); n != 0 {
		t.Errorf("RescueLapsed(t0+5s) = %d, want 0 (a beat at exactly the cutoff is alive)", n)
	}
	if n := rescue(t0.Add(5*time.Second+time.Nanosecond), now); n != 1 {
		t.Fatalf("RescueLapsed(t0+5s+1ns) = %d, want 1 (only a's row)", n)
	}
	want := map[string]store.NotificationState{"a": store.NotificationRetryable, "b": store.NotificationRunning,
		"": store.NotificationRunning, "ghost": store.NotificationRunning}
	view(t, s, func(tx store.Tx) error {
		got := map[string]store.NotificationState{}
		for node, n := range claimed {
			cur, err := tx.GetNotification(ctx, n.ID)
			if err != nil {
				return err
			}
			got[node] = cur.State
			if node == "a" && !cur.Scheduled.Equal(now) {
				t.Errorf("rescued row scheduled %v, want now (%v)", cur.Scheduled, now)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("states after RescueLapsed, by claiming node (-want +got):\n%s", diff)
		}
		return nil
	})
	// a comes back late: its guarded write must not land on the rescued row.
	update(t, s, func(tx store.Tx) error {
		n, err := tx.MarkDelivered(ctx, []int64{claimed["a"].ID}, now)
		if n != 0 {
			t.Errorf("MarkDelivered of a row rescued from a lapsed node moved %d, want 0", n)
		}
		return err
	})

	// a has no running row left, so its heartbeat can go; b's stays, however old,
	// while b has a running row.
	var pruned int
	update(t, s, func(tx store.Tx) error {
		var err error
		pruned, err = tx.PruneHeartbeats(ctx, t0.Add(time.Hour))
		return err
	})
	if pruned != 1 {
		t.Errorf("PruneHeartbeats = %d, want 1 (a's)", pruned)
	}
	if _, err := lastBeat("a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetHeartbeat(a) after pruning = %v, want ErrNotFound", err)
	}
	if got, err := lastBeat("b"); err != nil || !got.Equal(t0.Add(10*time.Second)) {
		t.Errorf("GetHeartbeat(b) after pruning = %v, %v; want t0+10s (b has a running row)", got, err)
	}
	// A pruned node that beats again is back.
	if err := beat("a", t0.Add(time.Hour)); err != nil {
		t.Fatalf("Heartbeat(a) after pruning = %v", err)
	}
	if got, err := lastBeat("a"); err != nil || !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("GetHeartbeat(a) after beating again = %v, %v; want t0+1h", got, err)
	}
}
