package delivery_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/wait"
)

// TestPushBack: with a push-back threshold of 300 ms, an endpoint that keeps its
// one slot busy while changes pile up makes the Graph API answer writes with 429
// TooManyRequests and a Retry-After of whole seconds; reads and subscription
// requests still pass; once the endpoint answers and the backlog drains, writes are
// accepted again.
func TestPushBack(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.PushBack = 300 * time.Millisecond
	cfg.PerURL, cfg.BatchSize = 1, 1
	h := setup(t, cfg)
	release := make(chan struct{})
	r := newReceiver(t)
	r.answer = func(n int, w http.ResponseWriter) {
		<-release
		w.WriteHeader(http.StatusAccepted)
	}
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	app := h.AppToken()
	h.subscribe(t, app, map[string]any{"changeType": "created", "notificationUrl": r.URL, "resource": "users/" + testserver.Adele + "/messages"})
	messages := "/v1.0/users/" + testserver.Adele + "/messages"
	var refused *testserver.Response
	if !wait.Poll(10*time.Second, func() bool {
		resp := h.Do("POST", messages, app, map[string]any{"subject": "pile up"})
		if resp.Status == http.StatusTooManyRequests {
			refused = resp
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
	if s, err := strconv.Atoi(refused.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want whole seconds ≥ 1", refused.Header.Get("Retry-After"))
	}
	if resp := h.Do("GET", messages+"?$top=1", app, nil); resp.Status != http.StatusOK {
		t.Errorf("GET while pushed back = %s, want 200", resp)
	}
	if resp := h.Do("GET", "/v1.0/subscriptions", app, nil); resp.Status != http.StatusOK {
		t.Errorf("GET subscriptions while pushed back = %s, want 200", resp)
	}
	close(release)
	if !wait.Poll(10*time.Second, func() bool {
		return h.Do("POST", messages, app, map[string]any{"subject": "after"}).Status == http.StatusCreated
	}) {
		t.Fatal("writes still refused after the backlog drained")
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
	if _, throttled := h.P.Throttle(t.Context()); throttled {
		t.Error("Throttle said yes without a threshold")
	}
}
