package listen

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/richdata"
)

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Compare(t, name, got)
}

const adeleID = "22222222-0000-4000-8000-000000000001"

func validConfig() Config {
	return Config{Server: "http://127.0.0.1:8787", Tenant: DemoTenant, ListenAddr: "127.0.0.1:0",
		Resource: "/users", ChangeType: "updated", Expiration: time.Hour}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // "" for a valid config
	}{
		{"valid", func(c *Config) {}, ""},
		{"all change types, any case", func(c *Config) { c.ChangeType = "Created, updated,DELETED" }, ""},
		{"delegated", func(c *Config) { c.Username, c.Password = "adele@contoso.onmicrosoft.com", "x" }, ""},
		{"delegated public client", func(c *Config) { c.Username, c.Password, c.ClientID = "a", "b", "app" }, ""},
		{"client state at the limit", func(c *Config) { c.ClientState = strings.Repeat("s", 128) }, ""},
		{"client state over the limit", func(c *Config) { c.ClientState = strings.Repeat("s", 129) }, "--client-state is 129 characters; Graph allows at most 128"},
		{"no resource", func(c *Config) { c.Resource = "" }, "--resource is required"},
		{"no change type", func(c *Config) { c.ChangeType = "" }, "--change-type is required"},
		{"bad change type", func(c *Config) { c.ChangeType = "created,moved" }, `--change-type "moved": each value must be created, updated or deleted`},
		{"empty change type item", func(c *Config) { c.ChangeType = "created," }, `--change-type "": each value`},
		{"relative server", func(c *Config) { c.Server = "localhost:8787" }, "--server must be an absolute http(s) URL"},
		{"ftp forward", func(c *Config) { c.ForwardTo = "ftp://x/y" }, "--forward-to must be an absolute http(s) URL"},
		{"zero expiration", func(c *Config) { c.Expiration = 0 }, "--expiration must be positive"},
		{"username alone", func(c *Config) { c.Username = "a" }, "--username and --password go together"},
		{"password alone", func(c *Config) { c.Password = "a" }, "--username and --password go together"},
		{"client id without secret", func(c *Config) { c.ClientID = "app" }, "--client-secret is required with --client-id"},
		{"no tenant", func(c *Config) { c.Tenant = "" }, "--tenant must not be empty"},
		{"key out with rich data", func(c *Config) { c.IncludeResourceData, c.KeyOut = true, "k.pem" }, ""},
		{"key out without rich data", func(c *Config) { c.KeyOut = "k.pem" }, "--key-out writes the key of --include-resource-data's throwaway certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestListenDefaults(t *testing.T) {
	tests := []struct {
		username, clientID    string
		wantID, wantSecret    string
		explicitSecret        string
		wantStateLen          int
		explicitState, wantSt string
	}{
		{wantID: demoAppID, wantSecret: demoAppSecret, wantStateLen: 32},
		{username: "adele@contoso.onmicrosoft.com", wantID: demoDelegatedAppID, wantSecret: demoDelegatedSecret, wantStateLen: 32},
		{clientID: "mine", explicitSecret: "s", wantID: "mine", wantSecret: "s", explicitState: "st", wantSt: "st", wantStateLen: 2},
	}
	for _, tt := range tests {
		c := validConfig()
		c.Server = "http://h:1/"
		c.Username, c.ClientID, c.ClientSecret, c.ClientState = tt.username, tt.clientID, tt.explicitSecret, tt.explicitState
		c.fillDefaults()
		if c.ClientID != tt.wantID || c.ClientSecret != tt.wantSecret {
			t.Errorf("fillDefaults(username %q, client %q) app = %s/%s, want %s/%s", tt.username, tt.clientID, c.ClientID, c.ClientSecret, tt.wantID, tt.wantSecret)
		}
		if len(c.ClientState) != tt.wantStateLen || (tt.wantSt != "" && c.ClientState != tt.wantSt) {
			t.Errorf("fillDefaults() clientState = %q, want %d characters", c.ClientState, tt.wantStateLen)
		}
		if c.Server != "http://h:1" {
			t.Errorf("fillDefaults() server = %q, want the trailing slash trimmed", c.Server)
		}
	}
}

func TestRenewDelay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		left, want time.Duration
	}{
		{60 * time.Minute, 45 * time.Minute},     // a quarter of an hour's margin
		{4320 * time.Minute, 4305 * time.Minute}, // margin capped at 15 minutes
		{2 * time.Minute, time.Minute},           // margin at least one minute
		{time.Minute, 0},
		{30 * time.Second, 0},
		{-time.Minute, 0}, // already expired: renew at once
	}
	for _, tt := range tests {
		if got := renewDelay(now, now.Add(tt.left)); got != tt.want {
			t.Errorf("renewDelay(now, now+%v) = %v, want %v", tt.left, got, tt.want)
		}
	}
}

