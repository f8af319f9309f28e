package graphclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clockServer is a server whose clock runs ahead by an offset that the test moves
// (as graphhook's admin API does): tokens last an hour of its time, its Date header
// tells its time, and a call with an expired token gets a 401.
type clockServer struct {
	mu      sync.Mutex
	offset  time.Duration
	issued  map[string]time.Time // token → expiry, server time
	fetches int
}

func (s *clockServer) now() time.Time { return time.Now().Add(s.offset) }

func (s *clockServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		s.fetches++
		tok := fmt.Sprintf("t%d", s.fetches)
		s.issued[tok] = s.now().Add(time.Hour)
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"access_token":%q}`, tok)
		return
	}
	exp, ok := s.issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok || !s.now().Before(exp) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}}`)
		return
	}
	io.WriteString(w, `{}`)
}

// TestTokenAcrossClockMoves: a token the server's moved clock expired is replaced
// on the 401 and the call succeeds; once the client has seen the server's time, a
// token near its expiry there is replaced before the call.
func TestTokenAcrossClockMoves(t *testing.T) {
	s := &clockServer{issued: map[string]time.Time{}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := New(Config{Server: srv.URL, Tenant: "contoso.onmicrosoft.com", ClientID: "app", ClientSecret: "s"})
	ctx := context.Background()
	if err := c.Do(ctx, "GET", "/v1.0/me", nil, nil); err != nil {
		t.Fatalf("first call: %v", err)
	}
	s.mu.Lock()
	s.offset = 90 * time.Minute
	s.mu.Unlock()
	if err := c.Do(ctx, "GET", "/v1.0/me", nil, nil); err != nil {
		t.Fatalf("call after the server clock moved 90m: %v, want it made with a new token", err)
	}
	if s.fetches != 2 {
		t.Errorf("token fetches = %d after a 90m move, want 2", s.fetches)
	}
	if d := time.Until(c.ServerNow()); d < 89*time.Minute || d > 91*time.Minute {
		t.Errorf("ServerNow() - now = %v, want about 1h30m", d)
	}
	// 56 more minutes: t2 has 4 left in the server's time. It still works, and the
	// answer tells the client the server's new time, so the next call asks for a
	// new token first (under 5 minutes left) instead of meeting a 401.
	s.mu.Lock()
	s.offset += 56 * time.Minute
	s.mu.Unlock()
	for i := range 2 {
		if err := c.Do(ctx, "GET", "/v1.0/me", nil, nil); err != nil {
			t.Fatalf("call %d after 56 more minutes: %v", i+1, err)
		}
	}
	if s.fetches != 3 {
		t.Errorf("token fetches = %d, want 3", s.fetches)
	}
}
