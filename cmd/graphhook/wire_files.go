package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

func init() {
	wirings = append(wirings, wiring{name: "files", wire: func(ctx context.Context, m *Main) error {
		// A second sites.Workload value is fine: it holds no state but a cache of
		// which tenants' root sites are stored.
		w, err := files.New(m.Store, m.Identity, sites.New(m.Store, m.Identity), files.Config{})
		if err != nil {
			return err
		}
		w.Routes(m.HTTP.Graph())
		return nil
	}})
}
