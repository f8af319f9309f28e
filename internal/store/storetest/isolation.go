package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
)

func init() {
	extraSuites = append(extraSuites, map[string]func(t *testing.T, s store.Store){
		"ReadThenWrite": testReadThenWrite,
	})
}

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
