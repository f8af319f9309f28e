package skew

import (
	"context"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

// TestKeeper: two clocks on one store (two nodes, or a process and its restart)
// end on the same offset; advances add up whichever node takes them; a node ahead of
// the store never moves back.
func TestKeeper(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Dir: t.TempDir(), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, b := &clock.Offset{}, &clock.Offset{}
	ka, kb := New(st, a, nil), New(st, b, nil)

	if err := kb.Sync(ctx); err != nil || b.Skew() != 0 {
		t.Fatalf("Sync on an empty store = %v, offset %v; want nil and 0", err, b.Skew())
	}
	if got, err := ka.Advance(ctx, 90*time.Minute); err != nil || got != 90*time.Minute {
		t.Fatalf("A.Advance(90m) = %v, %v; want 1h30m0s", got, err)
	}
	if err := kb.Sync(ctx); err != nil || b.Skew() != 90*time.Minute {
		t.Fatalf("B after Sync = %v (%v), want 1h30m0s", b.Skew(), err)
	}
	if got, err := kb.Advance(ctx, time.Hour); err != nil || got != 150*time.Minute {
		t.Fatalf("B.Advance(1h) = %v, %v; want 2h30m0s", got, err)
	}
	if err := ka.Sync(ctx); err != nil || a.Skew() != 150*time.Minute {
		t.Fatalf("A after Sync = %v (%v), want 2h30m0s", a.Skew(), err)
	}

	// A clock ahead of the store (moved before the store was shared, say) is not
	// pulled back by Sync, and its next advance starts from it.
	c := &clock.Offset{}
	c.Advance(5 * time.Hour)
	kc := New(st, c, nil)
	if err := kc.Sync(ctx); err != nil || c.Skew() != 5*time.Hour {
		t.Fatalf("C (5h) after Sync with the store at 2h30m = %v (%v), want 5h0m0s", c.Skew(), err)
	}
	if got, err := kc.Advance(ctx, time.Minute); err != nil || got != 5*time.Hour+time.Minute {
		t.Fatalf("C.Advance(1m) = %v, %v; want 5h1m0s", got, err)
	}
	if _, err := ka.Advance(ctx, -time.Minute); err == nil {
		t.Error("Advance(-1m) = nil error, want one: time never runs backwards")
	}
}
