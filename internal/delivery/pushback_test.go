package delivery_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/wait"
)

// TestPushBack: with a push-back threshold of 300 ms, an endpoint that keeps its
// one slot busy while changes pile up shuts the window of writes, even to a client
// that writes one at a time: the Graph API answers writes, once each has waited its
// 200 ms hold, with 429 TooManyRequests and a Retry-After of whole seconds; reads
// and subscription requests still pass; once the endpoint answers and the backlog
// drains, writes are accepted again.
func TestPushBack(t *testing.T) {
	t.Parallel()
	cfg, h, release, app, messages := pushedBack(t, 200*time.Millisecond)
	var refused *testserver.Response
	var took time.Duration
	if !wait.Poll(10*time.Second, func() bool {
		start := time.Now()
		resp := h.Do("POST", messages, app, map[string]any{"subject": "pile up"})
		if resp.Status == http.StatusTooManyRequests {
			refused, took = resp, time.Since(start)
			return true
		}
		if resp.Status != http.StatusCreated {
			t.Fatalf("POST message = %s", resp)
		}
		return false
	}) {
		t.Fatal("writes were never pushed back while the endpoint held the backlog")
	}
	if refused.ErrorCode() != "TooManyRequests" {
		t.Errorf("pushed-back write = %s, want TooManyRequests", refused)
	}
	if took < cfg.PushBackHold {
		t.Errorf("the write was refused after %v, before its hold of %v", took, cfg.PushBackHold)
	}
	if s, err := strconv.Atoi(refused.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want whole seconds ≥ 1", refused.Header.Get("Retry-After"))
	}
	if resp := h.Do("GET", messages+"?$top=1", app, nil); resp.Status != http.StatusOK {
		t.Errorf("GET while pushed back = %s, want 200", resp)
	}
	if resp := h.Do("GET", "/v1.0/subscriptions", app, nil); resp.Status != http.StatusOK {
		t.Errorf("GET subscriptions while pushed back = %s, want 200", resp)
	}
	release()
	if !wait.Poll(10*time.Second, func() bool {
		return h.Do("POST", messages, app, map[string]any{"subject": "after"}).Status == http.StatusCreated
	}) {
		t.Fatal("writes still refused after the backlog drained")
	}
}

// pushedBack starts a pipeline with a push-back threshold of 300 ms and the hold
// given, whose endpoint holds its one slot until release; it returns the config,
// an app token and the messages of a mailbox to write to.
func pushedBack(t *testing.T, hold time.Duration) (cfg delivery.Config, h *harness, release func(), app, messages string) {
	t.Helper()
	cfg = testConfig()
	cfg.PushBack, cfg.PushBackHold = 300*time.Millisecond, hold
	h, _, release = heldEndpoint(t, cfg)
	return cfg, h, release, h.AppToken(), "/v1.0/users/" + testserver.Adele + "/messages"
}

// TestPushBackHolds: once delivery is late (threshold 300 ms, one slot held by the
// endpoint) and the window of writes has shut, a write waits for a place, with a
// hold of 30 s, instead of being refused; once the endpoint answers and the backlog
// drains, the window opens and the waiting write is accepted.
func TestPushBackHolds(t *testing.T) {
	t.Parallel()
	_, h, release, app, messages := pushedBack(t, 30*time.Second)
	// One posted, eight claimed ahead of the slot, three waiting.
	for range 12 {
		if resp := h.Do("POST", messages, app, map[string]any{"subject": "pile up"}); resp.Status != http.StatusCreated {
			t.Fatalf("POST message = %s", resp)
		}
	}
	// A caller that has gone away is not held: Throttle then tells at once.
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if !wait.Poll(10*time.Second, func() bool {
		done, _, late := h.P.Throttle(gone)
		if !late {
			done()
		}
		return late
	}) {
		t.Fatal("writes were never held back while the endpoint held its slot")
	}
	done := make(chan *testserver.Response, 1)
	go func() { done <- h.Do("POST", messages, app, map[string]any{"subject": "held"}) }()
	if !wait.Poll(10*time.Second, func() bool { return h.P.WaitingWrites() == 1 }) {
		t.Fatal("the write did not wait for a place")
	}
	select {
	case resp := <-done:
		t.Fatalf("the write returned while delivery was late: %s", resp)
	default:
	}
	release()
	if resp := <-done; resp.Status != http.StatusCreated {
		t.Errorf("held write = %s, want 201 once the backlog drained", resp)
	}
}

// TestNoPushBackByDefault: a pipeline without a threshold never refuses writes,
// however far behind it is.
func TestNoPushBackByDefault(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.PerURL, cfg.BatchSize = 1, 1
	h := setup(t, cfg)
	release := make(chan struct{})
	r := newReceiver(t)
	r.answer = func(n int, w http.ResponseWriter) {
		<-release
		w.WriteHeader(http.StatusAccepted)
	}
	defer close(release)
	app := h.AppToken()
	h.subscribe(t, app, map[string]any{"changeType": "created", "notificationUrl": r.URL, "resource": "users/" + testserver.Adele + "/messages"})
	for i := range 20 {
		if resp := h.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages", app, map[string]any{"subject": "pile up"}); resp.Status != http.StatusCreated {
			t.Fatalf("POST %d = %s, want 201", i, resp)
		}
	}
	done, _, throttled := h.P.Throttle(t.Context())
	if throttled {
		t.Error("Throttle said yes without a threshold")
	} else {
		done()
	}
}
