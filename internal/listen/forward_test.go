package listen

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/goldenfile"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/richdata"
)

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Compare(t, name, got)
}

// forwardTarget records what it receives and answers with status.
type forwardTarget struct {
	srv      *httptest.Server
	mu       sync.Mutex
	status   int
	requests []*http.Request
	bodies   [][]byte
}

func newForwardTarget(t *testing.T, status int) *forwardTarget {
	ft := &forwardTarget{status: status}
	ft.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ft.mu.Lock()
		ft.requests, ft.bodies = append(ft.requests, r), append(ft.bodies, body)
		status := ft.status
		ft.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		fmt.Fprintf(w, "target says %d", status)
	}))
	t.Cleanup(ft.srv.Close)
	return ft
}

func (ft *forwardTarget) count() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return len(ft.requests)
}

// TestListenForwardsAndRelays drives the receiver side in-process: accepted batches
// are printed, replayed to --forward-to with the same method, headers and body, and
// answered with the target's status; refused ones go nowhere.
func TestListenForwardsAndRelays(t *testing.T) {
	t.Parallel()
	ft := newForwardTarget(t, http.StatusNoContent)
	cfg := validConfig()
	cfg.ClientState, cfg.ForwardTo = "state", ft.srv.URL+"/api/notifications?x=1"
	cfg.fillDefaults()
	out := &bytes.Buffer{}
	l, err := newListener(cfg, out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l.now = func() time.Time { return time.Date(2026, 5, 4, 10, 11, 12, 0, time.UTC) }
	rd, _ := json.Marshal(map[string]any{"@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/22222222-0000-4000-8000-000000000001",
		"id": "22222222-0000-4000-8000-000000000001", "organizationId": DemoTenant, "sequenceNumber": 7})
	body, _ := json.Marshal(graph.ChangeNotificationCollection{Value: []graph.ChangeNotification{{
		ID: "n1", SubscriptionID: "sub-1", SubscriptionExpirationDateTime: "2026-05-04T11:00:00.0000000Z", ClientState: "state",
		ChangeType: "updated", Resource: "Users/22222222-0000-4000-8000-000000000001", TenantID: DemoTenant, ResourceData: rd}}})
	send := func(body []byte) *http.Response {
		req := httptest.NewRequest(http.MethodPost, "/notifications", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Client-Request-Id", "c0ffee")
		req.Header.Set("Connection", "keep-alive")
		w := httptest.NewRecorder()
		l.ServeHTTP(w, req)
		return w.Result()
	}

	resp := send(body)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status = %d, want the target's 204", resp.StatusCode)
	}
	if ft.count() != 1 {
		t.Fatalf("target got %d requests, want 1", ft.count())
	}
	got := ft.requests[0]
	if got.Method != http.MethodPost || got.URL.Path != "/api/notifications" || got.URL.RawQuery != "x=1" {
		t.Errorf("forwarded %s %s, want POST /api/notifications?x=1", got.Method, got.URL)
	}
	if !bytes.Equal(ft.bodies[0], body) {
		t.Errorf("forwarded body = %s, want the original %s", ft.bodies[0], body)
	}
	if got.Header.Get("Client-Request-Id") != "c0ffee" || got.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("forwarded headers = %v, want the original ones", got.Header)
	}
	golden(t, "listen_basic.golden.txt", out.Bytes())

	// The target's failure is relayed, so that the sender retries.
	ft.mu.Lock()
	ft.status = http.StatusServiceUnavailable
	ft.mu.Unlock()
	if resp := send(body); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want the target's 503", resp.StatusCode)
	}
	// A refused batch is not forwarded.
	bad := bytes.Replace(body, []byte(`"clientState":"state"`), []byte(`"clientState":"forged"`), 1)
	if resp := send(bad); resp.StatusCode != http.StatusForbidden || ft.count() != 2 {
		t.Errorf("forged clientState: status %d, %d forwarded; want 403 and still 2", resp.StatusCode, ft.count())
	}
	if resp := send([]byte(`{"value":`)); resp.StatusCode != http.StatusBadRequest || ft.count() != 2 {
		t.Errorf("malformed body: status %d, %d forwarded; want 400 and still 2", resp.StatusCode, ft.count())
	}
	// An unreachable target is a bad gateway.
	ft.srv.Close()
	if resp := send(body); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("unreachable target: status %d, want 502", resp.StatusCode)
	}
	// The handshake is answered by listen itself, never forwarded.
	w := httptest.NewRecorder()
	l.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/notifications?validationToken=a%2Bb+c", nil))
	if w.Code != http.StatusOK || w.Body.String() != "a+b c" {
		t.Errorf("handshake = %d %q, want 200 %q", w.Code, w.Body.String(), "a+b c")
	}
}

