package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// Store kinds the existence checks read (docs/architecture.md, store conventions).
const (
	kindMailFolder    = "mailFolder"
	kindContactFolder = "contactFolder"
	kindDrive         = "drive"
	kindDriveItem     = "driveItem"
	kindSite          = "site"
	kindList          = "list"
	kindAlert         = "alert"
	kindTeam          = "team"
	kindChannel       = "channel"
	kindChat          = "chat"
)

// wellKnownMailFolders are the folder names change.WellKnownFolderID derives ids for.
var wellKnownMailFolders = []string{"inbox", "drafts", "sentitems", "deleteditems", "archive", "junkemail", "outbox"}

// Target is a subscription's resource after normalisation: what the pipeline matches
// changes against, and what the permission checks need.
type Target struct {
	Type    identity.ResourceType
	Variant string
	// Topic is the topic key (internal/change) changes of the resource touch.
	Topic string
	// Filter is the $filter text, "" when none; it compiled with odata.ParseFilter.
	Filter string
	// User is the user whose mailbox, calendar, contacts, drive or chats the
	// subscription watches ("" for other resources); it is what the per-mailbox and
	// per-user quotas count.
	User string
	// pattern is the path shape that matched.
	pattern *pattern
}

// queryOptions says which OData options a resource path accepts.
type queryOptions uint8

const (
	allowFilter queryOptions = 1 << iota
	allowSelect
	// filterParticipantsOnly restricts $filter to participants/id (callRecords).
	filterParticipantsOnly
)

// pattern is one accepted resource path shape. Segments are lower-case literals or
// "{}" for a captured id.
type pattern struct {
	segs    []string
	typ     identity.ResourceType
	variant string
	options queryOptions
	// changeTypes overrides the resource type's allowed change types.
	changeTypes []string
	// ownUser is the index of the capture naming a user whose data only that user may
	// watch with a delegated token (mailbox, calendar, contacts, drive, chats); -1 if
	// none.
	ownUser int
	// personalOnly marks paths only personal OneDrive accepts (folders other than
	// the root).
	personalOnly bool
	// resolve checks that the resource exists and builds its topic.
	resolve func(r *resolver, ids []string) (Target, error)
}

// shape builds a pattern from a slash-separated shape.
func shape(s string, typ identity.ResourceType, ownUser int, resolve func(r *resolver, ids []string) (Target, error)) *pattern {
	return &pattern{segs: strings.Split(strings.ToLower(s), "/"), typ: typ, ownUser: ownUser, resolve: resolve}
}

func (pt *pattern) with(f func(*pattern)) *pattern { f(pt); return pt }

