package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
)

// The delivery log, replay, lifecycle notifications on demand and injected faults,
// through the admin API, against real loopback receivers.

type attemptJSON struct {
	Number     int     `json:"number"`
	Started    string  `json:"startedDateTime"`
	StatusCode *int    `json:"statusCode"`
	LatencyMs  float64 `json:"latencyMs"`
	Error      string  `json:"error"`
	Injected   bool    `json:"injected"`
}

type deliveryJSON struct {
	ID             string         `json:"id"`
	SubscriptionID string         `json:"subscriptionId"`
	TenantID       string         `json:"tenantId"`
	URL            string         `json:"url"`
	Kind           string         `json:"kind"`
	ChangeType     string         `json:"changeType"`
	LifecycleEvent string         `json:"lifecycleEvent"`
	Resource       string         `json:"resource"`
	State          string         `json:"state"`
	Attempt        int            `json:"attempt"`
	Created        string         `json:"createdDateTime"`
	NextAttempt    *string        `json:"nextAttemptDateTime"`
	Finished       *string        `json:"finishedDateTime"`
	Error          string         `json:"error"`
	ReplayOf       *string        `json:"replayOf"`
	Payload        map[string]any `json:"payload"`
	Attempts       []attemptJSON  `json:"attempts"`
}

type deliveryPage struct {
	Value    []deliveryJSON `json:"value"`
	NextLink string         `json:"@odata.nextLink"`
}

// admin calls the admin API and checks the status.
func (h *harness) admin(t *testing.T, method, path string, body any, want int) *testserver.Response {
	t.Helper()
	resp := h.Do(method, "/_graphhook/"+path, testserver.AdminKey, body)
	if resp.Status != want {
		t.Fatalf("%s /_graphhook/%s = %s, want %d", method, path, resp, want)
	}
	return resp
}

func decode[T any](t *testing.T, resp *testserver.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return v
}

func (h *harness) deliveries(t *testing.T, query string) deliveryPage {
	t.Helper()
	return decode[deliveryPage](t, h.admin(t, "GET", "deliveries"+query, nil, http.StatusOK))
}

// waitDelivery waits until the delivery log row id is in state, and returns it.
func (h *harness) waitDelivery(t *testing.T, id, state string) deliveryJSON {
	t.Helper()
	var d deliveryJSON
	if !h.until(func() bool {
		d = decode[deliveryJSON](t, h.admin(t, "GET", "deliveries/"+id, nil, http.StatusOK))
		return d.State == state
	}) {
		t.Fatalf("delivery %s: state %q, want %q: %+v", id, d.State, state, d)
	}
	return d
}

