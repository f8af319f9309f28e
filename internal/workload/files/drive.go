package files

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/rest"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

// Store kinds of this workload.
const (
	KindDrive     = "drive"
	KindDriveItem = "driveItem"
)

// Drive types as Graph spells them.
const (
	typeBusiness = "business"
	typePersonal = "personal"
	typeLibrary  = "documentLibrary"
)

// drive is a resolved drive with what rendering and change records need.
type drive struct {
	ID     string
	Tenant string
	Type   string
	// OwnerKind is "user", "site" or "group"; OwnerID the owner's id.
	OwnerKind string
	OwnerID   string
	WebURL    string
	// SiteURL and WebID are set for site libraries (notifications carry them).
	SiteURL string
	WebID   string
	SiteID  string
	doc     map[string]any
	stored  bool
}

func (d drive) rootID() string { return change.DriveRootID(d.ID) }

func driveNotFound(ref string) error {
	return graph.Errorf(http.StatusNotFound, graph.CodeItemNotFound, "The drive '%s' could not be found.", ref)
}

// Permissions. Graph accepts Files.* and, for SharePoint-backed drives (which
// OneDrive for Business is), Sites.*; personal accounts have no Sites permissions.
var (
	readAll  = []string{"Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"}
	writeAll = []string{"Files.ReadWrite.All", "Sites.ReadWrite.All"}
	readOwn  = []string{"Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"}
	writeOwn = []string{"Files.ReadWrite", "Files.ReadWrite.All", "Sites.ReadWrite.All"}
)

// authorize applies Graph's rules: applications reach every drive of their tenant with
// a *.All permission; a signed-in user reaches their own drive with any Files
// permission and shared libraries with a *.All one, but never another user's
// OneDrive (graphhook has no sharing).
func authorize(p *identity.Principal, d drive, write bool) error {
	own := d.OwnerKind == "user" && strings.EqualFold(d.OwnerID, p.UserID)
	var need []string
	switch {
	case p.Type == identity.Application:
		need = readAll
		if write {
			need = writeAll
		}
	case p.Type == identity.DelegatedPersonal:
		if !own {
			return graph.SharePointAccessDenied()
		}
		need = []string{"Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All"}
		if write {
			need = []string{"Files.ReadWrite", "Files.ReadWrite.All"}
		}
	case own:
		need = readOwn
		if write {
			need = writeOwn
		}
	case d.OwnerKind == "user":
		return graph.SharePointAccessDenied()
	default:
		need = readAll
		if write {
			need = writeAll
		}
	}
	if !p.Has(need...) {
		return graph.SharePointAccessDenied()
	}
	return nil
}

// driveRef is how a request names its drive.
type driveRef struct {
	kind string // "drive", "user", "site", "group"
	id   string
}

func refOf(c *httpapi.Ctx) driveRef {
	for _, k := range []string{"drive", "user", "site", "group"} {
		if v := c.Param(k); v != "" {
			return driveRef{kind: k, id: v}
		}
	}
	return driveRef{}
}

// resolve finds the drive a reference names, stored or not yet.
func (w *Workload) resolve(ctx context.Context, tx store.Tx, p *identity.Principal, ref driveRef) (drive, error) {
	tenant := p.TenantID
	switch ref.kind {
	case "user":
		u, err := directory.ResolveUser(ctx, tx, tenant, ref.id)
		if errors.Is(err, store.ErrNotFound) {
			return drive{}, graph.Errorf(http.StatusNotFound, graph.CodeRequestResourceNotFound, "Resource '%s' does not exist or one of its queried reference-property objects are not present.", ref.id)
		}
		if err != nil {
			return drive{}, err
		}
		return w.userDrive(ctx, tx, tenant, u)
	case "site":
		s, err := sites.Resolve(ctx, tx, tenant, ref.id)
		if err != nil {
			return drive{}, err
		}
		return w.siteDrive(ctx, tx, tenant, s)
	case "group":
		g, err := tx.GetObject(ctx, tenant, identity.KindGroup, strings.ToLower(ref.id))
		if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleted) {
			return drive{}, graph.Errorf(http.StatusNotFound, graph.CodeRequestResourceNotFound, "Resource '%s' does not exist or one of its queried reference-property objects are not present.", ref.id)
		}
		if err != nil {
			return drive{}, err
		}
		return w.groupDrive(ctx, tx, tenant, g)
	}
	return w.driveByID(ctx, tx, p, ref.id)
}