// patterns are the resource paths of the seed's table in the forms spec §8 accepts.
var patterns = []*pattern{
	shape("users", identity.User, -1, func(r *resolver, _ []string) (Target, error) {
		return Target{Topic: change.Users()}, nil
	}),
	shape("users/{}", identity.User, -1, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		return Target{Topic: change.User(u)}, err
	}),
	shape("users/{}/messages", identity.Message, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		return Target{Topic: change.UserMessages(u), User: u}, err
	}).with(outlook),
	shape("users/{}/mailFolders/{}/messages", identity.Message, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		if err != nil {
			return Target{}, err
		}
		f, err := r.mailFolder(u, ids[1])
		return Target{Topic: change.FolderMessages(u, f), User: u}, err
	}).with(outlook),
	shape("users/{}/events", identity.Event, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		return Target{Topic: change.UserEvents(u), User: u}, err
	}).with(outlook),
	shape("users/{}/contacts", identity.Contact, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		return Target{Topic: change.UserContacts(u), User: u}, err
	}).with(outlook),
	shape("users/{}/contactFolders/{}/contacts", identity.Contact, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		if err != nil {
			return Target{}, err
		}
		f, err := r.contactFolder(u, ids[1])
		return Target{Topic: change.FolderContacts(u, f), User: u}, err
	}).with(outlook),
	shape("users/{}/drive/root", identity.DriveItem, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		return Target{Topic: change.DriveRoot(r.userDrive(u)), User: u}, err
	}),
	shape("users/{}/drive/items/{}", identity.DriveItem, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		if err != nil {
			return Target{}, err
		}
		d := r.userDrive(u)
		topic, err := r.driveFolder(d, ids[1])
		return Target{Topic: topic, User: u}, err
	}).with(func(pt *pattern) { pt.personalOnly = true }),
	shape("users/{}/chats/getAllMessages", identity.ChatMessage, 0, func(r *resolver, ids []string) (Target, error) {
		u, err := r.user(ids[0])
		return Target{Topic: change.UserChatMessages(u), User: u}, err
	}).with(func(pt *pattern) { pt.variant, pt.options = identity.VariantUserChats, allowFilter }),
	shape("groups", identity.Group, -1, func(r *resolver, _ []string) (Target, error) {
		return Target{Topic: change.Groups()}, nil
	}),
	shape("groups/{}", identity.Group, -1, func(r *resolver, ids []string) (Target, error) {
		g, _, err := r.group(ids[0])
		return Target{Topic: change.Group(g)}, err
	}),
	shape("groups/{}/members", identity.Group, -1, func(r *resolver, ids []string) (Target, error) {
		g, _, err := r.group(ids[0])
		return Target{Topic: change.GroupMembers(g)}, err
	}).with(membership),
	shape("groups/{}/owners", identity.Group, -1, func(r *resolver, ids []string) (Target, error) {
		g, _, err := r.group(ids[0])
		return Target{Topic: change.GroupOwners(g)}, err
	}).with(membership),
	shape("groups/{}/conversations", identity.Conversation, -1, func(r *resolver, ids []string) (Target, error) {
		g, o, err := r.group(ids[0])
		if err != nil {
			return Target{}, err
		}
		if !isUnified(o.Data) {
			return Target{}, r.notFound("Group '%s' has no conversations: only Microsoft 365 (Unified) groups have a group mailbox.", ids[0])
		}
		return Target{Topic: change.GroupConversations(g)}, nil
	}),
	shape("drives/{}/root", identity.DriveItem, -1, func(r *resolver, ids []string) (Target, error) {
		d, owner, err := r.drive(ids[0])
		return Target{Topic: change.DriveRoot(d), User: owner}, err
	}),
	shape("drives/{}/items/{}", identity.DriveItem, -1, func(r *resolver, ids []string) (Target, error) {
		d, owner, err := r.drive(ids[0])
		if err != nil {
			return Target{}, err
		}
		topic, err := r.driveFolder(d, ids[1])
		return Target{Topic: topic, User: owner}, err
	}).with(func(pt *pattern) { pt.personalOnly = true }),
	shape("sites/{}/lists/{}", identity.List, -1, func(r *resolver, ids []string) (Target, error) {
		site, err := r.object(kindSite, ids[0], "", "Site '%s' does not exist.")
		if err != nil {
			return Target{}, err
		}
		list, err := r.object(kindList, ids[1], site.ID, "List '%s' does not exist in the site.")
		return Target{Topic: change.SiteList(site.ID, list.ID)}, err
	}),
	shape("security/alerts", identity.Alert, -1, func(r *resolver, _ []string) (Target, error) {
		return Target{Topic: change.Alerts()}, nil
	}).with(func(pt *pattern) { pt.options = allowFilter }),
	shape("security/alerts/{}", identity.Alert, -1, func(r *resolver, ids []string) (Target, error) {
		a, err := r.object(kindAlert, ids[0], "", "Alert '%s' does not exist.")
		return Target{Topic: change.Alert(a.ID)}, err
	}),
	shape("communications/callRecords", identity.CallRecord, -1, func(r *resolver, _ []string) (Target, error) {
		return Target{Topic: change.CallRecords()}, nil
	}).with(func(pt *pattern) { pt.options = allowFilter | filterParticipantsOnly }),
	shape("teams/getAllMessages", identity.ChatMessage, -1, func(r *resolver, _ []string) (Target, error) {
		return Target{Topic: change.AllChannelMessages()}, nil
	}).with(func(pt *pattern) { pt.variant = identity.VariantAllChannels }),
	shape("teams/{}/channels/{}/messages", identity.ChatMessage, -1, func(r *resolver, ids []string) (Target, error) {
		team, err := r.object(kindTeam, ids[0], "", "Team '%s' does not exist.")
		if err != nil {
			return Target{}, err
		}
		ch, err := r.object(kindChannel, ids[1], team.ID, "Channel '%s' does not exist in the team.")
		return Target{Topic: change.ChannelMessages(team.ID, ch.ID)}, err
	}).with(func(pt *pattern) { pt.variant, pt.options = identity.VariantChannel, allowFilter }),
	shape("chats/getAllMessages", identity.ChatMessage, -1, func(r *resolver, _ []string) (Target, error) {
		return Target{Topic: change.AllChatMessages()}, nil
	}).with(func(pt *pattern) { pt.variant = identity.VariantAllChats }),
	shape("chats/{}/messages", identity.ChatMessage, -1, func(r *resolver, ids []string) (Target, error) {
		c, err := r.object(kindChat, ids[0], "", "Chat '%s' does not exist.")
		return Target{Topic: change.ChatMessages(c.ID)}, err
	}).with(func(pt *pattern) { pt.variant, pt.options = identity.VariantChat, allowFilter }),
}

