// Package trigger is `graphhook trigger`: it makes a realistic change of a
// subscribable resource type on demand, through the server's own Graph API (or its
// admin API where Graph has no write call), and tells which notifications the change
// queued.
//
// A change is one of the resource's Samples (resource.Sample): requests whose paths
// name objects by placeholders ({user}, {chat}, {id}, …). Trigger finds those objects
// in the chosen tenant, or creates them, through the Graph API; the caller may name
// any of them instead. Each request goes to the server's http.Handler in process, with
// a token minted for a fixture app of the tenant that holds the permission the sample
// names (or for the user the change is made as, for changes only a signed-in user may
// make), so it takes exactly the path an app's request takes: permission checks,
// change record, matcher, queue.
//
// The notifications a change queued are read back from the queue: the rows enqueued
// after the change began whose change sequence number lies between the log's end
// before and after it. A change another client commits at the same moment in the same
// tenant may be counted too; a development server rarely has one.
package trigger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// MaxCount bounds the changes of one request, so that a typo cannot keep the server
// busy for minutes.
const MaxCount = 1000

// Config is what a Trigger acts through.
type Config struct {
	// Resources are the subscribable resource types (those with Samples can be
	// triggered). Required.
	Resources []resource.Descriptor
	// Handler is the server's own HTTP handler (Graph and admin APIs). Required.
	Handler http.Handler
	// Identity finds the tenant's apps and mints their tokens. Required.
	Identity *identity.Service
	// Store is read for the change log's end and the queued notifications. Required.
	Store store.Store
	// AdminKey authorises the admin API requests of admin samples.
	AdminKey string
	// DefaultTenant is the tenant of requests that name none (default: the demo
	// tenant when it is loaded, else the only tenant).
	DefaultTenant string
}

// Trigger makes sample changes.
type Trigger struct {
	cfg   Config
	types []Type
	byKey map[string]*resource.Descriptor
}

// Type is one resource type that can be triggered, with the change types its samples
// make (as GET /_graphhook/trigger lists them).
type Type struct {
	Type        string   `json:"type"`
	ChangeTypes []string `json:"changeTypes"`
	// ResourceType is the subscribable resource type the change is of: Type
	// itself, or, for a named kind of change (a group's "member"), the type it
	// changes.
	ResourceType string `json:"resourceType"`
	// Personal tells a personal account's change (made as a consumers-tenant user,
	// Sam in the demo, whatever tenant is asked for).
	Personal bool `json:"personal,omitempty"`
}

