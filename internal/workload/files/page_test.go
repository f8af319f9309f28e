package files

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// countingTx counts a transaction's store reads.
type countingTx struct {
	store.Tx
	reads *int
}

func (c countingTx) GetObject(ctx context.Context, tenant, kind, id string) (store.Object, error) {
	*c.reads++
	return c.Tx.GetObject(ctx, tenant, kind, id)
}

func (c countingTx) GetObjectByAlt(ctx context.Context, tenant, kind, alt string) (store.Object, error) {
	*c.reads++
	return c.Tx.GetObjectByAlt(ctx, tenant, kind, alt)
}

func (c countingTx) ListObjects(ctx context.Context, q store.ObjectQuery) ([]store.Object, error) {
	*c.reads++
	return c.Tx.ListObjects(ctx, q)
}

func (c countingTx) CountObjects(ctx context.Context, q store.ObjectQuery) (int, error) {
	*c.reads++
	return c.Tx.CountObjects(ctx, q)
}

func (c countingTx) GetTotals(ctx context.Context, tenant, kind string, ids []string) (map[string]store.Totals, error) {
	*c.reads++
	return c.Tx.GetTotals(ctx, tenant, kind, ids)
}

func (c countingTx) GetBlob(ctx context.Context, key string) ([]byte, error) {
	*c.reads++
	return c.Tx.GetBlob(ctx, key)
}

// TestPageReadsDoNotGrow: rendering a page of a folder's children and the drive
// costs the same store reads in a small drive and in one five times larger, on
// both backends, and no more than the page read, one totals read and the folder's
// ancestors.
func TestPageReadsDoNotGrow(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, func(t *testing.T, s store.Store) {
		small := pageReads(t, s, "small", 12)
		large := pageReads(t, s, "large", 60)
		if small != large {
			t.Errorf("store reads (root page, nested page, drive, nested page by name, by lastModifiedDateTime, by createdDateTime) = %v with 12 files a folder, %v with 60; want equal", small, large)
		}
		// Root page: the page and the listed folders' totals. Nested page (files at
		// depth 3): the page and its parent's two ancestors below the root, for
		// paths. Drive: the root's totals. Nested page by name: the check for names
		// the store cannot order, then as the nested page. By lastModifiedDateTime
		// and by createdDateTime: as the nested page.
		if want := [6]int{2, 3, 1, 4, 3, 3}; large != want {
			t.Errorf("store reads (root page, nested page, drive, nested page by name, by lastModifiedDateTime, by createdDateTime) = %v, want %v", large, want)
		}
	})
}

// pageReads fills a drive of its own with 12 folders of width files and a subfolder
// of width files each, and counts the store reads of a page of 10 of the root's
// children, of a page of 10 children of a subfolder, and of the drive.
func pageReads(t *testing.T, s store.Store, name string, width int) [6]int {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	d := drive{ID: "drive-" + name, Tenant: "t", Type: typeBusiness, OwnerKind: "user", OwnerID: name, WebURL: "https://contoso-my.sharepoint.com/personal/" + name + "/Documents",
		doc: map[string]any{"id": "drive-" + name, "driveType": typeBusiness, "name": "OneDrive"}}
	w := &Workload{st: s}
	by := map[string]any{"user": map[string]any{"displayName": "Test"}}
	var nested store.Object
	var used int64
	err := s.Update(ctx, func(tx store.Tx) error {
		used = 0
		if err := materialize(ctx, tx, d, now); err != nil {
			return err
		}
		root, err := getItemObj(ctx, tx, d, "root")
		if err != nil {
			return err
		}
		add := func(parent store.Object, n string, folder bool) (store.Object, error) {
			si := storedItem{Name: n, Folder: folder, Created: now, Modified: now, CreatedBy: by, ModifiedBy: by}
			if !folder {
				si.Size = int64(len(n))
				used += si.Size
			}
			o, err := w.insertItem(ctx, tx, d, parent, si)
			if err != nil {
				return o, err
			}
			_, err = w.recordNew(ctx, tx, d, o, now)
			return o, err
		}
		for i := range 12 {
			f, err := add(root, fmt.Sprintf("folder %02d", i), true)
			if err != nil {
				return err
			}
			if nested, err = add(f, "sub", true); err != nil {
				return err
			}
			for k := range width {
				if _, err := add(nested, fmt.Sprintf("file %d.txt", k), false); err != nil {
					return err
				}
				if _, err := add(f, fmt.Sprintf("file %d.txt", k), false); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var reads [6]int
	err = s.View(ctx, func(tx store.Tx) error {
		root, err := getItemObj(ctx, tx, d, "root")
		if err != nil {
			return err
		}
		for i, parent := range []store.Object{root, nested} {
			page, next, err := childrenPage(ctx, countingTx{tx, &reads[i]}, d, parent, 10, "")
			if err != nil {
				return err
			}
			if len(page) != 10 || next == "" {
				t.Errorf("%s: page %d has %d items, next %q; want 10 and more", name, i, len(page), next)
			}
		}
		o, err := tx.GetObject(ctx, d.Tenant, KindDrive, d.ID)
		if err != nil {
			return err
		}
		doc, err := driveDoc(ctx, countingTx{tx, &reads[2]}, d, o)
		if err != nil {
			return err
		}
		// A page of the nested folder in name order, past $skip: its names are plain,
		// so the store orders the page.
		page, more, err := orderedChildrenPage(ctx, countingTx{tx, &reads[3]}, d, nested, []odata.OrderKey{{Property: "name", Desc: true}}, 5, 5)
		if err != nil {
			return err
		}
		if len(page) != 5 || !more {
			t.Errorf("%s: page in name order has %d items, more %v; want 5 and more", name, len(page), more)
		}
		// The same page by lastModifiedDateTime, the items' sort key, and by
		// createdDateTime, their creation time in the store.
		for i, key := range []string{"lastModifiedDateTime", "createdDateTime"} {
			page, more, err = orderedChildrenPage(ctx, countingTx{tx, &reads[4+i]}, d, nested, []odata.OrderKey{{Property: key, Desc: true}}, 5, 5)
			if err != nil {
				return err
			}
			if len(page) != 5 || !more {
				t.Errorf("%s: page by %s has %d items, more %v; want 5 and more", name, key, len(page), more)
			}
		}
		if got := doc["quota"].(map[string]any)["used"]; got != used {
			t.Errorf("%s: quota.used = %v, want %d", name, got, used)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return reads
}
