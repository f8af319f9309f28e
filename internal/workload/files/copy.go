package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

// operation is a finished copy, as its monitor URL reports it.
type operation struct {
	Drive    string `json:"drive"`
	Resource string `json:"resource"`
}

func operationKey(id string) string { return "driveoperation/" + id }

// copyItem serves POST …/copy. Graph copies asynchronously and answers 202 with a
// monitor URL; graphhook copies inside the request (so the copy is complete when the
// client first polls) and keeps the same protocol.
func (w *Workload) copyItem(c *httpapi.Ctx) error {
	src, err := w.open(c, false)
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
	ref, _ := body["parentReference"].(map[string]any)
	if v, ok := body["parentReference"]; ok && ref == nil && v != nil {
		return graph.SharePointInvalidRequest("'parentReference' must be an object.")
	}
	dst := src
	if id, _ := ref["driveId"].(string); id != "" && id != src.ID {
		if dst, err = w.openRef(c, driveRef{kind: "drive", id: id}, true); err != nil {
			return err
		}
	} else if err := authorize(c.Principal, src, true); err != nil {
		return err
	}
	name, hasName := body["name"].(string)
	if hasName {
		if err := checkName(name); err != nil {
			return err
		}
	}
	by, err := sites.IdentitySet(c.R.Context(), w.ident, w.st, c.Principal)
	if err != nil {
		return err
	}
	b := make([]byte, 16)
	rand.Read(b)
	opID := hex.EncodeToString(b)
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := target(c, tx, src)
		if err != nil {
			return err
		}
		if o.Parent == "" {
			return graph.SharePointInvalidRequest("The root folder cannot be copied.")
		}
		si, err := decodeItem(o)
		if err != nil {
			return err
		}
		if !hasName {
			name = si.Name
		}
		parent, err := getItemObj(ctx, tx, dst, o.Parent)
		if dst.ID != src.ID {
			parent, err = getItemObj(ctx, tx, dst, "root")
		}
		if ref["id"] != nil || ref["path"] != nil {
			parent, err = destination(ctx, tx, dst, ref)
		}
		if err != nil {
			return err
		}
		clash, taken, err := childByName(ctx, tx, dst, parent.ID, name)
		if err != nil {
			return err
		}
		if taken {
			switch behavior {
			case "fail":
				return nameExists()
			case "rename":
				if name, err = freeName(ctx, tx, dst, parent.ID, name); err != nil {
					return err
				}
			default:
				if err := refuseReplacingSource(ctx, tx, src, o, clash); err != nil {
					return err
				}
				if err := w.removeTree(ctx, tx, dst, clash, c.Now); err != nil {
					return err
				}
			}
		}
		newID, err := w.copyTree(ctx, tx, src, dst, o, parent, name, by, c.Now)
		if err != nil {
			return err
		}
		data, err := json.Marshal(operation{Drive: dst.ID, Resource: newID})
		if err != nil {
			return err
		}
		return tx.PutBlob(ctx, operationKey(opID), data)
	})
	if err != nil {
		return err
	}
	c.W.Header().Set("Location", c.ServiceRoot()+"/drives/"+dst.ID+"/operations/"+opID)
	c.W.WriteHeader(http.StatusAccepted)
	return nil
}

// copyTree copies o (renamed to name) and everything below it under parent in drive
// dst, with a creation record for each new item.
func (w *Workload) copyTree(ctx context.Context, tx store.Tx, src, dst drive, o, parent store.Object, name string, by map[string]any, now time.Time) (string, error) {
	all, err := subtree(ctx, tx, src, o)
	if err != nil {
		return "", err
	}
	newIDs := map[string]string{o.Parent: parent.ID}
	for i, it := range all {
		si, err := decodeItem(it)
		if err != nil {
			return "", err
		}
		id := newItemID()
		newIDs[it.ID] = id
		if i == 0 {
			si.Name = name
		}
		si.Created, si.Modified, si.CreatedBy, si.ModifiedBy = now, now, by, by
		if si.Blob != "" {
			content, err := tx.GetBlob(ctx, si.Blob)
			if err != nil {
				return "", err
			}
			si.Blob = ""
			if err := setContent(ctx, tx, dst, id, 1, &si, bytesContent(content)); err != nil {
				return "", err
			}
		}
		n := store.Object{Tenant: dst.Tenant, Kind: KindDriveItem, ID: id, Owner: dst.ID, Parent: newIDs[it.Parent], Alt: childAlt(newIDs[it.Parent], si.Name), Created: now, Updated: now}
		if err := si.encode(&n); err != nil {
			return "", err
		}
		if err := tx.InsertObject(ctx, &n); err != nil {
			return "", err
		}
		if _, err := w.recordNew(ctx, tx, dst, n, now); err != nil {
			return "", err
		}
	}
	return newIDs[o.ID], nil
}

// getOperation serves a copy's monitor URL (pre-authenticated, as Graph's is).
func (w *Workload) getOperation(c *httpapi.Ctx) error {
	var op operation
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		data, err := tx.GetBlob(ctx, operationKey(c.Param("operation")))
		if isNotFound(err) {
			return graph.Errorf(http.StatusNotFound, graph.CodeItemNotFound, "The operation could not be found.")
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(data, &op)
	})
	if err != nil {
		return err
	}
	if op.Drive != c.Param("drive") {
		return graph.Errorf(http.StatusNotFound, graph.CodeItemNotFound, "The operation could not be found.")
	}
	return c.JSON(http.StatusOK, map[string]any{
		"operation": "itemCopy", "status": "completed", "percentageComplete": 100.0,
		"resourceId":       op.Resource,
		"resourceLocation": c.ServiceRoot() + "/drives/" + op.Drive + "/items/" + op.Resource,
	})
}
