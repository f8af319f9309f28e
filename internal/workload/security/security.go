// Package security is the security workload: the legacy /security/alerts API (list
// with $filter and $top, get, PATCH) and the admin endpoint that creates alerts, which
// in Graph only Microsoft's security products can do.
//
// Every write appends a change record of kind "alert" on the topics
// security/alerts and security/alerts/{id}: "created" when the admin API adds an alert,
// "updated" on PATCH. Graph documents no deletion of alerts, so there is none.
package security

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Kind is the store kind of an alert.
const Kind = "alert"

// Limits of the list endpoint: Graph's security API serves at most 1000 alerts per
// provider and page.
const (
	defaultTop = 1000
	maxTop     = 1000
)

// noPersonal refuses personal Microsoft accounts, which have no security alerts.
const noPersonal = "Security alerts are not available for personal Microsoft accounts."

// Permissions: the same with either permission type.
var (
	readPerms  = rest.Permissions{Personal: noPersonal, Delegated: readList, Application: readList}
	writePerms = rest.Permissions{Personal: noPersonal, Delegated: writeList, Application: writeList}
	readList   = []string{"SecurityEvents.Read.All", "SecurityEvents.ReadWrite.All"}
	writeList  = []string{"SecurityEvents.ReadWrite.All"}
)

// filterable are the alert properties a list $filter may name (Graph's security API
// filters on these; others are refused rather than silently ignored).
var filterable = []string{"status", "severity", "category", "vendorInformation/provider", "assignedTo", "title", "azureTenantId", "createdDateTime", "eventDateTime", "lastModifiedDateTime", "feedback"}

// Workload serves security alerts.
type Workload struct {
	st    store.Store
	ident *identity.Service
}

// New returns the security workload.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

// Routes registers the Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("GET", "security/alerts", w.list)
	r.Handle("GET", "security/alerts/{id}", w.get)
	r.Handle("PATCH", "security/alerts/{id}", w.patch)
}

// AdminRoutes registers the admin routes (on the /_graphhook/ router).
func (w *Workload) AdminRoutes(r *httpapi.Router) {
	r.Handle("POST", "tenants/{tenant}/security/alerts", w.adminCreate)
	r.Handle("DELETE", "tenants/{tenant}/security/alerts/{id}", w.adminDelete)
}

func notFound(id string) error {
	return graph.Errorf(http.StatusNotFound, "NotFound", "Alert '%s' was not found.", id)
}

func (w *Workload) list(c *httpapi.Ctx) error {
	p := c.Principal
	if err := readPerms.Check(p); err != nil {
		return err
	}
	filter, err := rest.Filter(c)
	if err != nil {
		return err
	}
	if filter != nil {
		for _, prop := range filter.Properties() {
			if !slices.ContainsFunc(filterable, func(x string) bool { return strings.EqualFold(x, prop) }) {
				return graph.BadRequest("Invalid filter clause: filtering on '%s' is not supported; use %s.", prop, strings.Join(filterable, ", "))
			}
		}
	}
	top, err := rest.Top(c, defaultTop, maxTop)
	if err != nil {
		return err
	}
	offset := 0
	if _, err := rest.SkipToken(c, &offset); err != nil {
		return err
	}
	if offset < 0 {
		return graph.BadRequest("Invalid $skiptoken: the token is malformed.")
	}
	var docs []map[string]any
	query, paged := alertQuery(p.TenantID, filter, offset, top)
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		objs, err := tx.ListObjects(ctx, query)
		if err != nil {
			return err
		}
		for _, o := range objs {
			doc, err := rest.Decode(o.Data)
			if err != nil {
				return err
			}
			if filter == nil || filter.Match(doc) {
				docs = append(docs, doc)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !paged {
		docs = newestFirstPage(docs, offset)
	}
	next := ""
	if len(docs) > top {
		docs = docs[:top]
		next = rest.NextToken(c, offset+top)
	}
	if docs == nil {
		docs = []map[string]any{}
	}
	return rest.Collection(c, "security/alerts", docs, next)
}

func (w *Workload) get(c *httpapi.Ctx) error {
	p := c.Principal
	if err := readPerms.Check(p); err != nil {
		return err
	}
	return rest.Get(c, w.st, "security/alerts/$entity", func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		_, doc, err := rest.Load(ctx, tx, p.TenantID, Kind, c.Param("id"), notFound(c.Param("id")))
		return doc, err
	})
}

func (w *Workload) patch(c *httpapi.Ctx) error {
	p := c.Principal
	if err := writePerms.Check(p); err != nil {
		return err
	}
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, cur, err := rest.Load(ctx, tx, p.TenantID, Kind, c.Param("id"), notFound(c.Param("id")))
		if err != nil {
			return err
		}
		before := o.Data
		if err := applyPatch(cur, body, c.Now); err != nil {
			return err
		}
		doc = cur
		return w.write(ctx, tx, &o, doc, store.Updated, before, c)
	})
	if err != nil {
		return err
	}
	// Graph answers 204 unless the client asks for the representation.
	if strings.Contains(strings.ToLower(c.R.Header.Get("Prefer")), "return=representation") {
		return rest.Entity(c, http.StatusOK, "security/alerts/$entity", doc)
	}
	return c.NoContent()
}

// write stores doc as o (inserting when o.Version is 0) and appends its change record.
func (w *Workload) write(ctx context.Context, tx store.Tx, o *store.Object, doc map[string]any, changeType string, before []byte, c *httpapi.Ctx) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	o.Data, o.Updated = data, c.Now
	if o.Version == 0 {
		err = tx.InsertObject(ctx, o)
	} else {
		err = tx.UpdateObject(ctx, o)
	}
	if errors.Is(err, store.ErrConflict) {
		return graph.Errorf(http.StatusConflict, graph.CodeConflict, "An alert with id '%s' already exists.", o.ID)
	}
	if err != nil {
		return err
	}
	res := "security/alerts/" + o.ID
	return change.Record(ctx, tx, o.Tenant, Kind, o.ID, changeType, []string{change.Alerts(), change.Alert(o.ID)}, before, data,
		change.Notice{Resource: res, ODataType: "#Microsoft.Graph.alert", ODataID: res, ID: o.ID}, c.Now)
}

func (w *Workload) adminCreate(c *httpapi.Ctx) error {
	t, err := admin.Tenant(w.ident, c.Param("tenant"))
	if err != nil {
		return err
	}
	body, err := admin.Object(c)
	if err != nil {
		return err
	}
	id := uuid.NewString()
	if v, ok := body["id"]; ok && v != nil {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" || len(s) > 256 || strings.ContainsAny(s, "/?#") {
			return admin.BadRequest("Invalid alert id: a non-empty string of at most 256 characters without '/', '?' or '#' expected.")
		}
		id = s
	}
	doc, err := newAlert(body, id, t.ID, c.Now)
	if err != nil {
		return err
	}
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		return w.write(ctx, tx, &store.Object{Tenant: t.ID, Kind: Kind, ID: id, Created: c.Now}, doc, store.Created, nil, c)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, doc)
}

// newestFirstPage sorts docs newest first, as Graph's security API returns them
// (ties by id keep pages stable), and drops the first offset.
func newestFirstPage(docs []map[string]any, offset int) []map[string]any {
	slices.SortStableFunc(docs, func(a, b map[string]any) int {
		if c := strings.Compare(rest.Str(b["createdDateTime"]), rest.Str(a["createdDateTime"])); c != 0 {
			return c
		}
		return strings.Compare(rest.Str(a["id"]), rest.Str(b["id"]))
	})
	return docs[min(offset, len(docs)):]
}
