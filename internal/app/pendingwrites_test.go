package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/httpapi"
)

// TestMaxPendingWrites: with at most 2 Graph API writes in flight, a third write
// while two are held gets 429 TooManyRequests with Retry-After: 1 at once; reads
// pass; once the two finish, writes pass again.
func TestMaxPendingWrites(t *testing.T) {
	t.Parallel()
	held, release := make(chan struct{}, 2), make(chan struct{})
	m := app.New(app.Config{Addr: "127.0.0.1:0", HTTPSAddr: "off", Data: t.TempDir(), LogLevel: "error", MaxPendingWrites: 2}, io.Discard, io.Discard)
	t.Cleanup(func() { m.Close() })
	err := m.RunParts(context.Background(), func(m *app.Main) error {
		m.HTTP.Graph().Handle("POST", "hold", func(c *httpapi.Ctx) error {
			held <- struct{}{}
			<-release
			return c.NoContent()
		})
		m.HTTP.Graph().Handle("POST", "quick", func(c *httpapi.Ctx) error { return c.NoContent() })
		m.HTTP.Graph().Handle("GET", "quick", func(c *httpapi.Ctx) error { return c.NoContent() })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	token := appToken(t, m.URL)
	do := func(method, path string) *http.Response {
		req, _ := http.NewRequest(method, m.URL+"/v1.0/"+path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	done := make(chan int, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("POST", m.URL+"/v1.0/hold", strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	for range 2 {
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("the two held writes never arrived")
		}
	}
	resp := do("POST", "quick")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("third write = %d, Retry-After %q; want 429 with Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := do("GET", "quick"); resp.StatusCode != http.StatusNoContent {
		t.Errorf("read while writes are held = %d, want 204", resp.StatusCode)
	}
	close(release)
	for range 2 {
		if code := <-done; code != http.StatusNoContent {
			t.Errorf("held write = %d, want 204", code)
		}
	}
	if resp := do("POST", "quick"); resp.StatusCode != http.StatusNoContent {
		t.Errorf("write after the others finished = %d, want 204", resp.StatusCode)
	}
}
