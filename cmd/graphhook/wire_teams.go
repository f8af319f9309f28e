package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/teams"
)

func init() {
	wirings = append(wirings, wiring{name: "teams", wire: func(ctx context.Context, m *Main) error {
		teams.New(m.Store, m.Identity).Routes(m.HTTP.Graph())
		return nil
	}})
}
