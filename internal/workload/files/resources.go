package files

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// DriveItemResource is the resource type name of drive roots and folders.
const DriveItemResource = "driveItem"

// PersonalDriveVariant is the permission variant of personal accounts' OneDrive
// subscriptions: personal OneDrive takes Files.Read, OneDrive for Business and
// libraries Files.Read.All.
const PersonalDriveVariant = "personalDrive"

// Resources describes OneDrive's subscribable resource, after "Change
// notifications for OneDrive and SharePoint": a drive's root, and for personal
// OneDrive any folder. Every change under it is reported as "updated" on the
// subscribed resource.
func Resources() []resource.Descriptor {
	return []resource.Descriptor{{
		Type:        DriveItemResource,
		Workload:    "File Services",
		Kinds:       []string{KindDrive, KindDriveItem},
		ChangeTypes: []string{store.Updated},
		MaxLifetime: 42300 * time.Minute,
		Paths: []resource.Path{
			{Pattern: "users/{user}/drive/root", OwnUser: true, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				u, err := directory.SubscribedUser(r, ids[0])
				return resource.Target{Topic: change.DriveRoot(subscribedUserDrive(r, u)), User: u}, err
			}},
			{Pattern: "users/{user}/drive/items/{item}", OwnUser: true, PersonalOnly: true, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				u, err := directory.SubscribedUser(r, ids[0])
				if err != nil {
					return resource.Target{}, err
				}
				topic, err := subscribedFolder(r, subscribedUserDrive(r, u), ids[1])
				return resource.Target{Topic: topic, User: u}, err
			}},
			{Pattern: "drives/{drive}/root", Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				d, owner, err := subscribedDrive(r, ids[0])
				return resource.Target{Topic: change.DriveRoot(d), User: owner}, err
			}},
			{Pattern: "drives/{drive}/items/{item}", PersonalOnly: true, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				d, owner, err := subscribedDrive(r, ids[0])
				if err != nil {
					return resource.Target{}, err
				}
				topic, err := subscribedFolder(r, d, ids[1])
				return resource.Target{Topic: topic, User: owner}, err
			}},
		},
		Permissions: []resource.Permission{
			{DelegatedWork: []string{"Files.Read.All", "Files.ReadWrite.All"}, Application: []string{"Files.Read.All", "Files.ReadWrite.All"}},
			{Variant: PersonalDriveVariant, DelegatedPersonal: []string{"Files.Read", "Files.ReadWrite"}},
		},
		PersonalVariant: PersonalDriveVariant,
		Samples: []resource.Sample{
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PUT", "users/{user}/drive/root:/sample.txt:/content", "sample")}, Permission: "Files.ReadWrite.All"},
			// A file written in a personal account's OneDrive, as that account.
			{Name: "personalDriveItem", ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PUT", "users/{user}/drive/root:/sample.txt:/content", "sample")},
				Permission: "Files.ReadWrite", Delegated: true, Personal: true},
		},
	}}
}

// subscribedUserDrive is the derived id of a user's OneDrive: OneDrive for Business
// in work tenants, personal OneDrive for personal accounts.
func subscribedUserDrive(r *resource.Resolver, u string) string {
	if r.Principal.TenantID == identity.ConsumersTenant {
		return change.PersonalDriveID(u)
	}
	return change.UserDriveID(u)
}

// subscribedDrive resolves /drives/{id}: a stored drive, or the derived id of a
// user's drive that was never touched (drives are created lazily). It returns the
// drive id and the user who owns it ("" for site and group libraries).
func subscribedDrive(r *resource.Resolver, id string) (string, string, error) {
	o, err := r.Tx.GetObject(r.Ctx, r.Principal.TenantID, KindDrive, id)
	if err == nil && !o.Deleted {
		owner := ""
		if strings.HasPrefix(o.Alt, "user:") {
			owner = o.Owner
		}
		return o.ID, owner, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", "", err
	}
	// An untouched drive's id is derived from its owner's; delegated callers can only
	// mean their own, application callers any user of the tenant.
	p := r.Principal
	if p.Type.Delegated() {
		if id == subscribedUserDrive(r, p.UserID) {
			return id, p.UserID, nil
		}
		return "", "", r.NotFound("Drive '%s' does not exist.", id)
	}
	users, err := r.Tx.ListObjects(r.Ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: identity.KindUser})
	if err != nil {
		return "", "", err
	}
	for _, u := range users {
		if subscribedUserDrive(r, u.ID) == id {
			return id, u.ID, nil
		}
	}
	return "", "", r.NotFound("Drive '%s' does not exist.", id)
}

// subscribedFolder returns the topic of a folder of a personal drive (the root's
// when the id names the root); files are not subscribable.
func subscribedFolder(r *resource.Resolver, d, item string) (string, error) {
	if strings.EqualFold(item, "root") || item == change.DriveRootID(d) {
		return change.DriveRoot(d), nil
	}
	o, err := r.Object(KindDriveItem, item, d, "Item '%s' does not exist in the drive.")
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if json.Unmarshal(o.Data, &doc) != nil || doc["folder"] == nil {
		return "", r.Invalid("resource '%s' is not supported: only folders can be watched, not files.", r.Resource)
	}
	return change.DriveFolder(d, o.ID), nil
}
