package directory

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// relation is a group's members or owners.
type relation struct {
	name string // path segment and property name: "members", "owners"
	kind string // store kind of its links
}

var (
	memberRel = relation{name: "members", kind: identity.KindMember}
	ownerRel  = relation{name: "owners", kind: identity.KindOwner}
)

// link is the stored document of a member or owner link.
type link struct {
	GroupID  string `json:"groupId"`
	ObjectID string `json:"objectId"`
	Type     string `json:"type"` // "user" or "group"
}

func odataTypeOf(linkType string) string {
	if linkType == "group" {
		return odataTypeGroup
	}
	return odataTypeUser
}

// parseRef reads the URL of an @odata.id or @odata.bind: any host and version prefix,
// then directoryObjects/{id}, users/{id} or groups/{id} (key syntax accepted).
func parseRef(ref string) (collection, id string, ok bool) {
	s := strings.TrimSpace(ref)
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return "", "", false
		}
		s = rest[slash:]
	}
	segs, err := httpapi.SplitPath(s)
	if err != nil {
		return "", "", false
	}
	if len(segs) > 0 && (strings.EqualFold(segs[0], "v1.0") || strings.EqualFold(segs[0], "beta")) {
		segs = segs[1:]
	}
	if len(segs) != 2 || segs[1] == "" {
		return "", "", false
	}
	switch c := strings.ToLower(segs[0]); c {
	case "directoryobjects", "users", "groups":
		return c, segs[1], true
	}
	return "", "", false
}

// resolveRef finds the live object a reference names, as a member or owner of group
// g: users for both; groups only as members of a group that is not a Microsoft 365
// group, and never the group itself.
func resolveRef(ctx context.Context, tx store.Tx, tenant, ref string, rel relation, g store.Object) (id, odataType string, err error) {
	collection, key, ok := parseRef(ref)
	if !ok {
		return "", "", badRequest("Invalid object identifier '%s'.", ref)
	}
	if collection != "groups" {
		u, err := ResolveUser(ctx, tx, tenant, key)
		if err == nil {
			return u.ID, odataTypeUser, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", "", err
		}
		if collection == "users" {
			return "", "", notFound(key)
		}
	}
	if !identity.IsGUID(key) {
		return "", "", notFound(key)
	}
	o, err := tx.GetObject(ctx, tenant, identity.KindGroup, strings.ToLower(key))
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.Deleted) {
		return "", "", notFound(key)
	}
	if err != nil {
		return "", "", err
	}
	if rel == ownerRel {
		return "", "", badRequest("Invalid object identifier '%s': only users can be owners of a group.", key)
	}
	if o.ID == g.ID {
		return "", "", badRequest("A group cannot be a member of itself.")
	}
	var gdoc map[string]any
	if err := json.Unmarshal(g.Data, &gdoc); err != nil {
		return "", "", err
	}
	if isUnified(gdoc) {
		return "", "", badRequest("Groups cannot be added as members of a Microsoft 365 group.")
	}
	return o.ID, odataTypeGroup, nil
}

// insertLink adds target to the relation of group g; false when it was there already.
func insertLink(ctx context.Context, tx store.Tx, rel relation, g store.Object, target, odataType string, now time.Time) (bool, error) {
	typ := "user"
	if odataType == odataTypeGroup {
		typ = "group"
	}
	data, _ := json.Marshal(link{GroupID: g.ID, ObjectID: target, Type: typ})
	o := store.Object{Tenant: g.Tenant, Kind: rel.kind, ID: identity.MembershipID(g.ID, target), Owner: g.ID, Parent: target, Data: data, Created: now, Updated: now}
	err := tx.InsertObject(ctx, &o)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// links is the list of the live objects at the far end of links: a group's members
// or owners (links selected by their owner, the group; each says in its type whether
// it points at a user or a group), or a user's groups (member links selected by
// their parent, the user). A link to a soft-deleted object stays for a restore; the
// object is neither listed nor counted. s is the schema of the query options. The
// paging cursor is the link's id, as it was when the links were read one by one.
func links(tenant string, rel relation, group, member string, s *schema) listing {
	if member != "" {
		return listing{tenant: tenant, kind: identity.KindGroup, s: s,
			via:    &store.Via{Kind: rel.kind, Parent: member},
			cursor: func(g string) string { return identity.MembershipID(g, member) }}
	}
	return listing{tenant: tenant, kinds: []string{identity.KindUser, identity.KindGroup}, s: s,
		via:    &store.Via{Kind: rel.kind, Owner: group, KindProp: "type"},
		cursor: func(o string) string { return identity.MembershipID(group, o) }}
}

func (w *Workload) listLinks(rel relation) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		p := c.Principal
		if err := inDirectory(p, readMembership); err != nil {
			return err
		}
		q, err := parseListQuery(c, userSchema)
		if err != nil {
			return err
		}
		var g store.Object
		err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
			var err error
			g, err = resolveGroup(ctx, tx, p.TenantID, c.Param("group"))
			if err != nil {
				return err
			}
			return w.hiddenMembership(ctx, tx, p, g)
		})
		if err != nil {
			return err
		}
		return w.serveListing(c, links(p.TenantID, rel, g.ID, "", userSchema), q, "directoryObjects")
	}
}

