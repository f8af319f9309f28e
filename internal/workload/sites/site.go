// Package sites is the SharePoint workload: sites (a root site per tenant, created
// lazily, and site collections created through the admin API, since Graph has no API
// to create sites), lists with their columns, list items with their fields, and the
// list item delta query.
//
// Every list item write appends a change record in the same transaction, on the list's
// topic (change.SiteList). List notifications name the list, not the item, so an app
// learns what changed from items/delta; the change records are what that delta reads,
// which is why every item write records one and nothing else writes that topic.
//
// Store layout (docs/architecture.md): site objects have no owner and alt
// "{hostname}:{server-relative path}"; lists have owner = site id; list items have
// owner = site id, parent = list id and the store id "{list id}/{item id}", because
// Graph's item ids are small integers that repeat across lists.
package sites

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Store kinds of this workload.
const (
	KindSite     = "site"
	KindList     = "list"
	KindListItem = "listItem"
)

// Workload serves sites, lists and list items.
type Workload struct {
	st    store.Store
	ident *identity.Service

	// rootsMade remembers tenants whose root site is known to be stored, so that most
	// requests skip the check.
	rootsMade sync.Map
}

// New returns the sites workload.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

// Routes registers the Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("GET", "sites/{site}", w.getSite)
	r.Handle("GET", "sites/{host}:/{path}", w.getSiteByPath)
	r.Handle("GET", "sites/{site}/lists", w.listLists)
	r.Handle("POST", "sites/{site}/lists", w.createList)
	r.Handle("GET", "sites/{site}/lists/{list}", w.getList)
	r.Handle("GET", "sites/{site}/lists/{list}/columns", w.listColumns)
	r.Handle("GET", "sites/{site}/lists/{list}/items", w.listItems)
	r.Handle("POST", "sites/{site}/lists/{list}/items", w.createItem)
	r.Handle("GET", "sites/{site}/lists/{list}/items/delta", w.itemsDelta)
	r.Handle("GET", "sites/{site}/lists/{list}/items/{item}", w.getItem)
	r.Handle("DELETE", "sites/{site}/lists/{list}/items/{item}", w.deleteItem)
	r.Handle("GET", "sites/{site}/lists/{list}/items/{item}/fields", w.getFields)
	r.Handle("PATCH", "sites/{site}/lists/{list}/items/{item}/fields", w.updateFields)
}

// AdminRoutes registers the admin API routes (c.Principal is nil there).
func (w *Workload) AdminRoutes(r *httpapi.Router) {
	r.Handle("POST", "tenants/{tenant}/sites", w.adminCreateSite)
}

// Site is a stored site as other workloads (the files workload, for a site's document
// library) need it.
type Site struct {
	ID     string
	Tenant string
	// Host is the site's hostname, e.g. contoso.sharepoint.com.
	Host string
	// Path is the server-relative path: "/" for the root site, "/sites/x" otherwise.
	Path string
	// WebID is the id of the site's web (the third part of the site id).
	WebID  string
	WebURL string
	Name   string
	doc    map[string]any
}

// SiteURL is the value of a notification's siteUrl: the server-relative path.
func (s Site) SiteURL() string { return s.Path }

// Error codes SharePoint answers with.
const (
	codeItemNotFound = graph.CodeItemNotFound
	codeNameExists   = "nameAlreadyExists"
)

func siteNotFound(ref string) error {
	return graph.Errorf(http.StatusNotFound, codeItemNotFound, "Requested site could not be found: '%s'.", ref)
}

// Permissions. Graph's list APIs need Sites.Manage.All to create lists; graphhook
// accepts Sites.ReadWrite.All too, since that is what the demo apps hold.
var (
	readPerms  = rest.Both("Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All")
	writePerms = rest.Both("Sites.ReadWrite.All", "Sites.Manage.All")
)

// authorize lets in callers holding the site permissions an operation needs; SharePoint
// answers every refusal with its access-denied error.
func authorize(p *identity.Principal, write bool) error {
	need := readPerms
	if write {
		need = writePerms
	}
	if !need.Allows(p) {
		return graph.SharePointAccessDenied()
	}
	return nil
}

