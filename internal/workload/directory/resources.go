package directory

import (
	"errors"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// Resource type names of the directory's subscribable resources.
const (
	UserResource  = "user"
	GroupResource = "group"
)

// directoryTypes are counted together by the user and group quotas.
var directoryTypes = []string{UserResource, GroupResource}

// Resources describes the directory's subscribable resources: users and groups,
// after "Change notifications for Microsoft Entra resources". Member and owner
// changes are reported as "updated" on the group.
func Resources() []resource.Descriptor {
	perms := []resource.Permission{{DelegatedWork: []string{"User.Read.All"}, Application: []string{"User.Read.All"}}}
	gperms := []resource.Permission{{DelegatedWork: []string{"Group.Read.All"}, Application: []string{"Group.Read.All"}}}
	membership := []string{store.Updated}
	return []resource.Descriptor{{
		Type:        UserResource,
		Workload:    "Azure Active Directory",
		Kinds:       []string{identity.KindUser},
		ChangeTypes: []string{store.Updated, store.Deleted},
		MaxLifetime: 41760 * time.Minute,
		Paths: []resource.Path{
			{Pattern: "users", Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: change.Users()}, nil
			}},
			{Pattern: "users/{user}", Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				u, err := SubscribedUser(r, ids[0])
				return resource.Target{Topic: change.User(u)}, err
			}},
		},
		Permissions: perms,
		Quotas:      directoryQuotas,
		// A deleted user takes with it the subscriptions on its mailbox, calendar,
		// contacts and chats (all under users/{u}/) and on its drives.
		RemovedWith: func(kind, id string) []string {
			if kind != identity.KindUser {
				return nil
			}
			return []string{change.User(id) + "/", change.DriveRoot(change.UserDriveID(id)), change.DriveRoot(change.PersonalDriveID(id))}
		},
		Samples: []resource.Sample{
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "users/{user}", `{"jobTitle":"Analyst {unique}"}`)}, Permission: "User.ReadWrite.All"},
			// Deletion moves the user to the recycle bin, which Graph reports as
			// "updated"; only purging it is "deleted".
			{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "users/{user}", ""), resource.Req("DELETE", "directory/deletedItems/{user}", "")}, Permission: "User.ReadWrite.All"},
		},
	}, {
		Type:        GroupResource,
		Workload:    "Azure Active Directory",
		Kinds:       []string{identity.KindGroup, identity.KindMember, identity.KindOwner},
		ChangeTypes: []string{store.Updated, store.Deleted},
		MaxLifetime: 41760 * time.Minute,
		Paths: []resource.Path{
			{Pattern: "groups", Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: change.Groups()}, nil
			}},
			{Pattern: "groups/{group}", Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				g, err := r.Object(identity.KindGroup, ids[0], "", "Group '%s' does not exist.")
				return resource.Target{Topic: change.Group(g.ID)}, err
			}},
			{Pattern: "groups/{group}/members", ChangeTypes: membership, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				g, err := r.Object(identity.KindGroup, ids[0], "", "Group '%s' does not exist.")
				return resource.Target{Topic: change.GroupMembers(g.ID)}, err
			}},
			{Pattern: "groups/{group}/owners", ChangeTypes: membership, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				g, err := r.Object(identity.KindGroup, ids[0], "", "Group '%s' does not exist.")
				return resource.Target{Topic: change.GroupOwners(g.ID)}, err
			}},
		},
		Permissions: gperms,
		Quotas:      directoryQuotas,
		// A deleted group takes with it the subscriptions on its members, owners and
		// conversations (under groups/{g}/) and on its document library.
		RemovedWith: func(kind, id string) []string {
			if kind != identity.KindGroup {
				return nil
			}
			return []string{change.Group(id) + "/", change.DriveRoot(change.GroupDriveID(id))}
		},
		Samples: []resource.Sample{
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "groups/{group}", `{"description":"Changed {unique}"}`)}, Permission: "Group.ReadWrite.All"},
			{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "groups/{group}", ""), resource.Req("DELETE", "directory/deletedItems/{group}", "")}, Permission: "Group.ReadWrite.All"},
		},
	}}
}

// directoryQuotas are the user and group limits, counted over both types together.
func directoryQuotas(p *identity.Principal, _ resource.Target, q resource.Quotas) []resource.Quota {
	return []resource.Quota{
		{Query: store.SubscriptionQuery{Tenant: p.TenantID, AppID: p.AppID, ResourceTypes: directoryTypes}, Limit: q.DirectoryPerAppTenant,
			Message: "The limit of %d user and group subscriptions per application per tenant has been reached."},
		{Query: store.SubscriptionQuery{Tenant: p.TenantID, ResourceTypes: directoryTypes}, Limit: q.DirectoryPerTenant,
			Message: "The limit of %d user and group subscriptions per tenant (all applications together) has been reached."},
		{Query: store.SubscriptionQuery{AppID: p.AppID, ResourceTypes: directoryTypes}, Limit: q.DirectoryPerApp,
			Message: "The limit of %d user and group subscriptions per application (all tenants together) has been reached."},
	}
}

// SubscribedUser resolves, for a resource path, a user id or UPN of the caller's
// tenant to its store id.
func SubscribedUser(r *resource.Resolver, idOrUPN string) (string, error) {
	o, err := ResolveUser(r.Ctx, r.Tx, r.Principal.TenantID, idOrUPN)
	if errors.Is(err, store.ErrNotFound) {
		return "", r.NotFound("User '%s' does not exist.", idOrUPN)
	}
	return o.ID, err
}
