package files

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
// commits the file. Fragments are kept in their own blobs, keyed by offset.
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
}

func sessionKey(id string) string { return "uploadsession/" + id }

func chunkKey(id string, offset int64) string {
	return sessionKey(id) + "/" + strconv.FormatInt(offset, 10)
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
	return s, nil
}

func sessionStatus(s session) map[string]any {
	return map[string]any{"expirationDateTime": graph.FormatTime(s.Expires), "nextExpectedRanges": []string{strconv.FormatInt(s.Received, 10) + "-"}}
}

var contentRange = regexp.MustCompile(`^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$`)

func rangeError(format string, args ...any) error {
	return graph.Errorf(http.StatusRequestedRangeNotSatisfiable, "invalidRange", format, args...)
}

// uploadChunk serves PUT to an upload URL: one fragment with its Content-Range.
// Fragments must arrive in order; the last one commits the file in the same
// transaction that reads the earlier fragments.
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
	data, err := c.Body()
	if err != nil {
		return err
	}
	if int64(len(data)) != end-start+1 {
		return graph.SharePointInvalidRequest("The Content-Range header length does not match the provided number of bytes.")
	}
	var doc map[string]any
	var s session
	status := http.StatusAccepted
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		if s, err = loadSession(c, tx); err != nil {
			return err
		}
		if s.Total != 0 && s.Total != total {
			return graph.SharePointInvalidRequest("The Content-Range total %d does not match the file size %d of the upload session.", total, s.Total)
		}
		s.Total = total
		switch {
		case start < s.Received:
			return rangeError("The uploaded fragment overlaps with data that has already been received.")
		case start > s.Received:
			return rangeError("The uploaded fragment starts at %d; the next expected range is %d-.", start, s.Received)
		}
		if end+1 < total {
			if err := tx.PutBlob(ctx, chunkKey(c.Param("session"), start), data); err != nil {
				return err
			}
			s.Received = end + 1
			raw, err := json.Marshal(s)
			if err != nil {
				return err
			}
			return tx.PutBlob(ctx, sessionKey(c.Param("session")), raw)
		}
		doc, status, err = w.commitSession(ctx, tx, c.Param("session"), s, data, c.Now)
		return err
	})
	if err != nil {
		return err
	}
	if status == http.StatusAccepted {
		return c.JSON(status, sessionStatus(s))
	}
	return rest.Entity(c, status, itemEntity(s.Drive), doc)
}

// commitSession assembles the fragments and writes the file.
func (w *Workload) commitSession(ctx context.Context, tx store.Tx, id string, s session, last []byte, now time.Time) (map[string]any, int, error) {
	content := make([]byte, 0, s.Total)
	for off := int64(0); off < s.Received; {
		part, err := tx.GetBlob(ctx, chunkKey(id, off))
		if err != nil {
			return nil, 0, err
		}
		content = append(content, part...)
		if err := tx.DeleteBlob(ctx, chunkKey(id, off)); err != nil {
			return nil, 0, err
		}
		off += int64(len(part))
	}
	content = append(content, last...)
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
		doc, err := w.replaceContent(ctx, tx, d, item, content, s.By, now)
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
	return w.putFile(ctx, tx, d, parent, s.Names[len(s.Names)-1], content, s.Behavior, s.By, now)
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
		s, err := loadSession(c, tx)
		if err != nil {
			return err
		}
		for off := int64(0); off < s.Received; {
			part, err := tx.GetBlob(ctx, chunkKey(c.Param("session"), off))
			if err != nil {
				return err
			}
			if err := tx.DeleteBlob(ctx, chunkKey(c.Param("session"), off)); err != nil {
				return err
			}
			off += int64(len(part))
		}
		return tx.DeleteBlob(ctx, sessionKey(c.Param("session")))
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
