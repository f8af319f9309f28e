package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/directory"
)

func init() {
	wirings = append(wirings, wiring{name: "directory", wire: func(ctx context.Context, m *Main) error {
		directory.New(m.Store, m.Identity).Routes(m.HTTP.Graph())
		return nil
	}})
}
