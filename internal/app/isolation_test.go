package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/graph"
)

// batchReceiver is a loopback webhook that records the size of each notification
// POST and signals after each.
type batchReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	batches []int
	posted  chan struct{}
}

func newBatchReceiver(t *testing.T) *batchReceiver {
	t.Helper()
	r := &batchReceiver{posted: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok := req.URL.Query().Get("validationToken"); tok != "" {
			io.WriteString(w, tok)
			return
		}
		var batch struct {
			Value []json.RawMessage `json:"value"`
		}
		json.NewDecoder(req.Body).Decode(&batch)
		r.mu.Lock()
		r.batches = append(r.batches, len(batch.Value))
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		r.posted <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// waitBatches waits until the receiver got n notifications and returns the sizes of
// the POSTs that carried them.
func (r *batchReceiver) waitBatches(t *testing.T, n int) []int {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		sizes := slices.Clone(r.batches)
		r.mu.Unlock()
		total := 0
		for _, s := range sizes {
			total += s
		}
		if total >= n {
			return sizes
		}
		select {
		case <-r.posted:
		case <-deadline:
			t.Fatalf("receiver got POSTs of %v notifications within 10s, want %d in all", sizes, n)
		}
	}
}

// TestMainsShareNothing runs three servers in one process with different settings
// and shows each keeps its own: admin key, delivery batch size, profile, clock and
// metrics registry. (graphhook bench used to change the delivery settings of every
// later server in its process.)
func TestMainsShareNothing(t *testing.T) {
	a := start(t, app.Config{AdminKey: "key-a", Delivery: delivery.Config{BatchSize: 1}})
	b := start(t, app.Config{AdminKey: "key-b"}) // Graph's batch size, 100
	// The strict profile never loads the demo tenant on its own: it is named.
	c := start(t, app.Config{AdminKey: "key-c", Profile: "strict", Fixture: "../../examples/fixture.yaml"})

	// Each Main's config is its own, defaults filled.
	if got := []int{a.Config.Delivery.BatchSize, b.Config.Delivery.BatchSize, c.Config.Delivery.BatchSize}; !slices.Equal(got, []int{1, 0, 0}) {
		t.Errorf("Config.Delivery.BatchSize of A, B, C = %v, want [1 0 0]", got)
	}

	// Admin keys: each server takes its own key only.
	mains := map[string]*app.Main{"key-a": a, "key-b": b, "key-c": c}
	for key, m := range mains {
		for other := range mains {
			want := http.StatusUnauthorized
			if other == key {
				want = http.StatusOK
			}
			call(t, m.URL, other, "GET", "/_graphhook/tenants", nil, want)
		}
	}

	// Profile: dev moves its clock on request, strict refuses; the move stays on A.
	call(t, a.URL, "key-a", "POST", "/_graphhook/clock/advance", map[string]any{"duration": "1h"}, http.StatusOK)
	call(t, c.URL, "key-c", "POST", "/_graphhook/clock/advance", map[string]any{"duration": "1h"}, http.StatusForbidden)
	if a.Clock.Skew() != time.Hour || b.Clock.Skew() != 0 || c.Clock.Skew() != 0 {
		t.Errorf("clock skews after advancing A's = %v, %v, %v; want 1h, 0, 0", a.Clock.Skew(), b.Clock.Skew(), c.Clock.Skew())
	}
	// Strict refuses a plain-http loopback notification URL that dev takes.
	recvC := newBatchReceiver(t)
	call(t, c.URL, appToken(t, c.URL), "POST", "/v1.0/subscriptions", map[string]any{"changeType": "created", "notificationUrl": recvC.URL,
		"resource": "/users/" + demoAdele + "/messages", "expirationDateTime": graph.FormatTime(c.Clock.Now().Add(time.Hour))}, http.StatusBadRequest)

	// Delivery: one change, three subscriptions to one URL. Their three notifications
	// are queued in one transaction, so a dispatcher that may batch sends them in one
	// POST; A's batch size of 1 makes that three POSTs.
	for _, tt := range []struct {
		name string
		m    *app.Main
		want []int
	}{{"A", a, []int{1, 1, 1}}, {"B", b, []int{3}}} {
		recv := newBatchReceiver(t)
		tok := appToken(t, tt.m.URL)
		for _, changeType := range []string{"created", "created,updated", "created,deleted"} {
			call(t, tt.m.URL, tok, "POST", "/v1.0/subscriptions", map[string]any{"changeType": changeType, "notificationUrl": recv.URL,
				"resource": "/users/" + demoAdele + "/messages", "expirationDateTime": graph.FormatTime(tt.m.Clock.Now().Add(time.Hour))}, http.StatusCreated)
		}
		call(t, tt.m.URL, tok, "POST", "/v1.0/users/"+demoAdele+"/messages", map[string]any{"subject": "isolation"}, http.StatusCreated)
		if got := recv.waitBatches(t, 3); !slices.Equal(got, tt.want) {
			t.Errorf("%s: notifications per POST = %v, want %v", tt.name, got, tt.want)
		}
		// The server's own registry counted its own POSTs, and only those.
		want := float64(len(tt.want))
		eventually(t, 10*time.Second, tt.name+"'s POSTs counted", func() bool {
			return scrape(t, tt.m.URL)[`graphhook_delivery_posts_total{result="success"}`] == want
		})
	}
	if got := scrape(t, c.URL)[`graphhook_delivery_posts_total{result="success"}`]; got != 0 {
		t.Errorf("C's graphhook_delivery_posts_total{result=\"success\"} = %v, want 0", got)
	}

	// Nothing went to Prometheus' global registry.
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "graphhook_") {
			t.Errorf("the default Prometheus registry has %s, want no graphhook metric", f.GetName())
		}
	}
}
