package subscription_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/subscription"
)

const (
	msgTimedOut = "Subscription validation request timed out."
	msgNot200   = "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
	msgMismatch = "Subscription validation request failed. Response must exactly match validationToken query parameter."
)

// startReceiver runs h on loopback; blocking handlers are released before the server
// closes, so no test waits on a sleeping handler.
func startReceiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, chan struct{}) {
	t.Helper()
	return startBlocking(t, make(chan struct{}), h)
}

func startBlocking(t *testing.T, release chan struct{}, h http.HandlerFunc) (*httptest.Server, chan struct{}) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: cleanups run last-in, first-out
	return srv, release
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc
		code    string // "" for success
		message string
	}{
		{"right echo", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				// The request is what Microsoft's "Receive change notifications through webhooks" describes.
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" || r.ContentLength > 0 {
					t.Errorf("validation request = %s, Content-Type %q, length %d; want POST, text/plain; charset=utf-8, empty", r.Method, r.Header.Get("Content-Type"), r.ContentLength)
				}
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, r.URL.Query().Get("validationToken"))
			}
		}, "", ""},
		{"encoded echo", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, url.QueryEscape(r.URL.Query().Get("validationToken")))
			}
		}, "ValidationError", msgMismatch},
		{"wrong echo", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }
		}, "ValidationError", msgMismatch},
		{"token with a trailing newline", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.URL.Query().Get("validationToken")+"\n")
			}
		}, "ValidationError", msgMismatch},
		{"202 instead of 200", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusAccepted)
				io.WriteString(w, r.URL.Query().Get("validationToken"))
			}
		}, "ValidationError", msgNot200},
		{"500", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }
		}, "ValidationError", msgNot200},
		{"no answer within the limit", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { <-blockRelease }
		}, "InvalidRequest", msgTimedOut},
		{"headers then a stalled body", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, "Validation")
				w.(http.Flusher).Flush()
				<-blockRelease
			}
		}, "InvalidRequest", msgTimedOut},
		{"huge body", func(t *testing.T, blockRelease chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				tok := r.URL.Query().Get("validationToken")
				io.WriteString(w, tok)
				chunk := strings.Repeat("x", 64<<10)
				for i := 0; i < 64; i++ { // 4 MiB after the token
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
			}
		}, "ValidationError", msgMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			srv, _ := startBlocking(t, release, tt.handler(t, release))
			h := subscription.NewHandshaker(subscription.Config{HandshakeTimeout: 300 * time.Millisecond})
			err := h.Validate(context.Background(), srv.URL+"/hook", "")
			checkHandshakeError(t, err, tt.code, tt.message)
		})
	}
}

func checkHandshakeError(t *testing.T, err error, code, message string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	ge, ok := graph.AsError(err)
	if !ok || ge.Status != http.StatusBadRequest || ge.Code != code || ge.Message != message {
		t.Fatalf("Validate() = %v, want 400 %s %q", err, code, message)
	}
}

func TestHandshakeFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	target, _ := startReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		io.WriteString(w, r.URL.Query().Get("validationToken"))
	})
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirect, _ := startReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/hook?"+r.URL.RawQuery, status)
		})
		h := subscription.NewHandshaker(subscription.Config{})
		checkHandshakeError(t, h.Validate(context.Background(), redirect.URL+"/hook", ""), "ValidationError", msgNot200)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}

func TestHandshakeKeepsTheURLsQuery(t *testing.T) {
	t.Parallel()
	var got url.Values
	srv, _ := startReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		io.WriteString(w, r.URL.Query().Get("validationToken"))
	})
	h := subscription.NewHandshaker(subscription.Config{})
	if err := h.Validate(context.Background(), srv.URL+"/hook?tenant=contoso&x=1", ""); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	if got.Get("tenant") != "contoso" || got.Get("x") != "1" || !strings.HasPrefix(got.Get("validationToken"), "Validation: Testing client application reachability for subscription Request-Id: ") {
		t.Errorf("receiver saw query %v, want tenant, x and a validationToken", got)
	}
}

func TestValidationURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h/hook", "https://h/hook?validationToken=a+b%3A"},
		{"https://h/hook?x=1", "https://h/hook?x=1&validationToken=a+b%3A"},
		{"https://h/hook?", "https://h/hook?validationToken=a+b%3A"},
		{"https://h/hook?x=1&", "https://h/hook?x=1&validationToken=a+b%3A"},
	}
	for _, tt := range tests {
		if got := subscription.ValidationURL(tt.in, "a b:"); got != tt.want {
			t.Errorf("ValidationURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHandshakeTLSVersion: latestSupportedTlsVersion is the highest version offered.
func TestHandshakeTLSVersion(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Query().Get("validationToken"))
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	h := subscription.NewHandshaker(subscription.Config{RootCAs: roots})
	checkHandshakeError(t, h.Validate(context.Background(), srv.URL, "v1_3"), "", "")
	checkHandshakeError(t, h.Validate(context.Background(), srv.URL, "v1_2"), "ValidationError", msgNot200)
	checkHandshakeError(t, h.Validate(context.Background(), srv.URL, ""), "ValidationError", msgNot200)
}

// TestStrictDialRefusesPrivateAddresses checks the connect-time guard with names
// that resolve to loopback, so that a parse-time check alone would not do.
func TestStrictDialRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		io.WriteString(w, r.URL.Query().Get("validationToken"))
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	strict := subscription.NewHandshaker(subscription.Config{Profile: subscription.ProfileStrict, RootCAs: roots})
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		checkHandshakeError(t, strict.Validate(context.Background(), "https://"+host+port+"/hook", ""), "ValidationError", msgNot200)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("loopback receiver got %d requests in the strict profile, want 0", n)
	}
	dev := subscription.NewHandshaker(subscription.Config{RootCAs: roots})
	checkHandshakeError(t, dev.Validate(context.Background(), srv.URL+"/hook", ""), "", "")
}

func TestPublicAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"2606:4700:4700::1111", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fc00::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:8.8.8.8", true},
	}
	for _, tt := range tests {
		if got := subscription.PublicAddr(tt.addr); got != tt.want {
			t.Errorf("PublicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
