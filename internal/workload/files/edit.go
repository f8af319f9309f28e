package files

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

// Rename, move and delete of drive items.

// checkIfMatch applies If-Match against the item's eTag or cTag.
func checkIfMatch(c *httpapi.Ctx, o store.Object) error {
	m := c.R.Header.Get("If-Match")
	if m == "" || m == "*" {
		return nil
	}
	if m != fmt.Sprintf(`"{%s},%d"`, o.ID, o.Version) && m != fmt.Sprintf(`"c:{%s},%d"`, o.ID, o.Version) {
		return graph.Errorf(http.StatusPreconditionFailed, "resourceModified", "ETag does not match current item's value.")
	}
	return nil
}

// updateItem serves PATCH: rename (name), move (parentReference.id or .path), and
// description.
func (w *Workload) updateItem(c *httpapi.Ctx) error {
	p := c.Principal
	d, err := w.open(c, true)
	if err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	behavior, err := conflictBehavior(c, body, "fail")
	if err != nil {
		return err
	}
	by, err := sites.IdentitySet(c.R.Context(), w.ident, w.st, p)
	if err != nil {
		return err
	}
	var doc map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := target(c, tx, d)
		if err != nil {
			return err
		}
		if err := checkIfMatch(c, o); err != nil {
			return err
		}
		if o.Parent == "" {
			return graph.SharePointInvalidRequest("The root folder cannot be renamed or moved.")
		}
		si, err := decodeItem(o)
		if err != nil {
			return err
		}
		oldChain, err := ancestors(ctx, tx, d, o)
		if err != nil {
			return err
		}
		r := newRenderer(ctx, tx, d)
		before, _, err := r.renderJSON(o)
		if err != nil {
			return err
		}
		newName, newParent := si.Name, o.Parent
		if v, ok := body["name"]; ok {
			s, _ := v.(string)
			if err := checkName(s); err != nil {
				return err
			}
			newName = s
		}
		if v, ok := body["description"]; ok {
			si.Description, _ = v.(string)
		}
		if v, ok := body["parentReference"]; ok {
			ref, ok := v.(map[string]any)
			if !ok {
				return graph.SharePointInvalidRequest("'parentReference' must be an object.")
			}
			if dr, _ := ref["driveId"].(string); dr != "" && dr != d.ID {
				return graph.SharePointInvalidRequest("Moving an item to another drive is not supported; copy it instead.")
			}
			dest, err := destination(ctx, tx, d, ref)
			if err != nil {
				return err
			}
			for _, a := range append(mustAncestors(ctx, tx, d, dest), dest) {
				if a.ID == o.ID {
					return graph.SharePointInvalidRequest("An item cannot be moved into itself or one of its descendants.")
				}
			}
			newParent = dest.ID
		}
		if newParent != o.Parent || !strings.EqualFold(newName, si.Name) || newName != si.Name {
			clash, taken, err := childByName(ctx, tx, d, newParent, newName)
			if err != nil {
				return err
			}
			if taken && clash.ID != o.ID {
				switch behavior {
				case "fail":
					return nameExists()
				case "rename":
					if newName, err = freeName(ctx, tx, d, newParent, newName); err != nil {
						return err
					}
				default:
					if err := refuseReplacingSource(ctx, tx, d, o, clash); err != nil {
						return err
					}
					if err := w.removeTree(ctx, tx, d, clash, c.Now); err != nil {
						return err
					}
				}
			}
		}
		// What the item weighs in its old and new ancestors' totals.
		size, err := r.itemSize(o)
		if err != nil {
			return err
		}
		si.Name, si.Modified, si.ModifiedBy = newName, c.Now, by
		if err := si.encode(&o); err != nil {
			return err
		}
		o.Parent, o.Alt, o.Updated = newParent, childAlt(newParent, newName), c.Now
		if err := tx.UpdateObject(ctx, &o); err != nil {
			return err
		}
		newChain, err := ancestors(ctx, tx, d, o)
		if err != nil {
			return err
		}
		delta := totalsDelta{}
		delta.sized(oldChain, -size, -1)
		delta.sized(newChain, size, 1)
		if err := delta.apply(ctx, tx, d); err != nil {
			return err
		}
		after, full, err := newRenderer(ctx, tx, d).renderJSON(o)
		if err != nil {
			return err
		}
		doc = full
		return record(ctx, tx, d, o.ID, store.Updated, append(ids(oldChain), ids(newChain)...), before, after, c.Now)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, itemEntity(d.ID), doc)
}

func mustAncestors(ctx context.Context, tx store.Tx, d drive, o store.Object) []store.Object {
	chain, _ := ancestors(ctx, tx, d, o)
	return chain
}

