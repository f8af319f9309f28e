package delivery_test

import (
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// TestStrictProfileRefusesLoopback: in the strict profile a notification URL on
// 127.0.0.1 is refused when connecting; the POST is a delivery failure (the row is
// retried, with the refusal as its error), the receiver sees nothing, and the
// pipeline carries on.
func TestStrictProfileRefusesLoopback(t *testing.T) {
	cfg := testConfig()
	cfg.Strict = true
	cfg.Retry.Base = time.Hour // one attempt is enough to look at
	cfg.Retry.Max = time.Hour
	h := setup(t, cfg)
	r := newReceiver(t)
	h.insertSub(t, store.Subscription{NotificationURL: r.URL})
	h.record(t, store.Change{ID: "m1"})
	var row store.Notification
	tried := func() bool {
		row = h.row(t, 1)
		return row.State != store.NotificationAvailable && row.State != store.NotificationRunning
	}
	if !h.until(tried) {
		t.Fatalf("row state %q after 10 s, want retryable", row.State)
	}
	const refusal = "egress: refusing to connect to 127.0.0.1, a loopback address"
	if row.State != store.NotificationRetryable || row.Attempt != 1 || !strings.Contains(row.Error, refusal) {
		t.Errorf("row = %s attempt %d error %q; want retryable, attempt 1, error containing %q", row.State, row.Attempt, row.Error, refusal)
	}
	if n := r.postCount(); n != 0 {
		t.Errorf("receiver got %d POSTs in the strict profile, want 0", n)
	}
	if got := metricValue(t, h, "graphhook_delivery_posts_total", "result", "failure"); got != 1 {
		t.Errorf("graphhook_delivery_posts_total{result=failure} = %v, want 1", got)
	}
}
