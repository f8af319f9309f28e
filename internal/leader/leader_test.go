package leader

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/wait"
)

// fakeService counts its starts and stops.
type fakeService struct {
	mu            sync.Mutex
	starts, stops int
	running       bool
}

func (f *fakeService) Start(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	f.running = true
	return nil
}

func (f *fakeService) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops++
	f.running = false
}

func (f *fakeService) state() (running bool, starts, stops int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running, f.starts, f.stops
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !wait.Poll(within, cond) {
		t.Fatalf("%s: not within %v", what, within)
	}
}

func leaseOf(t *testing.T, st store.Store) (store.Lease, error) {
	t.Helper()
	var l store.Lease
	err := st.View(context.Background(), func(tx store.Tx) (err error) {
		l, err = tx.GetLease(context.Background(), Lease)
		return err
	})
	return l, err
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newLeader(st store.Store, node string, ttl time.Duration) *Leader {
	return New(Config{Store: st, Node: node, TTL: ttl, Log: slog.New(slog.DiscardHandler)})
}

func TestNewDefaults(t *testing.T) {
	tests := []struct{ ttl, want time.Duration }{
		{0, DefaultTTL},
		{-time.Second, DefaultTTL},
		{time.Millisecond, MinTTL},
		{time.Minute, time.Minute},
	}
	for _, tt := range tests {
		if got := New(Config{TTL: tt.ttl}).TTL(); got != tt.want {
			t.Errorf("New(Config{TTL: %v}).TTL() = %v, want %v", tt.ttl, got, tt.want)
		}
	}
	if New(Config{}).Node() == "" {
		t.Error("New(Config{}).Node() = \"\", want a generated node id")
	}
}

// TestLeaderElection drives two nodes' leaders over one store: the first runs the
// services, a crashed leader's lease passes on only after it expired, a node whose
// lease was taken stops its services, and the last Stop releases the lease.
func TestLeaderElection(t *testing.T) {
	st := openSQLite(t)
	const ttl = 150 * time.Millisecond
	x, y := newLeader(st, "x", ttl), newLeader(st, "y", ttl)
	ctx := context.Background()

	x1, x2, y1 := &fakeService{}, &fakeService{}, &fakeService{}
	wx1, wx2, wy1 := x.Only(x1), x.Only(x2), y.Only(y1)
	wx1.Start(ctx)
	wx2.Start(ctx)
	wy1.Start(ctx)
	t.Cleanup(func() { wx1.Stop(); wx2.Stop(); wy1.Stop() })
	for name, f := range map[string]*fakeService{"x1": x1, "x2": x2} {
		if running, _, _ := f.state(); !running {
			t.Errorf("%s running right after Start on the first node = false, want true", name)
		}
	}
	if x.Running() != 2 {
		t.Errorf("x.Running() = %d, want 2", x.Running())
	}
	if running, _, _ := y1.state(); running || y.Held() || y.Running() != 0 {
		t.Errorf("second node: service running %v, Held %v, Running %d; want false, false, 0", running, y.Held(), y.Running())
	}
	if l, err := leaseOf(t, st); err != nil || l.Holder != "x" {
		t.Fatalf("lease = %+v, %v, want held by x", l, err)
	}

	// x dies: its loop ends without releasing. y takes over, but not before x's last
	// lease expired.
	x.turn.Lock()
	cancel, done := x.cancel, x.done
	x.turn.Unlock()
	cancel()
	<-done
	x.mu.Lock()
	expiry := x.confirmed.Add(ttl)
	x.mu.Unlock()
	eventually(t, 5*time.Second, "y takes over the expired lease", y.Held)
	if now := time.Now(); now.Before(expiry) {
		t.Errorf("y took the lease at %v, before x's expired at %v", now, expiry)
	}
	if running, starts, _ := y1.state(); !running || starts != 1 {
		t.Errorf("y1 after takeover: running %v, starts %d; want true, 1", running, starts)
	}

	// Someone else takes y's lease (as a node would after y stalled past its ttl): y
	// notices at its next renewal and stops its services.
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.ReleaseLease(ctx, Lease, "y"); err != nil {
			return err
		}
		_, err := tx.TryLease(ctx, Lease, "intruder", ttl, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "y stops its services after losing the lease", func() bool {
		running, _, stops := y1.state()
		return !running && stops == 1 && !y.Held()
	})
	// The intruder never renews: y takes the lease back and starts a new term.
	eventually(t, 5*time.Second, "y retakes the lease", func() bool {
		running, starts, _ := y1.state()
		return running && starts == 2
	})

	// y's last Stop releases the lease at once.
	wy1.Stop()
	if _, err := leaseOf(t, st); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease after the holder's last Stop: err %v, want ErrNotFound", err)
	}
	if running, starts, stops := y1.state(); running || starts != stops {
		t.Errorf("y1 after Stop: running %v, starts %d, stops %d; want stopped as often as started", running, starts, stops)
	}
}

// TestLeaderStepsDownWhenTheStoreFails: a leader that cannot renew stops its services
// before its lease can have passed to another node.
func TestLeaderStepsDownWhenTheStoreFails(t *testing.T) {
	st, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 150 * time.Millisecond
	l := newLeader(st, "x", ttl)
	f := &fakeService{}
	w := l.Only(f)
	w.Start(context.Background())
	defer w.Stop()
	if !l.Held() {
		t.Fatal("leader on a working store: Held = false")
	}
	st.Close()
	closed := time.Now()
	l.mu.Lock()
	expiry := l.confirmed.Add(ttl)
	l.mu.Unlock()
	eventually(t, 5*time.Second, "services stopped after renewals failed", func() bool {
		running, _, _ := f.state()
		return !running && !l.Held()
	})
	if now := time.Now(); now.After(expiry.Add(ttl)) {
		t.Errorf("stepped down %v after the store closed, lease expired at +%v: too late", now.Sub(closed), expiry.Sub(closed))
	}
}

// gatedStore holds each Update at a gate while the gate is closed: it reports the
// held call on entered and lets it through when release is closed.
type gatedStore struct {
	store.Store
	closed  atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if g.closed.Load() {
		g.entered <- struct{}{}
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.Store.Update(ctx, fn)
}

// TestReadsDoNotWaitOnTheStore: while a lease renewal waits on the database, Held,
// Running and a metrics scrape answer at once.
func TestReadsDoNotWaitOnTheStore(t *testing.T) {
	st := &gatedStore{Store: openSQLite(t), entered: make(chan struct{}), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	l := New(Config{Store: st, Node: "x", TTL: MinTTL, Log: slog.New(slog.DiscardHandler), Registry: reg})
	w := l.Only(&fakeService{})
	w.Start(context.Background())
	defer w.Stop()
	if !l.Held() {
		t.Fatal("leader on a working store: Held = false")
	}

	st.closed.Store(true)
	defer func() { // before w.Stop, which waits for the renewal to end
		st.closed.Store(false)
		close(st.release)
	}()
	select {
	case <-st.entered: // the next renewal is now inside the store call
	case <-time.After(10 * time.Second):
		t.Fatal("no lease renewal reached the store within 10s")
	}
	read := make(chan float64, 1)
	go func() {
		l.Held()
		l.Running()
		families, err := reg.Gather()
		v := -1.0
		for _, f := range families {
			if f.GetName() == "graphhook_leader" && err == nil {
				v = f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		read <- v
	}()
	select {
	case v := <-read:
		if v != 1 {
			t.Errorf("graphhook_leader during a renewal = %v, want 1", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Held, Running and the metrics scrape waited on the lease renewal's store call")
	}
}
