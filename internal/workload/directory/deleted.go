package directory

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// softDelete moves a user or group to the recycle bin: the object stays, marked
// deleted and stamped with deletedDateTime, and its links stay for a restore. Entra
// reports it as "updated".
func softDelete(ctx context.Context, tx store.Tx, o store.Object, now time.Time) error {
	s := schemaOf(o.Kind)
	before, err := decodeView(o, s)
	if err != nil {
		return err
	}
	after := maps.Clone(before)
	after["deletedDateTime"] = now.UTC().Format(createdLayout)
	o.Deleted, o.Updated = true, now
	if _, err := writeObject(ctx, tx, o, after); err != nil {
		return err
	}
	return record(ctx, tx, changeRecord{tenant: o.Tenant, kind: o.Kind, id: o.ID, changeType: store.Updated, before: before, after: after, at: now})
}

// isSoftDeleted tells a recycled object's view (its deletedDateTime is set).
func isSoftDeleted(doc map[string]any) bool {
	return doc["deletedDateTime"] != nil
}

// deletedPerms are the permissions to read and to change recycled objects of a kind.
func deletedPerms(kind string) (read, write []string) {
	if kind == identity.KindGroup {
		return readGroups, writeGroups
	}
	return readAllUsers, writeAllUsers
}

func (w *Workload) listDeleted(kind string) httpapi.HandlerFunc {
	s := schemaOf(kind)
	return func(c *httpapi.Ctx) error {
		p := c.Principal
		read, _ := deletedPerms(kind)
		if err := inDirectory(p, read); err != nil {
			return err
		}
		q, err := parseListQuery(c, s)
		if err != nil {
			return err
		}
		l := listing{tenant: p.TenantID, kind: kind, deleted: true, s: s, odataType: "#" + s.odata}
		return w.serveListing(c, l, q, "directory/deletedItems/"+s.odata)
	}
}

// findDeleted finds a recycled user or group of the tenant by id.
func findDeleted(ctx context.Context, tx store.Tx, tenant, id string) (store.Object, error) {
	if !identity.IsGUID(id) {
		return store.Object{}, badRequest("Invalid object identifier '%s'.", id)
	}
	for _, kind := range []string{identity.KindUser, identity.KindGroup} {
		o, err := tx.GetObject(ctx, tenant, kind, strings.ToLower(id))
		if err == nil && o.Deleted {
			return o, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return o, err
		}
	}
	return store.Object{}, notFound(id)
}

// deletedItem checks the caller's permission on a recycled object and returns its view.
func deletedItem(p *identity.Principal, o store.Object, write bool) (map[string]any, error) {
	read, wr := deletedPerms(o.Kind)
	perms := read
	if write {
		perms = wr
	}
	if err := inDirectory(p, perms); err != nil {
		return nil, err
	}
	s := schemaOf(o.Kind)
	doc, err := decodeView(o, s)
	if err != nil {
		return nil, err
	}
	doc["@odata.type"] = "#" + s.odata
	return doc, nil
}

func (w *Workload) getDeleted(c *httpapi.Ctx) error {
	p := c.Principal
	if p.Type == identity.DelegatedPersonal {
		return accessDenied()
	}
	var doc map[string]any
	var o store.Object
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		if o, err = findDeleted(ctx, tx, p.TenantID, c.Param("id")); err != nil {
			return err
		}
		doc, err = deletedItem(p, o, false)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entity(c, doc, "directoryObjects/$entity", o))
}

// restoreDeleted brings a recycled user or group back, links included, and answers
// with the restored object as Entra does.
func (w *Workload) restoreDeleted(c *httpapi.Ctx) error {
	p := c.Principal
	if p.Type == identity.DelegatedPersonal {
		return accessDenied()
	}
	var doc map[string]any
	var o store.Object
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		if o, err = findDeleted(ctx, tx, p.TenantID, c.Param("id")); err != nil {
			return err
		}
		if _, err := deletedItem(p, o, true); err != nil {
			return err
		}
		s := schemaOf(o.Kind)
		before, err := decodeView(o, s)
		if err != nil {
			return err
		}
		if o.Kind == identity.KindUser {
			// Another user may have taken the name while this one was in the bin.
			if err := upnFree(ctx, tx, p.TenantID, o.Alt, o.ID); err != nil {
				return err
			}
		}
		after := maps.Clone(before)
		delete(after, "deletedDateTime")
		after = s.view(after)
		o.Deleted, o.Updated = false, c.Now
		if o, err = writeObject(ctx, tx, o, after); err != nil {
			return err
		}
		doc = maps.Clone(after)
		doc["@odata.type"] = "#" + s.odata
		return record(ctx, tx, changeRecord{tenant: p.TenantID, kind: o.Kind, id: o.ID, changeType: store.Updated, before: before, after: after, at: c.Now})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entity(c, doc, "directoryObjects/$entity", o))
}

// purgeDeleted deletes a recycled user or group for good, with its links (each group
// that loses a member or owner records that change) and, for a user, its password.
func (w *Workload) purgeDeleted(c *httpapi.Ctx) error {
	p := c.Principal
	if p.Type == identity.DelegatedPersonal {
		return accessDenied()
	}
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := findDeleted(ctx, tx, p.TenantID, c.Param("id"))
		if err != nil {
			return err
		}
		before, err := deletedItem(p, o, true)
		if err != nil {
			return err
		}
		delete(before, "@odata.type")
		if err := checkIfMatch(c, o); err != nil {
			return err
		}
		if err := dropLinks(ctx, tx, o, c.Now); err != nil {
			return err
		}
		if o.Kind == identity.KindUser {
			err := tx.DeleteObject(ctx, o.Tenant, identity.KindCredential, o.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := tx.DeleteObject(ctx, o.Tenant, o.Kind, o.ID); err != nil {
			return err
		}
		return record(ctx, tx, changeRecord{tenant: o.Tenant, kind: o.Kind, id: o.ID, changeType: store.Deleted, before: before, at: c.Now})
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// dropLinks deletes the links of an object that is going for good: a group's own
// members and owners, and the object's memberships and ownerships of other groups,
// recording the change on each live group that loses it.
func dropLinks(ctx context.Context, tx store.Tx, o store.Object, now time.Time) error {
	for _, rel := range []relation{memberRel, ownerRel} {
		if o.Kind == identity.KindGroup {
			own, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: o.Tenant, Kind: rel.kind, Owner: o.ID})
			if err != nil {
				return err
			}
			for _, l := range own {
				if err := tx.DeleteObject(ctx, o.Tenant, rel.kind, l.ID); err != nil {
					return err
				}
			}
		}
		links, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: o.Tenant, Kind: rel.kind, Parent: o.ID})
		if err != nil {
			return err
		}
		for _, l := range links {
			if err := tx.DeleteObject(ctx, o.Tenant, rel.kind, l.ID); err != nil {
				return err
			}
			g, err := tx.GetObject(ctx, o.Tenant, identity.KindGroup, l.Owner)
			if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleted) {
				continue
			}
			if err != nil {
				return err
			}
			typ := odataTypeUser
			if o.Kind == identity.KindGroup {
				typ = odataTypeGroup
			}
			if err := recordLink(ctx, tx, rel, g, linkDelta(typ, o.ID, true), now); err != nil {
				return err
			}
		}
	}
	return nil
}