func TestDeliveryLogRecordsAttempts(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	r.setAnswer(func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	sub := h.insertSub(t, store.Subscription{NotificationURL: r.URL})
	h.record(t, store.Change{ID: "m1"})
	r.waitItems(t, 2)
	h.settle(t)

	page := h.deliveries(t, "?subscriptionId="+sub.ID)
	if len(page.Value) != 1 {
		t.Fatalf("deliveries of the subscription = %d, want 1: %+v", len(page.Value), page.Value)
	}
	d := page.Value[0]
	if d.State != "delivered" || d.Attempt != 2 || d.Kind != "change" || d.ChangeType != "created" || d.URL != r.URL ||
		d.TenantID != testserver.Tenant || d.NextAttempt != nil || d.Finished == nil || d.ReplayOf != nil {
		t.Errorf("delivery = %+v, want delivered after 2 attempts, finished, no next attempt", d)
	}
	if d.Payload["subscriptionId"] != sub.ID || d.Payload["changeType"] != "created" || !strings.HasSuffix(d.Payload["resource"].(string), "/Messages/m1") {
		t.Errorf("payload = %v, want the item as POSTed", d.Payload)
	}
	if len(d.Attempts) != 2 {
		t.Fatalf("attempts = %+v, want 2", d.Attempts)
	}
	first, second := d.Attempts[0], d.Attempts[1]
	if first.Number != 1 || first.StatusCode == nil || *first.StatusCode != 500 || first.Error != "HTTP 500" || first.Injected || first.LatencyMs <= 0 {
		t.Errorf("attempt 1 = %+v, want 500 with its error and a latency", first)
	}
	if second.Number != 2 || second.StatusCode == nil || *second.StatusCode != 202 || second.Error != "" || second.LatencyMs <= 0 {
		t.Errorf("attempt 2 = %+v, want 202 without error, with a latency", second)
	}
	// The receiver saw the attempt numbers in graphhook's own header, the one
	// graphhook listen reads under this name.
	if delivery.AttemptHeader != "X-Graphhook-Attempt" {
		t.Errorf("AttemptHeader = %q, want X-Graphhook-Attempt (internal/listen names it too)", delivery.AttemptHeader)
	}
	r.mu.Lock()
	headers := []string{r.posts[0].header.Get(delivery.AttemptHeader), r.posts[1].header.Get(delivery.AttemptHeader)}
	r.mu.Unlock()
	if headers[0] != "1" || headers[1] != "2" {
		t.Errorf("%s headers = %q, want [1 2]", delivery.AttemptHeader, headers)
	}
	// The failure was logged at info with what an operator needs.
	var failed string
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, "delivery: POST failed") {
			failed = line
		}
	}
	for _, want := range []string{"level=INFO", "subscription=" + sub.ID, "url=" + r.URL, "attempt=1", "status=500", "nextRetry=20"} {
		if !strings.Contains(failed, want) {
			t.Errorf("failure log line = %q, want it to contain %q", failed, want)
		}
	}
	// One row by id.
	one := decode[deliveryJSON](t, h.admin(t, "GET", "deliveries/"+d.ID, nil, http.StatusOK))
	if one.ID != d.ID || len(one.Attempts) != 2 {
		t.Errorf("GET deliveries/%s = %+v, want the same row", d.ID, one)
	}
	h.admin(t, "GET", "deliveries/999999", nil, http.StatusNotFound)
	h.admin(t, "GET", "deliveries/abc", nil, http.StatusNotFound)
}

func TestDeliveryLogFilters(t *testing.T) {
	h := setup(t, testConfig())
	ra, rb := newReceiver(t), newReceiver(t)
	rb.setAnswer(func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) })
	subA := h.insertSub(t, store.Subscription{NotificationURL: ra.URL})
	subB := h.insertSub(t, store.Subscription{NotificationURL: rb.URL})
	h.record(t, store.Change{ID: "m1"})
	ra.waitItems(t, 1)
	rb.waitItems(t, 1)
	mid := h.Clock.Now()
	h.Clock.Advance(time.Minute)
	h.record(t, store.Change{ID: "m2"}, store.Change{ID: "m3"})
	ra.waitItems(t, 3)
	if !h.until(func() bool { return h.counts(t)[store.NotificationDelivered] == 3 }) {
		t.Fatalf("queue %v, want 3 delivered", h.counts(t))
	}

	ids := func(p deliveryPage) []string {
		var out []string
		for _, d := range p.Value {
			out = append(out, d.ChangeType+":"+d.Resource[strings.LastIndex(d.Resource, "/")+1:]+"@"+d.SubscriptionID[:4])
		}
		return out
	}
	count := func(query string) int { return len(h.deliveries(t, query).Value) }
	if n := count(""); n != 6 {
		t.Errorf("all deliveries = %d, want 6", n)
	}
	if n := count("?subscriptionId=" + subA.ID); n != 3 {
		t.Errorf("subscription A = %d, want 3", n)
	}
	if n := count("?url=" + url.QueryEscape(rb.URL)); n != 3 {
		t.Errorf("url B = %d, want 3", n)
	}
	if n := count("?state=delivered"); n != 3 {
		t.Errorf("delivered = %d, want 3", n)
	}
	// B's rows go retryable, running (a retry in flight) and retryable again every
	// few milliseconds: they are all retryable between two retries.
	if !h.until(func() bool { return count("?state=retryable&subscriptionId="+subB.ID) == 3 }) {
		t.Errorf("retryable of B = %d, want 3 (it answers 400)", count("?state=retryable&subscriptionId="+subB.ID))
	}
	if n := count("?until=" + url.QueryEscape(graph.FormatTime(mid.Add(time.Second)))); n != 2 {
		t.Errorf("until the middle = %d, want 2", n)
	}
	if n := count("?since=" + url.QueryEscape(graph.FormatTime(mid.Add(time.Second)))); n != 4 {
		t.Errorf("since the middle = %d, want 4", n)
	}
	// Paging: newest first, two by two, through @odata.nextLink.
	var seen []string
	page := h.deliveries(t, "?$top=4")
	seen = append(seen, ids(page)...)
	if len(page.Value) != 4 || page.NextLink == "" {
		t.Fatalf("first page = %d rows, nextLink %q; want 4 and a link", len(page.Value), page.NextLink)
	}
	rest := decode[deliveryPage](t, h.admin(t, "GET", strings.TrimPrefix(page.NextLink, h.URL+"/_graphhook/"), nil, http.StatusOK))
	seen = append(seen, ids(rest)...)
	if len(rest.Value) != 2 || rest.NextLink != "" {
		t.Errorf("second page = %d rows, nextLink %q; want 2 and none", len(rest.Value), rest.NextLink)
	}
	if first, last := page.Value[0].ID, rest.Value[1].ID; first <= last && len(first) == len(last) {
		t.Errorf("pages not newest first: %v", seen)
	}
	// Bad filters are refused the Graph way.
	for _, q := range []string{"?state=lost", "?since=yesterday", "?until=2026-13-01T00:00:00Z", "?$top=0", "?$top=1001", "?$skiptoken=%25%25"} {
		resp := h.Do("GET", "/_graphhook/deliveries"+q, testserver.AdminKey, nil)
		if resp.Status != http.StatusBadRequest || resp.ErrorCode() != graph.CodeBadRequest {
			t.Errorf("GET deliveries%s = %s, want 400 BadRequest", q, resp)
		}
	}
}