// TestListenDecryptsRichNotifications checks that --include-resource-data gives a
// certificate the server accepts, and that notifications encrypted for it are printed
// decrypted once their validation token verifies against the server's JWKS.
func TestListenDecryptsRichNotifications(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t)
	cfg := validConfig()
	cfg.Server, cfg.IncludeResourceData, cfg.ClientState = f.srv.URL, true, "state"
	cfg.fillDefaults()
	out := &bytes.Buffer{}
	errOut := &bytes.Buffer{}
	l, err := newListener(cfg, out, errOut)
	if err != nil {
		t.Fatal(err)
	}
	l.now = func() time.Time { return time.Date(2026, 5, 4, 10, 11, 12, 0, time.UTC) }
	cert, err := richdata.ParseCertificate(l.cert)
	if err != nil {
		t.Fatalf("the throwaway certificate is refused: %v", err)
	}
	if bits := cert.PublicKey.(*rsa.PublicKey).N.BitLen(); bits != 2048 {
		t.Errorf("certificate key = %d bits, want 2048", bits)
	}
	if !strings.HasPrefix(l.certID, "graphhook-listen-") || len(l.certID) > 128 {
		t.Errorf("encryptionCertificateId = %q", l.certID)
	}

	message := []byte(`{"@odata.type":"#microsoft.graph.chatMessage","id":"1700000000000","body":{"contentType":"text","content":"hello"}}`)
	ec, err := richdata.Encrypt(message, cert, l.certID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := richdata.ValidationToken(f.signer, cfg.ClientID, DemoTenant, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	collection := func(ec graph.EncryptedContent, tokens ...string) []byte {
		b, _ := json.Marshal(graph.ChangeNotificationCollection{ValidationTokens: tokens, Value: []graph.ChangeNotification{{
			ID: "n1", SubscriptionID: "sub-1", SubscriptionExpirationDateTime: "2026-05-04T11:00:00.0000000Z", ClientState: "state",
			ChangeType: "created", Resource: "chats('19:a@thread.v2')/messages('1700000000000')", TenantID: DemoTenant,
			ResourceData:     json.RawMessage(`{"id":"1700000000000","@odata.type":"#Microsoft.Graph.chatMessage","@odata.id":"chats('19:a@thread.v2')/messages('1700000000000')"}`),
			EncryptedContent: &ec}}})
		return b
	}
	send := func(body []byte) int {
		w := httptest.NewRecorder()
		l.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/notifications", bytes.NewReader(body)))
		return w.Code
	}
	if status := send(collection(ec, token)); status != http.StatusAccepted {
		t.Fatalf("rich notification answered %d, want 202; log:\n%s", status, errOut)
	}
	golden(t, "listen_rich.golden.txt", out.Bytes())

	tampered := ec
	tampered.Data = base64.StdEncoding.EncodeToString(append([]byte("x"), []byte(ec.Data)...))
	other, _ := richdata.ValidationToken(f.signer, "another-app", DemoTenant, "", "", time.Now())
	for name, body := range map[string][]byte{
		"no token":              collection(ec),
		"token for another app": collection(ec, other),
		"tampered data":         collection(tampered, token),
	} {
		out.Reset()
		if status := send(body); status != http.StatusForbidden || out.Len() != 0 {
			t.Errorf("%s: answered %d and printed %q, want 403 and nothing", name, status, out)
		}
	}
}
