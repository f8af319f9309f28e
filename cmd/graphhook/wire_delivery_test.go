package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
)

// hookReceiver is a loopback webhook: it answers validation handshakes and then
// each notification POST with the next status of its script (202 once it runs out).
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	script []int
	posts  int
}

func newHookReceiver(t *testing.T, script ...int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok := req.URL.Query().Get("validationToken"); tok != "" {
			io.WriteString(w, tok)
			return
		}
		io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		status := http.StatusAccepted
		if r.posts < len(r.script) {
			status = r.script[r.posts]
		}
		r.posts++
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.posts
}

// scrape reads GET /metrics into series → value, the series written as Prometheus
// writes them (name{label="value",…}).
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// waitFor polls cond with a deadline of 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// TestDeliveryMetrics runs the real server: one change notifies two URLs; one
// answers 202, the other 500 and, on the retry after the clock moved two minutes,
// 202. GET /metrics must tell exactly that.
func TestDeliveryMetrics(t *testing.T) {
	m := NewMain(Config{Addr: "127.0.0.1:0", Data: t.TempDir(), Profile: "dev", LogLevel: "error", AdminKey: "metrics-test-key"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Shutdown(ctx)
	})
	const tenant, adele = "6f1c2d3e-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000001"
	tok := tokenFrom(t, m.URL+"/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"11111111-0000-4000-8000-000000000001"}, "client_secret": {"demo-app-secret"}, "scope": {"https://graph.microsoft.com/.default"}})
	do := func(method, path string, body any, want int) {
		t.Helper()
		tok := tok
		if strings.HasPrefix(path, "/_graphhook/") {
			tok = m.Config.AdminKey
		}
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, m.URL+path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			msg, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, msg, want)
		}
	}
	good, flaky := newHookReceiver(t), newHookReceiver(t, http.StatusInternalServerError)
	// Different changeTypes, so that the second is not a duplicate of the first.
	for i, r := range []*hookReceiver{good, flaky} {
		do("POST", "/v1.0/subscriptions", map[string]any{"changeType": []string{"created", "created,updated"}[i], "notificationUrl": r.URL,
			"resource": "/users/" + adele + "/messages", "expirationDateTime": graph.FormatTime(m.Clock.Now().Add(time.Hour))}, http.StatusCreated)
	}
	do("POST", "/v1.0/users/"+adele+"/messages", map[string]any{"subject": "Metrics"}, http.StatusCreated)
	waitFor(t, "the first delivery and the failure", func() bool {
		s := scrape(t, m.URL)
		return s[`graphhook_delivery_queue_depth{state="delivered"}`] == 1 && s[`graphhook_delivery_queue_depth{state="retryable"}`] == 1
	})
	// The retry is due 10 s (±20 %) after the failure: move the clock past it.
	do("POST", "/_graphhook/clock/advance", map[string]any{"duration": "2m"}, http.StatusOK)
	waitFor(t, "the retry", func() bool {
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
