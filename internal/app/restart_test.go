package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
)

// TestRestartKeepsAdminKeyAndBanner: the dev admin key is generated once and kept
// with the data, and the demo tenant's credentials are printed at every start, not
// only the first.
func TestRestartKeepsAdminKeyAndBanner(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	run := func() (key, banner string) {
		var out strings.Builder
		m := app.New(app.Config{Addr: "127.0.0.1:0", Data: data, LogLevel: "error"}, &out, &out)
		if err := m.Run(context.Background()); err != nil {
			m.Close()
			t.Fatalf("Run: %v", err)
		}
		key = m.Config.AdminKey
		m.Close()
		return key, out.String()
	}
	first, banner1 := run()
	second, banner2 := run()
	if first == "" || first != second {
		t.Errorf("admin keys of two starts on one data folder = %q and %q, want the same", first, second)
	}
	for i, b := range []string{banner1, banner2} {
		if !strings.Contains(b, "admin key: "+first) || !strings.Contains(b, "demo tenant: ") || !strings.Contains(b, "password Passw0rd!") {
			t.Errorf("banner of start %d lacks the admin key or the demo credentials:\n%s", i+1, b)
		}
	}
}