// lineWriter turns writes into lines on a channel, for tests that wait on output.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	all   bytes.Buffer
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1000)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.lines <- strings.TrimSuffix(line, "\n")
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// waitLine returns the first line with prefix, failing after 30 s.
func waitLine(t *testing.T, lines <-chan string, prefix string, what fmt.Stringer) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line starting %q; output:\n%s", prefix, what)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line starting %q within 30s; output:\n%s", prefix, what)
		}
	}
}

func TestListenLifecycleRenewsAndRecreates(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t)
	cfg := validConfig()
	cfg.Server, cfg.Lifecycle, cfg.ClientState = f.srv.URL, true, "state"
	rl := startListen(t, cfg)

	first := waitLine(t, rl.out.lines, "listening for notifications on ", rl.out)
	recvURL := strings.TrimPrefix(first, "listening for notifications on ")
	if got := waitLine(t, rl.out.lines, "subscription ", rl.out); got != "subscription sub-1 created for /users" {
		t.Fatalf("created line = %q, want %q", got, "subscription sub-1 created for /users")
	}
	if got := f.waitCall(t); got != "POST /v1.0/subscriptions" {
		t.Fatalf("first call = %q, want POST /v1.0/subscriptions", got)
	}
	s := f.subscriptions()["sub-1"]
	if s.NotificationURL != recvURL || s.LifecycleNotificationURL != recvURL || s.ClientState != "state" || s.ChangeType != "updated" || s.IncludeResourceData {
		t.Errorf("created subscription = %+v, want both URLs %s and clientState state", s, recvURL)
	}

	lifecycle := func(subID, event string) {
		resp := postJSON(t, recvURL, graph.ChangeNotificationCollection{Value: []graph.ChangeNotification{{
			SubscriptionID: subID, SubscriptionExpirationDateTime: graph.FormatTime(time.Now().Add(time.Hour)),
			ClientState: "state", LifecycleEvent: event, TenantID: DemoTenant}}})
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("lifecycle %s answered %d, want 202", event, resp.StatusCode)
		}
	}
	// reauthorizationRequired: renewed by a PATCH of expirationDateTime alone.
	lifecycle("sub-1", "reauthorizationRequired")
	if got := f.waitCall(t); got != "PATCH /v1.0/subscriptions/sub-1" {
		t.Fatalf("after reauthorizationRequired call = %q, want PATCH /v1.0/subscriptions/sub-1", got)
	}
	waitLine(t, rl.out.lines, "subscription sub-1 renewed until ", rl.out)
	f.mu.Lock()
	exp, _ := f.patchBody["expirationDateTime"].(string)
	keys := len(f.patchBody)
	f.mu.Unlock()
	if at, err := graph.ParseTime(exp); err != nil || keys != 1 || at.Before(time.Now().Add(55*time.Minute)) {
		t.Errorf("PATCH body = %v, want only expirationDateTime about an hour ahead", f.patchBody)
	}
	// missed: printed, nothing to call.
	lifecycle("sub-1", "missed")
	waitLine(t, rl.out.lines, "  (some notifications were not delivered", rl.out)

	// subscriptionRemoved: a new subscription replaces the old.
	f.mu.Lock()
	delete(f.subs, "sub-1")
	f.mu.Unlock()
	lifecycle("sub-1", "subscriptionRemoved")
	if got := f.waitCall(t); got != "POST /v1.0/subscriptions" {
		t.Fatalf("after subscriptionRemoved call = %q, want POST /v1.0/subscriptions", got)
	}
	waitLine(t, rl.out.lines, "subscription sub-2 created for /users", rl.out)

	// A late event about the replaced subscription changes nothing: the next call is
	// the renewal asked for sub-2, not another creation.
	lifecycle("sub-1", "subscriptionRemoved")
	lifecycle("sub-2", "reauthorizationRequired")
	if got := f.waitCall(t); got != "PATCH /v1.0/subscriptions/sub-2" {
		t.Fatalf("after a stale subscriptionRemoved and a reauthorizationRequired, call = %q, want PATCH /v1.0/subscriptions/sub-2", got)
	}

	// Ctrl-C deletes the current subscription.
	if err := rl.stop(t); err != nil {
		t.Fatalf("run() = %v, want nil after cancellation", err)
	}
	if got := f.waitCall(t); got != "DELETE /v1.0/subscriptions/sub-2" {
		t.Errorf("last call = %q, want DELETE /v1.0/subscriptions/sub-2", got)
	}
	if n := len(f.subscriptions()); n != 0 {
		t.Errorf("%d subscriptions left after Ctrl-C, want 0", n)
	}
	if !strings.Contains(rl.out.String(), "subscription sub-2 deleted\n") {
		t.Errorf("output lacks the deletion line:\n%s", rl.out)
	}
}

func TestListenRenewsBeforeExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t)
	// Created with a minute left: renewed at once; the renewal gives an hour.
	answers := 0
	f.setExpiry(func() time.Time {
		answers++
		if answers == 1 {
			return time.Now().Add(time.Minute)
		}
		return time.Now().Add(time.Hour)
	})
	cfg := validConfig()
	cfg.Server = f.srv.URL
	rl := startListen(t, cfg)
	waitLine(t, rl.out.lines, "subscription sub-1 created", rl.out)
	if got := f.waitCall(t); got != "POST /v1.0/subscriptions" {
		t.Fatalf("call = %q", got)
	}
	if got := f.waitCall(t); got != "PATCH /v1.0/subscriptions/sub-1" {
		t.Fatalf("call after a create expiring in a minute = %q, want PATCH /v1.0/subscriptions/sub-1", got)
	}
	waitLine(t, rl.out.lines, "subscription sub-1 renewed until ", rl.out)
	// An hour left: no further renewal for 45 minutes, so the next call is Ctrl-C's.
	rl.stop(t)
	if got := f.waitCall(t); got != "DELETE /v1.0/subscriptions/sub-1" {
		t.Errorf("call after renewing for an hour = %q, want DELETE /v1.0/subscriptions/sub-1", got)
	}
}

func TestListenReportsServerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		createError string
		tokenError  string
		want        string
	}{
		{"graph error", `{"error":{"code":"InvalidRequest","message":"resource '/nope' is not supported."}}`, "",
			"create subscription: POST /v1.0/subscriptions: 400 InvalidRequest: resource '/nope' is not supported."},
		{"not an envelope", `oops`, "", "create subscription: POST /v1.0/subscriptions: 400 Bad Request: oops"},
		{"token refused", "", "AADSTS7000215: Invalid client secret provided.", "400 invalid_client: AADSTS7000215: Invalid client secret provided."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.createError, f.tokenError = tt.createError, tt.tokenError
			cfg := validConfig()
			cfg.Server = f.srv.URL
			cfg.fillDefaults()
			l, err := newListener(cfg, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			err = l.run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
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

func TestThrowawayCertificate(t *testing.T) {
	now := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	key, b64, err := throwawayCertificate(now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("encryptionCertificate is not standard base64: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Error("certificate does not hold the generated key")
	}
	if !cert.NotBefore.Before(now) || !cert.NotAfter.After(now.Add(30*24*time.Hour)) {
		t.Errorf("certificate valid %v to %v, want it to cover a month from %v", cert.NotBefore, cert.NotAfter, now)
	}
}

// TestListenTokenGrants checks the token requests: client credentials for an app,
// the password grant for a user, each with the demo app that fits by default, and a
// token reused until it nears expiry.
func TestListenTokenGrants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		username, password string
		want               url.Values
	}{
		{"application", "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {demoAppID}, "client_secret": {demoAppSecret},
			"scope": {"https://graph.microsoft.com/.default"}}},
		{"delegated", "adele@contoso.onmicrosoft.com", "Passw0rd!", url.Values{"grant_type": {"password"}, "client_id": {demoDelegatedAppID},
			"client_secret": {demoDelegatedSecret}, "username": {"adele@contoso.onmicrosoft.com"}, "password": {"Passw0rd!"},
			"scope": {"https://graph.microsoft.com/.default"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var forms []url.Values
			var paths []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				forms, paths = append(forms, r.PostForm), append(paths, r.URL.Path)
				io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"t1"}`)
			}))
			defer srv.Close()
			cfg := validConfig()
			cfg.Server, cfg.Tenant, cfg.Username, cfg.Password = srv.URL, "contoso.onmicrosoft.com", tt.username, tt.password
			cfg.fillDefaults()
			l, err := newListener(cfg, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if tok, err := l.client.AccessToken(context.Background()); err != nil || tok != "t1" {
					t.Fatalf("AccessToken() = %q, %v; want t1", tok, err)
				}
			}
			if len(forms) != 1 {
				t.Fatalf("%d token requests for two calls, want 1 (cached)", len(forms))
			}
			if paths[0] != "/contoso.onmicrosoft.com/oauth2/v2.0/token" {
				t.Errorf("token endpoint = %s, want /contoso.onmicrosoft.com/oauth2/v2.0/token", paths[0])
			}
			if diff := cmp.Diff(tt.want, forms[0]); diff != "" {
				t.Errorf("token form (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListenKeyOut checks that --key-out writes the private key of exactly the
// certificate listen subscribes with, so a --forward-to app can decrypt.
func TestListenKeyOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "listen.pem")
	cfg := validConfig()
	cfg.IncludeResourceData, cfg.KeyOut = true, path
	cfg.fillDefaults()
	var out bytes.Buffer
	l, err := newListener(cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("--key-out file: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("--key-out file mode = %v, want 0600", fi.Mode().Perm())
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("--key-out file is not a PEM private key: %q", data)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(l.cert)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !key.(*rsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
		t.Error("the written key does not belong to the subscription's certificate")
	}
	if !strings.Contains(out.String(), "written to "+path) {
		t.Errorf("listen printed %q, want a line naming the key file", out.String())
	}
}