// outlook: messages, events and contacts take $filter and $select (spec §8).
func outlook(pt *pattern) { pt.options = allowFilter | allowSelect }

// membership: member and owner changes are reported as "updated" on the group (§4.3).
func membership(pt *pattern) { pt.changeTypes = []string{store.Updated} }

// match finds the pattern of segs and returns it with the captured ids.
func match(segs []string) (*pattern, []string) {
	for _, pt := range patterns {
		if len(pt.segs) != len(segs) {
			continue
		}
		var ids []string
		ok := true
		for i, s := range pt.segs {
			if s == "{}" {
				if segs[i] == "" {
					ok = false
					break
				}
				ids = append(ids, segs[i])
			} else if !strings.EqualFold(s, segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return pt, ids
		}
	}
	return nil, nil
}

// parsedResource is a resource string split into its path and query options.
type parsedResource struct {
	raw     string
	pattern *pattern
	ids     []string
	filter  *odata.Filter
}

// parseResource checks the shape of a resource string (no store access): the path
// must be one of the accepted patterns and the query options allowed on it. me is
// resolved to the caller.
func parseResource(raw string, p *identity.Principal) (*parsedResource, error) {
	notSupported := graph.Errorf(http.StatusBadRequest, graph.CodeInvalidRequest, "resource '%s' is not supported.", raw)
	path, query, _ := strings.Cut(raw, "?")
	// Graph wants the path relative to the service root; an absolute URL or a
	// version segment names no resource it knows.
	if strings.Contains(path, "://") {
		return nil, notSupported
	}
	segs, err := httpapi.SplitPath(path)
	if err != nil || len(segs) == 0 {
		return nil, notSupported
	}
	if strings.EqualFold(segs[0], "me") {
		if !p.Type.Delegated() {
			return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "/me request is only valid with delegated authentication flow.")
		}
		segs = append([]string{"users", p.UserID}, segs[1:]...)
	}
	pt, ids := match(segs)
	if pt == nil || (pt.personalOnly && p.Type != identity.DelegatedPersonal && !isDriveRootItem(ids[len(ids)-1])) {
		return nil, notSupported
	}
	pr := &parsedResource{raw: raw, pattern: pt, ids: ids}
	if err := pr.parseQuery(query); err != nil {
		return nil, err
	}
	return pr, nil
}

// parseQuery checks the resource's query options. Names match case-insensitively
// and with or without '$', as Graph's do; values are percent-decoded but '+' is kept,
// because filters carry it in time offsets.
func (pr *parsedResource) parseQuery(query string) error {
	if query == "" {
		return nil
	}
	opts := pr.pattern.options
	for part := range strings.SplitSeq(query, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		if v, err := url.PathUnescape(value); err == nil {
			value = v
		}
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		option := "$" + strings.ToLower(strings.TrimPrefix(name, "$"))
		switch {
		case option == "$filter" && opts&allowFilter != 0:
			if pr.filter != nil {
				return invalidRequest("Query option '$filter' is specified more than once in resource '%s'.", pr.raw)
			}
			f, err := odata.ParseFilter(value)
			if err != nil {
				return invalidRequest("%s", err.Error())
			}
			if opts&filterParticipantsOnly != 0 {
				for _, prop := range f.Properties() {
					if !strings.EqualFold(prop, "participants") && !strings.EqualFold(prop, "participants/id") {
						return invalidRequest("Invalid $filter clause: call record subscriptions filter on participants/id only, not on '%s'.", prop)
					}
				}
			}
			pr.filter = f
		case option == "$select" && opts&allowSelect != 0:
			fields, err := odata.ParseSelect(value)
			if err != nil {
				return invalidRequest("%s", err.Error())
			}
			for _, f := range fields {
				if strings.EqualFold(f, "body") || strings.EqualFold(f, "uniqueBody") {
					return invalidRequest("Invalid $select clause: '%s' cannot be selected in a subscription.", f)
				}
			}
		default:
			return invalidRequest("Query option '%s' is not supported in resource '%s'.", strings.TrimSpace(name), pr.raw)
		}
	}
	return nil
}

