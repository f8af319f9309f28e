package subscription_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/testserver"
)

func (e *env) stored(t *testing.T, id string) (store.Subscription, bool) {
	t.Helper()
	var sub store.Subscription
	err := e.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		sub, err = tx.GetSubscription(context.Background(), id)
		return err
	})
	if err == store.ErrNotFound {
		return sub, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return sub, true
}

func TestGoldenShapes(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	adele := e.UserToken(testserver.AdeleUPN)
	body := e.body("me/mailFolders('Inbox')/messages?$filter=isRead eq false", "created,updated",
		"lifecycleNotificationUrl", e.hook.URL+"/lifecycle")
	cr := e.Do("POST", "/v1.0/subscriptions", adele, body)
	if cr.Status != http.StatusCreated {
		t.Fatalf("create = %s, want 201", cr)
	}
	created, createdRaw := cr.JSON(), cr.Body
	id := created["id"].(string)
	if created["expirationDateTime"] != body["expirationDateTime"] {
		t.Errorf("create: expirationDateTime = %v, want %v", created["expirationDateTime"], body["expirationDateTime"])
	}
	// Both URLs were validated, each by its own request.
	if n := e.hook.count(); n != 2 {
		t.Errorf("validation requests = %d, want 2", n)
	}
	golden(t, "create", e.stable(created, createdRaw))

	r := e.Do("GET", "/v1.0/subscriptions/"+id, adele, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET = %s", r)
	}
	golden(t, "get", e.stable(r.JSON(), r.Body))

	r = e.Do("GET", "/v1.0/subscriptions", adele, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list = %s", r)
	}
	golden(t, "list", e.stable(r.JSON(), r.Body))

	exp := graph.FormatTime(e.Clock.Now().Add(3 * time.Hour))
	r = e.Do("PATCH", "/v1.0/subscriptions/"+id, adele, map[string]any{"expirationDateTime": exp})
	if r.Status != http.StatusOK || r.JSON()["expirationDateTime"] != exp {
		t.Fatalf("PATCH = %s, want 200 with expirationDateTime %s", r, exp)
	}
	golden(t, "patch", e.stable(r.JSON(), r.Body))

	// The store holds the normalised resource for the pipeline.
	sub, _ := e.stored(t, id)
	got := []string{sub.ResourceType, sub.Topic, sub.Filter, sub.ChangeTypes, sub.CreatorID, sub.AppID}
	want := []string{"message", "users/" + testserver.Adele + "/mailFolders/" + wellKnown(testserver.Adele, "inbox") + "/messages",
		"isRead eq false", "created,updated", testserver.Adele, testserver.DelegatedAppID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored subscription (-want +got):\n%s", diff)
	}
}

func TestBetaContext(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	r := e.Do("POST", "/beta/subscriptions", e.AppToken(), e.body("users", "updated"))
	if want := e.URL + "/beta/$metadata#subscriptions/$entity"; r.Status != http.StatusCreated || r.JSON()["@odata.context"] != want {
		t.Fatalf("POST /beta/subscriptions = %s, want 201 with @odata.context %s", r, want)
	}
	r = e.Do("GET", "/beta/subscriptions", e.AppToken(), nil)
	if want := e.URL + "/beta/$metadata#subscriptions"; r.Status != http.StatusOK || r.JSON()["@odata.context"] != want {
		t.Fatalf("GET /beta/subscriptions = %s, want 200 with @odata.context %s", r, want)
	}
}

// deletions records OnDelete calls.
type deletions struct {
	mu  sync.Mutex
	ids []string
}

// hook records each subscription once: the store may run a transaction, and so the
// hook, more than once (the test server runs every one twice).
func (d *deletions) hook(ctx context.Context, tx store.Tx, sub store.Subscription) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !slices.Contains(d.ids, sub.ID) {
		d.ids = append(d.ids, sub.ID)
	}
	return nil
}

func (d *deletions) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.ids...)
}

