package resource

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// Descriptor describes one subscribable resource type. Zero fields mean "none" or
// "no rule" as each comment says.
type Descriptor struct {
	// Type is the resource type name stored with subscriptions and notifications,
	// after Graph's entity name ("message", "driveItem").
	Type string
	// Workload names the owning service in "<Workload> workload is not enabled for
	// rich notifications." ("Exchange", "File Services").
	Workload string
	// Kinds are the store kinds of the resource's items (documentation and tests).
	Kinds []string
	// ChangeTypes are the change types a subscription may ask for; a Path may
	// narrow them.
	ChangeTypes []string
	// MaxLifetime is the longest a subscription may live, after "Maximum length of
	// subscription per resource type" on Microsoft's subscription resource page.
	MaxLifetime time.Duration
	// RichData tells whether notifications may carry the resource's data
	// (includeResourceData).
	RichData bool
	// RichNeedsSelect means a subscription with resource data must name the
	// properties it wants with $select, and gets only those (Outlook's rich
	// notifications).
	RichNeedsSelect bool
	// RichMaxLifetime, when set, is the longest a subscription with resource data
	// may live (Outlook: one day).
	RichMaxLifetime time.Duration
	// CreatedIsUpdated means a subscription asking for "updated" also hears of
	// creations (call records: Graph's first notification about a record is sent
	// when the record is generated, to subscriptions that asked for updated only).
	CreatedIsUpdated bool
	// Teams marks Teams resources: a subscription living longer than the Teams
	// lifecycle threshold needs a lifecycleNotificationUrl.
	Teams bool
	// Lifecycle lists the lifecycle events the resource gets besides
	// reauthorizationRequired, which every resource gets (subscriptionRemoved,
	// missed).
	Lifecycle []string
	// Paths are the resource paths a subscription may name, tried in order.
	Paths []Path
	// Permissions is the permission table: per path variant, the permission names
	// that let each permission type subscribe. A variant without a row, or a
	// permission type with an empty list, may not subscribe.
	Permissions []Permission
	// PersonalVariant, when set, is the variant of every subscription a personal
	// account makes, whatever the path (personal OneDrive has its own permissions).
	PersonalVariant string
	// Quotas lists the limits a new subscription must stay within (nil: none).
	Quotas func(p *identity.Principal, t Target, limits Quotas) []Quota
	// RemovedWith returns the topic prefixes whose subscriptions die when an object
	// of kind with id is hard-deleted (a user's mailbox with the user); a prefix
	// ending in "/" spares the subscription on the object itself. Nil: none.
	RemovedWith func(kind, id string) []string
	// Samples are one change per change type that a request can cause, for tests
	// and tools.
	Samples []Sample
}

// Path is one accepted resource path shape.
type Path struct {
	// Pattern is the path with "{…}" for a captured id, e.g.
	// "users/{user}/mailFolders/{folder}/messages". Literals match
	// case-insensitively. A pattern starting "users/{…}" is also accepted as
	// "me/…" from delegated callers.
	Pattern string
	// Variant names the permission row the path needs ("" the default row).
	Variant string
	// Options are the OData query options the path accepts.
	Options QueryOptions
	// SearchIn is the property a $search keyword must occur in (any case) for an
	// item to be notified, e.g. "body/content"; "" accepts $search without
	// narrowing the notifications.
	SearchIn string
	// ChangeTypes overrides the descriptor's allowed change types.
	ChangeTypes []string
	// OwnUser means the first id names a user whose data only that user may watch
	// with a delegated token (mailbox, calendar, contacts, drive, chats).
	OwnUser bool
	// PersonalOnly marks paths only personal accounts may use, except when the
	// last id is "root" (OneDrive folders other than the root).
	PersonalOnly bool
	// CanRead, when set, is the read-access rule both GET of the resource and
	// subscription creation apply, given the path's ids; it returns ErrAccessDenied
	// to refuse. It runs after the permission and own-user checks and before
	// Resolve.
	CanRead func(ctx context.Context, tx store.Tx, p *identity.Principal, ids []string) error
	// Resolve checks that the resource exists and builds its topic key and watched
	// user.
	Resolve func(r *Resolver, ids []string) (Target, error)
}

// Me returns the path's /me form ("" when it has none).
func (p *Path) Me() string {
	segs := strings.Split(p.Pattern, "/")
	if len(segs) < 2 || !strings.EqualFold(segs[0], "users") || !strings.HasPrefix(segs[1], "{") {
		return ""
	}
	return strings.Join(append([]string{"me"}, segs[2:]...), "/")
}

// AllowedChangeTypes are the change types a subscription on path may ask for.
func (d *Descriptor) AllowedChangeTypes(path *Path) []string {
	if path != nil && path.ChangeTypes != nil {
		return path.ChangeTypes
	}
	return d.ChangeTypes
}

// QueryOptions says which OData options a resource path accepts.
type QueryOptions uint8

