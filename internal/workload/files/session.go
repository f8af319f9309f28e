package files

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

// session is an upload session's state, kept in a blob until the last fragment
// commits the file. Accepted fragments are appended to one content blob; the hash
// states over them are kept here so that the commit never reads the content back.
type session struct {
	Tenant string `json:"tenant"`
	Drive  string `json:"drive"`
	// Item is the file whose content is replaced (createUploadSession on an item);
	// otherwise Start and Names say where the new file goes.
	Item     string         `json:"item,omitempty"`
	Start    string         `json:"start,omitempty"`
	Names    []string       `json:"names,omitempty"`
	Behavior string         `json:"behavior"`
	Total    int64          `json:"total"` // 0 until known
	Received int64          `json:"received"`
	Expires  time.Time      `json:"expires"`
	By       map[string]any `json:"by"`
	// QuickXor and SHA256 are the saved hash states over the Received bytes; empty
	// before the first fragment.
	QuickXor []byte `json:"quickXor,omitempty"`
	SHA256   []byte `json:"sha256,omitempty"`
}

func sessionKey(id string) string { return "uploadsession/" + id }

// contentKey holds the fragments accepted so far, in order.
func contentKey(id string) string { return sessionKey(id) + "/content" }

// stagingKey holds one request's fragment while it streams in; the nonce keeps
// two requests carrying the same fragment apart.
func stagingKey(id string, offset int64, nonce string) string {
	return sessionKey(id) + "/" + strconv.FormatInt(offset, 10) + "/" + nonce
}

// stagePiece is how much of a fragment is held in memory at once: the body is
// copied to the store in pieces of this size, each in its own transaction.
const stagePiece = 1 << 20

// hashes restores the session's hash states.
func (s session) hashes() (*quickXor, hash.Hash, error) {
	q, h := new(quickXor), sha256.New()
	if s.QuickXor == nil {
		return q, h, nil
	}
	if err := q.UnmarshalBinary(s.QuickXor); err != nil {
		return nil, nil, err
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s.SHA256); err != nil {
		return nil, nil, err
	}
	return q, h, nil
}

func sessionNotFound() error {
	return graph.Errorf(http.StatusNotFound, graph.CodeItemNotFound, "The upload session was not found; it may have expired or completed.")
}

func (w *Workload) createSession(c *httpapi.Ctx) error {
	d, err := w.open(c, true)
	if err != nil {
		return err
	}
	var item map[string]any
	if c.R.ContentLength != 0 {
		body, err := c.DecodeObject()
		if err != nil {
			return err
		}
		item, _ = body["item"].(map[string]any)
	}
	behavior, err := conflictBehavior(c, item, "replace")
	if err != nil {
		return err
	}
	if n, ok := item["fileSize"].(json.Number); ok {
		size, err := n.Int64()
		if err != nil || size < 0 {
			return graph.SharePointInvalidRequest("item.fileSize must be a non-negative integer.")
		}
		if size > w.cfg.MaxFileSize {
			return w.tooLarge(size)
		}
	}
	by, err := sites.IdentitySet(c.R.Context(), w.ident, w.st, c.Principal)
	if err != nil {
		return err
	}
	s := session{Tenant: d.Tenant, Drive: d.ID, Behavior: behavior, Expires: c.Now.Add(w.cfg.SessionLifetime), By: by}
	if n, ok := item["fileSize"].(json.Number); ok {
		s.Total, _ = n.Int64()
	}
	b := make([]byte, 24)
	rand.Read(b)
	id := hex.EncodeToString(b)
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if c.Param("path") == "" {
			o, err := target(c, tx, d)
			if err != nil {
				return err
			}
			if si, err := decodeItem(o); err != nil || si.Folder {
				if err != nil {
					return err
				}
				return graph.SharePointInvalidRequest("An upload session replaces a file's content; this item is a folder.")
			}
			s.Item = o.ID
		} else {
			names, err := splitPath(c.Param("path"))
			if err != nil {
				return err
			}
			if len(names) == 0 {
				return graph.SharePointInvalidRequest("The upload path names no file.")
			}
			if err := checkName(names[len(names)-1]); err != nil {
				return err
			}
			start, err := getItemObj(ctx, tx, d, cmp.Or(c.Param("item"), "root"))
			if err != nil {
				return err
			}
			// Fail early on a name that is taken, so the client does not upload in vain.
			if behavior == "fail" {
				if _, err := walkPath(ctx, tx, d, start, names); err == nil {
					return nameExists()
				}
			}
			s.Start, s.Names = start.ID, names
		}
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		return tx.PutBlob(ctx, sessionKey(id), data)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"@odata.context":     c.ContextURL("microsoft.graph.uploadSession"),
		"uploadUrl":          c.ServiceRoot() + "/drives/" + d.ID + "/uploadSessions/" + id,
		"expirationDateTime": graph.FormatTime(s.Expires),
		"nextExpectedRanges": []string{strconv.FormatInt(s.Received, 10) + "-"},
	})
}