func TestReplayNotification(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	sub := h.insertSub(t, store.Subscription{NotificationURL: r.URL})
	h.record(t, store.Change{ID: "m1"}, store.Change{ID: "m2"})
	r.waitItems(t, 2)
	h.settle(t)
	orig := h.deliveries(t, "?subscriptionId="+sub.ID).Value
	if len(orig) != 2 {
		t.Fatalf("deliveries = %d, want 2", len(orig))
	}
	newest := orig[0]

	out := decode[deliveryPage](t, h.admin(t, "POST", "deliveries/"+newest.ID+"/replay", nil, http.StatusAccepted))
	if len(out.Value) != 1 || out.Value[0].ReplayOf == nil || *out.Value[0].ReplayOf != newest.ID || out.Value[0].ID == newest.ID {
		t.Fatalf("replay = %+v, want one new row replaying %s", out.Value, newest.ID)
	}
	items := r.waitItems(t, 3)
	if items[2]["resource"] != newest.Resource || items[2]["subscriptionId"] != sub.ID {
		t.Errorf("replayed item = %v, want %s again", items[2], newest.Resource)
	}
	h.waitDelivery(t, out.Value[0].ID, "delivered")

	// A subscription's range: both originals again, not the replay, oldest first.
	all := decode[deliveryPage](t, h.admin(t, "POST", "subscriptions/"+sub.ID+"/replay", map[string]any{}, http.StatusAccepted))
	if len(all.Value) != 2 || *all.Value[0].ReplayOf != orig[1].ID || *all.Value[1].ReplayOf != orig[0].ID {
		t.Fatalf("range replay = %+v, want the 2 originals oldest first", all.Value)
	}
	r.waitItems(t, 5)
	// A window that holds nothing replays nothing.
	future := graph.FormatTime(h.Clock.Now().Add(time.Hour))
	none := decode[deliveryPage](t, h.admin(t, "POST", "subscriptions/"+sub.ID+"/replay", map[string]any{"since": future}, http.StatusAccepted))
	if len(none.Value) != 0 {
		t.Errorf("replay since the future = %+v, want none", none.Value)
	}

	h.admin(t, "POST", "deliveries/424242/replay", nil, http.StatusNotFound)
	h.admin(t, "POST", "subscriptions/nope/replay", nil, http.StatusNotFound)
	for _, body := range []any{map[string]any{"since": "soon"}, map[string]any{"from": future},
		map[string]any{"since": future, "until": graph.FormatTime(h.Clock.Now())}, "[1]"} {
		resp := h.Do("POST", "/_graphhook/subscriptions/"+sub.ID+"/replay", testserver.AdminKey, body)
		if resp.Status != http.StatusBadRequest || resp.ErrorCode() != graph.CodeBadRequest {
			t.Errorf("replay with %v = %s, want 400 BadRequest", body, resp)
		}
	}
	// A notification whose subscription is gone cannot be replayed.
	h.admin(t, "POST", "subscriptions/"+sub.ID+"/expire", nil, http.StatusOK)
	resp := h.Do("POST", "/_graphhook/deliveries/"+newest.ID+"/replay", testserver.AdminKey, nil)
	if resp.Status != http.StatusBadRequest {
		t.Errorf("replay after the subscription expired = %s, want 400", resp)
	}
}

