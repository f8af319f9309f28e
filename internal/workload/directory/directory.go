// Package directory is the directory workload: users, groups, their members and
// owners, the organization, and delta queries over users and groups.
package directory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// Workload serves the directory resources.
type Workload struct {
	st    store.Store
	ident *identity.Service
}

// New returns the directory workload.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

// Routes registers the workload's Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("GET", "users", w.listUsers)
	r.Handle("GET", "users/{user}", w.getUser)
	r.Handle("GET", "organization", w.listOrganization)
}

// Directory error codes.
const (
	codeNotFound     = "Request_ResourceNotFound"
	codeBadRequest   = "Request_BadRequest"
	codeAccessDenied = "Authorization_RequestDenied"
)

func accessDenied() error {
	return graph.Errorf(http.StatusForbidden, codeAccessDenied, "Insufficient privileges to complete the operation.")
}

func userNotFound(id string) error {
	return graph.Errorf(http.StatusNotFound, codeNotFound, "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

// Permissions that let a caller read users other than itself.
var readAllUsers = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// canReadUser checks the caller's permission to read user uid.
func canReadUser(p *identity.Principal, uid string) bool {
	if p.Type == identity.DelegatedPersonal {
		return strings.EqualFold(uid, p.UserID) && p.Has("User.Read", "User.ReadWrite")
	}
	if p.Type.Delegated() && strings.EqualFold(uid, p.UserID) && p.Has("User.Read", "User.ReadWrite") {
		return true
	}
	return p.Has(readAllUsers...)
}

// ResolveUser finds a live user of the caller's tenant by object id or user principal
// name. Other workloads use it for /users/{id}/… paths.
func ResolveUser(ctx context.Context, tx store.Tx, tenant, idOrUPN string) (store.Object, error) {
	key := strings.ToLower(idOrUPN)
	o, err := tx.GetObject(ctx, tenant, identity.KindUser, key)
	if err == nil && !o.Deleted {
		return o, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return o, err
	}
	return tx.GetObjectByAlt(ctx, tenant, identity.KindUser, key)
}

func (w *Workload) getUser(c *httpapi.Ctx) error {
	p := c.Principal
	var doc map[string]any
	err := w.st.View(c.R.Context(), func(tx store.Tx) error {
		o, err := ResolveUser(c.R.Context(), tx, p.TenantID, c.Param("user"))
		if errors.Is(err, store.ErrNotFound) {
			return userNotFound(c.Param("user"))
		}
		if err != nil {
			return err
		}
		if !canReadUser(p, o.ID) {
			return accessDenied()
		}
		return json.Unmarshal(o.Data, &doc)
	})
	if err != nil {
		return err
	}
	if fields := selectFields(c); fields != nil {
		doc = selectDoc(doc, fields)
	}
	doc["@odata.context"] = c.ContextURL("users/$entity")
	return c.JSON(http.StatusOK, doc)
}

func (w *Workload) listUsers(c *httpapi.Ctx) error {
	p := c.Principal
	if p.Type == identity.DelegatedPersonal || !p.Has(readAllUsers...) {
		return accessDenied()
	}
	top, err := parseTop(c, 100, 999)
	if err != nil {
		return err
	}
	after := ""
	if tok := c.Query("$skiptoken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return graph.Errorf(http.StatusBadRequest, codeBadRequest, "Invalid $skiptoken value.")
		}
		after = string(raw)
	}
	var objs []store.Object
	err = w.st.View(c.R.Context(), func(tx store.Tx) error {
		var err error
		objs, err = tx.ListObjects(c.R.Context(), store.ObjectQuery{Tenant: p.TenantID, Kind: identity.KindUser, AfterID: after, Limit: top + 1})
		return err
	})
	if err != nil {
		return err
	}
	fields := selectFields(c)
	out := map[string]any{"@odata.context": c.ContextURL("users")}
	if len(objs) > top {
		objs = objs[:top]
		out["@odata.nextLink"] = c.LinkWith(map[string]string{"$skiptoken": base64.RawURLEncoding.EncodeToString([]byte(objs[top-1].ID))})
	}
	value := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		var doc map[string]any
		if err := json.Unmarshal(o.Data, &doc); err != nil {
			return err
		}
		if fields != nil {
			doc = selectDoc(doc, fields)
		}
		value = append(value, doc)
	}
	out["value"] = value
	return c.JSON(http.StatusOK, out)
}

func (w *Workload) listOrganization(c *httpapi.Ctx) error {
	p := c.Principal
	if p.Type == identity.DelegatedPersonal {
		return accessDenied()
	}
	t, ok := w.ident.Tenant(p.TenantID)
	if !ok {
		return accessDenied()
	}
	org := map[string]any{
		"id":                t.ID,
		"displayName":       t.DisplayName,
		"tenantType":        "AAD",
		"countryLetterCode": "US",
		"verifiedDomains":   []map[string]any{{"name": t.Domain, "isDefault": true, "isInitial": true, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"}},
	}
	return c.JSON(http.StatusOK, map[string]any{"@odata.context": c.ContextURL("organization"), "value": []any{org}})
}

// parseTop reads $top: a positive integer up to max; def when absent.
func parseTop(c *httpapi.Ctx, def, max int) (int, error) {
	s := c.Query("$top")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, graph.Errorf(http.StatusBadRequest, codeBadRequest, "Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", s, max)
	}
	return n, nil
}

func selectFields(c *httpapi.Ctx) []string {
	s := c.Query("$select")
	if s == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func selectDoc(doc map[string]any, fields []string) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		if k == "id" || strings.HasPrefix(k, "@") {
			out[k] = v
			continue
		}
		for _, f := range fields {
			if strings.EqualFold(f, k) {
				out[k] = v
			}
		}
	}
	return out
}
