package directory

import (
	"context"
	"reflect"
	"time"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// The handler shapes users and groups share: Graph lists, counts, patches and deletes
// both the same way, and only the permissions, the schema and how an object is found
// and guarded differ.

// serveKind answers GET /users or /groups: the live objects of kind, queried with the
// request's OData options.
func (w *Workload) serveKind(c *httpapi.Ctx, need []string, kind string, s *schema, fragment string) error {
	p := c.Principal
	if err := inDirectory(p, need); err != nil {
		return err
	}
	q, err := parseListQuery(c, s)
	if err != nil {
		return err
	}
	return w.serveListing(c, listing{tenant: p.TenantID, kind: kind, s: s}, q, fragment)
}

// countKind answers GET /users/$count or /groups/$count.
func (w *Workload) countKind(c *httpapi.Ctx, need []string, kind string, s *schema) error {
	p := c.Principal
	if err := inDirectory(p, need); err != nil {
		return err
	}
	return w.serveCount(c, listing{tenant: p.TenantID, kind: kind, s: s})
}

// readInput decodes a POST or PATCH body into the properties of s it sets; instance
// annotations are ignored, as Graph does.
func readInput(c *httpapi.Ctx, s *schema) (map[string]any, error) {
	body, err := c.DecodeObject()
	if err != nil {
		return nil, err
	}
	return s.decode(httpapi.StripAnnotations(body))
}

// finder finds the live object a request addresses (its {user} or {group}).
type finder func(ctx context.Context, tx store.Tx, tenant, key string) (store.Object, error)

// guard refuses a caller that may not change o; nil lets every authorized caller.
type guard func(ctx context.Context, tx store.Tx, p *identity.Principal, o store.Object) error

// deleteOne moves the object param names to the recycle bin, after the permission
// check, guard and If-Match.
func (w *Workload) deleteOne(c *httpapi.Ctx, need []string, find finder, param string, may guard, then ...GroupHook) error {
	p := c.Principal
	if err := inDirectory(p, need); err != nil {
		return err
	}
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := find(ctx, tx, p.TenantID, c.Param(param))
		if err != nil {
			return err
		}
		if may != nil {
			if err := may(ctx, tx, p, o); err != nil {
				return err
			}
		}
		if err := checkIfMatch(c, o); err != nil {
			return err
		}
		if err := softDelete(ctx, tx, o, c.Now); err != nil {
			return err
		}
		for _, h := range then {
			if h != nil {
				if err := h(ctx, tx, o.Tenant, o.ID, c.Now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// saveUpdate stores after as o's new state and records it as "updated"; a PATCH that
// changes nothing stores and notifies nothing, as in Entra.
func saveUpdate(ctx context.Context, tx store.Tx, o store.Object, before, after map[string]any, at time.Time) error {
	if reflect.DeepEqual(before, after) {
		return nil
	}
	o.Updated = at
	if _, err := writeObject(ctx, tx, o, after); err != nil {
		return err
	}
	return record(ctx, tx, changeRecord{tenant: o.Tenant, kind: o.Kind, id: o.ID, changeType: store.Updated, before: before, after: after, at: at})
}