// refuseReplacingSource refuses a replace (conflictBehavior "replace") whose clash
// is the item being moved or copied, or a folder that contains it: removing the
// clash would remove the item itself.
func refuseReplacingSource(ctx context.Context, tx store.Tx, d drive, o, clash store.Object) error {
	chain, err := ancestors(ctx, tx, d, o)
	if err != nil {
		return err
	}
	for _, a := range append(chain, o) {
		if a.ID == clash.ID {
			return graph.SharePointInvalidRequest("An item cannot replace itself or a folder that contains it.")
		}
	}
	return nil
}

// destination resolves a parentReference (id, or path "/drive/root:/a/b") to a folder.
func destination(ctx context.Context, tx store.Tx, d drive, ref map[string]any) (store.Object, error) {
	var dest store.Object
	var err error
	if id, _ := ref["id"].(string); id != "" {
		dest, err = getItemObj(ctx, tx, d, id)
	} else if p, _ := ref["path"].(string); p != "" {
		_, rest, ok := strings.Cut(p, "root:")
		if !ok {
			return dest, graph.SharePointInvalidRequest("parentReference.path '%s' must look like /drive/root:/folder.", p)
		}
		names, perr := splitPath(rest)
		if perr != nil {
			return dest, perr
		}
		dest, err = getItemObj(ctx, tx, d, "root")
		if err == nil {
			dest, err = walkPath(ctx, tx, d, dest, names)
		}
	} else {
		return dest, graph.SharePointInvalidRequest("parentReference needs an 'id' or a 'path'.")
	}
	if err != nil {
		return dest, err
	}
	if si, err := decodeItem(dest); err != nil || !si.Folder {
		if err != nil {
			return dest, err
		}
		return dest, graph.SharePointInvalidRequest("The destination is not a folder.")
	}
	return dest, nil
}

// subtree returns o and everything below it, parents before children.
func subtree(ctx context.Context, tx store.Tx, d drive, o store.Object) ([]store.Object, error) {
	out := []store.Object{o}
	for i := 0; i < len(out); i++ {
		kids, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: d.Tenant, Kind: KindDriveItem, Parent: out[i].ID})
		if err != nil {
			return nil, err
		}
		out = append(out, kids...)
	}
	return out, nil
}

// removeTree deletes an item and everything below it, with their content, recording
// a deletion for each item so that delta reports every one (OneDrive may report only
// the folder; reporting all is what an exact mirror needs).
func (w *Workload) removeTree(ctx context.Context, tx store.Tx, d drive, o store.Object, now time.Time) error {
	all, err := subtree(ctx, tx, d, o)
	if err != nil {
		return err
	}
	r := newRenderer(ctx, tx, d)
	if err := r.prefetch(all); err != nil {
		return err
	}
	befores := make([][]byte, len(all))
	chains := make([][]string, len(all))
	var top []store.Object
	for i, it := range all {
		if befores[i], _, err = r.renderJSON(it); err != nil {
			return err
		}
		chain, err := ancestors(ctx, tx, d, it)
		if err != nil {
			return err
		}
		if i == 0 {
			top = chain
		}
		chains[i] = ids(chain)
	}
	size, err := r.itemSize(o)
	if err != nil {
		return err
	}
	delta := totalsDelta{}
	delta.sized(top, -size, -1)
	if err := delta.apply(ctx, tx, d); err != nil {
		return err
	}
	for i := len(all) - 1; i >= 0; i-- {
		it := all[i]
		si, err := decodeItem(it)
		if err != nil {
			return err
		}
		if si.Blob != "" {
			if err := tx.DeleteBlob(ctx, si.Blob); err != nil {
				return err
			}
		}
		if si.Folder {
			if err := tx.DeleteTotals(ctx, d.Tenant, KindDriveItem, it.ID); err != nil {
				return err
			}
		}
		if err := tx.DeleteObject(ctx, d.Tenant, KindDriveItem, it.ID); err != nil {
			return err
		}
		if err := record(ctx, tx, d, it.ID, store.Deleted, chains[i], befores[i], nil, now); err != nil {
			return err
		}
	}
	return nil
}

func (w *Workload) deleteItem(c *httpapi.Ctx) error {
	d, err := w.open(c, true)
	if err != nil {
		return err
	}
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := target(c, tx, d)
		if err != nil {
			return err
		}
		if err := checkIfMatch(c, o); err != nil {
			return err
		}
		if o.Parent == "" {
			return graph.SharePointInvalidRequest("The root folder cannot be deleted.")
		}
		return w.removeTree(ctx, tx, d, o, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
