package receiver_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/richdata"
	"github.com/graphhook/graphhook/receiver"
)

const testSubscriptionID = "10493aa0-4d29-4df5-bc0c-ef742cc6cd7f"

// richNotification is what graphhook sends for a new chat message.
func (f *fixture) richNotification(t testing.TB) graph.ChangeNotification {
	t.Helper()
	ec, err := richdata.Encrypt([]byte(chatMessage), f.appCert, testCertID)
	if err != nil {
		t.Fatal(err)
	}
	return graph.ChangeNotification{
		SubscriptionID:                 testSubscriptionID,
		SubscriptionExpirationDateTime: graph.FormatTime(testNow.Add(time.Hour)),
		ClientState:                    testState,
		ChangeType:                     "created",
		Resource:                       "chats('19:abc@thread.v2')/messages('1612289765949')",
		TenantID:                       testTenantID,
		ResourceData:                   json.RawMessage(`{"id":"1612289765949","@odata.type":"#Microsoft.Graph.chatMessage","@odata.id":"chats('19:abc@thread.v2')/messages('1612289765949')"}`),
		EncryptedContent:               &ec,
	}
}

// serverToken is the validation token graphhook mints.
func (f *fixture) serverToken(t testing.TB) string {
	t.Helper()
	tok, err := richdata.ValidationToken(richdata.RSASigner{Key: f.signingKey, KeyID: testKid}, testAppID, testTenantID, "", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func post(t testing.TB, h http.Handler, body any) *httptest.ResponseRecorder {
	t.Helper()
	var b []byte
	switch body := body.(type) {
	case string:
		b = []byte(body)
	default:
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestValidationHandshake(t *testing.T) {
	f := setup(t)
	h := f.handler(t, f.config())
	token := "Validation: Testing client application reachability for subscription Request-Id: 877cb92e-a60b-483b-8a39-79aa5f64f5a3"
	for _, enc := range []string{url.QueryEscape(token), url.PathEscape(token)} {
		req := httptest.NewRequest(http.MethodPost, "/notify?validationToken="+enc, nil)
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("handshake %q: status = %d, want 200", enc, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("handshake %q: Content-Type = %q, want text/plain", enc, ct)
		}
		if got := rec.Body.String(); got != token {
			t.Errorf("handshake %q: body = %q, want %q", enc, got, token)
		}
	}
	if len(f.received) != 0 {
		t.Errorf("handshake delivered %d batches, want 0", len(f.received))
	}
}

func TestRichBatchDelivered(t *testing.T) {
	f := setup(t)
	h := f.handler(t, f.config())
	n := f.richNotification(t)
	lifecycle := graph.ChangeNotification{
		SubscriptionID:                 testSubscriptionID,
		SubscriptionExpirationDateTime: graph.FormatTime(testNow.Add(time.Hour)),
		ClientState:                    testState,
		LifecycleEvent:                 graph.LifecycleReauthorizationRequired,
		TenantID:                       testTenantID,
		OrganizationID:                 testTenantID,
	}
	rec := post(t, h, graph.ChangeNotificationCollection{
		Value:            []graph.ChangeNotification{n, lifecycle},
		ValidationTokens: []string{f.serverToken(t)},
	})
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST rich batch: status = %d (%s), want 202", rec.Code, rec.Body)
	}
	if len(f.received) != 1 || len(f.received[0]) != 2 {
		t.Fatalf("received %v, want one batch of 2", f.received)
	}
	got := f.received[0]
	if string(got[0].Data) != chatMessage {
		t.Errorf("Data = %s, want %s", got[0].Data, chatMessage)
	}
	if got[0].ResourceData == nil || got[0].ResourceData.ID != "1612289765949" || got[0].ResourceData.ODataType != "#Microsoft.Graph.chatMessage" {
		t.Errorf("ResourceData = %+v, want id 1612289765949 of #Microsoft.Graph.chatMessage", got[0].ResourceData)
	}
	if want := testNow.Add(time.Hour); !got[0].SubscriptionExpirationDateTime.Equal(want) {
		t.Errorf("SubscriptionExpirationDateTime = %v, want %v", got[0].SubscriptionExpirationDateTime, want)
	}
	if got[0].IsLifecycle() || !got[1].IsLifecycle() {
		t.Errorf("IsLifecycle() = %v, %v; want false, true", got[0].IsLifecycle(), got[1].IsLifecycle())
	}
	if got[1].LifecycleEvent != receiver.LifecycleReauthorizationRequired || got[1].Data != nil {
		t.Errorf("lifecycle notification = %+v, want reauthorizationRequired without data", got[1])
	}
}

func TestBatchRefused(t *testing.T) {
	f := setup(t)
	other := readKey(t, "other_key.pem")
	rich := func(t *testing.T) graph.ChangeNotification { return f.richNotification(t) }
	tests := []struct {
		name       string
		config     func(*receiver.Config)
		notify     func(*testing.T) graph.ChangeNotification
		tokens     func(*testing.T) []string
		wantStatus int
		wantErr    error
	}{
		{
			name:       "client state mismatch",
			notify:     func(t *testing.T) graph.ChangeNotification { n := rich(t); n.ClientState = "guess"; return n },
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrClientState,
		},
		{
			name:       "unknown subscription",
			config:     func(c *receiver.Config) { c.ClientStateFor = func(string) (string, bool) { return "", false } },
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrClientState,
		},
		{
			name: "tampered data",
			notify: func(t *testing.T) graph.ChangeNotification {
				n := rich(t)
				n.EncryptedContent.Data = flipByte(t, n.EncryptedContent.Data)
				return n
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTamperedData,
		},
		{
			name:       "wrong key",
			config:     func(c *receiver.Config) { c.DecryptionKeys = map[string]*rsa.PrivateKey{testCertID: other} },
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrWrongKey,
		},
		{
			name: "unknown certificate id",
			notify: func(t *testing.T) graph.ChangeNotification {
				n := rich(t)
				n.EncryptedContent.EncryptionCertificateID = "retired"
				return n
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrUnknownCertificate,
		},
		{
			name:       "no validation tokens",
			tokens:     func(*testing.T) []string { return nil },
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrNoValidationTokens,
		},
		{
			name:       "forged token",
			tokens:     func(t *testing.T) []string { return []string{f.token(t, other, testKid, nil)} },
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenSignature,
		},
		{
			name:       "token with unknown kid",
			tokens:     func(t *testing.T) []string { return []string{f.token(t, other, "made-up", nil)} },
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenUnknownKey,
		},
		{
			name: "expired token",
			tokens: func(t *testing.T) []string {
				return []string{f.token(t, f.signingKey, testKid, func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() })}
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenExpired,
		},
		{
			name: "token not yet valid",
			tokens: func(t *testing.T) []string {
				return []string{f.token(t, f.signingKey, testKid, func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Hour).Unix() })}
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenNotYetValid,
		},
		{
			name: "wrong audience",
			tokens: func(t *testing.T) []string {
				return []string{f.token(t, f.signingKey, testKid, func(c jwt.MapClaims) { c["aud"] = "another-app" })}
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenAudience,
		},
		{
			name: "wrong publisher",
			tokens: func(t *testing.T) []string {
				return []string{f.token(t, f.signingKey, testKid, func(c jwt.MapClaims) { c["appid"] = "someone-else" })}
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenPublisher,
		},
		{
			name: "v2 issuer by default",
			tokens: func(t *testing.T) []string {
				return []string{f.token(t, f.signingKey, testKid, func(c jwt.MapClaims) {
					c["iss"] = "https://login.microsoftonline.com/" + testTenantID + "/v2.0"
				})}
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenIssuer,
		},
		{
			name: "token for another tenant",
			tokens: func(t *testing.T) []string {
				return []string{f.token(t, f.signingKey, testKid, func(c jwt.MapClaims) {
					c["tid"] = "00000000-0000-0000-0000-000000000001"
					c["iss"] = "https://sts.windows.net/00000000-0000-0000-0000-000000000001/"
				})}
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenTenant,
		},
		{
			name: "one good one forged token",
			tokens: func(t *testing.T) []string {
				return []string{f.serverToken(t), f.token(t, other, testKid, nil)}
			},
			wantStatus: http.StatusForbidden, wantErr: receiver.ErrTokenSignature,
		},
		{
			name:       "keys unreachable",
			config:     func(c *receiver.Config) { c.JWKSURL = "http://127.0.0.1:1/keys" },
			wantStatus: http.StatusServiceUnavailable, wantErr: receiver.ErrKeysUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := f.config()
			if tt.config != nil {
				tt.config(&cfg)
			}
			h := f.handler(t, cfg)
			notify, tokens := rich, func(t *testing.T) []string { return []string{f.serverToken(t)} }
			if tt.notify != nil {
				notify = tt.notify
			}
			if tt.tokens != nil {
				tokens = tt.tokens
			}
			c := graph.ChangeNotificationCollection{Value: []graph.ChangeNotification{notify(t)}, ValidationTokens: tokens(t)}

			f.received = nil
			if rec := post(t, h, c); rec.Code != tt.wantStatus {
				t.Errorf("POST: status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if len(f.received) != 0 {
				t.Errorf("POST delivered %d batches, want 0", len(f.received))
			}

			// Verify tells the reason the HTTP answer hides.
			body, _ := json.Marshal(c)
			parsed, err := receiver.ParseCollection(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.Verify(context.Background(), parsed); !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestMalformedBody(t *testing.T) {
	f := setup(t)
	cfg := f.config()
	cfg.MaxBodyBytes = 1024
	h := f.handler(t, cfg)
	tests := []struct {
		name string
		body string
		want int
	}{
		{"not JSON", "hello", http.StatusBadRequest},
		{"no value", `{"validationTokens":[]}`, http.StatusBadRequest},
		{"value not an array", `{"value":{}}`, http.StatusBadRequest},
		{"trailing data", `{"value":[]} {}`, http.StatusBadRequest},
		{"both kinds", `{"value":[{"subscriptionId":"s","changeType":"updated","lifecycleEvent":"missed"}]}`, http.StatusBadRequest},
		{"neither kind", `{"value":[{"subscriptionId":"s"}]}`, http.StatusBadRequest},
		{"bad time", `{"value":[{"subscriptionId":"s","changeType":"updated","subscriptionExpirationDateTime":"tomorrow"}]}`, http.StatusBadRequest},
		{"too large", `{"value":[],"x":"` + strings.Repeat("a", 2000) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		if rec := post(t, h, tt.body); rec.Code != tt.want {
			t.Errorf("POST %s: status = %d, want %d", tt.name, rec.Code, tt.want)
		}
	}
	if len(f.received) != 0 {
		t.Errorf("delivered %d batches, want 0", len(f.received))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := setup(t)
	rec := httptest.NewRecorder()
	f.handler(t, f.config()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/notify?validationToken=x", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status = %d, want 405", rec.Code)
	}
}

func TestCallbackErrorMeansRetry(t *testing.T) {
	f := setup(t)
	cfg := f.config()
	cfg.OnNotifications = func(context.Context, []receiver.Notification) error { return errors.New("database down") }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := post(t, f.handler(t, cfg), graph.ChangeNotificationCollection{
		Value:            []graph.ChangeNotification{f.richNotification(t)},
		ValidationTokens: []string{f.serverToken(t)},
	})
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("POST with failing callback: status = %d, want 500", rec.Code)
	}
}

func TestBasicBatchNeedsNoKeys(t *testing.T) {
	f := setup(t)
	cfg := f.config()
	cfg.JWKSURL = "http://127.0.0.1:1/keys" // unreachable: basic batches must not need it
	h := f.handler(t, cfg)
	rec := post(t, h, `{"value":[{"id":"lsgTZMr9KwAAA","subscriptionId":"s1","subscriptionExpirationDateTime":"2016-03-19T22:11:09.952Z",
		"clientState":"secretClientValue","changeType":"created","resource":"Users/u/Messages/m",
		"tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95",
		"resourceData":{"@odata.type":"#Microsoft.Graph.Message","@odata.id":"Users/u/Messages/m","@odata.etag":"W/\"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf\"","id":"m"}}]}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST basic batch: status = %d, want 202", rec.Code)
	}
	n := f.received[0][0]
	want := &receiver.ResourceData{ODataType: "#Microsoft.Graph.Message", ODataID: "Users/u/Messages/m", ODataEtag: `W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"`, ID: "m"}
	if diff := cmp.Diff(want, n.ResourceData, cmpIgnoreRaw); diff != "" {
		t.Errorf("ResourceData mismatch (-want +got):\n%s", diff)
	}
	if !json.Valid(n.ResourceData.Raw) {
		t.Errorf("ResourceData.Raw = %s, want the raw object", n.ResourceData.Raw)
	}
	if f.jwks.fetches.Load() != 0 {
		t.Errorf("JWKS fetched %d times for a basic batch, want 0", f.jwks.fetches.Load())
	}
}

var cmpIgnoreRaw = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Raw" }, cmp.Ignore())

func TestKeysetRefresh(t *testing.T) {
	f := setup(t)
	cfg := f.config()
	cfg.KeysMinFetch = time.Minute
	h := f.handler(t, cfg)
	send := func(key *rsa.PrivateKey, kid string) int {
		t.Helper()
		return post(t, h, graph.ChangeNotificationCollection{
			Value:            []graph.ChangeNotification{f.richNotification(t)},
			ValidationTokens: []string{f.token(t, key, kid, nil)},
		}).Code
	}

	if got := send(f.signingKey, testKid); got != http.StatusAccepted || f.jwks.fetches.Load() != 1 {
		t.Fatalf("first batch: status %d after %d fetches, want 202 after 1", got, f.jwks.fetches.Load())
	}
	if got := send(f.signingKey, testKid); got != http.StatusAccepted || f.jwks.fetches.Load() != 1 {
		t.Fatalf("second batch: status %d after %d fetches, want 202 from the cache", got, f.jwks.fetches.Load())
	}

	// The sender rotates to a new key. The first unknown kid once KeysMinFetch has
	// passed refreshes the keyset.
	f.now = f.now.Add(time.Minute)
	rotated := readKey(t, "other_key.pem")
	f.jwks.setKeys(map[string]*rsa.PublicKey{testKid: &f.signingKey.PublicKey, "rotated": &rotated.PublicKey})
	if got := send(rotated, "rotated"); got != http.StatusAccepted || f.jwks.fetches.Load() != 2 {
		t.Fatalf("rotated key: status %d after %d fetches, want 202 after 2", got, f.jwks.fetches.Load())
	}

	// Unknown kids within KeysMinFetch of the last fetch do not reach the endpoint.
	for range 3 {
		if got := send(rotated, "made-up"); got != http.StatusForbidden {
			t.Fatalf("made-up kid: status %d, want 403", got)
		}
	}
	if got := f.jwks.fetches.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times after made-up kids, want 2", got)
	}
	f.now = f.now.Add(time.Minute)
	send(rotated, "made-up")
	if got := f.jwks.fetches.Load(); got != 3 {
		t.Errorf("JWKS fetched %d times a minute later, want 3", got)
	}
}

func TestNewHandlerValidates(t *testing.T) {
	f := setup(t)
	tests := []struct {
		name string
		edit func(*receiver.Config)
	}{
		{"no callback", func(c *receiver.Config) { c.OnNotifications = nil }},
		{"keys without app ids", func(c *receiver.Config) { c.AppIDs = nil }},
		{"nil key", func(c *receiver.Config) { c.DecryptionKeys = map[string]*rsa.PrivateKey{"x": nil} }},
	}
	for _, tt := range tests {
		cfg := f.config()
		tt.edit(&cfg)
		if _, err := receiver.NewHandler(cfg); err == nil {
			t.Errorf("NewHandler(%s) = nil error, want one", tt.name)
		}
	}
}

func TestConcurrentBatchesFetchKeysOnce(t *testing.T) {
	f := setup(t)
	h := f.handler(t, f.config())
	body, err := json.Marshal(graph.ChangeNotificationCollection{
		Value:            []graph.ChangeNotification{f.richNotification(t)},
		ValidationTokens: []string{f.serverToken(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	codes := make(chan int, n)
	for range n {
		go func() { codes <- post(t, h, string(body)).Code }()
	}
	for range n {
		if code := <-codes; code != http.StatusAccepted {
			t.Errorf("concurrent POST: status = %d, want 202", code)
		}
	}
	if got := f.jwks.fetches.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times by %d concurrent batches, want 1", got, n)
	}
	if len(f.received) != n {
		t.Errorf("received %d batches, want %d", len(f.received), n)
	}
}

func TestIssuerV1OrV2AcceptsV2Tokens(t *testing.T) {
	f := setup(t)
	cfg := f.config()
	cfg.CheckIssuer = receiver.IssuerV1OrV2
	v2 := f.token(t, f.signingKey, testKid, func(c jwt.MapClaims) {
		c["iss"] = "https://login.microsoftonline.com/" + testTenantID + "/v2.0"
		c["ver"] = "2.0"
		delete(c, "appid")
		c["azp"] = receiver.DefaultPublisherID
	})
	rec := post(t, f.handler(t, cfg), graph.ChangeNotificationCollection{
		Value:            []graph.ChangeNotification{f.richNotification(t)},
		ValidationTokens: []string{v2},
	})
	if rec.Code != http.StatusAccepted {
		t.Errorf("POST with v2 token under IssuerV1OrV2: status = %d, want 202", rec.Code)
	}
}