// hiddenMembership refuses to show the members of a group with HiddenMembership
// visibility to a signed-in user who is neither a member nor an owner.
func (w *Workload) hiddenMembership(ctx context.Context, tx store.Tx, p *identity.Principal, g store.Object) error {
	if p.Type != identity.DelegatedWork {
		return nil
	}
	var doc map[string]any
	if err := json.Unmarshal(g.Data, &doc); err != nil {
		return err
	}
	if doc["visibility"] != "HiddenMembership" {
		return nil
	}
	for _, kind := range []string{identity.KindMember, identity.KindOwner} {
		_, err := tx.GetObject(ctx, g.Tenant, kind, identity.MembershipID(g.ID, p.UserID))
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return accessDenied()
}

func (w *Workload) addLink(rel relation) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		p := c.Principal
		if err := inDirectory(p, writeMembers); err != nil {
			return err
		}
		body, err := c.DecodeObject()
		if err != nil {
			return err
		}
		ref, ok := body["@odata.id"].(string)
		if !ok || ref == "" {
			return badRequest("The request body must be an object with an '@odata.id' reference to a directory object.")
		}
		err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
			g, err := resolveGroup(ctx, tx, p.TenantID, c.Param("group"))
			if err != nil {
				return err
			}
			if err := groupWriter(ctx, tx, p, g); err != nil {
				return err
			}
			target, typ, err := resolveRef(ctx, tx, p.TenantID, ref, rel, g)
			if err != nil {
				return err
			}
			added, err := insertLink(ctx, tx, rel, g, target, typ, c.Now)
			if err != nil {
				return err
			}
			if !added {
				return badRequest("One or more added object references already exist for the following modified properties: '%s'.", rel.name)
			}
			return recordLink(ctx, tx, rel, g, linkDelta(typ, target, false), c.Now)
		})
		if err != nil {
			return err
		}
		return c.NoContent()
	}
}

func (w *Workload) removeLink(rel relation) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		p := c.Principal
		if err := inDirectory(p, writeMembers); err != nil {
			return err
		}
		err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
			g, err := resolveGroup(ctx, tx, p.TenantID, c.Param("group"))
			if err != nil {
				return err
			}
			if err := groupWriter(ctx, tx, p, g); err != nil {
				return err
			}
			target := c.Param("object")
			l, err := tx.GetObject(ctx, p.TenantID, rel.kind, identity.MembershipID(g.ID, target))
			if errors.Is(err, store.ErrNotFound) {
				return notFound(target)
			}
			if err != nil {
				return err
			}
			var ln link
			if err := json.Unmarshal(l.Data, &ln); err != nil {
				return err
			}
			if err := tx.DeleteObject(ctx, p.TenantID, rel.kind, l.ID); err != nil {
				return err
			}
			return recordLink(ctx, tx, rel, g, linkDelta(odataTypeOf(ln.Type), ln.ObjectID, true), c.Now)
		})
		if err != nil {
			return err
		}
		return c.NoContent()
	}
}

// recordLink appends the change of group g whose relation gained or lost one object.
// The group itself is unchanged: Before and After are both its current state.
func recordLink(ctx context.Context, tx store.Tx, rel relation, g store.Object, delta map[string]any, now time.Time) error {
	doc, err := decodeView(g, groupSchema)
	if err != nil {
		return err
	}
	r := changeRecord{tenant: g.Tenant, kind: identity.KindGroup, id: g.ID, changeType: store.Updated, before: doc, after: doc, at: now}
	if rel == memberRel {
		r.membersDelta = []map[string]any{delta}
	} else {
		r.ownersDelta = []map[string]any{delta}
	}
	return record(ctx, tx, r)
}

func (w *Workload) listMemberOf(c *httpapi.Ctx) error {
	p := c.Principal
	if p.Type == identity.DelegatedPersonal {
		return accessDenied()
	}
	q, err := parseListQuery(c, groupSchema)
	if err != nil {
		return err
	}
	var u store.Object
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		u, err = lookupUser(ctx, tx, p.TenantID, c.Param("user"))
		return err
	})
	if err != nil {
		return err
	}
	if !canReadUser(p, u.ID) {
		return accessDenied()
	}
	return w.serveListing(c, links(p.TenantID, memberRel, "", u.ID, groupSchema), q, "directoryObjects")
}
