package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/leader"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
)

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
func startNode(t *testing.T, db string, log io.Writer) *app.Main {
	t.Helper()
	m := app.New(app.Config{Addr: "127.0.0.1:0", Database: db, PublicURL: "http://graphhook.test", LogLevel: "warn",
		LeaseTTL: time.Second}, io.Discard, log)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
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
	if !a.DemoLoaded || !b.DemoLoaded {
		t.Fatalf("DemoLoaded: A %v, B %v; want both nodes to serve the demo tenant (the second finds what the first loaded)", a.DemoLoaded, b.DemoLoaded)
	}
	if a.Config.AdminKey != b.Config.AdminKey {
		t.Errorf("admin keys of two nodes on one database differ: %q and %q", a.Config.AdminKey, b.Config.AdminKey)
	}
	const leaderOnlyServices = 5 // reauthorization, rescuer, queue retention, expiry sweeper, change log retention
	if got := a.Leader.Running(); got != leaderOnlyServices {
		t.Errorf("leader-only services running on A (first node) = %d, want %d", got, leaderOnlyServices)
	}
	if got := b.Leader.Running(); got != 0 {
		t.Errorf("leader-only services running on B = %d, want 0", got)
	}
	if l, err := leaseOf(t, a.Store); err != nil || l.Holder != a.Leader.Node() {
		t.Errorf("lease = %+v, %v, want held by A (%s)", l, err, a.Leader.Node())
	}

	ctx := context.Background()
	tokA, tokB := appToken(t, a.URL), appToken(t, b.URL)
	call := func(m *app.Main, tok, method, path string, body any, want int) map[string]any {
		t.Helper()
		return call(t, m.URL, tok, method, path, body, want)
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
		m   *app.Main
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
			status, out, err := post(n.m.URL+"/v1.0/users/"+demoAdele+"/messages", n.tok, map[string]any{"subject": fmt.Sprintf("message %d", i)})
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
	if ha, hb := a.Leader.Running(), b.Leader.Running(); ha != leaderOnlyServices || hb != 0 {
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
		return b.Leader.Running() == leaderOnlyServices
	})
	t.Logf("lease handed over %v after A stopped", time.Since(stopped))
	if l, err := leaseOf(t, b.Store); err != nil || l.Holder != b.Leader.Node() {
		t.Errorf("lease after handover = %+v, %v, want held by B (%s)", l, err, b.Leader.Node())
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

// post sends a JSON POST; unlike call it does not fail the test, so that goroutines
// may use it.
func post(url, token string, body any) (int, []byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func leaseOf(t *testing.T, st store.Store) (store.Lease, error) {
	t.Helper()
	var l store.Lease
	err := st.View(context.Background(), func(tx store.Tx) (err error) {
		l, err = tx.GetLease(context.Background(), leader.Lease)
		return err
	})
	return l, err
}

// TestEmbeddedStoreHasNoLeader: on SQLite this process is the only node, so the
// sweepers run without a lease.
func TestEmbeddedStoreHasNoLeader(t *testing.T) {
	m := start(t, app.Config{})
	if m.Leader != nil {
		t.Errorf("Main on the embedded store: Leader = %v, want nil", m.Leader)
	}
	if _, err := leaseOf(t, m.Store); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease on the embedded store: err %v, want ErrNotFound", err)
	}
	if _, ok := scrape(t, m.URL)["graphhook_leader"]; ok {
		t.Error("GET /metrics on the embedded store has graphhook_leader, want none")
	}
}

func TestLeaseTTLValidation(t *testing.T) {
	tests := []struct {
		ttl     time.Duration
		wantErr bool
	}{
		{0, false}, // the default
		{leader.MinTTL, false},
		{time.Minute, false},
		{leader.MinTTL - time.Millisecond, true},
		{-time.Second, true},
	}
	for _, tt := range tests {
		m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), LogLevel: "error", LeaseTTL: tt.ttl}, io.Discard, io.Discard)
		err := m.Run(context.Background())
		m.Close()
		if (err != nil) != tt.wantErr {
			t.Errorf("Run with LeaseTTL %v = %v, want error %v", tt.ttl, err, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "--lease-ttl must be at least 100ms") {
			t.Errorf("Run with LeaseTTL %v = %q, want it to name --lease-ttl and its minimum", tt.ttl, err)
		}
	}
}
