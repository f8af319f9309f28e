package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/trigger"
	"github.com/graphhook/graphhook/internal/wait"
)

const (
	demoTenant       = "6f1c2d3e-0000-4000-8000-000000000001"
	demoAppID        = "11111111-0000-4000-8000-000000000001"
	demoAppSecret    = "demo-app-secret"
	delegatedAppID   = "11111111-0000-4000-8000-000000000002"
	delegatedSecret  = "demo-delegated-secret"
	adeleUPN         = "adele@contoso.onmicrosoft.com"
	adele            = "22222222-0000-4000-8000-000000000001"
	demoUserPassword = "Passw0rd!"
)

// server is a real Main on loopback with the demo tenant.
type server struct {
	*app.Main
	key string
}

func start(t *testing.T) *server {
	t.Helper()
	m := app.New(app.Config{Addr: "127.0.0.1:0", HTTPSAddr: "off", Data: t.TempDir(), LogLevel: "error", Synchronous: "NORMAL"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Shutdown(ctx)
	})
	return &server{Main: m, key: m.Config.AdminKey}
}

// do sends a request and returns the status and the decoded object body.
func (s *server) do(t *testing.T, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(data, &v)
	return resp.StatusCode, v
}

func (s *server) token(t *testing.T, form url.Values) string {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/"+demoTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token = %d, want 200", resp.StatusCode)
	}
	return body.AccessToken
}

func (s *server) appToken(t *testing.T) string {
	return s.token(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {demoAppID}, "client_secret": {demoAppSecret}, "scope": {"https://graph.microsoft.com/.default"}})
}

