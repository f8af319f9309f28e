package directory

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// maxBindsOnCreate is Entra's cap on members@odata.bind plus owners@odata.bind in one
// group creation.
const maxBindsOnCreate = 20

func (w *Workload) listGroups(c *httpapi.Ctx) error {
	return w.serveKind(c, readGroups, identity.KindGroup, groupSchema, "groups")
}

func (w *Workload) countGroups(c *httpapi.Ctx) error {
	return w.countKind(c, readGroups, identity.KindGroup, groupSchema)
}

func (w *Workload) getGroup(c *httpapi.Ctx) error {
	p := c.Principal
	if err := inDirectory(p, readGroups); err != nil {
		return err
	}
	fields, err := groupSchema.parseSelect(c.Query("$select"))
	if err != nil {
		return err
	}
	var o store.Object
	var doc map[string]any
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		if o, err = resolveGroup(ctx, tx, p.TenantID, c.Param("group")); err != nil {
			return err
		}
		doc, err = decodeView(o, groupSchema)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entity(c, odata.Select(doc, fields), "groups/$entity", o))
}

// binds are the members@odata.bind and owners@odata.bind of a group creation.
type binds struct{ members, owners []string }

// takeBinds removes the @odata.bind annotations from body and parses them.
func takeBinds(body map[string]any) (binds, error) {
	var b binds
	for k, v := range body {
		var dst *[]string
		switch strings.ToLower(k) {
		case "members@odata.bind":
			dst = &b.members
		case "owners@odata.bind":
			dst = &b.owners
		default:
			continue
		}
		delete(body, k)
		list, ok := v.([]any)
		if !ok {
			return b, badRequest("Invalid value specified for property '%s' of resource 'Group'.", k)
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok {
				return b, badRequest("Invalid value specified for property '%s' of resource 'Group'.", k)
			}
			*dst = append(*dst, s)
		}
	}
	if len(b.members)+len(b.owners) > maxBindsOnCreate {
		return b, badRequest("A maximum of %d members and owners combined can be added when a group is created.", maxBindsOnCreate)
	}
	return b, nil
}

func (w *Workload) createGroup(c *httpapi.Ctx) error {
	p := c.Principal
	if err := inDirectory(p, writeGroups); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	bound, err := takeBinds(body)
	if err != nil {
		return err
	}
	in, err := groupSchema.decode(httpapi.StripAnnotations(body))
	if err != nil {
		return err
	}
	if err := groupSchema.require(in, "displayName", "mailEnabled", "mailNickname", "securityEnabled"); err != nil {
		return err
	}
	if _, ok := in["groupTypes"]; !ok {
		in["groupTypes"] = []any{}
	}
	if err := checkGroupValues(in, true); err != nil {
		return err
	}
	id := newObjectID()
	in["id"] = id
	in["createdDateTime"] = c.Now.UTC().Format(createdLayout)
	if in["visibility"] == nil && isUnified(in) {
		in["visibility"] = "Public"
	}
	t, _ := w.ident.Tenant(p.TenantID)
	if in["mailEnabled"] == true {
		in["mail"] = in["mailNickname"].(string) + "@" + t.Domain
	}
	doc := groupSchema.view(in)
	var o store.Object
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		o, err = writeObject(ctx, tx, store.Object{Tenant: p.TenantID, Kind: identity.KindGroup, ID: id, Alt: strings.ToLower(doc["displayName"].(string)), Created: c.Now, Updated: c.Now}, doc)
		if err != nil {
			return err
		}
		owners := bound.owners
		if len(owners) == 0 && p.Type == identity.DelegatedWork {
			// A group created on a user's behalf is owned by that user, as in Entra.
			owners = []string{"users/" + p.UserID}
		}
		rec := changeRecord{tenant: p.TenantID, kind: identity.KindGroup, id: id, changeType: store.Created, after: doc, at: c.Now}
		for _, set := range []struct {
			rel   relation
			refs  []string
			delta *[]map[string]any
		}{{memberRel, bound.members, &rec.membersDelta}, {ownerRel, owners, &rec.ownersDelta}} {
			for _, ref := range set.refs {
				target, typ, err := resolveRef(ctx, tx, p.TenantID, ref, set.rel, o)
				if err != nil {
					return err
				}
				added, err := insertLink(ctx, tx, set.rel, o, target, typ, c.Now)
				if err != nil {
					return err
				}
				if added {
					*set.delta = append(*set.delta, linkDelta(typ, target, false))
				}
			}
		}
		return record(ctx, tx, rec)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, entity(c, doc, "groups/$entity", o))
}

