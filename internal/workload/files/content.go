package files

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

func blobKey(d drive, item string, version int64) string {
	return fmt.Sprintf("files/%s/%s/%d", d.ID, item, version)
}

func mimeTypeOf(name string) string {
	t := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if t == "" {
		return "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return "application/octet-stream"
	}
	return mt
}

// content is a file's new bytes with their size and hashes: held in memory (data)
// or already in the store under a staged blob key that setContent moves into place,
// so that an upload session never brings the file into memory.
type content struct {
	data     []byte
	staged   string
	size     int64
	quickXor string // base64, as Graph shows it
	sha256   string // upper-case hex, as Graph shows it
}

// bytesContent hashes data held in memory.
func bytesContent(data []byte) content {
	var q quickXor
	q.Write(data)
	h := sha256.New()
	h.Write(data)
	return newContent(data, "", int64(len(data)), &q, h)
}

func newContent(data []byte, staged string, size int64, q *quickXor, h hash.Hash) content {
	return content{
		data:     data,
		staged:   staged,
		size:     size,
		quickXor: base64.StdEncoding.EncodeToString(q.Sum()),
		sha256:   strings.ToUpper(hex.EncodeToString(h.Sum(nil))),
	}
}

// setContent points si at new content stored under the item's next version.
func setContent(ctx context.Context, tx store.Tx, d drive, id string, version int64, si *storedItem, c content) error {
	if si.Blob != "" {
		if err := tx.DeleteBlob(ctx, si.Blob); err != nil {
			return err
		}
	}
	si.Size = c.size
	si.QuickXor = c.quickXor
	si.SHA256 = c.sha256
	si.MimeType = mimeTypeOf(si.Name)
	si.Blob = blobKey(d, id, version)
	if c.staged == "" {
		return tx.PutBlob(ctx, si.Blob, c.data)
	}
	// ConcatBlob appends: clear whatever an earlier item left under this key.
	if err := tx.DeleteBlob(ctx, si.Blob); err != nil {
		return err
	}
	return tx.ConcatBlob(ctx, si.Blob, c.staged)
}

func (w *Workload) tooLarge(size int64) error {
	return graph.Errorf(http.StatusRequestEntityTooLarge, graph.CodeRequestEntityTooLarge, "The file size %d exceeds the maximum of %d bytes.", size, w.cfg.MaxFileSize)
}

// ensureFolders walks names from start, creating missing folders (each with its
// change record), as OneDrive does for uploads by path.
func (w *Workload) ensureFolders(ctx context.Context, tx store.Tx, d drive, start store.Object, names []string, by map[string]any, now time.Time) (store.Object, error) {
	cur := start
	for _, n := range names {
		if err := checkName(n); err != nil {
			return cur, err
		}
		next, ok, err := childByName(ctx, tx, d, cur.ID, n)
		if err != nil {
			return cur, err
		}
		if ok {
			si, err := decodeItem(next)
			if err != nil {
				return cur, err
			}
			if !si.Folder {
				return cur, nameExists()
			}
			cur = next
			continue
		}
		o, err := w.insertItem(ctx, tx, d, cur, storedItem{Name: n, Folder: true, Created: now, Modified: now, CreatedBy: by, ModifiedBy: by})
		if err != nil {
			return cur, err
		}
		if _, err := w.recordNew(ctx, tx, d, o, now); err != nil {
			return cur, err
		}
		cur = o
	}
	return cur, nil
}

// putFile writes a file named name under parent, applying the conflict behavior; it
// returns the item and 201 (created) or 200 (replaced).
func (w *Workload) putFile(ctx context.Context, tx store.Tx, d drive, parent store.Object, name string, data content, behavior string, by map[string]any, now time.Time) (map[string]any, int, error) {
	if err := checkName(name); err != nil {
		return nil, 0, err
	}
	if ps, err := decodeItem(parent); err != nil || !ps.Folder {
		if err != nil {
			return nil, 0, err
		}
		return nil, 0, graph.SharePointInvalidRequest("The parent item is not a folder.")
	}
	existing, taken, err := childByName(ctx, tx, d, parent.ID, name)
	if err != nil {
		return nil, 0, err
	}
	if taken {
		es, err := decodeItem(existing)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case behavior == "fail" || (es.Folder && behavior == "replace"):
			return nil, 0, nameExists()
		case behavior == "rename":
			if name, err = freeName(ctx, tx, d, parent.ID, name); err != nil {
				return nil, 0, err
			}
		default:
			doc, err := w.replaceContent(ctx, tx, d, existing, data, by, now)
			return doc, http.StatusOK, err
		}
	}
	si := storedItem{Name: name, Created: now, Modified: now, CreatedBy: by, ModifiedBy: by}
	id := newItemID()
	if err := setContent(ctx, tx, d, id, 1, &si, data); err != nil {
		return nil, 0, err
	}
	o := store.Object{Tenant: d.Tenant, Kind: KindDriveItem, ID: id, Owner: d.ID, Parent: parent.ID, Alt: childAlt(parent.ID, name), Created: now, Updated: now}
	if err := si.encode(&o); err != nil {
		return nil, 0, err
	}
	if err := tx.InsertObject(ctx, &o); err != nil {
		return nil, 0, err
	}
	doc, err := w.recordNew(ctx, tx, d, o, now)
	return doc, http.StatusCreated, err
}

