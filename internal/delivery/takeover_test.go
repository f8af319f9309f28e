package delivery_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

// TestRescueLapsedNode: two nodes hold a row in flight each; one dies (stops
// beating), the other keeps beating. On the injected clock, the dead node's row goes
// back to the queue the moment its last beat is more than HeartbeatTTL old, long
// before RescueAfter; the live node's row stays with it.
func TestRescueLapsedNode(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Dir: t.TempDir(), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFixed(t0)
	const ttl = 15 * time.Second
	rescues := make(chan service.Report, 16)
	// The live node, which also leads: it runs the heartbeat and the rescuer. Their
	// intervals are an hour, so that they run only when the test starts them.
	p, err := delivery.New(delivery.Config{Node: "live", HeartbeatTTL: ttl, RescueInterval: time.Hour, ReminderInterval: time.Hour},
		delivery.Options{Store: st, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			OnPass: func(r service.Report) {
				if r.Service == "rescuer" {
					rescues <- r
				}
			}})
	if err != nil {
		t.Fatal(err)
	}
	// beat records the live node's heartbeat now: its start beats before returning.
	hb := p.Heartbeat()
	beat := func() {
		t.Helper()
		hb.Stop()
		if err := hb.Start(ctx); err != nil {
			t.Fatalf("heartbeat start: %v", err)
		}
	}
	t.Cleanup(hb.Stop)
	// rescue runs one pass of the rescuer now and returns how many rows it took back.
	rescue := func() int {
		t.Helper()
		for _, s := range p.LeaderServices() {
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for _, s := range p.LeaderServices() {
				s.Stop()
			}
		}()
		select {
		case r := <-rescues:
			if r.Err != nil {
				t.Fatalf("rescuer pass: %v", r.Err)
			}
			return r.N
		case <-time.After(10 * time.Second):
			t.Fatal("no rescuer pass within 10s of its start")
			return 0
		}
	}

	// At t0 both nodes beat and claim one row each.
	beat()
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.Heartbeat(ctx, "dead", t0) }); err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, node := range []string{"dead", "live"} {
		err := st.Update(ctx, func(tx store.Tx) error {
			url := "http://127.0.0.1:9/" + node
			n := &store.Notification{URL: url, Tenant: "t", SubscriptionID: "s", Event: "created", Payload: []byte(`{}`), Created: t0}
			if err := tx.Enqueue(ctx, []*store.Notification{n}); err != nil {
				return err
			}
			got, err := tx.ClaimNotifications(ctx, url, node, t0, t0, 10)
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].Node != node {
				return errors.New("claim " + node + ": want its one row, claimed by it")
			}
			rows[node] = got[0].ID
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	state := func(node string) store.NotificationState {
		t.Helper()
		var n store.Notification
		if err := st.View(ctx, func(tx store.Tx) (err error) { n, err = tx.GetNotification(ctx, rows[node]); return err }); err != nil {
			t.Fatal(err)
		}
		return n.State
	}

	steps := []struct {
		at        time.Duration // clock after t0
		liveBeats bool          // the live node beats at this time first
		rescued   int
		dead      store.NotificationState
	}{
		// Heartbeats are fresh: nothing to rescue.
		{10 * time.Second, true, 0, store.NotificationRunning},
		// The dead node's last beat is exactly a TTL old: not lapsed yet.
		{ttl, false, 0, store.NotificationRunning},
		// Past the TTL the dead node's row goes back, 45 s before RescueAfter would
		// have taken it; the live node beat 5 s ago and keeps its row.
		{ttl + time.Millisecond, false, 1, store.NotificationRetryable},
		// A live node keeps its row as long as it beats.
		{20 * time.Second, true, 0, store.NotificationRetryable},
		{30 * time.Second, true, 0, store.NotificationRetryable},
		{40 * time.Second, false, 0, store.NotificationRetryable},
	}
	for _, s := range steps {
		clk.Set(t0.Add(s.at))
		if s.liveBeats {
			beat()
		}
		if got := rescue(); got != s.rescued {
			t.Errorf("at t0+%v: rescuer took back %d rows, want %d", s.at, got, s.rescued)
		}
		if got := state("dead"); got != s.dead {
			t.Errorf("at t0+%v: the dead node's row is %s, want %s", s.at, got, s.dead)
		}
		if got := state("live"); got != store.NotificationRunning {
			t.Errorf("at t0+%v: the live node's row is %s, want running", s.at, got)
		}
	}
	// The dead node's heartbeat went with its rows; the live node's stays.
	err = st.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetHeartbeat(ctx, "dead"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetHeartbeat(dead) after the rescue = %v, want ErrNotFound", err)
		}
		if got, err := tx.GetHeartbeat(ctx, "live"); err != nil || !got.Equal(t0.Add(30*time.Second)) {
			t.Errorf("GetHeartbeat(live) = %v, %v; want its last beat, t0+30s", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
