// Package directory is the directory workload: users, groups, their members and
// owners, the organization, the recycle bin (/directory/deletedItems), and delta
// queries over users and groups.
//
// Every write changes the stored object and appends its change record (change.Record)
// in one store transaction, so a committed change always notifies and a rolled-back one
// never does. The record's Before and After are the object's API representation, which
// is also what delta queries hand back. Which topics each write touches is the
// directory's rows of the topic table in ARCHITECTURE.md:
//
//	user created, updated, soft-deleted, restored   users, users/{u}          created | updated
//	user permanently deleted                        users, users/{u}          deleted
//	group changed (same change types as users)      groups, groups/{g}
//	member / owner added or removed                 + groups/{g}/members | groups/{g}/owners (updated)
//
// The delivery pipeline, not this package, reports directory creations as "updated"
// the way Graph does; the log keeps what really happened.
package directory

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// Workload serves the directory resources.
type Workload struct {
	st    store.Store
	ident *identity.Service
	// groupDeleted runs in the transaction that deletes a group (nil: nothing).
	groupDeleted GroupHook
}

// GroupHook is what another workload does, in the deleting transaction, when a group
// is deleted: Teams deletes the group's team.
type GroupHook func(ctx context.Context, tx store.Tx, tenant, group string, now time.Time) error

// New returns the directory workload.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

// NewWithGroupHook returns the directory workload with a hook run whenever a group
// is deleted.
func NewWithGroupHook(st store.Store, ident *identity.Service, groupDeleted GroupHook) *Workload {
	return &Workload{st: st, ident: ident, groupDeleted: groupDeleted}
}

// Routes registers the workload's Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("GET", "users", w.listUsers)
	r.Handle("POST", "users", w.createUser)
	r.Handle("GET", "users/$count", w.countUsers)
	r.Handle("GET", "users/delta", w.usersDelta)
	r.Handle("GET", "users/{user}", w.getUser)
	r.Handle("PATCH", "users/{user}", w.updateUser)
	r.Handle("DELETE", "users/{user}", w.deleteUser)
	r.Handle("GET", "users/{user}/memberOf", w.listMemberOf)

	r.Handle("GET", "groups", w.listGroups)
	r.Handle("POST", "groups", w.createGroup)
	r.Handle("GET", "groups/$count", w.countGroups)
	r.Handle("GET", "groups/delta", w.groupsDelta)
	r.Handle("GET", "groups/{group}", w.getGroup)
	r.Handle("PATCH", "groups/{group}", w.updateGroup)
	r.Handle("DELETE", "groups/{group}", w.deleteGroup)
	for _, rel := range []relation{memberRel, ownerRel} {
		r.Handle("GET", "groups/{group}/"+rel.name, w.listLinks(rel))
		r.Handle("POST", "groups/{group}/"+rel.name+"/$ref", w.addLink(rel))
		r.Handle("DELETE", "groups/{group}/"+rel.name+"/{object}/$ref", w.removeLink(rel))
	}

	r.Handle("GET", "directory/deletedItems/microsoft.graph.user", w.listDeleted(identity.KindUser))
	r.Handle("GET", "directory/deletedItems/microsoft.graph.group", w.listDeleted(identity.KindGroup))
	r.Handle("GET", "directory/deletedItems/{id}", w.getDeleted)
	r.Handle("POST", "directory/deletedItems/{id}/restore", w.restoreDeleted)
	r.Handle("DELETE", "directory/deletedItems/{id}", w.purgeDeleted)

	r.Handle("GET", "organization", w.listOrganization)
}