func TestLifecycleOnDemand(t *testing.T) {
	h := setup(t, testConfig())
	notes, lc := newReceiver(t), newReceiver(t)
	sub := h.insertSub(t, store.Subscription{NotificationURL: notes.URL, LifecycleURL: lc.URL})
	for i, event := range []string{graph.LifecycleReauthorizationRequired, graph.LifecycleMissed, graph.LifecycleSubscriptionRemoved} {
		h.admin(t, "POST", "subscriptions/"+sub.ID+"/lifecycle", map[string]any{"event": event}, http.StatusAccepted)
		items := lc.waitItems(t, i+1)
		got := items[i]
		if got["lifecycleEvent"] != event || got["subscriptionId"] != sub.ID || got["tenantId"] != testserver.Tenant {
			t.Errorf("lifecycle item %d = %v, want %s for %s", i, got, event, sub.ID)
		}
	}
	// subscriptionRemoved removed it.
	err := h.Store.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.GetSubscription(context.Background(), sub.ID)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("subscription after subscriptionRemoved: %v, want it gone", err)
	}
	log := h.deliveries(t, "?url="+url.QueryEscape(lc.URL)).Value
	if len(log) != 3 || log[0].Kind != "lifecycle" || log[0].LifecycleEvent != graph.LifecycleSubscriptionRemoved {
		t.Errorf("lifecycle log = %+v, want 3 lifecycle rows, newest subscriptionRemoved", log)
	}

	plain := h.insertSub(t, store.Subscription{NotificationURL: notes.URL})
	for _, tc := range []struct {
		id   string
		body any
		want int
	}{
		{plain.ID, map[string]any{"event": "missed"}, http.StatusBadRequest}, // no lifecycleNotificationUrl
		{plain.ID, map[string]any{"event": "lost"}, http.StatusBadRequest},
		{plain.ID, map[string]any{}, http.StatusBadRequest},
		{plain.ID, map[string]any{"event": "missed", "when": "now"}, http.StatusBadRequest},
		{plain.ID, map[string]any{"event": 3}, http.StatusBadRequest},
		{plain.ID, "not json", http.StatusBadRequest},
		{"nope", map[string]any{"event": "missed"}, http.StatusNotFound},
	} {
		resp := h.Do("POST", "/_graphhook/subscriptions/"+tc.id+"/lifecycle", testserver.AdminKey, tc.body)
		if resp.Status != tc.want || resp.ErrorCode() == "" {
			t.Errorf("lifecycle %v on %s = %s, want %d with a Graph error", tc.body, tc.id, resp, tc.want)
		}
	}
}

func TestExpireNow(t *testing.T) {
	cfg := testConfig()
	h := setup(t, cfg)
	notes, lc := newReceiver(t), newReceiver(t)
	// The endpoint fails, so the change waits in the queue when the expiry comes.
	notes.setAnswer(func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	sub := h.insertSub(t, store.Subscription{NotificationURL: notes.URL, LifecycleURL: lc.URL})
	h.record(t, store.Change{ID: "m1"})
	notes.waitItems(t, 1)
	h.admin(t, "POST", "subscriptions/"+sub.ID+"/expire", nil, http.StatusOK)
	err := h.Store.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.GetSubscription(context.Background(), sub.ID)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("subscription after expire: %v, want it gone", err)
	}
	h.settle(t)
	log := h.deliveries(t, "?subscriptionId="+sub.ID).Value
	if len(log) != 1 || log[0].State != "discarded" {
		t.Errorf("log after expiry = %+v, want its notification discarded", log)
	}
	// Graph sends no lifecycle notification when a subscription expires.
	if n := lc.postCount(); n != 0 {
		t.Errorf("lifecycle POSTs after expiry = %d, want 0", n)
	}
	h.admin(t, "POST", "subscriptions/"+sub.ID+"/expire", nil, http.StatusNotFound)
	resp := h.Do("POST", "/_graphhook/subscriptions/"+sub.ID+"/expire", testserver.AdminKey, map[string]any{"at": "now"})
	if resp.Status != http.StatusBadRequest {
		t.Errorf("expire with a body property = %s, want 400", resp)
	}
}

