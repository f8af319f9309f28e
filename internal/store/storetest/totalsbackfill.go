package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// RunTotalsBackfill checks that the migration bringing object totals computes them
// for the drive folders stored before it: every folder's size (the bytes of the
// files below it, at any depth) and count of direct children, as the files workload
// would have kept them. open opens the same database each time; forget turns it back
// into a database from before that migration (its table and its schema_migrations
// row gone) while no store has it open.
func RunTotalsBackfill(t *testing.T, open func() store.Store, forget func()) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(13, 13))
	type item struct {
		parent string
		folder bool
		size   int64
	}
	items := map[string]map[string]item{} // tenant → id → item
	s := open()
	update(t, s, func(tx store.Tx) error {
		for _, tenant := range []string{"t1", "t2"} {
			items[tenant] = map[string]item{}
			folders := []string{"root"}
			if err := tx.InsertObject(ctx, &store.Object{Tenant: tenant, Kind: "driveItem", ID: "root", Owner: "drive", Data: []byte(`{"name":"root","folder":true}`)}); err != nil {
				return err
			}
			for i := range 300 {
				id := fmt.Sprintf("i%03d", i)
				it := item{parent: folders[rng.IntN(len(folders))], folder: rng.IntN(3) == 0}
				data := fmt.Sprintf(`{"name":%q,"folder":true}`, id)
				if !it.folder {
					it.size = rng.Int64N(1 << 20)
					data = fmt.Sprintf(`{"name":%q,"size":%d}`, id, it.size)
				}
				if it.size == 0 && !it.folder {
					data = fmt.Sprintf(`{"name":%q}`, id)
				}
				if it.folder {
					folders = append(folders, id)
				}
				items[tenant][id] = it
				o := store.Object{Tenant: tenant, Kind: "driveItem", ID: id, Owner: "drive", Parent: it.parent, Data: []byte(data)}
				if err := tx.InsertObject(ctx, &o); err != nil {
					return err
				}
			}
			// Another kind with the same shape is not a drive's and gets no totals.
			if err := tx.InsertObject(ctx, &store.Object{Tenant: tenant, Kind: "other", ID: "x", Parent: "root", Data: []byte(`{"size":5}`)}); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	forget()
	s = open()
	defer s.Close()
	for tenant, byID := range items {
		want := map[string]store.Totals{}
		ids := []string{"root"}
		for id, it := range byID {
			if it.folder {
				ids = append(ids, id)
			}
			for p, first := it.parent, true; p != ""; first = false {
				v := want[p]
				v.Size += it.size
				if first {
					v.Count++
				}
				want[p] = v
				p = byID[p].parent
			}
		}
		view(t, s, func(tx store.Tx) error {
			got, err := tx.GetTotals(ctx, tenant, "driveItem", ids)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tenant %s: backfilled totals (-walk +store):\n%s", tenant, diff)
			}
			return nil
		})
	}
}
