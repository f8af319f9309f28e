package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/store/pgtest"
)

// TestRestartKeepsAdminKeyAndBanner: the dev admin key is generated once and kept
// with the data, the clock offset moved through the admin API outlives the process,
// and the demo tenant's credentials are printed at every start, not only the first.
func TestRestartKeepsAdminKeyAndBanner(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	run := func(advance string) (key, banner string, skew time.Duration) {
		var out strings.Builder
		m := app.New(app.Config{Addr: "127.0.0.1:0", Data: data, LogLevel: "error"}, &out, &out)
		if err := m.Run(context.Background()); err != nil {
			m.Close()
			t.Fatalf("Run: %v", err)
		}
		defer m.Close()
		if advance != "" {
			call(t, m.URL, m.Config.AdminKey, "POST", "/_graphhook/clock/advance", map[string]string{"duration": advance}, 200)
		}
		return m.Config.AdminKey, out.String(), m.Clock.Skew()
	}
	first, banner1, skew1 := run("90m")
	second, banner2, skew2 := run("")
	if first == "" || first != second {
		t.Errorf("admin keys of two starts on one data folder = %q and %q, want the same", first, second)
	}
	if skew1 != 90*time.Minute || skew2 != 90*time.Minute {
		t.Errorf("clock offset after a 90m advance = %v, after a restart %v; want 1h30m0s both", skew1, skew2)
	}
	for i, b := range []string{banner1, banner2} {
		if !strings.Contains(b, "admin key: "+first) || !strings.Contains(b, "demo tenant: ") || !strings.Contains(b, "password Passw0rd!") {
			t.Errorf("banner of start %d lacks the admin key or the demo credentials:\n%s", i+1, b)
		}
	}
	// A second advance adds to the kept offset; it does not start again from zero.
	_, _, skew3 := run("30m")
	if skew3 != 2*time.Hour {
		t.Errorf("clock offset after 90m, a restart and 30m = %v, want 2h0m0s", skew3)
	}
}

// TestClockSharedOnPostgres: an advance made on one node of a shared database moves
// the clock of the other within the re-read interval (skew.DefaultEvery), advances on
// both nodes add up, and a node started later begins at the shared offset.
func TestClockSharedOnPostgres(t *testing.T) {
	db := pgtest.URL(t)
	a := startNode(t, db, io.Discard)
	b := startNode(t, db, io.Discard)
	call(t, a.URL, a.Config.AdminKey, "POST", "/_graphhook/clock/advance", map[string]string{"duration": "90m"}, 200)
	if got := a.Clock.Skew(); got != 90*time.Minute {
		t.Fatalf("offset of the node that took the advance = %v, want 1h30m0s", got)
	}
	eventually(t, 10*time.Second, "node B sees A's 90m advance", func() bool { return b.Clock.Skew() == 90*time.Minute })
	call(t, b.URL, b.Config.AdminKey, "POST", "/_graphhook/clock/advance", map[string]string{"duration": "1h"}, 200)
	eventually(t, 10*time.Second, "node A sees B's 1h advance on top of its own", func() bool { return a.Clock.Skew() == 150*time.Minute })
	if got := b.Clock.Skew(); got != 150*time.Minute {
		t.Errorf("offset of B after 90m on A and 1h on B = %v, want 2h30m0s", got)
	}
	c := startNode(t, db, io.Discard)
	if got := c.Clock.Skew(); got != 150*time.Minute {
		t.Errorf("offset of a node started after the advances = %v, want 2h30m0s", got)
	}
}