func TestAdminSubscriptions(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	sub := h.insertSub(t, store.Subscription{NotificationURL: r.URL, Data: []byte(`{"id":"x","resource":"me/messages"}`)})
	type list struct {
		Value []map[string]any `json:"value"`
	}
	got := decode[list](t, h.admin(t, "GET", "subscriptions?tenantId="+testserver.Tenant, nil, http.StatusOK))
	if len(got.Value) != 1 || got.Value[0]["tenantId"] != testserver.Tenant || got.Value[0]["applicationId"] != sub.AppID || got.Value[0]["resource"] != "me/messages" {
		t.Errorf("GET subscriptions = %v, want the one subscription with tenantId and applicationId", got.Value)
	}
	if all := decode[list](t, h.admin(t, "GET", "subscriptions", nil, http.StatusOK)); len(all.Value) != 1 {
		t.Errorf("GET subscriptions (every tenant) = %d, want 1", len(all.Value))
	}
	h.admin(t, "GET", "subscriptions?tenantId=nowhere.example", nil, http.StatusNotFound)
}

type faultJSON struct {
	ID         string  `json:"id"`
	URL        string  `json:"url"`
	Mode       string  `json:"mode"`
	StatusCode *int    `json:"statusCode"`
	Delay      *string `json:"delay"`
	Remaining  *int    `json:"remaining"`
	Expires    *string `json:"expiresDateTime"`
}

func (h *harness) fault(t *testing.T, body map[string]any) faultJSON {
	t.Helper()
	return decode[faultJSON](t, h.admin(t, "POST", "faults", body, http.StatusCreated))
}

// attempts returns the log's attempts of the only row of sub once it is delivered.
func (h *harness) deliveredAttempts(t *testing.T, sub string) []attemptJSON {
	t.Helper()
	var rows []deliveryJSON
	if !h.until(func() bool {
		rows = h.deliveries(t, "?subscriptionId="+sub).Value
		return len(rows) == 1 && rows[0].State == "delivered"
	}) {
		t.Fatalf("log of %s = %+v, want one delivered row", sub, rows)
	}
	return rows[0].Attempts
}