func TestUpdateDeleteReauthorize(t *testing.T) {
	t.Parallel()
	var del deletions
	e := setup(t, subscription.Config{OnDelete: del.hook})
	app := e.AppToken()
	created := e.create(t, app, e.body("users", "updated,deleted", "lifecycleNotificationUrl", e.hook.URL+"/life"))
	id := created["id"].(string)
	path := "/v1.0/subscriptions/" + id
	start := e.Clock.Now()
	first, _ := e.stored(t, id)
	if d := first.AuthorizedUntil.Sub(start); d < 59*time.Minute || d > 60*time.Minute {
		t.Errorf("create: AuthorizedUntil = now%+v, want now+60m", d)
	}
	if want := first.AuthorizedUntil.Add(-15 * time.Minute); !first.NextReminder.Equal(want) {
		t.Errorf("create: NextReminder = %v, want %v (15 minutes before the authorization lapses)", first.NextReminder, want)
	}

	wrong, _ := startReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("nope")) })
	other := newReceiver(t)
	tests := []struct {
		name    string
		body    any
		status  int
		code    string
		message string
	}{
		{"empty body", map[string]any{}, 400, "InvalidRequest", "Subscription must contain either the 'expirationDateTime' or 'notificationUrl' property and its value."},
		{"null values", map[string]any{"expirationDateTime": nil, "notificationUrl": nil}, 400, "InvalidRequest", "Subscription must contain either the 'expirationDateTime' or 'notificationUrl' property and its value."},
		{"clientState", map[string]any{"clientState": "other"}, 400, "InvalidRequest", "Property 'clientState' cannot be updated; only expirationDateTime, notificationUrl, encryptionCertificate and encryptionCertificateId can."},
		{"lifecycle URL", map[string]any{"lifecycleNotificationUrl": other.URL, "expirationDateTime": graph.FormatTime(start.Add(time.Hour))}, 400, "InvalidRequest", "Property 'lifecycleNotificationUrl' cannot be updated; only expirationDateTime, notificationUrl, encryptionCertificate and encryptionCertificateId can."},
		{"past maximum", map[string]any{"expirationDateTime": graph.FormatTime(start.Add(41762 * time.Minute))}, 400, "ExtensionError", "Subscription expiration can only be 41760 minutes in the future."},
		{"bad URL", map[string]any{"notificationUrl": "https:////x"}, 400, "InvalidRequest", "Invalid notification url='https:////x'."},
		{"URL failing the handshake", map[string]any{"notificationUrl": wrong.URL}, 400, "ValidationError", msgMismatch},
		{"bad certificate", map[string]any{"expirationDateTime": graph.FormatTime(start.Add(time.Hour)), "encryptionCertificate": "!!"}, 400, "InvalidRequest", "encryptionCertificate must be a base64-encoded X.509 certificate (DER or PEM)."},
		{"not JSON", "{", 400, "InvalidRequest", "Could not process subscription creation payload. Are all property names spelled and camelCased properly?"},
	}
	for _, tt := range tests {
		r := e.Do("PATCH", path, app, tt.body, "Content-Type", "application/json")
		if r.Status != tt.status || r.ErrorCode() != tt.code || r.ErrorMessage() != tt.message {
			t.Errorf("%s: PATCH = %d %s %q, want %d %s %q", tt.name, r.Status, r.ErrorCode(), r.ErrorMessage(), tt.status, tt.code, tt.message)
		}
	}
	if now, _ := e.stored(t, id); now.Version != first.Version {
		t.Fatalf("refused PATCHes changed the subscription: version %d, want %d", now.Version, first.Version)
	}

	// A renewal moves the expiry and reauthorizes; unchanged read-only values are fine.
	e.Clock.Advance(10 * time.Minute)
	exp := graph.FormatTime(e.Clock.Now().Add(2 * time.Hour))
	r := e.Do("PATCH", path, app, map[string]any{"expirationDateTime": exp, "resource": "users", "id": id, "clientState": "secretClientValue"})
	if r.Status != http.StatusOK || r.JSON()["expirationDateTime"] != exp || r.JSON()["clientState"] != "secretClientValue" {
		t.Fatalf("PATCH renewal = %s, want 200 with the new expiry", r)
	}
	renewed, _ := e.stored(t, id)
	if d := renewed.AuthorizedUntil.Sub(first.AuthorizedUntil); d < 10*time.Minute {
		t.Errorf("renewal moved AuthorizedUntil by %v, want about 10m", d)
	}

	// A new URL is validated once, then stored.
	r = e.Do("PATCH", path, app, map[string]any{"notificationUrl": other.URL + "/new"})
	if r.Status != http.StatusOK || r.JSON()["notificationUrl"] != other.URL+"/new" || other.count() != 1 {
		t.Fatalf("PATCH notificationUrl = %s (receiver saw %d requests), want 200 and 1 validation", r, other.count())
	}
	if s, _ := e.stored(t, id); s.NotificationURL != other.URL+"/new" {
		t.Errorf("stored NotificationURL = %q, want the new one", s.NotificationURL)
	}

	e.Clock.Advance(10 * time.Minute)
	if r := e.Do("POST", path+"/reauthorize", app, nil); r.Status != http.StatusNoContent {
		t.Fatalf("reauthorize = %s, want 204", r)
	}
	reauth, _ := e.stored(t, id)
	if d := reauth.AuthorizedUntil.Sub(renewed.AuthorizedUntil); d < 10*time.Minute || !reauth.Expiration.Equal(renewed.Expiration) {
		t.Errorf("reauthorize: AuthorizedUntil moved %v and expiry %v → %v; want about 10m and the same expiry", d, renewed.Expiration, reauth.Expiration)
	}

	if r := e.Do("DELETE", path, app, nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("DELETE = %s, want 204 without body", r)
	}
	if diff := cmp.Diff([]string{id}, del.list()); diff != "" {
		t.Errorf("OnDelete calls (-want +got):\n%s", diff)
	}
	for _, req := range []struct{ method, path string }{{"GET", path}, {"PATCH", path}, {"DELETE", path}, {"POST", path + "/reauthorize"}} {
		r := e.Do(req.method, req.path, app, map[string]any{"expirationDateTime": exp})
		if r.Status != http.StatusNotFound || r.ErrorCode() != "ResourceNotFound" || r.ErrorMessage() != "The object was not found." {
			t.Errorf("%s after delete = %s, want 404 ResourceNotFound", req.method, r)
		}
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	var del deletions
	swept := make(chan service.Report, 1)
	e := setup(t, subscription.Config{OnDelete: del.hook, OnSweep: func(r service.Report) {
		select {
		case swept <- r:
		default:
		}
	}})
	app := e.AppToken()
	short := e.create(t, app, e.body("groups", "updated", "expirationDateTime", graph.FormatTime(e.Clock.Now())))["id"].(string)
	long := e.create(t, app, e.body("users", "updated"))["id"].(string)

	e.Clock.Advance(46 * time.Minute)
	// Expired: invisible at once, though not yet swept.
	if _, ok := e.stored(t, short); !ok {
		t.Fatal("expired subscription was deleted before the sweeper ran")
	}
	path := "/v1.0/subscriptions/" + short
	for _, req := range []struct{ method, path string }{{"GET", path}, {"PATCH", path}, {"DELETE", path}, {"POST", path + "/reauthorize"}} {
		r := e.Do(req.method, req.path, app, map[string]any{"expirationDateTime": graph.FormatTime(e.Clock.Now().Add(time.Hour))})
		if r.Status != http.StatusNotFound || r.ErrorCode() != "ResourceNotFound" || r.ErrorMessage() != "The object was not found." {
			t.Errorf("%s of an expired subscription = %s, want 404 ResourceNotFound", req.method, r)
		}
	}
	r := e.Do("GET", "/v1.0/subscriptions", app, nil)
	if v := r.JSON()["value"].([]any); len(v) != 1 || v[0].(map[string]any)["id"] != long {
		t.Errorf("list after expiry = %s, want only %s", r, long)
	}
	// An expired subscription no longer blocks a new one on the same resource.
	e.create(t, app, e.body("groups", "updated"))

	sweeper := e.svc.Sweeper()
	if err := sweeper.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer sweeper.Stop()
	// The sweeper sweeps once at start.
	select {
	case r := <-swept:
		if r.N != 1 || r.Err != nil {
			t.Errorf("first sweep deleted %d, error %v; want 1, nil", r.N, r.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no sweep within 10 s of Start")
	}
	sweeper.Stop()
	if diff := cmp.Diff([]string{short}, del.list()); diff != "" {
		t.Fatalf("swept (-want +got):\n%s", diff)
	}
	if _, ok := e.stored(t, short); ok {
		t.Error("expired subscription still stored after the sweep")
	}
	if _, ok := e.stored(t, long); !ok {
		t.Error("live subscription was swept")
	}
}

func TestSweepBatches(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{SweepBatch: 2})
	app := e.AppToken()
	for _, u := range []string{testserver.Adele, testserver.Bruno, testserver.Chen, "22222222-0000-4000-8000-000000000004", "22222222-0000-4000-8000-000000000005"} {
		e.create(t, app, e.body("users/"+u, "updated", "expirationDateTime", graph.FormatTime(e.Clock.Now())))
	}
	e.Clock.Advance(45*time.Minute + time.Second)
	n, err := e.svc.Sweeper().Sweep(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("Sweep() = %d, %v, want 5, nil", n, err)
	}
	if n, err := e.svc.Sweeper().Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("second Sweep() = %d, %v, want 0, nil", n, err)
	}
}

