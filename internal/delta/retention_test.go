package delta_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

// TestRetentionExpiresOldTokens shows the path from retention to Graph's answer: a
// token that points before the oldest kept change is refused with syncStateNotFound,
// while a token taken at the log's end stays valid even when every change is old.
func TestRetentionExpiresOldTokens(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Dir: t.TempDir(), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFixed(start)
	appendAt := func(id string, at time.Time) int64 {
		c := store.Change{Tenant: "t", Kind: "user", ID: id, ChangeType: store.Updated, Topics: []string{"users"}, Time: at, After: []byte(`{}`)}
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.AppendChange(ctx, &c) }); err != nil {
			t.Fatal(err)
		}
		return c.Seq
	}
	first := appendAt("a", start)
	appendAt("b", start.Add(time.Hour))
	last := appendAt("c", start.Add(8*24*time.Hour))
	page := func(after int64) ([]delta.Entry, error) {
		var entries []delta.Entry
		err := st.View(ctx, func(tx store.Tx) error {
			var err error
			entries, _, _, err = delta.Page(ctx, tx, "t", "users", after, 0)
			return err
		})
		return entries, err
	}
	if entries, err := page(first); err != nil || len(entries) != 2 {
		t.Fatalf("Page(after the first change) before pruning = %d entries, %v; want 2", len(entries), err)
	}

	passes := make(chan service.Report, 1)
	r := delta.NewRetention(st, delta.RetentionConfig{Clock: clk, OnPass: func(rep service.Report) { passes <- rep }})
	clk.Set(start.Add(8*24*time.Hour + time.Minute))
	n, err := r.Prune(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want the 2 changes older than 7 days", n, err)
	}
	_, err = page(first)
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Code != graph.CodeSyncStateNotFound || ge.Status != 400 {
		t.Fatalf("Page(token older than the log) = %v, want 400 syncStateNotFound", err)
	}
	if entries, err := page(last); err != nil || len(entries) != 0 {
		t.Fatalf("Page(token at the end) = %d entries, %v; want 0 and no error", len(entries), err)
	}
	// Long after, with nothing new: the newest change stays, and so does its token.
	clk.Set(start.Add(60 * 24 * time.Hour))
	if n, err := r.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("Prune of a quiet log = %d, %v; want 0", n, err)
	}
	if _, err := page(last); err != nil {
		t.Fatalf("Page(token at the end of a quiet log) = %v", err)
	}

	// The service prunes at Start and can be started again after Stop. c and d are
	// older than 7 days; e, the newest, is not.
	appendAt("d", start)
	newest := appendAt("e", clk.Now())
	for i, want := range []int{2, 0} {
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case rep := <-passes:
			if rep.N != want || rep.Err != nil {
				t.Errorf("pass after start %d pruned %d, error %v; want %d, nil", i+1, rep.N, rep.Err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no prune within 10 s of start %d", i+1)
		}
		r.Stop()
	}
	var left int64
	st.View(ctx, func(tx store.Tx) error { left, _ = tx.FirstSeq(ctx); return nil })
	if left != newest {
		t.Errorf("FirstSeq after the service ran = %d, want %d (the old changes c and d pruned)", left, newest)
	}
}