func TestFaultsByCount(t *testing.T) {
	cases := []struct {
		mode string
		body map[string]any
		// check is each injected attempt's check.
		check func(a attemptJSON) bool
	}{
		{"status", map[string]any{"statusCode": 429}, func(a attemptJSON) bool {
			return a.StatusCode != nil && *a.StatusCode == 429 && a.Error == "HTTP 429 (injected)"
		}},
		{"timeout", nil, func(a attemptJSON) bool {
			return a.StatusCode == nil && strings.HasPrefix(a.Error, "no response within") && strings.HasSuffix(a.Error, "(injected)")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			h := setup(t, testConfig())
			r := newReceiver(t)
			sub := h.insertSub(t, store.Subscription{NotificationURL: r.URL})
			body := map[string]any{"url": r.URL, "mode": tc.mode, "count": 2}
			for k, v := range tc.body {
				body[k] = v
			}
			f := h.fault(t, body)
			if f.Remaining == nil || *f.Remaining != 2 || f.Expires != nil || f.Mode != tc.mode {
				t.Errorf("fault = %+v, want 2 remaining and no expiry", f)
			}
			h.record(t, store.Change{ID: "m-" + tc.mode})
			attempts := h.deliveredAttempts(t, sub.ID)
			if len(attempts) != 3 {
				t.Fatalf("attempts = %+v, want 2 injected then 1 real", attempts)
			}
			for _, a := range attempts[:2] {
				if !a.Injected || !tc.check(a) {
					t.Errorf("injected attempt = %+v", a)
				}
			}
			if a := attempts[2]; a.Injected || a.StatusCode == nil || *a.StatusCode != 202 {
				t.Errorf("third attempt = %+v, want the real 202", a)
			}
			// The POSTs were not made: the receiver saw only the third.
			if n := r.postCount(); n != 1 {
				t.Errorf("receiver POSTs = %d, want 1", n)
			}
			r.mu.Lock()
			header := r.posts[0].header.Get(delivery.AttemptHeader)
			r.mu.Unlock()
			if header != "3" {
				t.Errorf("%s = %q, want 3", delivery.AttemptHeader, header)
			}
			type list struct {
				Value []faultJSON `json:"value"`
			}
			for _, g := range decode[list](t, h.admin(t, "GET", "faults", nil, http.StatusOK)).Value {
				if g.ID == f.ID && (g.Remaining == nil || *g.Remaining != 0) {
					t.Errorf("spent fault = %+v, want remaining 0", g)
				}
			}
		})
	}
	t.Run("slow", func(t *testing.T) {
		h := setup(t, testConfig())
		r := newReceiver(t)
		sub := h.insertSub(t, store.Subscription{NotificationURL: r.URL})
		h.fault(t, map[string]any{"url": r.URL, "mode": "slow", "delay": "150ms", "count": 1})
		h.record(t, store.Change{ID: "m-slow"})
		attempts := h.deliveredAttempts(t, sub.ID)
		if len(attempts) != 1 {
			t.Fatalf("attempts = %+v, want 1", attempts)
		}
		if a := attempts[0]; !a.Injected || a.StatusCode == nil || *a.StatusCode != 202 || a.LatencyMs < 150 {
			t.Errorf("slow attempt = %+v, want the real 202, injected, at least 150 ms", a)
		}
		if n := r.postCount(); n != 1 {
			t.Errorf("receiver POSTs = %d, want 1 (the slow POST is real)", n)
		}
		// Spent: the next one goes at once.
		h.record(t, store.Change{ID: "m-slow-2"})
		r.waitItems(t, 2)
		h.settle(t)
		rows := h.deliveries(t, "?subscriptionId="+sub.ID).Value
		if a := rows[0].Attempts; len(a) != 1 || a[0].Injected {
			t.Errorf("attempts after the fault = %+v, want one real", a)
		}
	})
}

func TestFaultsByDuration(t *testing.T) {
	for _, mode := range []string{"status", "timeout", "slow"} {
		t.Run(mode, func(t *testing.T) {
			h := setup(t, testConfig())
			r := newReceiver(t)
			sub := h.insertSub(t, store.Subscription{NotificationURL: r.URL, Expiration: h.Clock.Now().Add(24 * time.Hour),
				AuthorizedUntil: h.Clock.Now().Add(24 * time.Hour)})
			body := map[string]any{"url": r.URL, "mode": mode, "duration": "5m"}
			if mode == "slow" {
				body["delay"] = "50ms"
			}
			f := h.fault(t, body)
			if f.Remaining != nil || f.Expires == nil {
				t.Fatalf("fault = %+v, want no count and an expiry", f)
			}
			h.record(t, store.Change{ID: "m1-" + mode})
			// While it lasts, every attempt is injected.
			var rows []deliveryJSON
			want := 2
			if mode == "slow" {
				want = 1 // the slow POST succeeds
			}
			if !h.until(func() bool {
				rows = h.deliveries(t, "?subscriptionId="+sub.ID).Value
				return len(rows) == 1 && len(rows[0].Attempts) >= want
			}) {
				t.Fatalf("log = %+v, want %d attempts", rows, want)
			}
			for _, a := range rows[0].Attempts {
				if !a.Injected {
					t.Errorf("attempt within the fault's duration = %+v, want injected", a)
				}
			}
			h.Clock.Advance(6 * time.Minute)
			h.record(t, store.Change{ID: "m2-" + mode})
			if !h.until(func() bool {
				rows = h.deliveries(t, "?subscriptionId="+sub.ID).Value
				return len(rows) == 2 && rows[0].State == "delivered" && rows[1].State == "delivered"
			}) {
				t.Fatalf("log after the fault = %+v, want both delivered", rows)
			}
			if a := rows[0].Attempts; len(a) != 1 || a[0].Injected {
				t.Errorf("attempts of the change after the fault = %+v, want one real", a)
			}
			if a := rows[1].Attempts; mode != "slow" && a[len(a)-1].Injected {
				t.Errorf("last attempt of the first change = %+v, want real", a[len(a)-1])
			}
		})
	}
}

