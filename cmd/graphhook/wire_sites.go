package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/sites"
)

func init() {
	wirings = append(wirings, wiring{name: "sites", wire: func(ctx context.Context, m *Main) error {
		w := sites.New(m.Store, m.Identity)
		w.Routes(m.HTTP.Graph())
		w.AdminRoutes(m.HTTP.Admin())
		return nil
	}})
}