// Directory error codes (Entra's spellings, not the generic Graph ones).
const (
	codeNotFound       = graph.CodeRequestResourceNotFound
	codeBadRequest     = graph.CodeRequestBadRequest
	codeAccessDenied   = graph.CodeAuthorizationRequestDenied
	codeUnsupported    = "Request_UnsupportedQuery"
	codePrecondition   = graph.CodePreconditionFailed
	maxPageSize        = 999
	defaultPageSize    = 100
	defaultDeltaPage   = 100
	resourceUser       = "User"
	resourceGroup      = "Group"
	odataTypeUser      = "#microsoft.graph.user"
	odataTypeGroup     = "#microsoft.graph.group"
	noticeTypeUser     = "#Microsoft.Graph.User"
	noticeTypeGroup    = "#Microsoft.Graph.Group"
	unifiedGroupType   = "Unified"
	dynamicMembership  = "DynamicMembership"
	removedReasonSoft  = "changed"
	removedReasonPurge = "deleted"
)

func accessDenied() error {
	return graph.Errorf(http.StatusForbidden, codeAccessDenied, "Insufficient privileges to complete the operation.")
}

func notFound(id string) error {
	return graph.Errorf(http.StatusNotFound, codeNotFound, "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func badRequest(format string, args ...any) error {
	return graph.Errorf(http.StatusBadRequest, codeBadRequest, format, args...)
}

// Permissions, as Graph names them. Any one name of a list suffices.
var (
	readAllUsers   = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	writeAllUsers  = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	readGroups     = []string{"Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	writeGroups    = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}
	writeMembers   = []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	readMembership = []string{"GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)

// canReadUser checks the caller's permission to read user uid. Personal accounts have
// no directory: they may read only themselves (GET /me).
func canReadUser(p *identity.Principal, uid string) bool {
	self := p.Type.Delegated() && strings.EqualFold(uid, p.UserID)
	if p.Type == identity.DelegatedPersonal {
		return self && p.Has("User.Read", "User.ReadWrite")
	}
	if self && p.Has("User.Read", "User.ReadWrite") {
		return true
	}
	return p.Has(readAllUsers...)
}

// canWriteUser checks the caller's permission to change user uid: a signed-in work
// user may change their own profile with User.ReadWrite.
func canWriteUser(p *identity.Principal, uid string) bool {
	if p.Type == identity.DelegatedPersonal {
		return false
	}
	if p.Type == identity.DelegatedWork && strings.EqualFold(uid, p.UserID) && p.Has("User.ReadWrite") {
		return true
	}
	return p.Has(writeAllUsers...)
}

// inDirectory refuses personal accounts, which have no directory, and callers without
// any of the named permissions.
func inDirectory(p *identity.Principal, perms []string) error {
	if p.Type == identity.DelegatedPersonal || !p.Has(perms...) {
		return accessDenied()
	}
	return nil
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

// resolveGroup finds a live group of the tenant by object id. Group ids are GUIDs;
// anything else is a malformed id, which Entra answers with 400, not 404.
func resolveGroup(ctx context.Context, tx store.Tx, tenant, id string) (store.Object, error) {
	if !identity.IsGUID(id) {
		return store.Object{}, badRequest("Invalid object identifier '%s'.", id)
	}
	o, err := tx.GetObject(ctx, tenant, identity.KindGroup, strings.ToLower(id))
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.Deleted) {
		return store.Object{}, notFound(id)
	}
	return o, err
}

// lookupUser is ResolveUser with the workload's 404.
func lookupUser(ctx context.Context, tx store.Tx, tenant, idOrUPN string) (store.Object, error) {
	o, err := ResolveUser(ctx, tx, tenant, idOrUPN)
	if errors.Is(err, store.ErrNotFound) {
		return o, notFound(idOrUPN)
	}
	return o, err
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

func preconditionFailed() error {
	return graph.Errorf(http.StatusPreconditionFailed, codePrecondition, "The If-Match etag does not match the current version of the resource; read it again and retry.")
}

// newObjectID returns the id of a new user or group: a GUID whose first bits are its
// creation time (version 7), so that the store's B-trees take new objects at their
// right edge instead of on a random page each.
func newObjectID() string {
	return uuid.Must(uuid.NewV7()).String()
}