func TestFaultInput(t *testing.T) {
	h := setup(t, testConfig())
	const u = "http://127.0.0.1:9/hook"
	for _, body := range []any{
		map[string]any{"mode": "status", "count": 1},
		map[string]any{"url": "not a url", "mode": "status", "count": 1},
		map[string]any{"url": "ftp://x/y", "mode": "status", "count": 1},
		map[string]any{"url": u, "mode": "broken", "count": 1},
		map[string]any{"url": u, "count": 1},
		map[string]any{"url": u, "mode": "status"},
		map[string]any{"url": u, "mode": "status", "count": 0},
		map[string]any{"url": u, "mode": "status", "count": 1.5},
		map[string]any{"url": u, "mode": "status", "count": "2"},
		map[string]any{"url": u, "mode": "status", "count": 1, "statusCode": 200},
		map[string]any{"url": u, "mode": "status", "count": 1, "delay": "1s"},
		map[string]any{"url": u, "mode": "slow", "count": 1},
		map[string]any{"url": u, "mode": "slow", "count": 1, "delay": "-1s"},
		map[string]any{"url": u, "mode": "slow", "count": 1, "delay": "1h"},
		map[string]any{"url": u, "mode": "timeout", "count": 1, "statusCode": 503},
		map[string]any{"url": u, "mode": "timeout", "duration": "forever"},
		map[string]any{"url": u, "mode": "timeout", "count": 1, "target": "x"},
		"[]",
	} {
		resp := h.Do("POST", "/_graphhook/faults", testserver.AdminKey, body)
		if resp.Status != http.StatusBadRequest || resp.ErrorCode() != graph.CodeBadRequest {
			t.Errorf("POST faults %v = %s, want 400 BadRequest", body, resp)
		}
	}
	f := h.fault(t, map[string]any{"url": u, "mode": "status", "count": 1, "duration": "1m"})
	if f.StatusCode == nil || *f.StatusCode != 503 || f.Remaining == nil || *f.Remaining != 1 || f.Expires == nil {
		t.Errorf("fault with defaults = %+v, want 503, 1 remaining and an expiry", f)
	}
	h.admin(t, "DELETE", "faults/"+f.ID, nil, http.StatusNoContent)
	h.admin(t, "DELETE", "faults/"+f.ID, nil, http.StatusNotFound)
}

func TestRetentionPrunesTheLog(t *testing.T) {
	cfg := testConfig()
	cfg.Retention = time.Hour
	cfg.RetentionInterval = 20 * time.Millisecond
	h := setup(t, cfg)
	r := newReceiver(t)
	sub := h.insertSub(t, store.Subscription{NotificationURL: r.URL, Expiration: h.Clock.Now().Add(24 * time.Hour),
		AuthorizedUntil: h.Clock.Now().Add(24 * time.Hour)})
	h.fault(t, map[string]any{"url": r.URL, "mode": "status", "count": 1})
	h.record(t, store.Change{ID: "m1"})
	attempts := h.deliveredAttempts(t, sub.ID)
	if len(attempts) != 2 {
		t.Fatalf("attempts = %+v, want 2", attempts)
	}
	id := h.deliveries(t, "?subscriptionId="+sub.ID).Value[0].ID
	h.Clock.Advance(30 * time.Minute)
	h.admin(t, "GET", "deliveries/"+id, nil, http.StatusOK)
	h.Clock.Advance(31 * time.Minute)
	if !h.until(func() bool {
		return h.Do("GET", "/_graphhook/deliveries/"+id, testserver.AdminKey, nil).Status == http.StatusNotFound
	}) {
		t.Fatalf("delivery %s still in the log past its retention", id)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	err := h.Store.View(context.Background(), func(tx store.Tx) error {
		byRow, err := tx.Attempts(context.Background(), []int64{n})
		if len(byRow) != 0 {
			t.Errorf("attempts of the pruned row = %v, want none", byRow)
		}
		fs, _ := tx.Faults(context.Background())
		if len(fs) != 0 {
			t.Errorf("faults after retention = %+v, want the spent one pruned", fs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
