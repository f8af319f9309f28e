package app

import (
	"log/slog"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/callrecords"
	"github.com/graphhook/graphhook/internal/workload/conversations"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/outlook"
	"github.com/graphhook/graphhook/internal/workload/security"
	"github.com/graphhook/graphhook/internal/workload/sites"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

// Workload is one part of Graph's API: it serves its resources on the Graph router
// and, when it has test hooks (alerts, call records, sites), on the admin router.
type Workload interface {
	Routes(graph, admin *httpapi.Router)
}

// Deps are what a workload is built from.
type Deps struct {
	Store    store.Store
	Identity *identity.Service
	Clock    *clock.Offset
	Log      *slog.Logger
}

// workloads builds graphhook's workloads, one a line, then cfg.ExtraWorkloads.
func workloads(d Deps, cfg Config) ([]Workload, error) {
	// files resolves site document libraries through sites.
	sitesW := sites.New(d.Store, d.Identity)
	filesW, err := files.New(d.Store, d.Identity, sitesW, cfg.Files)
	if err != nil {
		return nil, err
	}
	ws := []Workload{
		withAdmin{callrecords.New(d.Store, d.Identity)},
		graphOnly{conversations.New(d.Store, d.Identity)},
		graphOnly{directory.New(d.Store, d.Identity)},
		graphOnly{filesW},
		graphOnly{outlook.New(d.Store)},
		withAdmin{security.New(d.Store, d.Identity)},
		withAdmin{sitesW},
		graphOnly{teams.New(d.Store, d.Identity)},
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

// graphOnly adapts a graphRouter to Workload.
type graphOnly struct{ graphRouter }

func (w graphOnly) Routes(graph, _ *httpapi.Router) { w.graphRouter.Routes(graph) }

// adminRouter is a workload package's Workload with Graph and admin routes.
type adminRouter interface {
	Routes(graph *httpapi.Router)
	AdminRoutes(admin *httpapi.Router)
}

// withAdmin adapts an adminRouter to Workload.
type withAdmin struct{ adminRouter }

func (w withAdmin) Routes(graph, admin *httpapi.Router) {
	w.adminRouter.Routes(graph)
	w.adminRouter.AdminRoutes(admin)
}
