package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/outlook"
)

func init() {
	wirings = append(wirings, wiring{name: "outlook", wire: func(ctx context.Context, m *Main) error {
		outlook.New(m.Store).Routes(m.HTTP.Graph())
		return nil
	}})
}
