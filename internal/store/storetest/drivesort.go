package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
)

// RunDriveItemSortBackfill: drive items written before they had a sort key (sort
// empty, their lastModifiedDateTime stored in any RFC 3339 form Go writes: with no
// fraction or up to nine digits, Z or an offset) get it, as graph.FormatTime writes
// the time, from the migration that backfills it (rerun applies it again); items
// that have a key, and objects of other kinds, keep theirs.
func RunDriveItemSortBackfill(t *testing.T, s store.Store, rerun func(ctx context.Context) error) {
	ctx := context.Background()
	times := []string{
		"2026-03-01T10:00:00Z",
		"2026-03-01T10:00:00.5Z",
		"2026-03-01T10:00:00.123456789Z",
		"2026-03-01T23:59:59.999999999Z",
		"2026-03-01T10:00:00.25+01:00",
		"2026-03-01T00:30:00-02:00",
		"2026-12-31T23:30:00.0000001-01:00",
	}
	update(t, s, func(tx store.Tx) error {
		for i, m := range times {
			o := store.Object{Tenant: "t", Kind: "driveItem", ID: fmt.Sprintf("d%d", i), Parent: "folder", Data: fmt.Appendf(nil, `{"name":"f%d","modified":%q}`, i, m)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
		}
		keyed := store.Object{Tenant: "t", Kind: "driveItem", ID: "keyed", Parent: "folder", Data: []byte(`{"name":"k","modified":"2026-03-01T10:00:00Z"}`), Sort: "kept"}
		other := store.Object{Tenant: "t", Kind: "message", ID: "m", Data: []byte(`{"modified":"2026-03-01T10:00:00Z"}`)}
		if err := tx.InsertObject(ctx, &keyed); err != nil {
			return err
		}
		return tx.InsertObject(ctx, &other)
	})
	if err := rerun(ctx); err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx store.Tx) error {
		for i, m := range times {
			at, err := time.Parse(time.RFC3339Nano, m)
			if err != nil {
				return err
			}
			o, err := tx.GetObject(ctx, "t", "driveItem", fmt.Sprintf("d%d", i))
			if err != nil {
				return err
			}
			if want := graph.FormatTime(at); o.Sort != want {
				t.Errorf("modified %s: sort key %q, want %q", m, o.Sort, want)
			}
		}
		for _, c := range []struct{ kind, id, want string }{{"driveItem", "keyed", "kept"}, {"message", "m", ""}} {
			o, err := tx.GetObject(ctx, "t", c.kind, c.id)
			if err != nil {
				return err
			}
			if o.Sort != c.want {
				t.Errorf("%s %s: sort key %q after the backfill, want %q", c.kind, c.id, o.Sort, c.want)
			}
		}
		return nil
	})
}
