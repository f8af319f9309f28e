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
// beating), the other keeps beating; a third leads and runs the rescuer. On the
// injected clock, the dead node's row goes back to the queue the moment its last
// beat is more than HeartbeatTTL old, long before RescueAfter; the live node's row
// stays with it while it beats, and goes back once it stops.
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
	// The services run only when the test starts them: their intervals are an hour.
	node := func(name string) *delivery.Pipeline {
		t.Helper()
		p, err := delivery.New(delivery.Config{Node: name, HeartbeatTTL: ttl, RescueInterval: time.Hour, ReminderInterval: time.Hour},
			delivery.Options{Store: st, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				OnPass: func(r service.Report) {
					if r.Service == "rescuer" {
						rescues <- r
					}
				}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	leader := node("leader")
	// beat records the live node's heartbeat now, as its heartbeat service would
	// (the service itself would also beat on its own interval of real time, which a
	// slow machine could reach in the middle of the steps below).
	beat := func() {
		t.Helper()
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.Heartbeat(ctx, "live", clk.Now()) }); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
	}
	// rescue runs one pass of the rescuer now and returns how many rows it took back.
	rescue := func() int {
		t.Helper()
		for _, s := range leader.LeaderServices() {
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for _, s := range leader.LeaderServices() {
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

	const running, retryable = store.NotificationRunning, store.NotificationRetryable
	steps := []struct {
		at         time.Duration // clock after t0
		liveBeats  bool          // the live node beats at this time first
		rescued    int
		dead, live store.NotificationState
	}{
		// Heartbeats are fresh: nothing to rescue.
		{10 * time.Second, true, 0, running, running},
		// The dead node's last beat is exactly a TTL old: not lapsed yet.
		{ttl, false, 0, running, running},
		// Past the TTL the dead node's row goes back, 45 s before RescueAfter would
		// have taken it; the live node beat 5 s ago and keeps its row.
		{ttl + time.Millisecond, false, 1, retryable, running},
		// A live node keeps its row as long as it beats.
		{20 * time.Second, true, 0, retryable, running},
		{30 * time.Second, true, 0, retryable, running},
		{45 * time.Second, false, 0, retryable, running},
		// It stops beating: a TTL after its last beat its row goes back too.
		{45*time.Second + time.Millisecond, false, 1, retryable, retryable},
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
		if got := state("live"); got != s.live {
			t.Errorf("at t0+%v: the live node's row is %s, want %s", s.at, got, s.live)
		}
	}
	// The lapsed nodes' heartbeats went with their rows; the rescuer's node beat at
	// each pass.
	err = st.View(ctx, func(tx store.Tx) error {
		for _, node := range []string{"dead", "live"} {
			if _, err := tx.GetHeartbeat(ctx, node); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetHeartbeat(%s) after its rows were rescued = %v, want ErrNotFound", node, err)
			}
		}
		if got, err := tx.GetHeartbeat(ctx, "leader"); err != nil || !got.Equal(clk.Now()) {
			t.Errorf("GetHeartbeat(leader) = %v, %v; want its rescuer's last pass, %v", got, err, clk.Now())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
