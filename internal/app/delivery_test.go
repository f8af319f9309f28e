package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/graph"
)

// TestDeliveryMetrics runs the real server: one change notifies two URLs; one
// answers 202, the other 500 and, on the retry after the clock moved two minutes,
// 202. GET /metrics must tell exactly that.
func TestDeliveryMetrics(t *testing.T) {
	m := start(t, app.Config{Profile: "dev", AdminKey: "metrics-test-key"})
	tok := appToken(t, m.URL)
	do := func(method, path string, body any, want int) {
		t.Helper()
		tok := tok
		if strings.HasPrefix(path, "/_graphhook/") {
			tok = m.Config.AdminKey
		}
		call(t, m.URL, tok, method, path, body, want)
	}
	good, flaky := newHookReceiver(t), newHookReceiver(t, http.StatusInternalServerError)
	// Different changeTypes, so that the second is not a duplicate of the first.
	for i, r := range []*hookReceiver{good, flaky} {
		do("POST", "/v1.0/subscriptions", map[string]any{"changeType": []string{"created", "created,updated"}[i], "notificationUrl": r.URL,
			"resource": "/users/" + demoAdele + "/messages", "expirationDateTime": graph.FormatTime(m.Clock.Now().Add(time.Hour))}, http.StatusCreated)
	}
	do("POST", "/v1.0/users/"+demoAdele+"/messages", map[string]any{"subject": "Metrics"}, http.StatusCreated)
	eventually(t, 10*time.Second, "the first delivery and the failure", func() bool {
		s := scrape(t, m.URL)
		return s[`graphhook_delivery_queue_depth{state="delivered"}`] == 1 && s[`graphhook_delivery_queue_depth{state="retryable"}`] == 1
	})
	// The retry is due 10 s (±20 %) after the failure: move the clock past it.
	do("POST", "/_graphhook/clock/advance", map[string]any{"duration": "2m"}, http.StatusOK)
	eventually(t, 10*time.Second, "the retry", func() bool {
		return scrape(t, m.URL)[`graphhook_delivery_queue_depth{state="delivered"}`] == 2
	})
	if good.count() != 1 || flaky.count() != 2 {
		t.Errorf("POSTs received = %d and %d, want 1 and 2", good.count(), flaky.count())
	}
	got := scrape(t, m.URL)
	want := map[string]float64{
		`graphhook_delivery_changes_total`:                            1,
		`graphhook_delivery_enqueued_total`:                           2,
		`graphhook_delivery_notifications_total{outcome="delivered"}`: 2,
		`graphhook_delivery_notifications_total{outcome="retried"}`:   1,
		`graphhook_delivery_posts_total{result="success"}`:            2,
		`graphhook_delivery_posts_total{result="failure"}`:            1,
		`graphhook_delivery_queue_depth{state="available"}`:           0,
		`graphhook_delivery_queue_depth{state="running"}`:             0,
		`graphhook_delivery_queue_depth{state="retryable"}`:           0,
		`graphhook_delivery_queue_depth{state="delivered"}`:           2,
		`graphhook_delivery_queue_depth{state="discarded"}`:           0,
		`graphhook_delivery_latency_seconds_count`:                    2,
		`graphhook_delivery_latency_seconds_bucket{le="30"}`:          1, // the first try, at once
		`graphhook_delivery_latency_seconds_bucket{le="60"}`:          1,
		`graphhook_delivery_latency_seconds_bucket{le="300"}`:         2, // the retry, two minutes of clock later
		`graphhook_delivery_latency_seconds_bucket{le="+Inf"}`:        2,
		`graphhook_delivery_endpoints{state="healthy"}`:               2,
		`graphhook_delivery_endpoints{state="slow"}`:                  0,
		`graphhook_delivery_endpoints{state="drop"}`:                  0,
		`graphhook_delivery_endpoints{state="probing"}`:               0,
	}
	for series, w := range want {
		if v, ok := got[series]; !ok || v != w {
			t.Errorf("GET /metrics: %s = %v (present %v), want %v", series, v, ok, w)
		}
	}
	if sum := got[`graphhook_delivery_latency_seconds_sum`]; sum < 120 || sum > 150 {
		t.Errorf("GET /metrics: graphhook_delivery_latency_seconds_sum = %v, want 120 to 150 (two minutes of clock, plus the first delivery)", sum)
	}
}
