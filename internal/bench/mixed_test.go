package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
)

// TestPostRetrying: the mixed loader sends a write answered 503 or 429 again, as
// Microsoft's client libraries do, up to loadRetries times, and gives up on other
// errors at once. The server is a loopback one that issues a token and answers the
// writes as a busy server would.
func TestPostRetrying(t *testing.T) {
	for _, tt := range []struct {
		name    string
		busy    int // writes answered busy before one is created
		status  int
		wantErr int // 0: success
		posts   int64
	}{
		{"503 twice, then created", 2, http.StatusServiceUnavailable, 0, 3},
		{"429 once, then created", 1, http.StatusTooManyRequests, 0, 2},
		{"always 503", 1000, http.StatusServiceUnavailable, http.StatusServiceUnavailable, loadRetries + 1},
		{"400 is not retried", 1000, http.StatusBadRequest, http.StatusBadRequest, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var posts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"access_token":"tok","token_type":"Bearer","expires_in":3600}`))
					return
				}
				if n := posts.Add(1); n <= int64(tt.busy) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tt.status)
					w.Write([]byte(`{"error":{"code":"busy","message":"try later"}}`))
					return
				}
				w.WriteHeader(http.StatusCreated)
			}))
			defer srv.Close()
			app := graphclient.New(graphclient.Config{Server: srv.URL, Tenant: "contoso", ClientID: "app", ClientSecret: "s"})
			err := postRetrying(context.Background(), app, "/v1.0/users", map[string]any{"a": 1}, time.Millisecond)
			var ge *graphclient.Error
			switch {
			case tt.wantErr == 0 && err != nil:
				t.Errorf("postRetrying = %v, want success", err)
			case tt.wantErr != 0 && (!errors.As(err, &ge) || ge.Status != tt.wantErr):
				t.Errorf("postRetrying = %v, want a %d error", err, tt.wantErr)
			}
			if got := posts.Load(); got != tt.posts {
				t.Errorf("server saw %d writes, want %d", got, tt.posts)
			}
		})
	}
}
