package files

import (
	"context"
	"slices"

	"github.com/graphhook/graphhook/internal/store"
)

// Folder totals. A folder's size (the bytes of every file below it, at any depth)
// and its folder.childCount (its direct children) are kept as store totals
// (store.TotalsTx) of the folder, and the drive's quota.used is its root's size. Every
// write that adds, removes, resizes or moves an item adds the difference to the
// item's old and new ancestors in the same transaction, so that rendering a folder,
// a page of children or the drive reads one index range per page instead of walking
// subtrees. Totals are not part of an item: keeping them changes no eTag, cTag or
// version and records no change. Ancestor chains are bounded by maxDepth, so a
// write costs at most that many more statements.

// totalsDelta collects the differences one write makes, by folder id, so that
// ancestors a move leaves in place (a move inside one folder tree) cancel out and
// are not written at all: the drive's root, which every other write touches, is then
// left alone.
type totalsDelta map[string]store.Totals

// sized adds size to every folder of chain and n children to the last one (the
// item's parent): chain is an item's ancestors, root first.
func (t totalsDelta) sized(chain []store.Object, size, n int64) {
	for i, a := range chain {
		v := t[a.ID]
		v.Size += size
		if i == len(chain)-1 {
			v.Count += n
		}
		t[a.ID] = v
	}
}

// apply writes the non-zero differences, in id order so that two transactions
// adding to the same folders take their rows in one order.
func (t totalsDelta) apply(ctx context.Context, tx store.Tx, d drive) error {
	ids := make([]string, 0, len(t))
	for id, v := range t {
		if v != (store.Totals{}) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := tx.AddTotals(ctx, d.Tenant, KindDriveItem, id, t[id]); err != nil {
			return err
		}
	}
	return nil
}

// itemSize is what an item weighs in its ancestors' size: a file's size, or a
// folder's total.
func (r *renderer) itemSize(o store.Object) (int64, error) {
	si, err := decodeItem(o)
	if err != nil || !si.Folder {
		return si.Size, err
	}
	t, err := r.folderTotals(o.ID)
	return t.Size, err
}

// folderTotals returns a folder's totals, read once per renderer.
func (r *renderer) folderTotals(id string) (store.Totals, error) {
	if t, ok := r.totals[id]; ok {
		return t, nil
	}
	got, err := r.tx.GetTotals(r.ctx, r.d.Tenant, KindDriveItem, []string{id})
	if err != nil {
		return store.Totals{}, err
	}
	r.totals[id] = got[id]
	return got[id], nil
}

// prefetch reads the totals of the folders among objs in one statement, before a
// page of them is rendered.
func (r *renderer) prefetch(objs []store.Object) error {
	var folders []string
	for _, o := range objs {
		si, err := decodeItem(o)
		if err != nil {
			return err
		}
		if _, ok := r.totals[o.ID]; si.Folder && !ok {
			folders = append(folders, o.ID)
		}
	}
	if len(folders) == 0 {
		return nil
	}
	got, err := r.tx.GetTotals(r.ctx, r.d.Tenant, KindDriveItem, folders)
	if err != nil {
		return err
	}
	for _, id := range folders {
		r.totals[id] = got[id]
	}
	return nil
}

// driveUsed is the drive's quota.used: the size of its root folder.
func driveUsed(ctx context.Context, tx store.Tx, d drive) (int64, error) {
	got, err := tx.GetTotals(ctx, d.Tenant, KindDriveItem, []string{d.rootID()})
	return got[d.rootID()].Size, err
}