// loadSession reads the session of the request, refusing expired ones.
func loadSession(c *httpapi.Ctx, tx store.Tx) (session, error) {
	var s session
	data, err := tx.GetBlob(c.R.Context(), sessionKey(c.Param("session")))
	if isNotFound(err) {
		return s, sessionNotFound()
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, err
	}
	if s.Drive != c.Param("drive") || !c.Now.Before(s.Expires) {
		return s, sessionNotFound()
	}
	// A session begun by a version that kept fragments apart, without hash states,
	// cannot be finished: the client starts over, as after an expiry.
	if s.Received > 0 && s.QuickXor == nil {
		return s, sessionNotFound()
	}
	return s, nil
}

func sessionStatus(s session) map[string]any {
	return map[string]any{"expirationDateTime": graph.FormatTime(s.Expires), "nextExpectedRanges": []string{strconv.FormatInt(s.Received, 10) + "-"}}
}

var contentRange = regexp.MustCompile(`^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$`)

func rangeError(format string, args ...any) error {
	return graph.Errorf(http.StatusRequestedRangeNotSatisfiable, "invalidRange", format, args...)
}

// checkFragment applies the session's rules to a fragment's range.
func checkFragment(s session, start, total int64) error {
	if s.Total != 0 && s.Total != total {
		return graph.SharePointInvalidRequest("The Content-Range total %d does not match the file size %d of the upload session.", total, s.Total)
	}
	switch {
	case start < s.Received:
		return rangeError("The uploaded fragment overlaps with data that has already been received.")
	case start > s.Received:
		return rangeError("The uploaded fragment starts at %d; the next expected range is %d-.", start, s.Received)
	}
	return nil
}

// uploadChunk serves PUT to an upload URL: one fragment with its Content-Range.
// Fragments must arrive in order. The body streams into a staging blob in pieces
// of stagePiece bytes, outside any long transaction, hashed on the way; one short
// transaction then appends the staged fragment to the session's content, and the
// last fragment commits the file, all inside the store: memory stays bounded by
// the piece size however large the fragment or the file.
func (w *Workload) uploadChunk(c *httpapi.Ctx) error {
	m := contentRange.FindStringSubmatch(c.R.Header.Get("Content-Range"))
	if m == nil {
		return graph.SharePointInvalidRequest("A Content-Range header of the form 'bytes {start}-{end}/{total}' is required.")
	}
	start, _ := strconv.ParseInt(m[1], 10, 64)
	end, _ := strconv.ParseInt(m[2], 10, 64)
	total, _ := strconv.ParseInt(m[3], 10, 64)
	if end < start || end >= total {
		return rangeError("The Content-Range 'bytes %d-%d/%d' is not a valid range.", start, end, total)
	}
	if total > w.cfg.MaxFileSize {
		return w.tooLarge(total)
	}
	id := c.Param("session")
	// Check the session before reading the body, so that an unknown upload URL or a
	// misplaced fragment costs no store space. The hash states read here are those
	// of the first start bytes: the commit below accepts the fragment only while
	// Received is still start, that is while these states are still current.
	var pre session
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		if pre, err = loadSession(c, tx); err != nil {
			return err
		}
		return checkFragment(pre, start, total)
	})
	if err != nil {
		return err
	}
	q, h, err := pre.hashes()
	if err != nil {
		return err
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	staged := stagingKey(id, start, hex.EncodeToString(nonce))
	n, err := w.stage(c, staged, end-start+1, io.MultiWriter(q, h))
	if err == nil && n != end-start+1 {
		err = graph.SharePointInvalidRequest("The Content-Range header length does not match the provided number of bytes.")
	}
	var doc map[string]any
	var s session
	status := http.StatusAccepted
	if err == nil {
		err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
			var err error
			if s, err = loadSession(c, tx); err != nil {
				return err
			}
			if err := checkFragment(s, start, total); err != nil {
				return err
			}
			if err := tx.ConcatBlob(ctx, contentKey(id), staged); err != nil {
				return err
			}
			s.Total, s.Received = total, end+1
			if s.QuickXor, err = q.MarshalBinary(); err != nil {
				return err
			}
			if s.SHA256, err = h.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
				return err
			}
			if end+1 < total {
				raw, err := json.Marshal(s)
				if err != nil {
					return err
				}
				return tx.PutBlob(ctx, sessionKey(id), raw)
			}
			doc, status, err = w.commitSession(ctx, tx, id, s, newContent(nil, contentKey(id), total, q, h), c.Now)
			return err
		})
	}
	if err != nil {
		// The staged piece is garbage whatever went wrong; the request may be gone.
		ctx := context.WithoutCancel(c.R.Context())
		w.st.Update(ctx, func(tx store.Tx) error { return tx.DeleteBlob(ctx, staged) })
		return err
	}
	if status == http.StatusAccepted {
		return c.JSON(status, sessionStatus(s))
	}
	return rest.Entity(c, status, itemEntity(s.Drive), doc)
}

