package communications_test

import (
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/goldenfile"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/communications"
	"github.com/graphhook/graphhook/receiver"
)

// wait bounds every wait for a notification.
const wait = 15 * time.Second

// env is a server with the communications workload, the subscriptions API and the
// delivery pipeline, as graphhook serve wires them.
type env struct {
	*testserver.Env
}

func setup(t *testing.T) *env {
	t.Helper()
	return &env{Env: testserver.New(t, testserver.Notifications(nil), func(ts *testserver.Env) {
		w := communications.New(ts.Store, ts.Identity)
		w.Routes(ts.HTTP.Graph())
		w.AdminRoutes(ts.HTTP.Admin())
	})}
}

// must sends a request and fails the test unless it answers status.
func (e *env) must(t *testing.T, method, path, token string, body any, status int) map[string]any {
	t.Helper()
	r := e.Do(method, path, token, body)
	if r.Status != status {
		t.Fatalf("%s %s = %s, want %d", method, path, r, status)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.JSON()
}

// hook is a loopback webhook: it answers validation requests and keeps every
// notification item it is sent, raw.
type hook struct {
	URL     string
	mu      sync.Mutex
	items   []json.RawMessage
	arrived chan struct{}
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{arrived: make(chan struct{}, 1)}
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

// item is one received notification item: raw, and decoded.
type item struct {
	raw json.RawMessage
	receiver.ChangeNotification
}

// next waits for the first item not yet taken that matches and takes it.
func (h *hook) next(t *testing.T, what string, match func(item) bool) item {
	t.Helper()
	deadline := time.After(wait)
	for {
		h.mu.Lock()
		for i, raw := range h.items {
			var it item
			it.raw = raw
			if err := json.Unmarshal(raw, &it.ChangeNotification); err != nil {
				t.Fatalf("notification item %s: %v", raw, err)
			}
			if match(it) {
				h.items = append(h.items[:i], h.items[i+1:]...)
				h.mu.Unlock()
				return it
			}
		}
		h.mu.Unlock()
		select {
		case <-h.arrived:
		case <-deadline:
			h.mu.Lock()
			defer h.mu.Unlock()
			t.Fatalf("no notification for %s within %v; received instead: %s", what, wait, h.items)
		}
	}
}

// none checks that no item matching has arrived.
func (h *hook) none(t *testing.T, what string, match func(item) bool) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, raw := range h.items {
		var it item
		json.Unmarshal(raw, &it.ChangeNotification)
		if match(it) {
			t.Errorf("unexpected notification for %s: %s", what, raw)
		}
	}
}

// bySub matches the change notifications of one subscription.
func bySub(id string) func(item) bool {
	return func(it item) bool { return it.SubscriptionID == id && it.ChangeType != "" }
}

// cert is an app's encryption certificate and key.
type cert struct {
	base64 string
	key    *rsa.PrivateKey
}

func newCert(t *testing.T) cert {
	t.Helper()
	c, err := certgen.New(certgen.Options{CommonName: "communications-test"})
	if err != nil {
		t.Fatal(err)
	}
	return cert{base64: c.Base64(), key: c.Key}
}

const certID = "comms-cert"

// subscribe creates a subscription and returns its id; rich when c is not nil.
func (e *env) subscribe(t *testing.T, token string, h *hook, resource, changeType string, c *cert, lifecycle bool) string {
	t.Helper()
	body := map[string]any{
		"changeType": changeType, "notificationUrl": h.URL, "resource": resource, "clientState": "comms",
		"expirationDateTime": graph.FormatTime(e.Clock.Now().Add(50 * time.Minute)),
	}
	if c != nil {
		body["includeResourceData"] = true
		body["encryptionCertificate"] = c.base64
		body["encryptionCertificateId"] = certID
	}
	if lifecycle {
		body["lifecycleNotificationUrl"] = h.URL
	}
	sub := e.must(t, "POST", "/v1.0/subscriptions", token, body, http.StatusCreated)
	return sub["id"].(string)
}

// decrypt returns the resource a rich item carries, decoded.
func decrypt(t *testing.T, it item, c cert) map[string]any {
	t.Helper()
	if it.EncryptedContent == nil {
		t.Fatalf("item %s has no encryptedContent", it.raw)
	}
	data, err := receiver.Decrypt(*it.EncryptedContent, c.key)
	if err != nil {
		t.Fatalf("Decrypt(%s) = %v", it.raw, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("decrypted data %s is not JSON: %v", data, err)
	}
	return doc
}

// golden compares an item with testdata/name.golden.json, after replacing the
// values that differ between runs: the subscription's id and expiry, the
// encryptedContent (checked by decrypting it), and the given strings.
func golden(t *testing.T, name string, it item, replace map[string]string) {
	t.Helper()
	s := string(it.raw)
	for from, to := range replace {
		s = strings.ReplaceAll(s, from, to)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatal(err)
	}
	goldenfile.Scrub(doc, "subscriptionId", "subscriptionExpirationDateTime", "encryptedContent")
	goldenfile.Compare(t, name, goldenfile.Indent(t, doc))
}

// withoutContext drops the @odata.context a GET adds: notifications carry the
// resource alone.
func withoutContext(doc map[string]any) map[string]any {
	delete(doc, "@odata.context")
	return doc
}

func timeMinutes(n int) time.Duration { return time.Duration(n) * time.Minute }