// isDriveRootItem tells whether a drive item id names the root (items/root).
func isDriveRootItem(id string) bool { return strings.EqualFold(id, "root") }

// resolver checks existence in the store for one principal.
type resolver struct {
	ctx context.Context
	tx  store.Tx
	p   *identity.Principal
	op  string // Create, Update, …: the ExtensionError's operation
	raw string // the resource as the client sent it
}

func (r *resolver) notFound(format string, args ...any) error {
	return extensionError(http.StatusNotFound, r.op, "NotFound", fmt.Sprintf(format, args...))
}

// user resolves a user id or UPN of the caller's tenant to its store id.
func (r *resolver) user(idOrUPN string) (string, error) {
	o, err := directory.ResolveUser(r.ctx, r.tx, r.p.TenantID, idOrUPN)
	if errors.Is(err, store.ErrNotFound) {
		return "", r.notFound("User '%s' does not exist.", idOrUPN)
	}
	return o.ID, err
}

// userDrive is the derived id of a user's OneDrive: OneDrive for Business in work
// tenants, personal OneDrive for personal accounts.
func (r *resolver) userDrive(u string) string {
	if r.p.TenantID == identity.ConsumersTenant {
		return change.PersonalDriveID(u)
	}
	return change.UserDriveID(u)
}

func (r *resolver) group(id string) (string, store.Object, error) {
	o, err := r.object(identity.KindGroup, id, "", "Group '%s' does not exist.")
	return o.ID, o, err
}

// object finds a live object by id (as given, then lower-cased, since directory and
// Teams ids are stored lower-case) and, when owner is set, checks that it belongs
// there.
func (r *resolver) object(kind, id, owner, notFound string) (store.Object, error) {
	o, err := r.tx.GetObject(r.ctx, r.p.TenantID, kind, id)
	if errors.Is(err, store.ErrNotFound) && strings.ToLower(id) != id {
		o, err = r.tx.GetObject(r.ctx, r.p.TenantID, kind, strings.ToLower(id))
	}
	if err == nil && (o.Deleted || (owner != "" && o.Owner != owner)) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return o, r.notFound(notFound, id)
	}
	return o, err
}

// mailFolder resolves a mail folder of user u: a well-known name (any case), a
// well-known folder's derived id, or the id of a mailFolder object the user owns.
func (r *resolver) mailFolder(u, f string) (string, error) {
	for _, name := range wellKnownMailFolders {
		if id := change.WellKnownFolderID(u, name); strings.EqualFold(f, name) || f == id {
			return id, nil
		}
	}
	o, err := r.object(kindMailFolder, f, u, "Mail folder '%s' does not exist in the mailbox.")
	return o.ID, err
}

// contactFolder resolves a contact folder of user u: "contacts", the default
// folder's derived id, or a contactFolder object the user owns.
func (r *resolver) contactFolder(u, f string) (string, error) {
	if id := change.WellKnownContactFolderID(u); strings.EqualFold(f, "contacts") || f == id {
		return id, nil
	}
	o, err := r.object(kindContactFolder, f, u, "Contact folder '%s' does not exist in the mailbox.")
	return o.ID, err
}

// drive resolves /drives/{id}: a stored drive, or the derived id of a user's drive
// that was never touched (drives are created lazily). It returns the drive id and the
// user who owns it ("" for site and group libraries).
func (r *resolver) drive(id string) (string, string, error) {
	o, err := r.tx.GetObject(r.ctx, r.p.TenantID, kindDrive, id)
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
	if r.p.Type.Delegated() {
		if id == r.userDrive(r.p.UserID) {
			return id, r.p.UserID, nil
		}
		return "", "", r.notFound("Drive '%s' does not exist.", id)
	}
	users, err := r.tx.ListObjects(r.ctx, store.ObjectQuery{Tenant: r.p.TenantID, Kind: identity.KindUser})
	if err != nil {
		return "", "", err
	}
	for _, u := range users {
		if r.userDrive(u.ID) == id {
			return id, u.ID, nil
		}
	}
	return "", "", r.notFound("Drive '%s' does not exist.", id)
}

