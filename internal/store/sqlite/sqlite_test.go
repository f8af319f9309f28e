package sqlite_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "user", ID: "u", Data: []byte(`{}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatalf("reopen (migrations must be idempotent): %v", err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetObject(ctx, "t", "user", "u")
		return err
	})
	if err != nil {
		t.Fatalf("object after reopen: %v", err)
	}
}

func TestBadSynchronous(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "SOMETIMES"}); err == nil {
		t.Fatal("Open with a bad synchronous mode succeeded")
	}
}

// TestPagesReadAnIndex: a page of a collection in its default order, at any
// $skip, and a $skiptoken page are read from an index in order (see
// storetest.RunExplain), even on a fresh file whose planner has no statistics.
func TestPagesReadAnIndex(t *testing.T) {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunExplain(t, s, s.ExplainObjects, "TEMP B-TREE", nil)
}
