package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// testByCreated: a parent's objects by creation time, to the 100 ns that Graph's
// times show, ties by id in the same direction, both ways, at any Offset; the order
// is not the ids' (times are given out of id order, and two fall in one 100 ns).
func testByCreated(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	offsets := []time.Duration{5 * time.Second, time.Second, 3 * time.Second, time.Second + 60, time.Second + 30, 0, 2 * time.Hour, time.Second + 100}
	type item struct {
		id      string
		created time.Time
	}
	var items []item
	update(t, s, func(tx store.Tx) error {
		for i, off := range offsets {
			it := item{fmt.Sprintf("c%02d", i), base.Add(off)}
			items = append(items, it)
			for _, parent := range []string{"folder", "other"} {
				o := store.Object{Tenant: "t", Kind: "driveItem", ID: it.id + parent, Parent: parent, Data: []byte(`{}`), Created: it.created}
				if err := tx.InsertObject(ctx, &o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	bucket := func(t time.Time) int64 { return t.UnixNano() / 100 }
	for _, desc := range []bool{false, true} {
		want := slices.Clone(items)
		slices.SortFunc(want, func(a, b item) int {
			c := cmp.Or(cmp.Compare(bucket(a.created), bucket(b.created)), cmp.Compare(a.id, b.id))
			if desc {
				return -c
			}
			return c
		})
		for _, page := range []struct{ offset, limit int }{{0, 0}, {0, 3}, {3, 3}, {6, 5}} {
			var got []string
			view(t, s, func(tx store.Tx) error {
				objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "driveItem", Parent: "folder", ByCreated: true, Desc: desc, Offset: page.offset, Limit: page.limit})
				for _, o := range objs {
					got = append(got, o.ID)
				}
				return err
			})
			var ids []string
			end := len(want)
			if page.limit > 0 {
				end = min(end, page.offset+page.limit)
			}
			for _, it := range want[min(page.offset, len(want)):end] {
				ids = append(ids, it.id+"folder")
			}
			if diff := gocmp.Diff(ids, got); diff != "" {
				t.Errorf("ByCreated, Desc %v, offset %d, limit %d (-want +got):\n%s", desc, page.offset, page.limit, diff)
			}
		}
	}
}
