package directory

import (
	"context"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// UnifiedGroup describes a Microsoft 365 group that another workload creates on the
// caller's behalf (POST /teams without a group creates one, as Teams does).
type UnifiedGroup struct {
	Tenant       string
	Domain       string // the tenant's domain, for the group's mail address
	DisplayName  string
	Description  string
	MailNickname string   // derived from DisplayName when empty
	Owners       []string // user ids or UPNs
	Members      []string // user ids or UPNs
}

// CreateUnifiedGroup writes the group, its members and owners, and its change record
// in tx, exactly as POST /groups would, and returns the group's id. Unknown users
// answer 404 Request_ResourceNotFound.
func CreateUnifiedGroup(ctx context.Context, tx store.Tx, g UnifiedGroup, now time.Time) (string, error) {
	nick := g.MailNickname
	if nick == "" {
		nick = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, g.DisplayName)
		if nick == "" {
			nick = "group"
		}
	}
	id := newObjectID()
	in := map[string]any{
		"id": id, "displayName": g.DisplayName, "mailNickname": nick, "mailEnabled": true, "securityEnabled": false,
		"groupTypes": []any{"Unified"}, "visibility": "Public", "mail": nick + "@" + g.Domain,
		"createdDateTime": now.UTC().Format(createdLayout),
	}
	if g.Description != "" {
		in["description"] = g.Description
	}
	doc := groupSchema.view(in)
	o, err := writeObject(ctx, tx, store.Object{Tenant: g.Tenant, Kind: identity.KindGroup, ID: id, Alt: strings.ToLower(g.DisplayName), Created: now, Updated: now}, doc)
	if err != nil {
		return "", err
	}
	rec := changeRecord{tenant: g.Tenant, kind: identity.KindGroup, id: id, changeType: store.Created, after: doc, at: now}
	for _, set := range []struct {
		rel   relation
		users []string
		delta *[]map[string]any
	}{{memberRel, g.Members, &rec.membersDelta}, {ownerRel, g.Owners, &rec.ownersDelta}} {
		for _, u := range set.users {
			target, typ, err := resolveRef(ctx, tx, g.Tenant, "users/"+u, set.rel, o)
			if err != nil {
				return "", err
			}
			added, err := insertLink(ctx, tx, set.rel, o, target, typ, now)
			if err != nil {
				return "", err
			}
			if added {
				*set.delta = append(*set.delta, linkDelta(typ, target, false))
			}
		}
	}
	return id, record(ctx, tx, rec)
}
