package communications_test

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
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

// hook is a loopback webhook keeping every notification item it is sent; next
// takes items one by one.
type hook struct {
	*testserver.Webhook
	mu    sync.Mutex
	taken map[int]bool
}

func newHook(t *testing.T) *hook {
	return &hook{Webhook: testserver.NewWebhook(t), taken: map[int]bool{}}
}

// item is one received notification item: raw, and decoded.
type item struct {
	raw json.RawMessage
	receiver.ChangeNotification
}

func decodeItem(t *testing.T, raw json.RawMessage) item {
	t.Helper()
	it := item{raw: raw}
	if err := json.Unmarshal(raw, &it.ChangeNotification); err != nil {
		t.Fatalf("notification item %s: %v", raw, err)
	}
	return it
}

// next waits for the first item not yet taken that matches and takes it.
func (h *hook) next(t *testing.T, what string, match func(item) bool) item {
	t.Helper()
	var got item
	h.Await(t, wait, "notification for "+what, func(items []json.RawMessage) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, raw := range items {
			if it := decodeItem(t, raw); !h.taken[i] && match(it) {
				h.taken[i], got = true, it
				return true
			}
		}
		return false
	})
	return got
}

// none checks that no item not yet taken matches.
func (h *hook) none(t *testing.T, what string, match func(item) bool) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, raw := range h.Items() {
		if !h.taken[i] && match(decodeItem(t, raw)) {
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
