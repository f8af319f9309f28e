package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// testTotals: adds sum per object, kind and tenant; an object without totals is
// absent; a batch larger than one statement's reads them all; a rolled-back add
// leaves nothing; DeleteTotals drops one object's totals only.
func testTotals(t *testing.T, s store.Store) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error {
		for _, a := range []struct {
			tenant, kind, id string
			d                store.Totals
		}{
			{"t", "folder", "a", store.Totals{Size: 10, Count: 1}},
			{"t", "folder", "a", store.Totals{Size: -3, Count: 2}},
			{"t", "folder", "b", store.Totals{Size: 7}},
			{"t", "other", "a", store.Totals{Size: 100, Count: 100}},
			{"t2", "folder", "a", store.Totals{Size: 1000, Count: 1000}},
			{"t", "folder", "z", store.Totals{}},
		} {
			if err := tx.AddTotals(ctx, a.tenant, a.kind, a.id, a.d); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(what string, ids []string, want map[string]store.Totals) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			got, err := tx.GetTotals(ctx, "t", "folder", ids)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: GetTotals(%v) (-want +got):\n%s", what, ids, diff)
			}
			return nil
		})
	}
	check("after adds", []string{"a", "b", "z", "missing"}, map[string]store.Totals{"a": {Size: 7, Count: 3}, "b": {Size: 7}})

	boom := errors.New("boom")
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.AddTotals(ctx, "t", "folder", "a", store.Totals{Size: 1, Count: 1}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want its own error", err)
	}
	check("after a rollback", []string{"a"}, map[string]store.Totals{"a": {Size: 7, Count: 3}})

	var many []string
	want := map[string]store.Totals{}
	update(t, s, func(tx store.Tx) error {
		for i := range 300 {
			id := fmt.Sprintf("f%03d", i)
			many = append(many, id)
			want[id] = store.Totals{Size: int64(i), Count: 1}
			if err := tx.AddTotals(ctx, "t", "folder", id, want[id]); err != nil {
				return err
			}
		}
		return nil
	})
	check("300 ids", many, want)

	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteTotals(ctx, "t", "folder", "a"); err != nil {
			return err
		}
		return tx.DeleteTotals(ctx, "t", "folder", "never")
	})
	check("after delete", []string{"a", "b"}, map[string]store.Totals{"b": {Size: 7}})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetTotals(ctx, "t", "other", []string{"a"})
		if err != nil || got["a"] != (store.Totals{Size: 100, Count: 100}) {
			t.Errorf("GetTotals of another kind = %v, %v, want 100/100 kept", got, err)
		}
		if err := tx.AddTotals(ctx, "t", "folder", "a", store.Totals{Size: 1}); err == nil {
			t.Errorf("AddTotals in a View = nil, want an error")
		}
		return nil
	})
}

// testTotalsConcurrent: concurrent transactions adding to one object (a drive's
// root) all commit, retried where the backend needs it, and no add is lost.
func testTotalsConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(tx store.Tx) error {
				for range 3 {
					if err := tx.AddTotals(ctx, "t", "folder", "root", store.Totals{Size: int64(i), Count: 1}); err != nil {
						return err
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetTotals(ctx, "t", "folder", []string{"root"})
		if err != nil {
			return err
		}
		if want := (store.Totals{Size: 3 * n * (n - 1) / 2, Count: 3 * n}); got["root"] != want {
			t.Errorf("GetTotals(root) = %+v, want %+v", got["root"], want)
		}
		return nil
	})
}