// Hostname is the SharePoint host of a tenant: the first label of its domain plus
// .sharepoint.com (contoso.onmicrosoft.com → contoso.sharepoint.com).
func Hostname(domain string) string {
	label, _, _ := strings.Cut(strings.ToLower(domain), ".")
	return label + ".sharepoint.com"
}

// derivedGUID makes a stable GUID from text, for ids that must come out the same in
// every transaction that creates them (the root site's).
func derivedGUID(text string) string {
	sum := sha256.Sum256([]byte(text))
	u, _ := uuid.FromBytes(sum[:16])
	return u.String()
}

func (w *Workload) tenantDomain(tenant string) (string, error) {
	t, ok := w.ident.Tenant(tenant)
	if !ok {
		return "", fmt.Errorf("sites: unknown tenant %q", tenant)
	}
	return t.Domain, nil
}

// EnsureRoot stores the tenant's root site if it is not stored yet. The root site's id
// is derived from the tenant, so concurrent first requests agree on it.
func (w *Workload) EnsureRoot(ctx context.Context, tenant string, now time.Time) error {
	if _, ok := w.rootsMade.Load(tenant); ok {
		return nil
	}
	domain, err := w.tenantDomain(tenant)
	if err != nil {
		return err
	}
	host := Hostname(domain)
	err = w.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.GetObjectByAlt(ctx, tenant, KindSite, host+":/")
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return err
		}
		site := newSite(host, "/", derivedGUID("site:"+tenant), derivedGUID("web:"+tenant), "Communication site", "", now)
		site.doc["root"] = map[string]any{}
		return insertSite(ctx, tx, tenant, site, now)
	})
	if errors.Is(err, store.ErrConflict) {
		err = nil
	}
	if err == nil {
		w.rootsMade.Store(tenant, true)
	}
	return err
}

func newSite(host, path, collection, web, displayName, description string, now time.Time) Site {
	id := host + "," + collection + "," + web
	name := strings.TrimPrefix(path[strings.LastIndex(path, "/"):], "/")
	webURL := "https://" + host + strings.TrimSuffix(path, "/")
	ts := graph.FormatTime(now)
	doc := map[string]any{
		"id":                   id,
		"name":                 name,
		"displayName":          displayName,
		"description":          description,
		"webUrl":               webURL,
		"createdDateTime":      ts,
		"lastModifiedDateTime": ts,
		"siteCollection":       map[string]any{"hostname": host},
	}
	return Site{ID: id, Host: host, Path: path, WebID: web, WebURL: webURL, Name: name, doc: doc}
}

func insertSite(ctx context.Context, tx store.Tx, tenant string, s Site, now time.Time) error {
	data, err := json.Marshal(s.doc)
	if err != nil {
		return err
	}
	if err := tx.InsertObject(ctx, &store.Object{Tenant: tenant, Kind: KindSite, ID: s.ID, Alt: s.Host + ":" + s.Path, Data: data}); err != nil {
		return err
	}
	// Sites have no subscribable topic of their own; the record keeps the rule that
	// every write leaves one.
	return change.Record(ctx, tx, tenant, KindSite, s.ID, store.Created, nil, nil, data, change.Notice{ODataType: "#Microsoft.Graph.site", ID: s.ID}, now)
}

func siteOf(tenant string, o store.Object) (Site, error) {
	var doc map[string]any
	if err := json.Unmarshal(o.Data, &doc); err != nil {
		return Site{}, err
	}
	host, path, _ := strings.Cut(o.Alt, ":")
	parts := strings.Split(o.ID, ",")
	s := Site{ID: o.ID, Tenant: tenant, Host: host, Path: path, doc: doc}
	if len(parts) == 3 {
		s.WebID = parts[2]
	}
	s.WebURL, _ = doc["webUrl"].(string)
	s.Name, _ = doc["name"].(string)
	return s, nil
}