func isUnified(doc map[string]any) bool {
	types, _ := doc["groupTypes"].([]any)
	for _, t := range types {
		if s, _ := t.(string); strings.EqualFold(s, unifiedGroupType) {
			return true
		}
	}
	return false
}

// checkGroupValues checks the values that have rules beyond their type, and spells
// enumeration values the way Entra does.
func checkGroupValues(in map[string]any, create bool) error {
	for _, name := range []string{"displayName", "mailNickname", "mailEnabled", "securityEnabled"} {
		if v, ok := in[name]; ok && (v == nil || v == "") {
			return groupSchema.invalid(name)
		}
	}
	if nick, ok := in["mailNickname"].(string); ok && !validNickname(nick) {
		return groupSchema.invalid("mailNickname")
	}
	if types, ok := in["groupTypes"].([]any); ok {
		seen := map[string]bool{}
		for i, t := range types {
			s := t.(string)
			switch {
			case strings.EqualFold(s, unifiedGroupType) && !seen[unifiedGroupType]:
				types[i] = unifiedGroupType
				seen[unifiedGroupType] = true
			case strings.EqualFold(s, dynamicMembership):
				return badRequest("Dynamic membership groups are not supported: membershipRule cannot be evaluated by graphhook.")
			default:
				return groupSchema.invalid("groupTypes")
			}
		}
	}
	if v, ok := in["visibility"]; ok && v != nil {
		canonical := ""
		for _, name := range []string{"Public", "Private", "HiddenMembership"} {
			if strings.EqualFold(v.(string), name) {
				canonical = name
			}
		}
		if canonical == "" || (canonical == "HiddenMembership" && !create) {
			return groupSchema.invalid("visibility")
		}
		in["visibility"] = canonical
	}
	if create {
		if in["mailEnabled"] == true && !isUnified(in) {
			return badRequest("The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or is set to false.")
		}
		if in["mailEnabled"] == false && isUnified(in) {
			return groupSchema.invalid("mailEnabled")
		}
	}
	return nil
}

// groupWriter checks that the caller may change group o: on a user's behalf, only
// the group's owners may, as in Entra for users without an administrator role.
func groupWriter(ctx context.Context, tx store.Tx, p *identity.Principal, o store.Object) error {
	if p.Type != identity.DelegatedWork {
		return nil
	}
	_, err := tx.GetObject(ctx, o.Tenant, identity.KindOwner, identity.MembershipID(o.ID, p.UserID))
	if errors.Is(err, store.ErrNotFound) {
		return accessDenied()
	}
	return err
}

func (w *Workload) updateGroup(c *httpapi.Ctx) error {
	p := c.Principal
	if err := inDirectory(p, writeGroups); err != nil {
		return err
	}
	in, err := readInput(c, groupSchema)
	if err != nil {
		return err
	}
	if err := checkGroupValues(in, false); err != nil {
		return err
	}
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := resolveGroup(ctx, tx, p.TenantID, c.Param("group"))
		if err != nil {
			return err
		}
		if err := groupWriter(ctx, tx, p, o); err != nil {
			return err
		}
		if err := checkIfMatch(c, o); err != nil {
			return err
		}
		before, err := decodeView(o, groupSchema)
		if err != nil {
			return err
		}
		after := maps.Clone(before)
		maps.Copy(after, in)
		if _, ok := in["mailNickname"]; ok && after["mailEnabled"] == true {
			t, _ := w.ident.Tenant(p.TenantID)
			after["mail"] = after["mailNickname"].(string) + "@" + t.Domain
		}
		if after["mailEnabled"] == true && !isUnified(after) {
			return badRequest("The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or is set to false.")
		}
		o.Alt = strings.ToLower(after["displayName"].(string))
		return saveUpdate(ctx, tx, o, before, after, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

func (w *Workload) deleteGroup(c *httpapi.Ctx) error {
	return w.deleteOne(c, writeGroups, resolveGroup, "group", groupWriter, w.groupDeleted)
}
