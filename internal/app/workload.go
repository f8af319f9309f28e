package app

import (
	"fmt"
	"log/slog"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/callrecords"
	"github.com/graphhook/graphhook/internal/workload/communications"
	"github.com/graphhook/graphhook/internal/workload/conversations"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/outlook"
	"github.com/graphhook/graphhook/internal/workload/security"
	"github.com/graphhook/graphhook/internal/workload/sites"
	"github.com/graphhook/graphhook/internal/workload/teams"
	"github.com/graphhook/graphhook/internal/workload/todo"
)

// Workload is one part of Graph's API: it serves its resources on the Graph router
// and, when it has test hooks (alerts, call records, sites), on the admin router, and
// describes the resources apps may subscribe to (handed to the subscriptions API and
// the delivery pipeline).
type Workload interface {
	Routes(graph, admin *httpapi.Router)
	Resources() []resource.Descriptor
}

// Deps are what a workload is built from.
type Deps struct {
	Store    store.Store
	Identity *identity.Service
	Clock    *clock.Offset
	Log      *slog.Logger
}

// builtin lists graphhook's workloads, one a line: how each is built, and the
// resources it lets apps subscribe to. Adding a workload is adding its line here.
func builtin() []part {
	return []part{
		{callrecords.Resources, func(d Deps, _ Config) (any, error) { return callrecords.New(d.Store, d.Identity), nil }},
		{communications.Resources, func(d Deps, _ Config) (any, error) { return communications.New(d.Store, d.Identity), nil }},
		{conversations.Resources, func(d Deps, _ Config) (any, error) { return conversations.New(d.Store, d.Identity), nil }},
		// A deleted group takes its team with it.
		{directory.Resources, func(d Deps, _ Config) (any, error) {
			return directory.NewWithGroupHook(d.Store, d.Identity, teams.DeleteTeamOf), nil
		}},
		// files resolves site document libraries through a sites value of its own
		// (it holds nothing but a cache of which tenants' root sites are stored).
		{files.Resources, func(d Deps, cfg Config) (any, error) {
			return files.New(d.Store, d.Identity, sites.New(d.Store, d.Identity), cfg.Files)
		}},
		{outlook.Resources, func(d Deps, _ Config) (any, error) { return outlook.New(d.Store), nil }},
		{security.Resources, func(d Deps, _ Config) (any, error) { return security.New(d.Store, d.Identity), nil }},
		{sites.Resources, func(d Deps, _ Config) (any, error) { return sites.New(d.Store, d.Identity), nil }},
		{teams.Resources, func(d Deps, _ Config) (any, error) { return teams.New(d.Store, d.Identity), nil }},
		{todo.Resources, func(d Deps, _ Config) (any, error) { return todo.New(d.Store), nil }},
	}
}

// part is one built-in workload.
type part struct {
	resources func() []resource.Descriptor
	build     func(Deps, Config) (any, error)
}

// Resources returns the subscribable resources of graphhook's built-in workloads,
// as a Main hands them to the subscriptions API and the delivery pipeline (tests that
// assemble those parts themselves use it too).
func Resources() []resource.Descriptor {
	var out []resource.Descriptor
	for _, p := range builtin() {
		out = append(out, p.resources()...)
	}
	return out
}

// workloads builds the built-in workloads, then cfg.ExtraWorkloads.
func workloads(d Deps, cfg Config) ([]Workload, error) {
	var ws []Workload
	for _, p := range builtin() {
		v, err := p.build(d, cfg)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case adminRouter:
			ws = append(ws, withAdmin{v, p.resources()})
		case graphRouter:
			ws = append(ws, graphOnly{v, p.resources()})
		default:
			return nil, fmt.Errorf("workload %T has no Routes method", v)
		}
	}
	for _, build := range cfg.ExtraWorkloads {
		w, err := build(d)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// graphRouter is a workload package's Workload with Graph routes only.
type graphRouter interface {
	Routes(graph *httpapi.Router)
}

// graphOnly adapts a graphRouter and its package's resources to Workload.
type graphOnly struct {
	graphRouter
	resources []resource.Descriptor
}

func (w graphOnly) Routes(graph, _ *httpapi.Router) { w.graphRouter.Routes(graph) }

func (w graphOnly) Resources() []resource.Descriptor { return w.resources }

// adminRouter is a workload package's Workload with Graph and admin routes.
type adminRouter interface {
	Routes(graph *httpapi.Router)
	AdminRoutes(admin *httpapi.Router)
}

// withAdmin adapts an adminRouter and its package's resources to Workload.
type withAdmin struct {
	adminRouter
	resources []resource.Descriptor
}

func (w withAdmin) Resources() []resource.Descriptor { return w.resources }

func (w withAdmin) Routes(graph, admin *httpapi.Router) {
	w.adminRouter.Routes(graph)
	w.adminRouter.AdminRoutes(admin)
}

// resources collects the subscribable resources of ws, in order.
func resources(ws []Workload) []resource.Descriptor {
	var out []resource.Descriptor
	for _, w := range ws {
		out = append(out, w.Resources()...)
	}
	return out
}

// readMostlyKinds are the object kinds the embedded store's writer keeps between
// transactions: read by nearly every write (the app whose grant each change
// re-checks, the tenant and user a request acts for, a mailbox's folders, a
// drive), written rarely.
func readMostlyKinds() []string {
	kinds := []string{identity.KindApp, identity.KindTenant, identity.KindUser, identity.KindGroup, files.KindDrive}
	return append(kinds, outlook.ReadMostlyKinds()...)
}
