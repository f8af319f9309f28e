package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/callrecords"
)

func init() {
	wirings = append(wirings, wiring{name: "callrecords", wire: func(ctx context.Context, m *Main) error {
		w := callrecords.New(m.Store, m.Identity)
		w.Routes(m.HTTP.Graph())
		w.AdminRoutes(m.HTTP.Admin())
		return nil
	}})
}
