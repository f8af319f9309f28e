package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
)

// TestBannerNamesDashboard: the dev banner prints the dashboard's URL, and that URL
// serves the sign-in page.
func TestBannerNamesDashboard(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), LogLevel: "error"}, &out, io.Discard)
	t.Cleanup(func() { m.Close() })
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "dashboard: " + m.URL + "/_graphhook/ "
	if !strings.Contains(out.String(), want) {
		t.Fatalf("banner lacks %q:\n%s", want, out.String())
	}
	resp, err := http.Get(m.URL + "/_graphhook/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="key"`) {
		t.Errorf("GET /_graphhook/ = %d %s, want the sign-in page", resp.StatusCode, body)
	}
}
