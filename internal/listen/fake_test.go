package listen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/richdata"
)

// fakeGraph: a stand-in Graph server for listen's unit tests of renewals, lifecycle
// events and errors that the real server cannot be made to produce on cue (the
// end-to-end tests in cmd/graphhook/listen_e2e_test.go run the real one).

// fakeGraph is a minimal Graph server for listen's own behaviour: a token endpoint,
// the JWKS, and subscriptions that run the validation handshake. The end-to-end test
// runs the real server; this one lets tests make it fail and send lifecycle events.
type fakeGraph struct {
	t      *testing.T
	srv    *httptest.Server
	signer richdata.RSASigner
	// calls receives "METHOD path" of every Graph call, in order.
	calls chan string

	mu sync.Mutex
	// expiry is the expirationDateTime answered on create and renew.
	expiry func() time.Time
	// createError, when set, is the error envelope POST /subscriptions answers 400 with.
	createError string
	// tokenError, when set, is the OAuth error the token endpoint answers 400 with.
	tokenError string
	subs       map[string]subscription
	next       int
	patchBody  map[string]any
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeGraph{t: t, signer: richdata.RSASigner{Key: key, KeyID: "fake-kid"}, calls: make(chan string, 100),
		subs: map[string]subscription{}, expiry: func() time.Time { return time.Now().Add(time.Hour) }}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tokenPath := "/" + DemoTenant + "/oauth2/v2.0/token"
	switch {
	case r.URL.Path == tokenPath:
		r.ParseForm()
		if f.tokenError != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q}`, f.tokenError)
			return
		}
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"tok-%s-%s"}`, r.PostForm.Get("grant_type"), r.PostForm.Get("client_id"))
		return
	case r.URL.Path == "/"+DemoTenant+"/discovery/v2.0/keys":
		pub := f.signer.Key.PublicKey
		fmt.Fprintf(w, `{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":%q,"n":%q,"e":%q}]}`, f.signer.KeyID,
			base64.RawURLEncoding.EncodeToString(pub.N.Bytes()), base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()))
		return
	}
	f.calls <- r.Method + " " + r.URL.Path
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
		graphErrorTo(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1.0/subscriptions/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/subscriptions":
		if f.createError != "" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, f.createError)
			return
		}
		var s subscription
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			graphErrorTo(w, http.StatusBadRequest, "InvalidRequest", "Could not process subscription creation payload.")
			return
		}
		if err := handshake(s.NotificationURL); err != nil {
			graphErrorTo(w, http.StatusBadRequest, "ValidationError", err.Error())
			return
		}
		f.next++
		s.ID = fmt.Sprintf("sub-%d", f.next)
		s.ExpirationDateTime = graph.FormatTime(f.expiry())
		f.subs[s.ID] = s
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(s)
	case r.Method == http.MethodPatch:
		s, ok := f.subs[id]
		if !ok {
			graphErrorTo(w, http.StatusNotFound, "ResourceNotFound", "The object was not found.")
			return
		}
		json.NewDecoder(r.Body).Decode(&f.patchBody)
		s.ExpirationDateTime = graph.FormatTime(f.expiry())
		f.subs[id] = s
		json.NewEncoder(w).Encode(s)
	case r.Method == http.MethodDelete:
		if _, ok := f.subs[id]; !ok {
			graphErrorTo(w, http.StatusNotFound, "ResourceNotFound", "The object was not found.")
			return
		}
		delete(f.subs, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		graphErrorTo(w, http.StatusBadRequest, "BadRequest", "unexpected call")
	}
}

func graphErrorTo(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(graph.NewErrorBody(code, msg, "req", "", time.Now()))
}

// handshake validates a notification URL as Graph does: the decoded token echoed with 200.
func handshake(notificationURL string) error {
	const token = "Validation: Testing client application reachability for subscription Request-Id: 1"
	resp, err := http.Post(notificationURL+"?validationToken="+strings.ReplaceAll(token, " ", "+"), "text/plain; charset=utf-8", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != token {
		return fmt.Errorf("Subscription validation request failed: %d %q", resp.StatusCode, body)
	}
	return nil
}

// setExpiry changes what create and renew answer as expirationDateTime.
func (f *fakeGraph) setExpiry(fn func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expiry = fn
}

func (f *fakeGraph) subscriptions() map[string]subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]subscription{}
	for k, v := range f.subs {
		out[k] = v
	}
	return out
}

// waitCall returns the next Graph call, failing after 30 s.
func (f *fakeGraph) waitCall(t *testing.T) string {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("no Graph call within 30s")
	}
	return ""
}

// runningListen is a listener running in-process against a fake or real server.
type runningListen struct {
	l      *listener
	out    *lineWriter
	errOut *lineWriter
	cancel context.CancelFunc
	done   chan error
}

func startListen(t *testing.T, cfg Config) *runningListen {
	t.Helper()
	cfg.fillDefaults()
	rl := &runningListen{out: newLineWriter(), errOut: newLineWriter(), done: make(chan error, 1)}
	l, err := newListener(cfg, rl.out, rl.errOut)
	if err != nil {
		t.Fatalf("newListener: %v", err)
	}
	rl.l = l
	ctx, cancel := context.WithCancel(context.Background())
	rl.cancel = cancel
	go func() { rl.done <- l.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-rl.done
	})
	return rl
}

// stop cancels the listener as Ctrl-C does and returns what run returned.
func (rl *runningListen) stop(t *testing.T) error {
	t.Helper()
	rl.cancel()
	select {
	case err := <-rl.done:
		rl.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("listen did not stop within 30s of cancellation")
	}
	return nil
}

func postJSON(t *testing.T, url string, body any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