// driveByID finds a drive by id. A drive nobody has used yet is not stored; its id
// is derived from its owner, so the owners that could have it are tried: the caller
// first, then every user, site and group of the tenant (a one-time cost per drive).
func (w *Workload) driveByID(ctx context.Context, tx store.Tx, p *identity.Principal, id string) (drive, error) {
	tenant := p.TenantID
	o, err := tx.GetObject(ctx, tenant, KindDrive, id)
	if err == nil {
		return driveOf(tenant, o)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return drive{}, err
	}
	if p.Type.Delegated() {
		if u, err := tx.GetObject(ctx, tenant, identity.KindUser, strings.ToLower(p.UserID)); err == nil {
			if d, err := w.userDrive(ctx, tx, tenant, u); err == nil && d.ID == id {
				return d, nil
			}
		}
	}
	if tenant == identity.ConsumersTenant {
		return drive{}, driveNotFound(id)
	}
	for _, kind := range []string{identity.KindUser, sites.KindSite, identity.KindGroup} {
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: kind})
		if err != nil {
			return drive{}, err
		}
		for _, o := range objs {
			switch {
			case kind == identity.KindUser && change.UserDriveID(o.ID) == id:
				return w.userDrive(ctx, tx, tenant, o)
			case kind == sites.KindSite && change.SiteDriveID(o.ID) == id:
				s, err := sites.Resolve(ctx, tx, tenant, o.ID)
				if err != nil {
					return drive{}, err
				}
				return w.siteDrive(ctx, tx, tenant, s)
			case kind == identity.KindGroup && change.GroupDriveID(o.ID) == id:
				return w.groupDrive(ctx, tx, tenant, o)
			}
		}
	}
	return drive{}, driveNotFound(id)
}

func driveOf(tenant string, o store.Object) (drive, error) {
	var sd storedDrive
	if err := json.Unmarshal(o.Data, &sd); err != nil {
		return drive{}, err
	}
	d := sd.Drive
	d.Tenant, d.stored = tenant, true
	d.doc = sd.Doc
	return d, nil
}

// storedDrive is a drive object's data.
type storedDrive struct {
	Drive drive          `json:"-"`
	Doc   map[string]any `json:"doc"`
	Meta  driveMeta      `json:"meta"`
}

type driveMeta struct {
	Type, OwnerKind, OwnerID, WebURL, SiteURL, WebID, SiteID string
}