const (
	// AllowFilter accepts $filter.
	AllowFilter QueryOptions = 1 << iota
	// AllowSelect accepts $select (body and uniqueBody excepted).
	AllowSelect
	// FilterParticipantsOnly restricts $filter to participants/id.
	FilterParticipantsOnly
	// AllowModel accepts the licensing parameter model=A or model=B of Teams'
	// tenant-wide paths ("Licensing and payment requirements for the Microsoft
	// Teams APIs"); without it Graph runs the evaluation model.
	AllowModel
	// AllowSearch accepts $search, a keyword the notified item must contain
	// (channel and chat messages).
	AllowSearch
)

// Target is what a resource path resolves to.
type Target struct {
	// Topic is the topic key (internal/change) changes of the resource touch.
	Topic string
	// User is the user whose mailbox, calendar, contacts, drive or chats the
	// subscription watches ("" for other resources): what per-mailbox and per-user
	// quotas count, and what a delegated caller must be.
	User string
	// Variant is the path's permission variant (set by the caller of Resolve).
	Variant string
}

// Permission is one row of a descriptor's permission table. Any one listed name
// suffices.
type Permission struct {
	Variant           string
	Application       []string
	DelegatedWork     []string
	DelegatedPersonal []string
}

// Names returns the permission names that let a caller of type t subscribe on
// variant; ok is false when t may not subscribe there at all.
func (d *Descriptor) Names(variant string, t identity.PermissionType) (names []string, ok bool) {
	for _, row := range d.Permissions {
		if row.Variant != variant {
			continue
		}
		switch t {
		case identity.DelegatedWork:
			names = row.DelegatedWork
		case identity.DelegatedPersonal:
			names = row.DelegatedPersonal
		case identity.Application:
			names = row.Application
		}
		return names, len(names) > 0
	}
	return nil, false
}

// CanSubscribe reports whether p may subscribe on variant.
func (d *Descriptor) CanSubscribe(p *identity.Principal, variant string) bool {
	names, ok := d.Names(variant, p.Type)
	return ok && p.Has(names...)
}

// Supports reports whether the resource gets lifecycle notifications of event
// (reauthorizationRequired always).
func (d *Descriptor) Supports(event string) bool {
	return event == graph.LifecycleReauthorizationRequired || slices.Contains(d.Lifecycle, event)
}

// ErrAccessDenied is what a read-access rule returns to refuse the caller; the
// subscriptions API answers it with its Access denied error.
var ErrAccessDenied = errors.New("resource: access denied")

// DeniedError is an ErrAccessDenied that says why, in words meant for the client
// ("The signed-in user is not a member of the chat.").
type DeniedError struct{ Reason string }

func (e *DeniedError) Error() string        { return "resource: access denied: " + e.Reason }
func (e *DeniedError) Is(target error) bool { return target == ErrAccessDenied }

// Denied returns a DeniedError.
func Denied(reason string) error { return &DeniedError{Reason: reason} }

// Quota is one subscription limit: the subscriptions Query selects may number at
// most Limit.
type Quota struct {
	Query store.SubscriptionQuery
	Limit int
	// Message names the limit; %d is the limit.
	Message string
}

// Sample is one change of a resource, as a test or a tool would make it through
// the API: the requests to send, in order (the last one makes the change).
type Sample struct {
	// Name, when set, makes the sample a kind of change of its own that tools name
	// apart from the type ("member" for a group's membership, "channelMessage" for
	// a chat message posted in a channel); "" for the type's plain samples.
	Name       string
	ChangeType string
	// Fresh names placeholders (without braces) a tool must fill with an object it
	// makes anew for each change, because the change cannot be made twice on one
	// object: a new user to add to a team, a new group to make a team of.
	Fresh    []string
	Requests []Request
	// Permission is a permission that lets the caller make the change ("" for admin
	// changes): an application permission, or a delegated one when Delegated is set.
	Permission string
	// Delegated marks changes only a signed-in user may make (editing a chat
	// message).
	Delegated bool
	// Personal marks changes a personal account makes in its own data (a file in
	// a personal OneDrive): made as a signed-in personal account, so Delegated too.
	Personal bool
	// Admin marks changes made through graphhook's admin API (under /_graphhook/,
	// with the admin key) because Graph offers no call for them: alerts and call
	// records are created by the service, not by apps.
	Admin bool
}

// Request is one request of a sample change.
type Request struct {
	Method string
	// Path is the path after /v1.0/ (or /_graphhook/ for admin changes), with
	// {user} for the acting or watched user's id, {tenant} for the tenant and other
	// {…} for ids of objects the caller creates or finds first.
	Path string
	// Body is the request body, JSON unless the path uploads content ("" none). It
	// may use the path's placeholders, and {unique} for a value unique to each change
	// (a property set on a long-lived object must differ each time to be a change).
	Body string
}

// Req builds a Request.
func Req(method, path, body string) Request { return Request{Method: method, Path: path, Body: body} }