// stage copies the request body to the blob key, in pieces of stagePiece bytes
// each appended in its own transaction, writing them to hw on the way. It stores
// at most want bytes and returns how many the body held (reading on, within the
// route's body limit, only to count them).
func (w *Workload) stage(c *httpapi.Ctx, key string, want int64, hw io.Writer) (int64, error) {
	body, err := c.BodyReader()
	if err != nil {
		return 0, err
	}
	defer body.Close()
	ctx := c.R.Context()
	buf := make([]byte, stagePiece)
	var n int64
	for {
		k, err := io.ReadFull(body, buf)
		if k > 0 && n < want {
			piece := buf[:min(int64(k), want-n)]
			hw.Write(piece)
			if err := w.st.Update(ctx, func(tx store.Tx) error { return tx.AppendBlob(ctx, key, piece) }); err != nil {
				return n, err
			}
		}
		n += int64(k)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return n, nil
		case err != nil:
			return n, err
		}
	}
}

// commitSession writes the file from the session's content.
func (w *Workload) commitSession(ctx context.Context, tx store.Tx, id string, s session, body content, now time.Time) (map[string]any, int, error) {
	if err := tx.DeleteBlob(ctx, sessionKey(id)); err != nil {
		return nil, 0, err
	}
	o, err := tx.GetObject(ctx, s.Tenant, KindDrive, s.Drive)
	if err != nil {
		return nil, 0, err
	}
	d, err := driveOf(s.Tenant, o)
	if err != nil {
		return nil, 0, err
	}
	if s.Item != "" {
		item, err := getItemObj(ctx, tx, d, s.Item)
		if err != nil {
			return nil, 0, err
		}
		doc, err := w.replaceContent(ctx, tx, d, item, body, s.By, now)
		return doc, http.StatusOK, err
	}
	start, err := getItemObj(ctx, tx, d, s.Start)
	if err != nil {
		return nil, 0, err
	}
	parent, err := w.ensureFolders(ctx, tx, d, start, s.Names[:len(s.Names)-1], s.By, now)
	if err != nil {
		return nil, 0, err
	}
	return w.putFile(ctx, tx, d, parent, s.Names[len(s.Names)-1], body, s.Behavior, s.By, now)
}

func (w *Workload) getSession(c *httpapi.Ctx) error {
	var s session
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		s, err = loadSession(c, tx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sessionStatus(s))
}

func (w *Workload) cancelSession(c *httpapi.Ctx) error {
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if _, err := loadSession(c, tx); err != nil {
			return err
		}
		if err := tx.DeleteBlob(ctx, contentKey(c.Param("session"))); err != nil {
			return err
		}
		return tx.DeleteBlob(ctx, sessionKey(c.Param("session")))
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