// notManager is the refusal of a change to a subscription the caller only sees.
func notManager(op string) string {
	return denied(op, "Only the application that created the subscription, with the user who created it for delegated subscriptions, can change it; Subscription.Read.All lets other callers read it, not change it.")
}

// noMail is the refusal of a caller who lost the permission to read mail.
func noMail(op string) string {
	return denied(op, "Missing scope permissions on the request. API requires one of 'Mail.ReadBasic, Mail.Read'. Scopes on the request 'Calendars.Read'.")
}

func TestVisibility(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	app := e.AppToken()
	adele := e.UserToken(testserver.AdeleUPN) // every scope, Subscription.Read.All included
	adeleMail := e.UserToken(testserver.AdeleUPN, "Mail.Read")
	adeleNoMail := e.UserToken(testserver.AdeleUPN, "Calendars.Read")
	bruno := e.UserToken(testserver.BrunoUPN, "Mail.Read")
	sam := e.PersonalToken()
	otherID, otherSecret := e.AddApp(nil, []string{"Mail.Read"})
	otherAdele := e.DelegatedToken(otherID, otherSecret, testserver.Tenant, testserver.AdeleUPN)
	// Emil is a Global Administrator in the demo tenant.
	emilAll := e.UserToken("emil@contoso.onmicrosoft.com")
	emilMail := e.UserToken("emil@contoso.onmicrosoft.com", "Mail.Read")

	appSub := e.create(t, app, e.body("users/"+testserver.Adele+"/messages", "created"))["id"].(string)
	adeleSub := e.create(t, adeleMail, e.body("me/messages", "updated"))["id"].(string)
	brunoSub := e.create(t, bruno, e.body("me/messages", "updated"))["id"].(string)
	otherSub := e.create(t, otherAdele, e.body("me/messages", "deleted"))["id"].(string)

	ids := func(token string) []string {
		r := e.Do("GET", "/v1.0/subscriptions", token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list = %s", r)
		}
		var out []string
		for _, v := range r.JSON()["value"].([]any) {
			out = append(out, v.(map[string]any)["id"].(string))
		}
		sort.Strings(out)
		return out
	}
	sorted := func(s ...string) []string { sort.Strings(s); return s }
	lists := []struct {
		name  string
		token string
		want  []string
	}{
		{"application: its app's", app, []string{appSub}},
		{"delegated: its app's for the user", adeleMail, []string{adeleSub}},
		{"delegated with Subscription.Read.All: any app's for the user", adele, sorted(adeleSub, otherSub)},
		{"another user", bruno, []string{brunoSub}},
		{"another app", otherAdele, []string{otherSub}},
		{"personal account in another tenant", sam, nil},
		{"Global Administrator with Subscription.Read.All: every subscription of the directory", emilAll, sorted(appSub, adeleSub, brunoSub, otherSub)},
		{"Global Administrator without Subscription.Read.All: its own", emilMail, nil},
	}
	for _, tt := range lists {
		if diff := cmp.Diff(tt.want, ids(tt.token)); diff != "" {
			t.Errorf("%s: list (-want +got):\n%s", tt.name, diff)
		}
	}

	gets := []struct {
		name, method, token, id string
		status                  int
		code, message           string
	}{
		{"own", "GET", adeleMail, adeleSub, 200, "", ""},
		{"app reads its app's", "GET", app, appSub, 200, "", ""},
		{"another user's", "GET", bruno, adeleSub, 404, "ResourceNotFound", "The object was not found."},
		{"another app's", "GET", adeleMail, otherSub, 404, "ResourceNotFound", "The object was not found."},
		{"another app's with Subscription.Read.All", "GET", adele, otherSub, 200, "", ""},
		{"delete another app's with Subscription.Read.All", "DELETE", adele, otherSub, 403, "ExtensionError", notManager("Delete")},
		{"app reads a delegated subscription of another app", "GET", app, adeleSub, 404, "ResourceNotFound", "The object was not found."},
		{"Global Administrator reads another user's", "GET", emilAll, brunoSub, 200, "", ""},
		{"Global Administrator deletes another user's", "DELETE", emilAll, brunoSub, 403, "ExtensionError", notManager("Delete")},
		{"Global Administrator without Subscription.Read.All", "GET", emilMail, brunoSub, 404, "ResourceNotFound", "The object was not found."},
		{"across tenants", "GET", sam, adeleSub, 404, "ResourceNotFound", "The object was not found."},
		{"without the resource permission", "GET", adeleNoMail, adeleSub, 403, "ExtensionError", noMail("Get")},
		{"renew without the resource permission", "PATCH", adeleNoMail, adeleSub, 403, "ExtensionError", noMail("Update")},
		{"reauthorize without the resource permission", "POST", adeleNoMail, adeleSub, 403, "ExtensionError", noMail("Update")},
		{"delete without the resource permission", "DELETE", adeleNoMail, adeleSub, 403, "ExtensionError", noMail("Delete")},
	}
	for _, tt := range gets {
		path := "/v1.0/subscriptions/" + tt.id
		var body any
		switch tt.method {
		case "POST":
			path += "/reauthorize"
		case "PATCH":
			body = map[string]any{"expirationDateTime": graph.FormatTime(e.Clock.Now().Add(time.Hour))}
		}
		r := e.Do(tt.method, path, tt.token, body)
		if r.Status != tt.status || r.ErrorCode() != tt.code || r.ErrorMessage() != tt.message {
			t.Errorf("%s: %s = %d %s %q, want %d %s %q", tt.name, tt.method, r.Status, r.ErrorCode(), r.ErrorMessage(), tt.status, tt.code, tt.message)
		}
	}

	// The shared secret is shown only to the app and user that created the
	// subscription, never to a reader who sees it through Subscription.Read.All.
	secrets := []struct {
		name, token, id string
		want            any
	}{
		{"own", adeleMail, adeleSub, "secretClientValue"},
		{"app reads its own", app, appSub, "secretClientValue"},
		{"another app's with Subscription.Read.All", adele, otherSub, nil},
		{"Global Administrator reads another user's", emilAll, brunoSub, nil},
	}
	for _, tt := range secrets {
		r := e.Do("GET", "/v1.0/subscriptions/"+tt.id, tt.token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: GET = %s, want 200", tt.name, r)
		}
		if got := r.JSON()["clientState"]; got != tt.want {
			t.Errorf("%s: GET clientState = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{PageSize: 2})
	app := e.AppToken()
	var want []string
	for _, u := range []string{testserver.Adele, testserver.Bruno, testserver.Chen, "22222222-0000-4000-8000-000000000004", "22222222-0000-4000-8000-000000000005"} {
		want = append(want, e.create(t, app, e.body("users/"+u, "updated"))["id"].(string))
	}
	sort.Strings(want)
	var got []string
	next := "/v1.0/subscriptions"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatalf("paging did not end after %d pages", pages)
		}
		r := e.Do("GET", next, app, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", next, r)
		}
		body := r.JSON()
		for _, v := range body["value"].([]any) {
			m := v.(map[string]any)
			if cs, present := m["clientState"]; !present || cs != nil {
				t.Errorf("list item clientState = %v (present %v), want null", cs, present)
			}
			got = append(got, m["id"].(string))
		}
		next, _ = body["@odata.nextLink"].(string)
		if next != "" && !strings.HasPrefix(next, e.URL+"/v1.0/subscriptions?$skiptoken=") {
			t.Fatalf("@odata.nextLink = %s, want %s/v1.0/subscriptions?$skiptoken=…", next, e.URL)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged ids (-want +got):\n%s", diff)
	}
	r := e.Do("GET", "/v1.0/subscriptions?$skiptoken=bm90IGpzb24", app, nil)
	if r.Status != http.StatusBadRequest || r.ErrorCode() != "InvalidRequest" {
		t.Errorf("GET with a malformed skip token = %s, want 400 InvalidRequest", r)
	}
}

// TestConcurrentCreatesRespectQuota: the quota is checked again inside the insert,
// so racing creates cannot overshoot it.
func TestConcurrentCreatesRespectQuota(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{Quotas: subscription.Quotas{CallRecordsPerTenant: 1}})
	app := e.AppToken()
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i, ct := range []string{"created", "updated", "created,updated", "updated,created"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.Do("POST", "/v1.0/subscriptions", app, e.body("communications/callRecords", ct)).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == http.StatusCreated {
			created++
		}
	}
	if created != 1 {
		t.Errorf("concurrent creates under a quota of 1: %d created (statuses %v), want 1", created, statuses)
	}
}

func wellKnown(user, name string) string { return change.WellKnownFolderID(user, name) }
