package delivery_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/wait"
	"github.com/graphhook/graphhook/internal/workload/outlook"
	"github.com/graphhook/graphhook/internal/workload/teams"
	gh "github.com/graphhook/graphhook/receiver"
)

// insertSub stores a subscription directly, for the cases the API cannot set up
// (a lapsed authorization, an app that has since lost its permission).
func (h *harness) insertSub(t *testing.T, s store.Subscription) store.Subscription {
	t.Helper()
	now := h.Clock.Now()
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	s.Tenant = cmp.Or(s.Tenant, testserver.Tenant)
	s.AppID = cmp.Or(s.AppID, testserver.AppID)
	s.CreatorID = cmp.Or(s.CreatorID, identity.ServicePrincipalID(testserver.Tenant, s.AppID))
	if s.PermissionType == 0 {
		s.PermissionType = int(identity.Application)
	}
	s.ResourceType = cmp.Or(s.ResourceType, outlook.MessageResource)
	s.Topic = cmp.Or(s.Topic, change.UserMessages(testserver.Adele))
	s.ChangeTypes = cmp.Or(s.ChangeTypes, "created,updated,deleted")
	if s.Expiration.IsZero() {
		s.Expiration = now.Add(time.Hour)
	}
	if s.AuthorizedUntil.IsZero() {
		s.AuthorizedUntil = now.Add(time.Hour)
	}
	s.Created = now
	if s.Data == nil {
		s.Data = []byte(`{"id":"` + s.ID + `"}`)
	}
	err := h.Store.Update(context.Background(), func(tx store.Tx) error { return tx.InsertSubscription(context.Background(), &s) })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// record appends message changes for Adele's mailbox the way the outlook workload
// does, all in one transaction.
func (h *harness) record(t *testing.T, changes ...store.Change) {
	t.Helper()
	ctx := context.Background()
	err := h.Store.Update(ctx, func(tx store.Tx) error {
		for _, c := range changes {
			c.Tenant = cmp.Or(c.Tenant, testserver.Tenant)
			c.Kind = cmp.Or(c.Kind, "message")
			c.ChangeType = cmp.Or(c.ChangeType, store.Created)
			if c.Topics == nil {
				c.Topics = []string{change.UserMessages(testserver.Adele)}
			}
			res := "Users/" + testserver.Adele + "/Messages/" + c.ID
			n := change.Notice{Resource: res, ODataType: "#Microsoft.Graph.Message", ODataID: res, ID: c.ID}
			if c.Extra != nil {
				json.Unmarshal(c.Extra, &n)
			}
			if err := change.Record(ctx, tx, c.Tenant, c.Kind, c.ID, c.ChangeType, c.Topics, c.Before, c.After, n, h.Clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("recording changes: %v", err)
	}
}

func TestBatchingAcrossSubscriptionsAndTenants(t *testing.T) {
	cfg := testConfig()
	cfg.BatchSize = 3
	h := setup(t, cfg)
	r := newReceiver(t)
	const other = "7a7a7a7a-0000-4000-8000-000000000009"
	for i := 0; i < 4; i++ {
		h.insertSub(t, store.Subscription{NotificationURL: r.URL})
	}
	h.insertSub(t, store.Subscription{NotificationURL: r.URL, Tenant: other})
	h.record(t, store.Change{ID: "m1"}, store.Change{ID: "m2", Tenant: other})
	items := r.waitItems(t, 5)
	h.settle(t)
	if got := len(r.items(t)); got != 5 {
		t.Errorf("items = %d, want 5 (one per subscription)", got)
	}
	if got := r.postCount(); got != 2 {
		t.Errorf("POSTs = %d, want 2 (batches of at most 3)", got)
	}
	tenants := map[string]int{}
	for _, it := range items {
		tenants[it["tenantId"].(string)]++
	}
	if tenants[testserver.Tenant] != 4 || tenants[other] != 1 {
		t.Errorf("items by tenant = %v, want 4 and 1", tenants)
	}
	for _, b := range r.bodies() {
		var c struct{ Value []json.RawMessage }
		json.Unmarshal(b, &c)
		if len(c.Value) > 3 {
			t.Errorf("a POST carried %d items, want at most 3", len(c.Value))
		}
		if bytes.Contains(b, []byte("validationTokens")) {
			t.Errorf("a batch without rich notifications has a validationTokens key: %s", b)
		}
	}
}

func TestRetryAfterServerError(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	r.setAnswer(func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	h.insertSub(t, store.Subscription{NotificationURL: r.URL})
	h.record(t, store.Change{ID: "m1"})
	r.waitItems(t, 2)
	h.settle(t)
	items := r.items(t)
	if len(items) != 2 || items[0]["resource"] != items[1]["resource"] {
		t.Fatalf("items = %v, want the same notification twice (500, then 202)", items)
	}
	c := h.counts(t)
	if c[store.NotificationDelivered] != 1 || len(c) != 1 {
		t.Errorf("queue = %v, want exactly 1 delivered", c)
	}
	row := h.row(t, 1)
	if row.Attempt != 2 || row.Error != "HTTP 500" {
		t.Errorf("row: attempt %d error %q, want 2 and HTTP 500", row.Attempt, row.Error)
	}
}

func (h *harness) row(t *testing.T, id int64) store.Notification {
	t.Helper()
	var n store.Notification
	err := h.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.GetNotification(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetryAfterHeaderHonoured(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	var mu sync.Mutex
	var at []time.Time
	r.setAnswer(func(n int, w http.ResponseWriter) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h.insertSub(t, store.Subscription{NotificationURL: r.URL})
	h.record(t, store.Change{ID: "m1"})
	r.waitItems(t, 2)
	// The receiver records an item before its answer function runs: wait for the
	// second answer's timestamp too.
	if !wait.Poll(10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(at) >= 2 }) {
		t.Fatal("the retry's answer never ran")
	}
	mu.Lock()
	defer mu.Unlock()
	// The policy alone would retry after ~20 ms.
	if gap := at[1].Sub(at[0]); gap < time.Second {
		t.Errorf("retry came %v after a 429 with Retry-After: 1, want at least 1s", gap)
	}
}

func TestSlowReceiverIsAFailure(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = 100 * time.Millisecond
	cfg.RetryTimeout = 2 * time.Second
	h := setup(t, cfg)
	r := newReceiver(t)
	release := make(chan struct{})
	r.setAnswer(func(n int, w http.ResponseWriter) {
		if n == 1 {
			<-release // answer only after the sender gave up
		}
		w.WriteHeader(http.StatusAccepted)
	})
	h.insertSub(t, store.Subscription{NotificationURL: r.URL})
	h.record(t, store.Change{ID: "m1"})
	r.waitItems(t, 1)
	tried := func() bool {
		s := h.row(t, 1).State
		return s == store.NotificationRetryable || s == store.NotificationDelivered
	}
	if !h.until(tried) {
		t.Fatalf("row state %q, want retryable after the timeout", h.row(t, 1).State)
	}
	close(release)
	r.waitItems(t, 2)
	h.settle(t)
	row := h.row(t, 1)
	if row.State != store.NotificationDelivered || row.Attempt != 2 || !strings.Contains(row.Error, "no response within 100ms") {
		t.Errorf("row = %q attempt %d error %q; want delivered on attempt 2 after 'no response within 100ms'", row.State, row.Attempt, row.Error)
	}
}

func TestSlowAndDropStates(t *testing.T) {
	cfg := testConfig()
	// Wide margins between the classes (a loaded machine with the race detector
	// adds tens of milliseconds to a response): fast < 100 ms ≤ slow < 400 ms ≤ drop.
	cfg.Timeout = 100 * time.Millisecond
	cfg.RetryTimeout = 400 * time.Millisecond
	cfg.Retry = delivery.RetryPolicy{Base: time.Millisecond, Max: time.Millisecond}
	cfg.Health = delivery.HealthConfig{MinSamples: 2, ProbeSize: 2}
	h := setup(t, cfg)
	r := newReceiver(t)
	life := newReceiver(t)
	var delay time.Duration
	var mu sync.Mutex
	setDelay := func(d time.Duration) { mu.Lock(); delay = d; mu.Unlock() }
	r.setAnswer(func(n int, w http.ResponseWriter) {
		mu.Lock()
		d := delay
		mu.Unlock()
		time.Sleep(d) // the receiver's own slowness, which is what is under test
		w.WriteHeader(http.StatusAccepted)
	})
	h.insertSub(t, store.Subscription{NotificationURL: r.URL, LifecycleURL: life.URL})

	// Two responses slower than the 100 ms timeout but faster than the retry timeout
	// (each first try fails, its retry succeeds slowly): slow.
	setDelay(220 * time.Millisecond)
	h.record(t, store.Change{ID: "m1"})
	waitState(t, h, r.URL, delivery.Slow)
	h.settle(t)

	// While slow, a new notification waits SlowDelay (10 minutes of the clock).
	setDelay(0)
	before := len(r.items(t))
	h.record(t, store.Change{ID: "m2"})
	if c := h.counts(t); c[store.NotificationAvailable] != 1 {
		t.Fatalf("queue = %v, want the new row available (delayed)", c)
	}
	h.P.Wake()
	if got := len(r.items(t)); got != before {
		t.Fatalf("a slow endpoint got a new notification at once (%d items, want %d)", got, before)
	}
	h.Clock.Advance(10 * time.Minute)
	h.P.Wake()
	r.waitItems(t, before+1)
	h.settle(t)

	// Responses past the retry timeout: drop. Rows are discarded and the
	// subscription is told it missed notifications.
	h.Clock.Advance(10 * time.Minute) // a new window
	setDelay(700 * time.Millisecond)
	h.record(t, store.Change{ID: "m3"}, store.Change{ID: "m4"})
	waitState(t, h, r.URL, delivery.Drop)
	h.record(t, store.Change{ID: "m5"})
	h.P.Wake()
	h.settle(t)
	lc := life.waitItems(t, 1)
	if lc[0]["lifecycleEvent"] != "missed" {
		t.Errorf("lifecycle item = %v, want missed", lc[0])
	}
	if c := h.counts(t); c[store.NotificationDiscarded] < 1 {
		t.Errorf("queue = %v, want discarded rows while dropping", c)
	}

	// After the drop window, probes; good answers make it healthy again.
	setDelay(0)
	h.Clock.Advance(10 * time.Minute)
	if got := h.P.EndpointState(r.URL); got != delivery.Probing {
		t.Fatalf("state after the drop window = %v, want probing", got)
	}
	n := len(r.items(t))
	h.record(t, store.Change{ID: "m6"}, store.Change{ID: "m7"})
	r.waitItems(t, n+2)
	waitState(t, h, r.URL, delivery.Healthy)
}

func waitState(t *testing.T, h *harness, url string, want delivery.HealthState) {
	t.Helper()
	if !h.until(func() bool { return h.P.EndpointState(url) == want }) {
		t.Fatalf("EndpointState(%s) = %v, want %v", url, h.P.EndpointState(url), want)
	}
}

func TestSubscriptionRemovedWhenUserDeleted(t *testing.T) {
	h := setup(t, testConfig())
	app := h.AppToken()
	r, life := newReceiver(t), newReceiver(t)
	sub := h.subscribe(t, app, map[string]any{"changeType": "created", "notificationUrl": r.URL,
		"lifecycleNotificationUrl": life.URL, "resource": "/users/" + testserver.Bruno + "/messages", "clientState": "c"})
	if resp := h.Do("DELETE", "/v1.0/users/"+testserver.Bruno, app, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("DELETE user = %s", resp)
	}
	if resp := h.Do("DELETE", "/v1.0/directory/deletedItems/"+testserver.Bruno, app, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("DELETE deletedItems = %s", resp)
	}
	items := life.waitItems(t, 1)
	if items[0]["lifecycleEvent"] != "subscriptionRemoved" || items[0]["subscriptionId"] != sub || items[0]["clientState"] != "c" {
		t.Errorf("lifecycle item = %v, want subscriptionRemoved for %s with its clientState", items[0], sub)
	}
	if _, ok := items[0]["changeType"]; ok {
		t.Errorf("lifecycle item has a changeType: %v", items[0])
	}
	if resp := h.Do("GET", "/v1.0/subscriptions/"+sub, app, nil); resp.Status != http.StatusNotFound {
		t.Errorf("GET removed subscription = %d, want 404", resp.Status)
	}
}

func TestSubscriptionRemovedWhenPermissionLost(t *testing.T) {
	h := setup(t, testConfig())
	r, life := newReceiver(t), newReceiver(t)
	limited, _ := h.AddApp([]string{"User.Read.All"}, nil) // no Mail.Read any more
	s := h.insertSub(t, store.Subscription{AppID: limited, NotificationURL: r.URL, LifecycleURL: life.URL})
	h.record(t, store.Change{ID: "m1"})
	items := life.waitItems(t, 1)
	if items[0]["lifecycleEvent"] != "subscriptionRemoved" || items[0]["subscriptionId"] != s.ID {
		t.Errorf("lifecycle item = %v, want subscriptionRemoved", items[0])
	}
	h.settle(t)
	if n := len(r.items(t)); n != 0 {
		t.Errorf("the app without permission got %d notifications, want 0", n)
	}
}

func TestReauthorizationRequiredAndHeldNotifications(t *testing.T) {
	cfg := testConfig()
	cfg.ReminderInterval = 10 * time.Millisecond
	cfg.HoldRecheck = time.Minute
	h := setup(t, cfg)
	r, life := newReceiver(t), newReceiver(t)
	now := h.Clock.Now()
	s := h.insertSub(t, store.Subscription{NotificationURL: r.URL, LifecycleURL: life.URL, ClientState: "k",
		AuthorizedUntil: now.Add(-time.Minute), NextReminder: now.Add(-time.Second)})
	items := life.waitItems(t, 1)
	if items[0]["lifecycleEvent"] != "reauthorizationRequired" || items[0]["subscriptionId"] != s.ID {
		t.Fatalf("lifecycle item = %v, want reauthorizationRequired", items[0])
	}
	// The next reminder follows 15 minutes later.
	var cur store.Subscription
	h.Store.View(context.Background(), func(tx store.Tx) error {
		cur, _ = tx.GetSubscription(context.Background(), s.ID)
		return nil
	})
	if d := cur.NextReminder.Sub(h.Clock.Now()); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("NextReminder in %v, want 15 minutes", d)
	}
	// A change while the authorization lapsed is held, not sent, not dropped.
	h.record(t, store.Change{ID: "m1"})
	if !h.until(func() bool { return !h.row(t, 2).Scheduled.Before(h.Clock.Now()) }) {
		t.Fatalf("change row = %+v, want held (rescheduled)", h.row(t, 2))
	}
	if row := h.row(t, 2); row.State != store.NotificationAvailable || row.Attempt != 0 {
		t.Fatalf("held row: state %q attempt %d, want available with no attempt counted", row.State, row.Attempt)
	}
	if n := len(r.items(t)); n != 0 {
		t.Fatalf("%d notifications sent while unauthorized, want 0", n)
	}
	// Reauthorized: the held notification goes out.
	err := h.Store.Update(context.Background(), func(tx store.Tx) error {
		cur, _ := tx.GetSubscription(context.Background(), s.ID)
		cur.AuthorizedUntil = h.Clock.Now().Add(time.Hour)
		return tx.UpdateSubscription(context.Background(), &cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Minute)
	h.P.Wake()
	got := r.waitItems(t, 1)
	if got[0]["changeType"] != "created" {
		t.Errorf("held notification = %v", got[0])
	}
}

func TestFilterEnteringAndLeaving(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	h.insertSub(t, store.Subscription{NotificationURL: r.URL, Filter: "isRead eq false"})
	unread, read := []byte(`{"isRead":false,"subject":"a"}`), []byte(`{"isRead":true,"subject":"a"}`)
	h.record(t,
		store.Change{ID: "enter", ChangeType: store.Created, After: unread},
		store.Change{ID: "leave", ChangeType: store.Updated, Before: unread, After: read},
		store.Change{ID: "stay", ChangeType: store.Updated, Before: unread, After: []byte(`{"isRead":false,"subject":"b"}`)},
		store.Change{ID: "outside", ChangeType: store.Updated, Before: read, After: read},
		store.Change{ID: "gone", ChangeType: store.Deleted, Before: unread},
	)
	r.waitItems(t, 4)
	h.settle(t)
	got := map[string]string{}
	for _, it := range r.items(t) {
		got[it["resourceData"].(map[string]any)["id"].(string)] = it["changeType"].(string)
	}
	want := map[string]string{"enter": "created", "leave": "deleted", "stay": "updated", "gone": "deleted"}
	if len(got) != len(want) {
		t.Errorf("notified = %v, want %v", got, want)
	}
	for id, ct := range want {
		if got[id] != ct {
			t.Errorf("change %q notified as %q, want %q", id, got[id], ct)
		}
	}
}

func TestRichChatMessage(t *testing.T) {
	h := setup(t, testConfig())
	cert, err := certgen.New(certgen.Options{CommonName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []gh.Notification
	var tokens int
	accepted := wait.NewSignal()
	handler, err := gh.NewHandler(gh.Config{
		OnNotifications: func(ctx context.Context, batch []gh.Notification) error {
			mu.Lock()
			got = append(got, batch...)
			mu.Unlock()
			accepted.Fire()
			return nil
		},
		ClientState:    "rich",
		DecryptionKeys: map[string]*rsa.PrivateKey{"cert-1": cert.Key},
		AppIDs:         []string{testserver.AppID},
		JWKSURL:        h.URL + "/common/discovery/v2.0/keys",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := ioReadAll(r)
		var c struct {
			ValidationTokens []string `json:"validationTokens"`
		}
		json.Unmarshal(body, &c)
		mu.Lock()
		tokens += len(c.ValidationTokens)
		mu.Unlock()
		r.Body = ioNopCloser(body)
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	const chat = "19:abc@thread.v2"
	data, _ := json.Marshal(map[string]any{"encryptionCertificate": cert.Base64(), "encryptionCertificateId": "cert-1"})
	h.insertSub(t, store.Subscription{NotificationURL: srv.URL, ClientState: "rich", ResourceType: teams.ChatMessageResource,
		Variant: teams.VariantChat, Topic: change.ChatMessages(chat), IncludeResourceData: true, Data: data})
	msg := []byte(`{"id":"1612289765949","body":{"content":"hello"}}`)
	res := "chats('" + chat + "')/messages('1612289765949')"
	extra, _ := json.Marshal(change.Notice{Resource: res, ODataType: "#Microsoft.Graph.chatMessage", ODataID: res, ID: "1612289765949", Rich: true})
	h.record(t, store.Change{ID: "1612289765949", Kind: "chatMessage", Topics: []string{change.ChatMessages(chat)}, After: msg, Extra: extra})
	some := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	}
	if !wait.On(accepted, 10*time.Second, some) {
		t.Fatalf("no rich notification accepted by the receiver package; queue %v", h.counts(t))
	}
	mu.Lock()
	defer mu.Unlock()
	if string(got[0].Data) != string(msg) || got[0].Resource != res {
		t.Errorf("decrypted data = %s (resource %s), want %s (%s)", got[0].Data, got[0].Resource, msg, res)
	}
	if tokens != 1 {
		t.Errorf("validationTokens = %d, want 1", tokens)
	}
}

// TestPermissionRevokedAfterMatching: the writer keeps the app it re-checks at each
// change between transactions; a revocation made after changes were matched is
// still seen at the next change, which removes the subscription.
func TestPermissionRevokedAfterMatching(t *testing.T) {
	h := setup(t, testConfig())
	r, life := newReceiver(t), newReceiver(t)
	app, secret := h.AddApp([]string{"Mail.Read"}, nil)
	s := h.insertSub(t, store.Subscription{AppID: app, NotificationURL: r.URL, LifecycleURL: life.URL})
	h.record(t, store.Change{ID: "m1"})
	h.record(t, store.Change{ID: "m2"})
	r.waitItems(t, 2)
	f := identity.DemoFixture()
	tenant := f.Tenants[0]
	tenant.Apps = []identity.FixtureApp{{ClientID: app, ClientSecret: secret, DisplayName: "test app", ApplicationPermissions: []string{"User.Read.All"}}}
	f.Tenants = []identity.FixtureTenant{tenant}
	if err := h.Identity.ApplyFixture(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	h.record(t, store.Change{ID: "m3"})
	items := life.waitItems(t, 1)
	if items[0]["lifecycleEvent"] != "subscriptionRemoved" || items[0]["subscriptionId"] != s.ID {
		t.Errorf("lifecycle item = %v, want subscriptionRemoved", items[0])
	}
	h.settle(t)
	if n := len(r.items(t)); n != 2 {
		t.Errorf("notifications = %d, want the 2 sent before the revocation", n)
	}
}