// Resolve finds a site by Graph reference: "root", a site id (host,collection,web),
// a hostname alone (its root site), or "host:/path". The root site must have been
// ensured (EnsureRoot) for "root" and hostnames to resolve.
func Resolve(ctx context.Context, tx store.Tx, tenant, ref string) (Site, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	var o store.Object
	var err error
	switch {
	case ref == "root":
		var objs []store.Object
		objs, err = tx.ListObjects(ctx, rootQuery(tenant))
		err = firstRoot(objs, err, &o)
	case strings.Contains(ref, ":"):
		host, path, _ := strings.Cut(ref, ":")
		path = "/" + strings.Trim(path, "/")
		o, err = tx.GetObjectByAlt(ctx, tenant, KindSite, host+":"+path)
	case strings.Contains(ref, ","):
		o, err = tx.GetObject(ctx, tenant, KindSite, ref)
		if err == nil && o.Deleted {
			err = store.ErrNotFound
		}
	default:
		o, err = tx.GetObjectByAlt(ctx, tenant, KindSite, ref+":/")
	}
	if errors.Is(err, store.ErrNotFound) {
		return Site{}, siteNotFound(ref)
	}
	if err != nil {
		return Site{}, err
	}
	return siteOf(tenant, o)
}

// rootQuery lists the tenant's root sites, the sites at path "/", for firstRoot: a
// site's name is the last segment of its path, so the roots are the sites named ""
// (a site collection's name has at least one character), and the database picks
// them out instead of the tenant's every site being read.
func rootQuery(tenant string) store.ObjectQuery {
	return store.ObjectQuery{Tenant: tenant, Kind: KindSite, Where: &store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "name"}, Value: ""}}
}

func firstRoot(objs []store.Object, err error, out *store.Object) error {
	if err != nil {
		return err
	}
	for _, o := range objs {
		if strings.HasSuffix(o.Alt, ":/") {
			*out = o
			return nil
		}
	}
	return store.ErrNotFound
}

// siteRequest checks the caller and resolves the {site} of the request.
func (w *Workload) siteRequest(c *httpapi.Ctx, tx store.Tx, ref string) (Site, error) {
	return Resolve(c.R.Context(), tx, c.Principal.TenantID, ref)
}

func (w *Workload) getSite(c *httpapi.Ctx) error {
	return w.serveSite(c, c.Param("site"))
}

func (w *Workload) getSiteByPath(c *httpapi.Ctx) error {
	return w.serveSite(c, c.Param("host")+":/"+c.Param("path"))
}

func (w *Workload) serveSite(c *httpapi.Ctx, ref string) error {
	p := c.Principal
	if err := authorize(p, false); err != nil {
		return err
	}
	if err := w.EnsureRoot(c.R.Context(), p.TenantID, c.Now); err != nil {
		return err
	}
	var site Site
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		site, err = w.siteRequest(c, tx, ref)
		return err
	})
	if err != nil {
		return err
	}
	out := clone(site.doc)
	return rest.Entity(c, http.StatusOK, "sites/$entity", out)
}

var siteName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// adminCreateSite creates a site collection at /sites/{name} of the tenant's host.
// Body: {"displayName": "...", "name": "url-name" (default: displayName without
// spaces), "description": "..."}.
func (w *Workload) adminCreateSite(c *httpapi.Ctx) error {
	t, ok := w.ident.Tenant(c.Param("tenant"))
	if !ok || t.ID == identity.ConsumersTenant {
		return graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, "Tenant '%s' does not exist.", c.Param("tenant"))
	}
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	display, _ := body["displayName"].(string)
	display = strings.TrimSpace(display)
	if display == "" {
		return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "The site needs a non-empty string 'displayName'.")
	}
	name, _ := body["name"].(string)
	if name == "" {
		name = strings.ReplaceAll(display, " ", "")
	}
	if !siteName.MatchString(name) {
		return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "The site 'name' '%s' must be 1 to 128 letters, digits, '-' or '_', starting with a letter or digit.", name)
	}
	desc, _ := body["description"].(string)
	if err := w.EnsureRoot(c.R.Context(), t.ID, c.Now); err != nil {
		return err
	}
	site := newSite(Hostname(t.Domain), "/sites/"+strings.ToLower(name), uuid.NewString(), uuid.NewString(), display, desc, c.Now)
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.GetObjectByAlt(ctx, t.ID, KindSite, site.Host+":"+site.Path); err == nil {
			return graph.Errorf(http.StatusConflict, codeNameExists, "A site already exists at %s.", site.WebURL)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return insertSite(ctx, tx, t.ID, site, c.Now)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, site.doc)
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
