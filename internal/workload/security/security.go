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
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// Kind is the store kind of an alert.
const Kind = "alert"

// Limits of the list endpoint: Graph's security API serves at most 1000 alerts per
// provider and page.
const (
	defaultTop = 1000
	maxTop     = 1000
)

// Permissions.
var (
	readPerms  = []string{"SecurityEvents.Read.All", "SecurityEvents.ReadWrite.All"}
	writePerms = []string{"SecurityEvents.ReadWrite.All"}
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
}

func forbidden(p *identity.Principal, need []string) error {
	if p.Type == identity.DelegatedPersonal {
		return graph.Errorf(http.StatusForbidden, "Forbidden", "Security alerts are not available for personal Microsoft accounts.")
	}
	what := "role"
	if p.Type.Delegated() {
		what = "scope"
	}
	return graph.Errorf(http.StatusForbidden, "Forbidden", "Missing %s permissions on the request. API requires one of '%s'. %ss on the request '%s'.",
		what, strings.Join(need, ", "), strings.ToUpper(what[:1])+what[1:], strings.Join(p.SortedPermissions(), ", "))
}

func authorize(p *identity.Principal, need []string) error {
	if p.Type == identity.DelegatedPersonal || !p.Has(need...) {
		return forbidden(p, need)
	}
	return nil
}

func notFound(id string) error {
	return graph.Errorf(http.StatusNotFound, "NotFound", "Alert '%s' was not found.", id)
}

func queryError(err error) error {
	var oe *odata.Error
	if errors.As(err, &oe) {
		return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "%s", oe.Message)
	}
	return err
}

func decode(o store.Object) (map[string]any, error) {
	var doc map[string]any
	err := json.Unmarshal(o.Data, &doc)
	return doc, err
}

func (w *Workload) list(c *httpapi.Ctx) error {
	p := c.Principal
	if err := authorize(p, readPerms); err != nil {
		return err
	}
	var filter *odata.Filter
	if s := c.Query("$filter"); s != "" {
		f, err := odata.ParseFilter(s)
		if err != nil {
			return queryError(err)
		}
		for _, prop := range f.Properties() {
			if !slices.ContainsFunc(filterable, func(x string) bool { return strings.EqualFold(x, prop) }) {
				return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid filter clause: filtering on '%s' is not supported; use %s.", prop, strings.Join(filterable, ", "))
			}
		}
		filter = f
	}
	top := defaultTop
	if s := c.Query("$top"); s != "" {
		n, err := odata.ParseTop(s, maxTop)
		if err != nil {
			return queryError(err)
		}
		top = n
	}
	offset := 0
	if s := c.Query("$skiptoken"); s != "" {
		if err := odata.DecodeSkipToken(s, &offset); err != nil {
			return queryError(err)
		}
		if offset < 0 {
			return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid $skiptoken: the token is malformed.")
		}
	}
	var docs []map[string]any
	err := w.st.View(c.R.Context(), func(tx store.Tx) error {
		objs, err := tx.ListObjects(c.R.Context(), store.ObjectQuery{Tenant: p.TenantID, Kind: Kind})
		if err != nil {
			return err
		}
		for _, o := range objs {
			doc, err := decode(o)
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
	// Newest first, as Graph's security API returns them; ties by id keep pages stable.
	slices.SortStableFunc(docs, func(a, b map[string]any) int {
		if c := strings.Compare(str(b["createdDateTime"]), str(a["createdDateTime"])); c != 0 {
			return c
		}
		return strings.Compare(str(a["id"]), str(b["id"]))
	})
	out := map[string]any{"@odata.context": c.ContextURL("security/alerts")}
	if offset > len(docs) {
		offset = len(docs)
	}
	docs = docs[offset:]
	if len(docs) > top {
		docs = docs[:top]
		out["@odata.nextLink"] = c.LinkWith(map[string]string{"$skiptoken": odata.EncodeSkipToken(offset + top)})
	}
	if docs == nil {
		docs = []map[string]any{}
	}
	out["value"] = docs
	return c.JSON(http.StatusOK, out)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (w *Workload) load(ctx context.Context, tx store.Tx, tenant, id string) (store.Object, map[string]any, error) {
	o, err := tx.GetObject(ctx, tenant, Kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return o, nil, notFound(id)
	}
	if err != nil {
		return o, nil, err
	}
	doc, err := decode(o)
	return o, doc, err
}

func (w *Workload) get(c *httpapi.Ctx) error {
	p := c.Principal
	if err := authorize(p, readPerms); err != nil {
		return err
	}
	var doc map[string]any
	err := w.st.View(c.R.Context(), func(tx store.Tx) error {
		var err error
		_, doc, err = w.load(c.R.Context(), tx, p.TenantID, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	doc["@odata.context"] = c.ContextURL("security/alerts/$entity")
	return c.JSON(http.StatusOK, doc)
}

func (w *Workload) patch(c *httpapi.Ctx) error {
	p := c.Principal
	if err := authorize(p, writePerms); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	body = httpapi.StripAnnotations(body)
	var doc map[string]any
	err = w.st.Update(c.R.Context(), func(tx store.Tx) error {
		o, cur, err := w.load(c.R.Context(), tx, p.TenantID, c.Param("id"))
		if err != nil {
			return err
		}
		before := o.Data
		if err := applyPatch(cur, body, c.Now); err != nil {
			return err
		}
		doc = cur
		return w.write(c.R.Context(), tx, &o, doc, store.Updated, before, c)
	})
	if err != nil {
		return err
	}
	// Graph answers 204 unless the client asks for the representation.
	if strings.Contains(strings.ToLower(c.R.Header.Get("Prefer")), "return=representation") {
		doc["@odata.context"] = c.ContextURL("security/alerts/$entity")
		return c.JSON(http.StatusOK, doc)
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
	err = w.st.Update(c.R.Context(), func(tx store.Tx) error {
		return w.write(c.R.Context(), tx, &store.Object{Tenant: t.ID, Kind: Kind, ID: id, Created: c.Now}, doc, store.Created, nil, c)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, doc)
}
