package testserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Webhook is a loopback notification endpoint for tests: it answers validation
// requests with their token and keeps every notification item it is sent, raw, in
// the order they arrived. A POST that is not a notification collection fails the
// test.
type Webhook struct {
	URL     string
	mu      sync.Mutex
	items   []json.RawMessage
	arrived chan struct{}
}

// NewWebhook starts a webhook, closed when the test ends.
func NewWebhook(t testing.TB) *Webhook {
	t.Helper()
	h := &Webhook{arrived: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
			return
		}
		var body struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("notification POST is not JSON: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.items = append(h.items, body.Value...)
		h.mu.Unlock()
		select {
		case h.arrived <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// Items returns the items received so far.
func (h *Webhook) Items() []json.RawMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]json.RawMessage(nil), h.items...)
}

// Await calls found with the items received so far, and again after each POST,
// until it reports true; past timeout it fails the test, saying what it waited for.
func (h *Webhook) Await(t testing.TB, timeout time.Duration, what string, found func(items []json.RawMessage) bool) {
	t.Helper()
	deadline := time.After(timeout)
	for !found(h.Items()) {
		select {
		case <-h.arrived:
		case <-deadline:
			t.Fatalf("no %s within %v; received: %s", what, timeout, h.Items())
		}
	}
}