// driveFolder returns the topic of a folder of a personal drive (the root's when the
// id names the root); files are not subscribable.
func (r *resolver) driveFolder(d, item string) (string, error) {
	if isDriveRootItem(item) || item == change.DriveRootID(d) {
		return change.DriveRoot(d), nil
	}
	o, err := r.object(kindDriveItem, item, d, "Item '%s' does not exist in the drive.")
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if json.Unmarshal(o.Data, &doc) != nil || doc["folder"] == nil {
		return "", invalidRequest("resource '%s' is not supported: only folders can be watched, not files.", r.raw)
	}
	return change.DriveFolder(d, o.ID), nil
}

func isUnified(data []byte) bool {
	var g struct {
		GroupTypes []string `json:"groupTypes"`
	}
	json.Unmarshal(data, &g)
	return slices.ContainsFunc(g.GroupTypes, func(t string) bool { return strings.EqualFold(t, "Unified") })
}

// ownsUser tells whether the delegated caller is the user a path names (by id or UPN).
func ownsUser(p *identity.Principal, idOrUPN string) bool {
	return strings.EqualFold(idOrUPN, p.UserID) || (p.UPN != "" && strings.EqualFold(idOrUPN, p.UPN))
}

// resolve runs the permission checks and existence checks of a parsed resource in
// tx, in the order that leaks nothing: permission type and names first, then
// (delegated) ownership, then existence.
func (pr *parsedResource) resolve(ctx context.Context, tx store.Tx, p *identity.Principal, op string) (Target, error) {
	pt := pr.pattern
	variant := pt.variant
	if pt.typ == identity.DriveItem && p.TenantID == identity.ConsumersTenant {
		variant = identity.VariantPersonalDrive
	}
	if !identity.CanSubscribe(p, pt.typ, variant) {
		return Target{}, accessDenied(op)
	}
	if p.Type.Delegated() && pt.ownUser >= 0 && !ownsUser(p, pr.ids[pt.ownUser]) {
		return Target{}, accessDenied(op)
	}
	r := &resolver{ctx: ctx, tx: tx, p: p, op: op, raw: pr.raw}
	t, err := pt.resolve(r, pr.ids)
	if err != nil {
		return Target{}, err
	}
	// Drives reached by id: a delegated caller may watch its own drive and shared
	// libraries, never another user's OneDrive.
	if p.Type.Delegated() && t.User != "" && t.User != p.UserID {
		return Target{}, accessDenied(op)
	}
	t.Type, t.Variant, t.pattern = pt.typ, variant, pt
	if pr.filter != nil {
		t.Filter = pr.filter.String()
	}
	return t, nil
}

// allowedChangeTypes is the set of spec §4.3 for a resource path.
func (pt *pattern) allowedChangeTypes() []string {
	if pt.changeTypes != nil {
		return pt.changeTypes
	}
	switch pt.typ {
	case identity.User, identity.Group:
		return []string{store.Updated, store.Deleted}
	case identity.DriveItem, identity.List:
		return []string{store.Updated}
	case identity.Alert, identity.CallRecord:
		return []string{store.Created, store.Updated}
	}
	return []string{store.Created, store.Updated, store.Deleted}
}

// workloadNames name the workload in "… workload is not enabled for rich
// notifications." (spec §1.3), after the names Graph uses.
var workloadNames = map[identity.ResourceType]string{
	identity.Message:      "Exchange",
	identity.Event:        "Exchange",
	identity.Contact:      "Exchange",
	identity.Conversation: "Exchange",
	identity.User:         "Azure Active Directory",
	identity.Group:        "Azure Active Directory",
	identity.DriveItem:    "File Services",
	identity.List:         "SharePoint",
	identity.Alert:        "Microsoft Graph Security",
	identity.CallRecord:   "Cloud Communications",
}

// richCapable lists the resource types whose notifications may carry resource data
// (the seed: chatMessage only).
func richCapable(t identity.ResourceType) bool { return t == identity.ChatMessage }

// isTeams tells whether a resource is a Teams resource (lifecycle URL rule, quotas).
func isTeams(t identity.ResourceType) bool { return t == identity.ChatMessage }