// New returns a Trigger over the descriptors that have samples.
func New(cfg Config) (*Trigger, error) {
	if cfg.Handler == nil || cfg.Identity == nil || cfg.Store == nil {
		return nil, errors.New("trigger: Handler, Identity and Store are required")
	}
	t := &Trigger{cfg: cfg, byKey: map[string]*resource.Descriptor{}}
	for i := range cfg.Resources {
		d := &cfg.Resources[i]
		if len(d.Samples) == 0 {
			continue
		}
		// The type's plain samples, then each named kind of change as a type of its
		// own over a copy of the descriptor holding only that kind's samples.
		names := []string{""}
		for _, s := range d.Samples {
			if !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
		for _, name := range names {
			kind := *d
			kind.Samples = nil
			for _, s := range d.Samples {
				if s.Name == name {
					kind.Samples = append(kind.Samples, s)
				}
			}
			if len(kind.Samples) == 0 {
				continue
			}
			typeName := cmp.Or(name, d.Type)
			key := strings.ToLower(typeName)
			if _, dup := t.byKey[key]; dup {
				return nil, fmt.Errorf("trigger: %s named twice (resource types and named samples share one namespace)", typeName)
			}
			t.byKey[key] = &kind
			ty := Type{Type: typeName, ResourceType: d.Type, ChangeTypes: []string{}, Personal: kind.Samples[0].Personal}
			for _, s := range kind.Samples {
				if !slices.Contains(ty.ChangeTypes, s.ChangeType) {
					ty.ChangeTypes = append(ty.ChangeTypes, s.ChangeType)
				}
			}
			t.types = append(t.types, ty)
		}
	}
	slices.SortFunc(t.types, func(a, b Type) int { return strings.Compare(a.Type, b.Type) })
	return t, nil
}

// Types lists the types that can be triggered, by name.
func (t *Trigger) Types() []Type { return slices.Clone(t.types) }

// Request asks for changes.
type Request struct {
	// Type is the resource type (case-insensitive). Required.
	Type string
	// ChangeType is created, updated or deleted (default: the type's first sample's).
	ChangeType string
	// Tenant is a tenant id or domain (default Config.DefaultTenant).
	Tenant string
	// User is the user id or UPN the change concerns or is made as (default: the
	// demo tenant's first user, Adele, or the tenant's first user by id).
	User string
	// Params name objects for placeholders, by name without braces ("team", "id").
	Params map[string]string
	// Count is how many changes to make, one after the other (default 1).
	Count int
}

// Result is one change made.
type Result struct {
	Type       string `json:"type"`
	ChangeType string `json:"changeType"`
	// Requests are every request trigger sent for this change, in order: objects it
	// created first, then the sample's own.
	Requests []Call `json:"requests"`
	// Resource is the path of what changed (after /v1.0/, or /_graphhook/ for admin
	// changes).
	Resource string `json:"resource"`
	// Params are the objects the placeholders stood for.
	Params map[string]string `json:"params"`
	// Expected are the change notifications the change queued.
	Expected []Expected `json:"expected"`
}

// Call is one request trigger sent.
type Call struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// Expected is one queued change notification.
type Expected struct {
	SubscriptionID string `json:"subscriptionId"`
	URL            string `json:"url"`
	ChangeType     string `json:"changeType"`
	// DeliveryID is the queue row's id (the delivery log's id).
	DeliveryID string `json:"deliveryId"`
}

// Run makes the changes asked for. Bad input is a 400 *graph.Error naming what is
// wrong; so is a request of the change the server refused (with its answer).
func (t *Trigger) Run(ctx context.Context, req Request) ([]Result, error) {
	d, sample, err := t.pick(req.Type, req.ChangeType)
	if err != nil {
		return nil, err
	}
	count := cmp.Or(req.Count, 1)
	if count < 1 || count > MaxCount {
		return nil, badRequest("'count' must be between 1 and %d, not %d.", MaxCount, req.Count)
	}
	r, err := t.newRun(ctx, req, d, sample)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, count)
	for range count {
		res, err := r.change(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// pick finds the descriptor and sample for a type and change type.
func (t *Trigger) pick(typ, changeType string) (*resource.Descriptor, *resource.Sample, error) {
	if typ == "" {
		return nil, nil, badRequest("'type' is required: one of %s.", strings.Join(t.typeNames(), ", "))
	}
	d, ok := t.byKey[strings.ToLower(typ)]
	if !ok {
		return nil, nil, badRequest("Unknown type '%s'; the types are %s.", typ, strings.Join(t.typeNames(), ", "))
	}
	if changeType == "" {
		return d, &d.Samples[0], nil
	}
	for i := range d.Samples {
		if strings.EqualFold(d.Samples[i].ChangeType, changeType) {
			return d, &d.Samples[i], nil
		}
	}
	var have []string
	for _, s := range d.Samples {
		have = append(have, s.ChangeType)
	}
	return nil, nil, badRequest("Type '%s' has no '%s' change; it has %s.", d.Type, changeType, strings.Join(have, ", "))
}

func (t *Trigger) typeNames() []string {
	names := make([]string, 0, len(t.types))
	for _, ty := range t.types {
		names = append(names, ty.Type)
	}
	return names
}

func badRequest(format string, args ...any) *graph.Error {
	return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, format, args...)
}

// Params returns the objects the placeholders of a request's change stand for,
// found or created as Run finds them ({id} and the objects a deleting change makes
// anew excepted), so that a caller can subscribe to them before running it.
func (t *Trigger) Params(ctx context.Context, req Request) (map[string]string, error) {
	d, sample, err := t.pick(req.Type, req.ChangeType)
	if err != nil {
		return nil, err
	}
	r, err := t.newRun(ctx, req, d, sample)
	if err != nil {
		return nil, err
	}
	return maps.Clone(r.vars), nil
}
