package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/security"
)

func init() {
	wirings = append(wirings, wiring{name: "security", wire: func(ctx context.Context, m *Main) error {
		w := security.New(m.Store, m.Identity)
		w.Routes(m.HTTP.Graph())
		w.AdminRoutes(m.HTTP.Admin())
		return nil
	}})
}
