package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/sqlite"
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
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an event
	}
}

func leaseOf(t *testing.T, st store.Store) (store.Lease, error) {
	t.Helper()
	var l store.Lease
	err := st.View(context.Background(), func(tx store.Tx) (err error) {
		l, err = tx.GetLease(context.Background(), leaderLease)
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

// TestLeaderOnlyOnSQLiteIsTheServiceItself: one node by construction, so no wrapper.
func TestLeaderOnlyOnSQLiteIsTheServiceItself(t *testing.T) {
	m := &Main{Config: Config{Data: t.TempDir()}}
	svc := &fakeService{}
	if got := m.leaderOnly(func() Service { return svc }); got != Service(svc) {
		t.Errorf("leaderOnly(svc) on SQLite = %T, want the service itself", got)
	}
	if _, ok := leaders.Load(m); ok {
		t.Errorf("leaderOnly on SQLite created a leader")
	}
}

// TestLeaderElection drives two nodes' leaders over one store: the first runs the
// services, a crashed leader's lease passes on only after it expired, a node whose
// lease was taken stops its services, and the last Stop releases the lease.
func TestLeaderElection(t *testing.T) {
	st := openSQLite(t)
	const ttl = 150 * time.Millisecond
	log := slog.New(slog.DiscardHandler)
	x, y := newLeader(st, "x", ttl, log), newLeader(st, "y", ttl, log)
	ctx := context.Background()

	x1, x2, y1 := &fakeService{}, &fakeService{}, &fakeService{}
	wx1 := &leaderOnlyService{l: x, newService: func() Service { return x1 }}
	wx2 := &leaderOnlyService{l: x, newService: func() Service { return x2 }}
	wy1 := &leaderOnlyService{l: y, newService: func() Service { return y1 }}
	wx1.Start(ctx)
	wx2.Start(ctx)
	wy1.Start(ctx)
	t.Cleanup(func() { wx1.Stop(); wx2.Stop(); wy1.Stop() })
	for name, f := range map[string]*fakeService{"x1": x1, "x2": x2} {
		if running, _, _ := f.state(); !running {
			t.Errorf("%s running right after Start on the first node = false, want true", name)
		}
	}
	if running, _, _ := y1.state(); running || y.Held() {
		t.Errorf("second node: service running %v, Held %v; want false, false", running, y.Held())
	}
	if l, err := leaseOf(t, st); err != nil || l.Holder != "x" {
		t.Fatalf("lease = %+v, %v, want held by x", l, err)
	}

	// x dies: its loop ends without releasing. y takes over, but not before x's last
	// lease expired.
	x.mu.Lock()
	cancel, done := x.cancel, x.done
	x.mu.Unlock()
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

	// Someone else takes y's lease (as a node would after y stalled past its ttl):
	// y notices at its next renewal and stops its services.
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.ReleaseLease(ctx, leaderLease, "y"); err != nil {
			return err
		}
		_, err := tx.TryLease(ctx, leaderLease, "intruder", ttl, time.Now())
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
	l := newLeader(st, "x", ttl, slog.New(slog.DiscardHandler))
	f := &fakeService{}
	w := &leaderOnlyService{l: l, newService: func() Service { return f }}
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

// notificationReceiver is an app's webhook: it answers the validation handshake and
// counts each notification by subscription, change type and resource id.
type notificationReceiver struct {
	url string
	mu  sync.Mutex
	got map[string]int
}

func newNotificationReceiver(t *testing.T) *notificationReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &notificationReceiver{url: "http://" + l.Addr().String(), got: map[string]int{}}
	srv := &http.Server{Handler: r}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *notificationReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if tok := req.URL.Query().Get("validationToken"); tok != "" {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, tok)
		return
	}
	var batch struct {
		Value []struct {
			SubscriptionID string `json:"subscriptionId"`
			ChangeType     string `json:"changeType"`
			ClientState    string `json:"clientState"`
			ResourceData   struct {
				ID string `json:"id"`
			} `json:"resourceData"`
		} `json:"value"`
	}
	if err := json.NewDecoder(req.Body).Decode(&batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, n := range batch.Value {
		r.got[n.SubscriptionID+" "+n.ChangeType+" "+n.ResourceData.ID+" "+n.ClientState]++
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// tally returns how many of want arrived and how many arrivals were duplicates.
func (r *notificationReceiver) tally(want []string) (arrived, duplicates int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range want {
		if n := r.got[k]; n > 0 {
			arrived++
			duplicates += n - 1
		}
	}
	return arrived, duplicates
}

// startNode runs one graphhook on the shared database. Every node names itself by
// the same public URL, as nodes behind one load balancer do, so that a token from
// one is good on the others.
func startNode(t *testing.T, db string, log io.Writer) *Main {
	t.Helper()
	m := NewMain(Config{Addr: "127.0.0.1:0", Database: db, PublicURL: "http://graphhook.test", LogLevel: "warn",
		LeaseTTL: 300 * time.Millisecond}, io.Discard, log)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// leaderServices counts the leader-only services running on m.
func leaderServices(m *Main) int {
	v, ok := leaders.Load(m)
	if !ok {
		return -1
	}
	l := v.(*leader)
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, w := range l.members {
		if w.inner != nil {
			n++
		}
	}
	return n
}

func nodeOf(m *Main) string {
	v, _ := leaders.Load(m)
	return v.(*leader).node
}

// syncBuffer collects the nodes' logs for a failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMultiNode runs two servers on one PostgreSQL database: subscriptions made on A,
// changes made through both, every notification delivered, one leader, and the lease
// handed over when the leader stops.
func TestMultiNode(t *testing.T) {
	db := pgtest.URL(t)
	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("node logs:\n%s", logs)
		}
	}()
	a := startNode(t, db, logs)
	b := startNode(t, db, logs)
	if !a.DemoLoaded || b.DemoLoaded {
		t.Fatalf("DemoLoaded: A %v, B %v; want the first node to load the demo tenant and the second to find it", a.DemoLoaded, b.DemoLoaded)
	}
	const leaderOnlyServices = 5 // reauthorization, rescuer, queue retention, expiry sweeper, change log retention
	if got := leaderServices(a); got != leaderOnlyServices {
		t.Errorf("leader-only services running on A (first node) = %d, want %d", got, leaderOnlyServices)
	}
	if got := leaderServices(b); got != 0 {
		t.Errorf("leader-only services running on B = %d, want 0", got)
	}
	if l, err := leaseOf(t, a.Store); err != nil || l.Holder != nodeOf(a) {
		t.Errorf("lease = %+v, %v, want held by A (%s)", l, err, nodeOf(a))
	}

	ctx := context.Background()
	tokA, err := benchToken(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	tokB, err := benchToken(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	call := func(m *Main, tok, method, path string, body any, want int) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		status, out, err := benchDo(ctx, http.DefaultClient, method, m.URL+path, tok, raw)
		if err != nil || status != want {
			t.Fatalf("%s %s = %d %s %v, want %d", method, path, status, out, err, want)
		}
		var v map[string]any
		json.Unmarshal(out, &v)
		return v
	}

	// Two subscriptions on A, to two URLs of one receiver (the change types differ
	// because Graph refuses a duplicate).
	changeTypes := map[string]string{"/one": "created,updated", "/two": "created,updated,deleted"}
	recv := newNotificationReceiver(t)
	var subs []string
	for _, path := range []string{"/one", "/two"} {
		s := call(a, tokA, "POST", "/v1.0/subscriptions", map[string]any{
			"changeType": changeTypes[path], "notificationUrl": recv.url + path, "clientState": "multi",
			"resource": "/users/" + demoAdele + "/messages", "expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		}, http.StatusCreated)
		subs = append(subs, s["id"].(string))
	}

	// Messages created through both nodes at once, then each updated through the other.
	nodes := []struct {
		m   *Main
		tok string
	}{{a, tokA}, {b, tokB}}
	const perNode = 20
	ids := make([]string, 2*perNode)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := nodes[i%2]
			raw, _ := json.Marshal(map[string]any{"subject": fmt.Sprintf("message %d", i)})
			status, out, err := benchDo(ctx, http.DefaultClient, "POST", n.m.URL+"/v1.0/users/"+demoAdele+"/messages", n.tok, raw)
			var v struct {
				ID string `json:"id"`
			}
			json.Unmarshal(out, &v)
			if err != nil || status != http.StatusCreated || v.ID == "" {
				t.Errorf("POST message %d = %d %s %v, want 201", i, status, out, err)
			}
			ids[i] = v.ID
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, id := range ids {
		n := nodes[(i+1)%2]
		call(n.m, n.tok, "PATCH", "/v1.0/users/"+demoAdele+"/messages/"+id, map[string]any{"subject": "updated"}, http.StatusOK)
	}
	var want []string
	for _, sub := range subs {
		for _, id := range ids {
			want = append(want, sub+" created "+id+" multi", sub+" updated "+id+" multi")
		}
	}
	waitDelivered := func(want []string) {
		t.Helper()
		eventually(t, 30*time.Second, "every notification delivered", func() bool {
			arrived, _ := recv.tally(want)
			return arrived == len(want)
		})
		// At least once: a duplicate needs a rescued in-flight row, which a healthy
		// run should not see; allow a few, fail on a pattern.
		if arrived, dups := recv.tally(want); dups > len(want)/50 {
			t.Errorf("duplicates = %d of %d notifications, want at most %d", dups, arrived, len(want)/50)
		}
	}
	waitDelivered(want)

	// Exactly one leader.
	if ha, hb := leaderServices(a), leaderServices(b); ha != leaderOnlyServices || hb != 0 {
		t.Errorf("leader-only services running: A %d, B %d; want %d, 0", ha, hb, leaderOnlyServices)
	}

	// The leader stops: B takes over (the lease was released, so without waiting for
	// it to expire) and carries on alone.
	stopped := time.Now()
	shutdownCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.Shutdown(shutdownCtx); err != nil {
		t.Fatalf("Shutdown A: %v", err)
	}
	eventually(t, 5*time.Second, "B takes the lease after A stopped", func() bool {
		return leaderServices(b) == leaderOnlyServices
	})
	t.Logf("lease handed over %v after A stopped", time.Since(stopped))
	if l, err := leaseOf(t, b.Store); err != nil || l.Holder != nodeOf(b) {
		t.Errorf("lease after handover = %+v, %v, want held by B (%s)", l, err, nodeOf(b))
	}
	var more []string
	for i := range 5 {
		v := call(b, tokB, "POST", "/v1.0/users/"+demoAdele+"/messages", map[string]any{"subject": fmt.Sprintf("after %d", i)}, http.StatusCreated)
		for _, sub := range subs {
			more = append(more, sub+" created "+v["id"].(string)+" multi")
		}
	}
	waitDelivered(more)
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", logs)
	}
}

func TestLeaseTTLValidation(t *testing.T) {
	tests := []struct {
		ttl     time.Duration
		wantErr bool
	}{
		{0, false}, // the default
		{minLeaseTTL, false},
		{time.Minute, false},
		{minLeaseTTL - time.Millisecond, true},
		{-time.Second, true},
	}
	for _, tt := range tests {
		c := Config{Profile: "dev", LogLevel: "info", LeaseTTL: tt.ttl}
		err := c.validate()
		if (err != nil) != tt.wantErr {
			t.Errorf("Config{LeaseTTL: %v}.validate() = %v, want error %v", tt.ttl, err, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "--lease-ttl must be at least 100ms") {
			t.Errorf("Config{LeaseTTL: %v}.validate() = %q, want it to name --lease-ttl and its minimum", tt.ttl, err)
		}
	}
}