func (s *storedDrive) UnmarshalJSON(b []byte) error {
	var raw struct {
		Doc  map[string]any `json:"doc"`
		Meta driveMeta      `json:"meta"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m := raw.Meta
	s.Doc, s.Meta = raw.Doc, m
	s.Drive = drive{ID: raw.Doc["id"].(string), Type: m.Type, OwnerKind: m.OwnerKind, OwnerID: m.OwnerID, WebURL: m.WebURL, SiteURL: m.SiteURL, WebID: m.WebID, SiteID: m.SiteID}
	return nil
}

func (w *Workload) lookupStored(ctx context.Context, tx store.Tx, d drive) (drive, error) {
	o, err := tx.GetObject(ctx, d.Tenant, KindDrive, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	return driveOf(d.Tenant, o)
}

func (w *Workload) userDrive(ctx context.Context, tx store.Tx, tenant string, u store.Object) (drive, error) {
	var doc struct {
		DisplayName string `json:"displayName"`
		UPN         string `json:"userPrincipalName"`
		Mail        string `json:"mail"`
	}
	if err := json.Unmarshal(u.Data, &doc); err != nil {
		return drive{}, err
	}
	d := drive{Tenant: tenant, OwnerKind: "user", OwnerID: u.ID}
	owner := map[string]any{"id": u.ID, "displayName": doc.DisplayName}
	if tenant == identity.ConsumersTenant {
		d.ID, d.Type = change.PersonalDriveID(u.ID), typePersonal
		d.WebURL = "https://onedrive.live.com/?cid=" + strings.ToLower(d.ID)
	} else {
		d.ID, d.Type = change.UserDriveID(u.ID), typeBusiness
		host := strings.TrimSuffix(sites.Hostname(w.domain(tenant)), ".sharepoint.com") + "-my.sharepoint.com"
		d.WebURL = "https://" + host + "/personal/" + strings.NewReplacer("@", "_", ".", "_").Replace(strings.ToLower(doc.UPN)) + "/Documents"
		owner["email"] = doc.Mail
	}
	d.doc = map[string]any{"id": d.ID, "driveType": d.Type, "name": "OneDrive", "description": "", "webUrl": d.WebURL,
		"createdBy": map[string]any{"user": map[string]any{"displayName": "System Account"}}, "owner": map[string]any{"user": owner}}
	return w.lookupStored(ctx, tx, d)
}

func (w *Workload) siteDrive(ctx context.Context, tx store.Tx, tenant string, s sites.Site) (drive, error) {
	d := drive{ID: change.SiteDriveID(s.ID), Tenant: tenant, Type: typeLibrary, OwnerKind: "site", OwnerID: s.ID,
		WebURL: s.WebURL + "/Shared%20Documents", SiteURL: s.SiteURL(), WebID: s.WebID, SiteID: s.ID}
	d.doc = map[string]any{"id": d.ID, "driveType": d.Type, "name": "Documents", "description": "", "webUrl": d.WebURL,
		"createdBy": map[string]any{"user": map[string]any{"displayName": "System Account"}},
		"owner":     map[string]any{"user": map[string]any{"displayName": "System Account"}}}
	return w.lookupStored(ctx, tx, d)
}

func (w *Workload) groupDrive(ctx context.Context, tx store.Tx, tenant string, g store.Object) (drive, error) {
	var doc struct {
		DisplayName  string `json:"displayName"`
		MailNickname string `json:"mailNickname"`
	}
	if err := json.Unmarshal(g.Data, &doc); err != nil {
		return drive{}, err
	}
	d := drive{ID: change.GroupDriveID(g.ID), Tenant: tenant, Type: typeLibrary, OwnerKind: "group", OwnerID: g.ID,
		WebURL: "https://" + sites.Hostname(w.domain(tenant)) + "/sites/" + doc.MailNickname + "/Shared%20Documents"}
	d.doc = map[string]any{"id": d.ID, "driveType": d.Type, "name": "Documents", "description": "", "webUrl": d.WebURL,
		"createdBy": map[string]any{"user": map[string]any{"displayName": "System Account"}},
		"owner":     map[string]any{"group": map[string]any{"id": g.ID, "displayName": doc.DisplayName}}}
	return w.lookupStored(ctx, tx, d)
}

func (w *Workload) domain(tenant string) string {
	if t, ok := w.ident.Tenant(tenant); ok {
		return t.Domain
	}
	return "contoso.onmicrosoft.com"
}

// materialize stores a drive and its root folder. No change record: in Graph's model
// both exist from the start; this only makes them concrete.
func materialize(ctx context.Context, tx store.Tx, d drive, now time.Time) error {
	d.doc["createdDateTime"] = graph.FormatTime(now)
	data, err := json.Marshal(struct {
		Doc  map[string]any `json:"doc"`
		Meta driveMeta      `json:"meta"`
	}{d.doc, driveMeta{Type: d.Type, OwnerKind: d.OwnerKind, OwnerID: d.OwnerID, WebURL: d.WebURL, SiteURL: d.SiteURL, WebID: d.WebID, SiteID: d.SiteID}})
	if err != nil {
		return err
	}
	alt := d.OwnerKind + ":" + d.OwnerID
	if err := tx.InsertObject(ctx, &store.Object{Tenant: d.Tenant, Kind: KindDrive, ID: d.ID, Owner: d.OwnerID, Alt: alt, Data: data, Created: now, Updated: now}); err != nil {
		return err
	}
	root := storedItem{Name: "root", Folder: true, Created: now, Modified: now,
		CreatedBy: map[string]any{"user": map[string]any{"displayName": "System Account"}}}
	root.ModifiedBy = root.CreatedBy
	o := store.Object{Tenant: d.Tenant, Kind: KindDriveItem, ID: d.rootID(), Owner: d.ID, Created: now, Updated: now}
	if err := root.encode(&o); err != nil {
		return err
	}
	return tx.InsertObject(ctx, &o)
}

// open resolves the request's drive, stores it if this is its first use, and checks
// the caller's permission on it.
func (w *Workload) open(c *httpapi.Ctx, write bool) (drive, error) {
	return w.openRef(c, refOf(c), write)
}

// openRef is open for a drive the request names some other way (a copy's target).
func (w *Workload) openRef(c *httpapi.Ctx, ref driveRef, write bool) (drive, error) {
	ctx, p := c.R.Context(), c.Principal
	if ref.kind == "site" {
		if err := w.sites.EnsureRoot(ctx, p.TenantID, c.Now); err != nil {
			return drive{}, err
		}
	}
	var d drive
	err := w.st.View(ctx, func(tx store.Tx) error {
		var err error
		d, err = w.resolve(ctx, tx, p, ref)
		return err
	})
	if err != nil {
		return d, err
	}
	if err := authorize(p, d, write); err != nil {
		return d, err
	}
	if d.stored {
		return d, nil
	}
	// fn reads the drive as resolved (in), not d, which a run sets: Update may run
	// fn again.
	in := d
	err = w.st.Update(ctx, func(tx store.Tx) error {
		cur, err := w.lookupStored(ctx, tx, in)
		if err != nil || cur.stored {
			d = cur
			return err
		}
		if err := materialize(ctx, tx, in, c.Now); err != nil {
			return err
		}
		d, err = w.lookupStored(ctx, tx, in)
		return err
	})
	return d, err
}

// driveDoc renders a drive with its quota (used = the sum of its files' sizes, its
// root folder's size).
func driveDoc(ctx context.Context, tx store.Tx, d drive, o store.Object) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range d.doc {
		out[k] = v
	}
	out["lastModifiedDateTime"] = graph.FormatTime(o.Updated)
	used, err := driveUsed(ctx, tx, d)
	if err != nil {
		return nil, err
	}
	const total = 1 << 40 // 1 TB, OneDrive's default quota
	out["quota"] = map[string]any{"deleted": 0, "remaining": total - used, "state": "normal", "total": total, "used": used}
	return out, nil
}

func (w *Workload) getDrive(c *httpapi.Ctx) error {
	d, err := w.open(c, false)
	if err != nil {
		return err
	}
	var out map[string]any
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := tx.GetObject(ctx, d.Tenant, KindDrive, d.ID)
		if err != nil {
			return err
		}
		out, err = driveDoc(ctx, tx, d, o)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, "drives/$entity", out)
}

// itemEntity is the @odata.context of one item of drive id.
func itemEntity(id string) string { return "drives('" + id + "')/items/$entity" }
