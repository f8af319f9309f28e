package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// testCancelled: a transaction whose context ends stops at its next statement, and a
// write stopped that way leaves nothing behind. (The embedded store checks the
// context between statements instead of handing each statement to a watcher.)
func testCancelled(t *testing.T, s store.Store) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	obj := func(id string) *store.Object {
		return &store.Object{Tenant: "t", Kind: "user", ID: id, Data: []byte(`{}`), Created: at, Updated: at}
	}

	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertObject(ctx, obj("first")); err != nil {
			t.Errorf("InsertObject before the context ended: %v", err)
			return err
		}
		cancel()
		return tx.InsertObject(ctx, obj("second"))
	})
	if err == nil {
		t.Fatal("Update went on after its context ended: want an error")
	}

	ctx, cancel = context.WithCancel(context.Background())
	err = s.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetObject(ctx, "t", "user", "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetObject before the context ended = %v, want ErrNotFound", err)
		}
		cancel()
		_, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "user"})
		return err
	})
	if err == nil {
		t.Error("View went on after its context ended: want an error")
	}

	view(t, s, func(tx store.Tx) error {
		for _, id := range []string{"first", "second"} {
			if _, err := tx.GetObject(context.Background(), "t", "user", id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetObject(%s) after the cancelled Update = %v, want ErrNotFound: nothing of it may stay", id, err)
			}
		}
		return nil
	})
}
