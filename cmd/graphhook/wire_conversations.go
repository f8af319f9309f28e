package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/conversations"
)

func init() {
	wirings = append(wirings, wiring{name: "conversations", wire: func(ctx context.Context, m *Main) error {
		conversations.New(m.Store, m.Identity).Routes(m.HTTP.Graph())
		return nil
	}})
}
