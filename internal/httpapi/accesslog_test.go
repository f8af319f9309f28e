package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/httpapi"
)

// lockedBuffer is a log destination written by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAccessLog: every request is one info line with its method, path, status,
// duration and request id; health probes are at debug, so an info log omits them.
// The Date header tells the server's clock, moved or not.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	clk := clock.NewFixed(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	s := httpapi.New(httpapi.Config{PublicURL: "http://graphhook.test", AdminKey: "k",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})), Clock: clk})
	s.Admin().Handle("GET", "ping", func(c *httpapi.Ctx) error { return c.JSON(http.StatusOK, map[string]string{"ok": "yes"}) })
	srv := httptest.NewServer(s)
	defer srv.Close()

	get := func(path, key string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := get("/_graphhook/ping?secret=x", "k")
	denied := get("/_graphhook/ping", "wrong")
	get("/healthz", "")
	if got := ok.Header.Get("Date"); got != "Tue, 06 May 2031 07:08:09 GMT" {
		t.Errorf("Date = %q, want the server clock's Tue, 06 May 2031 07:08:09 GMT", got)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var access []string
	for _, l := range lines {
		if strings.Contains(l, "msg=request ") {
			access = append(access, l)
		}
	}
	if len(access) != 2 {
		t.Fatalf("access log lines = %d, want 2 (the health probe is at debug):\n%s", len(access), logs.String())
	}
	for i, want := range []struct {
		status string
		resp   *http.Response
	}{{"200", ok}, {"401", denied}} {
		l := access[i]
		for _, part := range []string{"level=INFO", "method=GET", "path=/_graphhook/ping ", "status=" + want.status, "duration=", "request-id=" + want.resp.Header.Get("request-id")} {
			if !strings.Contains(l, part) {
				t.Errorf("access log line %d = %q, want it to contain %q", i+1, l, part)
			}
		}
		if strings.Contains(l, "secret") {
			t.Errorf("access log line %d = %q names the query string", i+1, l)
		}
	}
}