// samToken is a delegated token of the demo personal account, minted as the
// delegated demo app's sign-in would give it.
func (s *server) samToken(t *testing.T) string {
	t.Helper()
	apps, err := s.Identity.Apps(context.Background(), demoTenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.ClientID == delegatedAppID {
			tok, err := s.Identity.MintUserToken(context.Background(), identity.ConsumersTenant, a, "44444444-0000-4000-8000-000000000001", []string{"Files.ReadWrite"})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	t.Fatal("no delegated demo app")
	return ""
}

func (s *server) adeleToken(t *testing.T) string {
	return s.token(t, url.Values{"grant_type": {"password"}, "client_id": {delegatedAppID}, "client_secret": {delegatedSecret},
		"username": {adeleUPN}, "password": {demoUserPassword}, "scope": {"https://graph.microsoft.com/.default"}})
}

// receiver is a loopback webhook that keeps every notification item.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	items  []map[string]any
	signal chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{signal: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok := req.URL.Query().Get("validationToken"); tok != "" {
			io.WriteString(w, tok)
			return
		}
		var batch struct {
			Value []map[string]any `json:"value"`
		}
		json.NewDecoder(req.Body).Decode(&batch)
		r.mu.Lock()
		r.items = append(r.items, batch.Value...)
		r.mu.Unlock()
		select {
		case r.signal <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(r.Close)
	return r
}

// has reports whether a notification of subscription id and changeType arrived.
func (r *receiver) has(id, changeType string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.items, func(it map[string]any) bool {
		return it["subscriptionId"] == id && it["changeType"] == changeType
	})
}

var placeholderRE = regexp.MustCompile(`\{[A-Za-z]+\}`)

// subscribe creates a subscription of changeType on every path of d whose
// placeholders params knows (as the demo app, or Adele where only delegated callers
// may subscribe) and returns their ids.
func subscribe(t *testing.T, s *server, d resource.Descriptor, personal bool, changeType string, params map[string]string, hook string) []string {
	t.Helper()
	var tokens []string
	app, user := s.appToken(t), s.adeleToken(t)
	var ids []string
	for _, p := range d.Paths {
		if !slices.Contains(d.AllowedChangeTypes(&p), changeType) || p.PersonalOnly {
			continue
		}
		path := placeholderRE.ReplaceAllStringFunc(p.Pattern, func(m string) string {
			if v, ok := params[m[1:len(m)-1]]; ok {
				return v
			}
			return m
		})
		if placeholderRE.MatchString(path) {
			continue
		}
		token := app
		if _, ok := d.Names(p.Variant, identity.Application); !ok {
			token = user
		}
		if personal {
			token = s.samToken(t)
		}
		status, body := s.do(t, token, "POST", "/v1.0/subscriptions", map[string]any{
			"changeType": changeType, "notificationUrl": hook, "lifecycleNotificationUrl": hook, "resource": path,
			"expirationDateTime": time.Now().Add(50 * time.Minute).UTC().Format(time.RFC3339),
		})
		if status != http.StatusCreated {
			t.Logf("subscribe %s (%s): %d %v", path, changeType, status, body)
			continue
		}
		ids = append(ids, body["id"].(string))
		tokens = append(tokens, token)
	}
	t.Cleanup(func() {
		for i, id := range ids {
			if status, body := s.do(t, tokens[i], "DELETE", "/v1.0/subscriptions/"+id, nil); status != http.StatusNoContent {
				t.Errorf("DELETE subscription %s = %d %v, want 204", id, status, body)
			}
		}
	})
	if len(ids) == 0 {
		t.Fatalf("%s %s: no path could be subscribed to with %v", d.Type, changeType, params)
	}
	return ids
}

// TestEveryType triggers every change type of every resource type through POST
// /_graphhook/trigger, with subscriptions on every path it can name: the change
// lands, and every notification trigger expects arrives, through those
// subscriptions only.
func TestEveryType(t *testing.T) {
	s := start(t)
	r := newReceiver(t)
	ran := 0
	for _, ty := range s.Trigger.Types() {
		d := descriptor(t, ty.ResourceType)
		for _, ct := range ty.ChangeTypes {
			t.Run(ty.Type+"/"+ct, func(t *testing.T) {
				params, err := s.Trigger.Params(context.Background(), trigger.Request{Type: ty.Type, ChangeType: ct})
				if err != nil {
					t.Fatalf("Params: %v", err)
				}
				subs := subscribe(t, s, d, ty.Personal, ct, params, r.URL)
				set := map[string]string{}
				for k, v := range params {
					if k != "tenant" && k != "user" {
						set[k] = v
					}
				}
				status, body := s.do(t, s.key, "POST", "/_graphhook/trigger", map[string]any{"type": ty.Type, "changeType": ct, "params": set})
				if status != http.StatusOK {
					t.Fatalf("POST /_graphhook/trigger = %d %v, want 200", status, body)
				}
				results := decodeResults(t, body)
				if len(results) != 1 {
					t.Fatalf("results = %d, want 1", len(results))
				}
				res := results[0]
				if res.Type != ty.Type || res.ChangeType != ct || len(res.Requests) == 0 {
					t.Errorf("result = %+v, want type %s, change %s and its requests", res, ty.Type, ct)
				}
				checkLanded(t, s, d, res)
				if len(res.Expected) == 0 {
					t.Fatalf("%s %s on %s: no notification expected; subscriptions %v", ty.Type, ct, res.Resource, subs)
				}
				for _, e := range res.Expected {
					if !slices.Contains(subs, e.SubscriptionID) || e.URL != r.URL || e.DeliveryID == "" {
						t.Errorf("expected %+v: not one of this test's subscriptions %v at %s", e, subs, r.URL)
					}
					if !wait.On(r.signal, 10*time.Second, func() bool { return r.has(e.SubscriptionID, e.ChangeType) }) {
						t.Errorf("notification %s for %s: not received", e.ChangeType, e.SubscriptionID)
					}
				}
				if !slices.ContainsFunc(res.Expected, func(e trigger.Expected) bool { return e.ChangeType == ct }) {
					t.Errorf("expected %+v: none of change type %s", res.Expected, ct)
				}
				ran++
			})
		}
	}
	if ran < 20 {
		t.Errorf("ran %d changes, want every type's (at least 20)", ran)
	}
}

// checkLanded reads what changed: 404 after a deletion, found otherwise.
func checkLanded(t *testing.T, s *server, d resource.Descriptor, res trigger.Result) {
	t.Helper()
	path := res.Resource
	if strings.HasPrefix(path, "tenants/") {
		// An admin change: read it through Graph.
		parts := strings.SplitN(path, "/", 3)
		path = parts[2]
	}
	if strings.HasSuffix(path, "/reply") || strings.Contains(path, "/callEvents") {
		return // an action, or a call event Graph has no GET for: it shows through its notification
	}
	// A reference added is read in the collection it joined.
	path = strings.TrimSuffix(path, "/$ref")
	// Presence is set through an action and read from the user's presence.
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/setPresence"), "/clearPresence")
	// A meeting's transcripts and recordings are read under its organizer.
	if strings.HasPrefix(path, "onlineMeetings/") {
		path = "users/" + res.Params["user"] + "/" + path
	}
	token := s.appToken(t)
	if _, ok := d.Names("", identity.Application); !ok && len(d.Permissions) > 0 && d.Permissions[0].Application == nil {
		token = s.adeleToken(t)
	}
	if res.Params["tenant"] == identity.ConsumersTenant {
		token = s.samToken(t) // a personal account's own data
	}
	status, body := s.do(t, token, "GET", "/v1.0/"+path, nil)
	last := res.Requests[len(res.Requests)-1]
	switch {
	case last.Method == "DELETE" && status != http.StatusNotFound:
		t.Errorf("GET %s after the deletion = %d %v, want 404", path, status, body)
	case last.Method != "DELETE" && status != http.StatusOK:
		t.Errorf("GET %s after the change = %d %v, want 200", path, status, body)
	}
}

func descriptor(t *testing.T, typ string) resource.Descriptor {
	t.Helper()
	for _, d := range app.Resources() {
		if d.Type == typ {
			return d
		}
	}
	t.Fatalf("no descriptor of type %s", typ)
	return resource.Descriptor{}
}

func decodeResults(t *testing.T, body map[string]any) []trigger.Result {
	t.Helper()
	data, _ := json.Marshal(body["value"])
	var out []trigger.Result
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("results %s: %v", data, err)
	}
	return out
}