// replaceContent gives an existing file new content (same id, new eTag and cTag).
func (w *Workload) replaceContent(ctx context.Context, tx store.Tx, d drive, o store.Object, data content, by map[string]any, now time.Time) (map[string]any, error) {
	si, err := decodeItem(o)
	if err != nil {
		return nil, err
	}
	if si.Folder {
		return nil, graph.SharePointInvalidRequest("Content cannot be uploaded to a folder.")
	}
	r := newRenderer(ctx, tx, d)
	before, _, err := r.renderJSON(o)
	if err != nil {
		return nil, err
	}
	oldSize := si.Size
	if err := setContent(ctx, tx, d, o.ID, o.Version+1, &si, data); err != nil {
		return nil, err
	}
	si.Modified, si.ModifiedBy = now, by
	if err := si.encode(&o); err != nil {
		return nil, err
	}
	o.Updated = now
	if err := tx.UpdateObject(ctx, &o); err != nil {
		return nil, err
	}
	chain, err := ancestors(ctx, tx, d, o)
	if err != nil {
		return nil, err
	}
	delta := totalsDelta{}
	delta.sized(chain, si.Size-oldSize, 0)
	if err := delta.apply(ctx, tx, d); err != nil {
		return nil, err
	}
	after, doc, err := newRenderer(ctx, tx, d).renderJSON(o)
	if err != nil {
		return nil, err
	}
	return doc, record(ctx, tx, d, o.ID, store.Updated, ids(chain), before, after, now)
}

// uploadByID serves PUT /items/{id}/content: new content for an existing file.
func (w *Workload) uploadByID(c *httpapi.Ctx) error {
	d, err := w.open(c, true)
	if err != nil {
		return err
	}
	data, err := c.Body()
	if err != nil {
		return err
	}
	by, err := sites.IdentitySet(c.R.Context(), w.ident, w.st, c.Principal)
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
		doc, err = w.replaceContent(ctx, tx, d, o, bytesContent(data), by, c.Now)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, itemEntity(d.ID), doc)
}

// uploadByPath serves PUT /root:/{path}:/content and /items/{parent}:/{name}:/content.
func (w *Workload) uploadByPath(c *httpapi.Ctx) error {
	d, err := w.open(c, true)
	if err != nil {
		return err
	}
	behavior, err := conflictBehavior(c, nil, "replace")
	if err != nil {
		return err
	}
	names, err := splitPath(c.Param("path"))
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return graph.SharePointInvalidRequest("The upload path names no file.")
	}
	data, err := c.Body()
	if err != nil {
		return err
	}
	by, err := sites.IdentitySet(c.R.Context(), w.ident, w.st, c.Principal)
	if err != nil {
		return err
	}
	var doc map[string]any
	status := 0
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		start, err := getItemObj(ctx, tx, d, cmp.Or(c.Param("item"), "root"))
		if err != nil {
			return err
		}
		parent, err := w.ensureFolders(ctx, tx, d, start, names[:len(names)-1], by, c.Now)
		if err != nil {
			return err
		}
		doc, status, err = w.putFile(ctx, tx, d, parent, names[len(names)-1], bytesContent(data), behavior, by, c.Now)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, status, itemEntity(d.ID), doc)
}

// download serves GET …/content. Graph answers with a redirect to a pre-authenticated
// URL; graphhook serves the bytes directly (clients follow redirects, so both work),
// with Range support.
func (w *Workload) download(c *httpapi.Ctx) error {
	d, err := w.open(c, false)
	if err != nil {
		return err
	}
	var si storedItem
	var data []byte
	var tag string
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := target(c, tx, d)
		if err != nil {
			return err
		}
		if si, err = decodeItem(o); err != nil {
			return err
		}
		if si.Folder {
			return graph.SharePointInvalidRequest("A folder has no content to download.")
		}
		tag = fmt.Sprintf(`"c:{%s},%d"`, o.ID, o.Version)
		data, err = tx.GetBlob(ctx, si.Blob)
		return err
	})
	if err != nil {
		return err
	}
	h := c.W.Header()
	h.Set("Content-Type", si.MimeType)
	h.Set("ETag", tag)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": si.Name}))
	http.ServeContent(c.W, c.R, "", si.Modified, bytes.NewReader(data))
	return nil
}

// isNotFound reports a store miss.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
