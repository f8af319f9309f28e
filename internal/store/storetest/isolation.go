package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
)

// testReadThenWrite runs Updates that read, then write on what they read, all at
// once, as the workloads' rules do (insert if missing, increment a counter). Each
// must behave as if it ran alone: a backend with concurrent writers has to make
// such transactions serializable (retrying the losers), as SQLite's single writer
// does by construction.
func testReadThenWrite(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, func(tx store.Tx) error {
				if _, err := tx.GetObject(ctx, "t", "folder", "inbox"); !errors.Is(err, store.ErrNotFound) {
					return err
				}
				return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "folder", ID: "inbox", Data: []byte(`{}`)})
			})
		}()
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, func(tx store.Tx) error {
				o, err := tx.GetObject(ctx, "t", "counter", "c")
				if errors.Is(err, store.ErrNotFound) {
					return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "counter", ID: "c", Data: []byte(`1`)})
				}
				if err != nil {
					return err
				}
				var v int
				fmt.Sscan(string(o.Data), &v)
				o.Data = fmt.Appendf(nil, "%d", v+1)
				return tx.UpdateObject(ctx, &o)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent read-then-write Update = %v, want nil", err)
		}
	}
	var c store.Object
	view(t, s, func(tx store.Tx) (err error) {
		if f, err := tx.GetObject(ctx, "t", "folder", "inbox"); err != nil || f.Version != 1 {
			t.Errorf("GetObject(inbox) = version %d, %v, want version 1, nil", f.Version, err)
		}
		c, err = tx.GetObject(ctx, "t", "counter", "c")
		return err
	})
	if string(c.Data) != fmt.Sprint(n) || c.Version != n {
		t.Errorf("counter after %d concurrent increments = %s (version %d), want %d (version %d)", n, c.Data, c.Version, n, n)
	}
}

// testChangesVisibleInOrder appends changes from concurrent writers while a reader
// keeps listing them: once the reader has seen a Seq, no smaller Seq may show up in
// a later read (a delta token taken at the larger one would skip it for ever).
func testChangesVisibleInOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	const writers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				errs <- s.Update(ctx, func(tx store.Tx) error {
					return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "message", ID: "m", ChangeType: store.Created, Topics: []string{"users/u/messages"}})
				})
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[int64]bool{}
	var highest int64
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one last read after every writer returned
		default:
		}
		var got []store.Change
		view(t, s, func(tx store.Tx) (err error) {
			got, err = tx.ListChanges(ctx, "t", "users/u/messages", 0, 0)
			return err
		})
		for _, c := range got {
			if !seen[c.Seq] && c.Seq < highest {
				t.Fatalf("ListChanges: seq %d appeared after seq %d had been read", c.Seq, highest)
			}
			seen[c.Seq] = true
			highest = max(highest, c.Seq)
		}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("AppendChange = %v, want nil", err)
		}
	}
	if len(seen) != writers*each {
		t.Errorf("changes read = %d, want %d", len(seen), writers*each)
	}
}
